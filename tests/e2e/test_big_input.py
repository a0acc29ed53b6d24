"""Big and odd input, end to end: a 10 MB prompt, prompts that are no prompt, bytes that are not UTF-8, very
long lines, right-to-left and combining text, emoji, and broken text from the router."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
from typing import Any

import pytest

from tests.conftest import Home, cli_path
from tests.router_server import RouterServer, json_reply, message, sse_events, sse_reply
from tests.terminal import run_on_terminal
from tests.workers import Through

NOT_UTF8_HINT = "hint: arguments and INWORLD_* variables must be UTF-8; convert first, e.g. with iconv"


def history(home: Home, count: int = 1) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", str(count))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        pytest.param(("  ", "\t"), b"", "error: no prompt: the arguments and stdin are empty", id="blank-args"),
        pytest.param(("  ",), b" \n\t\r\n", "error: no prompt: the arguments and stdin are empty", id="blank-both"),
        pytest.param(
            ("describe",), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "error: stdin is not UTF-8 text (invalid byte 0x89 at offset 0)", id="binary-stdin",
        ),
        # Python hands undecodable argument bytes over as lone surrogates (PEP 383): they cannot be sent.
        pytest.param(("caf\udce9",), b"", "error: the prompt is not UTF-8 text (byte 0xe9)", id="latin1-arg"),
        pytest.param(("-s", "\udcff", "hi"), b"", "error: --system is not UTF-8 text (byte 0xff)", id="latin1-system"),
        pytest.param(("--stop", "\udc80", "hi"), b"", "error: --stop is not UTF-8 text (byte 0x80)", id="latin1-stop"),
    ],
)  # fmt: skip
def test_input_that_is_no_prompt_is_a_usage_error_and_sends_nothing(
    routed_home: Home, router: RouterServer, args: tuple[str, ...], stdin: bytes, error: str
) -> None:
    result = routed_home.run("ask", *args, input=stdin)
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0] == error
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    if "not UTF-8 text (byte" in error:
        assert lines[1] == NOT_UTF8_HINT
    assert router.messages_requests == []
    assert history(routed_home, 5) == []


def test_broken_text_from_the_router_is_answered_recorded_and_inspectable(
    routed_home: Home, router: RouterServer, through: Through
) -> None:
    """A stream cut between the two halves of an emoji's escape pair leaves a lone surrogate, which no
    encoding can write; a C1 control must not reach a terminal raw through --json. (Through the worker
    too, which must not join the lone half with anything.)"""
    answer = "half an emoji: \ud83d, a CSI: \x9b2J."
    router.enqueue(sse_reply(sse_events(chunks=["half an emoji: \ud83d", ", a CSI: \x9b2J."])))
    through.begin()
    result = routed_home.run("ask", "hi", env=through.env)
    assert through.served() == (1 if through.worker else 0)
    assert (result.returncode, result.stdout, result.stderr) == (0, "half an emoji: ?, a CSI: \x9b2J.\n", "")
    raw = routed_home.run("history", "--json")
    assert (raw.returncode, raw.stderr) == (0, "")
    assert "\x9b" not in raw.stdout
    [record] = json.loads(raw.stdout)
    assert record["response"]["content"] == [{"type": "text", "text": answer}]  # kept exactly
    assert record["exit_status"] == 0
    shown = routed_home.run("inspect", "--json", "last")
    assert (shown.returncode, json.loads(shown.stdout)) == (0, record)
    plain = routed_home.run("inspect")
    assert (plain.returncode, plain.stderr) == (0, "")
    assert "half an emoji: ?, a CSI: \\x9b2J." in plain.stdout


def test_a_10_mb_prompt_reaches_the_router_intact_and_is_recorded(
    routed_home: Home, router: RouterServer, through: Through
) -> None:
    line = "ünïcødé ✓ 日本語 עברית e\u0301 👩🏽‍💻 "
    material = "".join(f"{n:07d} {line}\n" for n in range(10 * 2**20 // len(f"{0:07d} {line}\n".encode())))
    assert len(material.encode()) > 10_000_000
    through.begin()
    result = routed_home.run("ask", "Summarise", "this.", input=material.encode(), env=through.env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
    assert through.served() == (1 if through.worker else 0)  # the request crossed the socket whole
    expected = digest(material.rstrip("\n") + "\n\nSummarise this.")
    [received] = router.messages_requests
    assert digest(received.json["messages"][0]["content"]) == expected
    shown = routed_home.run("inspect", "--json")
    assert shown.returncode == 0
    assert digest(json.loads(shown.stdout)["request"]["messages"][0]["content"]) == expected


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


RTL_AND_FRIENDS = "שלום עולם · مرحبا بالعالم · e\u0301 a\u0308\u0323 · 👩🏽‍💻 🇫🇷 ❤️"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "no-stream"])
def test_rtl_combining_marks_and_emoji_pass_byte_exact_both_ways(
    routed_home: Home, router: RouterServer, stream: bool
) -> None:
    # The answer arrives cut inside grapheme clusters: between letters and their combining marks, inside
    # the emoji's modifier and ZWJ sequence, between a flag's two regional indicators, before a VS16.
    cuts = [0, 13, 29, 32, 38, 40, 43, 46, len(RTL_AND_FRIENDS)]
    chunks = [RTL_AND_FRIENDS[a:b] for a, b in itertools.pairwise(cuts)]
    assert "".join(chunks) == RTL_AND_FRIENDS
    router.enqueue(sse_reply(sse_events(chunks=chunks)) if stream else json_reply(message(RTL_AND_FRIENDS)))
    args = ["ask", *(["--no-stream"] if not stream else []), "-s", "réponds", "מה", "שלומך 👋🏽?"]
    result = subprocess.run(
        [cli_path(), *args],
        input="ما الأخبار؟ e\u0301\n".encode(),
        capture_output=True,
        env=routed_home.env,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == RTL_AND_FRIENDS.encode() + b"\n"
    sent = router.messages_requests[0].json
    assert sent["messages"][0]["content"] == "ما الأخبار؟ e\u0301\n\nמה שלומך 👋🏽?"
    assert sent["system"] == "réponds"
    [record] = history(routed_home)
    assert record["request"] == sent
    assert record["response"]["content"] == [{"type": "text", "text": RTL_AND_FRIENDS}]


@pytest.mark.tty
def test_rtl_combining_marks_and_emoji_reach_a_terminal_whole(
    routed_home: Home, router: RouterServer
) -> None:
    router.enqueue(sse_reply(sse_events(RTL_AND_FRIENDS)))
    run = run_on_terminal(routed_home, "ask", "-q", "hi")
    assert run.status == 0
    assert RTL_AND_FRIENDS.encode() in run.out.data


LONG_LINE = "".join(f"{n:05d}abcdefghijklmnopqrst" for n in range(4000))  # 100 KB, not a single space


def test_a_100_kb_line_is_piped_byte_exact(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(
        sse_reply(sse_events(chunks=[LONG_LINE[i : i + 700] for i in range(0, len(LONG_LINE), 700)]))
    )
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == LONG_LINE + "\n"


@pytest.mark.tty
def test_a_100_kb_line_on_a_terminal_is_folded_not_lost(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(
        sse_reply(sse_events(chunks=[LONG_LINE[i : i + 700] for i in range(0, len(LONG_LINE), 700)]))
    )
    run = run_on_terminal(routed_home, "ask", "-q", "hi")
    assert run.status == 0
    assert "".join(run.out.lines) == LONG_LINE


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("auth", "login", "--with-key", "--profile", "w\udce9rk"), "the profile name from --profile is not UTF-8 text"),
        (("ask", "--profile", "w\udce9rk", "hi"), "the profile name from --profile is not UTF-8 text"),
        (("ask", "--base-url", "http://h\udce9/", "hi"), "bad base URL from --base-url: 'http://h\\udce9'"),
        (("inspect", "01a2\udce9"), "no history record or generation id matches '01a2\\udce9'"),
    ],
    ids=["auth-login-profile", "ask-profile", "ask-base-url", "inspect-ref"],
)  # fmt: skip
def test_arguments_that_are_not_utf8_are_usage_errors_everywhere(
    routed_home: Home, router: RouterServer, args: tuple[str, ...], error: str
) -> None:
    result = routed_home.run(*args, input="k-0123456789")
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {error}"
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert router.requests == []
