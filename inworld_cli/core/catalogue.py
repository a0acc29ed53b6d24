"""The names in the router's catalogue and saved routers, as its endpoints spell them. Pure."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def model_id(item: Any) -> str | None:
    """A catalogue entry's model id (the `model` field, as the router lists it)."""
    if isinstance(item, dict):
        for key in ("model", "id", "name"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return None


def router_id(item: Any) -> str | None:
    """A saved router's id: `name` is "routers/<id>"; the id is what goes after `inworld/`."""
    if isinstance(item, dict):
        name = item.get("name") or item.get("id")
        if isinstance(name, str) and name:
            return name.rsplit("/", 1)[-1]
    return None


def normalize_router_id(raw: str) -> str:
    """Accept `my-router`, `inworld/my-router` and `routers/my-router` alike."""
    value = raw.strip()
    for prefix in ("inworld/", "routers/"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


def decimal_of(value: Any) -> Decimal | None:
    """A number as the API may send it: a JSON number, or a string (proto3 JSON sends int64 as one)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def raw_context_length(item: dict[str, Any]) -> Any:
    """The context length as the entry gives it (in `spec`, or at the top level; either spelling)."""
    spec = item.get("spec")
    raw = spec.get("contextLength", spec.get("context_length")) if isinstance(spec, dict) else None
    return raw if raw is not None else item.get("contextLength", item.get("context_length"))


def context_tokens(item: Any) -> int | None:
    """The context length in tokens, when the entry gives a whole number."""
    number = decimal_of(raw_context_length(item)) if isinstance(item, dict) else None
    return int(number) if number is not None and number == number.to_integral_value() else None


def provider_of(item: Any) -> str | None:
    return item.get("provider") if isinstance(item, dict) and isinstance(item.get("provider"), str) else None


def matches_provider(item: Any, provider: str) -> bool:
    """The provider field, or the `provider/` prefix of the model id; case-insensitive."""
    wanted = provider.strip().lower()
    mid = (model_id(item) or "").lower()
    return (provider_of(item) or "").lower() == wanted or mid.startswith(wanted + "/")
