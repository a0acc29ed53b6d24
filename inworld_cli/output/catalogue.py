"""The catalogue as rows: model, provider, context length, USD per million tokens in and out. Pure."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from inworld_cli.core.catalogue import context_tokens, decimal_of, model_id, raw_context_length

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
    tokens = context_tokens(item)
    if tokens is None:
        raw = raw_context_length(item)
        return MISSING if raw is None else str(raw)
    return f"{tokens:,}" if grouped else str(tokens)


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
