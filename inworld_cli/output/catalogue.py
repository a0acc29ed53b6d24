"""The catalogue as rows: model, provider, context length, USD per million tokens in and out. Pure."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from inworld_cli.core.catalogue import decimal_of, model_id

MISSING = "-"


def per_million(value: Any) -> str:
    """USD per token -> USD per million tokens, exact: 3e-7 -> "0.30", 0.0000025 -> "2.50",
    3.75e-8 -> "0.0375"; at least two decimals, never float noise."""
    number = decimal_of(value)
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
    number = decimal_of(raw)
    if number is None or number != number.to_integral_value():
        return MISSING if raw is None else str(raw)
    return f"{int(number):,}" if grouped else str(int(number))


def _or_missing(value: Any) -> str:
    return value if isinstance(value, str) and value else MISSING


def model_row(item: Any, grouped: bool) -> list[str]:
    if not isinstance(item, dict):
        return [json.dumps(item, ensure_ascii=False), MISSING, MISSING, MISSING, MISSING]
    pricing = item["pricing"] if isinstance(item.get("pricing"), dict) else {}
    return [
        model_id(item) or MISSING,
        _or_missing(item.get("provider")),
        context_length(item, grouped),
        per_million(pricing.get("prompt")),
        per_million(pricing.get("completion")),
    ]
