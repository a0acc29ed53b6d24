"""`batch` against the local router: what is sent, what is written, and every way a run can end. In-process
(waits return at once) unless a real process is the point: kill -9, Ctrl-C, a terminal, real time."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.environment import SystemClock
from tests.conftest import Home, InstantClock, cli_path
from tests.router_server import Received, Reply, RouterServer, error_reply, json_reply, message
from tests.terminal import run_on_terminal


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def prompt_of(request: Received) -> str:
    messages = request.json["messages"]
    content = messages[-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


def items(count: int) -> str:
    return "".join(json.dumps({"id": f"q{n}", "prompt": f"question {n}"}) + "\n" for n in range(1, count + 1))


def answer_by_prompt(fail: dict[str, Reply] | None = None, delay: float = 0.0) -> Any:
    """A responder: the answer repeats the prompt; prompts in `fail` get that reply instead."""

    def respond(request: Received) -> Reply:
        prompt = prompt_of(request)
        if fail and prompt in fail:
            return fail[prompt]
        return json_reply(message(f"re: {prompt}"), delay=delay)

    return respond


def history(home: Home) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(home.run("history", "--json", "-n", "500").stdout)
    return records


# -- what is sent, what is written -----------------------------------------------------------------------


def test_each_form_is_sent_with_the_flags_as_defaults_and_gets_one_line(
    routed_home: Home, router: RouterServer
) -> None:
    router.responder = answer_by_prompt()
    lines = [
        {"id": "own", "prompt": "first", "temperature": 0.1},
        {
            "custom_id": "anthropic",
            "params": {"messages": [{"role": "user", "content": "second"}], "model": "x/y"},
        },
        {"prompt": "third", "model": "openai/gpt-5", "max_tokens": 9},
    ]
    source = "".join(json.dumps(line) + "\n" for line in lines)
    result = routed_home.run("batch", "-m", "auto", "-s", "Be brief", "--max-tokens", "50", input=source)
    assert (result.returncode, result.stderr) == (0, "")
    out = jsonl(result.stdout)
    assert sorted(line["id"] for line in out) == ["3", "anthropic", "own"]
    by_id = {line["id"]: line for line in out}
    assert by_id["own"] == {
        "id": "own",
        "status": "ok",
        "text": "re: first",
        "model": "anthropic/claude-opus-4-6",
        "attempts": 1,
        "generation_id": "gen-0001",
        "usage": {"input_tokens": 12, "output_tokens": 7},
        "cost_usd": None,
        "ttft_ms": by_id["own"]["ttft_ms"],
        "total_ms": by_id["own"]["total_ms"],
        "error": None,
    }
    assert by_id["own"]["total_ms"] >= by_id["own"]["ttft_ms"] >= 0
    sent = {prompt_of(r): r.json for r in router.messages_requests}
    assert sent["first"] == {
        "model": "auto",
        "max_tokens": 50,
        "system": "Be brief",
        "messages": [{"role": "user", "content": "first"}],
        "temperature": 0.1,
        "stream": True,
    }
    assert sent["second"] == {
        "messages": [{"role": "user", "content": "second"}],
        "model": "x/y",
        "max_tokens": 50,
        "system": "Be brief",
        "stream": True,
    }
    assert (sent["third"]["model"], sent["third"]["max_tokens"]) == ("openai/gpt-5", 9)
    assert {r.headers["authorization"] for r in router.messages_requests} == {
        "Bearer iw-test-KEY-0123456789abcdef"
    }


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": \n', "error: stdin:2: not valid JSON"),
        (
            '{"id": "a", "prompt": "x"}\n\n{"id": "a", "prompt": "y"}\n',
            'error: stdin:3: the id "a" was already used',
        ),
        ('{"prompt": "x"}\n{"question": "y"}\n', 'error: stdin:2: no "prompt"'),
        ("", "error: no items in stdin"),
    ],
)
def test_bad_input_sends_nothing_and_writes_nothing(
    routed_home: Home, router: RouterServer, tmp_path: Path, source: str, error: str
) -> None:
    out = tmp_path / "out.jsonl"
    result = routed_home.run("batch", "-o", str(out), input=source)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(error)
    assert result.stderr.count("\n") == 2  # error and hint
    assert router.requests == []
    assert not out.exists()
    assert history(routed_home) == []


def test_failures_are_lines_of_their_own_the_others_go_on_and_exit_7(
    routed_home: Home, router: RouterServer
) -> None:
    bad = error_reply(400, "max_tokens: too large", "invalid_request_error")
    router.responder = answer_by_prompt({"question 2": bad})
    result = routed_home.run("batch", "--ordered", input=items(3))
    assert result.returncode == 7
    out = jsonl(result.stdout)
    assert [(line["id"], line["status"]) for line in out] == [("q1", "ok"), ("q2", "error"), ("q3", "ok")]
    assert out[1]["error"] == {
        "status": 400,
        "type": "invalid_request_error",
        "message": "the router answered 400 invalid_request_error: max_tokens: too large (request id req-test-123)",
    }
    assert (out[1]["text"], out[1]["model"]) == (None, None)
    summary = result.stderr.splitlines()
    assert len(summary) == 1
    assert summary[0].startswith("3 items: 2 ok, 1 failed · ")
    assert summary[0].endswith(" requests/s · 24→14 tokens · unpriced")


def test_quiet_leaves_stderr_empty_even_when_items_fail(routed_home: Home, router: RouterServer) -> None:
    router.responder = answer_by_prompt({"question 1": error_reply(404, "no such model", "not_found_error")})
    result = routed_home.run("batch", "-q", input=items(2))
    assert (result.returncode, result.stderr) == (7, "")


def test_lines_mode_and_ordered_output(routed_home: Home, router: RouterServer) -> None:
    release = threading.Event()

    def respond(request: Received) -> Reply:
        prompt = prompt_of(request)
        if prompt == "second":  # answered only once the third has been asked
            release.wait(10)
        if prompt == "third":
            release.set()
        return json_reply(message(f"re: {prompt}"))

    router.responder = respond
    result = routed_home.run("batch", "--lines", "--ordered", "-j", "3", input="first\n\nsecond\nthird\n")
    assert result.returncode == 0, result.stderr
    assert [(line["id"], line["text"]) for line in jsonl(result.stdout)] == [
        ("1", "re: first"),
        ("3", "re: second"),
        ("4", "re: third"),
    ]


# -- resuming --------------------------------------------------------------------------------------------


def test_a_rerun_with_the_same_output_sends_only_what_is_not_ok(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    router.responder = answer_by_prompt({"question 2": error_reply(500, "boom")})
    first = routed_home.run("batch", "-o", str(out), "--retries", "0", input=items(3))
    assert (first.returncode, first.stdout) == (7, "")
    assert sorted((line["id"], line["status"]) for line in jsonl(out.read_text())) == [
        ("q1", "ok"),
        ("q2", "error"),
        ("q3", "ok"),
    ]
    router.requests.clear()
    router.responder = answer_by_prompt()
    second = routed_home.run("batch", "-o", str(out), input=items(3))
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert [prompt_of(r) for r in router.messages_requests] == ["question 2"]
    lines = jsonl(out.read_text())
    assert sorted((line["id"], line["status"]) for line in lines) == [
        ("q1", "ok"),
        ("q2", "ok"),
        ("q3", "ok"),
    ]
    router.requests.clear()
    third = routed_home.run("batch", "-o", str(out), input=items(3))
    assert (third.returncode, third.stderr) == (0, f"nothing to send: all 3 items are already ok in {out}\n")
    assert router.requests == []


def test_a_torn_last_line_from_a_crash_is_cut_off_and_its_item_sent_again(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    whole = json.dumps({"id": "q1", "status": "ok", "text": "re: question 1"}) + "\n"
    out.write_text(whole + '{"id": "q2", "status": "ok", "te')
    router.responder = answer_by_prompt()
    result = routed_home.run("batch", "-o", str(out), input=items(3))
    assert result.returncode == 0, result.stderr
    assert sorted(prompt_of(r) for r in router.messages_requests) == ["question 2", "question 3"]
    text = out.read_text()
    assert text.startswith(whole)
    assert sorted(line["id"] for line in jsonl(text)) == ["q1", "q2", "q3"]


def test_an_output_file_that_batch_did_not_write_is_refused(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = routed_home.run("batch", "-o", str(notes), input=items(1))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {notes}:1: not a line that batch writes")
    assert (notes.read_text(), router.requests) == ("my notes\n", [])


# -- refused keys and rate limits --------------------------------------------------------------------------


def test_a_refused_key_stops_the_batch_after_one_request(routed_home: Home, router: RouterServer) -> None:
    router.responder = lambda request: error_reply(401, "invalid key", "authentication_error")
    result = routed_home.run("batch", "-j", "8", input=items(20))
    assert result.returncode == 3
    assert len(router.messages_requests) == 1
    assert [(line["id"], line["status"]) for line in jsonl(result.stdout)] == [("q1", "error")]
    assert result.stderr.splitlines() == [
        "error: the router answered 401 authentication_error: invalid key (request id req-test-123); "
        "the batch stopped, 19 of 20 items not done",
        "hint: check the key: inworld-router auth status; or run: inworld-router auth login",
    ]


def test_a_key_refused_midway_stops_the_batch_at_once(routed_home: Home, router: RouterServer) -> None:
    answered = Counter[str]()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        with lock:
            answered["all"] += 1
            late = answered["all"] > 5
        return error_reply(403, "key revoked", "permission_error") if late else json_reply(message())

    router.responder = respond
    result = routed_home.run("batch", "-j", "3", input=items(40))
    assert result.returncode == 3
    assert len(router.messages_requests) <= 5 + 3  # those in flight when the first 403 came back, at most
    # The five answered before it, but for those still arriving when it came (cancelled: sent again next run)
    assert 5 - 2 <= sum(1 for line in jsonl(result.stdout) if line["status"] == "ok") <= 5


def test_a_429_storm_pauses_every_worker_and_loses_nothing(routed_home: Home, router: RouterServer) -> None:
    tries = Counter[str]()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        prompt = prompt_of(request)
        with lock:
            tries[prompt] += 1
            refused = tries[prompt] <= 2
        if refused:
            return error_reply(429, "slow down", "rate_limit_error", headers={"retry-after": "3600"})
        return json_reply(message(f"re: {prompt}"))

    router.responder = respond
    clock = InstantClock()
    result = routed_home.run("batch", "-j", "4", input=items(10), clock=clock)
    assert result.returncode == 0, result.stderr
    out = jsonl(result.stdout)
    assert sorted(line["id"] for line in out) == sorted(f"q{n}" for n in range(1, 11))
    assert {line["status"] for line in out} == {"ok"}
    assert set(tries.values()) == {3}  # each item: refused twice, answered once
    # retry-after 3600 capped at 30 s as for ask: the retries go then, new requests a quarter after
    paused = [wait for wait in clock.waits if wait > 20]
    assert all(29 < wait <= 30 or 36.5 < wait <= 37.5 for wait in paused), paused
    assert any(wait <= 30 for wait in paused)
    assert any(wait > 36.5 for wait in paused)
    assert "rate limited (429 rate_limit_error): every request waits 30.0 s (retry 1 of 2)" in result.stderr


def test_a_rate_limited_router_in_real_time_gets_every_item_once(
    routed_home: Home, router: RouterServer
) -> None:
    window, limit = 0.3, 10
    accepted: deque[float] = deque()
    answered = Counter[str]()
    refused = Counter[str]()
    lock = threading.Lock()

    def respond(request: Received) -> Reply:
        prompt = prompt_of(request)
        with lock:
            now = time.monotonic()
            while accepted and accepted[0] <= now - window:
                accepted.popleft()
            if len(accepted) >= limit:
                refused[prompt] += 1
                return error_reply(
                    429, "rate limited", "rate_limit_error", headers={"retry-after": str(window)}
                )
            accepted.append(now)
            answered[prompt] += 1
        return json_reply(message(f"re: {prompt}"))

    router.responder = respond
    result = routed_home.run("batch", "-j", "8", "--retries", "3", input=items(40), clock=SystemClock())
    assert result.returncode == 0, result.stderr
    assert sorted(line["id"] for line in jsonl(result.stdout)) == sorted(f"q{n}" for n in range(1, 41))
    assert answered == Counter({f"question {n}": 1 for n in range(1, 41)})  # none lost, none twice


def test_rate_spaces_the_requests(routed_home: Home, router: RouterServer) -> None:
    clock = InstantClock()
    result = routed_home.run("batch", "--rate", "2", "-j", "5", input=items(5), clock=clock)
    assert result.returncode == 0, result.stderr
    waits = sorted(clock.waits)
    assert len(waits) == 4  # the first goes at once; each other waits for its slot, half a second apart
    assert 1.0 < waits[-1] <= 2.0


# -- history ---------------------------------------------------------------------------------------------


def test_every_item_is_recorded_with_the_batch_id_through_one_connection(
    routed_home: Home, router: RouterServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections = []
    connect = sqlite3.connect

    def counting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connections.append(args[0])
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", counting)
    router.responder = answer_by_prompt()
    assert routed_home.run("batch", input=items(6)).returncode == 0
    assert len(connections) == 1
    monkeypatch.undo()
    records = history(routed_home)
    assert len(records) == 6
    assert len({r["batch_id"] for r in records}) == 1
    assert records[0]["batch_id"]
    assert sorted(r["request"]["messages"][0]["content"] for r in records) == sorted(
        f"question {n}" for n in range(1, 7)
    )
    assert routed_home.run("batch", "--no-log", input=items(2)).returncode == 0
    assert len(history(routed_home)) == 6


# -- real processes: kill -9, Ctrl-C, a terminal ---------------------------------------------------------


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never got {count} lines")


def interrupted_batch(
    home: Home, router: RouterServer, tmp_path: Path, count: int, delay: float, jobs: int
) -> tuple[Path, Path, subprocess.Popen[bytes]]:
    """The installed command sending `count` items with -o to a router answering after `delay`; running."""
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(items(count))
    router.responder = answer_by_prompt(delay=delay)
    proc = subprocess.Popen(
        [cli_path(), "batch", str(source), "-o", str(out), "-j", str(jobs)],
        env=home.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return source, out, proc


def rerun_completes(home: Home, source: Path, out: Path, count: int) -> list[str]:
    """The same command again, against a router answering at once: what it sent; the file now holds one ok
    line per item. A router of its own: requests of the interrupted run still on their way (in a socket's
    queue when it died) reach the old one and are not counted as the rerun's."""
    router = RouterServer()
    try:
        router.responder = answer_by_prompt()
        result = home.run("batch", str(source), "-o", str(out), env={"INWORLD_BASE_URL": router.url})
    finally:
        router.stop()
    assert result.returncode == 0, result.stderr
    final = jsonl(out.read_text())
    assert Counter(line["id"] for line in final) == Counter(f"q{n}" for n in range(1, count + 1))
    assert {line["status"] for line in final} == {"ok"}
    return [prompt_of(r).replace("question ", "q") for r in router.messages_requests]


