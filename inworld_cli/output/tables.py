"""Rows of data on stdout: a rich table on a terminal, tab-separated lines (no header) on a pipe.

Cells come from the network, so a terminal gets them sanitised; on a pipe, tabs and newlines inside a cell
become spaces so that each row stays one line of exactly as many fields as there are columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inworld_cli.output.console import Streams, sanitize

if TYPE_CHECKING:
    from rich.text import Text

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


def aligned_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], styles: Sequence[str | None]
) -> Text:
    """Columns padded by hand, a bold header, a style per row: printed with soft_wrap, a line too long for
    the terminal wraps whole instead of rich squeezing its cells into fragments. Cells are sanitised."""
    from rich.cells import cell_len
    from rich.text import Text

    table = [[column.header for column in columns], *([sanitize(cell) for cell in row] for row in rows)]
    widths = [max(cell_len(row[i]) for row in table) for i in range(len(columns))]

    def line(cells: list[str]) -> str:
        padded = [
            " " * (width - cell_len(cell)) + cell if column.numeric else cell + " " * (width - cell_len(cell))
            for cell, width, column in zip(cells, widths, columns, strict=True)
        ]
        return "  ".join(padded).rstrip()

    text = Text(line(table[0]), style="bold")
    for cells, style in zip(table[1:], styles, strict=True):
        text.append("\n")
        text.append(line(cells), style=style or "")
    return text
