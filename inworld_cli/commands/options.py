"""Command-line options shared by several commands, declared once so their help never drifts apart."""

from __future__ import annotations

from typing import Annotated, Any

import typer

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", "-P", metavar="NAME", help="Profile to use [env: INWORLD_PROFILE].", show_default=False
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url", metavar="URL", help="Router base URL [env: INWORLD_BASE_URL].", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


def _complete_model(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    # Imported on a TAB only: the cached catalogue and routers, and the models seen in history.
    from inworld_cli.commands.completion import complete_model

    return complete_model(ctx, incomplete)


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="provider/model, auto, or inworld/<router-id> [env: INWORLD_MODEL; config: model; default: auto].",
        show_default=False,
        autocompletion=_complete_model,
    ),
]


def _complete_conversation(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    # Imported on a TAB only: the recent conversations in history.
    from inworld_cli.commands.completion import complete_conversation

    return complete_conversation(ctx, incomplete)


_CONVERSATION_HELP = "A conversation's id, or the id of any of its turns in history (a unique prefix works)."
ConversationOption = Annotated[
    str | None,
    typer.Option(
        "--conversation",
        metavar="ID",
        help=_CONVERSATION_HELP,
        show_default=False,
        autocompletion=_complete_conversation,
    ),
]
# Described in the command's help text: an argument's own entry would show its Python type.
ConversationArgument = Annotated[
    str | None,
    typer.Argument(metavar="ID", hidden=True, show_default=False, autocompletion=_complete_conversation),
]
# `env` and `exec`: a model for the other tool, not a default of ours (so no env or config fallback).
HandoffModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="Also set ANTHROPIC_MODEL: provider/model, auto, or inworld/<router-id> (left alone without it).",
        show_default=False,
        autocompletion=_complete_model,
    ),
]
# `compare`: several models, each asked once.
ModelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="A model or router to ask: provider/model, auto, or inworld/<router-id> (repeat it).",
        show_default=False,
        autocompletion=_complete_model,
    ),
]
# -- what history, stats and their housekeeping select -----------------------------------------------------

SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="7d|DATE",
        help="Only requests made since then: a span back from now (90m, 12h, 7d, 2w) or a local date "
        "(2026-11-01, 2026-11-01T14:30).",
        show_default=False,
    ),
]
ModelFilterOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="Only requests that asked for or were served by MODEL: a whole id, its name "
        "(claude-opus-4-6), a provider (anthropic), or a pattern ('*opus*').",
        show_default=False,
        autocompletion=_complete_model,
    ),
]
RefreshOption = Annotated[
    bool, typer.Option("--refresh", help="Ask the router again instead of using the cache.")
]

# -- what shapes a request: ask, and the commands of many requests ------------------------------------------

SystemOption = Annotated[
    str | None, typer.Option("--system", "-s", metavar="TEXT", help="System prompt.", show_default=False)
]
MaxTokensOption = Annotated[
    int | None,
    typer.Option(
        "--max-tokens",
        metavar="N",
        help="Most tokens to generate [config: max_tokens; default: 4096].",
        show_default=False,
    ),
]
TemperatureOption = Annotated[
    float | None,
    typer.Option(
        "--temperature", "-t", metavar="X", help="Sampling temperature, 0 to 1.", show_default=False
    ),
]
TopPOption = Annotated[
    float | None, typer.Option("--top-p", metavar="X", help="Nucleus sampling, 0 to 1.", show_default=False)
]
StopOption = Annotated[
    list[str] | None,
    typer.Option(
        "--stop", metavar="TEXT", help="Stop when the model writes TEXT (repeatable).", show_default=False
    ),
]
NoLogOption = Annotated[
    bool, typer.Option("--no-log", help="Do not record in history [env: INWORLD_NO_LOG=1].")
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Request timeout [env: INWORLD_TIMEOUT; config: timeout; default: 600].",
        show_default=False,
    ),
]
RetriesOption = Annotated[
    int | None,
    typer.Option(
        "--retries",
        metavar="N",
        help="Retries on connection failures, 429, 5xx and 529 [config: retries; default: 2].",
        show_default=False,
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No spinner, notices or summary: stderr shows errors only.")
]

# -- routing options (see inworld_cli/core/routing_options.py; profiles may set defaults for each) ----------


def _sort_criteria() -> list[str]:
    from inworld_cli.core.routing_options import SORT_CRITERIA

    return list(SORT_CRITERIA)


def _routing(flag: str, metavar: str, text: str, **extra: Any) -> Any:
    """A routing flag: in the help's Routing panel, naming the config key that sets its default."""
    key = flag.removeprefix("--").replace("-", "_")
    return typer.Option(
        flag,
        metavar=metavar,
        help=f"{text} [config: {key}].",
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
