"""Many exchanges at once, for the commands of many requests (`batch`, `compare`): worker threads run the
exchanges, and their events come back to the calling thread through one queue, where the command writes
its output and its history (SQLite connections and the terminal stay in one thread).

Threads rather than asyncio: the SDK's client is synchronous and thread-safe, every consumer of the events
is synchronous, and an exchange spends its life waiting on a socket, which releases the GIL.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inworld_cli.environment import Environment
    from inworld_cli.router.exchange import Event, ExchangeLike, ExchangeRequest, Gate


@dataclass
class Job:
    """One exchange to run: `key` is the caller's (an item, a model); `started` is stamped when it starts."""

    key: Any
    request: ExchangeRequest
    started: float = field(default=0.0)


_WORKER_DONE = object()


class Fanout:
    """Runs `jobs` (read lazily, as workers free up) on `workers` threads.

    `forward`: the event types the caller sees (the others, text deltas of a batch, stay in the worker).
    `probe_first`: the first job runs alone until its first event, so that a refused key or a wrong base URL
    costs one request, not one per worker. `stop_when`: an event after which nothing more starts and every
    running exchange is cancelled (a batch's 401).
    """

    def __init__(
        self,
        env: Environment,
        jobs: Iterable[Job],
        *,
        workers: int,
        forward: tuple[type, ...],
        gate: Gate | None = None,
        probe_first: bool = False,
        stop_when: Callable[[Event], bool] | None = None,
    ) -> None:
        self._env = env
        self._jobs = iter(jobs)
        self._workers = workers
        self._forward = forward
        self._gate = gate
        self._stop_when = stop_when
        self._events: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._taken = 0
        self._running: dict[int, ExchangeLike] = {}
        self._stopping = threading.Event()
        self._opened = threading.Event()
        if not probe_first:
            self._opened.set()
        self._workers_left = 0

    def start(self) -> None:
        self._workers_left = self._workers
        for number in range(self._workers):
            # Daemon threads: an exchange blocked on a silent server must not keep the process alive.
            threading.Thread(target=self._work, name=f"exchange-{number}", daemon=True).start()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def events(self, grace: float | None = None) -> Iterator[tuple[Job, Event]]:
        """The forwarded events as they come, until every worker is done (or, with `grace`, until that
        many seconds have passed). An exception in a worker is raised here."""
        deadline = None if grace is None else time.monotonic() + grace
        while self._workers_left:
            timeout = 0.2 if deadline is None else deadline - time.monotonic()
            if timeout <= 0:
                return
            try:
                item = self._events.get(timeout=timeout)
            except queue.Empty:
                continue
            if item is _WORKER_DONE:
                self._workers_left -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item

    def stop(self) -> None:
        """Start nothing more and cancel every running exchange (each then ends as interrupted)."""
        self._stopping.set()
        self._opened.set()
        with self._lock:
            running = list(self._running.values())
        for exchange in running:
            exchange.cancel()

    # -- the workers' side -------------------------------------------------------------------------------

    def _next(self) -> Job | None:
        with self._lock:
            job = None if self._stopping.is_set() else next(self._jobs, None)
            self._taken += 1
            first = self._taken == 1
        if job is not None and not first:
            self._opened.wait()
        return None if self._stopping.is_set() else job

    def _work(self) -> None:
        try:
            while (job := self._next()) is not None:
                self._run(job)
        except BaseException as exc:  # an error reading the jobs, or a bug: the caller raises it
            self._events.put(exc)
        finally:
            self._events.put(_WORKER_DONE)

    def _run(self, job: Job) -> None:
        exchange = self._env.exchange(job.request, self._gate)
        job.started = self._env.clock.time()
        key = id(job)
        with self._lock:
            self._running[key] = exchange
        if self._stopping.is_set():  # stop() ran before this exchange was registered
            exchange.cancel()
        try:
            for event in exchange.events():
                stops = self._stop_when is not None and self._stop_when(event)
                if stops:
                    self.stop()
                elif not self._opened.is_set():
                    self._opened.set()
                if isinstance(event, self._forward):
                    self._events.put((job, event))
        finally:
            with self._lock:
                del self._running[key]
