"""Rules about text that several layers share. Pure."""

from __future__ import annotations

import re

# Arguments and environment variables that were not UTF-8 reach Python with lone surrogates in their place
# (PEP 383), as does a broken escape pair from the network: text no encoder can write.
NOT_UTF8 = re.compile("[\ud800-\udfff]")

MESSAGE_LIMIT = 300


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Whitespace runs (newlines included) to one space, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_age(seconds: float) -> str:
    """An age in words a person reads at a glance: 45 s, 12 min, 5 h, 3 days."""
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def describe_size(size: int) -> str:
    """A file size people read at a glance: 812 bytes, 14.2 kB, 48.3 MB, 1.2 GB (powers of 1000)."""
    units = ("bytes", "kB", "MB", "GB", "TB")
    value, unit = float(size), 0
    while value >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    return f"{size} bytes" if unit == 0 else f"{value:.1f} {units[unit]}"
