"""The pure parts of `models` and `routers`: prices, context lengths, router outlines whatever their shape,
and the cache's tolerance of damaged or foreign files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inworld_cli.core.catalogue import matches_provider, model_id, normalize_router_id, router_id
from inworld_cli.core.text import describe_age
from inworld_cli.output.catalogue import context_length, model_row, per_million
from inworld_cli.output.router_tree import outline_text, route_summary, router_outline, router_row
from inworld_cli.store.cache import Cache


@pytest.mark.parametrize(
    ("usd_per_token", "shown"),
    [
        (3e-7, "0.30"),
        (0.0000025, "2.50"),
        ("0.000015", "15.00"),
        (3.75e-8, "0.0375"),
        (1.234567e-7, "0.1234567"),
        (0, "0.00"),
        (0.0001, "100.00"),
        (None, "-"),
        ("free", "free"),
        (True, "True"),
        ("NaN", "NaN"),
    ],
)
def test_prices_per_million_are_exact(usd_per_token: Any, shown: str) -> None:
    assert per_million(usd_per_token) == shown


def test_context_length_as_number_or_string_grouped_on_a_terminal() -> None:
    assert context_length({"spec": {"contextLength": 1048576}}, grouped=True) == "1,048,576"
    assert context_length({"spec": {"contextLength": "200000"}}, grouped=False) == "200000"
    assert context_length({"context_length": 8192}, grouped=False) == "8192"
    assert context_length({}, grouped=True) == "-"
    assert context_length({"spec": "odd"}, grouped=True) == "-"


def test_a_model_row_tolerates_any_entry() -> None:
    assert model_row({"id": "x"}, grouped=False) == ["x", "-", "-", "-", "-"]
    assert model_row({"model": "m", "pricing": "n/a"}, grouped=False) == ["m", "-", "-", "-", "-"]
    assert model_row("just-a-name", grouped=False)[0] == '"just-a-name"'


def test_provider_filter_matches_the_field_or_the_id_prefix() -> None:
    assert matches_provider({"model": "gpt-5", "provider": "OpenAI"}, "openai")
    assert matches_provider({"model": "groq/llama"}, "GROQ")
    assert not matches_provider({"model": "groqish/llama", "provider": "x"}, "groq")


def test_ids() -> None:
    assert model_id({"model": "a", "id": "b"}) == "a"
    assert model_id({"model": ""}) is None
    assert router_id({"name": "routers/support"}) == "support"
    assert router_id({"name": 3}) is None
    for raw in ("support", "inworld/support", "routers/support", " support "):
        assert normalize_router_id(raw) == "support"


def test_ages_read_naturally() -> None:
    assert [describe_age(s) for s in (5, 600, 7200, 3 * 86400)] == ["5 s", "10 min", "2 h", "3 days"]


# -- routers --------------------------------------------------------------------------------------------


def test_camel_case_and_flat_variants_read_the_same() -> None:
    camel = {
        "variants": [
            {"variant": {"modelId": "a/b"}, "weight": 60},
            {"variant": {"modelId": "c/d"}, "weight": 40},
        ]
    }
    flat = {"variants": [{"model": "a/b", "weight": 60}, {"model": "c/d", "weight": 40}]}
    assert route_summary(camel) == route_summary(flat) == "a/b (60), c/d (40)"
    row = router_row({"name": "routers/r", "display_name": "R", "routes": [{}], "defaultRoute": camel})
    assert row == ["r", "R", "1", "a/b (60), c/d (40)"]


def test_an_outline_keeps_unknown_fields_at_every_level() -> None:
    router = {
        "name": "routers/r",
        "routes": [
            {
                "route": {
                    "routeId": "one",
                    "variants": [{"variant": {"modelId": "a/b", "seed": 7}, "weight": 100, "x": 1}],
                },
                "condition": {"celExpression": "tier == 'gold'", "note": "n"},
                "priority": 2,
            }
        ],
        "etag": "abc",
    }
    assert outline_text(router_outline(router)) == (
        "inworld/r\n"
        "  route 1: one  when tier == 'gold'\n"
        "    a/b  weight 100\n"
        "      seed: 7\n"
        "      x: 1\n"
        "    priority: 2\n"
        "    condition note: n\n"
        "  no default route: a request that matches no route fails\n"
        "  etag: abc\n"
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "routes",
                    "route",
                    "variants",
                    "variant",
                    "model_id",
                    "weight",
                    "condition",
                    "cel_expression",
                    "defaultRoute",
                    "defaults",
                    "displayName",
                    "other",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_any_json_outlines_without_raising(data: Any) -> None:
    text = outline_text(router_outline(data))
    assert text.startswith("inworld/")
    router_row(data)


# -- the cache ------------------------------------------------------------------------------------------


def test_the_cache_round_trips_and_ignores_damaged_or_foreign_files(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", "https://api.inworld.ai", "key-1")
    assert cache.load("models") is None
    cache.save("models", [{"model": "m"}], now=1000.0)
    entry = cache.load("models")
    assert entry is not None
    assert (entry.data, entry.fetched_at) == ([{"model": "m"}], 1000.0)
    assert entry.fresh(1000.0 + 3600)
    assert not entry.fresh(1000.0 + 25 * 3600)
    assert not entry.fresh(500.0)  # written "in the future": the clock moved, ask again

    other_key = Cache(tmp_path / "cache", "https://api.inworld.ai", "key-2")
    other_url = Cache(tmp_path / "cache", "https://staging.example", "key-1")
    assert other_key.load("models") is None
    assert other_url.load("models") is None
    assert cache.path("router/a") != cache.path("router/b")

    path = cache.path("models")
    for damage in ("{not json", "[]", json.dumps({"format": 99}), ""):
        path.write_text(damage)
        assert cache.load("models") is None
