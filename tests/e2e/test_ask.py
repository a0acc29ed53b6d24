"""`ask` end to end, piped: the installed command against the local router."""

from __future__ import annotations

import json
import platform
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.conftest import Home, cli_path
from tests.router_server import (
    DEFAULT_METADATA,
    FAILOVER_METADATA,
    RouterServer,
    error_reply,
    json_reply,
    message,
    sse_events,
    sse_reply,
)

ANSWER = "Neural networks learn by adjusting weights.\n\nThey *descend* a gradient."


def history(home: Home) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", "50")
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def sent_body(router: RouterServer, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = router.messages_requests[index].json
    return body


def test_piped_answer_is_the_text_and_one_newline(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events(ANSWER)))
    result = routed_home.run("ask", "hello")
    assert (result.returncode, result.stdout, result.stderr) == (0, ANSWER + "\n", "")
    assert sent_body(router) == {
        "model": "auto",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "hello"}],
        "stream": True,
    }


def test_an_answer_ending_in_a_newline_gets_no_second_one(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events("done\n")))
    assert routed_home.run("ask", "hello").stdout == "done\n"


def test_piped_output_is_byte_for_byte_utf8_whatever_the_locale(
    routed_home: Home, router: RouterServer
) -> None:
    text = "héllo ✓ 日本 \x1b[1mraw\x1b[0m\r\n\ttab"
    router.enqueue(sse_reply(sse_events(text)))
    result = subprocess.run(
        [cli_path(), "ask", "hi"],
        capture_output=True,
        env={**routed_home.env, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == (text + "\n").encode("utf-8")


def test_stdin_comes_first_then_a_blank_line_then_the_arguments(
    routed_home: Home, router: RouterServer
) -> None:
    result = routed_home.run("ask", "Summarise", "this:", input="line one\nline two\n\n\n")
    assert result.returncode == 0, result.stderr
    assert sent_body(router)["messages"] == [
        {"role": "user", "content": "line one\nline two\n\nSummarise this:"}
    ]


def test_dash_reads_stdin_only(routed_home: Home, router: RouterServer) -> None:
    result = routed_home.run("ask", "-", input="from stdin\n")
    assert result.returncode == 0, result.stderr
    assert sent_body(router)["messages"][0]["content"] == "from stdin"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        ((), "", "error: no prompt"),
        (("-",), " \n\n", "error: no prompt"),
        (("hi",), b"caf\xe9\n", "error: stdin is not UTF-8 text"),
        (("-t", "1.5", "hi"), "", "error: --temperature must be between 0 and 1, not 1.5"),
        (("--top-p", "-0.1", "hi"), "", "error: --top-p must be between 0 and 1, not -0.1"),
        (("--max-tokens", "0", "hi"), "", "error: bad max tokens from --max-tokens: 0"),
        (("-m", " ", "hi"), "", "error: empty model name from --model"),
    ],
)
def test_bad_input_is_a_usage_error_and_sends_nothing(
    routed_home: Home, router: RouterServer, args: tuple[str, ...], stdin: str | bytes, message: str
) -> None:
    result = routed_home.run("ask", *args, input=stdin)
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(message)
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert router.messages_requests == []


def test_options_reach_the_request_body(routed_home: Home, router: RouterServer) -> None:
    result = routed_home.run(
        "ask",
        "-m",
        "openai/gpt-5",
        "-s",
        "Be terse.",
        "--max-tokens",
        "64",
        "-t",
        "0.2",
        "--top-p",
        "0.9",
        "--stop",
        "END",
        "--stop",
        "\n\n",
        "--no-stream",
        "hi",
    )
    assert (result.returncode, result.stdout) == (0, "Hello!\n"), result.stderr
    assert sent_body(router) == {
        "model": "openai/gpt-5",
        "max_tokens": 64,
        "system": "Be terse.",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END", "\n\n"],
        "stream": False,
    }


def test_model_and_max_tokens_come_from_env_and_profile(routed_home: Home, router: RouterServer) -> None:
    (routed_home.config_dir / "config.toml").write_text(
        '[profiles.default]\nmodel = "x/y"\nmax_tokens = 99\n'
    )
    assert routed_home.run("ask", "hi").returncode == 0
    assert (sent_body(router)["model"], sent_body(router)["max_tokens"]) == ("x/y", 99)
    assert routed_home.run("ask", "hi", env={"INWORLD_MODEL": "groq/llama"}).returncode == 0
    assert sent_body(router)["model"] == "groq/llama"


