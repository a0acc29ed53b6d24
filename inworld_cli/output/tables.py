"""Every listing's table: aligned columns on a terminal, tab-separated lines on a pipe.

On a terminal a row never wraps: when the table is wider than the terminal, the listing's `narrowing` steps
are taken in order until it fits: ("shrink", header) cuts that column's cells with … (down to the column's
`min_width`, and only as far as needed), ("drop", header) leaves the column out (stderr says which). When
even every step is not enough, rows are printed whole and the terminal wraps them: nothing is lost.

Cells come from the network, so a terminal gets them sanitised; on a pipe, tabs and newlines inside a cell
become spaces so that each row stays one line of exactly as many fields as there are columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from inworld_cli.output.console import Streams, sanitize

if TYPE_CHECKING:
    from rich.text import Text

_BREAKS = re.compile(r"[\t\r\n]+")
GAP = 2  # spaces between columns

Step = tuple[Literal["shrink", "drop"], str]


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned on a terminal
    min_width: int | None = None  # the narrowest a "shrink" step may cut it to
    style: Callable[[str], str] | None = None  # a cell's style on a terminal (e.g. an outcome's colour)
    keep_end: bool = False  # cut from the start: `…/gemini-2.5-flash` keeps a model id's name
    cut_whole: bool = False  # a "shrink" step cuts it to min_width at once, never part way (a date's year)


def _cut_start(text: str, width: int) -> str:
    """`text` in `width` cells, keeping its end: a model id keeps its whole name after the `/` and as much
    of its provider as fits (`google-ai…/gemini-2.5-flash`, `…/gemini-2.5-flash`); else `…` and the end."""
    from rich.cells import cell_len, set_cell_size

    head, slash, name = text.rpartition("/")
    room = width - cell_len(name) - 2  # cells left for the provider, beside "…/" and the name
    if slash and room >= 0:
        return (set_cell_size(head, room).rstrip() if room else "") + "…/" + name
    return "…" + set_cell_size(text[::-1], width - 1)[::-1].lstrip()


def plain_rows(rows: Sequence[Sequence[str]]) -> str:
    return "".join("\t".join(_BREAKS.sub(" ", cell) for cell in row) + "\n" for row in rows)


def fit(
    columns: Sequence[Column], natural: Sequence[int], width: int, narrowing: Sequence[Step]
) -> tuple[list[int], list[int]] | None:
    """The columns to show and their widths, after the fewest narrowing steps that make the table fit in
    `width`; None when it does not fit even after all of them."""
    index = {column.header: i for i, column in enumerate(columns)}
    for taken in range(len(narrowing) + 1):
        steps = narrowing[:taken]
        dropped = {index[header] for kind, header in steps if kind == "drop"}
        shrunk = [index[h] for kind, h in steps if kind == "shrink" and index[h] not in dropped]
        shown = [i for i in range(len(columns)) if i not in dropped]
        widths = list(natural)
        for i in shrunk:
            widths[i] = min(natural[i], columns[i].min_width or natural[i])
        if sum(widths[i] for i in shown) + GAP * (len(shown) - 1) > width:
            continue
        # It fits with these steps: cut the shrunk columns only as far as needed, in the order given.
        excess = sum(natural[i] for i in shown) + GAP * (len(shown) - 1) - width
        widths = list(natural)
        for i in shrunk:
            if excess <= 0:
                break
            room = max(0, natural[i] - (columns[i].min_width or natural[i]))
            cut = room if columns[i].cut_whole else min(excess, room)
            widths[i] -= cut
            excess -= cut
        return shown, widths
    return None


def cut_cell(text: str, column: Column, width: int, style: str | None = None) -> Text:
    """One cell on a terminal: cut to `width` cells (with …) and padded to it, aligned as the column is."""
    from rich.cells import cell_len
    from rich.text import Text

    shown = _cut_start(text, width) if column.keep_end and cell_len(text) > width else text
    cell = Text(shown, style=style or (column.style(text) if column.style else ""))
    cell.truncate(width, overflow="ellipsis")
    padding = " " * (width - cell.cell_len)
    return Text(padding) + cell if column.numeric else cell + Text(padding)


def table_lines(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, narrowing: Sequence[Step] = ()
) -> tuple[list[Text], list[str]]:
    """The table's lines for a terminal `width` columns wide, and the headers of the columns left out."""
    from rich.cells import cell_len
    from rich.text import Text

    cells = [[sanitize(cell) for cell in row] for row in rows]
    natural = [max([cell_len(c.header), *(cell_len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    fitted = fit(columns, natural, width, narrowing)
    shown, widths = fitted if fitted is not None else (list(range(len(columns))), natural)
    gap = Text(" " * GAP)
    lines = [
        gap.join(cut_cell(columns[i].header, columns[i], widths[i], "bold") for i in shown),
        *(gap.join(cut_cell(row[i], columns[i], widths[i]) for i in shown) for row in cells),
    ]
    for line in lines:
        line.rstrip()
    return lines, [c.header for i, c in enumerate(columns) if i not in shown]


def print_table(
    streams: Streams,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    narrowing: Sequence[Step] = (),
    pipe_header: Sequence[str] | None = None,
) -> None:
    """The rows on stdout: fitted to a terminal, or as tab-separated lines (under `pipe_header` if given)."""
    if not streams.stdout_is_terminal:
        streams.out(plain_rows([pipe_header, *rows] if pipe_header else rows))
        return
    console = streams.console()
    lines, left_out = table_lines(columns, rows, console.width, narrowing)
    for line in lines:
        console.print(line, soft_wrap=True)
    if left_out:
        streams.err(left_out_note(left_out, console.width))


def left_out_note(left_out: Sequence[str], width: int, more: str = "") -> str:
    """One line for stderr naming the columns left out: as many as fit in `width`, then how many more."""
    for shown in range(len(left_out), 0, -1):
        rest = len(left_out) - shown
        names = ", ".join(left_out[:shown]) + (f" and {rest} more" if rest else "")
        note = f"(not shown at this width: {names}{more})"
        if len(note) <= width:
            return note
    return note
