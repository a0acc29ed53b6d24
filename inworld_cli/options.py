"""Command-line options shared by several commands, declared once so their help never drifts apart."""

from __future__ import annotations

from typing import Annotated

import typer

ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-P", help="Profile to use [env: INWORLD_PROFILE].", show_default=False),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="Router base URL [env: INWORLD_BASE_URL].", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
