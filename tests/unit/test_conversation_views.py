"""The list of conversations on a terminal: one line per conversation, within the width, ids whole."""

from __future__ import annotations

import io
import re

import pytest
from rich.cells import cell_len

from inworld_cli.core.conversation import Summary
from inworld_cli.output.console import Output, Streams
from inworld_cli.output.conversations import print_summaries

SUMMARIES = [
    Summary(
        id=f"01a233cb8{n}0000000000",
        title="A much longer question about the theory of everything and the routers of the world",
        turns=12,
        failed=n,
        models=("openai/gpt-5", "anthropic/claude-opus-4-6"),
        input_tokens=123_456,
        output_tokens=7_890,
        created_at="2026-12-01T22:47:31.660Z",
        last_used_at="2026-12-01T22:48:31.660Z",
    )
    for n in range(3)
]
SHORT = {s.id: s.id[:10] for s in SUMMARIES}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("width", "headers"),
    [
        (160, ["ID", "TITLE", "TURNS", "MODEL", "TOKENS", "LAST USED"]),
        (100, ["ID", "TITLE", "TURNS", "MODEL", "LAST USED"]),
        (60, ["ID", "TITLE", "TURNS"]),
    ],
)
def test_the_table_fits_the_terminal(monkeypatch: pytest.MonkeyPatch, width: int, headers: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    out = Terminal()
    print_summaries(Streams(io.BytesIO(), Output(out), Terminal(), {"TERM": "xterm"}), SUMMARIES, SHORT)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1 + len(SUMMARIES)  # a header and one line each: nothing wraps
    assert lines[0].split() == " ".join(headers).split()
    assert all(cell_len(line) <= width for line in lines)
    for line, summary in zip(lines[1:], SUMMARIES, strict=True):
        assert line.startswith(SHORT[summary.id] + "  A much longer")  # the id whole, the title cut
        assert "…" in line or width == 160
    assert "12 +1 failed" in lines[2]
    assert "gpt-5" not in lines[1]  # the latest model only, and how many others
    if "MODEL" in headers:
        assert "claude-opus-4-6 +1" in lines[1]
