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


def _complete_model(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    # Imported on a TAB only: the cached catalogue and routers, and the models seen in history.
    from inworld_cli.model_completion import complete_model

    return complete_model(ctx, incomplete)


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="provider/model, auto, or inworld/<router-id> \\[env: INWORLD_MODEL; config: model; default: auto].",
        show_default=False,
        autocompletion=_complete_model,
    ),
]
RefreshOption = Annotated[
    bool, typer.Option("--refresh", help="Ask the router again instead of using the cache.")
]

# -- routing options of `ask` (see inworld_cli/routing_options.py; profiles may set defaults for each) --------


def _sort_criteria() -> list[str]:
    from inworld_cli.routing_options import SORT_CRITERIA

    return list(SORT_CRITERIA)


_ROUTING = "Routing"
FallbackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fallback",
        metavar="MODEL",
        help="A model to fail over to, tried in order after -m (repeatable) \\[config: fallback].",
        show_default=False,
        rich_help_panel=_ROUTING,
    ),
]
SortOption = Annotated[
    list[str] | None,
    typer.Option(
        "--sort",
        metavar="CRITERION",
        help="Rank candidate models by price, latency, throughput, intelligence, math or coding "
        "(repeatable, in priority order) \\[config: sort].",
        show_default=False,
        autocompletion=_sort_criteria,
        rich_help_panel=_ROUTING,
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        metavar="PROVIDER_OR_MODEL",
        help="A provider (groq) or model never to use (repeatable) \\[config: ignore].",
        show_default=False,
        rich_help_panel=_ROUTING,
    ),
]
TtftTimeoutOption = Annotated[
    str | None,
    typer.Option(
        "--ttft-timeout",
        metavar="DURATION",
        help="Fail over when a model's first token takes longer: 800ms, 1.5s (at least 300ms) "
        "\\[config: ttft_timeout].",
        show_default=False,
        rich_help_panel=_ROUTING,
    ),
]
RouteMetaOption = Annotated[
    list[str] | None,
    typer.Option(
        "--route-meta",
        metavar="KEY=VALUE",
        help="A value for a saved router's conditions (repeatable) \\[config: route_meta].",
        show_default=False,
        rich_help_panel=_ROUTING,
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        metavar="ID",
        help="An end-user id: the router keeps each user on the same variant \\[config: user].",
        show_default=False,
        rich_help_panel=_ROUTING,
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the request that would be sent (key masked) and send nothing."),
]
