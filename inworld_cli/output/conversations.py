"""Conversations on stdout: the list (a table that fits the terminal, tab-separated lines on a pipe) and one
conversation as a transcript. rich is imported only to draw on a terminal; text from the network is
neutralised, as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from inworld_cli.core.conversation import Summary, answered, user_turn_of
from inworld_cli.core.record import turn_text
from inworld_cli.output.console import Streams, sanitize
from inworld_cli.output.tables import plain_rows
from inworld_cli.output.timeline import MISSING, answer_text, local_time, outcome_text

if TYPE_CHECKING:
    from inworld_cli.core.record import Record

HEADERS = ("ID", "TITLE", "TURNS", "MODEL", "TOKENS", "LAST USED")
MODEL_WIDTH = 28
TITLE_WIDTH = 24  # at least: a narrower terminal drops TOKENS, then MODEL, then LAST USED
_DROPPED_FIRST = ("TOKENS", "MODEL", "LAST USED")


def _tokens(summary: Summary) -> str:
    if summary.input_tokens is None and summary.output_tokens is None:
        return MISSING
    return f"{summary.input_tokens or 0:,}→{summary.output_tokens or 0:,}"


def _turns(summary: Summary) -> str:
    return f"{summary.turns} +{summary.failed} failed" if summary.failed else str(summary.turns)


def _model(summary: Summary) -> str:
    """The latest model, without its provider, and how many others the conversation used."""
    if not summary.models:
        return MISSING
    latest = summary.models[-1].rsplit("/", 1)[-1]
    return f"{latest} +{len(summary.models) - 1}" if len(summary.models) > 1 else latest


def summary_row(summary: Summary, short_id: str) -> tuple[str, ...]:
    """One line of the terminal's table."""
    return (
        short_id,
        summary.title,
        _turns(summary),
        _model(summary),
        _tokens(summary),
        local_time(summary.last_used_at)[:16],
    )


def fitting_columns(rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """The columns (indexes into HEADERS) that leave the title TITLE_WIDTH cells on a terminal this wide."""
    from rich.cells import cell_len

    def cells(index: int) -> int:
        natural = max(cell_len(text) for text in [HEADERS[index], *(row[index] for row in rows)])
        return min(natural, MODEL_WIDTH) if HEADERS[index] == "MODEL" else natural

    kept = list(range(len(HEADERS)))
    title = HEADERS.index("TITLE")
    for header in (None, *_DROPPED_FIRST):
        if header is not None:
            kept.remove(HEADERS.index(header))
        if sum(cells(i) + 2 for i in kept if i != title) + TITLE_WIDTH <= width:
            break
    return kept


def summary_fields(summary: Summary) -> list[str]:
    """One tab-separated line for scripts: every value whole (UTC times, full id, every model)."""
    return [
        summary.id,
        summary.last_used_at,
        str(summary.turns),
        str(summary.failed),
        str(summary.input_tokens) if summary.input_tokens is not None else MISSING,
        str(summary.output_tokens) if summary.output_tokens is not None else MISSING,
        ",".join(summary.models) or MISSING,
        summary.title,
    ]


def print_summaries(streams: Streams, summaries: Sequence[Summary], short_ids: dict[str, str]) -> None:
    if not streams.stdout_is_terminal or streams.dumb_terminal:
        streams.out(plain_rows([[sanitize(f) for f in summary_fields(s)] for s in summaries]))
        return
    from rich.table import Table
    from rich.text import Text

    console = streams.console()
    rows = [[sanitize(cell) for cell in summary_row(s, short_ids[s.id])] for s in summaries]
    kept = fitting_columns(rows, console.width)
    # The title takes the width the other columns leave, cut with … rather than wrapped: one line each.
    table = Table(box=None, pad_edge=False, header_style="bold", expand=True)
    for index in kept:
        header = HEADERS[index]
        table.add_column(
            header,
            no_wrap=True,
            overflow="ellipsis",
            ratio=1 if header == "TITLE" else None,
            justify="right" if header == "TURNS" else "left",
            max_width=MODEL_WIDTH if header == "MODEL" else None,
        )
    for row in rows:
        table.add_row(*(Text(row[index]) for index in kept))
    console.print(table)


# -- one conversation ---------------------------------------------------------------------------------


def _heading(summary: Summary) -> str:
    turns = f"{summary.turns} turn{'s' if summary.turns != 1 else ''}"
    failed = f" (+{summary.failed} failed, left out)" if summary.failed else ""
    models = ", ".join(summary.models) or MISSING
    return f"conversation {summary.id} · {turns}{failed} · {models} · last used {local_time(summary.last_used_at)}"


def _turn_heading(number: int, record: Record) -> str:
    served = record.served_model or MISSING
    model = record.requested_model or MISSING
    models = model if served in (model, MISSING) else f"{model} → {served}"
    outcome = outcome_text(record)
    if not answered(record):
        outcome += " (left out of the context)"
    return f"── {number} · {record.id} · {local_time(record.created_at)} · {models} · {outcome}"


def _quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in sanitize(text).splitlines() or [""])


def transcript(summary: Summary, records: Sequence[Record]) -> list[tuple[str, str]]:
    """The conversation as (style, text) lines: a heading, then each turn's heading, its prompt quoted with
    `> ` (attachments by name) and the answer (or what arrived of it)."""
    lines: list[tuple[str, str]] = [("bold", sanitize(_heading(summary)))]
    for number, record in enumerate(records, start=1):
        user = user_turn_of(record)
        lines += [("", ""), ("dim", sanitize(_turn_heading(number, record)))]
        lines.append(("cyan", _quoted(turn_text(user.get("content")) if user else MISSING)))
        answer = answer_text(record.response)
        if answer:
            lines += [("", ""), ("", answer)]
    return lines


def print_transcript(streams: Streams, lines: list[tuple[str, str]]) -> None:
    if not streams.stdout_is_terminal or streams.dumb_terminal:
        streams.out("".join(text + "\n" for _, text in lines))
        return
    from rich.text import Text

    console = streams.console()
    for style, text in lines:
        console.print(Text(text, style=style), soft_wrap=True)
