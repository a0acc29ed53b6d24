"""`ask` on a real pseudo-terminal, read back through the pyte terminal emulator (with scrollback)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Home
from tests.router_server import RouterServer, sse_events, sse_reply
from tests.terminal import SPINNER_FRAMES, run_on_terminal
from tests.workers import ProcessWorker

pytestmark = pytest.mark.tty


@pytest.fixture(autouse=True)
def warm(routed_home: Home, shared_worker: ProcessWorker) -> None:
    """These tests are about what a terminal shows, which is the same with or without the warm worker (the
    fault matrix on a terminal runs both ways): they send through the test process's shared worker, so
    that each does not pay the SDK's import."""
    routed_home.env.update(shared_worker.env)


def stream_of(text: str, piece: int = 5, **kwargs: Any) -> Any:
    chunks = [text[i : i + piece] for i in range(0, len(text), piece)]
    return sse_reply(sse_events(chunks=chunks), **kwargs)


def test_without_a_prompt_a_terminal_gets_a_usage_error_not_a_wait(
    routed_home: Home, router: RouterServer
) -> None:
    run = run_on_terminal(routed_home, "ask")
    assert run.status == 2
    assert run.out.lines[0] == "error: no prompt"
    assert router.messages_requests == []


def test_dash_on_a_terminal_reads_what_is_typed_until_ctrl_d(routed_home: Home, router: RouterServer) -> None:
    run = run_on_terminal(routed_home, "ask", "-", type_after=(b"Ctrl-D", b"typed prompt\n\x04"))
    assert run.status == 0
    assert run.out.lines[0] == "Reading the prompt from the terminal; end it with Ctrl-D."
    assert router.messages_requests[0].json["messages"][0]["content"] == "typed prompt"


def test_an_answer_three_screens_long_scrolls_back_without_duplicates_or_gaps(
    routed_home: Home, router: RouterServer
) -> None:
    paragraphs = [f"Paragraph {n:03d} of a long answer, with **bold** words." for n in range(40)]
    router.enqueue(stream_of("\n\n".join(paragraphs), event_delay=0.002))
    run = run_on_terminal(routed_home, "ask", "hi")
    assert run.status == 0
    shown = [line for line in run.out.lines if line.startswith("Paragraph")]
    assert shown == [p.replace("**", "") for p in paragraphs]
    assert "anthropic/claude-opus-4-6 · 1 attempt" in run.out.text  # the summary, after the answer
    assert run.out.lines[-1].startswith("anthropic/claude-opus-4-6")


