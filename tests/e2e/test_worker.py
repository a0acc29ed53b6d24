"""The warm worker end to end: `ask` through it looks exactly as without it, and every fault of the worker
(missing, stale, hung, outdated, killed before or after it took the request, racing starts, Ctrl-C in the
client) costs neither the answer nor a second request.

Where a real process adds nothing, the worker runs in a thread of the test process (tests/workers.py): same
socket, same protocol, same engine. Killing, racing starts, scrubbed environments and signals use real ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.worker import client, protocol
from inworld_cli.worker.client import WORKER_LOST, WORKER_LOST_HINT
from inworld_cli.worker.sockets import APP_DIR
from tests.conftest import TEST_KEY, Home, cli_path
from tests.router_server import Received, Reply, RouterServer, sse_events, sse_reply
from tests.workers import (
    ProcessWorker,
    ThreadWorker,
    place_of,
    process_environment_of,
    runtime_dir,
    start_process_worker,
    thread_worker,
    wait_until,
    worker_env,
)

IN_PROCESS = {"INWORLD_WORKER": "0"}


def history(home: Home) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", "50")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A history record without what differs between any two runs (its id, time and timings)."""
    return {k: v for k, v in record.items() if k not in ("id", "created_at", "timings", "conversation_id")}


def headers(request: Received) -> list[tuple[str, str]]:
    return sorted(request.header_lines)


def stop_the_worker_started(runtime: Path) -> None:
    """Wait for the worker an `ask` started in the background, and stop it."""
    worker = ProcessWorker(runtime)
    worker.wait_until_up()
    worker.stop()


# -- the same with and without ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["ask", "hi"], ["ask", "--no-stream", "hi"], ["ask", "--json", "hi"]],
    ids=["stream", "whole", "json"],
)
def test_an_ask_through_the_worker_is_the_ask_without_it(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker, args: list[str]
) -> None:
    alone = routed_home.run(*args, env=IN_PROCESS)
    through = routed_home.run(*args, env=thread_worker.env)
    assert thread_worker.served == 1
    assert (through.returncode, through.stdout, through.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert alone.returncode == 0
    assert "Hello!" in alone.stdout
    first, second = router.messages_requests
    assert (second.body, headers(second)) == (first.body, headers(first))  # the key, the body: all the same
    newest, oldest = history(routed_home)
    assert comparable(newest) == comparable(oldest)
    assert newest["timings"]["ttft_ms"] > 0


def test_turned_off_the_worker_is_not_used(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker
) -> None:
    off = {**thread_worker.env, "INWORLD_WORKER": "0"}
    assert routed_home.run("ask", "hi", env=off).stdout == "Hello!\n"
    routed_home.config_dir.joinpath("config.toml").write_text("worker = false\n")
    unset = {**thread_worker.env, "INWORLD_WORKER": ""}  # the config decides
    assert routed_home.run("ask", "hi", env=unset).stdout == "Hello!\n"
    assert thread_worker.served == 0
    assert len(router.messages_requests) == 2
    assert sorted(os.listdir(thread_worker.place.directory)) == ["worker.lock", "worker.sock"]  # none started
    bad = routed_home.run("ask", "hi", env={**thread_worker.env, "INWORLD_WORKER": "maybe"})
    assert (bad.returncode, bad.stderr.splitlines()[0]) == (
        2,
        "error: bad value for INWORLD_WORKER: 'maybe' (use 1 or 0)",
    )


def test_a_bug_in_the_worker_is_an_internal_error_not_a_lost_answer(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(thread_worker.server.transport, "post_messages", broken)
    result = routed_home.run("ask", "hi", env=thread_worker.env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "error: internal error: RuntimeError: boom",
        "hint: rerun with INWORLD_WORKER=0 --debug, and report it",
    ]
    assert history(routed_home)[0]["exit_status"] == 1
    assert routed_home.run("ask", "hi", env=IN_PROCESS).stdout == "Hello!\n"  # the router was never asked
    assert len(router.messages_requests) == 1


# -- starting one ----------------------------------------------------------------------------------------


def test_without_a_worker_ask_sends_itself_then_starts_one_in_the_background(
    routed_home: Home, router: RouterServer
) -> None:
    runtime = runtime_dir()
    env = worker_env(runtime)
    place = place_of(runtime)
    # A real process with pipes: it must not wait for the worker it starts, which must not hold them.
    first = routed_home.spawn("ask", "hi", env=env)
    assert (first.returncode, first.stdout, first.stderr) == (0, "Hello!\n", "")
    worker = ProcessWorker(runtime)
    worker.wait_until_up()
    try:
        assert oct(place.directory.stat().st_mode & 0o777) == "0o700"
        assert oct(place.socket.stat().st_mode & 0o777) == "0o600"
        pid = worker.pid
        assert os.getsid(pid) == pid  # detached: a session of its own, no terminal
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
        assert all(os.readlink(f"/proc/{pid}/fd/{n}") == "/dev/null" for n in (0, 1, 2))
        second = routed_home.run("ask", "hi", env=env)
        assert (second.returncode, second.stdout, second.stderr) == (0, "Hello!\n", "")
        assert worker.served == 1
        assert len(router.messages_requests) == 2
    finally:
        worker.stop()
    assert not place.socket.exists()


def test_two_workers_starting_at_the_same_moment_one_wins_quietly() -> None:
    runtime = runtime_dir()
    place = place_of(runtime)
    place.directory.mkdir(mode=0o700)
    command = [
        sys.executable,
        "-P",
        "-m",
        "inworld_cli.worker",
        str(place.directory),
        "600",
        protocol.build_id(),
    ]
    starts = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"PATH": os.environ["PATH"]}
        )
        for _ in range(2)
    ]
    wait_until(lambda: any(p.poll() is not None for p in starts), "the loser to exit")
    [loser] = [p for p in starts if p.poll() is not None]
    [winner] = [p for p in starts if p is not loser]
    assert (loser.returncode, loser.communicate()) == (0, (b"", b""))
    worker = ProcessWorker(runtime)
    worker.wait_until_up()
    assert worker.pid == winner.pid
    worker.stop()
    assert winner.wait(10) == 0
    assert winner.communicate() == (b"", b"")


