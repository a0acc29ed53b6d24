"""`stats` for people (a table fitted to the terminal, then a chart) and for programs (tab-separated
with a header, CSV, JSON). Pure but for the console handed in; rich only to draw."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from inworld_cli.core.stats import TTFT_BUCKETS, TTFT_BUCKETS_PER_DECADE, GroupStats, Summary
from inworld_cli.output.console import sanitize
from inworld_cli.output.cost import exact, usd
from inworld_cli.output.tables import Column, Step, cut_cell, table_lines
from inworld_cli.output.timeline import MISSING, format_duration

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_NO_KEY = {"model": "(not served)", "requested": "(none)", "provider": "(not served)", "day": "(no date)"}
TOTAL = "all"


def group_label(group: GroupStats, by: str) -> str:
    if group.key is None:
        return TOTAL
    return sanitize(group.key) if group.key else _NO_KEY[by]


def _lines(summary: Summary) -> list[GroupStats]:
    """The groups, then the total when there is more than one group."""
    return [*summary.groups, summary.total] if len(summary.groups) > 1 else list(summary.groups)


# -- the terminal table -------------------------------------------------------------------------------


def _percent(rate: float | None) -> str:
    return MISSING if rate is None else f"{rate * 100:.1f}%"


def _count(number: float) -> str:
    """1,234 · 56.7k · 142.6M: token sums at a glance."""
    for threshold, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(number) >= threshold:
            return f"{number / unit:.1f}{suffix}"
    return f"{number:,.0f}"


def _cost(group: GroupStats) -> str:
    if group.cost_usd is not None:
        return usd(group.cost_usd)
    return "unpriced" if group.unpriced else MISSING


def _rate(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _errors(group: GroupStats, separator: str = ", ", times: str = "×") -> str:
    return separator.join(f"{sanitize(kind)}{times}{count:,}" for kind, count in group.errors) or MISSING


_NUMBERS = ("reqs", "ok", "failover", "attempts", "ttft p50", "ttft p95", "ttft p99", "total p50",
            "total p95", "tokens in→out", "tok/s", "cost", "unpriced")  # fmt: skip


def columns(by: str) -> tuple[Column, ...]:
    return (
        Column(by, min_width=18, keep_end=True),
        *(Column(header, numeric=True) for header in _NUMBERS),
        Column("errors", min_width=16),
    )


def narrowing(by: str) -> tuple[Step, ...]:
    """How the table gives way on a narrow terminal, first step first (the README states this order)."""
    return (
        ("shrink", "errors"),
        ("drop", "total p95"),
        ("drop", "ttft p99"),
        ("drop", "tok/s"),
        ("drop", "errors"),
        ("drop", "tokens in→out"),
        ("drop", "unpriced"),
        ("drop", "total p50"),
        ("shrink", by),
        ("drop", "attempts"),
        ("drop", "ttft p95"),
    )


def table_row(group: GroupStats, by: str) -> list[str]:
    return [
        group_label(group, by),
        f"{group.requests:,}",
        _percent(group.success_rate),
        _percent(group.failover_rate),
        MISSING if group.mean_attempts is None else f"{group.mean_attempts:.2f}",
        *(format_duration(group.ttft_ms.get(p)) for p in (50, 95, 99)),
        *(format_duration(group.total_ms.get(p)) for p in (50, 95)),
        f"{_count(group.input_tokens)}→{_count(group.output_tokens)}",
        _rate(group.tokens_per_second),
        _cost(group),
        f"{group.unpriced:,}",
        _errors(group),
    ]


# -- the chart ----------------------------------------------------------------------------------------

_LEVELS = " ▁▂▃▄▅▆▇█"
_EIGHTHS = " ▏▎▍▌▋▊▉"
BAR = 10  # cells of the failover bar
_AXIS = "100ms" + " " * 5 + "1s" + " " * 5 + "10s"  # under cells 0, 10 and 17-19 (the strip's decades)
_STRIP_TITLE = "ttft, log scale"


def _strip(histogram: list[int]) -> str:
    """The distribution as one line of bars: each cell a tenth of a decade, as high as its share."""
    peak = max(histogram, default=0)
    if not peak:
        return " " * TTFT_BUCKETS
    return "".join(_LEVELS[-(-count * 8 // peak)] for count in histogram)  # ceil: any count shows


def _bar(rate: float | None) -> str:
    if rate is None:
        return " " * BAR
    eighths = round(rate * BAR * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else ""))[:BAR].ljust(BAR, "░")


def chart_lines(summary: Summary, width: int) -> list[Text]:
    """Per group: its time-to-first-token distribution on a shared log axis (100 ms … 10 s) and its
    failover rate as a bar. Empty when the terminal is too narrow for a readable chart."""
    from rich.cells import cell_len
    from rich.text import Text

    lines = _lines(summary)
    labels = [group_label(group, summary.by) for group in lines]
    fixed = 2 + TTFT_BUCKETS + 3 + BAR + 7  # gap, strip, gap, bar, " 100.0%"
    label_width = min(max(cell_len(label) for label in [*labels, "failover"]), width - fixed)
    if label_width < 12:
        return []
    column = Column("", min_width=12, keep_end=True)
    head = Text(" " * (label_width + 2)) + Text(_STRIP_TITLE.ljust(TTFT_BUCKETS), style="bold")
    head += Text("   ") + Text("failover", style="bold")
    out = [head]
    for group, label in zip(lines, labels, strict=True):
        line = cut_cell(label, column, label_width, "bold" if group.key is None else None)
        line += Text("  ") + Text(_strip(group.ttft_histogram), style="cyan")
        rate = group.failover_rate
        line += Text("   ") + Text(_bar(rate), style="yellow") + Text(f" {_percent(rate):>6}")
        out.append(line)
    out.append(Text(" " * (label_width + 2) + _AXIS, style="dim"))
    return out


def print_stats(summary: Summary, console: Console) -> list[str]:
    """The table fitted to the console, then the chart; the headers of the columns left out."""
    table, left_out = table_lines(
        columns(summary.by),
        [table_row(group, summary.by) for group in _lines(summary)],
        console.width,
        narrowing(summary.by),
    )
    if len(summary.groups) > 1:
        table[-1].stylize("bold")
    for line in table:
        console.print(line, soft_wrap=True)
    chart = chart_lines(summary, console.width)
    if chart:
        console.print()
        for line in chart:
            console.print(line, soft_wrap=True)
    return left_out


# -- for programs -------------------------------------------------------------------------------------


def pipe_header(by: str) -> list[str]:
    return [
        by,
        "requests",
        "success_rate",
        "failover_rate",
        "mean_attempts",
        "ttft_p50_ms",
        "ttft_p95_ms",
        "ttft_p99_ms",
        "total_p50_ms",
        "total_p95_ms",
        "input_tokens",
        "output_tokens",
        "tokens_per_s",
        "cost_usd",
        "unpriced",
        "errors",
    ]


def _number(value: float | None, places: int, missing: str) -> str:
    return missing if value is None else f"{value:.{places}f}"


def pipe_row(group: GroupStats, by: str, missing: str = MISSING) -> list[str]:
    """A group's numbers for scripts: fractions, milliseconds, exact sums, `type:count` errors."""
    return [
        group_label(group, by),
        str(group.requests),
        _number(group.success_rate, 4, missing),
        _number(group.failover_rate, 4, missing),
        _number(group.mean_attempts, 3, missing),
        *(_number(group.ttft_ms.get(p), 0, missing) for p in (50, 95, 99)),
        *(_number(group.total_ms.get(p), 0, missing) for p in (50, 95)),
        str(group.input_tokens),
        str(group.output_tokens),
        _number(group.tokens_per_second, 1, missing),
        missing if group.cost_usd is None else exact(group.cost_usd),
        str(group.unpriced),
        ",".join(f"{kind}:{count}" for kind, count in group.errors),
    ]


