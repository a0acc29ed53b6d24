"""What crosses the worker's socket: one JSON value per line (JSON escapes every newline inside it), in
UTF-8 that lets lone surrogates through (`surrogatepass`): half an emoji, as a broken stream may send, arrives
as the same lone half, never joined with its neighbour into a character the in-process `ask` would not have
printed.

A connection carries one conversation, opened by the client with one of:

- `{"op": "status"}`: the worker answers with what it is (`info`), and nothing else happens;
- `{"op": "stop"}`: the worker answers `{"op": "stopping", ...info}` and exits once its requests are done;
- `{"op": "hello", "build": B}`: the worker answers with its `info`. A worker of another build then exits
  (a client never uses it). Otherwise the client sends one `{"op": "exchange", ...}`, the worker answers
  `{"op": "ready"}` and waits for `{"op": "go"}` before it sends anything to the router; then come the
  exchange's events, one per line, the last one `{"op": "finished", ...}`. A text delta is a bare JSON
  string (the stream's hot path); every other event an object with its `op`.

The two steps before sending (ready, then go) are what make a fallback safe: a client that got no `ready`
in time closes the connection and sends the request itself, and a worker that got no `go` sends nothing.
After `go`, the request is the worker's: if the worker dies, the client reports it and never sends again.
The client cancels by closing its side for writing (a client that dies does the same).
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from collections import deque
from json import decoder as json_decoder
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from inworld_cli import __version__
from inworld_cli.errors import ERROR_CLASSES, CliError, ErrorDetails
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

# A live worker answers a hello at once; one that has not answered within this, and is not using the CPU
# either, is treated as absent (a busy one is waited for longer: see `Connection.receive_within`).
ANSWER_WITHIN = 1.0
# One that has just answered takes a request as fast, but a busy machine may delay it: waiting longer here
# costs only when a worker dies between the two, which is rare, and a fallback costs the SDK's import.
TAKEN_WITHIN = 5.0

_decode = json.JSONDecoder().decode
_scanstring = json_decoder.scanstring  # type: ignore[attr-defined]  # the C scanner, not in the stubs


class ProtocolError(Exception):
    """A line that is not what the other end should have sent."""


PACKAGE = Path(__file__).resolve().parents[1]


def build_id(package: Path = PACKAGE) -> str:
    """This installation's identity: the version, the environment (`sys.prefix`, however the interpreter
    was named) and Python, and every module's path, size and time.

    A worker serves clients of its own build only: a reinstall (or an edited source tree) with the same
    version number must not leave an older worker running the older code.
    """
    parts = [sys.prefix, sys.version]
    for directory, subdirectories, files in os.walk(package):
        subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(directory, name))
                parts.append(f"{directory}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return f"{__version__}+{zlib.crc32(chr(0).join(parts).encode('utf-8', 'surrogateescape')):08x}"


def line(data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def parse(raw: bytes) -> Any:
    try:
        return _decode(raw.decode("utf-8", "surrogatepass"))
    except ValueError as exc:
        raise ProtocolError(f"not a JSON line: {raw[:80]!r}") from exc


class Lines:
    """The lines arriving on a socket, read in large pieces (a 10 MB request line costs one pass). A timeout
    or an interrupt while waiting loses nothing already received."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._pieces: list[bytes] = []  # of a line not yet complete
        self._lines: deque[bytes] = deque()

    def next(self) -> bytes | None:
        """The next line without its newline; None once the other end has closed (a cut line is dropped)."""
        while not self._lines:
            chunk = self._sock.recv(262144)
            if not chunk:
                return None
            if b"\n" not in chunk:
                self._pieces.append(chunk)
                continue
            complete = chunk.split(b"\n")
            rest = complete.pop()
            if self._pieces:
                complete[0] = b"".join(self._pieces) + complete[0]
            self._pieces = [rest] if rest else []
            self._lines.extend(complete)
        return self._lines.popleft()


# -- the request -----------------------------------------------------------------------------------------


def request_line(request: ExchangeRequest, proxy_variables: list[str]) -> bytes:
    """The resolved request, key included: the worker reads nothing of its own. `proxy_variables`: the
    names (not the values) of the client's proxy variables, for the hint when the router is unreachable."""
    endpoint = request.endpoint
    return line(
        {
            "op": "exchange",
            "endpoint": {
                "base_url": endpoint.base_url,
                "key": endpoint.key,
                "timeout": endpoint.timeout,
                "connect_timeout": endpoint.connect_timeout,
                "anthropic_version": endpoint.anthropic_version,
            },
            "body": request.body,
            "retries": request.retries,
            "proxy_variables": proxy_variables,
        }
    )


