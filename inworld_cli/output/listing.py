"""The `history` listing: one row per record, for a terminal (fitted to its width) or a pipe. Pure.

A terminal gets short ids, local times to the minute and durations for people; a pipe gets whole ids, the
UTC timestamps as stored, milliseconds and exact costs, in the same columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inworld_cli.core.trace import as_millis, trace_of_response
from inworld_cli.output.console import sanitize
from inworld_cli.output.cost import cost_cell
from inworld_cli.output.tables import Column, Step
from inworld_cli.output.timeline import (
    MARKS,
    MISSING,
    format_duration,
    format_ms_plain,
    local_time,
    outcome_text,
    tokens_text,
)

if TYPE_CHECKING:
    from inworld_cli.core.record import Record

PROMPT_START = 100  # characters of the prompt a row carries (a terminal may show fewer)


def _outcome_style(outcome: str) -> str:
    return "green" if outcome == "ok" else "red"


COLUMNS = (
    Column("id"),
    Column("time", min_width=12, keep_end=True, cut_whole=True),  # shrunk: …11-25 09:55
    Column("requested", min_width=19, keep_end=True),  # shrunk: …/claude-sonnet-4-6
    Column("served", min_width=19, keep_end=True),
    Column("attempts"),
    Column("ttft", numeric=True),
    Column("tokens", numeric=True),
    Column("cost", numeric=True),
    Column("outcome", min_width=14, style=_outcome_style),
    Column("prompt", min_width=16),
)

# How the listing gives way on a narrow terminal, first step first (the README states this order).
NARROWING: tuple[Step, ...] = (
    ("shrink", "prompt"),
    ("drop", "tokens"),
    ("shrink", "outcome"),  # the error type of a failed request (inspect has it whole)
    ("drop", "prompt"),
    ("shrink", "time"),  # the year
    ("shrink", "requested"),
    ("shrink", "served"),
    ("drop", "requested"),
    ("drop", "ttft"),
    ("drop", "cost"),
    ("drop", "time"),
    ("drop", "attempts"),
)


def prompt_start(record: Record) -> str:
    """The start of what was asked, on one line."""
    text = " ".join(record.prompt.split())
    return sanitize(text if len(text) <= PROMPT_START else text[: PROMPT_START - 1] + "…") or MISSING


def _time(created_at: str, plain: bool) -> str:
    if not created_at:
        return MISSING
    return sanitize(created_at) if plain else local_time(created_at)[:16]  # to the minute


def history_row(record: Record, short_id: str, *, plain: bool = False) -> list[str]:
    """One record's cells, in COLUMNS order; the attempts mark each try (`3 ✗✗✓`)."""
    trace = trace_of_response(record.response)
    attempts = f"{len(trace.attempts)} " + "".join(MARKS[a.success] for a in trace.attempts)
    ttft = as_millis(record.timings.get("ttft_ms"))

    def model(name: str | None) -> str:
        return sanitize(" ".join(name.split())) if name else MISSING

    return [
        sanitize(record.id if plain else short_id),
        _time(record.created_at, plain),
        model(record.requested_model),
        model(record.served_model),
        attempts if trace.attempts else MISSING,
        format_ms_plain(ttft) if plain else format_duration(ttft),
        tokens_text(record.response) or MISSING,
        cost_cell(record.cost, record.usage, plain=plain),
        outcome_text(record),
        prompt_start(record),
    ]
