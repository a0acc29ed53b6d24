"""Benchmarks: how fast inworld-router answers, against the floors it stands on, in one run.

    python benchmarks/run.py            # the full run: a few minutes (the first one also installs the peer)
    python benchmarks/run.py --quick    # one repetition, a short stream, no peer: proves the harness works

A second home holds a generated history of 100,000 records (benchmarks/history_db.py) for `stats`, and for
`history` and `inspect last` on a big database.

Run it with the interpreter of the environment the project is installed in (`pip install -e .`). It starts the
local router (benchmarks/serve.py) on 127.0.0.1, gives every command its own HOME/XDG tree, logged in to that
router, and runs every case several times, interleaved in a shuffled order, so that a slow moment of a shared
machine spreads over all of them. Each measurement is the median of those runs, with its ratio to a reference
measured in the same run; peak memory is the maximum RSS of the process (from wait4). The markdown table goes
to stdout and to benchmarks/results/latest.md; progress goes to stderr.

The peer, `llm` with its Anthropic plugin, is installed into benchmarks/.venv-peer on first use (never into
the project's environment) and pointed at the same router through ANTHROPIC_BASE_URL, which llm-anthropic
leaves to the SDK.

The warm worker: every case runs without it (INWORLD_WORKER=0) but those named after it. The warm ones use a
worker started (and waited for) before the measurements; the cold one starts from no worker each time, and
the worker it starts is stopped after each run, untimed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / ".venv-peer"
PEER_PACKAGES = ["llm==0.36", "llm-anthropic==0.30"]
PEER_MODEL = "claude-3.5-haiku"
KEY = "iw-bench-0123456789abcdef"
QUICK_NOTE = (
    "--quick: one run of each case and a short stream, to check the harness; its verdicts mean nothing."
)
COMPLETE_AUTH = {
    "_INWORLD_ROUTER_COMPLETE": "complete_bash",
    "COMP_WORDS": "inworld-router auth ",
    "COMP_CWORD": "2",
}


NOT_MEASURABLE = "not measurable: the reference came out at or below 0 (too busy a machine to subtract)"


class BenchError(Exception):
    """A case that did not do what it is supposed to: its timings would mean nothing."""


@dataclass
class Sample:
    seconds: float
    rss_kib: int


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str]
    expect: Callable[[bytes], bool]  # a check of what the command printed (stdout, or the whole terminal)
    stdin: bytes = b""
    stdin_delay: float = 0.0  # a slow producer: stdin arrives only after this long
    tty: bool = False  # stdin, stdout and stderr on a pseudo-terminal (drained), else stdout to a file
    after: Callable[[], None] | None = None  # run after each run, untimed (raises BenchError)
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss_mib(self) -> float:
        return statistics.median(s.rss_kib for s in self.samples) / 1024

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.samples)


@dataclass
class Difference:
    """A reference computed from cases: `case` less the time `more` takes over `base` (e.g. `ask`
    less the SDK's import, which is `import anthropic` over `python -c pass`)."""

    name: str
    case: Case | None
    more: Case
    base: Case

    @property
    def parts(self) -> list[Case]:
        return [c for c in (self.case, self.more, self.base) if c is not None]

    @property
    def failure(self) -> str | None:
        return next((c.failure for c in self.parts if c.failure), None)

    @property
    def ok(self) -> bool:
        return self.case is not None and all(c.ok for c in self.parts)

    @property
    def seconds(self) -> float:
        assert self.case is not None
        return self.case.seconds - (self.more.seconds - self.base.seconds)

    @property
    def rss_mib(self) -> float:
        assert self.case is not None
        return self.case.rss_mib


@dataclass
class Row:
    """One line of the table: a case against its reference."""

    name: str
    case: Case | None
    reference: Case | Difference | None
    target: float | None = None
    # time: ratio of medians; rss: ratio of peak RSS; extra: seconds over the reference; seconds: the median
    # itself against `target` seconds (the reference for information)
    metric: str = "time"
    vs_python: bool = False  # also show the ratio to `python -c pass`


# -- running one command ---------------------------------------------------------------------------------


def _feed(fd: int, data: bytes, delay: float) -> None:
    """Close stdin, after writing `data` if a slow producer still has to."""
    try:
        if delay:
            time.sleep(delay)
            os.write(fd, data)
    finally:
        os.close(fd)


def _drain(fd: int, sink: IO[bytes]) -> None:
    """Read a terminal's output until every writer has gone, as a terminal emulator would."""
    try:
        while chunk := os.read(fd, 65536):
            sink.write(chunk)
    except OSError:  # EIO: the last writer of the terminal has gone
        pass
    finally:
        os.close(fd)


def _start(
    case: Case, stdout: IO[bytes], stderr: IO[bytes]
) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    """The process, and the thread that feeds its stdin or drains its terminal (not started yet)."""
    if case.tty:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        proc = subprocess.Popen(case.argv, stdin=slave, stdout=slave, stderr=slave, env=case.env)
        os.close(slave)
        return proc, threading.Thread(target=_drain, args=(master, stdout))
    stdin_read, stdin_write = os.pipe()
    if not case.stdin_delay:
        os.write(stdin_write, case.stdin)  # small: fits in the pipe's buffer
    proc = subprocess.Popen(case.argv, stdin=stdin_read, stdout=stdout, stderr=stderr, env=case.env)
    os.close(stdin_read)
    return proc, threading.Thread(target=_feed, args=(stdin_write, case.stdin, case.stdin_delay))


def run_once(case: Case) -> Sample:
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc, helper = _start(case, stdout, stderr)
        helper.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        helper.join()
        stdout.seek(0)
        stderr.seek(0)
        printed = stdout.read()  # on a terminal: everything the terminal showed
        if proc.returncode != 0 or not case.expect(printed):
            detail = (stderr.read() or printed)[-400:].decode("utf-8", "replace").strip()
            raise BenchError(f"exit {proc.returncode}: {detail or '(nothing printed)'}")
    return Sample(seconds, usage.ru_maxrss)


def measure(cases: list[Case], repeat: int, warmup: bool) -> None:
    rounds = [("warm-up", False)] if warmup else []
    rounds += [(f"run {n + 1}/{repeat}", True) for n in range(repeat)]
    for number, (label, keep) in enumerate(rounds):
        order = [case for case in cases if case.failure is None]
        random.Random(number).shuffle(order)
        progress(f"{label}: {', '.join(case.name for case in order)}")
        for case in order:
            try:
                sample = run_once(case)
            except BenchError as exc:
                case.failure = str(exc)
                progress(f"  {case.name}: FAILED {exc}")
                continue
            if keep:
                case.samples.append(sample)
            try:
                if case.after is not None:
                    case.after()
            except BenchError as exc:
                case.failure = str(exc)
                progress(f"  {case.name}: FAILED {exc}")


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the environment ---------------------------------------------------------------------------------------


def isolated_env(root: Path, base_url: str) -> dict[str, str]:
    """No INWORLD_/ANTHROPIC_/XDG_ from the caller; a home of its own; the router's URL. No PYTHON* either:
    PYTHONDONTWRITEBYTECODE would recompile the project's modules on every run, PYTHONUNBUFFERED would make
    every write a system call, and a user's shell sets neither."""
    drop = ("INWORLD_", "ANTHROPIC_", "XDG_", "_INWORLD_ROUTER_", "_TYPER_", "COMP_", "LLM_", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and k != "NO_COLOR"}
    for name in ("home", "config", "state", "cache", "data"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_DATA_HOME=str(root / "data"),
        TERM="xterm-256color",
        INWORLD_BASE_URL=base_url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def start_router() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "serve.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout
    url = server.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        server.kill()
        raise SystemExit("the benchmark router did not start")
    return server, url


def cli() -> str:
    path = Path(sys.executable).with_name("inworld-router")
    if not path.exists():
        raise SystemExit(f"inworld-router is not installed next to {sys.executable}: pip install -e .")
    return str(path)


# -- the warm worker ------------------------------------------------------------------------------------


def worker_env(env: dict[str, str], runtime: Path) -> dict[str, str]:
    """The environment of `env` with the worker on, its socket in `runtime`."""
    runtime.mkdir(mode=0o700, exist_ok=True)
    return {**env, "INWORLD_WORKER": "1", "XDG_RUNTIME_DIR": str(runtime)}


def worker_status(env: dict[str, str]) -> dict[str, object] | None:
    result = subprocess.run([cli(), "worker", "status", "--json"], env=env, capture_output=True, check=False)
    if result.returncode != 0:
        return None
    status: dict[str, object] = json.loads(result.stdout)
    return status


def wait_for_worker(env: dict[str, str], within: float = 20.0) -> dict[str, object]:
    """What `worker status` says once a worker answers (its socket is watched for first: a `worker status`
    per poll would load the machine with Python starts while the worker starts)."""
    socket = Path(env["XDG_RUNTIME_DIR"]) / "inworld-router" / "worker.sock"
    deadline = time.monotonic() + within
    while not socket.exists() or (status := worker_status(env)) is None:
        if time.monotonic() > deadline:
            raise BenchError(f"no worker answered within {within:g} s")
        time.sleep(0.02)
    return status


def stop_started_worker(env: dict[str, str]) -> None:
    """After a cold `ask`: the worker it started (which must come up), stopped, so the next run is cold too
    and nothing imports the SDK in the background of other measurements."""
    wait_for_worker(env)
    subprocess.run([cli(), "worker", "stop"], env=env, capture_output=True, check=True)


def start_warm_worker(env: dict[str, str]) -> None:
    """A worker for the warm cases, its SDK loaded: an `ask` starts it, another waits for its import."""
    for _ in range(2):
        run = subprocess.run(
            [cli(), "ask", "--no-stream", "Say hello."], env=env, capture_output=True, check=False
        )
        if run.returncode != 0:
            raise SystemExit(f"the warm worker's first ask failed: {run.stderr.decode(errors='replace')}")
        wait_for_worker(env)


def rss_mib(pid: int) -> float | None:
    """A process's resident memory now (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def has_command(env: dict[str, str], command: str) -> bool:
    result = subprocess.run([cli(), command, "--help"], env=env, capture_output=True, check=False)
    return result.returncode == 0


def ensure_peer(python: str) -> tuple[Path | None, str]:
    """The peer's `llm` from its own virtual environment, installed on first use."""
    llm = PEER_DIR / "bin" / "llm"
    if llm.exists():
        return llm, ""
    progress(f"installing the peer ({', '.join(PEER_PACKAGES)}) into {PEER_DIR} ...")
    try:
        subprocess.run([python, "-m", "venv", str(PEER_DIR)], check=True, capture_output=True)
        subprocess.run(
            [str(PEER_DIR / "bin" / "pip"), "install", "--quiet", *PEER_PACKAGES],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(PEER_DIR, ignore_errors=True)
        reason = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
        return None, f"the peer could not be installed: {' '.join(reason) or exc}"
    return llm, ""


def peer_versions() -> str:
    code = "from importlib.metadata import version as v; print(v('llm'), v('llm-anthropic'), v('anthropic'))"
    result = subprocess.run(
        [str(PEER_DIR / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return "not installed"
    llm, plugin, sdk = result.stdout.split()
    return f"llm {llm}, llm-anthropic {plugin} (anthropic {sdk})"


# -- the cases -------------------------------------------------------------------------------------------


def text_is(expected: bytes) -> Callable[[bytes], bool]:
    return lambda out: out == expected


def contains(part: bytes) -> Callable[[bytes], bool]:
    return lambda out: part in out


def long_answer(deltas: int) -> Callable[[bytes], bool]:
    return lambda out: out == b"x " * deltas + b"\n"


@dataclass
class Plan:
    cases: dict[str, Case]
    rows: list[Row]
    notes: list[str]


def plan(
    env: dict[str, str],
    args: argparse.Namespace,
    llm: Path | None,
    warm: dict[str, str],
    cold: dict[str, str],
) -> Plan:
    py = sys.executable
    floor_env = {**env, "INWORLD_API_KEY": KEY}
    long_prompt = f"Write a long answer. deltas={args.deltas}"
    hello = text_is(b"Hello!\n")
    long = long_answer(args.deltas)
    notes = [QUICK_NOTE] if args.quick else []
    cases = [
        Case("python -c pass", [py, "-c", "pass"], env, lambda out: True),
        Case("Typer floor --help", [py, str(HERE / "typer_floor.py"), "--help"], env, contains(b"Usage")),
        Case("--help", [cli(), "--help"], env, contains(b"Usage")),
        Case("auth status", [cli(), "auth", "status"], env, contains(b"iw-b")),
        Case("completion (bash)", [cli()], {**env, **COMPLETE_AUTH}, contains(b"login")),
        Case("SDK floor non-streamed", [py, str(HERE / "sdk_floor.py"), "Say hello."], floor_env, hello),
        Case(
            "SDK floor streamed", [py, str(HERE / "sdk_floor.py"), "--stream", long_prompt], floor_env, long
        ),
        # os._exit as `ask` leaves: the interpreter's teardown of the SDK's modules is no part of the import.
        Case("SDK import", [py, "-c", "import anthropic, httpx2, os; os._exit(0)"], env, lambda out: True),
        Case(
            "Typer floor, a command",
            [py, str(HERE / "typer_floor.py"), "--name", "x"],
            env,
            contains(b"Hello"),
        ),
    ]
    has_ask = has_command(env, "ask")
    if has_ask:
        slow = args.stdin_delay
        question = "why did it fail?"
        cases += [
            Case("ask --no-stream", [cli(), "ask", "--no-stream", "Say hello."], env, hello),
            Case("ask streamed", [cli(), "ask", long_prompt], env, long),
            Case("ask streamed, on a terminal", [cli(), "ask", long_prompt], env, contains(b"x x"), tty=True),
            Case(
                "ask, stdin ready", [cli(), "ask", question], env, hello, stdin=b"make: *** [all] Error 1\n"
            ),
            Case(
                f"ask, stdin after {slow:g} s",
                [cli(), "ask", question],
                env,
                hello,
                stdin=b"make: *** [all] Error 1\n",
                stdin_delay=slow,
            ),
        ]
        if has_command(env, "worker"):
            cases += [
                Case(
                    "ask --no-stream, warm worker", [cli(), "ask", "--no-stream", "Say hello."], warm, hello
                ),
                Case("ask streamed, warm worker", [cli(), "ask", long_prompt], warm, long),
                Case(
                    "ask --no-stream, cold (starts a worker)",
                    [cli(), "ask", "--no-stream", "Say hello."],
                    cold,
                    hello,
                    after=lambda: stop_started_worker(cold),
                ),
            ]
        else:
            notes.append("`worker` does not exist yet: the warm worker's rows are skipped.")
    else:
        notes.append("`ask` does not exist yet: its rows are skipped.")
    if has_command(env, "inspect"):
        if has_ask:
            cases.append(Case("inspect last", [cli(), "inspect", "last"], env, contains(b"gen-0001")))
        else:
            notes.append("`inspect last` needs a history record from `ask`: skipped.")
    else:
        notes.append("`inspect` does not exist yet: skipped.")
    if has_command(env, "stats"):
        big = {**env, "XDG_STATE_HOME": str(Path(env["XDG_STATE_HOME"]).with_name("big-state"))}
        n = f"{args.history_records:,} records"
        cases += [
            Case(f"stats, {n}", [cli(), "stats"], big, contains(b"model\trequests\tsuccess_rate\t")),
            Case(f"stats on a terminal, {n}", [cli(), "stats"], big, contains(b"ttft, log scale"), tty=True),
            Case(f"history, {n}", [cli(), "history"], big, lambda out: out.count(b"\n") == 20),
            Case(f"inspect last, {n}", [cli(), "inspect", "last"], big, contains(b"generation_id: gen-")),
        ]
    else:
        notes.append("`stats` does not exist yet: the big-history rows are skipped.")
    if llm:
        peer_env = {**env, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": env["INWORLD_BASE_URL"]}
        peer_env["LLM_USER_PATH"] = str(Path(env["XDG_DATA_HOME"]) / "llm")
        model = ["-m", PEER_MODEL]
        cases += [
            Case("llm --help", [str(llm), "--help"], peer_env, contains(b"Usage")),
            Case("llm --no-stream", [str(llm), *model, "--no-stream", "Say hello."], peer_env, hello),
            Case("llm streamed", [str(llm), *model, long_prompt], peer_env, long),
        ]
    by_name = {case.name: case for case in cases}
    return Plan(by_name, rows(by_name, args), notes)


def rows(c: dict[str, Case], args: argparse.Namespace) -> list[Row]:
    n = f"{args.deltas:,}-delta"
    floor = c["Typer floor --help"]
    result = [
        Row("`--help`", c["--help"], floor, 1.2, vs_python=True),
        Row("`auth status`", c["auth status"], floor, 1.2, vs_python=True),
        Row("`inspect last`", c.get("inspect last"), floor, 1.2, vs_python=True),
        Row("a completion request (bash)", c["completion (bash)"], floor, 1.2, vs_python=True),
        Row("`ask --no-stream`", c.get("ask --no-stream"), c["SDK floor non-streamed"], 1.03),
        Row(f"`ask`, {n} stream to a file", c.get("ask streamed"), c["SDK floor streamed"], 0.85),
        Row(
            f"`ask`, {n} stream on a terminal",
            c.get("ask streamed, on a terminal"),
            c.get("ask streamed"),
            1.3,
        ),
        Row(
            f"`ask`, stdin after {args.stdin_delay:g} s",
            c.get(f"ask, stdin after {args.stdin_delay:g} s"),
            c.get("ask, stdin ready"),
            args.stdin_delay / 2,
            metric="extra",
        ),
        Row("peak RSS, `ask --no-stream`", c.get("ask --no-stream"), c["SDK floor non-streamed"], 1.1, "rss"),
        Row(f"peak RSS, `ask`, {n} stream", c.get("ask streamed"), c["SDK floor streamed"], 1.1, "rss"),
        Row("warm worker: `ask --no-stream`", c.get("ask --no-stream, warm worker"), c["--help"], 1.5),
        Row(
            f"warm worker: `ask`, {n} stream to a file",
            c.get("ask streamed, warm worker"),
            Difference(
                "ask streamed less the SDK import",
                c.get("ask streamed"),
                c["SDK import"],
                c["python -c pass"],
            ),
            1.1,
        ),
        Row(
            "cold: `ask --no-stream` that starts a worker",
            c.get("ask --no-stream, cold (starts a worker)"),
            c.get("ask --no-stream"),
            1.05,
        ),
        Row(
            "warm worker: `ask --no-stream` vs `auth status`",
            c.get("ask --no-stream, warm worker"),
            c["auth status"],
        ),
        Row(
            "warm worker: `ask --no-stream` vs a Typer command",
            c.get("ask --no-stream, warm worker"),
            c["Typer floor, a command"],
        ),
        Row(
            "warm worker: `ask --no-stream` vs without",
            c.get("ask --no-stream, warm worker"),
            c.get("ask --no-stream"),
        ),
        Row(
            "peak RSS, warm worker: `ask --no-stream`",
            c.get("ask --no-stream, warm worker"),
            c.get("ask --no-stream"),
            metric="rss",
        ),
    ]
    big = f"{args.history_records:,} records"
    result += [
        Row(f"`stats`, {big}, to a file", c.get(f"stats, {big}"), floor, 1.0, "seconds"),
        Row(f"`stats`, {big}, on a terminal", c.get(f"stats on a terminal, {big}"), floor, 1.0, "seconds"),
        Row(f"`history`, {big}", c.get(f"history, {big}"), floor, 1.2, vs_python=True),
        Row(f"`inspect last`, {big}", c.get(f"inspect last, {big}"), floor, 1.2, vs_python=True),
    ]
    if "llm --help" in c:
        result += [
            Row("peer: `--help` vs `llm --help`", c["--help"], c["llm --help"]),
            Row(
                "peer: `ask --no-stream` vs `llm --no-stream`", c.get("ask --no-stream"), c["llm --no-stream"]
            ),
            Row(f"peer: `ask` vs `llm`, {n} stream", c.get("ask streamed"), c["llm streamed"]),
            Row(
                "peer: peak RSS, `ask` vs `llm`, stream",
                c.get("ask streamed"),
                c["llm streamed"],
                metric="rss",
            ),
        ]
    return result


# -- the report ------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def value_of(case: Case | Difference, metric: str) -> str:
    return f"{case.rss_mib:.1f} MiB" if metric == "rss" else ms(case.seconds)


def table_row(row: Row, python: Case) -> list[str]:
    case, ref = row.case, row.reference
    if case is None or ref is None or not case.ok or not ref.ok:
        failed = next((c for c in (case, ref) if c is not None and c.failure), None)
        reason = f"{failed.name} failed: {failed.failure}" if failed else "skipped: see the notes"
        return [row.name, "", "", "", "", reason, "", ""]
    if row.metric == "extra":
        extra = case.seconds - ref.seconds
        ratio, target, passed = f"{extra:+.2f} s", f"≤ +{row.target:.2f} s", extra <= (row.target or 0)
    elif row.metric == "seconds":
        ratio, target = f"{case.seconds / ref.seconds:.2f}×", f"≤ {row.target:.2f} s"
        passed = case.seconds <= (row.target or 0)
    else:
        measured = case.rss_mib / ref.rss_mib if row.metric == "rss" else case.seconds / ref.seconds
        ratio, passed = f"{measured:.2f}×", row.target is not None and measured <= row.target
        target = "" if row.target is None else f"≤ {row.target:.2f}×"
    verdict = "—" if row.target is None else ("pass" if passed else "**FAIL**")
    if row.metric == "time" and ref.seconds <= 0:  # a Difference on a machine too busy to subtract
        ratio, verdict = "—", NOT_MEASURABLE
    return [
        row.name,
        value_of(case, row.metric),
        f"{ref.name}: {value_of(ref, row.metric)}",
        ratio,
        target,
        verdict,
        f"{case.rss_mib:.1f} MiB",
        f"{case.seconds / python.seconds:.1f}×" if row.vs_python and python.ok else "",
    ]


def markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def machine(args: argparse.Namespace, loads: tuple[float, float], peer: str) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or cpu

    def v(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    ours = ", ".join(f"{n} {v(n)}" for n in ("inworld-cli", "typer", "rich", "anthropic", "httpx2"))
    return "\n".join(
        [
            f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"load average {loads[0]:.2f} at the start, {loads[1]:.2f} at the end",
            f"- Python {platform.python_version()}; {ours}",
            f"- peer: {peer}",
            f"- {args.repeat} run{'s' if args.repeat > 1 else ''} per case (median), interleaved in shuffled order"
            + (" after one warm-up round" if not args.quick else "")
            + f"; stream of {args.deltas:,} deltas; slow stdin {args.stdin_delay:g} s"
            + f"; a generated history of {args.history_records:,} records",
        ]
    )


def report(p: Plan, args: argparse.Namespace, loads: tuple[float, float], peer: str) -> str:
    header = [
        "measurement",
        "median",
        "reference",
        "ratio",
        "target",
        "result",
        "peak RSS",
        "× `python -c pass`",
    ]
    python = p.cases["python -c pass"]
    main_table = markdown(header, [table_row(row, python) for row in p.rows])
    raw = [
        [
            case.name,
            str(len(case.samples)),
            *(ms(f(s.seconds for s in case.samples)) for f in (min, statistics.median, max)),
            f"{case.rss_mib:.1f} MiB",
        ]
        if case.ok
        else [case.name, "0", "", "", "", case.failure or "not run"]
        for case in p.cases.values()
    ]
    all_cases = markdown(["case", "runs", "min", "median", "max", "peak RSS (median)"], raw)
    notes = "".join(f"\n- {note}" for note in p.notes)
    return f"{main_table}\n\n{machine(args, loads, peer)}{notes}\n\nAll cases:\n\n{all_cases}\n"


# -- main ------------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 run, a 200-delta stream, 0.3 s stdin, no peer"
    )
    parser.add_argument("--repeat", type=int, default=9, help="runs per case (default: %(default)s)")
    parser.add_argument(
        "--deltas", type=int, default=20000, help="deltas in the long stream (default: %(default)s)"
    )
    parser.add_argument("--stdin-delay", type=float, default=1.0, help="the slow producer's delay in seconds")
    parser.add_argument("--no-peer", action="store_true", help="leave out llm")
    parser.add_argument(
        "--history-records",
        type=int,
        default=100_000,
        help="records in the generated history for stats (default: %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "latest.md", help="also write the table here"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.deltas, args.stdin_delay, args.no_peer = 1, 200, 0.3, True
        args.history_records = 2000
    return args


def run_all(args: argparse.Namespace, llm: Path | None, url: str) -> tuple[Plan, tuple[float, float]]:
    """Every case, measured in a home of its own logged in to the router; with the load averages around."""
    with tempfile.TemporaryDirectory(prefix="inworld-bench-") as tmp:
        env = {**isolated_env(Path(tmp), url), "INWORLD_WORKER": "0"}
        warm, cold = worker_env(env, Path(tmp) / "run-warm"), worker_env(env, Path(tmp) / "run-cold")
        login = subprocess.run(
            [cli(), "auth", "login", "--with-key", "--no-verify"],
            input=KEY.encode(),
            env=env,
            capture_output=True,
            check=False,
        )
        if login.returncode != 0:
            raise SystemExit(f"auth login failed: {login.stderr.decode(errors='replace')}")
        # The catalogue cached, as after a first `ask` (or `models`): asks are priced without fetching it.
        subprocess.run([cli(), "models"], env=env, capture_output=True, check=False)
        p = plan(env, args, llm, warm, cold)
        if "ask --no-stream" in p.cases:  # a history record for `inspect last`
            measure([p.cases["ask --no-stream"]], repeat=0, warmup=True)
        if "ask --no-stream, warm worker" in p.cases:
            start_warm_worker(warm)
            p.notes.append(worker_memory(warm, "after its first request"))
        if any(name.startswith("stats") for name in p.cases):
            progress(f"generating a history of {args.history_records:,} records ...")
            state = Path(tmp) / "big-state" / "inworld-router"
            # In a process of its own: a child's peak RSS counts this process's pages until it execs
            # (the kernel keeps the larger of the two), and generating grows this one by ~30 MB.
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "history_db.py"),
                    str(state / "history.sqlite3"),
                    str(args.history_records),
                ],
                check=True,
            )
        load_before = os.getloadavg()[0]
        try:
            measure(list(p.cases.values()), args.repeat, warmup=not args.quick)
            if "ask --no-stream, warm worker" in p.cases:
                p.notes.append(worker_memory(warm, "at the end"))
        finally:
            subprocess.run([cli(), "worker", "stop"], env=warm, capture_output=True, check=False)
        return p, (load_before, os.getloadavg()[0])


def worker_memory(env: dict[str, str], when: str) -> str:
    status = wait_for_worker(env)
    pid = int(str(status["pid"]))
    rss = rss_mib(pid)
    held = f"{rss:.1f} MiB" if rss is not None else "unknown"
    served = int(str(status["served"]))
    return f"the warm worker's resident memory, idle {when} ({served} request{'s' * (served != 1)} served): {held}"


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when every case ran and printed what it should (missed targets are reported, not fatal)."""
    args = parse(argv)
    started = time.perf_counter()
    if args.no_peer:
        llm, peer = None, "left out (--no-peer)"
    else:
        llm, peer = ensure_peer(sys.executable)
        peer = peer_versions() if llm else peer
    server, url = start_router()
    try:
        p, loads = run_all(args, llm, url)
    finally:
        assert server.stdin
        server.stdin.close()
        server.wait(timeout=10)
    text = report(p, args, loads, peer)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    progress(f"done in {time.perf_counter() - started:.0f} s; table written to {args.output}")
    return 1 if any(case.failure for case in p.cases.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
