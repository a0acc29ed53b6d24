"""What `compare` shows on a terminal: the answers streaming in columns side by side (stacked when each
would be narrower than MIN_COLUMN_WIDTH), then the whole answers, and one table of the numbers with the
fastest and the cheapest marked. The live view is cropped to the screen (the end of each answer), so it
never outgrows it; the whole answers are printed once, after it. rich is imported only to draw."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from inworld_cli.core.pricing import recorded_usd
from inworld_cli.core.record import Record, text_of
from inworld_cli.core.trace import as_millis
from inworld_cli.output.console import sanitize
from inworld_cli.output.cost import cost_cell
from inworld_cli.output.tables import Column, Step, left_out_note, table_lines
from inworld_cli.output.timeline import MARKS, MISSING, format_duration, tokens_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.live import Live

MIN_COLUMN_WIDTH = 40
REFRESH_PER_SECOND = 8
TABLE_COLUMNS = (
    Column("requested", min_width=12, keep_end=True),
    Column("served", min_width=12, keep_end=True),
    Column("attempts"),
    Column("ttft", numeric=True),
    Column("total", numeric=True),
    Column("tokens"),
    Column("tokens/s", numeric=True),
    Column("cost"),
    Column(""),
)
# What gives way on a narrow terminal, in order (the marks and the times stay).
NARROWING: tuple[Step, ...] = (
    ("drop", "tokens/s"),
    ("shrink", "requested"),
    ("shrink", "served"),
    ("drop", "attempts"),
    ("drop", "tokens"),
)


@dataclass
class Answer:
    """One model's answer as it arrives."""

    model: str
    chunks: list[str] = field(default_factory=list)
    status: str = "waiting"
    record: Record | None = None
    error: str | None = None  # the error as the user sees it

    @property
    def text(self) -> str:
        return "".join(self.chunks)


# -- the numbers -------------------------------------------------------------------------------------------


def _ok(record: Record) -> bool:
    return record.exit_status == 0 and record.error is None


def _cost(record: Record) -> Decimal | None:
    return recorded_usd(record.cost)


def tokens_per_second(record: Record) -> float | None:
    """Output tokens per second of streaming, from the first token to the end."""
    tokens = record.usage.get("output_tokens")
    ttft, total = as_millis(record.timings.get("ttft_ms")), as_millis(record.timings.get("total_ms"))
    if not isinstance(tokens, int) or isinstance(tokens, bool) or ttft is None or total is None:
        return None
    streaming = (total - ttft) / 1000
    return tokens / streaming if streaming > 0 else None


def marks(records: list[Record]) -> list[list[str]]:
    """Per record: "fastest" (least total time) and "cheapest" (least cost), among two or more answers."""
    found: list[list[str]] = [[] for _ in records]
    answered = [i for i, r in enumerate(records) if _ok(r)]
    timed = [i for i in answered if as_millis(records[i].timings.get("total_ms")) is not None]
    if len(timed) > 1:
        found[min(timed, key=lambda i: as_millis(records[i].timings.get("total_ms")) or 0.0)].append(
            "fastest"
        )
    priced = [i for i in answered if _cost(records[i]) is not None]
    if len(priced) > 1:
        found[min(priced, key=lambda i: _cost(records[i]) or Decimal(0))].append("cheapest")
    return found


def table_rows(columns: list[Answer]) -> list[list[str]]:
    """One row per finished answer; "same" when the model served is the one requested."""
    records = [c.record for c in columns if c.record is not None]
    notes = iter(marks(records))
    rows = []
    for column in columns:
        record = column.record
        if record is None:
            continue
        note = next(notes)
        trace = record.trace
        attempts = f"{len(trace.attempts)} " + "".join(MARKS[a.success] for a in trace.attempts)
        speed = tokens_per_second(record)
        rows.append(
            [
                column.model,
                "same" if record.served_model == column.model else record.served_model or MISSING,
                attempts if trace.attempts else MISSING,
                format_duration(as_millis(record.timings.get("ttft_ms"))),
                format_duration(as_millis(record.timings.get("total_ms"))),
                tokens_text(record.response) or MISSING,
                f"{speed:.1f}" if speed is not None else MISSING,
                cost_cell(record.cost, record.usage) if _ok(record) else MISSING,
                ", ".join(note) if _ok(record) else f"{MARKS[False]} failed",
            ]
        )
    return rows


# -- the drawing -------------------------------------------------------------------------------------------


