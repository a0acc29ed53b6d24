"""`inworld-router routers [list | show ID]`: the account's saved routers, listed or drawn as a tree.

The router API documents a router's shape loosely (snake_case in its examples, camelCase in places), so
every field is read under both spellings, and any field this code does not know is shown as `key: value`
rather than dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from inworld_cli.catalog import Catalog, router_id
from inworld_cli.commands.models import MISSING, report_source
from inworld_cli.console import Streams, json_text, sanitize
from inworld_cli.deps import Deps
from inworld_cli.errors import UsageError
from inworld_cli.model_completion import complete_router_id
from inworld_cli.options import BaseUrlOption, JsonOption, ProfileOption, RefreshOption
from inworld_cli.settings import Overrides
from inworld_cli.tables import Column, print_table

ACTIONS = ("list", "show")
COLUMNS = (Column("ID"), Column("NAME"), Column("ROUTES", numeric=True), Column("DEFAULT ROUTE"))


# -- reading a router, whatever the spelling --------------------------------------------------------------


def _field(obj: Any, snake: str) -> Any:
    """obj[snake] or obj[camelCase of snake]; None when absent or obj is not an object."""
    if not isinstance(obj, dict):
        return None
    if snake in obj:
        return obj[snake]
    head, *rest = snake.split("_")
    return obj.get(head + "".join(part.title() for part in rest))


def _spellings(*snake_names: str) -> set[str]:
    names = set(snake_names)
    for snake in snake_names:
        head, *rest = snake.split("_")
        names.add(head + "".join(part.title() for part in rest))
    return names


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _extras(obj: Any, known: set[str]) -> list[str]:
    if not isinstance(obj, dict):
        return [] if obj is None else [compact(obj)]
    return [f"{key}: {compact(value)}" for key, value in obj.items() if key not in known]


def variant_model(entry: Any) -> str:
    inner = _field(entry, "variant")
    inner = inner if isinstance(inner, dict) else entry
    model = _field(inner, "model_id") or _field(inner, "model")
    if isinstance(model, str) and model:
        return model
    return "auto" if _field(inner, "model_selection") is not None else MISSING


def route_summary(route: Any) -> str:
    """A route's models and weights in one line: "openai/gpt-5 (70), anthropic/claude-haiku-4-5 (30)"."""
    variants = _list(_field(route, "variants"))
    if not variants:
        return MISSING
    if len(variants) == 1:
        return variant_model(variants[0])
    parts = []
    for variant in variants:
        weight = _field(variant, "weight")
        parts.append(variant_model(variant) + (f" ({compact(weight)})" if weight is not None else ""))
    return ", ".join(parts)


def router_row(item: Any) -> list[str]:
    name = _field(item, "display_name")
    return [
        router_id(item) or MISSING,
        name if isinstance(name, str) and name else MISSING,
        str(len(_list(_field(item, "routes")))),
        route_summary(_field(item, "default_route")),
    ]


# -- the outline of one router ----------------------------------------------------------------------------


@dataclass
class Node:
    label: str
    children: list[Node] = field(default_factory=list)


_VARIANT_KEYS = _spellings("variant_id", "model_id")
_ROUTE_KEYS = _spellings("route_id", "variants")
_ENTRY_KEYS = _spellings("route", "condition")
_ROUTER_KEYS = _spellings("name", "display_name", "routes", "default_route", "defaults")


def variant_node(entry: Any) -> Node:
    inner = _field(entry, "variant")
    nested = isinstance(inner, dict)
    inner = inner if nested else entry
    weight = _field(entry, "weight")
    label = variant_model(entry) + (f"  weight {compact(weight)}" if weight is not None else "")
    variant_id = _field(inner, "variant_id")
    if variant_id:
        label += f"  (variant {compact(variant_id)})"
    known = set(_VARIANT_KEYS)
    if _field(inner, "model_id") is None:
        known.add("model")
    if not nested:
        known.add("weight")
    outer_extras = _extras(entry, {"variant", "weight"}) if nested else []
    return Node(label, [Node(text) for text in _extras(inner, known) + outer_extras])


def route_node(title: str, route: Any, condition: Any = None, entry_extras: list[str] | None = None) -> Node:
    route_label = _field(route, "route_id")
    label = title + (f": {compact(route_label)}" if route_label else "")
    cel = _field(condition, "cel_expression") if isinstance(condition, dict) else condition
    if cel is not None:
        label += f"  when {compact(cel)}"
    children = [variant_node(v) for v in _list(_field(route, "variants"))]
    if not children:
        children.append(Node("no variants"))
    extras = _extras(route, _ROUTE_KEYS) + (entry_extras or [])
    if isinstance(condition, dict):
        extras += [f"condition {text}" for text in _extras(condition, _spellings("cel_expression"))]
    return Node(label, children + [Node(text) for text in extras])


