"""`inworld-router routers [list | show ID]`: the account's saved routers, listed or drawn as a tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from inworld_cli.commands.completion import complete_router_id
from inworld_cli.commands.context import environment_of
from inworld_cli.commands.models import report_source
from inworld_cli.commands.options import BaseUrlOption, JsonOption, ProfileOption, RefreshOption
from inworld_cli.environment import Environment
from inworld_cli.errors import UsageError
from inworld_cli.output.console import json_text
from inworld_cli.output.router_tree import print_outline, router_outline, router_row
from inworld_cli.output.tables import Column, Step, print_table
from inworld_cli.store.settings import Overrides

COLUMNS = (
    Column("ID"),
    Column("NAME", min_width=10),
    Column("ROUTES", numeric=True),
    Column("DEFAULT ROUTE", min_width=20),
)
# On a narrow terminal, first step first: the default route and the name are shortened, then they go.
NARROWING: tuple[Step, ...] = (
    ("shrink", "DEFAULT ROUTE"),
    ("shrink", "NAME"),
    ("drop", "ROUTES"),
    ("drop", "NAME"),
    ("drop", "DEFAULT ROUTE"),
)

app = typer.Typer(
    help="List the saved routers, or draw one: its routes, conditions, weighted variants and defaults.",
)


@dataclass(frozen=True)
class RoutersOptions:
    as_json: bool = False
    refresh: bool = False
    profile: str | None = None
    base_url: str | None = None


def run_list(options: RoutersOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile, base_url=options.base_url))
    catalog = env.catalog(settings)
    fetched = catalog.routers(refresh=options.refresh)
    report_source(env, fetched, "router list", catalog.now(), catalog.warnings)
    items = fetched.data if isinstance(fetched.data, list) else []
    if options.as_json:
        env.streams.out(json_text(items) + "\n")
    elif not items:
        env.streams.err("no saved routers (create them in the Inworld Portal)")
    else:
        print_table(env.streams, COLUMNS, [router_row(item) for item in items], narrowing=NARROWING)


def run_show(router: str, options: RoutersOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile, base_url=options.base_url))
    catalog = env.catalog(settings)
    fetched = catalog.router(router, refresh=options.refresh)
    report_source(env, fetched, "router", catalog.now(), catalog.warnings)
    if options.as_json:
        env.streams.out(json_text(fetched.data) + "\n")
    else:
        print_outline(env.streams, router_outline(fetched.data))


def _options(params: dict[str, Any]) -> RoutersOptions:
    return RoutersOptions(params["as_json"], params["refresh"], params["profile"], params["base_url"])


@app.callback(invoke_without_command=True)
def routers(
    ctx: typer.Context,
    as_json: JsonOption = False,
    refresh: RefreshOption = False,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List the saved routers, or draw one: its routes, their conditions, weighted variants and defaults.

    Use a saved router as a model with: ask -m inworld/<id>

    Cached for 24 hours, and shown from the cache when the router cannot be reached.

    An unknown id exits with status 4.

    \b
    Examples:
      inworld-router routers
      inworld-router routers show my-router
      inworld-router routers show inworld/my-router --json | jq .defaultRoute
    """
    if ctx.invoked_subcommand is None:
        run_list(_options(ctx.params), environment_of(ctx))


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: JsonOption = False,
    refresh: RefreshOption = False,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List the saved routers: id, name, number of routes, the default route's models.

    On a pipe: tab-separated columns without a header.
    """
    run_list(_merged(ctx), environment_of(ctx))


@app.command("show")
def show(
    ctx: typer.Context,
    router: Annotated[
        str | None,
        typer.Argument(
            metavar="ID",
            hidden=True,  # described in the help text: an argument's own entry shows its Python type
            autocompletion=complete_router_id,
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    refresh: RefreshOption = False,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Draw one saved router as a tree (plain text, two spaces per level, on a pipe).

    ID: my-router, inworld/my-router or routers/my-router. An unknown one exits with status 4.
    """
    if not router:
        raise UsageError("routers show needs a router id", hint="list them: inworld-router routers")
    run_show(router, _merged(ctx), environment_of(ctx))


def _merged(ctx: typer.Context) -> RoutersOptions:
    """The subcommand's options over those given to `routers` itself (`routers --json show ID`)."""
    group = ctx.parent.params if ctx.parent is not None else {}
    own = ctx.params
    return RoutersOptions(
        as_json=own["as_json"] or bool(group.get("as_json")),
        refresh=own["refresh"] or bool(group.get("refresh")),
        profile=own["profile"] or group.get("profile"),
        base_url=own["base_url"] or group.get("base_url"),
    )
