"""The warm worker: runs exchanges for the clients on its socket, with the engine `ask` runs in-process
(`router/exchange.py`), many at once (one thread each).

It reads no setting, key or environment variable of its own: each request carries its endpoint (base URL,
key, timeouts, anthropic-version), body and retries, and nothing of it is kept once it is over (the
transport keeps HTTP connections, which hold no key, and builds the SDK's client, which does, per request).

It exits after `idle` seconds without a connection, when its socket file is removed or replaced (or its
directory), on a `stop` from a client, when a client of another build says hello, and on SIGTERM; the
requests in flight are finished first, but no new one is taken.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from inworld_cli import __version__
from inworld_cli.errors import LocalError
from inworld_cli.router.exchange import Clock, Event, Exchange, ExchangeRequest, Finished
from inworld_cli.router.transport import Transport
from inworld_cli.worker import protocol, sockets
from inworld_cli.worker.protocol import Lines, ProtocolError
from inworld_cli.worker.sockets import Place

# How often the worker looks for its socket file: a removed one ends it within this.
CHECK_EVERY = 1.0
INTERNAL_HINT = "rerun with INWORLD_WORKER=0 --debug, and report it"


class WorkerServer:
    def __init__(
        self,
        place: Place,
        *,
        idle: float,
        transport: Transport,
        clock: Clock,
        jitter: Callable[[], float] = random.random,
        build: str | None = None,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self.place = place
        self.check_every = check_every
        self.idle = idle
        self.transport = transport
        self.clock = clock
        self.jitter = jitter
        self.build = build or protocol.build_id()
        self.since = clock.time()
        self.served = 0  # exchanges run to their end
        self._state = threading.Lock()
        self._exchanges = 0  # in flight
        self._connections = 0  # open (a client may hold one while it reads its stdin)
        self._last_activity = clock.monotonic()
        self._threads: set[threading.Thread] = set()
        self._retired = threading.Event()
        # Wakes the accept loop when retired. Reentrant: `retire` may run in a signal handler while the
        # main thread holds it in `_close`.
        self._wake_lock = threading.RLock()
        self._wake_read: int | None
        self._wake_write: int | None
        self._wake_read, self._wake_write = os.pipe()
        self._listener: socket.socket | None = None
        self._identity: tuple[int, int] | None = None  # the socket file's (device, inode)
        self._lock_fd: int | None = None

    # -- starting and ending ---------------------------------------------------------------------------

    def open(self) -> bool:
        """Take the worker's lock and listen on the socket; False when another worker holds the lock.
        The socket appears under its name only once it is 0600 and listening (a stale one is replaced)."""
        import fcntl

        if not sockets.is_private(self.place.directory):
            raise PermissionError(f"{self.place.directory} must be a directory of this user's, mode 0700")
        fd = os.open(self.place.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        temporary = self.place.directory / f".worker-{os.getpid()}-{id(self):x}.sock"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with sockets.address(temporary) as where:
            listener.bind(where)
        os.chmod(temporary, 0o600)
        listener.listen(128)
        os.replace(temporary, self.place.socket)
        info = os.stat(self.place.socket)
        self._identity = (info.st_dev, info.st_ino)
        self._listener = listener
        return True

    def retire(self) -> None:
        """Take no more requests (from any thread, or a signal handler)."""
        self._retired.set()
        with self._wake_lock, contextlib.suppress(OSError):
            if self._wake_write is not None:
                os.write(self._wake_write, b"x")

    def serve(self) -> None:
        """Accept connections until retired, idle for too long, or the socket file is gone; then stop
        listening, remove the socket and release the lock (a new worker may start while the requests in
        flight finish: see `wait`)."""
        listener, wake = self._listener, self._wake_read
        assert listener is not None, "open() first"
        assert wake is not None, "serve() once"
        waiting = [listener.fileno(), wake]
        try:
            while not self._retired.is_set():
                readable, _, _ = select.select(waiting, [], [], self._next_check())
                if waiting[0] in readable:
                    with contextlib.suppress(OSError):
                        connection, _ = listener.accept()
                        self._start(connection)
                if self._socket_gone() or self._idle_expired():
                    break
        finally:
            self._close()

    def wait(self, timeout: float | None = None) -> None:
        """Until every connection has ended."""
        with self._state:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _next_check(self) -> float:
        with self._state:
            if self._connections:
                return self.check_every
            left = self.idle - (self.clock.monotonic() - self._last_activity)
        return max(0.0, min(self.check_every, left))

    def _idle_expired(self) -> bool:
        with self._state:
            return not self._connections and self.clock.monotonic() - self._last_activity >= self.idle

    def _socket_gone(self) -> bool:
        try:
            info = os.stat(self.place.socket)
        except OSError:
            return True
        return (info.st_dev, info.st_ino) != self._identity

    def _close(self) -> None:
        self._retired.set()
        if self._listener is not None:
            self._listener.close()
        if not self._socket_gone():
            with contextlib.suppress(OSError):
                os.unlink(self.place.socket)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None
        with self._wake_lock:
            for fd in (self._wake_read, self._wake_write):
                if fd is not None:
                    os.close(fd)
            self._wake_read = self._wake_write = None

    # -- connections -----------------------------------------------------------------------------------

    def info(self, op: str = "hello") -> dict[str, Any]:
        with self._state:
            exchanges = self._exchanges
        return {
            "op": op,
            "build": self.build,
            "version": __version__,
            "pid": os.getpid(),
            "since": self.since,
            "served": self.served,
            "in_flight": exchanges,
            "idle_exit": self.idle,
            "socket": str(self.place.socket),
        }

    def _start(self, connection: socket.socket) -> None:
        if sockets.peer_uid(connection) != os.getuid():
            connection.close()  # another user's process (the directory should have kept it out)
            return
        thread = threading.Thread(target=self._serve_connection, args=(connection,), daemon=True)
        with self._state:
            self._connections += 1
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, connection: socket.socket) -> None:
        try:
            self._converse(connection, Lines(connection))
        except (OSError, ProtocolError):
            pass  # the client went away or said something else: nothing to answer
        finally:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
            with self._state:
                self._connections -= 1
                self._last_activity = self.clock.monotonic()
                self._threads.discard(threading.current_thread())

    def _converse(self, connection: socket.socket, lines: Lines) -> None:
        opening = _next(lines)
        op = opening.get("op")
        if op == "status":
            connection.sendall(protocol.line(self.info("status")))
            return
        if op == "stop":
            self.retire()
            connection.sendall(protocol.line(self.info("stopping")))
            return
        if op != "hello":
            return
        if opening.get("build") != self.build or self._retired.is_set():
            # A client of another build: this worker is outdated. It says so and exits; the client sends
            # the request itself (and starts a worker of its own build).
            self.retire()
            connection.sendall(protocol.line(self.info("retiring")))
            return
        connection.sendall(protocol.line(self.info()))
        try:
            request, hints = protocol.request_of(_next(lines))
        except ProtocolError:
            connection.sendall(protocol.line({"op": "refused"}))
            return
        connection.sendall(protocol.line({"op": "ready"}))
        if _next(lines).get("op") != "go":
            return  # the client gave up waiting and sends the request itself
        self._run(connection, request, hints)

    def _run(self, connection: socket.socket, request: ExchangeRequest, hints: dict[str, str]) -> None:
        """The exchange, its events written as they come; cancelled when the client closes its side or
        can no longer be written to."""
        exchange = Exchange(request, self.transport, self.clock, hints, self.jitter)
        with self._state:
            self._exchanges += 1
        outbox = _Outbox(connection, exchange, on_end=self._ended)
        watcher = threading.Thread(
            target=_cancel_when_closed, args=(connection, exchange, outbox), daemon=True
        )
        watcher.start()
        try:
            for event in exchange.events():
                outbox.put(event)
        except Exception as exc:  # a bug: reported as the in-process `ask` reports one (exit 1)
            failed = exchange.result_so_far()
            failed.error = LocalError(f"internal error: {type(exc).__name__}: {exc}", INTERNAL_HINT)
            outbox.put(Finished(failed))
        finally:
            outbox.close()
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)  # ends the watcher's wait
            watcher.join()

    def _ended(self) -> bool:
        with self._state:
            self._exchanges -= 1
            self.served += 1
        return True


class _Outbox:
    """An exchange's events on their way to the client, written by a thread of their own: what piles up
    during one write goes out in the next, consecutive text deltas as one (a 20,000-delta answer is then
    not 20,000 system calls, nor 20,000 lines for the client to decode). A client that can no longer be
    written to cancels the exchange."""

    def __init__(self, connection: socket.socket, exchange: Exchange, on_end: Callable[[], object]) -> None:
        self._connection = connection
        self._exchange = exchange
        self._on_end = on_end
        self._lock = threading.Lock()
        self._ended = False
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def put(self, event: Event) -> None:
        """Nothing after the first `Finished`: the account of a cancel may end the exchange for the client
        before the exchange itself ends. The end is counted (`on_end`) before the client can see it."""
        with self._lock:
            if self._ended:
                return
            if isinstance(event, Finished):
                self._end()
            self._queue.put(event)

    def close(self) -> None:
        """Once everything put has been written (or the client is gone)."""
        with self._lock:
            if not self._ended:
                self._end()
        self._queue.put(None)
        self._thread.join()

    def _end(self) -> None:
        self._ended = True
        self._on_end()

    def _write(self) -> None:
        writing = True
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while batch[-1] is not None:
                    batch.append(self._queue.get_nowait())
            last = batch[-1] is None
            events = [event for event in batch if event is not None]
            if writing and events:
                try:
                    self._connection.sendall(protocol.events_data(events))
                except OSError:
                    writing = False
                    self._exchange.cancel()
            if last:
                return


def _next(lines: Lines) -> dict[str, Any]:
    raw = lines.next()
    if raw is None:
        raise ProtocolError("the client closed the connection")
    data = protocol.parse(raw)
    if not isinstance(data, dict):
        raise ProtocolError("not an object")
    return data


def _cancel_when_closed(connection: socket.socket, exchange: Exchange, outbox: _Outbox) -> None:
    """The client says nothing after `go`: the end of its side (a cancel, or its death) cancels. The client
    then waits for the account of what had arrived: an answer being read is cut short and the exchange
    ends by itself, but a request the router has not answered yet cannot be (the HTTP call blocks until it
    does), so its account, nothing, is given at once."""
    try:
        while connection.recv(4096):
            pass
    except OSError:
        return
    exchange.cancel()
    if not exchange.reading_answer():
        outbox.put(Finished(exchange.result_so_far(interrupted=True)))
