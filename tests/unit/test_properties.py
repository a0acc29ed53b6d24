"""Property tests for the parts that take untrusted input, where the other unit tests leave gaps: streams
of events in any order (the assembler and the client's reading of them), error bodies, records from any
JSON (what `inspect FILE` renders), JSON output, prompts from any bytes, and hand-edited credentials.
(The routing-metadata parser, the terminal sanitiser and config.toml have theirs in test_routing.py,
test_console.py and test_config_properties.py.)
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from inworld_cli.core.prompt import assemble_prompt, decode_stdin
from inworld_cli.core.record import Record, text_of
from inworld_cli.errors import CliError, UsageError
from inworld_cli.output.console import json_text
from inworld_cli.output.listing import history_row
from inworld_cli.output.timeline import print_timeline, summary_line, timeline_text
from inworld_cli.router.exchange import Finished, TextDelta
from inworld_cli.router.failures import event_failure, status_failure
from inworld_cli.router.sse import MessageAssembler, SSEDecoder, sse_events
from inworld_cli.store.settings import Overrides, Paths, resolve
from tests.router_server import FAILOVER_METADATA
from tests.router_server import sse_events as router_events
from tests.stub_transport import StubResponse, stub_exchange

# Controls a terminal would obey; the plain renderings must not contain them (newline and tab are fine).
CONTROL = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {chr(c) for c in range(0x7F, 0xA0)}

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
# Text with what the network may send: controls, escapes, lone surrogates, RTL and combining marks, emoji.
odd_text = st.lists(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(["\x1b[2J", "\x1b]0;title\x07", "\x9b", "\ud83d"]),
    max_size=10,
).map("".join)

# -- streams of events: in any order, missing, duplicated, unknown -------------------------------------------

KNOWN_KINDS = {"message_start", "content_block_start", "content_block_delta", "content_block_stop",
               "message_delta", "message_stop", "ping", "error"}  # fmt: skip
# Known events of the wrong shape: none of them may raise or carry text.
MALFORMED = [
    ("message_start", {"type": "message_start", "message": "not an object"}),
    ("message_start", {"type": "message_start"}),
    ("content_block_start", {"type": "content_block_start", "index": "zero", "content_block": []}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": 5}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 2, "delta": {"type": "future_delta", "x": [1]}}),
    ("message_delta", {"type": "message_delta", "delta": [], "usage": 3, "metadata": "no"}),
    ("message_delta", {"type": "message_delta", "usage": {"output_tokens": "many"}}),
    ("error", {"type": "error", "error": "not an object"}),
    ("message_stop", {"type": "message_stop", "metadata": ["not", "an", "object"]}),
]  # fmt: skip
unknown_events = st.tuples(
    st.text(max_size=10).filter(lambda name: name not in KNOWN_KINDS),
    st.dictionaries(st.text(max_size=6).filter(lambda key: key != "type"), json_values, max_size=4),
)


@st.composite
def shuffled_streams(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], list[str]]:
    """A well-formed stream's events (text at index 0, a thinking block at index 1), then reordered, some
    dropped, some repeated, with unknown and malformed events mixed in. Returns the events and the text
    deltas among them, in the order they come."""
    chunks = draw(st.lists(st.text(max_size=6), min_size=1, max_size=6))
    placement = draw(st.sampled_from(["start", "delta", "stop", "own"]))
    base = router_events(chunks=chunks, metadata=FAILOVER_METADATA, metadata_in=placement)
    thinking = {"type": "thinking", "thinking": "", "signature": ""}
    base.insert(
        1, ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": thinking})
    )
    base.insert(2, ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                            "delta": {"type": "thinking_delta", "thinking": "hmm"}}))  # fmt: skip
    events: list[tuple[str, Any]] = draw(st.lists(st.sampled_from(base), max_size=len(base) + 6))
    noise = unknown_events | st.sampled_from(MALFORMED)
    for position, event in draw(st.lists(st.tuples(st.integers(0, 40), noise), max_size=4)):
        events.insert(min(position, len(events)), event)
    deltas = [
        data["delta"]["text"]
        for _, data in events
        if data.get("type") == "content_block_delta"
        and isinstance(data.get("delta"), dict)
        and data["delta"].get("type") == "text_delta"
        and data["delta"].get("text")
    ]
    return events, deltas


@settings(max_examples=300, deadline=None)
@given(shuffled_streams())
def test_the_assembler_takes_any_sequence_and_its_text_is_the_deltas(
    stream: tuple[list[tuple[str, Any]], list[str]],
) -> None:
    events, deltas = stream
    assembler = MessageAssembler()
    printed = []
    for name, data in events:
        text = assembler.feed(name, data)
        assert text is None or (isinstance(text, str) and text)
        if text:
            printed.append(text)
        assembler.take_new_blocks()
    message = assembler.message()
    json.dumps(message)  # plain JSON, whatever arrived
    assert (message["type"], message["role"]) == ("message", "assistant")
    assert "".join(printed) == "".join(deltas) == text_of(message)
    assert assembler.stopped == any(name == "message_stop" for name, _ in events)
    if any(data.get("metadata") == FAILOVER_METADATA for _, data in events):
        assert message["metadata"]["generation_id"] == FAILOVER_METADATA["generation_id"]


@st.composite
def wire_streams(draw: st.DrawFn) -> bytes:
    """The bytes of a stream: shuffled events as above, and some whose data is not JSON or not an object."""
    events, _ = draw(shuffled_streams())
    parts = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
    for position, raw in draw(st.lists(st.tuples(st.integers(0, 40), st.binary(max_size=12)), max_size=3)):
        parts.insert(min(position, len(parts)), b"event: x\ndata: " + raw.replace(b"\n", b" ") + b"\n\n")
    return b"".join(parts)


@settings(max_examples=200, deadline=None)
@given(wire_streams(), st.integers(min_value=1, max_value=64))
def test_reading_any_stream_gives_the_message_or_one_of_our_errors(body: bytes, size: int) -> None:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    exchange = stub_exchange(StubResponse(body=chunks), retries=0)
    events = list(exchange.events())
    printed = "".join(event.text for event in events if isinstance(event, TextDelta))
    finished = events[-1]
    assert isinstance(finished, Finished)
    result = finished.result
    if result.error is not None:
        assert isinstance(result.error, CliError)
        assert len(result.error.message.splitlines()) == 1
    else:
        assert result.complete
    assert printed == text_of(result.message or {})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=50), max_size=10))
def test_the_event_decoder_takes_any_bytes_the_same_however_they_are_cut(
    body: bytes, cuts: list[int]
) -> None:
    whole = list(sse_events([body]))
    chunks, position = [], 0
    for size in cuts:
        chunks.append(body[position : position + size])
        position += size
    chunks.append(body[position:])
    assert list(sse_events(chunks)) == whole
    for name, data in whole:
        assert isinstance(name, str)
        assert isinstance(data, bytes)
    SSEDecoder().flush()


# -- errors: whatever the body, one line ---------------------------------------------------------------------


@given(
    st.integers(min_value=300, max_value=599),
    st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(["application/json", "text/html", "text/plain", ""]),
)
def test_any_error_body_becomes_one_line_of_the_right_class(
    status: int, body: bytes, content_type: str
) -> None:
    failure = status_failure(status, {"content-type": content_type}, body, base_url="http://h").error()
    assert len(failure.message.splitlines()) == 1
    assert failure.hint is not None
    assert len(failure.hint.splitlines()) == 1
    assert failure.details.status == status
    expected = 3 if status in (401, 403) else 4 if 400 <= status < 500 and status not in (408, 429) else 5
    assert failure.status == expected


@given(
    st.dictionaries(st.sampled_from(["type", "message", "code", "status"]) | st.text(max_size=5), json_values)
)
def test_any_error_event_becomes_one_line(error: dict[str, Any]) -> None:
    failure = event_failure(error, request_id=None, base_url="http://h")
    assert len(failure.error().message.splitlines()) == 1
    assert isinstance(failure.retryable, bool)


# -- records from any JSON: what `inspect FILE` and `history` render ----------------------------------------

record_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "created_at": st.sampled_from(["2026-11-25T09:42:14.123Z", "yesterday", ""]) | json_values,
        "request": st.fixed_dictionaries({}, optional={"model": odd_text | json_values, "messages": json_values}),
        "response": st.fixed_dictionaries(
            {},
            optional={
                "model": odd_text,
                "content": st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": odd_text}) | json_values,
                                    max_size=3),
                "usage": json_values,
                "metadata": json_values | st.just(FAILOVER_METADATA),
            },
        ) | json_values,
        "error": st.fixed_dictionaries({}, optional={"status": json_values, "message": odd_text}) | json_values,
        "timings": st.fixed_dictionaries({}, optional={"ttft_ms": json_values, "total_ms": json_values}),
        "exit_status": json_values,
        "partial": json_values,
        "cost": st.fixed_dictionaries({}, optional={
            "usd": json_values, "input_usd": json_values, "model": odd_text | json_values,
            "priced_at": odd_text, "usd_per_input_token": json_values,
        }) | json_values,
    },
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(record_like)
def test_any_record_renders_without_raising_and_without_raw_controls(data: dict[str, Any]) -> None:
    record = Record.from_json(data)
    rows = (*history_row(record, "0123"), *history_row(record, "0123", plain=True))
    for text in (timeline_text(record), summary_line(record, 40), *rows):
        assert not CONTROL & set(text)
    assert len(summary_line(record).splitlines()) <= 1
    from rich.console import Console

    out = io.StringIO()
    print_timeline(record, Console(file=out, width=60, force_terminal=True), plain=False)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
        max_leaves=12,
    )
)
def test_json_output_keeps_the_value_and_nothing_a_terminal_or_encoder_trips_on(value: Any) -> None:
    text = json_text(value)
    text.encode("utf-8")  # no lone surrogate left raw
    assert not CONTROL & set(text)
    assert json.loads(text) == value


# -- prompts from any bytes ------------------------------------------------------------------------------------


@given(data=st.binary(max_size=200), args=st.lists(st.text(max_size=10), max_size=3))
def test_stdin_material_comes_first_unchanged_but_for_its_trailing_newlines(
    data: bytes, args: list[str]
) -> None:
    try:
        material = decode_stdin(data)
    except UsageError:
        return
    try:
        prompt = assemble_prompt(args, material)
    except UsageError:
        assert not material.strip()
        return
    kept = material.rstrip("\r\n")
    if kept.strip():
        assert prompt.startswith(kept)
        question = " ".join(args) if args != ["-"] else ""
        assert prompt == (f"{kept}\n\n{question}" if question.strip() else kept)


# -- credentials.toml edited by hand ---------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=3)
)
credentials_documents = st.fixed_dictionaries(
    {},
    optional={
        "profiles": scalars
        | st.dictionaries(
            st.sampled_from(["default", "work"]),
            scalars | st.dictionaries(st.sampled_from(["api_key", "other"]), scalars, max_size=2),
            max_size=2,
        ),
        "api_key": scalars,
    },
)


def paths_with_credentials(tmp: str, data: bytes) -> Paths:
    paths = Paths(Path(tmp) / "c", Path(tmp) / "s", Path(tmp) / "k")
    paths.config_dir.mkdir()
    paths.credentials_file.write_bytes(data)
    paths.credentials_file.chmod(0o600)
    return paths


def resolve_credentials(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = paths_with_credentials(tmp, data)
        message = None
        try:
            resolved = resolve(Overrides(), {}, paths)
        except UsageError as exc:
            message = exc.message
        if message is not None:
            assert str(paths.credentials_file) in message
            assert "\n" not in message
        else:
            assert resolved.api_key.value is None or resolved.api_key.value.strip()


@settings(max_examples=200, deadline=None)
@given(credentials_documents)
def test_any_credentials_document_gives_a_key_none_or_a_usage_error(document: dict[str, Any]) -> None:
    resolve_credentials(tomli_w.dumps(document).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=120))
def test_any_credentials_bytes_give_a_key_none_or_a_usage_error(data: bytes) -> None:
    resolve_credentials(data)


@pytest.mark.parametrize("text", ["profiles = 3\n", 'profiles = "x"\n', "profiles = [1]\n"])
def test_credentials_whose_profiles_are_not_a_table_are_a_usage_error(text: str, tmp_path: Path) -> None:
    paths = paths_with_credentials(str(tmp_path), text.encode())
    with pytest.raises(UsageError, match=r"credentials.toml:1: key 'profiles' must be a table"):
        resolve(Overrides(), {}, paths)
