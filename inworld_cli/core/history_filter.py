"""Which history records a listing, a summary or a clean-up covers, and the moments people type for it:
`7d`, `12h`, `30m` ago, or a date. Pure (the caller gives the time now)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from inworld_cli.errors import UsageError


@dataclass(frozen=True)
class HistoryFilter:
    """Every field narrows the selection; a field left at its default does not."""

    since: float | None = None  # made at or after this moment (seconds since the epoch)
    before: float | None = None  # made before this moment
    model: str | None = None  # requested or served: a whole id, its name, its provider, or a *pattern*
    failed: bool = False  # did not end `ok`: errors, interrupted, cut short
    search: str | None = None  # text in the prompt (any user turn, the system prompt) or the answer
    conversation: str | None = None  # a conversation's turns (its whole id, as find_conversation gives it)

    @property
    def narrows(self) -> bool:
        return self != HistoryFilter()


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MOMENT_HINT = "give a span back from now (90m, 12h, 7d, 2w) or a date (2026-11-01, 2026-11-01T14:30)"


def parse_moment(text: str, now: float, flag: str) -> float:
    """A moment: a span back from `now` (`7d`, `12h`, `90m`, `2w`, `30s`), or a date or date and time
    (`2026-11-01`, `2026-11-01 14:30`, ISO 8601), in local time unless it carries a zone (`Z`, `+02:00`)."""
    value = text.strip()
    span = _SPAN.fullmatch(value)
    if span:
        return now - float(span.group(1)) * _UNIT_SECONDS[span.group(2).lower()]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"bad value for {flag}: '{text}'", hint=MOMENT_HINT) from None
    try:
        return moment.timestamp()  # a naive date-time is local time
    except (OverflowError, OSError, ValueError):
        raise UsageError(f"bad value for {flag}: '{text}' is out of range", hint=MOMENT_HINT) from None
