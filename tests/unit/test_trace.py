"""The routing trace: documented shape, failover, and everything undocumented kept rather than dropped."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from inworld_cli.core.trace import Attempt, RoutingTrace, parse_metadata, trace_of_response
from tests.router_server import DEFAULT_METADATA, FAILOVER_METADATA, message


def test_documented_shape() -> None:
    trace = parse_metadata(DEFAULT_METADATA)
    assert trace == RoutingTrace(
        present=True,
        attempts=[Attempt(1, "anthropic/claude-opus-4-6", True, 120.0, {})],
        generation_id="gen-0001",
        reasoning="Using specified model: 'anthropic/claude-opus-4-6' - success",
        extra={},
    )
    assert trace.failovers == 0


def test_failover_keeps_every_field_of_failed_attempts() -> None:
    trace = parse_metadata(FAILOVER_METADATA)
    assert [(a.position, a.model, a.success, a.ttft_ms) for a in trace.attempts] == [
        (1, "openai/gpt-5", False, None),
        (2, "google-ai-studio/gemini-2.5-flash", False, None),
        (3, "anthropic/claude-opus-4-6", True, 840.0),
    ]
    assert trace.attempts[0].extra == {"error": "upstream 503"}
    assert trace.attempts[1].extra == {"status": 429}
    assert [a.outcome for a in trace.attempts] == ["failed", "failed", "ok"]
    assert trace.failovers == 2


def test_unknown_keys_are_kept_in_order() -> None:
    trace = parse_metadata(
        {
            "zeta": 1,
            "attempts": [{"duration_ms": 5, "model": "m", "alpha": None, "success": True, "beta": [1]}],
            "total_duration_ms": 1500,
            "alpha": {"nested": True},
        }
    )
    assert list(trace.extra.items()) == [
        ("zeta", 1),
        ("total_duration_ms", 1500),
        ("alpha", {"nested": True}),
    ]
    assert list(trace.attempts[0].extra.items()) == [("duration_ms", 5), ("alpha", None), ("beta", [1])]


def test_strings_for_numbers_and_booleans_are_read() -> None:
    trace = parse_metadata(
        {
            "attempts": [{"model": "m", "success": "true", "time_to_first_token_ms": " 812.5 "}],
            "generation_id": 42,
        }
    )
    assert trace.attempts[0].success is True
    assert trace.attempts[0].ttft_ms == 812.5
    assert trace.attempts[0].extra == {}
    assert trace.generation_id == "42"


def test_nulls_and_missing_values_are_unknown_not_errors() -> None:
    trace = parse_metadata(
        {
            "attempts": [{"model": None, "success": None, "time_to_first_token_ms": None}, {}],
            "reasoning": None,
        }
    )
    assert [(a.model, a.success, a.ttft_ms, a.outcome) for a in trace.attempts] == [
        (None, None, None, "unknown"),
        (None, None, None, "unknown"),
    ]
    assert trace.attempts[0].extra == {}  # a plain null is "not known", nothing to keep
    assert trace.reasoning is None
    assert trace.extra == {}


def test_values_of_the_wrong_shape_stay_visible_in_extra() -> None:
    trace = parse_metadata(
        {
            "attempts": [
                "openai/gpt-5",
                7,
                {"model": ["x"], "success": "maybe", "time_to_first_token_ms": "fast"},
            ],
            "generation_id": {"id": 1},
            "reasoning": ["a", "b"],
        }
    )
    assert trace.attempts[0].extra == {"value": "openai/gpt-5"}
    assert trace.attempts[1].extra == {"value": 7}
    assert trace.attempts[2].extra == {"model": ["x"], "success": "maybe", "time_to_first_token_ms": "fast"}
    assert trace.extra == {"generation_id": {"id": 1}, "reasoning": ["a", "b"]}


def test_attempts_that_are_not_a_list_are_kept() -> None:
    trace = parse_metadata({"attempts": {"model": "m"}})
    assert trace.attempts == []
    assert trace.extra == {"attempts": {"model": "m"}}


def test_no_metadata_and_metadata_that_is_not_an_object() -> None:
    assert trace_of_response(message(metadata=None)).present is False
    assert trace_of_response(None).present is False
    assert parse_metadata(None).present is False
    odd = parse_metadata("routed somewhere")
    assert odd.present is True
    assert odd.extra == {"metadata": "routed somewhere"}
    assert trace_of_response(message(metadata=FAILOVER_METADATA)).generation_id == "gen-failover-42"


def test_non_finite_and_boolean_times_are_not_times() -> None:
    trace = parse_metadata(
        {
            "attempts": [
                {"time_to_first_token_ms": "nan"},
                {"time_to_first_token_ms": True},
                {"time_to_first_token_ms": 1e999},
            ]
        }
    )
    assert [a.ttft_ms for a in trace.attempts] == [None, None, None]
    assert [list(a.extra) for a in trace.attempts] == [["time_to_first_token_ms"]] * 3


# -- property: arbitrary JSON never raises, and nothing the router sent is lost ------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
attempt_like = st.dictionaries(
    st.sampled_from(["model", "success", "time_to_first_token_ms", "error", "status"]) | st.text(max_size=6),
    json_values,
    max_size=6,
)
metadata_like = st.dictionaries(
    st.sampled_from(["attempts", "generation_id", "reasoning", "total_duration_ms"]) | st.text(max_size=6),
    json_values | st.lists(attempt_like | json_values, max_size=5),
    max_size=6,
)


def _absorbed(key: str, value: Any, kept: object) -> bool:
    """A documented key may leave `extra` only when its value was understood (or was a plain null)."""
    return value is None or kept is not None


@given(metadata_like | json_values)
def test_arbitrary_json_never_raises_and_loses_no_key(metadata: Any) -> None:
    trace = parse_metadata(metadata)
    if metadata is None:
        assert trace.present is False
        return
    assert trace.present is True
    if not isinstance(metadata, dict):
        assert trace.extra == {"metadata": metadata}
        return
    known = {
        "attempts": trace.attempts or None,
        "generation_id": trace.generation_id,
        "reasoning": trace.reasoning,
    }
    for key, value in metadata.items():
        if key == "attempts" and isinstance(value, list):
            continue
        if key in known and _absorbed(key, value, known[key]):
            continue
        assert trace.extra[key] == value or value != value  # NaN is never equal to itself
    assert list(trace.extra) == [k for k in metadata if k in trace.extra]  # order kept
    attempts = metadata.get("attempts")
    if isinstance(attempts, list):
        assert len(trace.attempts) == len(attempts)
        for attempt, raw in zip(trace.attempts, attempts, strict=True):
            if not isinstance(raw, dict):
                assert attempt.extra == {"value": raw} or raw != raw
                continue
            parsed = {
                "model": attempt.model,
                "success": attempt.success,
                "time_to_first_token_ms": attempt.ttft_ms,
            }
            for key, value in raw.items():
                if key in parsed and _absorbed(key, value, parsed[key]):
                    continue
                assert key in attempt.extra
            assert list(attempt.extra) == [k for k in raw if k in attempt.extra]
