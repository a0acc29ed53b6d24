"""The client side of the warm worker: finding a live one, running an exchange through it, starting one.

Every process that sends imports this, so it imports nothing heavy: no SDK, no HTTP library, and
`subprocess` only when a worker must be started. A `RemoteExchange` has the interface of `Exchange`
(`events()` ending with `Finished`, `cancel()`, `result_so_far()`, `.request`), so the commands do not
know which one they were given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any

from inworld_cli.errors import ErrorDetails, LocalError, NetworkFailure
from inworld_cli.router.exchange import (
    Clock,
    Event,
    Exchange,
    ExchangeLike,
    ExchangeRequest,
    ExchangeResult,
    Finished,
    Metadata,
    TextDelta,
)
from inworld_cli.router.failures import PROXY_VARIABLES
from inworld_cli.store.files import ensure_private_dir
from inworld_cli.worker import protocol, sockets
from inworld_cli.worker.protocol import ANSWER_WITHIN, TAKEN_WITHIN, Lines, ProtocolError
from inworld_cli.worker.sockets import Place

# Between two lines of an exchange the worker may be silent for the router's timeout, a connection
# timeout and a retry's wait (30 s at most): silent for that plus this margin, it is gone.
_SILENCE_MARGIN = 60.0
# A worker that has not answered in time may be hung or only busy (a burst of commands on a loaded
# machine): while it keeps using the CPU it is busy, and waited for up to this in all. Sending the request
# ourselves instead would cost the SDK's import, a busy machine's scarcest thing.
_BUSY_WITHIN = 30.0
# How fast a live worker reads a request: a 10 MB prompt gets 0.2 s more than a short one.
_BYTES_PER_SECOND = 50_000_000
# After a cancel, how long to wait for the worker's account of what had arrived.
_CANCEL_WITHIN = 2.0
# What a worker is started with: enough to run Python, and nothing else of the environment (no key, no
# INWORLD_ or ANTHROPIC_ variable, no proxy).
_KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE")

WORKER_LOST = "the worker sending this request went away before the answer was complete (the request was not sent again)"
WORKER_LOST_HINT = "try again; if it happens again, see: inworld-router worker status"


class Connection:
    """One conversation with the worker (see `protocol`)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lines = Lines(sock)

    @classmethod
    def open(cls, place: Place, opening: dict[str, Any]) -> tuple[Connection, dict[str, Any]] | None:
        """Connect, send `opening`, and the worker's answer; None when no worker answers in time."""
        try:
            sock = sockets.connect(place.socket, ANSWER_WITHIN)
        except OSError:
            return None
        connection = cls(sock)
        try:
            connection.send(protocol.line(opening))
            answer = connection.receive_within(ANSWER_WITHIN)
        except (OSError, ProtocolError):
            answer = None
        if not isinstance(answer, dict):
            connection.close()
            return None
        return connection, answer

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> Any:
        """The next line's value; None at the end."""
        raw = self.lines.next()
        return None if raw is None else protocol.parse(raw)

    def receive_within(self, within: float) -> Any:
        """The next line's value, waited for `within` seconds, and longer while the worker is busy (see
        _BUSY_WITHIN); TimeoutError when it does not come."""
        waited = 0.0
        ticks = sockets.peer_cpu_ticks(self.sock)
        while True:
            self.sock.settimeout(within)
            try:
                return self.receive()
            except TimeoutError:
                waited += within
                before, ticks = ticks, sockets.peer_cpu_ticks(self.sock)
                if before is None or ticks is None or ticks == before or waited >= _BUSY_WITHIN:
                    raise

    def half_close(self) -> None:
        """No more from us: the worker cancels what it is doing for us, and still reports it."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def hello(place: Place, build: str) -> Connection | None:
    """A connection to a live worker of this build, or None: no socket, a stale one, a worker that does
    not answer within ANSWER_WITHIN, or one of another build (which then exits on its own)."""
    opened = Connection.open(place, {"op": "hello", "build": build})
    if opened is None:
        return None
    connection, answer = opened
    if answer.get("op") != "hello" or answer.get("build") != build:
        connection.close()
        return None
    return connection


def status(place: Place) -> dict[str, Any] | None:
    """What the running worker says of itself (whatever its build), or None when none answers."""
    return _ask_once(place, {"op": "status"})


def stop(place: Place) -> dict[str, Any] | None:
    """Ask the running worker to exit once its requests are done; what it said, or None when none answers."""
    return _ask_once(place, {"op": "stop"})


def _ask_once(place: Place, opening: dict[str, Any]) -> dict[str, Any] | None:
    opened = Connection.open(place, opening)
    if opened is None:
        return None
    connection, answer = opened
    connection.close()
    return answer


def lock_holder(place: Place) -> int | None:
    """The pid of the worker holding the lock (starting, serving or hung), or None when none holds it."""
    import fcntl

    try:
        fd = os.open(place.lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.read(fd, 32).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else 0
    except OSError:
        return None
    finally:
        os.close(fd)
    return None


def start_worker(place: Place, idle: float, build: str, variables: Mapping[str, str]) -> None:
    """Start a worker in the background, detached from this process and its terminal, unless one is
    starting or running already; never fails the command (it only makes the next ones faster)."""
    try:
        ensure_private_dir(place.directory)
        if not sockets.is_private(place.directory) or lock_holder(place) is not None:
            return
        import subprocess
        import sys

        subprocess.Popen(
            # -P: nothing from the working directory on the module path (cwd is / anyway).
            [sys.executable, "-P", "-m", "inworld_cli.worker", str(place.directory), repr(idle), build],
            env={name: variables[name] for name in _KEPT_VARIABLES if name in variables},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # never the caller's pipes: `$(inworld-router ask …)` must not wait
            stderr=subprocess.DEVNULL,
            cwd="/",
            close_fds=True,
            # Not start_new_session: it makes Popen fork this whole process instead of vfork-ing it (a few
            # ms, as the command ends); the worker leaves our session itself, first thing.
        )
    except (OSError, LocalError):
        pass


class Workers:
    """The worker as one process uses it: the connection made early (when the command knew it would
    send), then one more for each further exchange (the commands of many requests)."""

    def __init__(
        self, place: Place, build: str, first: Connection, clock: Clock, variables: Mapping[str, str]
    ) -> None:
        self.place = place
        self.build = build
        self.clock = clock
        self._first: Connection | None = first
        self._proxy_variables = [name for name in PROXY_VARIABLES if variables.get(name)]
        self._lock = threading.Lock()

    @classmethod
    def find(cls, place: Place, clock: Clock, variables: Mapping[str, str]) -> Workers | None:
        build = protocol.build_id()
        first = hello(place, build)
        return None if first is None else cls(place, build, first, clock, variables)

    def close(self) -> None:
        """Hang up the early connection if no exchange used it."""
        with self._lock:
            connection, self._first = self._first, None
        if connection is not None:
            connection.close()

    def exchange(
        self, request: ExchangeRequest, fallback: Callable[[ExchangeRequest], Exchange]
    ) -> ExchangeLike:
        """An exchange the worker runs, or `fallback(request)` when it no longer answers."""
        with self._lock:
            connection, self._first = self._first, None
        if connection is None:
            connection = hello(self.place, self.build)
        if connection is None:
            return fallback(request)
        return RemoteExchange(request, connection, fallback, self.clock, self._proxy_variables)


class RemoteExchange:
    """One exchange run by the worker: its events as they arrive, the same as `Exchange.events()` would
    yield them. When the worker does not take the request (gone, hung, refused), the exchange runs here,
    through `fallback`; once it took it, the request is never sent again."""

    def __init__(
        self,
        request: ExchangeRequest,
        connection: Connection,
        fallback: Callable[[ExchangeRequest], Exchange],
        clock: Clock,
        proxy_variables: list[str],
    ) -> None:
        self.request = request
        self._connection = connection
        self._fallback = fallback
        self._clock = clock
        self._proxy_variables = proxy_variables
        self._cancelled = threading.Event()
        self._local: Exchange | None = None
        self._committed = False  # the worker may have sent the request
        self._result: ExchangeResult | None = None
        self._started = clock.monotonic()
        # What arrived, for the result when the worker dies mid-answer.
        self._texts: list[str] = []
        self._metadata: dict[str, Any] | None = None
        self._ttft_ms: float | None = None

    # -- the interface of Exchange ---------------------------------------------------------------------

    def events(self) -> Generator[Event, None, None]:
        self._started = self._clock.monotonic()
        if self._cancelled.is_set():
            self._connection.close()
            yield Finished(self._nothing(interrupted=True))
            return
        if not self._submit():
            local = self._local = self._fallback(self.request)
            if self._cancelled.is_set():
                local.cancel()
            yield from local.events()
            return
        if self._cancelled.is_set():  # cancelled while it was being handed over
            self._connection.half_close()
        try:
            yield from self._received()
        finally:
            if self._result is None:  # the consumer stopped early (Ctrl-C, stdout closed)
                self._connection.half_close()

    def cancel(self) -> None:
        """Stop at once, from any thread: the worker cancels the request and reports what had arrived."""
        self._cancelled.set()
        local = self._local
        if local is not None:
            local.cancel()
        elif self._committed:
            self._connection.half_close()

    def result_so_far(self, *, interrupted: bool = False) -> ExchangeResult:
        """What is known now, as `Exchange.result_so_far` says it: after a cancel, the worker's account."""
        if self._local is not None:
            return self._local.result_so_far(interrupted=interrupted)
        result = self._result
        if result is None and self._committed:
            result = self._result = self._cancelled_result()
        if result is None:
            return self._nothing(interrupted=interrupted)
        return dataclasses.replace(result, error=None, interrupted=interrupted)

    # -- the conversation ----------------------------------------------------------------------------

    def _submit(self) -> bool:
        """Hand the request over: True once the worker has it, False when it did not take it in time."""
        connection = self._connection
        data = protocol.request_line(self.request, self._proxy_variables)
        try:
            connection.sock.settimeout(TAKEN_WITHIN + len(data) / _BYTES_PER_SECOND)
            connection.send(data)
            answer = connection.receive_within(TAKEN_WITHIN)
            if not isinstance(answer, dict) or answer.get("op") != "ready" or self._cancelled.is_set():
                connection.close()
                return False
            self._committed = True
            connection.send(protocol.line({"op": "go"}))
        except (OSError, ProtocolError):
            # A `go` that could not be written never reached the worker: it sent nothing.
            self._committed = False
            connection.close()
            return False
        return True

    def _received(self) -> Iterator[Event]:
        connection = self._connection
        connection.sock.settimeout(self.request.endpoint.timeout + _SILENCE_MARGIN)
        while True:
            event = self._next_event()
            if event is None:
                self._result = self._lost()
                connection.close()
                yield Finished(self._result)
                return
            if isinstance(event, Finished):
                self._result = event.result
                connection.close()
            yield event
            if self._result is not None:
                return

    def _next_event(self) -> Event | None:
        """The next event from the worker, noted; None when the worker is gone or talks nonsense."""
        try:
            raw = self._connection.lines.next()
            if raw is None:
                return None
            event = protocol.event_of(raw)
        except (OSError, ProtocolError):
            return None
        if type(event) is TextDelta:
            if self._ttft_ms is None:
                self._ttft_ms = (self._clock.monotonic() - self._started) * 1000
            self._texts.append(event.text)
        elif type(event) is Metadata:
            self._metadata = event.metadata
        return event

    def _cancelled_result(self) -> ExchangeResult:
        """Cancel the request in the worker and take its account of what had arrived (the one `ask`
        records); if it does not come in time, what this side saw."""
        connection = self._connection
        connection.half_close()
        deadline = self._clock.monotonic() + _CANCEL_WITHIN
        try:
            while (remaining := deadline - self._clock.monotonic()) > 0:
                connection.sock.settimeout(remaining)
                event = self._next_event()
                if event is None:
                    break
                if isinstance(event, Finished):
                    return event.result
        finally:
            connection.close()
        return self._lost()

    # -- results of our own ----------------------------------------------------------------------------

    def _elapsed_ms(self) -> float:
        return (self._clock.monotonic() - self._started) * 1000

    def _nothing(self, *, interrupted: bool) -> ExchangeResult:
        return ExchangeResult(None, False, interrupted=interrupted, total_ms=self._elapsed_ms())

    def _lost(self) -> ExchangeResult:
        """The worker died after it took the request: what arrived before, and a network failure (exit 6),
        since the request may have reached the router."""
        message: dict[str, Any] | None = None
        if self._texts or self._metadata:
            text = "".join(self._texts)
            message = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]}
            if self._metadata:
                message["metadata"] = self._metadata
        error = NetworkFailure(WORKER_LOST, WORKER_LOST_HINT, details=ErrorDetails(message=WORKER_LOST))
        return ExchangeResult(
            message, False, error=error, ttft_ms=self._ttft_ms, total_ms=self._elapsed_ms(), tries=1
        )
