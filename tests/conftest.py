"""Shared fixtures: an isolated home for every test, the local router, and two ways to run the CLI: in this
process (the command line through `cli.main`, with the test's streams, environment and a clock that does not
wait), and the installed command in a subprocess, for what only a real process shows."""

from __future__ import annotations

import compileall
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from inworld_cli import cli
from inworld_cli.environment import Environment
from inworld_cli.output.console import Output, Streams
from inworld_cli.router.failures import PROXY_VARIABLES
from inworld_cli.store.settings import Paths
from tests.router_server import RouterServer

if TYPE_CHECKING:
    from tests.workers import ProcessWorker, ThreadWorker, Through

TEST_KEY = "iw-test-KEY-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    """The package compiled once, before the tests start hundreds of commands that import it: they are
    told not to write bytecode (and CI's environment tells this process the same), so on a fresh clone
    each would compile every module it imports (~80 ms of CPU each)."""
    if not hasattr(config, "workerinput"):  # the xdist controller, or a run without xdist
        compileall.compile_dir(Path(cli.__file__).parent, quiet=1)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_path() -> str:
    """The installed console script next to this interpreter (the way users run it)."""
    candidate = Path(sys.executable).with_name("inworld-router")
    found = str(candidate) if candidate.exists() else shutil.which("inworld-router")
    assert found, "inworld-router is not installed: pip install -e '.[test]'"
    return found


@dataclass
class Home:
    """An isolated HOME/XDG tree and the environment that points at it (no INWORLD_/ANTHROPIC_ leaks)."""

    root: Path
    env: dict[str, str]

    @property
    def config_dir(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "inworld-router"

    @property
    def state_dir(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "inworld-router"

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["XDG_CACHE_HOME"]) / "inworld-router"

    def run(
        self,
        *args: str,
        input: bytes | str | None = None,
        env: dict[str, str] | None = None,
        clock: InstantClock | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the command line in this process; stdout and stderr are kept apart."""
        data = input.encode() if isinstance(input, str) else input
        return run_in_process(list(args), {**self.env, **(env or {})}, data or b"", clock or InstantClock())

    def spawn(
        self,
        *args: str,
        input: bytes | str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run the installed command in a subprocess; stdout and stderr are kept apart."""
        full_env = {**self.env, **(env or {})}
        data = input.encode() if isinstance(input, str) else input
        result = subprocess.run(
            [cli_path(), *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )
        return subprocess.CompletedProcess(
            result.args,
            result.returncode,
            result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"),
        )

    def login(self, key: str = TEST_KEY, profile: str | None = None) -> None:
        args = ["auth", "login", "--with-key", "--no-verify"] + (["--profile", profile] if profile else [])
        result = self.run(*args, input=key)
        assert result.returncode == 0, result.stderr


@dataclass
class InstantClock:
    """Real time, but waits (between retries) return at once; each wait is recorded."""

    waits: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        return event.is_set()


@contextlib.contextmanager
def process_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """os.environ as `variables` for the duration: what the SDK and platformdirs read is the test's."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_in_process(
    args: list[str], variables: dict[str, str], stdin: bytes, clock: InstantClock
) -> subprocess.CompletedProcess[str]:
    """`inworld-router ARGS` through cli.main, with stdin, stdout and stderr of its own (not terminals)."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(
        out, encoding=variables.get("PYTHONIOENCODING") or "utf-8", errors="replace", write_through=True
    )
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    with (
        process_environment(variables),
        contextlib.redirect_stdout(stdout),  # Typer's own output: help, --version, completion
        contextlib.redirect_stderr(stderr),
    ):
        streams = Streams(stdin=io.BytesIO(stdin), stdout=Output(stdout), stderr=stderr, env=dict(variables))
        env = Environment(streams=streams, paths=Paths.from_platform(), clock=clock, jitter=lambda: 0.0)
        try:
            status = cli.main(args, env)
        finally:
            env.close()
    return subprocess.CompletedProcess(
        ["inworld-router", *args], status, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode()
    )


def isolated_env(root: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("INWORLD_", "ANTHROPIC_", "XDG_"))}
    keep.pop("NO_COLOR", None)
    # The machine's own proxy settings would change the hints the tests expect (the CLI never uses them).
    for name in PROXY_VARIABLES:
        keep.pop(name, None)
    # pytest-xdist workers export COLUMNS=80 and LINES=24, which rich prefers to a pty's real size.
    keep.pop("COLUMNS", None)
    keep.pop("LINES", None)
    keep.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_DATA_HOME=str(root / "data"),
        TERM="xterm-256color",
        PYTHONDONTWRITEBYTECODE="1",
        # No warm worker unless a test asks for one (tests/workers.py): every `ask` would start one.
        INWORLD_WORKER="0",
    )
    (root / "home").mkdir(parents=True, exist_ok=True)
    return keep


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path, isolated_env(tmp_path))


@pytest.fixture
def router() -> Iterator[RouterServer]:
    server = RouterServer()
    yield server
    server.stop()


@pytest.fixture
def thread_worker() -> Iterator[ThreadWorker]:
    """A warm worker in a thread of this process, in a runtime directory of its own (`.env` points there)."""
    from tests.workers import thread_worker

    with thread_worker() as worker:
        yield worker


@pytest.fixture(scope="session")
def shared_worker() -> Iterator[ProcessWorker]:
    """One real worker process for the tests that can share it (each xdist process has its own)."""
    from tests.workers import start_process_worker

    worker = start_process_worker()
    yield worker
    worker.stop()


@pytest.fixture(params=["in-process", "worker"])
def through(request: pytest.FixtureRequest) -> Through:
    """Run a test both ways: `ask` in-process, and through a warm worker in a thread (the same protocol
    and engine; its waits return at once, as the in-process client's do)."""
    from tests.workers import Through

    if request.param == "in-process":
        return Through()
    return Through(request.getfixturevalue("thread_worker"))


@pytest.fixture(params=["in-process", "worker"])
def through_process(request: pytest.FixtureRequest) -> Through:
    """Both ways, for tests that run the installed command: through the shared worker process."""
    from tests.workers import Through

    if request.param == "in-process":
        return Through()
    return Through(request.getfixturevalue("shared_worker"))


@pytest.fixture
def routed_home(home: Home, router: RouterServer) -> Home:
    """A logged-in home whose base URL is the local router."""
    home.env["INWORLD_BASE_URL"] = router.url
    home.login()
    return home


@pytest.fixture
def utc() -> Iterator[None]:
    """Times are shown in the local zone (and days are local days): pin it to UTC."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()
