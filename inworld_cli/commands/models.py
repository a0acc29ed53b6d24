"""`inworld-router models`: the router's model catalogue, with context length and prices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from inworld_cli.catalog import Catalog, Fetched, describe_age, model_id
from inworld_cli.console import json_text
from inworld_cli.deps import Deps
from inworld_cli.options import BaseUrlOption, JsonOption, ProfileOption, RefreshOption
from inworld_cli.settings import Overrides
from inworld_cli.tables import Column, print_table

COLUMNS = (
    Column("MODEL"),
    Column("PROVIDER"),
    Column("CONTEXT", numeric=True),
    Column("$/M IN", numeric=True),
    Column("$/M OUT", numeric=True),
)
MISSING = "-"


@dataclass(frozen=True)
class ModelsOptions:
    provider: str | None = None
    as_json: bool = False
    refresh: bool = False
    profile: str | None = None
    base_url: str | None = None


def _number(value: Any) -> Decimal | None:
    """A number as the API may send it: a JSON number, or a string (proto3 JSON sends int64 as one)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def per_million(value: Any) -> str:
    """USD per token -> USD per million tokens, exact: 3e-7 -> "0.30", 0.0000025 -> "2.50",
    3.75e-8 -> "0.0375"; at least two decimals, never float noise."""
    number = _number(value)
    if number is None:
        return MISSING if value is None else str(value)
    scaled = (number * 1_000_000).normalize()
    exponent = scaled.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        scaled = scaled.quantize(Decimal("0.01"))
    return f"{scaled:f}"


def context_length(item: dict[str, Any], grouped: bool) -> str:
    spec = item.get("spec")
    raw = spec.get("contextLength", spec.get("context_length")) if isinstance(spec, dict) else None
    if raw is None:
        raw = item.get("contextLength", item.get("context_length"))
    number = _number(raw)
    if number is None or number != number.to_integral_value():
        return MISSING if raw is None else str(raw)
    return f"{int(number):,}" if grouped else str(int(number))


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value else MISSING


def model_row(item: Any, grouped: bool) -> list[str]:
    if not isinstance(item, dict):
        return [json.dumps(item, ensure_ascii=False), MISSING, MISSING, MISSING, MISSING]
    pricing = item["pricing"] if isinstance(item.get("pricing"), dict) else {}
    return [
        model_id(item) or MISSING,
        _text(item.get("provider")),
        context_length(item, grouped),
        per_million(pricing.get("prompt")),
        per_million(pricing.get("completion")),
    ]


def provider_of(item: Any) -> str | None:
    return item.get("provider") if isinstance(item, dict) and isinstance(item.get("provider"), str) else None


def matches_provider(item: Any, provider: str) -> bool:
    """The provider field, or the `provider/` prefix of the model id; case-insensitive."""
    wanted = provider.strip().lower()
    mid = (model_id(item) or "").lower()
    return (provider_of(item) or "").lower() == wanted or mid.startswith(wanted + "/")


def report_source(deps: Deps, fetched: Fetched, what: str, now: float, warnings: list[str]) -> None:
    """On stderr: why a stale cache is shown (always); that a fresh one is (a terminal only)."""
    for warning in warnings:
        deps.streams.warn(warning)
    age = describe_age(max(0.0, now - fetched.fetched_at))
    if fetched.problem:
        deps.streams.warn(f"{fetched.problem}; showing the {what} cached {age} ago")
    elif fetched.from_cache and deps.streams.stderr_is_terminal:
        deps.streams.err(f"(the {what} as cached {age} ago; --refresh fetches it again)")


def run_models(options: ModelsOptions, deps: Deps) -> None:
    settings = deps.settings(Overrides(profile=options.profile, base_url=options.base_url))
    catalog = Catalog(settings)
    fetched = catalog.models(refresh=options.refresh)
    report_source(deps, fetched, "catalogue", catalog.now(), catalog.warnings)
    items: list[Any] = fetched.data if isinstance(fetched.data, list) else []
    if options.provider:
        chosen = [item for item in items if matches_provider(item, options.provider)]
        if not chosen:
            known = sorted({p for p in map(provider_of, items) if p})
            deps.streams.warn(
                f"no models from provider '{options.provider}'"
                + (f"; providers: {', '.join(known)}" if known else "")
            )
        items = chosen
    if options.as_json:
        deps.streams.out(json_text(items) + "\n")
        return
    grouped = deps.streams.stdout_is_terminal
    rows = sorted(
        (model_row(item, grouped) for item in items), key=lambda row: (row[1].lower(), row[0].lower())
    )
    print_table(deps.streams, COLUMNS, rows)


def models(
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

    Examples:

      inworld-router models

      inworld-router models --provider anthropic

      inworld-router models --json | jq -r '.[].model'
    """
    run_models(ModelsOptions(provider, as_json, refresh, profile, base_url), Deps.from_process())