# -- faults -----------------------------------------------------------------------------------------------


def test_a_stale_socket_file_is_no_worker(routed_home: Home, router: RouterServer) -> None:
    runtime = runtime_dir()
    place = place_of(runtime)
    place.directory.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX) as dead:  # a worker killed with SIGKILL leaves its file behind
        dead.bind(str(place.socket))
    result = routed_home.run("ask", "hi", env=worker_env(runtime))
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
    assert len(router.messages_requests) == 1
    stop_the_worker_started(runtime)  # the new worker took the stale file's place


HUNG = """
import fcntl, os, socket, sys, time
lock = os.open(sys.argv[1] + "/worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
os.write(lock, str(os.getpid()).encode())
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[1] + "/worker.sock")
listener.listen(8)
print("up", flush=True)
time.sleep(120)
"""


def test_a_worker_that_does_not_answer_in_time_is_passed_over(
    routed_home: Home, router: RouterServer
) -> None:
    """It accepts connections (the kernel does) but never answers: ask sends itself, starts no second
    worker (the hung one holds the lock), and `worker stop` ends the hung one."""
    runtime = runtime_dir()
    place = place_of(runtime)
    place.directory.mkdir(mode=0o700)
    hung = subprocess.Popen([sys.executable, "-c", HUNG, str(place.directory)], stdout=subprocess.PIPE)
    assert hung.stdout is not None
    assert hung.stdout.readline() == b"up\n"
    env = worker_env(runtime)
    result = routed_home.run("ask", "hi", env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
    assert len(router.messages_requests) == 1
    status = routed_home.run("worker", "status", env=env)
    assert status.returncode == 1
    assert status.stdout.splitlines()[0] == (
        f"worker:    not answering, pid {hung.pid} (stop it: inworld-router worker stop)"
    )
    stop = routed_home.run("worker", "stop", env=env)
    assert (stop.returncode, stop.stderr) == (
        0,
        f"Stopped the worker (pid {hung.pid}), which did not answer\n",
    )
    assert hung.wait(10) == -signal.SIGTERM


def test_a_worker_late_to_answer_while_it_works_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of commands on a loaded machine can keep a live worker from answering a hello in time: as
    long as it is using the CPU it is busy, not hung, and sending the request ourselves (importing the SDK)
    would only load the machine more. (One that answers late without working: the test above.)"""
    monkeypatch.setattr(client, "ANSWER_WITHIN", 0.5)
    build = protocol.build_id()
    place = place_of(runtime_dir())
    place.directory.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(place.socket))
    listener.listen(1)

    def busy_worker() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.makefile("rb").readline()
            busy_until = time.monotonic() + 2.5 * client.ANSWER_WITHIN  # past two of the client's waits
            while time.monotonic() < busy_until:
                pass
            connection.sendall(protocol.line({"op": "hello", "build": build}))
            connection.recv(1)  # until the client hangs up

    worker = threading.Thread(target=busy_worker)
    worker.start()
    try:
        connection = client.hello(place, build)
        assert connection is not None
        connection.close()
    finally:
        worker.join()
        listener.close()


def test_a_worker_of_another_build_exits_and_one_of_ours_starts(
    routed_home: Home, router: RouterServer
) -> None:
    with thread_worker(build="0.0.1+someone-else") as outdated:
        result = routed_home.run("ask", "hi", env=outdated.env)
        assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
        outdated.thread.join(10)
        assert not outdated.thread.is_alive()  # it retired at the hello
        assert outdated.served == 0
    assert len(router.messages_requests) == 1
    worker = ProcessWorker(outdated.runtime)
    worker.wait_until_up()
    info = worker.status()
    assert info is not None
    assert info["build"] == protocol.build_id()
    worker.stop()


def socket_fds(pid: int) -> int:
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            count += os.readlink(fd_dir / fd).startswith("socket:")
    return count


def start_ask(
    home: Home, worker: ProcessWorker, *args: str, stdin: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [cli_path(), "ask", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**home.env, **worker.env},
    )


def test_a_worker_killed_before_it_took_the_request(routed_home: Home, router: RouterServer) -> None:
    """The client said hello early, then read its stdin; the worker died meanwhile: the client sends the
    request itself, and the router sees it once."""
    worker = start_process_worker()
    proc = start_ask(routed_home, worker, "-", stdin=subprocess.PIPE)
    wait_until(lambda: socket_fds(proc.pid) > 0, "the client to say hello")
    os.kill(worker.pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(b"hi", timeout=60)
    assert (proc.returncode, stdout, stderr) == (0, b"Hello!\n", b"")
    assert len(router.messages_requests) == 1
    [record] = history(routed_home)
    assert (record["exit_status"], record["response"]["content"][0]["text"]) == (0, "Hello!")
    stop_the_worker_started(worker.runtime)  # the client started a new one


def test_a_worker_killed_after_it_sent_the_request(routed_home: Home, router: RouterServer) -> None:
    """Once the worker took the request it may have reached the router: a dead worker is a network failure
    (exit 6) with what arrived kept, and the request is not sent again."""
    router.enqueue(sse_reply(sse_events(chunks=["Partial ", "answer", " never seen"]), stall_after=5))
    worker = start_process_worker()
    proc = start_ask(routed_home, worker, "hi")
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    shown = b""
    deadline = time.monotonic() + 30
    while b"Partial answer" not in shown and time.monotonic() < deadline:
        shown += proc.stdout.read() or b""
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 6
    assert shown + stdout == b"Partial answer\n"
    assert stderr.decode().splitlines() == [f"error: {WORKER_LOST}", f"hint: {WORKER_LOST_HINT}"]
    assert len(router.messages_requests) == 1
    [record] = history(routed_home)
    assert (record["exit_status"], record["partial"]) == (6, True)
    assert record["response"]["content"] == [{"type": "text", "text": "Partial answer"}]
    assert record["error"] == {"status": None, "type": None, "message": WORKER_LOST, "request_id": None}


def slow_answer(request: Received) -> Reply:
    """Each prompt's words, one event every 50 ms: long enough to interrupt, short enough to wait for."""
    words = [f"{word} " for word in request.json["messages"][0]["content"].split()]
    return sse_reply(sse_events(chunks=words), event_delay=0.05)


def test_ctrl_c_in_the_client_cancels_its_request_in_the_worker_which_serves_on(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker
) -> None:
    router.responder = slow_answer
    long = " ".join(f"w{n}" for n in range(60))
    interrupted = start_ask(routed_home, thread_worker, long)
    other = start_ask(routed_home, thread_worker, "one two three four")
    assert interrupted.stdout is not None
    assert interrupted.stdout.read(3) == b"w0 "  # it is answering
    interrupted.send_signal(signal.SIGINT)
    stdout, stderr = interrupted.communicate(timeout=30)
    assert (interrupted.returncode, stderr) == (130, b"")
    printed = ("w0 " + stdout.decode()).splitlines()
    assert len(printed) == 1
    assert long.startswith(printed[0].rstrip())
    assert other.communicate(timeout=30) == (b"one two three four \n", b"")
    assert other.returncode == 0
    wait_until(lambda: router.dropped == 1, "the worker to hang up on the router")
    after = routed_home.run("ask", "and after", env=thread_worker.env)
    assert (after.returncode, after.stdout) == (0, "and after \n")
    assert thread_worker.served == 3
    records = {r["request"]["messages"][0]["content"]: r for r in history(routed_home)}
    cut = records[long]
    assert (cut["exit_status"], cut["error"]["type"], cut["partial"]) == (130, "interrupted", True)
    assert long.startswith(cut["response"]["content"][0]["text"])
    assert len(router.messages_requests) == 3


def test_ctrl_c_before_the_router_answers_ends_the_ask_at_once_with_nothing_recorded_of_the_answer(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker
) -> None:
    """The worker cannot cut short a request the router has not answered yet (the HTTP call waits for the
    answer's headers), so it gives its account, nothing, at once: the exchange ends for the client (and in
    the worker's count) while the router still holds the answer, which is then neither shown nor recorded."""
    answer = threading.Event()

    def held(request: Received) -> Reply:
        answer.wait(60)
        return sse_reply(sse_events(chunks=["too ", "late"]))

    router.responder = held
    try:
        proc = start_ask(routed_home, thread_worker, "hi")
        wait_until(lambda: len(router.messages_requests) == 1, "the request to reach the router")
        proc.send_signal(signal.SIGINT)
        wait_until(lambda: thread_worker.served == 1, "the worker to end the exchange, unanswered")
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        answer.set()
    assert (proc.returncode, stdout, stderr) == (130, b"", b"")
    [record] = history(routed_home)
    assert (record["exit_status"], record["error"]["type"], record["partial"]) == (130, "interrupted", False)
    assert (record["response"], record["timings"]["ttft_ms"]) == (None, None)


# -- lifetime --------------------------------------------------------------------------------------------


def test_an_idle_worker_exits_and_gives_its_place_back() -> None:
    with thread_worker(idle=0.1) as worker:
        worker.thread.join(10)
        assert not worker.thread.is_alive()
        assert not worker.place.socket.exists()
        assert client.lock_holder(worker.place) is None


@pytest.mark.parametrize("removed", ["socket", "directory"])
def test_a_worker_whose_socket_is_removed_exits(removed: str) -> None:
    with thread_worker() as worker:
        if removed == "socket":
            worker.place.socket.unlink()
        else:
            shutil.rmtree(worker.place.directory)
        worker.thread.join(10)
        assert not worker.thread.is_alive()


def test_worker_status_and_stop(routed_home: Home, thread_worker: ThreadWorker) -> None:
    env = thread_worker.env
    assert routed_home.run("ask", "hi", env=env).returncode == 0
    status = routed_home.run("worker", "status", env=env)
    assert (status.returncode, status.stderr) == (0, "")
    lines = status.stdout.splitlines()
    assert lines[0] == f"worker:    running, pid {os.getpid()}"
    assert lines[1] == f"version:   {protocol.build_id().split('+')[0]}"
    assert lines[2].startswith("since:     ")
    assert lines[3:] == [
        "served:    1 request (0 in flight)",
        "idle exit: after 10 min without a request",
        f"socket:    {thread_worker.place.socket}",
    ]
    as_json = json.loads(routed_home.run("worker", "status", "--json", env=env).stdout)
    assert (as_json["running"], as_json["pid"], as_json["served"], as_json["current"]) == (
        True,
        os.getpid(),
        1,
        True,
    )
    stop = routed_home.run("worker", "stop", env=env)
    assert (stop.returncode, stop.stderr) == (0, f"Stopped the worker (pid {os.getpid()})\n")
    thread_worker.thread.join(10)
    after = routed_home.run("worker", "status", env=env)
    assert (after.returncode, after.stdout.splitlines()[0]) == (
        1,
        "worker:    not running (the next ask starts one)",
    )
    off = routed_home.run("worker", "status", env={**env, "INWORLD_WORKER": "0"})
    assert (off.returncode, off.stdout.splitlines()[0]) == (
        1,
        "worker:    not running, and off (INWORLD_WORKER)",
    )
    again = routed_home.run("worker", "stop", env=env)
    assert (again.returncode, again.stderr) == (0, "No worker is running\n")


# -- security --------------------------------------------------------------------------------------------


def test_the_worker_keeps_no_key_after_a_request(routed_home: Home, thread_worker: ThreadWorker) -> None:
    assert routed_home.run("ask", "hi", env=thread_worker.env).returncode == 0
    kept = thread_worker.server.transport._clients
    assert kept
    assert all(endpoint.key == "" for endpoint in kept)
    assert all(sdk is None for _, sdk in kept.values())


AS_NOBODY = """
import os, socket, sys
os.setgid(65534); os.setuid(65534)
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(5)
try:
    sock.connect(sys.argv[1])
except PermissionError:
    sys.exit("kept out")
try:
    sock.sendall(b'{"op":"status"}\\n')
    print(repr(sock.recv(100)))
except (BrokenPipeError, ConnectionResetError):
    print("hung up on")
"""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_gets_nothing_from_the_worker(thread_worker: ThreadWorker) -> None:
    directory = thread_worker.place.directory
    # The directory (0700) keeps other users out; opened up, the worker itself still refuses them.
    denied = subprocess.run([sys.executable, "-c", AS_NOBODY, str(thread_worker.place.socket)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert (denied.returncode, denied.stderr) == (1, "kept out\n")
    for path in (thread_worker.runtime, directory):
        path.chmod(0o777)
    thread_worker.place.socket.chmod(0o666)
    refused = subprocess.run([sys.executable, "-c", AS_NOBODY, str(thread_worker.place.socket)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert (refused.returncode, refused.stdout) in ((0, "b''\n"), (0, "hung up on\n"))  # unanswered


SERVE_AS_NOBODY = """
import os, socket, sys
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
os.setgid(65534); os.setuid(65534)
listener.listen(1)
print("up", flush=True)
conn, _ = listener.accept()
sys.stdout.write(conn.recv(4096).decode())
"""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_a_socket_served_by_another_user_is_not_trusted_with_the_key(
    routed_home: Home, router: RouterServer
) -> None:
    runtime = runtime_dir()
    place = place_of(runtime)
    place.directory.mkdir(mode=0o700)
    impostor = subprocess.Popen(
        [sys.executable, "-c", SERVE_AS_NOBODY, str(place.socket)], stdout=subprocess.PIPE
    )
    assert impostor.stdout is not None
    assert impostor.stdout.readline() == b"up\n"
    result = routed_home.run("ask", "hi", env={**worker_env(runtime), "INWORLD_WORKER": "1"})
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    impostor.kill()
    heard, _ = impostor.communicate(timeout=10)
    assert TEST_KEY.encode() not in heard
    assert b"hello" not in heard
    assert len(router.messages_requests) == 1
    stop_the_worker_started(runtime)  # one of our own took the socket's place


def test_a_socket_path_too_long_for_an_address_still_works(routed_home: Home) -> None:
    runtime = runtime_dir() / ("r" * 100)
    runtime.mkdir(mode=0o700)
    assert len(str(runtime / APP_DIR / "worker.sock")) > 110
    with thread_worker(runtime) as worker:
        result = routed_home.run("ask", "hi", env=worker.env)
        assert (result.returncode, result.stdout) == (0, "Hello!\n")
        assert worker.served == 1


def test_a_worker_started_from_a_hostile_environment_has_none_of_it(routed_home: Home) -> None:
    hostile = {**os.environ, "ANTHROPIC_API_KEY": "sk-ant-EVIL", "INWORLD_API_KEY": TEST_KEY,
               "HTTPS_PROXY": "http://127.0.0.1:9", "PYTHONPATH": "/nowhere"}  # fmt: skip
    worker = start_process_worker(variables=hostile)
    try:
        environ = process_environment_of(worker.pid)
        assert set(environ) <= {
            "PATH",
            "LANG",
            "LC_ALL",
            "LC_CTYPE",
            "PYTHONPATH",
            "PYTHONHOME",
            "PYTHONUSERBASE",
        }
        assert environ["PYTHONPATH"] == "/nowhere"
        assert not any("EVIL" in value or TEST_KEY in value for value in environ.values())
    finally:
        worker.stop()
