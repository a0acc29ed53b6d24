"""The stdout writers of `ask`, the markdown block splitter and the stderr spinner."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pyte
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.markdown import Markdown

from inworld_cli.output import answer as answer_output
from inworld_cli.output.answer import BlockSplitter, MarkdownAnswer, RawAnswer, Spinner, json_text
from inworld_cli.output.console import Output


def split(text: str, step: int = 1) -> list[str]:
    splitter = BlockSplitter()
    blocks: list[str] = []
    for start in range(0, len(text), step):
        blocks += splitter.feed(text[start : start + step])
    return blocks + splitter.flush()


def test_paragraphs_are_released_at_blank_lines() -> None:
    text = "# Title\nfirst para\nstill first\n\n\nsecond\n\nthird"
    assert split(text) == ["# Title\nfirst para\nstill first", "second", "third"]


def test_a_block_is_released_only_once_the_next_line_shows_it_ended() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("one\n\n") == []
    assert splitter.feed("tw") == []
    assert splitter.feed("o\n") == ["one"]
    assert splitter.pending() == "two\n"


def test_blank_lines_inside_a_fence_do_not_split_it() -> None:
    text = "intro\n\n```python\na = 1\n\n\nb = 2\n```\nafter\n\n~~~\nx\n\ny\n~~~"
    assert split(text) == ["intro", "```python\na = 1\n\n\nb = 2\n```", "after", "~~~\nx\n\ny\n~~~"]


def test_a_fence_closes_only_with_its_own_marker() -> None:
    text = "````\n```\n\ninner\n```\n\n````\n\nout"
    assert split(text) == ["````\n```\n\ninner\n```\n\n````", "out"]


def test_inline_backticks_do_not_open_a_fence() -> None:
    assert split("```not a fence```\n\nnext") == ["```not a fence```", "next"]


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert split("```\ncode\n\nmore") == ["```\ncode\n\nmore"]


def test_indented_lines_continue_the_block() -> None:
    text = "Steps:\n\n    more of it\n\n   ```sh\n   make\n   ```\n\nnext"
    assert split(text) == ["Steps:\n\n    more of it\n\n   ```sh\n   make\n   ```", "next"]


def test_a_list_stays_one_block_across_blank_lines() -> None:
    text = "1. one\n\n1. two\n\n   detail\n\n1. three\n\nAfter.\n\n- x\n\n* y"
    assert split(text) == ["1. one\n\n1. two\n\n   detail\n\n1. three", "After.", "- x\n\n* y"]


markdownish = st.lists(
    st.sampled_from(["para", "# head", "", "", "```", "~~~", "  indented", "- item", "**b**", "x y"]),
    max_size=30,
).map("\n".join)


@given(text=markdownish, step=st.integers(min_value=1, max_value=7))
def test_splitting_does_not_depend_on_how_the_text_arrives(text: str, step: int) -> None:
    assert split(text, step) == split(text, len(text) or 1)


@given(text=markdownish)
def test_nothing_is_lost_or_repeated(text: str) -> None:
    def content(value: str) -> list[str]:
        return [line for line in value.split("\n") if line.strip()]

    assert content("\n".join(split(text))) == content(text)


def test_pending_tail_reopens_the_fence_it_is_inside() -> None:
    splitter = BlockSplitter()
    splitter.feed("intro\n```python\n" + "".join(f"line {n}\n" for n in range(100)) + "partial")
    tail = splitter.pending(budget=40)
    assert tail.splitlines() == ["```python", "line 96", "line 97", "line 98", "line 99", "partial"]
    assert splitter.pending().startswith("intro\n```python\nline 0\n")


def test_pending_tail_cuts_a_giant_line() -> None:
    splitter = BlockSplitter()
    for n in range(5000):
        splitter.feed(f"w{n} ")
    assert splitter.pending(budget=100) == "".join(f"w{n} " for n in range(5000))[-100:]


# -- writers -----------------------------------------------------------------------------------------------


def raw(terminal: bool = False) -> tuple[RawAnswer, io.StringIO]:
    buffer = io.StringIO()
    return RawAnswer(Output(buffer), terminal=terminal), buffer


@pytest.mark.parametrize(
    ("deltas", "shown"),
    [(["Hel", "lo"], "Hello\n"), (["ends\n"], "ends\n"), (["two\n\n"], "two\n\n"), ([], "\n")],
)
def test_raw_answer_is_the_text_and_one_newline(deltas: list[str], shown: str) -> None:
    writer, buffer = raw()
    for delta in deltas:
        writer.text(delta)
    writer.finish({})
    assert buffer.getvalue() == shown


@pytest.mark.parametrize(("deltas", "shown"), [(["partial"], "partial\n"), (["line\n"], "line\n"), ([], "")])
def test_raw_answer_abort_ends_the_line_only_if_needed(deltas: list[str], shown: str) -> None:
    writer, buffer = raw()
    for delta in deltas:
        writer.text(delta)
    writer.abort()
    assert buffer.getvalue() == shown


def test_raw_answer_passes_escapes_through_but_a_dumb_terminal_gets_them_neutralised() -> None:
    hostile = "a\x1b]0;title\x07b\x1b[2J\r"
    writer, buffer = raw()
    writer.text(hostile)
    assert buffer.getvalue() == hostile
    writer, buffer = raw(terminal=True)
    writer.text(hostile)
    assert buffer.getvalue() == "a^[]0;title^Gb^[[2J^M"


def test_json_text_escapes_c1_controls_and_keeps_the_value() -> None:
    value = {"text": "é \x1b[2J \x9b31m \x7f", "n": [1]}
    text = json_text(value)
    assert not {"\x9b", "\x1b", "\x7f"} & set(text)
    assert "é" in text
    assert json.loads(text) == value


def screen_after(data: str, columns: int = 60, lines: int = 10) -> tuple[list[str], pyte.HistoryScreen]:
    screen = pyte.HistoryScreen(columns, lines, history=1000)
    pyte.Stream(screen).feed(data.replace("\n", "\r\n"))
    rows = ["".join(line[x].data for x in range(columns)).rstrip() for line in screen.history.top]
    return [*rows, *(row.rstrip() for row in screen.display)], screen


def console_on(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=60, height=10, color_system=None)


def markdown_run(deltas: list[str]) -> str:
    buffer = io.StringIO()
    writer = MarkdownAnswer(console_on(buffer))
    for delta in deltas:
        writer.text(delta)
    writer.finish({})
    return buffer.getvalue()


DOCUMENT = (
    "# Title\n\nIntro with **bold** and `code`.\n\n- a\n- b\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "---\n\n```python\nx = 1\n\ny = 2\n```\nright after the fence\n\n1. one\n\n1. two\n\n"
    "    indented code\n\n* x\n\n  continued\n\n* y\n\n"
    + "".join(f"Paragraph {n}.\n\n" for n in range(12))
    + "End."
)


def test_markdown_streamed_in_blocks_looks_as_if_rendered_whole() -> None:
    whole = io.StringIO()
    console_on(whole).print(Markdown(DOCUMENT))
    expected, _ = screen_after(whole.getvalue())
    while not expected[0]:
        expected.pop(0)  # rich starts a document with a blank line when it opens with some elements
    for step in (3, 17, len(DOCUMENT)):
        streamed, screen = screen_after(
            markdown_run([DOCUMENT[i : i + step] for i in range(0, len(DOCUMENT), step)])
        )
        assert streamed == expected
        assert not screen.cursor.hidden


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_blocks_waiting_for_their_batch_are_shown_in_the_live_view() -> None:
    buffer = io.StringIO()
    clock = Clock()  # stopped: nothing after the first batch is due
    writer = MarkdownAnswer(console_on(buffer), clock=clock, auto_refresh=False)
    writer.text("first\n\nsecond\n\n")
    writer.text("third\n\nfourth")
    assert "first" in buffer.getvalue()
    assert writer.tail_text(budget=1000) == "second\n\nthird\n\nfourth"
    assert writer.tail_text(budget=15) == "third\n\nfourth"
    writer.finish({})
    rows, _ = screen_after(buffer.getvalue())
    assert [row for row in rows if row] == ["first", "second", "third", "fourth"]


def test_blocks_are_printed_in_batches_at_most_refresh_per_second() -> None:
    buffer = io.StringIO()
    clock = Clock()
    writer = MarkdownAnswer(console_on(buffer), clock=clock, auto_refresh=False)
    writer.text("one\n\ntwo\n\n")
    writer.text("three\n\n")
    assert writer.tail_text(budget=1000) == "two\n\nthree\n\n"  # "one" went first, alone
    interval = 1 / MarkdownAnswer.REFRESH_PER_SECOND
    clock.now = interval / 2
    writer.text("four")
    assert writer.tail_text(budget=1000).startswith("two\n\nthree")  # not due yet
    clock.now = interval
    writer.text("\n")
    assert writer.tail_text(budget=1000) == "four\n"  # one batch: "two" and "three" together
    writer.finish({})
    rows, _ = screen_after(buffer.getvalue())
    assert [row for row in rows if row] == ["one", "two", "three", "four"]


class WatchedLock:
    """A lock that tells when a thread has to wait for it."""

    def __init__(self, lock: Any, contended: threading.Event) -> None:
        self._lock = lock
        self._contended = contended
        self.waits = 0

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self.waits += 1
            self._contended.set()
            self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_a_redraw_from_another_thread_cannot_come_out_in_the_middle_of_a_print(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The interleaving seen on a busy machine: a print positions the cursor to erase the tail on the
    # screen, then, while it renders its blocks, another thread redraws the tail (now shorter: the blocks
    # left it). Had that redraw reached the terminal first, the print would erase the old tail's height
    # over the new one: a gap or a leftover stub in scrollback. The redraw must wait for the whole print.
    buffer = io.StringIO()
    clock = Clock()
    writer = MarkdownAnswer(console_on(buffer), clock=clock, auto_refresh=False)
    moved = threading.Event()  # the other thread has drawn, or is waiting for its turn
    lock = writer._lock = WatchedLock(writer._lock, moved)
    writer.text("zero\n\none\n\n")  # "zero" printed; the rest is in the tail
    writer.text("two\n\nthree\n\nfour")  # "one", "two" wait for their batch, in the tail
    writer.refresh()  # the tail: one, two, three, four

    def redraw() -> None:
        writer.refresh()
        moved.set()

    other = threading.Thread(target=redraw)
    render_block = answer_output._Block.__rich_console__

    def render_block_meanwhile(block: Any, console: Console, options: Any) -> Iterator[Any]:
        if not other.is_alive() and not moved.is_set():
            other.start()  # after the print positioned the cursor, before it writes
            moved.wait()
        yield from render_block(block, console, options)

    monkeypatch.setattr(answer_output._Block, "__rich_console__", render_block_meanwhile)
    clock.now += 1
    writer.text(" more")  # the batch is due: "one" and "two" are printed
    other.join()
    assert lock.waits == 1  # the redraw did come in the middle of the print, and waited
    writer.finish({})
    rows, _ = screen_after(buffer.getvalue())
    assert [row for row in rows if row] == ["zero", "one", "two", "three", "four more"]


def test_no_thread_draws_after_the_answer_ends() -> None:
    buffer = io.StringIO()
    writer = MarkdownAnswer(console_on(buffer))
    writer.text("growing")
    writer.finish({})
    assert not [thread for thread in threading.enumerate() if thread.name == "live-tail"]
    shown = buffer.getvalue()
    writer.refresh()
    assert buffer.getvalue() == shown


def test_a_link_shows_where_it_goes() -> None:
    """A terminal hyperlink (OSC 8) alone hides the URL in terminals that do not understand it (tmux):
    the URL is printed after the link's text, in the finished block and in the live tail alike."""
    raw = markdown_run(
        ["See [the docs](https://docs.inworld.ai/router) ", "for more.\n\nNext [par](https://x.example/p"]
    )
    rows, _ = screen_after(raw)
    assert "See the docs (https://docs.inworld.ai/router) for more." in rows
    assert "\x1b]8;" not in raw


def test_markdown_answer_neutralises_escape_sequences() -> None:
    rows, screen = screen_after(markdown_run(["keep\n\nx\x1b]0;pwned\x07 y\x1b[2J\x1b[H\rz"]))
    assert screen.title == ""
    assert "keep" in rows
    assert any("^[]0;pwned^G" in row and "^[[2J^[[H^Mz" in row for row in rows)


def test_spinner_is_erased_when_stopped_and_notices_print_above_it() -> None:
    stream = io.StringIO()
    spinner = Spinner(stream, "waiting for auto")
    spinner.start()
    spinner.notice("retrying in 1.0 s after 529\x1b[2J")
    spinner.stop()
    spinner.stop()
    output = stream.getvalue()
    assert "retrying in 1.0 s after 529^[[2J\n" in output
    assert output.endswith("\r\x1b[2K")
    rows, _ = screen_after(output)
    assert [row for row in rows if row] == ["retrying in 1.0 s after 529^[[2J"]
