"""The terminal sanitiser: no control sequence survives, every printable character does."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inworld_cli.output.console import Output, StdoutClosed, sanitize

CONTROL = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {chr(c) for c in range(0x7F, 0xA0)}


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    assert not CONTROL & set(sanitize(text))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc",))))
def test_printable_text_is_unchanged(text: str) -> None:
    assert sanitize(text) == text


@given(st.text())
def test_newlines_and_tabs_are_kept_in_place(text: str) -> None:
    cleaned = sanitize(text)
    assert cleaned.count("\n") == text.count("\n")
    assert cleaned.count("\t") == text.count("\t")


def test_escape_sequences_are_shown_not_obeyed() -> None:
    hostile = "a\x1b]0;pwned\x07b\x1b[2J\x1b[Hc\rd\x9b31m"
    assert sanitize(hostile) == "a^[]0;pwned^Gb^[[2J^[[Hc^Md\\x9b31m"


def test_emoji_rtl_and_combining_characters_pass_through() -> None:
    text = "héllo 👋🏽 مرحبا e\u0301 \u200d"
    assert sanitize(text) == text


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_becomes_a_quiet_condition_not_an_oserror() -> None:
    output = Output(ClosedPipe())
    with pytest.raises(StdoutClosed) as info:
        output.write("x")
    assert not isinstance(info.value, OSError)