def request_of(data: Any) -> tuple[ExchangeRequest, dict[str, str]]:
    """The request and the environment the exchange may consult for hints; ProtocolError if malformed."""
    try:
        endpoint = data["endpoint"]
        request = ExchangeRequest(
            Endpoint(
                str(endpoint["base_url"]),
                str(endpoint["key"]),
                float(endpoint["timeout"]),
                float(endpoint["connect_timeout"]),
                str(endpoint["anthropic_version"]),
            ),
            dict(data["body"]),
            int(data["retries"]),
        )
        hints = {str(name): "set" for name in data.get("proxy_variables", [])}
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"a malformed request: {exc!r}") from exc
    return request, hints


# -- events ----------------------------------------------------------------------------------------------


def events_data(events: list[Event]) -> bytes:
    """Events as lines, consecutive text deltas as one (the same text: what piled up while the client was
    reading is sent, and decoded, at once)."""
    data: list[bytes] = []
    texts: list[str] = []
    for event in events:
        if type(event) is TextDelta:
            texts.append(event.text)
            continue
        if texts:
            data.append(_text_line("".join(texts)))
            texts = []
        data.append(event_line(event))
    if texts:
        data.append(_text_line("".join(texts)))
    return b"".join(data)


def _text_line(text: str) -> bytes:
    return (encode_basestring(text) + "\n").encode("utf-8", "surrogatepass")


def event_line(event: Event) -> bytes:
    if type(event) is TextDelta:
        return _text_line(event.text)
    if isinstance(event, BlockStarted):
        return line({"op": "block", "type": event.block_type})
    if isinstance(event, Metadata):
        return line({"op": "metadata", "metadata": event.metadata})
    if isinstance(event, RetryNotice):
        notice = {
            "delay": event.delay,
            "reason": event.reason,
            "retry": event.retry,
            "retries": event.retries,
        }
        return line({"op": "retry", **notice})
    if isinstance(event, Finished):
        return line({"op": "finished", "result": result_json(event.result)})
    raise TypeError(f"not an event: {event!r}")


def event_of(raw: bytes) -> Event:
    if raw[:1] == b'"':  # a text delta: the stream's hot path, decoded without the full JSON parser
        try:
            string = raw.decode("utf-8", "surrogatepass")
            text, end = _scanstring(string, 1)
        except ValueError as exc:
            raise ProtocolError(f"not a JSON string: {raw[:80]!r}") from exc
        if end != len(string):
            raise ProtocolError(f"more than a JSON string: {raw[:80]!r}")
        return TextDelta(text)
    data = parse(raw)
    try:
        op = data["op"]
        if op == "block":
            return BlockStarted(str(data["type"]))
        if op == "metadata":
            return Metadata(dict(data["metadata"]))
        if op == "retry":
            return RetryNotice(
                float(data["delay"]), str(data["reason"]), int(data["retry"]), int(data["retries"])
            )
        if op == "finished":
            return Finished(result_of(data["result"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"a malformed event: {exc!r}") from exc
    raise ProtocolError(f"an unknown event: {raw[:80]!r}")


def result_json(result: ExchangeResult) -> dict[str, Any]:
    error = result.error
    return {
        "message": result.message,
        "complete": result.complete,
        "error": None
        if error is None
        else {
            "class": type(error).__name__,
            "message": error.message,
            "hint": error.hint,
            "details": error.details.to_json(),
        },
        "interrupted": result.interrupted,
        "request_id": result.request_id,
        "ttft_ms": result.ttft_ms,
        "total_ms": result.total_ms,
        "tries": result.tries,
    }


def result_of(data: dict[str, Any]) -> ExchangeResult:
    error: CliError | None = None
    if data["error"] is not None:
        found = data["error"]
        kind = ERROR_CLASSES.get(found["class"], CliError)
        error = kind(found["message"], found["hint"], details=ErrorDetails(**found["details"]))
    return ExchangeResult(
        message=data["message"],
        complete=bool(data["complete"]),
        error=error,
        interrupted=bool(data["interrupted"]),
        request_id=data["request_id"],
        ttft_ms=data["ttft_ms"],
        total_ms=float(data["total_ms"]),
        tries=int(data["tries"]),
    )
