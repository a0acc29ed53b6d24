"""Rows of data on stdout: a rich table on a terminal, tab-separated lines (no header) on a pipe.

Cells come from the network, so a terminal gets them sanitised; on a pipe, tabs and newlines inside a cell
become spaces so that each row stays one line of exactly as many fields as there are columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inworld_cli.output.console import Streams, sanitize

_BREAKS = re.compile(r"[\t\r\n]+")


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned on a terminal


def plain_rows(rows: Sequence[Sequence[str]]) -> str:
    return "".join("\t".join(_BREAKS.sub(" ", cell) for cell in row) + "\n" for row in rows)


def print_table(streams: Streams, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    if not streams.stdout_is_terminal:
        streams.out(plain_rows(rows))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column.header, justify="right" if column.numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(sanitize(cell)) for cell in row))
    streams.console().print(table)
