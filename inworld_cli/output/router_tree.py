"""The account's saved routers, read whatever the spelling, and drawn: a table row each, or one router as
a tree of routes, conditions and weighted variants.

The router API documents a router's shape loosely (snake_case in its examples, camelCase in places), so
every field is read under both spellings, and any field this code does not know is shown as `key: value`
rather than dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from inworld_cli.core.catalogue import router_id
from inworld_cli.output.console import Streams, sanitize

MISSING = "-"


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
