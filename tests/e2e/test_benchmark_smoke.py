"""The benchmark harness runs from end to end in its tiny mode. No timing is judged here: only that every
measurement was made (its command did what it should, checked by the harness) and reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

MEASURED_ROWS = [
    "`--help`",
    "`auth status`",
    "`inspect last`",
    "a completion request (bash)",
    "`ask --no-stream`",
    "`ask`, 200-delta stream to a file",
    "`ask`, 200-delta stream on a terminal",
    "`ask`, stdin after 0.3 s",
    "peak RSS, `ask --no-stream`",
    "peak RSS, `ask`, 200-delta stream",
    "`stats`, 2,000 records, to a file",
    "`stats`, 2,000 records, on a terminal",
    "`history`, 2,000 records",
    "`inspect last`, 2,000 records",
    "warm worker: `ask --no-stream`",
    "warm worker: `ask`, 200-delta stream to a file",
    "cold: `ask --no-stream` that starts a worker",
]


def cells(table: str, name: str) -> list[str]:
    rows = [line for line in table.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, f"no row {name!r} in:\n{table}"
    return [cell.strip() for cell in rows[0].strip().strip("|").split(" | ")]


@pytest.mark.benchmark
def test_quick_benchmark_measures_every_row(tmp_path: Path) -> None:
    output = tmp_path / "latest.md"
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert output.read_text() == table.removesuffix("\n")
    for name in MEASURED_ROWS:
        row = cells(table, name)
        assert row[1].endswith((" ms", " MiB")), row  # a median, not a skip or a failure
        # A reference computed by subtraction can come out below 0 from one noisy run: said so, not hidden.
        assert row[5] in ("pass", "**FAIL**") or row[5].startswith("not measurable"), row
    assert "- machine: " in table
    assert "| Typer floor --help | 1 |" in table
    assert "| SDK floor streamed | 1 |" in table
    assert "the warm worker's resident memory, idle after its first request" in table
