"""`history` filters and housekeeping, and `stats`, as the command line runs them: options, messages, exit
statuses, output for pipes; on a terminal, tables that fit the width without wrapping a row, and the chart."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore
from tests.conftest import Home
from tests.router_server import FAILOVER_METADATA, message
from tests.terminal import run_on_terminal

T0 = 1_790_000_000.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def store_of(home: Home) -> HistoryStore:
    return HistoryStore(home.state_dir / "history.sqlite3")


def record(at: float, prompt: str, served: str | None, **changes: Any) -> Record:
    made = Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="127.0.0.1",
        request={"model": "auto", "messages": [{"role": "user", "content": prompt}], "stream": True},
        response=message(f"answer to {prompt}", model=served, metadata=FAILOVER_METADATA) if served else None,
        error=None,
        timings={"ttft_ms": 840.0, "total_ms": 1900.0},
        exit_status=0,
        cost={"usd": 0.000705} if served else None,
    )
    for key, value in changes.items():
        setattr(made, key, value)
    return made


def fill(home: Home) -> list[Record]:
    records = [
        record(T0, "Why is the sky blue?", "anthropic/claude-opus-4-6"),
        record(T0 + 60, "Summarise the build log please", "google-ai-studio/gemini-2.5-flash"),
        record(
            T0 + 120,
            "Write a commit message",
            None,
            error={"status": 529, "type": "overloaded_error"},
            exit_status=5,
            timings={"ttft_ms": None, "total_ms": 30.0},
        ),
    ]
    store_of(home).add_many(records)
    return records


def ids(stdout: str) -> list[str]:
    return [line.split("\t")[0] for line in stdout.splitlines()]


def test_history_filters_on_the_command_line(home: Home) -> None:
    sky, log, commit = fill(home)
    assert ids(home.run("history", "--failed").stdout) == [commit.id]
    assert ids(home.run("history", "-m", "gemini-2.5-flash").stdout) == [log.id]
    assert ids(home.run("history", "--search", "BUILD LOG").stdout) == [log.id]
    assert ids(home.run("history", "--since", "2026-09-21T14:14:00Z").stdout) == [commit.id, log.id]
    listed = home.run("history", "--model", "anthropic", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [sky.id]
    none = home.run("history", "--search", "nowhere")
    assert (none.returncode, none.stdout, none.stderr) == (0, "", "no requests in history match\n")


def test_bad_selections_are_usage_errors(home: Home) -> None:
    fill(home)
    for args, message_start in [
        (["history", "--since", "yesterday"], "error: bad value for --since: 'yesterday'"),
        (["stats", "--since", "3 weeks"], "error: bad value for --since: '3 weeks'"),
        (["history", "prune"], "error: say what to prune: --older-than 30d, --keep N, or both"),
        (["history", "prune", "--older-than", "soon"], "error: bad value for --older-than: 'soon'"),
        (["history", "prune", "--keep", "-1"], "error: Invalid value for '--keep'"),
        (["stats", "--json", "--csv"], "error: --json and --csv cannot be used together"),
        (["stats", "--by", "week"], "error: Invalid value for '--by'"),
        (["history", "rm"], "error: Missing argument 'ID...'"),
        (["history", "--search", "caf\udce9"], "error: --search is not UTF-8 text"),  # Latin-1 in argv
        (["stats", "-m", "\udcff"], "error: --model is not UTF-8 text"),
    ]:
        result = home.run(*args)
        assert (result.returncode, result.stdout) == (2, ""), args
        lines = result.stderr.splitlines()
        assert lines[0].startswith(message_start), args
        assert lines[1].startswith("hint: "), args
    assert len(ids(home.run("history").stdout)) == 3  # nothing was removed


def test_rm_and_prune(home: Home) -> None:
    sky, log, commit = fill(home)
    unknown = home.run("history", "rm", sky.id, "ffff")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[0] == "error: no history record matches 'ffff'"
    removed = home.run("history", "rm", sky.id[:16])
    assert (removed.returncode, removed.stdout) == (0, "")
    assert re.fullmatch(r"removed 1 record; history\.sqlite3: [\d.]+ kB → [\d.]+ kB\n", removed.stderr)
    assert ids(home.run("history").stdout) == [commit.id, log.id]
    assert ids(home.run("history", "-n", "9" * 30).stdout) == [commit.id, log.id]
    assert home.run("history", "prune", "--keep", "9" * 30).stderr.startswith("removed 0 records")
    dry = home.run("history", "prune", "--keep", "1", "--dry-run")
    assert dry.stderr.startswith("would remove 1 record (history.sqlite3 is ")
    assert ids(home.run("history").stdout) == [commit.id, log.id]
    pruned = home.run("history", "prune", "--older-than", "2026-09-21T14:14:30Z")
    assert pruned.stderr.startswith("removed 1 record; history.sqlite3: ")
    assert ids(home.run("history").stdout) == [commit.id]


def test_prune_and_stats_without_history(home: Home) -> None:
    pruned = home.run("history", "prune", "--keep", "5")
    assert (pruned.returncode, pruned.stdout, pruned.stderr) == (0, "", "no history yet: nothing to prune\n")
    stats = home.run("stats")
    assert (stats.returncode, stats.stderr) == (0, "no history yet\n")
    assert stats.stdout.splitlines() == ["\t".join(stats.stdout.split("\n")[0].split("\t"))]  # a header only
    assert stats.stdout.startswith("model\trequests\tsuccess_rate\t")
    assert json.loads(home.run("stats", "--json").stdout)["groups"] == []
    assert not (home.state_dir / "history.sqlite3").exists()


def test_stats_on_a_pipe_is_tab_separated_under_a_header(home: Home) -> None:
    fill(home)
    result = home.run("stats", "--by", "provider")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert [line.split("\t") for line in result.stdout.splitlines()] == [
        ["provider", "requests", "success_rate", "failover_rate", "mean_attempts", "ttft_p50_ms",
         "ttft_p95_ms", "ttft_p99_ms", "total_p50_ms", "total_p95_ms", "input_tokens", "output_tokens",
         "tokens_per_s", "cost_usd", "unpriced", "errors"],
        ["anthropic", "1", "1.0000", "1.0000", "3.000", "840", "840", "840", "1900", "1900", "12", "7",
         "6.6", "0.000705", "0", ""],
        ["google-ai-studio", "1", "1.0000", "1.0000", "3.000", "840", "840", "840", "1900", "1900", "12", "7",
         "6.6", "0.000705", "0", ""],
        ["(not served)", "1", "0.0000", "-", "-", "-", "-", "-", "-", "-", "0", "0", "-", "-", "0",
         "overloaded_error:1"],
    ]  # fmt: skip


# -- on a terminal ------------------------------------------------------------------------------------------


def many(home: Home) -> None:
    served = ["anthropic/claude-sonnet-4-6", "google-ai-studio/gemini-2.5-flash", "openai/gpt-5"]
    records = [
        record(T0 + i * 60, f"question number {i} about routing and failover", served[i % 3])
        for i in range(6)
    ]
    records.append(
        record(T0 + 999, "a failing one", None, error={"type": "invalid_request_error"}, exit_status=4)
    )
    store_of(home).add_many(records)


@pytest.mark.tty
@pytest.mark.parametrize(
    ("columns", "header", "left_out"),
    [
        (80, "id time served attempts cost outcome", "requested, ttft, tokens, prompt"),
        (100, "id time requested served attempts ttft cost outcome", "tokens, prompt"),
    ],
)
def test_history_fits_the_terminal_without_wrapping_a_row(
    home: Home, columns: int, header: str, left_out: str
) -> None:
    many(home)
    run = run_on_terminal(home, "history", columns=columns, rows=40, env={"TZ": "UTC"})
    assert run.status == 0
    lines = run.out.lines
    assert len(lines) == 1 + 7 + 1  # the header, one line per record, the note: no row wrapped
    assert all(len(line) <= columns for line in lines)
    assert lines[0].split() == header.split()
    assert lines[-1] == f"(not shown at this width: {left_out})"
    assert "…09-21 14:29" in lines[1]  # the year gives way before anything else of the time
    assert lines[1].endswith("exit 4 invali…")  # so does a failure's error type
    assert "g…/gemini-2.5-flash  3 ✗✗✓" in lines[3] or "go…/gemini-2.5-flash  3 ✗✗✓" in lines[3]
    assert lines[3].endswith("$0.00071  ok")
    assert "\x1b[" in run.out.data.decode()  # coloured outcomes


@pytest.mark.tty
def test_stats_on_a_terminal_draws_a_table_and_a_chart(home: Home) -> None:
    many(home)
    run = run_on_terminal(home, "stats", columns=120, rows=40)
    assert run.status == 0
    screen = [ANSI.sub("", line) for line in run.out.lines]
    assert screen[0].split()[:5] == ["model", "reqs", "ok", "failover", "attempts"]
    assert all(len(line) <= 120 for line in screen)
    total = next(line for line in screen if line.startswith("all "))
    assert total.split()[1:4] == ["7", "85.7%", "100.0%"]
    chart = screen.index(next(line for line in screen if "ttft, log scale" in line))
    bars = screen[chart + 1 : chart + 6]
    assert [line.split("  ")[0] for line in bars] == [
        "anthropic/claude-sonnet-4-6",
        "google-ai-studio/gemini-2.5-flash",
        "openai/gpt-5",
        "(not served)",
        "all",
    ]
    assert "█" in bars[0]  # 840 ms
    assert bars[0].endswith("100.0%")  # every answer failed over
    assert screen[chart + 6].split() == ["100ms", "1s", "10s"]