@pytest.mark.parametrize("where", ["start", "delta", "stop", "own", "no-stream"])
def test_json_is_one_object_with_the_metadata(routed_home: Home, router: RouterServer, where: str) -> None:
    if where == "no-stream":
        router.enqueue(json_reply(message(ANSWER, metadata=FAILOVER_METADATA)))
    else:
        router.enqueue(sse_reply(sse_events(ANSWER, metadata=FAILOVER_METADATA, metadata_in=where)))
    result = routed_home.run("ask", "--json", "hi", *(["--no-stream"] if where == "no-stream" else []))
    assert (result.returncode, result.stderr) == (0, "")
    response = json.loads(result.stdout)  # exactly one JSON value: anything else fails to parse
    assert response["metadata"] == FAILOVER_METADATA
    assert response["content"] == [{"type": "text", "text": ANSWER}]
    assert response["model"] == "anthropic/claude-opus-4-6"


def test_json_on_failure_leaves_stdout_empty(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events(ANSWER), cut_after=5))
    result = routed_home.run("ask", "--json", "hi")
    assert (result.returncode, result.stdout) == (5, "")


def test_routing_flag_prints_the_timeline_on_stderr_when_piped(
    routed_home: Home, router: RouterServer
) -> None:
    router.enqueue(sse_reply(sse_events(ANSWER, metadata=FAILOVER_METADATA)))
    result = routed_home.run("ask", "-r", "hi")
    assert (result.returncode, result.stdout) == (0, ANSWER + "\n")
    assert "generation_id: gen-failover-42" in result.stderr
    assert "attempt 1: model=openai/gpt-5 outcome=failed" in result.stderr
    assert "attempt 3: model=anthropic/claude-opus-4-6 outcome=ok" in result.stderr
    assert ANSWER.splitlines()[0] not in result.stderr  # the answer is not repeated there


def test_retry_notices_go_to_stderr_and_quiet_silences_them(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(error_reply(529, "overloaded", "overloaded_error"))
    loud = routed_home.run("ask", "hi")
    assert (loud.returncode, loud.stdout) == (0, "Hello!\n")
    assert loud.stderr == "retrying in 0.5 s after 529 overloaded_error (retry 1 of 2)\n"
    router.enqueue(error_reply(529, "overloaded", "overloaded_error"))
    quiet = routed_home.run("ask", "-q", "hi")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "Hello!\n", "")
    assert len(router.messages_requests) == 4


