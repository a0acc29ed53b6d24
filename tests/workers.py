"""Warm workers for the tests: one in a thread of the test process (the protocol and the engine are the same;
its waits return at once, like `home.run`'s), and real ones, started the way `ask` starts them.

Either lives in a runtime directory of its own (`XDG_RUNTIME_DIR`), which a test's environment points at to
use it: `env` holds the variables that do.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inworld_cli.router.transport import Transport
from inworld_cli.worker import client, protocol
from inworld_cli.worker.server import WorkerServer
from inworld_cli.worker.sockets import APP_DIR, Place
from tests.conftest import InstantClock


def runtime_dir() -> Path:
    """A private runtime directory with a short path (a socket's path has a length limit; /tmp/pytest-of-…
    paths can pass it, which `sockets.address` copes with, but the tests should not depend on it). Removed
    when the test process ends (a worker still running there then exits: its socket is gone)."""
    path = Path(tempfile.mkdtemp(prefix="iw-run-"))
    path.chmod(0o700)
    atexit.register(shutil.rmtree, path, True)
    return path


def worker_env(runtime: Path) -> dict[str, str]:
    return {"INWORLD_WORKER": "1", "XDG_RUNTIME_DIR": str(runtime)}


def place_of(runtime: Path) -> Place:
    return Place(runtime / APP_DIR)


def wait_until(condition: Any, what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"still waiting: {what}"
        time.sleep(0.02)


@dataclass
class InRuntime:
    """A worker's runtime directory, and the variables that point an `ask` at it."""

    runtime: Path

    @property
    def env(self) -> dict[str, str]:
        return worker_env(self.runtime)

    @property
    def place(self) -> Place:
        return place_of(self.runtime)


@dataclass
class ThreadWorker(InRuntime):
    """A worker server in a thread of the test process."""

    server: WorkerServer
    thread: threading.Thread
    clock: InstantClock = field(default_factory=InstantClock)

    @property
    def served(self) -> int:
        return self.server.served

    def stop(self) -> None:
        self.server.retire()
        self.thread.join(10)
        self.server.wait(10)
        assert not self.thread.is_alive()


@contextlib.contextmanager
def thread_worker(
    runtime: Path | None = None, *, idle: float = 600.0, build: str | None = None
) -> Iterator[ThreadWorker]:
    runtime = runtime or runtime_dir()
    place = place_of(runtime)
    place.directory.mkdir(mode=0o700, exist_ok=True)
    clock = InstantClock()
    transport = Transport(remember_keys=False)
    server = WorkerServer(
        place, idle=idle, transport=transport, clock=clock, jitter=lambda: 0.0, build=build, check_every=0.05
    )
    assert server.open()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    worker = ThreadWorker(runtime, server, thread, clock)
    try:
        yield worker
    finally:
        worker.stop()
        transport.close()


@dataclass
class ProcessWorker(InRuntime):
    """A real worker process, started as `ask` starts one."""

    def status(self) -> dict[str, Any] | None:
        return client.status(self.place)

    @property
    def pid(self) -> int:
        info = self.status()
        assert info is not None, "no worker answers"
        return int(info["pid"])

    @property
    def served(self) -> int:
        info = self.status()
        assert info is not None, "no worker answers"
        return int(info["served"])

    def wait_until_up(self) -> None:
        wait_until(lambda: self.status() is not None, "the worker to answer")

    def stop(self) -> None:
        info = client.stop(self.place)
        if info is not None:
            wait_until(lambda: not _alive(int(info["pid"])), "the worker to exit")


def start_process_worker(
    runtime: Path | None = None, variables: Mapping[str, str] | None = None, idle: float = 600.0
) -> ProcessWorker:
    """Start a worker with `client.start_worker` (what `ask` calls), from an environment of `variables`,
    and wait until it answers."""
    worker = ProcessWorker(runtime or runtime_dir())
    client.start_worker(worker.place, idle, protocol.build_id(), dict(variables or os.environ))
    worker.wait_until_up()
    return worker


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, which a test process may leave unreaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def process_environment_of(pid: int) -> dict[str, str]:
    """The environment a process was started with (Linux)."""
    data = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = [item.split(b"=", 1) for item in data.split(b"\0") if b"=" in item]
    return {k.decode(): v.decode("utf-8", "replace") for k, v in pairs}


@dataclass
class Through:
    """How a test's `ask` is sent: in-process, or through a warm worker (then each must be served by it)."""

    worker: ThreadWorker | ProcessWorker | None = None
    _served: int = 0

    @property
    def env(self) -> dict[str, str]:
        return self.worker.env if self.worker is not None else {}

    def begin(self) -> None:
        """Before a run: what the worker has served so far, and no waits of earlier runs."""
        if self.worker is not None:
            self._served = self.worker.served
        if isinstance(self.worker, ThreadWorker):
            self.worker.clock.waits.clear()

    def waits(self, clock: InstantClock) -> list[float]:
        """The waits between tries: the in-process client's, or the thread worker's."""
        return self.worker.clock.waits if isinstance(self.worker, ThreadWorker) else clock.waits

    def served(self) -> int:
        """Asks the worker served since `begin` (0 in-process)."""
        return 0 if self.worker is None else self.worker.served - self._served
