"""What crosses the worker's socket comes out as it went in: every event, every result (errors of every
class with their hint and details), the request with its key, and lines however the socket cuts them."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from inworld_cli import __version__
from inworld_cli.errors import (
    AuthError,
    CliError,
    ErrorDetails,
    LocalError,
    NetworkFailure,
    RequestRejected,
    RouterFailure,
)
from inworld_cli.router.exchange import (
    BlockStarted,
    Event,
    ExchangeRequest,
    ExchangeResult,
    Finished,
    Metadata,
    RetryNotice,
    TextDelta,
)
from inworld_cli.router.transport import Endpoint
from inworld_cli.worker import protocol
from inworld_cli.worker.protocol import Lines, ProtocolError

ODD_TEXT = "héllo ✓ \ud83d half an emoji\n\ttab \x1b[1m \x00 \u2028"


def errors() -> list[CliError]:
    details = ErrorDetails(529, "overloaded_error", "Overloaded", "req-1")
    return [
        RouterFailure("the router answered 529 overloaded_error: Overloaded", "try again", details=details),
        NetworkFailure("no answer within 0.5 s", "raise --timeout (now 0.5 s)"),
        AuthError("the router answered 401", None, details=ErrorDetails(status=401)),
        RequestRejected("400", "check the request"),
        LocalError("cannot load the Anthropic SDK", "reinstall"),
    ]


EVENTS: list[Event] = [
    TextDelta("plain"),
    TextDelta(ODD_TEXT),
    TextDelta(""),
    BlockStarted("thinking"),
    Metadata({"attempts": [{"model": "a/b", "success": True, "ttft": None}], "reasoning": ODD_TEXT}),
    RetryNotice(0.5, "529 overloaded_error", 1, 2),
    Finished(ExchangeResult(None, False)),
    Finished(
        ExchangeResult(
            {"content": [{"type": "text", "text": ODD_TEXT}], "metadata": {"x": 1}},
            True,
            request_id="req-1",
            ttft_ms=12.5,
            total_ms=40.0,
            tries=3,
        )
    ),
    Finished(ExchangeResult({"content": []}, False, interrupted=True, total_ms=3.0, tries=1)),
    *(Finished(ExchangeResult(None, False, error=error, tries=3)) for error in errors()),
]


def error_value(error: CliError | None) -> tuple[Any, ...] | None:
    return None if error is None else (type(error), error.message, error.hint, error.details)


def same(a: Event, b: Event) -> bool:
    """Events compare by value; errors (exceptions) by class, message, hint and details."""
    if isinstance(a, Finished) and isinstance(b, Finished):
        return error_value(a.result.error) == error_value(b.result.error) and dataclasses.replace(
            a.result, error=None
        ) == dataclasses.replace(b.result, error=None)
    return a == b


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips_in_one_line(event: Event) -> None:
    line = protocol.event_line(event)
    assert line.endswith(b"\n")
    assert b"\n" not in line[:-1]
    back = protocol.event_of(line[:-1])
    assert same(back, event)
    if isinstance(event, Finished) and isinstance(back, Finished) and event.result.error is not None:
        assert back.result.error is not None
        assert back.result.error.status == event.result.error.status  # the exit status


def decoded(data: bytes) -> list[Event]:
    return [protocol.event_of(raw) for raw in data.split(b"\n")[:-1]]


def test_consecutive_text_deltas_travel_as_one_and_the_rest_as_they_are() -> None:
    events: list[Event] = [
        TextDelta("a"),
        TextDelta("b"),
        Metadata({"m": 1}),
        TextDelta("c"),
        BlockStarted("x"),
    ]
    assert decoded(protocol.events_data(events)) == [
        TextDelta("ab"),
        Metadata({"m": 1}),
        TextDelta("c"),
        BlockStarted("x"),
    ]


def test_the_halves_of_an_emoji_stay_halves() -> None:
    """Sent apart by the router, the two halves of a surrogate pair are two lone surrogates in-process (each
    printed as '?'); joined on the way they must not become the emoji."""
    halves: list[Event] = [TextDelta("\ud83d"), TextDelta("\ude00")]
    [joined] = decoded(protocol.events_data(halves))
    assert joined == TextDelta("\ud83d\ude00")
    assert len(joined.text) == 2  # not "😀", one character
    message = {"content": [{"type": "text", "text": "\ud83d\ude00"}]}
    [finished] = decoded(protocol.event_line(Finished(ExchangeResult(message, True))))
    assert isinstance(finished, Finished)
    assert finished.result.message == message


def test_the_request_carries_everything_resolved_and_only_proxy_names() -> None:
    endpoint = Endpoint(
        "http://127.0.0.1:9", "iw-KEY", 0.5, connect_timeout=2.0, anthropic_version="2099-01-01"
    )
    request = ExchangeRequest(
        endpoint, {"model": "auto", "messages": [{"role": "user", "content": ODD_TEXT}]}, 5
    )
    line = protocol.request_line(request, ["HTTPS_PROXY"])
    assert b"127.0.0.1:9" in line  # the URL, but never a proxy's value (it is not sent)
    back, hints = protocol.request_of(protocol.parse(line[:-1]))
    assert back == request
    assert hints == {"HTTPS_PROXY": "set"}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"op": "nonsense"}',
        b'{"op": "retry"}',
        b"[1, 2]",
        b'{"op": "finished", "result": {}}',
        b"\xff",
        b'"unterminated',
        b'"two" "strings"',
        b'"\xff"',
    ],
)
def test_a_malformed_line_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        protocol.event_of(raw)


@pytest.mark.parametrize(
    "data", [{}, {"endpoint": {"base_url": "x"}}, {"endpoint": None, "body": {}, "retries": 1}]
)
def test_a_malformed_request_is_a_protocol_error(data: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        protocol.request_of(data)


class Chunks:
    """A socket whose `recv` returns these pieces, then the end."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    def recv(self, size: int) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


def read_all(lines: Lines) -> list[bytes]:
    found = []
    while (line := lines.next()) is not None:
        found.append(line)
    return found


def test_lines_come_out_whole_however_the_socket_cuts_them() -> None:
    big = b"x" * 1_000_000
    chunks = [
        b"one\ntw",
        b"o",
        b"\n",
        b"\nthree\n" + big[:10],
        *(big[i : i + 4096] for i in range(10, len(big), 4096)),
    ]
    assert read_all(Lines(Chunks(*chunks, b"\nlast\n", b"cut"))) == [
        b"one",
        b"two",
        b"",
        b"three",
        big,
        b"last",
    ]


def test_the_build_changes_with_any_module_and_not_otherwise(tmp_path: Path) -> None:
    package = tmp_path / "inworld_cli"
    shutil.copytree(protocol.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    first = protocol.build_id(package)
    assert first == protocol.build_id(package)
    assert first.startswith(__version__ + "+")
    module = package / "worker" / "client.py"
    module.write_text(module.read_text() + "\n")
    assert protocol.build_id(package) != first