@pytest.fixture
def busy_cpus() -> Iterator[None]:
    """More CPU-bound processes than cores, for as long as the test runs: the CLI's threads then lose the
    CPU at arbitrary points, which is when writes to the terminal from two threads can interleave."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
    count = min(cores + 1, 16)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait()


@pytest.mark.usefixtures("busy_cpus")
def test_a_long_answer_on_a_busy_machine_scrolls_back_each_paragraph_once_and_whole(
    routed_home: Home, router: RouterServer
) -> None:
    paragraphs = [f"Paragraph {n:03d} of a long answer, with **bold** words." for n in range(40)]
    router.enqueue(stream_of("\n\n".join(paragraphs), event_delay=0.002))
    run = run_on_terminal(routed_home, "ask", "-q", "hi")
    assert run.status == 0
    # Nothing but the paragraphs, each once, in order, whole, one blank line apart: no stub of the live
    # view (a cut line, a repeated paragraph) is left behind.
    assert run.out.lines == [line for p in paragraphs for line in (p.replace("**", ""), "")][:-1]


def test_one_paragraph_longer_than_the_screen_is_shown_once_and_whole(
    routed_home: Home, router: RouterServer
) -> None:
    words = [f"w{n}" for n in range(900)]  # about 60 lines at 80 columns, no blank line anywhere
    router.enqueue(stream_of(" ".join(words), piece=4, event_delay=0.001))
    run = run_on_terminal(routed_home, "ask", "-q", "hi")
    assert run.status == 0
    assert " ".join(run.out.lines).split() == words


@pytest.mark.parametrize(
    ("chunks", "last"),
    [
        ([f"w{n} " for n in range(900)], "w899"),  # one paragraph, no blank line
        (["```\n", *(f"line {n}\n" for n in range(300))], "line 299"),  # a code block of short lines
    ],
    ids=["paragraph", "code"],
)
def test_the_live_view_follows_the_end_of_a_block_taller_than_the_screen(
    routed_home: Home, router: RouterServer, chunks: list[str], last: str
) -> None:
    # The stream stalls after the last piece: only a live view that shows the end of the growing block
    # (not a view frozen at its top) puts that piece on the screen before the stall times out.
    router.enqueue(sse_reply(sse_events(chunks=chunks), stall_after=3 + len(chunks)))
    run = run_on_terminal(routed_home, "ask", "--timeout", "5", "hi", interrupt_after=last.encode())
    assert run.status == 130
    expected = "".join(chunks).replace("```", "").split()
    assert " ".join(run.out.lines).split() == expected


def test_markdown_is_rendered(routed_home: Home, router: RouterServer) -> None:
    answer = "# Title\n\nSome **bold** text and `code`.\n\n- item one\n- item two\n\n```python\nx = 1\n```"
    router.enqueue(stream_of(answer))
    run = run_on_terminal(routed_home, "ask", "-q", "hi")
    assert run.status == 0
    text = run.out.text
    assert "Some bold text and code." in text
    assert "**" not in text
    assert "#" not in text
    assert "Title" in text
    assert "• item one" in text
    assert "x = 1" in text
    assert "```" not in text


def test_escape_sequences_in_an_answer_cannot_take_over_the_terminal(
    routed_home: Home, router: RouterServer
) -> None:
    answer = "KEEP-ME\n\nbefore \x1b]0;pwned\x07 mid \x1b[2J\x1b[H after\r end \x9b2J"
    router.enqueue(stream_of(answer, piece=3))
    run = run_on_terminal(routed_home, "ask", "hi")
    assert run.status == 0
    assert run.out.screen.title == ""
    assert "KEEP-ME" in run.out.lines
    assert "before ^[]0;pwned^G mid ^[[2J^[[H after^M end \\x9b2J" in run.out.text


def test_a_dumb_terminal_gets_plain_neutralised_text(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(stream_of("**not rendered** \x1b]0;pwned\x07"))
    run = run_on_terminal(routed_home, "ask", "hi", env={"TERM": "dumb"})
    assert run.status == 0
    assert run.out.lines[0] == "**not rendered** ^[]0;pwned^G"
    assert run.out.screen.title == ""
    assert not any(frame in run.out.text for frame in SPINNER_FRAMES)


def test_the_spinner_stays_on_stderr_and_is_erased(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(stream_of("The answer.", delay=1.0))
    run = run_on_terminal(routed_home, "ask", "hi", own_stderr=True)
    assert run.status == 0
    assert run.err is not None
    assert b"waiting for auto" in run.err.data  # it was there while waiting...
    assert "waiting for" not in run.err.text  # ...and is gone from the screen
    assert run.err.lines == ["anthropic/claude-opus-4-6 · 1 attempt · " + run.err.lines[0].split(" · ", 2)[2]]
    assert b"waiting" not in run.out.data
    assert not any(frame.encode() in run.out.data for frame in SPINNER_FRAMES)
    assert run.out.lines == ["The answer."]


def test_quiet_leaves_a_terminals_stderr_empty(routed_home: Home, router: RouterServer) -> None:
    router.enqueue(stream_of("The answer.", delay=0.5))
    run = run_on_terminal(routed_home, "ask", "-q", "hi", own_stderr=True)
    assert run.status == 0
    assert run.err is not None
    assert run.err.data == b""


def test_a_terminal_user_is_told_about_blocks_not_shown(routed_home: Home, router: RouterServer) -> None:
    thinking = {"type": "thinking", "thinking": "hidden musings", "signature": "s"}
    router.enqueue(sse_reply(sse_events("visible", extra_blocks=[thinking])))
    run = run_on_terminal(routed_home, "ask", "hi")
    assert run.status == 0
    assert "hidden musings" not in run.out.text
    assert "note: the answer also had thinking content" in run.out.text


def test_ctrl_c_on_a_terminal_keeps_the_partial_answer_and_restores_the_terminal(
    routed_home: Home, router: RouterServer
) -> None:
    text = "First paragraph.\n\nSecond paragraph grows " + " ".join(f"x{n}" for n in range(400))
    router.enqueue(stream_of(text, piece=4, event_delay=0.02))
    run = run_on_terminal(routed_home, "ask", "hi", interrupt_after=b"x3")
    assert run.status == 130
    lines = run.out.lines
    assert lines.count("First paragraph.") == 1
    assert any(line.startswith("Second paragraph grows x0 x1 x2 x3") for line in lines)
    assert not run.out.screen.cursor.hidden
    assert "Traceback" not in run.out.text


def test_a_cut_stream_on_a_terminal_keeps_the_text_then_the_error(
    routed_home: Home, router: RouterServer
) -> None:
    router.enqueue(sse_reply(sse_events(chunks=["Kept ", "text."]), cut_after=5))
    run = run_on_terminal(routed_home, "ask", "hi")
    assert run.status == 5
    lines = run.out.lines
    assert lines[0] == "Kept text."
    assert lines[1].startswith("error: ")  # long lines wrap: the hint follows somewhere below
    assert any(line.startswith("hint: ") for line in lines[2:])
