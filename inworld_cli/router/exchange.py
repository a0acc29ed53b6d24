"""One exchange with the router: a request goes in, typed events come out, one result on every exit path.

`Exchange.events()` sends the request (retrying on its own terms: the SDK's retries obey any retry-after,
even an hour), reads the answer as it arrives (raw server-sent events decoded and folded by `sse`, so the
router's `metadata` is kept from wherever it comes and no pydantic model is built per delta) and yields
`TextDelta`, `BlockStarted`, `Metadata` and `RetryNotice` events, then `Finished` with the result: the
message (or what arrived of it), the error, the client's timings and the number of tries.

An exchange holds all of its own state, so many run at once in one process (one thread each: the SDK's
client is synchronous and thread-safe, and every consumer of the events, the terminal writer included, is
synchronous too). `cancel()` stops one from another thread at once; Ctrl-C in the consuming thread
propagates, and `result_so_far()` then says what arrived. Exchanges that run together may share a `Gate`
(a batch's pacing): it says when each request may go out, and is told when the router rate-limits one, so
that all of them wait instead of each retrying on its own.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from inworld_cli.core.record import text_of
from inworld_cli.errors import CliError, LocalError
from inworld_cli.router.failures import (
    ERROR_TYPE_STATUS,
    Failure,
    RouterFailure,
    broken_failure,
    event_failure,
    failure,
    network_failure,
    network_hint,
    one_line,
    parse_error_body,
    parse_json_error,
    request_id_of,
    retry_delay,
    status_failure,
)
from inworld_cli.router.sse import MessageAssembler, non_text_block_types, sse_events
from inworld_cli.router.transport import (
    Broken,
    ConnectTimeout,
    Endpoint,
    Response,
    SdkUnavailable,
    TimedOut,
    Transport,
    Unreachable,
)

# json.loads without its per-call setup: the stream decodes one JSON object per delta.
_json_decode = json.JSONDecoder().decode


class Clock(Protocol):
    """Time as an exchange needs it; tests hand in one that does not wait."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds`, or until `event` is set: True when it was."""
        ...


class Gate(Protocol):
    """What exchanges running together share: when a request may go out, and one wait for all of them when
    the router says there were too many."""

    def admit(self, cancelled: threading.Event, *, retry: bool = False) -> bool:
        """Block until a request may be sent (a `retry` before new requests); True when `cancelled` was
        set meanwhile."""
        ...

    def hold(self, seconds: float) -> None:
        """The router rate-limited a request: no exchange of this gate sends for `seconds`."""
        ...


@dataclass(frozen=True)
class ExchangeRequest:
    """Everything one exchange needs, resolved: nothing in here reads a setting or the environment."""

    endpoint: Endpoint
    body: dict[str, Any]  # the JSON body, "stream" included
    retries: int = 2

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


# -- events --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class BlockStarted:
    """A content block that is not text (thinking, tool use) began."""

    block_type: str


@dataclass(frozen=True)
class Metadata:
    """The router's routing metadata, merged from everything received so far."""

    metadata: dict[str, Any]


@dataclass(frozen=True)
class RetryNotice:
    delay: float
    reason: str
    retry: int  # 1 for the first retry
    retries: int
    shared: bool = False  # a rate limit: every exchange of the gate waits, not this one alone

    @property
    def text(self) -> str:
        if self.shared:
            return (
                f"rate limited ({self.reason}): every request waits {self.delay:.1f} s "
                f"(retry {self.retry} of {self.retries})"
            )
        return f"retrying in {self.delay:.1f} s after {self.reason} (retry {self.retry} of {self.retries})"


@dataclass
class ExchangeResult:
    """Everything known when an exchange ended, however it ended."""

    message: dict[str, Any] | None  # the whole answer, or what arrived before the end (None: nothing)
    complete: bool  # the answer arrived whole (even if the consumer stopped reading before showing it)
    error: CliError | None = None
    interrupted: bool = False
    request_id: str | None = None
    ttft_ms: float | None = None  # from sending the request (of the try that answered) to the first text
    total_ms: float = 0.0  # from sending the first request to the end, retries included
    tries: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.interrupted and self.complete


@dataclass(frozen=True)
class Finished:
    result: ExchangeResult


Event = TextDelta | BlockStarted | Metadata | RetryNotice | Finished