def test_kill_9_midway_then_a_rerun_sends_only_the_missing_items(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    source, out, proc = interrupted_batch(routed_home, router, tmp_path, 30, 0.05, jobs=4)
    wait_for_lines(out, 6, proc)
    proc.kill()
    proc.wait()
    survived = jsonl(out.read_text())  # every line whole
    assert {line["status"] for line in survived} == {"ok"}
    sent = rerun_completes(routed_home, source, out, 30)
    done_before = {line["id"] for line in survived}
    assert sorted(sent) == sorted(f"q{n}" for n in range(1, 31) if f"q{n}" not in done_before)


def test_ctrl_c_stops_at_once_writes_no_unfinished_item_and_the_rerun_completes(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    source, out, proc = interrupted_batch(routed_home, router, tmp_path, 20, 0.3, jobs=2)
    wait_for_lines(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 130
    written = jsonl(out.read_text())
    assert {line["status"] for line in written} == {"ok"}
    assert stderr.decode().splitlines() == [
        f"interrupted: {len(written)} of 20 items done; rerun the same command to finish"
    ]
    recorded = history(routed_home)
    assert sum(1 for r in recorded if r["exit_status"] == 0) == len(written)
    assert all(r["exit_status"] == 130 for r in recorded if r["exit_status"] != 0)
    sent = rerun_completes(routed_home, source, out, 20)
    assert len(sent) == 20 - len(written)


@pytest.mark.tty
def test_a_terminal_gets_a_progress_bar_then_the_summary_line(
    routed_home: Home, router: RouterServer, tmp_path: Path
) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(items(4))
    router.responder = answer_by_prompt(delay=0.1)
    run = run_on_terminal(routed_home, "batch", str(source), "-o", str(out), "-j", "1", own_stderr=True)
    assert run.status == 0
    assert run.err is not None
    assert "━" in run.err.data.decode()  # the bar was drawn
    lines = run.err.lines
    assert len(lines) == 1, lines  # and erased: the summary takes its place
    assert lines[0].startswith("4 items: 4 ok, 0 failed · ")
    assert lines[0].endswith(" requests/s · 48→28 tokens · unpriced")
    assert len(jsonl(out.read_text())) == 4
