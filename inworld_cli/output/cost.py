"""Costs as people read them and as pipes carry them. Pure.

A request whose tokens have no known price is `unpriced`, never $0; one that reported no tokens at all (it
failed before any answer) has nothing to price and shows `-`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from inworld_cli.core.pricing import has_tokens, recorded_usd

UNPRICED = "unpriced"
NO_TOKENS = "-"
_CENT = Decimal("0.01")


def usd(amount: Decimal) -> str:
    """$1,234.56 and $0.12 (cents from a dime up), $0.013 and $0.0000036 (two significant digits below)."""
    if amount == 0:
        return "$0.00"
    rounded = _significant(amount)
    if abs(rounded) >= Decimal("0.1"):
        # Enough precision for every digit to the cent: a hand-edited record may hold any amount.
        cents = Context(prec=max(28, amount.adjusted() + 4))
        return f"${amount.quantize(_CENT, ROUND_HALF_UP, context=cents):,}"
    return f"${_significant(rounded):f}"  # again: rounding up may have added a digit (0.00999 -> 0.0100)


def _significant(amount: Decimal, digits: int = 2) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(amount.adjusted() - digits + 1), ROUND_HALF_UP)


def exact(amount: Decimal) -> str:
    """Every digit, no exponent, no float noise: 0.0000211 (for pipes and scripts)."""
    return f"{amount.normalize():f}" if amount else "0"


def cost_cell(cost: dict[str, Any] | None, usage: dict[str, Any], *, plain: bool = False) -> str:
    """A record's cost for a listing: $0.0021 (plain: 0.0021), `unpriced`, or `-` without tokens."""
    amount = recorded_usd(cost)
    if amount is not None:
        return exact(amount) if plain else usd(amount)
    return UNPRICED if has_tokens(usage) else NO_TOKENS