def router_outline(router: Any) -> Node:
    rid = router_id(router) or MISSING
    name = _field(router, "display_name")
    root = Node(f"inworld/{rid}" + (f"  {name}" if isinstance(name, str) and name else ""))
    routes = _list(_field(router, "routes"))
    for number, entry in enumerate(routes, start=1):
        inner = _field(entry, "route")
        route = inner if isinstance(inner, dict) else entry
        extras = _extras(entry, _ENTRY_KEYS) if isinstance(inner, dict) else []
        root.children.append(route_node(f"route {number}", route, _field(entry, "condition"), extras))
    if not routes:
        root.children.append(Node("no conditional routes"))
    default = _field(router, "default_route")
    if default is not None:
        root.children.append(route_node("default route", default))
    else:
        root.children.append(Node("no default route: a request that matches no route fails"))
    defaults = _field(router, "defaults")
    if defaults is not None:
        root.children.append(Node("defaults", [Node(text) for text in _extras(defaults, set())]))
    root.children += [Node(text) for text in _extras(router, _ROUTER_KEYS)]
    return root


def outline_text(node: Node, depth: int = 0) -> str:
    """The plain twin of the tree: one node per line, two spaces of indent per level."""
    line = "  " * depth + " ".join(node.label.split("\n")) + "\n"
    return line + "".join(outline_text(child, depth + 1) for child in node.children)


def print_outline(streams: Streams, node: Node) -> None:
    if not streams.stdout_is_terminal:
        streams.out(outline_text(node))
        return
    from rich.text import Text
    from rich.tree import Tree

    def build(tree: Tree, children: list[Node]) -> None:
        for child in children:
            build(tree.add(Text(sanitize(child.label))), child.children)

    tree = Tree(Text(sanitize(node.label), style="bold"))
    build(tree, node.children)
    streams.console().print(tree)


# -- the command ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutersOptions:
    action: str = "list"
    router: str | None = None
    as_json: bool = False
    refresh: bool = False
    profile: str | None = None
    base_url: str | None = None


def _check(options: RoutersOptions) -> None:
    if options.action not in ACTIONS:
        raise UsageError(
            f"unknown action '{options.action}' for routers (use list or show)",
            hint=f"to see one router: inworld-router routers show {options.action}",
        )
    if options.action == "show" and not options.router:
        raise UsageError("routers show needs a router id", hint="list them: inworld-router routers")
    if options.action == "list" and options.router:
        raise UsageError(f"routers list takes no id (got '{options.router}')", hint="use: routers show ID")


def run_routers(options: RoutersOptions, deps: Deps) -> None:
    _check(options)
    settings = deps.settings(Overrides(profile=options.profile, base_url=options.base_url))
    catalog = Catalog(settings)
    if options.action == "show":
        assert options.router is not None
        fetched = catalog.router(options.router, refresh=options.refresh)
        report_source(deps, fetched, "router", catalog.now(), catalog.warnings)
        if options.as_json:
            deps.streams.out(json_text(fetched.data) + "\n")
        else:
            print_outline(deps.streams, router_outline(fetched.data))
        return
    fetched = catalog.routers(refresh=options.refresh)
    report_source(deps, fetched, "router list", catalog.now(), catalog.warnings)
    items = fetched.data if isinstance(fetched.data, list) else []
    if options.as_json:
        deps.streams.out(json_text(items) + "\n")
    elif not items:
        deps.streams.err("no saved routers (create them in the Inworld Portal)")
    else:
        print_table(deps.streams, COLUMNS, [router_row(item) for item in items])


def _complete_action(incomplete: str) -> list[str]:
    return [action for action in ACTIONS if action.startswith(incomplete)]


def routers(
    action: Annotated[
        str,
        typer.Argument(
            metavar="ACTION",
            help="list (the default) or show.",
            autocompletion=_complete_action,
            show_default=False,
        ),
    ] = "list",
    router: Annotated[
        str | None,
        typer.Argument(
            metavar="ID",
            help="The router to show: my-router or inworld/my-router.",
            autocompletion=complete_router_id,
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    refresh: RefreshOption = False,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """List the saved routers, or draw one: its routes, their conditions, weighted variants and defaults.

    Use a saved router as a model with: ask -m inworld/<id>

    Cached for 24 hours, and shown from the cache when the router cannot be reached.

    An unknown id exits with status 4.

    Examples:

      inworld-router routers

      inworld-router routers show my-router

      inworld-router routers show inworld/my-router --json | jq .defaultRoute
    """
    options = RoutersOptions(action, router, as_json, refresh, profile, base_url)
    run_routers(options, Deps.from_process())
