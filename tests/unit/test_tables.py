"""The one table of every listing: fitted to a terminal by the listing's narrowing steps, in order, never
wrapping a row; whole lines (for the terminal to wrap) when even that is not enough."""

from __future__ import annotations

from inworld_cli.output.tables import Column, Step, fit, left_out_note, table_lines

COLUMNS = (
    Column("name", min_width=8, keep_end=True),
    Column("n", numeric=True),
    Column("note", min_width=6),
    Column("extra"),
)
NARROWING: tuple[Step, ...] = (("shrink", "note"), ("drop", "extra"), ("shrink", "name"))
ROWS = [["anthropic/claude-sonnet-4-6", "1,234", "a long note here", "xx"], ["openai/gpt-5", "7", "-", "y"]]


def rendered(width: int) -> tuple[list[str], list[str]]:
    lines, left_out = table_lines(COLUMNS, ROWS, width, NARROWING)
    return [line.plain for line in lines], left_out


def test_a_table_that_fits_is_left_alone() -> None:
    lines, left_out = rendered(100)
    assert lines == [
        "name                             n  note              extra",
        "anthropic/claude-sonnet-4-6  1,234  a long note here  xx",
        "openai/gpt-5                     7  -                 y",
    ]
    assert left_out == []


def test_steps_are_taken_in_order_and_cut_only_as_far_as_needed() -> None:
    lines, left_out = rendered(58)  # 1 cell too wide: the note gives it up
    assert lines[1] == "anthropic/claude-sonnet-4-6  1,234  a long note he…  xx"
    assert left_out == []
    lines, left_out = rendered(45)  # the note at its narrowest is not enough: extra goes, the note grows back
    assert lines == [
        "name                             n  note",
        "anthropic/claude-sonnet-4-6  1,234  a long n…",
        "openai/gpt-5                     7  -",
    ]
    assert left_out == ["extra"]
    lines, left_out = rendered(23)  # then the name gives way, from its start
    assert lines == ["name          n  note", "…net-4-6  1,234  a lon…", "o…/gpt-5      7  -"]
    for width in range(23, 60):
        assert all(len(line) <= width for line in rendered(width)[0]), width


def test_nothing_is_cut_when_even_every_step_is_not_enough() -> None:
    lines, left_out = rendered(22)
    assert lines[1] == "anthropic/claude-sonnet-4-6  1,234  a long note here  xx"  # whole: the terminal wraps
    assert left_out == []


def test_fit_reports_shown_columns_and_widths() -> None:
    natural = [27, 5, 16, 5]
    assert fit(COLUMNS, natural, 100, NARROWING) == ([0, 1, 2, 3], natural)
    assert fit(COLUMNS, natural, 56, NARROWING) == ([0, 1, 2, 3], [27, 5, 13, 5])
    assert fit(COLUMNS, natural, 10, NARROWING) is None


def test_a_column_already_narrower_than_its_minimum_is_not_widened() -> None:
    columns = (Column("ok", min_width=14), Column("model", min_width=7, keep_end=True, cut_whole=True))
    lines, _ = table_lines(columns, [["ok", "openai/gpt-5"]], 15, (("shrink", "ok"), ("shrink", "model")))
    assert [line.plain for line in lines] == ["ok  model", "ok  …/gpt-5"]  # cut whole: to its minimum


def test_the_note_of_what_was_left_out_stays_on_one_line() -> None:
    names = ["a long column", "another one", "a third"]
    assert left_out_note(names, 80) == "(not shown at this width: a long column, another one, a third)"
    assert (
        left_out_note(names, 64, "; see --json")
        == "(not shown at this width: a long column and 2 more; see --json)"
    )
    assert (
        left_out_note(names, 20) == "(not shown at this width: a long column and 2 more)"
    )  # the least it says
