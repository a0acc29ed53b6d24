"""Where an answer goes: stdout writers (raw for pipes, markdown for a terminal, JSON) and the stderr spinner.

stdout carries the answer and nothing else. A pipe gets the text exactly as produced, flushed per delta; a
terminal gets markdown rendered progressively: each block that can no longer change (a paragraph ended by a
blank line, a closed code fence, a whole list) is printed once, for good, and only what is still growing is
shown in a small transient live view, cropped to the screen, so scrollback never holds frozen or duplicated
lines.
rich is imported only here, and only by the terminal writer.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import IO, TYPE_CHECKING, Any, Protocol

from inworld_cli.output.console import Output, StdoutClosed, Streams, json_text, sanitize

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.console import Console, ConsoleOptions
    from rich.live import Live
    from rich.markdown import Markdown


class AnswerWriter(Protocol):
    def text(self, delta: str) -> None:
        """One piece of the answer's text, as it arrives."""

    def finish(self, message: dict[str, Any]) -> None:
        """The answer is complete; `message` is the whole Messages response."""

    def abort(self) -> None:
        """A failure or Ctrl-C: keep what was shown and end the line."""


def answer_writer(streams: Streams, as_json: bool, plain: bool = False) -> AnswerWriter:
    """`plain`: a terminal gets the text unrendered too (neutralised, as ever on a terminal)."""
    prepare_stdout(streams.stdout, utf8=not streams.stdout_is_terminal)
    if as_json:
        return JsonAnswer(streams.stdout)
    if not streams.stdout_is_terminal:
        return RawAnswer(streams.stdout)
    if streams.dumb_terminal or plain:
        return RawAnswer(streams.stdout, terminal=True)
    return MarkdownAnswer(streams.console())


def prepare_stdout(out: Output, *, utf8: bool) -> None:
    """A pipe gets UTF-8 whatever the locale, without newline translation; a terminal keeps its encoding.
    Either way a character that cannot be encoded becomes a replacement, not a crash."""
    reconfigure = getattr(out.stream, "reconfigure", None)
    if reconfigure is None:
        return
    out.flush()
    if utf8:
        reconfigure(encoding="utf-8", errors="replace", newline="\n")
    else:
        reconfigure(errors="replace")


class RawAnswer:
    """The text as produced, flushed per delta, then one newline unless it already ends with one. On a
    dumb terminal (`terminal=True`) control characters are neutralised on the way."""

    def __init__(self, out: Output, *, terminal: bool = False) -> None:
        self._out = out
        self._terminal = terminal
        self._last = ""  # the last character written, to end the line properly

    def text(self, delta: str) -> None:
        if not delta:
            return
        self._last = delta[-1]  # first: a Ctrl-C right after the write must still see it
        self._out.write(sanitize(delta) if self._terminal else delta)
        self._out.flush()

    def finish(self, message: dict[str, Any]) -> None:
        if self._last != "\n":
            self._out.write("\n")
        self._out.flush()

    def abort(self) -> None:
        try:
            if self._last not in ("", "\n"):
                self._out.write("\n")
            self._out.flush()
        except StdoutClosed:
            pass  # the reader is gone: nothing to end


