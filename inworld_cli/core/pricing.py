"""What a request cost: the served model's price found in the catalogue, times the tokens it used. Pure.

The router names a model `provider/model` (`google-ai-studio/gemini-2.5-flash`); the catalogue lists it as a
`model` and a `provider` (`gemini-2.5-flash`, `google`), and not always under the router's provider name.
A price is taken only from an entry for the same model *from the same provider* (the router's name for it, or
the catalogue's name for that provider in PROVIDER_ALIASES): the same model costs different amounts at
different providers, so a model that only another provider lists stays unpriced rather than priced wrong.

Arithmetic is exact (Decimal: the catalogue gives USD per token, as a JSON number or a string). The record
keeps the amounts as JSON numbers, which hold them exactly up to 15 significant digits (a price has a few,
a token count is an integer: a cost never has more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inworld_cli.core.catalogue import decimal_of

# The router's provider names whose catalogue entries are listed under another provider name.
PROVIDER_ALIASES: dict[str, str] = {"google-ai-studio": "google"}


@dataclass(frozen=True)
class Price:
    entry: str  # the catalogue entry it came from, as the catalogue names it: provider/model
    input: Decimal  # USD per input token
    output: Decimal  # USD per output token


def _text(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def entry_name(item: Mapping[str, Any]) -> str:
    """provider/model as the catalogue spells it (the model id alone when it already has a provider)."""
    model, provider = item.get("model"), item.get("provider")
    model = model if isinstance(model, str) else ""
    if "/" in model or not isinstance(provider, str) or not provider:
        return model
    return f"{provider}/{model}"


def _price_of(item: Mapping[str, Any]) -> Price | None:
    pricing = item.get("pricing")
    if not isinstance(pricing, dict):
        return None
    prompt, completion = decimal_of(pricing.get("prompt")), decimal_of(pricing.get("completion"))
    if prompt is None or completion is None or prompt < 0 or completion < 0:
        return None  # half a price is no price: the cost would be wrong
    return Price(entry_name(item), prompt, completion)


def _closeness(item: Mapping[str, Any], served: str) -> int | None:
    """How surely a catalogue entry is the served model: 0 the same id, 1 the same provider and model
    name, 2 the same model name from the provider's catalogue alias; None: another model or provider."""
    wanted = served.strip().lower()
    provider, _, name = wanted.partition("/")
    model, listed_provider = _text(item.get("model")), _text(item.get("provider"))
    if not model:
        return None
    if model == wanted or (listed_provider and f"{listed_provider}/{model}" == wanted):
        return 0 if model == wanted else 1
    if name and model == name and listed_provider and listed_provider == PROVIDER_ALIASES.get(provider):
        return 2
    return None


def find_price(items: Iterable[Any], served: str) -> Price | None:
    """The price of the served model (`provider/model`), from the closest catalogue entries; None when
    no entry matches, the matching entry has no price, or equally close entries disagree on it."""
    ranked: dict[int, list[Mapping[str, Any]]] = {}
    for item in items:
        if isinstance(item, dict):
            closeness = _closeness(item, served)
            if closeness is not None:
                ranked.setdefault(closeness, []).append(item)
    if not ranked:
        return None
    prices = [_price_of(item) for item in ranked[min(ranked)]]
    first = prices[0]
    if first is None or any(p is None or (p.input, p.output) != (first.input, first.output) for p in prices):
        return None
    return first


def _amount(value: Decimal) -> float:
    """A JSON number for an exact amount (a cost has far fewer than the 15 digits a float holds)."""
    return float(value)


def _tokens(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def cost_of(usage: Mapping[str, Any], price: Price, priced_at: str) -> dict[str, Any] | None:
    """The record's `cost`: what the reported tokens cost at `price` (known as of `priced_at`). None when
    the response reported no token counts. A count that is missing (a stream cut before its end) is 0."""
    tokens_in, tokens_out = _tokens(usage.get("input_tokens")), _tokens(usage.get("output_tokens"))
    if tokens_in is None and tokens_out is None:
        return None
    input_usd = (tokens_in or 0) * price.input
    output_usd = (tokens_out or 0) * price.output
    return {
        "usd": _amount(input_usd + output_usd),
        "input_usd": _amount(input_usd),
        "output_usd": _amount(output_usd),
        "model": price.entry,
        "priced_at": priced_at,
        "usd_per_input_token": _amount(price.input),
        "usd_per_output_token": _amount(price.output),
    }


def has_tokens(usage: Mapping[str, Any]) -> bool:
    """The response reported token counts: it had something to price."""
    return _tokens(usage.get("input_tokens")) is not None or _tokens(usage.get("output_tokens")) is not None


def recorded_usd(cost: Mapping[str, Any] | None) -> Decimal | None:
    """A record's cost in USD, exactly as written (None: unpriced, or an old record without a price)."""
    if not cost:
        return None
    value = decimal_of(cost.get("usd"))
    return value if value is not None and value >= 0 else None