class CompareView:
    """The live columns while the answers stream (`text`, `status` from the command's thread; rich's
    refresh thread draws them), then `finish` prints the answers and the table for good."""

    def __init__(self, console: Console, models: list[str]) -> None:
        self.columns = [Answer(model) for model in models]
        self._console = console
        self._lock = threading.Lock()
        self._live: Live | None = None

    def start(self) -> None:
        from rich.live import Live

        self._live = Live(
            get_renderable=lambda: _Board(self),
            console=self._console,
            transient=True,
            refresh_per_second=REFRESH_PER_SECOND,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def text(self, index: int, delta: str) -> None:
        with self._lock:
            column = self.columns[index]
            column.chunks.append(delta)
            column.status = "streaming"

    def status(self, index: int, status: str) -> None:
        with self._lock:
            self.columns[index].status = status

    def done(self, index: int, record: Record, error: str | None) -> None:
        with self._lock:
            column = self.columns[index]
            column.record, column.error = record, error
            if error is None and not column.chunks:
                column.chunks.append(text_of(record.response or {}))
            column.status = (
                f"{MARKS[True]} {format_duration(as_millis(record.timings.get('total_ms')))}"
                if error is None
                else f"{MARKS[False]} failed"
            )

    def snapshot(self) -> list[tuple[str, str, str, str | None]]:
        with self._lock:
            return [(c.model, c.text, c.status, c.error) for c in self.columns]

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()  # transient: the live view is erased
            self._live = None

    def finish(self) -> None:
        """The whole answers (side by side or stacked, as the live view was), then the table."""
        self.stop()
        from rich.markdown import Markdown
        from rich.rule import Rule
        from rich.table import Table
        from rich.text import Text

        def body(text: str, error: str | None) -> RenderableType:
            if error is not None:
                return Text(f"{MARKS[False]} {sanitize(error)}", style="red")
            return Markdown(sanitize(text))

        columns = self.snapshot()
        console = self._console
        if side_by_side(console.width, len(columns)):
            answers = Table(expand=True, show_lines=False)
            for model, _, status, _ in columns:
                answers.add_column(f"{sanitize(model)}  {status}", ratio=1, overflow="fold")
            answers.add_row(*(body(text, error) for _, text, _, error in columns))
            console.print(answers)
        else:
            for model, text, status, error in columns:
                console.print(Rule(f"{sanitize(model)}  {status}", align="left", style="dim"))
                console.print(body(text, error))
        rows = table_rows(self.columns)
        lines, left_out = table_lines(TABLE_COLUMNS, rows, console.width, NARROWING)
        for line, row in zip(lines[1:], rows, strict=True):
            if row[-1].startswith(MARKS[False]):
                line.stylize("red")
        console.print()
        for line in lines:
            console.print(line, soft_wrap=True)
        if left_out:
            console.print(left_out_note(left_out, console.width), style="dim")


def side_by_side(width: int, count: int) -> bool:
    return width // max(count, 1) >= MIN_COLUMN_WIDTH


class _Board:
    """The live view: each answer's last lines in a panel of its own, cut to the screen's height."""

    def __init__(self, view: CompareView) -> None:
        self._columns = view.snapshot()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table

        count = len(self._columns)
        height = max(4, (options.height or console.height) - 1)
        if side_by_side(options.max_width, count):
            panel_height, inner_width = height, options.max_width // count - 4
        else:
            panel_height, inner_width = max(3, height // count), options.max_width - 4
        panels = [
            Panel(
                self._tail(
                    console, f"{MARKS[False]} {error}" if error else text, inner_width, panel_height - 2
                ),
                title=sanitize(model),
                title_align="left",
                subtitle=status,
                subtitle_align="right",
                height=panel_height,
                border_style="red" if error is not None else "dim",
            )
            for model, text, status, error in self._columns
        ]
        if side_by_side(options.max_width, count):
            grid = Table.grid(expand=True)
            for _ in panels:
                grid.add_column(ratio=1)
            grid.add_row(*panels)
            yield grid
        else:
            yield Group(*panels)

    @staticmethod
    def _tail(console: Console, text: str, width: int, lines: int) -> RenderableType:
        """The last `lines` lines of `text` wrapped to `width` (only the end of the text is wrapped)."""
        from rich.text import Text

        width, lines = max(width, 1), max(lines, 1)
        end = sanitize(text[-width * lines * 2 :])
        wrapped = Text(end).wrap(console, width, overflow="fold")
        return Text("\n").join(wrapped[-lines:])
