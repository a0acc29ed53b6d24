"""The environment a command runs in, as Typer hands it down: `cli.main` puts it in the root context."""

from __future__ import annotations

import typer

from inworld_cli.environment import Environment


def environment_of(ctx: typer.Context) -> Environment:
    """The environment `cli.main` gave the app; one from the process when the app runs another way (a
    completion request, Typer's test runner)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Environment):
        root.obj = Environment.from_process()
    return root.obj


def help_without_subcommand(ctx: typer.Context) -> None:
    """A group called alone (`inworld-router auth`): its help, and exit 2 as for any missing argument."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)
