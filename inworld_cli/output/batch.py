"""What a batch shows on stderr: a progress bar on a terminal (rich.progress), notes above it, and one
summary line at the end. rich is imported only when the bar is drawn."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from inworld_cli.core.batch import Tally
from inworld_cli.output.console import Streams
from inworld_cli.output.cost import NO_TOKENS, UNPRICED, usd
from inworld_cli.output.timeline import format_duration

if TYPE_CHECKING:
    from rich.progress import Progress


def cost_text(amount: Decimal, priced: int, unpriced: int) -> str:
    """$0.012, $0.012 + 3 unpriced, unpriced, or - when nothing used tokens: a request without a known
    price is never $0."""
    if not priced:
        return UNPRICED if unpriced else NO_TOKENS
    return usd(amount) + (f" + {unpriced} unpriced" if unpriced else "")


def summary_text(tally: Tally, elapsed: float, *, skipped: int = 0) -> str:
    """500 items: 497 ok, 3 failed · 31.2 s · 16.0 requests/s · 6000→3500 tokens · $0.0123"""
    counts = f"{tally.ok} ok, {tally.failed} failed"
    if skipped:
        counts += f", {skipped} already ok"
    parts = [
        f"{tally.total + skipped} items: {counts}",
        format_duration(elapsed * 1000),
        f"{tally.requests / elapsed if elapsed > 0 else 0.0:.1f} requests/s",
        f"{tally.input_tokens}→{tally.output_tokens} tokens",
        cost_text(tally.cost_usd, tally.priced, tally.unpriced),
    ]
    return " · ".join(parts)


class BatchProgress:
    """The bar (done/total, ok and failed, requests/s, time left) on a terminal's stderr; notes printed
    above it. Without a bar (not a terminal, or -q) notes go to stderr as lines."""

    def __init__(self, streams: Streams, tally: Tally, *, bar: bool, clock: Any) -> None:
        self._streams = streams
        self._tally = tally
        self._clock = clock
        self._bar = bar
        self._progress: Progress | None = None
        self._task: Any = None
        self.started = clock.monotonic()

    def __enter__(self) -> BatchProgress:
        if self._bar:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=self._streams.console(stderr=True),
                transient=True,  # the summary line takes its place
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self._tally.total, counts="", rate="")
            self.update()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @property
    def elapsed(self) -> float:
        return self._clock.monotonic() - self.started

    def update(self) -> None:
        if self._progress is None:
            return
        tally = self._tally
        elapsed = self.elapsed
        rate = f"{tally.requests / elapsed:.1f} requests/s" if elapsed > 0 and tally.requests else ""
        self._progress.update(
            self._task,
            completed=tally.done,
            counts=f"{tally.ok} ok, {tally.failed} failed",
            rate=rate,
        )

    def note(self, text: str) -> None:
        """One line above the bar (network text in it is neutralised on a terminal)."""
        if self._progress is not None:
            from rich.text import Text

            from inworld_cli.output.console import sanitize

            self._progress.console.print(Text(sanitize(text)), soft_wrap=True)
        else:
            self._streams.err(text)
