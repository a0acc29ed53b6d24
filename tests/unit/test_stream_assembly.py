"""Server-sent events to one Messages response: the decoder, the assembler and the metadata merge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inworld_cli.core.record import text_of
from inworld_cli.router.sse import (
    MessageAssembler,
    SSEDecoder,
    merge_metadata,
    non_text_block_types,
    sse_events,
)
from tests.router_server import DEFAULT_METADATA, FAILOVER_METADATA
from tests.router_server import sse_events as router_events


def wire(events: list[tuple[str, dict[str, Any]]], newline: str = "\n") -> bytes:
    return "".join(
        f"event: {name}{newline}data: {json.dumps(data)}{newline}{newline}" for name, data in events
    ).encode()


def assemble(events: list[tuple[str, dict[str, Any]]]) -> tuple[MessageAssembler, str]:
    assembler = MessageAssembler()
    texts = [assembler.feed(name, data) for name, data in events]
    return assembler, "".join(t for t in texts if t)


# -- SSEDecoder ----------------------------------------------------------------------------------------------


def test_decoder_splits_events_and_joins_multiline_data() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b'event: a\ndata: {"x":\ndata: 1}\n\n: a comment\nid: 7\ndata: plain\n\n')
    assert events == [("a", b'{"x":\n1}'), ("message", b"plain")]
    assert decoder.flush() == []


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_decoder_accepts_every_line_ending(newline: str) -> None:
    events = router_events("Hello there")
    decoded = list(sse_events([wire(events, newline)]))
    assert [(name, json.loads(data)) for name, data in decoded] == events


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=30), st.sampled_from(["\n", "\r\n", "\r"]))
def test_decoder_gives_the_same_events_however_the_bytes_are_chunked(cuts: list[int], newline: str) -> None:
    body = wire(router_events("Hé, wörld ✓"), newline)
    chunks, position = [], 0
    for size in cuts:
        chunks.append(body[position : position + size])
        position += size
    chunks.append(body[position:])
    assert list(sse_events(chunks)) == list(sse_events([body]))


def test_decoder_keeps_an_event_the_body_ended_in_without_its_blank_line() -> None:
    assert list(sse_events([b'event: message_stop\ndata: {"type": "message_stop"}'])) == [
        ("message_stop", b'{"type": "message_stop"}')
    ]


def test_decoder_ignores_an_event_without_data() -> None:
    assert list(sse_events([b"event: ping\n\n"])) == []


# -- MessageAssembler ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("placement", ["start", "delta", "stop", "own"])
def test_metadata_is_kept_from_every_placement(placement: str) -> None:
    assembler, text = assemble(router_events("Hello, world", metadata_in=placement))
    message = assembler.message()
    assert text == "Hello, world"
    assert text_of(message) == "Hello, world"
    assert message["metadata"] == DEFAULT_METADATA
    assert message["stop_reason"] == "end_turn"
    assert message["model"] == "anthropic/claude-opus-4-6"
    assert message["usage"] == {"input_tokens": 12, "output_tokens": 4}
    assert assembler.stopped


def test_no_metadata_means_no_metadata_key() -> None:
    assembler, _ = assemble(router_events("hi", metadata=None))
    assert "metadata" not in assembler.message()


def test_metadata_from_several_events_is_merged_later_wins_but_keeps_the_fuller_attempts() -> None:
    events = router_events("hi", metadata=FAILOVER_METADATA, metadata_in="start")
    stop = events[-1][1]
    stop["metadata"] = {
        "attempts": [{"model": "anthropic/claude-opus-4-6", "success": True}],
        "generation_id": "gen-final",
        "reasoning": None,
        "total_duration_ms": 1234,
    }
    assembler, _ = assemble(events)
    metadata = assembler.message()["metadata"]
    assert metadata["attempts"] == FAILOVER_METADATA["attempts"]
    assert metadata["generation_id"] == "gen-final"
    assert metadata["reasoning"] == FAILOVER_METADATA["reasoning"]  # a null erases nothing
    assert metadata["total_duration_ms"] == 1234


def test_merge_metadata_rules() -> None:
    assert merge_metadata(None, "not an object") is None
    assert merge_metadata({"a": 1}, None) == {"a": 1}
    assert merge_metadata({"a": 1, "b": 2}, {"b": 3, "c": None}) == {"a": 1, "b": 3, "c": None}
    longer = {"attempts": [1, 2]}
    assert merge_metadata(longer, {"attempts": [3]}) == longer
    assert merge_metadata(longer, {"attempts": [3, 4]}) == {"attempts": [3, 4]}


def test_an_unknown_event_named_for_metadata_may_carry_it_bare() -> None:
    events = router_events("hi", metadata=None)
    events.insert(-1, ("metadata", {"type": "metadata", "generation_id": "gen-bare", "attempts": []}))
    events.insert(-1, ("something_else", {"type": "something_else", "value": 1}))
    assembler, _ = assemble(events)
    assert assembler.message()["metadata"] == {"generation_id": "gen-bare", "attempts": []}


def test_thinking_and_tool_use_blocks_are_assembled_and_announced() -> None:
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": {"id": "m1", "model": "x", "content": []}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "Let me "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "thinking_delta", "thinking": "think."}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": "sig=="}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "text_delta", "text": "Weather?"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "citations_delta", "citation": {"cited_text": "c"}}}),
        ("content_block_start", {"type": "content_block_start", "index": 2,
                                 "content_block": {"type": "tool_use", "id": "t1", "name": "get", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 2,
                                 "delta": {"type": "input_json_delta", "partial_json": '{"city": "Par'}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 2,
                                 "delta": {"type": "input_json_delta", "partial_json": 'is"}'}}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    assembler = MessageAssembler()
    announced = []
    texts = []
    for name, data in events:
        text = assembler.feed(name, data)
        if text:
            texts.append(text)
        announced.extend(assembler.take_new_blocks())
    message = assembler.message()
    assert texts == ["Weather?"]
    assert announced == ["thinking", "tool_use"]
    assert message["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "sig=="},
        {"type": "text", "text": "Weather?", "citations": [{"cited_text": "c"}]},
        {"type": "tool_use", "id": "t1", "name": "get", "input": {"city": "Paris"}},
    ]
    assert message["stop_reason"] == "tool_use"
    assert non_text_block_types(message) == ["thinking", "tool_use"]
    assert text_of(message) == "Weather?"


def test_a_cut_tool_input_is_kept_raw() -> None:
    assembler = MessageAssembler()
    assembler.feed("content_block_start", {"type": "content_block_start", "index": 0,
                   "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {}}})  # fmt: skip
    assembler.feed("content_block_delta", {"type": "content_block_delta", "index": 0,
                   "delta": {"type": "input_json_delta", "partial_json": '{"a": '}})  # fmt: skip
    block = assembler.message()["content"][0]
    assert block["input"] == {}
    assert block["partial_json"] == '{"a": '


def test_deltas_without_a_block_start_and_unknown_delta_types_lose_nothing() -> None:
    assembler = MessageAssembler()
    assert assembler.feed("content_block_delta", {"type": "content_block_delta", "index": 0,
                          "delta": {"type": "text_delta", "text": "a"}}) == "a"  # fmt: skip
    assembler.feed("content_block_delta", {"type": "content_block_delta", "index": 0,
                   "delta": {"type": "future_delta", "note": "x", "score": 3}})  # fmt: skip
    assembler.feed("content_block_delta", {"type": "content_block_delta", "index": 0,
                   "delta": {"type": "future_delta", "note": "y"}})  # fmt: skip
    assert assembler.message()["content"] == [{"type": "text", "text": "a", "note": "xy", "score": 3}]


def test_a_stream_without_message_stop_is_not_stopped_and_gives_what_arrived() -> None:
    assembler, text = assemble(router_events("Hello, world", stop=False))
    assert not assembler.stopped
    assert text_of(assembler.message()) == text == "Hello, world"


def test_a_partial_message_can_be_taken_at_any_point_without_changing_the_final_one() -> None:
    events = router_events("Hello, world")
    assembler = MessageAssembler()
    for name, data in events[:5]:
        assembler.feed(name, data)
    early = assembler.message()
    early["content"][0]["text"] = "changed"
    for name, data in events[5:]:
        assembler.feed(name, data)
    assert text_of(assembler.message()) == "Hello, world"


def test_an_error_event_is_held_for_the_caller() -> None:
    assembler = MessageAssembler()
    assembler.feed("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert assembler.error == {"type": "overloaded_error", "message": "Overloaded"}


def test_content_and_a_second_message_start_are_kept() -> None:
    assembler = MessageAssembler()
    first = {"type": "message_start", "message": {"model": "a", "content": [{"type": "text", "text": "Hi "}],
                                                  "usage": {"input_tokens": 3}}}  # fmt: skip
    assert assembler.feed("message_start", first) == "Hi "
    assembler.feed("message_start", {"type": "message_start", "message": {"model": "b"}})
    message = assembler.message()
    assert message["model"] == "b"
    assert message["usage"] == {"input_tokens": 3}
    assert text_of(message) == "Hi "