class JsonAnswer:
    """Exactly one JSON object, the whole response, once it is complete; nothing on failure."""

    def __init__(self, out: Output) -> None:
        self._out = out

    def text(self, delta: str) -> None:
        pass

    def finish(self, message: dict[str, Any]) -> None:
        self._out.write(json_text(message) + "\n")
        self._out.flush()

    def abort(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------------------
# Markdown on a terminal

# An opening code fence: three or more backticks (whose info string has none) or tildes.
_FENCE = re.compile(r"^\s*(?:(`{3,})[^`]*|(~{3,}).*)$")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")


class BlockSplitter:
    """Cuts streamed markdown into blocks that can no longer change.

    A block ends at a blank line or a closing code fence, outside a fence; it is released when the next
    non-blank line shows it does not continue (an indented line still belongs to it, e.g. a list item's
    second paragraph or a nested list, and so does the next item of a list: a list is rendered whole, so
    its numbering holds). Everything not yet released is `pending()`.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []  # complete lines of the current block
        self._partial: list[str] = []  # pieces of the line still arriving (a list: no quadratic joins)
        self._fence: str | None = None  # the opening marker while inside a fence
        self._fence_at = 0  # index in _lines of that opening line
        self._ended = False  # a blank line or closing fence was seen: the next line decides

    def feed(self, text: str) -> list[str]:
        """Take the next piece of text; return the blocks it completed."""
        if "\n" not in text:
            self._partial.append(text)
            return []
        first, *middle, last = text.split("\n")
        self._partial.append(first)
        lines = ["".join(self._partial), *middle]
        self._partial = [last] if last else []
        released = (self._line(line) for line in lines)
        return [block for block in released if block]

    def _line(self, line: str) -> str | None:
        stripped = line.strip()
        if self._fence is not None:
            self._lines.append(line)
            if stripped.startswith(self._fence) and not stripped.strip(self._fence[0]):
                self._fence = None
                self._ended = True
            return None
        if not stripped:
            if self._lines:
                self._ended = True
                self._lines.append(line)
            return None
        released = self._release() if self._ended and not self._continues(line) else None
        self._ended = False
        opening = _FENCE.match(line)
        if opening:
            self._fence = opening.group(1) or opening.group(2)
            self._fence_at = len(self._lines)
        self._lines.append(line)
        return released

    def _continues(self, line: str) -> bool:
        """After a blank line: an indented line, or the next item of a list, still belongs to the block."""
        if line[:1].isspace():
            return True
        return bool(_LIST_ITEM.match(line)) and bool(_LIST_ITEM.match(self._lines[0]))

    def _release(self) -> str:
        block = "\n".join(self._lines).rstrip()
        self._lines = []
        return block

    def flush(self) -> list[str]:
        """The end of the text: release everything left."""
        blocks = self.feed("\n") if self._partial else []
        self._fence = None
        self._ended = False
        last = self._release()
        return [*blocks, last] if last else blocks

    def pending(self, budget: int | None = None) -> str:
        """The unreleased text; with a budget, only about its last `budget` characters, cut at a line start
        (a single longer line is cut anywhere), with the code fence it is inside reopened so that it still
        renders as code."""
        partial = "".join(self._partial)
        if budget is None:
            return "\n".join([*self._lines, partial])
        kept = [partial[-budget:]]
        size = len(kept[0])
        first = len(self._lines)
        while first > 0 and size + len(self._lines[first - 1]) < budget:
            first -= 1
            size += len(self._lines[first]) + 1
        if self._fence is not None and first > self._fence_at:
            kept.insert(0, self._lines[self._fence_at])
        return "\n".join([*kept[:-1], *self._lines[first:], kept[-1]])


class MarkdownAnswer:
    """Completed blocks are printed once, permanently; the growing block lives in a transient tail.

    Blocks completed in quick succession are printed together, at most REFRESH_PER_SECOND times a second
    (until then the tail shows them): one markdown parse and one redraw of the live view per batch keeps a
    fast stream of short paragraphs as cheap as a piped one.

    Two threads draw: the writer (a batch of blocks, which the live view turns into "erase the tail, print
    the blocks, redraw the tail") and a ticker that redraws the tail REFRESH_PER_SECOND times a second, so
    the end of the text shows even while the stream stalls. Each erases the tail the previous write left,
    so every write to the terminal is made whole, from the cursor reset to the last byte, under `_lock`,
    which also guards the text: no frame can come out between another's cursor reset and its write, and a
    redrawn tail never holds blocks already printed. (rich's own refresh thread is not used: it locks out
    only the part of a print that positions the cursor, not the rendering and the write that follow.)
    """

    REFRESH_PER_SECOND = 8

    def __init__(
        self, console: Console, *, clock: Callable[[], float] = time.monotonic, auto_refresh: bool = True
    ) -> None:
        self._console = console
        self._clock = clock
        self._auto_refresh = auto_refresh  # False: the tail is redrawn only by refresh() (tests)
        self._splitter = BlockSplitter()
        self._ready: list[str] = []  # completed blocks not printed yet
        self._lock = threading.RLock()  # the text and the terminal; re-entered by the tail as it renders
        self._live: Live | None = None
        self._ticker: threading.Thread | None = None
        self._ended = threading.Event()
        self._printed = False
        self._printed_at: float | None = None  # when the last batch was printed; None: never

    def text(self, delta: str) -> None:
        if not delta:
            return
        with self._lock:
            self._ready += self._splitter.feed(sanitize(delta))
            if self._live is None and not self._ended.is_set():
                self._start_live()
            if self._ready and self._batch_due():
                self._print_ready()

    def finish(self, message: dict[str, Any]) -> None:
        self._end()

    def abort(self) -> None:
        self._end()

    def refresh(self) -> None:
        """Redraw the live view, if it is on (the ticker does this REFRESH_PER_SECOND times a second)."""
        with self._lock:
            if self._live is not None:
                self._live.refresh()

    def _batch_due(self) -> bool:
        if self._printed_at is None:
            return True
        return self._clock() - self._printed_at >= 1 / self.REFRESH_PER_SECOND

    def _start_live(self) -> None:
        from rich.live import Live

        self._live = Live(
            _Tail(self),
            console=self._console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        if self._auto_refresh:
            self._ticker = threading.Thread(target=self._tick, name="live-tail", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._ended.wait(1 / self.REFRESH_PER_SECOND):
            self.refresh()

    def tail_text(self, budget: int) -> str:
        """The end of what is not printed yet: blocks waiting for their batch, then the growing one."""
        with self._lock:
            pending = self._splitter.pending(budget)
            ready = "\n\n".join(self._ready)
        room = budget - len(pending)
        if not ready or room <= 0:
            return pending
        if len(ready) > room:
            ready = ready[-room:].partition("\n")[2]  # cut at a line start
        return f"{ready}\n\n{pending}" if ready else pending

    def _end(self) -> None:
        self._ended.set()
        with self._lock:
            if self._live is not None:
                self._live.stop()  # erases the tail
                self._live = None
            self._ready += self._splitter.flush()
            self._print_ready()
        if self._ticker is not None:
            self._ticker.join()  # not under the lock: it may be waiting for it, to find the view gone

    def _print_ready(self) -> None:
        """Print the blocks waiting for their batch; called with the lock held."""
        blocks, self._ready = self._ready, []
        if blocks:
            self._console.print(_Block("\n\n".join(blocks), separate=self._printed))
            self._printed = True
        self._printed_at = self._clock()


def _markdown(text: str) -> Markdown:
    """Links as `text (URL)`: a terminal hyperlink hides the URL where OSC 8 is not understood (tmux,
    many older terminals), and the reader must be able to see where a link goes before following it."""
    from rich.markdown import Markdown

    return Markdown(text, hyperlinks=False)


class _Block:
    """Blocks rendered as markdown, with exactly one blank line before them when they follow others (rich
    puts blank lines around some elements and not others; alone, a list or a table starts with one)."""

    def __init__(self, text: str, *, separate: bool) -> None:
        self._text = text
        self._separate = separate

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        from rich.segment import Segment

        segments = list(console.render(_markdown(self._text), options))
        start, end = 0, len(segments)
        while start < end and segments[start].text in ("", "\n"):
            start += 1
        while end > start and segments[end - 1].text in ("", "\n"):
            end -= 1
        if self._separate:
            yield Segment.line()
        yield from segments[start:end]
        if end > start and not segments[end - 1].text.endswith("\n"):
            yield Segment.line()


class _Tail:
    """The live view's content: the end of the growing block, rendered when the view refreshes (not per
    delta), from only as much text as can fill the screen, and cropped to its last lines so the view
    never outgrows the screen."""

    def __init__(self, answer: MarkdownAnswer) -> None:
        self._answer = answer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        from rich.segment import Segment

        height = max(1, options.size.height - 1)
        text = self._answer.tail_text(budget=options.max_width * height)
        lines = console.render_lines(_markdown(text), options, pad=False)[-height:]
        for number, line in enumerate(lines):
            if number:
                yield Segment.line()
            yield from line


# ---------------------------------------------------------------------------------------------------------
# The stderr spinner


class Spinner:
    """A one-line spinner on a terminal's stderr while waiting for the first token. It is erased before
    any answer text is shown; `notice` prints a line above it (retry notices)."""

    INTERVAL = 0.1

    def __init__(self, stream: IO[str], label: str) -> None:
        self._stream = stream
        self._label = sanitize(label)
        utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
        self._frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" if utf8 else "|/-\\"
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = time.monotonic()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._spin, name="spinner", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        frame = 0
        while not self._stopped.is_set():
            elapsed = time.monotonic() - self._started_at
            line = f"{self._frames[frame % len(self._frames)]} {self._label} {elapsed:.0f}s"
            with self._lock:
                if self._stopped.is_set():
                    return
                self._write("\r\x1b[2K" + line[: self._width() - 1])
            frame += 1
            self._stopped.wait(self.INTERVAL)

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return 80

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def notice(self, line: str) -> None:
        with self._lock:
            self._write("\r\x1b[2K" + sanitize(line) + "\n")

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        with self._lock:
            self._stopped.set()
            if self._thread is not None:
                self._write("\r\x1b[2K")
        if self._thread is not None:
            self._thread.join()
