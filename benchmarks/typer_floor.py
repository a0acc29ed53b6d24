"""The framework's floor: a Typer app with one command and one option.

    python benchmarks/typer_floor.py --help

What any Typer program pays to show its help in this environment; the CLI's fast paths are compared with it.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer()


@app.command()
def main(name: Annotated[str, typer.Option(help="Who to greet.")] = "world") -> None:
    """Greet someone."""
    typer.echo(f"Hello {name}")


if __name__ == "__main__":
    app()