def test_every_ask_is_recorded_unless_logging_is_off(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(sse_reply(sse_events(ANSWER)))
    assert routed_home.run("ask", "-s", "sys", "recorded").returncode == 0
    assert routed_home.run("ask", "--no-log", "not recorded").returncode == 0
    assert routed_home.run("ask", "not recorded either", env={"INWORLD_NO_LOG": "1"}).returncode == 0
    records = history(routed_home)
    assert len(records) == 1
    record = records[0]
    assert record["request"]["messages"] == [{"role": "user", "content": "recorded"}]
    assert record["request"]["system"] == "sys"
    assert record["response"]["content"] == [{"type": "text", "text": ANSWER}]
    assert record["response"]["metadata"] == DEFAULT_METADATA
    assert (record["exit_status"], record["error"], record["partial"]) == (0, None, False)
    assert record["profile"] == "default"
    assert record["base_url_host"] == f"127.0.0.1:{router.port}"
    assert record["timings"]["ttft_ms"] > 0
    assert record["timings"]["total_ms"] >= record["timings"]["ttft_ms"]
    assert "iw-test" not in json.dumps(record)


def test_a_failure_is_recorded_with_the_routers_error(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(error_reply(400, "max_tokens: too large", "invalid_request_error"))
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout) == (4, "")
    assert "max_tokens: too large" in result.stderr
    record = history(routed_home)[0]
    assert record["exit_status"] == 4
    assert record["error"]["status"] == 400
    assert record["error"]["type"] == "invalid_request_error"
    assert record["error"]["request_id"] == "req-test-123"
    assert record["response"] is None


def test_history_that_cannot_be_written_warns_and_the_answer_succeeds(routed_home: Home) -> None:
    routed_home.state_dir.parent.mkdir(parents=True, exist_ok=True)
    routed_home.state_dir.write_text("not a directory")
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr.startswith("warning: this request was not saved in history")


def test_a_cut_stream_keeps_the_text_ends_the_line_and_exits_5(
    routed_home: Home, router: RouterServer
) -> None:
    events = sse_events(chunks=["First part, ", "second part", " never seen"])
    router.enqueue(sse_reply(events, cut_after=5))  # start, block start, ping, two deltas
    result = routed_home.run("ask", "hi")
    assert result.returncode == 5
    assert result.stdout == "First part, second part\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    record = history(routed_home)[0]
    assert (record["exit_status"], record["partial"]) == (5, True)
    assert record["response"]["content"][0]["text"] == "First part, second part"


def test_routing_flag_shows_the_routing_of_a_failed_stream_before_the_error(
    routed_home: Home, router: RouterServer
) -> None:
    events = sse_events(chunks=["Partial"], metadata=FAILOVER_METADATA, metadata_in="start")
    router.enqueue(sse_reply(events, cut_after=4))
    result = routed_home.run("ask", "-r", "hi")
    assert (result.returncode, result.stdout) == (5, "Partial\n")
    lines = result.stderr.splitlines()
    assert (
        "chain: openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ → anthropic/claude-opus-4-6 ✓" in lines
    )
    assert lines[-2].startswith("error: ")
    assert lines[-1].startswith("hint: ")


def test_non_text_blocks_stay_out_of_stdout(routed_home: Home, router: RouterServer) -> None:
    thinking = {"type": "thinking", "thinking": "secret musings", "signature": "sig"}
    router.enqueue(sse_reply(sse_events("visible", extra_blocks=[thinking])))
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout, result.stderr) == (0, "visible\n", "")


def blocked_reading_stdin(pid: int) -> bool:
    """The process's main thread sits in read(0, ...) (x86-64 Linux: syscall 0 with fd 0)."""
    with open(f"/proc/{pid}/syscall") as status:
        return status.read().startswith("0 0x0 ")


@pytest.mark.skipif(platform.machine() != "x86_64" or sys.platform != "linux", reason="reads /proc syscall")
def test_ctrl_c_while_reading_stdin_exits_130_at_once(routed_home: Home, router: RouterServer) -> None:
    proc = subprocess.Popen(
        [cli_path(), "ask", "question"],
        stdin=subprocess.PIPE,  # a producer that never finishes
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=routed_home.env,
    )
    try:
        while not blocked_reading_stdin(proc.pid):
            assert proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)  # the SDK is still loading in the background by now
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert (proc.returncode, stdout, stderr) == (130, b"", b"")
    assert router.messages_requests == []


def long_stream(router: RouterServer, deltas: int, **kwargs: Any) -> str:
    chunks = [f"word{n:05d} " for n in range(deltas)]
    router.enqueue(sse_reply(sse_events(chunks=chunks), **kwargs))
    return "".join(chunks)


def test_a_reader_that_stops_early_ends_the_program_quietly(routed_home: Home, router: RouterServer) -> None:
    long_stream(router, 20000)
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{cli_path()}' ask hi | head -c 20"],
        capture_output=True,
        env=routed_home.env,
        check=False,
        timeout=60,
    )
    assert result.stdout == b"word00000 word00001 "
    assert result.stderr == b""
    assert result.returncode in (0, 141)


def test_ctrl_c_mid_stream_exits_130_and_records_the_partial_answer(
    routed_home: Home, router: RouterServer
) -> None:
    long_stream(router, 400, event_delay=0.05)
    proc = subprocess.Popen(
        [cli_path(), "ask", "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=routed_home.env,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.read(10)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    shown = (first + proc.stdout.read()).decode()
    assert proc.stderr.read() == b""
    assert shown.startswith("word00000 ")
    assert shown.endswith("\n")
    record = history(routed_home)[0]
    assert (record["exit_status"], record["partial"]) == (130, True)
    assert record["error"]["type"] == "interrupted"
    assert record["response"]["content"][0]["text"] == shown.removesuffix("\n")
    assert record["response"]["model"] == "anthropic/claude-opus-4-6"  # named by message_start, kept
