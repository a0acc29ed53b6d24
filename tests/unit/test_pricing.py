"""Cost: the join from the router's model ids to the catalogue's entries (with the real ids the router
documents), the exact arithmetic, and how costs read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inworld_cli.core.pricing import Price, cost_of, find_price, recorded_usd
from inworld_cli.output.cost import cost_cell, exact, usd

# The catalogue as the models endpoint documents it: `model` + `provider`, USD per token (numbers, or
# strings as proto3 JSON may send them).
CATALOGUE: list[dict[str, Any]] = [
    {"model": "gemini-2.5-flash", "provider": "google", "pricing": {"prompt": 3e-7, "completion": 0.0000025}},
    {"model": "claude-opus-4-6", "provider": "anthropic", "pricing": {"prompt": "0.000015", "completion": "0.000075"}},
    {"model": "claude-sonnet-4-6", "provider": "anthropic", "pricing": {"prompt": 0.000003, "completion": 0.000015}},
    {"model": "claude-haiku-4-5", "provider": "anthropic", "pricing": {"prompt": "1e-6", "completion": "5e-6"}},
    {"model": "gpt-5", "provider": "openai", "pricing": {"prompt": 0.00000125, "completion": 0.00001}},
    {"model": "gpt-4o-mini", "provider": "openai", "pricing": {"prompt": 1.5e-7}},  # half a price
    {"model": "llama-3.3-70b-versatile", "provider": "together", "pricing": {"prompt": 8.8e-7, "completion": 8.8e-7}},
]  # fmt: skip


@pytest.mark.parametrize(
    ("served", "entry", "per_input", "per_output"),
    [
        ("anthropic/claude-opus-4-6", "anthropic/claude-opus-4-6", "0.000015", "0.000075"),
        ("anthropic/claude-sonnet-4-6", "anthropic/claude-sonnet-4-6", "0.000003", "0.000015"),
        ("anthropic/claude-haiku-4-5", "anthropic/claude-haiku-4-5", "0.000001", "0.000005"),
        ("openai/gpt-5", "openai/gpt-5", "0.00000125", "0.00001"),
        # The router's provider name is not the catalogue's: the alias, and the entry it names.
        ("google-ai-studio/gemini-2.5-flash", "google/gemini-2.5-flash", "0.0000003", "0.0000025"),
        ("ANTHROPIC/Claude-Opus-4-6", "anthropic/claude-opus-4-6", "0.000015", "0.000075"),
    ],
)
def test_the_router_ids_join_the_catalogue_entries(
    served: str, entry: str, per_input: str, per_output: str
) -> None:
    assert find_price(CATALOGUE, served) == Price(entry, Decimal(per_input), Decimal(per_output))


@pytest.mark.parametrize(
    "served",
    [
        "openai/gpt-4o-mini",  # listed, but with no completion price: half a price is no price
        "groq/llama-3.3-70b-versatile",  # only another provider lists it: its price would be wrong
        "google-vertex/gemini-2.5-flash",  # a provider without an alias to the catalogue's
        "gemini-2.5-flash-lite",  # not listed
        "auto",
        "",
    ],
)
def test_what_cannot_be_joined_surely_stays_unpriced(served: str) -> None:
    assert find_price(CATALOGUE, served) is None


def test_an_entry_with_the_router_id_is_closest_and_equal_ties_must_agree() -> None:
    full = {"model": "google-ai-studio/gemini-2.5-flash", "pricing": {"prompt": 1e-7, "completion": 1e-6}}
    assert find_price([*CATALOGUE, full], "google-ai-studio/gemini-2.5-flash") == Price(
        "google-ai-studio/gemini-2.5-flash", Decimal("1e-7"), Decimal("1e-6")
    )
    twin = {"model": "gpt-5", "provider": "openai", "pricing": {"prompt": 0.000002, "completion": 0.00001}}
    assert find_price([*CATALOGUE, twin], "openai/gpt-5") is None  # two prices for one entry: unsure
    same = dict(CATALOGUE[4])
    assert find_price([*CATALOGUE, same], "openai/gpt-5") is not None


def test_odd_catalogues_do_not_raise() -> None:
    odd: list[Any] = [None, 3, "gpt-5", {"model": 5}, {"provider": "openai"}, {"model": "gpt-5", "provider": "openai"},
           {"model": "gpt-5", "provider": "openai", "pricing": {"prompt": "-1", "completion": "x"}}]  # fmt: skip
    assert find_price(odd, "openai/gpt-5") is None


def test_cost_is_price_times_tokens_exactly() -> None:
    flash = find_price(CATALOGUE, "google-ai-studio/gemini-2.5-flash")
    assert flash is not None
    cost = cost_of({"input_tokens": 1234, "output_tokens": 567}, flash, "2026-11-25T09:00:00.000Z")
    assert cost == {
        "usd": 0.0017877,  # 1234 × 0.0000003 + 567 × 0.0000025 = 0.0003702 + 0.0014175
        "input_usd": 0.0003702,
        "output_usd": 0.0014175,
        "model": "google/gemini-2.5-flash",
        "priced_at": "2026-11-25T09:00:00.000Z",
        "usd_per_input_token": 3e-7,
        "usd_per_output_token": 2.5e-6,
    }
    # Decimal, not float, arithmetic: 0.1 + 0.2 style noise never appears, even over many tokens.
    assert recorded_usd(cost) == Decimal("0.0017877")
    big = cost_of({"input_tokens": 987_654_321, "output_tokens": 3}, flash, "t")
    assert big is not None
    assert recorded_usd(big) == Decimal("296.2962963") + Decimal("0.0000075")


def test_cost_needs_token_counts() -> None:
    opus = find_price(CATALOGUE, "anthropic/claude-opus-4-6")
    assert opus is not None
    assert cost_of({}, opus, "t") is None
    assert cost_of({"input_tokens": "12", "output_tokens": True}, opus, "t") is None
    cut_short = cost_of({"input_tokens": 12}, opus, "t")  # a stream cut before its usage arrived
    assert cut_short is not None
    assert (cut_short["output_usd"], cut_short["usd"]) == (0.0, 0.00018)


def test_recorded_costs_read_back_exactly_or_not_at_all() -> None:
    assert recorded_usd(None) is None
    assert recorded_usd({}) is None
    assert recorded_usd({"usd": "abc"}) is None
    assert recorded_usd({"usd": -1}) is None
    assert recorded_usd({"usd": 2.11e-05}) == Decimal("0.0000211")
    assert recorded_usd({"usd": "0.0000211"}) == Decimal("0.0000211")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("0.0000036", "$0.0000036"),
        ("0.0000211", "$0.000021"),
        ("0.0134", "$0.013"),
        ("0.00999", "$0.010"),
        ("0.0999", "$0.10"),
        ("0.12345", "$0.12"),
        ("12.345", "$12.35"),
        ("1795.0374287", "$1,795.04"),
        ("1e26", "$100,000,000,000,000,000,000,000,000.00"),  # a hand-edited record: beyond 28 digits
    ],
)
def test_amounts_for_people(amount: str, shown: str) -> None:
    assert usd(Decimal(amount)) == shown


def test_a_listing_says_unpriced_never_zero() -> None:
    usage = {"input_tokens": 12, "output_tokens": 7}
    assert cost_cell(None, usage) == "unpriced"
    assert cost_cell({"usd": "bogus"}, usage) == "unpriced"
    assert cost_cell(None, {}) == "-"  # nothing was used: nothing to price
    assert cost_cell({"usd": 0.000705}, usage) == "$0.00071"
    assert cost_cell({"usd": 0.000705}, usage, plain=True) == "0.000705"
    assert cost_cell({"usd": 0}, usage) == "$0.00"  # a known free model is $0.00; unpriced is not
    assert exact(Decimal("2.11e-05")) == "0.0000211"
