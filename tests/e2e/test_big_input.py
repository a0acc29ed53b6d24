"""Big and odd input, end to end: a 10 MB prompt, prompts that are no prompt, bytes that are not UTF-8, very
long lines, right-to-left and combining text, emoji, and broken text from the router."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Home
from tests.router_server import RouterServer, sse_events, sse_reply

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
    routed_home: Home, router: RouterServer
) -> None:
    """A stream cut between the two halves of an emoji's escape pair leaves a lone surrogate, which no
    encoding can write; a C1 control must not reach a terminal raw through --json."""
    answer = "half an emoji: \ud83d, a CSI: \x9b2J."
    router.enqueue(sse_reply(sse_events(chunks=["half an emoji: \ud83d", ", a CSI: \x9b2J."])))
    result = routed_home.run("ask", "hi")
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
