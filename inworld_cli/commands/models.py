"""`inworld-router models`: the router's model catalogue, with context length and prices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import BaseUrlOption, JsonOption, ProfileOption, RefreshOption
from inworld_cli.core.catalogue import matches_provider, provider_of
from inworld_cli.core.text import describe_age
from inworld_cli.environment import Environment
from inworld_cli.output.catalogue import model_row
from inworld_cli.output.console import json_text
from inworld_cli.output.tables import Column, Step, print_table
from inworld_cli.router.catalog import Fetched
from inworld_cli.store.settings import Overrides

COLUMNS = (
    Column("MODEL", min_width=16, keep_end=True),
    Column("PROVIDER"),
    Column("CONTEXT", numeric=True),
    Column("$/M IN", numeric=True),
    Column("$/M OUT", numeric=True),
)
# On a narrow terminal, first step first: the context, then the provider go; then model ids are shortened.
NARROWING: tuple[Step, ...] = (("drop", "CONTEXT"), ("drop", "PROVIDER"), ("shrink", "MODEL"))


@dataclass(frozen=True)
class ModelsOptions:
    provider: str | None = None
    as_json: bool = False
    refresh: bool = False
    profile: str | None = None
    base_url: str | None = None


def report_source(env: Environment, fetched: Fetched, what: str, now: float, warnings: list[str]) -> None:
    """On stderr: why a stale cache is shown (always); that a fresh one is (a terminal only)."""
    for warning in warnings:
        env.streams.warn(warning)
    age = describe_age(max(0.0, now - fetched.fetched_at))
    if fetched.problem:
        env.streams.warn(f"{fetched.problem}; showing the {what} cached {age} ago")
    elif fetched.from_cache and env.streams.stderr_is_terminal:
        env.streams.err(f"(the {what} as cached {age} ago; --refresh fetches it again)")


def run_models(options: ModelsOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile, base_url=options.base_url))
    catalog = env.catalog(settings)
    fetched = catalog.models(refresh=options.refresh)
    report_source(env, fetched, "catalogue", catalog.now(), catalog.warnings)
    items: list[Any] = fetched.data if isinstance(fetched.data, list) else []
    if options.provider:
        chosen = [item for item in items if matches_provider(item, options.provider)]
        if not chosen:
            known = sorted({p for p in map(provider_of, items) if p})
            env.streams.warn(
                f"no models from provider '{options.provider}'"
                + (f"; providers: {', '.join(known)}" if known else "")
            )
        items = chosen
    if options.as_json:
        env.streams.out(json_text(items) + "\n")
        return
    grouped = env.streams.stdout_is_terminal
    rows = sorted(
        (model_row(item, grouped) for item in items), key=lambda row: (row[1].lower(), row[0].lower())
    )
    print_table(env.streams, COLUMNS, rows, narrowing=NARROWING)


def models(
    ctx: typer.Context,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider", metavar="P", help="Only this provider's models (e.g. openai).", show_default=False
        ),
    ] = None,
    as_json: JsonOption = False,
    refresh: RefreshOption = False,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List the models the router offers: provider, context length, USD per million tokens in and out.

    Cached for 24 hours, and shown from the cache when the router cannot be reached.

    On a pipe: tab-separated columns (model, provider, context, in, out) without a header.

    \b
    Examples:
      inworld-router models
      inworld-router models --provider anthropic
      inworld-router models --json | jq -r '.[].model'
    """
    run_models(ModelsOptions(provider, as_json, refresh, profile, base_url), environment_of(ctx))
