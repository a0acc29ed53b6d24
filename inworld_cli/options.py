"""Command-line options shared by several commands, declared once so their help never drifts apart."""

from __future__ import annotations

from typing import Annotated, Any

import typer

ProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-P", help="Profile to use \\[env: INWORLD_PROFILE].", show_default=False),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="Router base URL \\[env: INWORLD_BASE_URL].", show_default=False),
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


def _routing(flag: str, metavar: str, text: str, **extra: Any) -> Any:
    """A routing flag of `ask`: in the help's Routing panel, naming the config key that sets its default."""
    key = flag.removeprefix("--").replace("-", "_")
    return typer.Option(
        flag,
        metavar=metavar,
        help=f"{text} \\[config: {key}].",
        show_default=False,
        rich_help_panel="Routing",
        **extra,
    )


FallbackOption = Annotated[
    list[str] | None,
    _routing("--fallback", "MODEL", "A model to fail over to, tried in order after -m (repeatable)"),
]
SortOption = Annotated[
    list[str] | None,
    _routing(
        "--sort",
        "CRITERION",
        "Rank candidate models by price, latency, throughput, intelligence, math or coding "
        "(repeatable, in priority order)",
        autocompletion=_sort_criteria,
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    _routing("--ignore", "PROVIDER_OR_MODEL", "A provider (groq) or model never to use (repeatable)"),
]
TtftTimeoutOption = Annotated[
    str | None,
    _routing(
        "--ttft-timeout",
        "DURATION",
        "Fail over when a model's first token takes longer: 800ms, 1.5s (at least 300ms)",
    ),
]
RouteMetaOption = Annotated[
    list[str] | None,
    _routing("--route-meta", "KEY=VALUE", "A value for a saved router's conditions (repeatable)"),
]
UserOption = Annotated[
    str | None, _routing("--user", "ID", "An end-user id: the router keeps each user on the same variant")
]
DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the request that would be sent (key masked) and send nothing."),
]