class ExchangeLike(Protocol):
    """What the commands use of an exchange: the in-process `Exchange`, or one the warm worker runs
    (`worker/client.py`), which the commands cannot tell apart."""

    request: ExchangeRequest

    def events(self) -> Generator[Event, None, None]: ...

    def cancel(self) -> None: ...

    def result_so_far(self, *, interrupted: bool = False) -> ExchangeResult: ...


# -- the exchange ----------------------------------------------------------------------------------------


class _AttemptFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.what)
        self.failure = failure


class _Cancelled(Exception):
    pass


@dataclass
class _Attempt:
    """What one HTTP request has received so far."""

    sent: float
    request_id: str | None = None
    assembler: MessageAssembler | None = None
    whole: dict[str, Any] | None = None  # a non-streamed answer, once read

    def message(self) -> dict[str, Any] | None:
        if self.whole is not None:
            return self.whole
        if self.assembler is not None and self.assembler.events:
            return self.assembler.message()
        return None


@dataclass
class Exchange:
    request: ExchangeRequest
    transport: Transport
    clock: Clock
    env: Mapping[str, str] = field(default_factory=dict)  # for hints (a proxy variable that is set)
    jitter: Callable[[], float] = random.random  # in [0, 1): how much shorter this wait is than the base
    gate: Gate | None = None  # shared with the exchanges that run alongside (a batch), if any
    _cancelled: threading.Event = field(default_factory=threading.Event, init=False)
    _response: Response | None = field(default=None, init=False)
    _attempt: _Attempt | None = field(default=None, init=False)
    _started: float = field(default=0.0, init=False)
    _tries: int = field(default=0, init=False)
    _ttft_ms: float | None = field(default=None, init=False)
    _text_shown: bool = field(default=False, init=False)
    _complete: bool = field(default=False, init=False)

    # -- the consumer's side ---------------------------------------------------------------------------

    def events(self) -> Generator[Event, None, None]:
        """The events of this exchange, ending with `Finished`; KeyboardInterrupt propagates."""
        content = json.dumps(self.request.body, ensure_ascii=False).encode("utf-8")
        error: CliError | None = None
        self._started = self.clock.monotonic()
        try:
            self._prepare()
            self._started = self.clock.monotonic()  # the first request goes out right after
            yield from self._tries_until_done(content)
        except _AttemptFailed as final:
            error = final.failure.masked(self.request.endpoint.key).error(self._tries)
        except _Cancelled:
            yield Finished(self.result_so_far(interrupted=True))
            return
        finally:
            self._close_response()
        yield Finished(self._result(error))

    def cancel(self) -> None:
        """Stop at once, from any thread: the answer being read is dropped, a wait is cut short."""
        self._cancelled.set()
        self._close_response()

    def reading_answer(self) -> bool:
        """Whether an answer is being read now. When not, nothing is being added to what arrived (after a
        cancel, nothing ever will be), so `result_so_far` may be taken from another thread."""
        return self._response is not None

    def result_so_far(self, *, interrupted: bool = False) -> ExchangeResult:
        """What is known now: for a consumer that stopped early (Ctrl-C, stdout closed)."""
        result = self._result(None)
        result.interrupted = interrupted
        return result

    def _result(self, error: CliError | None) -> ExchangeResult:
        attempt = self._attempt
        return ExchangeResult(
            message=attempt.message() if attempt is not None else None,
            complete=self._complete,
            error=error,
            request_id=attempt.request_id if attempt is not None else None,
            ttft_ms=self._ttft_ms,
            total_ms=(self.clock.monotonic() - self._started) * 1000,
            tries=self._tries,
        )

    # -- tries -----------------------------------------------------------------------------------------

    def _tries_until_done(self, content: bytes) -> Iterator[Event]:
        retries = max(0, self.request.retries)
        while True:
            self._tries += 1
            try:
                yield from self._send(content)
                return
            except _AttemptFailed as failed:
                if self._cancelled.is_set():
                    raise _Cancelled from None
                reason = failed.failure.reason
                if not failed.failure.retryable or self._tries > retries or self._text_shown or not reason:
                    raise
                delay = retry_delay(self._tries, retry_after=failed.failure.retry_after, jitter=self.jitter())
                shared = self.gate is not None and failed.failure.rate_limited
                yield RetryNotice(delay, reason, self._tries, retries, shared)
                if self.gate is not None and shared:
                    self.gate.hold(delay)  # this exchange waits too, at its next admission
                elif self.clock.wait(self._cancelled, delay):
                    raise _Cancelled from None

    def _prepare(self) -> None:
        try:
            self.transport.prepare(self.request.endpoint)
        except SdkUnavailable as exc:
            hint = "reinstall: pip install --force-reinstall inworld-cli"
            raise _AttemptFailed(failure(LocalError, f"cannot load the Anthropic SDK: {exc}", hint)) from exc

    def _close_response(self) -> None:
        response = self._response
        if response is not None:
            response.close()

    # -- one HTTP request ------------------------------------------------------------------------------

    def _send(self, content: bytes) -> Iterator[Event]:
        endpoint = self.request.endpoint
        if self._cancelled.is_set():
            raise _Cancelled
        if self.gate is not None:
            if self.gate.admit(self._cancelled, retry=self._tries > 1):
                raise _Cancelled
            if self._tries == 1:  # the time waited for a first turn is not the request's
                self._started = self.clock.monotonic()
        self._attempt = attempt = _Attempt(sent=self.clock.monotonic())
        try:
            self._response = response = self.transport.post_messages(endpoint, content)
        except ConnectTimeout as exc:
            what = f"cannot connect to {endpoint.url} within {endpoint.connect_timeout:g} s"
            raise _AttemptFailed(self._network(what, reason="a connection timeout")) from exc
        except Unreachable as exc:
            what = f"cannot connect to {endpoint.url}: {exc.reason}"
            raise _AttemptFailed(self._network(what, reason=exc.reason)) from exc
        except TimedOut as exc:
            raise _AttemptFailed(
                self._timeout(f"no answer from the router within {endpoint.timeout:g} s")
            ) from exc
        except Broken as exc:
            what = f"the connection to {endpoint.url} failed: {exc.reason}"
            raise _AttemptFailed(self._network(what)) from exc
        try:
            if self._cancelled.is_set():  # cancelled while the router had not answered: none of it is read
                raise _Cancelled
            attempt.request_id = request_id_of(response.headers)
            if not 200 <= response.status < 300:
                raise _AttemptFailed(self._status_failure(response))
            if "event-stream" in response.headers.get("content-type", "").lower():
                yield from self._read_stream(response.chunks(), attempt)
            else:
                yield from self._read_whole(response, attempt)
        finally:
            self._response = None
            response.close()

    def _status_failure(self, response: Response) -> Failure:
        try:
            body = response.read()
        except TimedOut:
            return self._timeout(f"no answer from the router within {self.request.endpoint.timeout:g} s")
        except Broken as exc:
            return self._network(f"the connection to {self.request.endpoint.url} failed: {exc.reason}")
        return status_failure(
            response.status, response.headers, body, base_url=self.request.endpoint.url, now=self.clock.time()
        )

    def _network(self, what: str, *, reason: str | None = None) -> Failure:
        return network_failure(what, network_hint(self.request.endpoint.url, self.env), reason=reason)

    def _timeout(self, what: str, request_id: str | None = None) -> Failure:
        hint = f"raise --timeout (now {self.request.endpoint.timeout:g} s)"
        return network_failure(what, hint, request_id=request_id)

    def _first_text(self, attempt: _Attempt) -> None:
        if not self._text_shown:
            self._ttft_ms = (self.clock.monotonic() - attempt.sent) * 1000
            self._text_shown = True

    # -- reading the answer ----------------------------------------------------------------------------

    def _read_stream(self, chunks: Iterable[bytes], attempt: _Attempt) -> Iterator[Event]:
        assembler = attempt.assembler = MessageAssembler()
        feed = assembler.feed
        request_id = attempt.request_id
        try:
            for name, raw in sse_events(chunks):
                try:
                    data = _json_decode(raw.decode("utf-8"))
                except ValueError:
                    data = None
                if type(data) is not dict:
                    self._malformed_event(assembler, name, raw, request_id)
                    continue
                text = feed(name, data)
                if text is not None:
                    self._first_text(attempt)
                    yield TextDelta(text)
                    continue
                for block_type in assembler.take_new_blocks():
                    yield BlockStarted(block_type)
                metadata = assembler.take_metadata()
                if metadata is not None:
                    yield Metadata(metadata)
                if assembler.error is not None:
                    failed = event_failure(
                        assembler.error, request_id=request_id, base_url=self.request.endpoint.url
                    )
                    raise _AttemptFailed(failed)
        except TimedOut as exc:
            if self._cancelled.is_set():
                raise _Cancelled from None
            what = "the stream stalled" if assembler.events else "the stream stalled before its first event"
            raise _AttemptFailed(
                self._timeout(f"{what}: nothing arrived for {self.request.endpoint.timeout:g} s", request_id)
            ) from exc
        except Broken as exc:
            if self._cancelled.is_set():
                raise _Cancelled from None
            raise _AttemptFailed(
                broken_failure(f"the connection broke mid-stream: {exc.reason}", request_id)
            ) from exc
        if self._cancelled.is_set():
            raise _Cancelled
        if not assembler.stopped:
            raise _AttemptFailed(broken_failure("the stream ended before message_stop", request_id))
        self._complete = True

    def _malformed_event(
        self, assembler: MessageAssembler, name: str, raw: bytes, request_id: str | None
    ) -> None:
        if assembler.stopped:  # trailing noise after the message (e.g. "data: [DONE]")
            return
        excerpt = one_line(raw.decode("utf-8", "replace"), 120)
        raise _AttemptFailed(
            failure(
                RouterFailure,
                f"the router sent a malformed '{name}' event: {excerpt}",
                self._base_url_hint(),
                request_id=request_id,
            )
        )

    def _base_url_hint(self) -> str:
        return f"check --base-url ({self.request.endpoint.url}): it should point at the Inworld Router"

    def _read_whole(self, response: Response, attempt: _Attempt) -> Iterator[Event]:
        """A whole body: the JSON message (asked for, or a proxy's answer to a stream request), or SSE
        sent without its content type, or something that is no answer at all."""
        body = self._read_body(response, attempt)
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            data = None
        if isinstance(data, dict) and ("content" in data or data.get("type") == "message"):
            attempt.whole = data
            self._complete = True
            for block_type in non_text_block_types(data):
                yield BlockStarted(block_type)
            if isinstance(data.get("metadata"), dict):
                yield Metadata(dict(data["metadata"]))
            self._ttft_ms = (self.clock.monotonic() - attempt.sent) * 1000
            text = text_of(data)
            if text:
                self._text_shown = True
                yield TextDelta(text)
            return
        if data is None and body.lstrip().startswith((b"event:", b"data:", b":")):
            yield from self._read_stream([body], attempt)
            return
        raise _AttemptFailed(self._not_a_message(response, body, data, attempt.request_id))

    def _read_body(self, response: Response, attempt: _Attempt) -> bytes:
        """The whole body, within the timeout from sending the request."""
        timeout = self.request.endpoint.timeout
        deadline = attempt.sent + timeout
        late = f"the answer did not arrive within {timeout:g} s"
        parts = []
        try:
            for chunk in response.chunks():
                parts.append(chunk)
                if self.clock.monotonic() > deadline:
                    raise _AttemptFailed(self._timeout(late, attempt.request_id))
        except TimedOut as exc:
            if self._cancelled.is_set():
                raise _Cancelled from None
            raise _AttemptFailed(self._timeout(late, attempt.request_id)) from exc
        except Broken as exc:
            if self._cancelled.is_set():
                raise _Cancelled from None
            what = f"the connection broke before the answer was complete: {exc.reason}"
            raise _AttemptFailed(broken_failure(what, attempt.request_id)) from exc
        if self._cancelled.is_set():
            raise _Cancelled
        return b"".join(parts)

    def _not_a_message(
        self, response: Response, body: bytes, data: object, request_id: str | None
    ) -> Failure:
        status = response.status
        error = parse_json_error(data)
        if error is not None:
            # An error in a success status: judged by its type, as an `error` event would be.
            if error.type in ERROR_TYPE_STATUS:
                return event_failure(
                    {"type": error.type, "message": error.message},
                    request_id=request_id,
                    base_url=self.request.endpoint.url,
                )
            what = f"an error: {error.type}: {error.message}" if error.type else f"an error: {error.message}"
            return failure(
                RouterFailure,
                f"the router answered {status} with {what}",
                self._base_url_hint(),
                status=status,
                error_type=error.type,
                detail=error.message,
                request_id=request_id,
            )
        parsed = parse_error_body(body, response.headers.get("content-type"))
        if parsed.html:
            what = (
                "an HTML page" + (f" ({parsed.html_title})" if parsed.html_title else "") + ", not a message"
            )
        elif parsed.empty:
            what = "an empty body, not a message"
        else:
            what = f"something that is not a message: “{one_line(parsed.message or '', 120)}”"
        return failure(
            RouterFailure,
            f"the router answered {status} with {what}",
            self._base_url_hint(),
            status=status,
            request_id=request_id,
        )