def csv_text(summary: Summary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(pipe_header(summary.by))
    writer.writerows(pipe_row(group, summary.by, missing="") for group in summary.groups)
    return out.getvalue()


def _json_group(group: GroupStats) -> dict[str, Any]:
    return {
        "group": group.key or None,  # None: no model served (or no date); the total is "total"
        "requests": group.requests,
        "ok": group.ok,
        "stopped": group.stopped,
        "success_rate": group.success_rate,
        "failovers": group.failed_over,
        "failover_rate": group.failover_rate,
        "mean_attempts": group.mean_attempts,
        "ttft_ms": {f"p{p}": value for p, value in group.ttft_ms.items()},
        "total_ms": {f"p{p}": value for p, value in group.total_ms.items()},
        "input_tokens": group.input_tokens,
        "output_tokens": group.output_tokens,
        "tokens_per_second": group.tokens_per_second,
        "cost_usd": float(group.cost_usd) if group.cost_usd is not None else None,
        "unpriced": group.unpriced,
        "errors": [{"type": kind, "count": count} for kind, count in group.errors],
        "ttft_histogram": {
            "buckets_per_decade": TTFT_BUCKETS_PER_DECADE,
            "from_ms": 100,
            "counts": group.ttft_histogram,
        },
    }


def json_value(summary: Summary, since: str | None) -> dict[str, Any]:
    return {
        "by": summary.by,
        "since": since,
        "groups": [_json_group(group) for group in summary.groups],
        "total": _json_group(summary.total),
    }
