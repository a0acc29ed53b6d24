"""`inspect` and `history`, run as installed, against records written into the isolated home's history
database, files and stdin. (Records made by `ask` itself are covered with `ask`'s tests.)"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore
from tests.conftest import Home
from tests.e2e.test_import_guard import loaded_modules
from tests.router_server import FAILOVER_METADATA, message
from tests.terminal import run_on_terminal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "failover-response.json"
T0 = 1_790_000_000.0


def store_of(home: Home) -> HistoryStore:
    return HistoryStore(home.state_dir / "history.sqlite3")


def add(
    home: Home,
    at: float,
    *,
    metadata: dict[str, Any] | None = FAILOVER_METADATA,
    text: str = "Hello!",
    **changes: Any,
) -> Record:
    record = Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="127.0.0.1:8080",
        request={"model": "auto", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
        response=message(text, metadata=metadata),
        error=None,
        timings={"ttft_ms": 912.0, "total_ms": 1500.0},
        exit_status=0,
    )
    for key, value in changes.items():
        setattr(record, key, value)
    store_of(home).add(record)
    return record


def assert_failover_shown(stdout: str) -> None:
    lines = stdout.splitlines()
    assert "attempts: 3" in lines
    assert "failovers: 2" in lines
    assert 'attempt 1: model=openai/gpt-5 outcome=failed ttft_ms=- error="upstream 503"' in lines
    assert "attempt 2: model=google-ai-studio/gemini-2.5-flash outcome=failed ttft_ms=- status=429" in lines
    assert "attempt 3: model=anthropic/claude-opus-4-6 outcome=ok ttft_ms=840" in lines
    assert (
        "chain: openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ → anthropic/claude-opus-4-6 ✓" in lines
    )
    assert f"reasoning: {FAILOVER_METADATA['reasoning']}" in lines
    assert "generation_id: gen-failover-42" in lines


# -- inspect: history references -------------------------------------------------------------------------


def test_inspect_last_shows_the_failover_piped(home: Home) -> None:
    add(home, T0, metadata=None, text="older")
    record = add(home, T0 + 60, text="the newest answer")
    for args in ([], ["last"]):
        result = home.run("inspect", *args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert_failover_shown(result.stdout)
        lines = result.stdout.splitlines()
        assert f"id: {record.id}" in lines
        assert "requested_model: auto" in lines
        assert "served_model: anthropic/claude-opus-4-6" in lines
        assert "client_ttft_ms: 912" in lines
        assert lines[-2:] == ["answer:", "the newest answer"]
        assert "\x1b" not in result.stdout


def test_inspect_by_generation_id_and_id_prefix(home: Home) -> None:
    wanted = add(home, T0, metadata={**FAILOVER_METADATA, "generation_id": "gen-wanted"}, text="wanted")
    add(home, T0 + 3600, metadata={**FAILOVER_METADATA, "generation_id": "gen-other"}, text="other")
    by_generation = home.run("inspect", "gen-wanted")
    by_prefix = home.run("inspect", wanted.id[:10])
    for result in (by_generation, by_prefix):
        assert result.returncode == 0, result.stderr
        assert f"id: {wanted.id}" in result.stdout.splitlines()
        assert result.stdout.rstrip().endswith("wanted")


def test_inspect_generation_id_shared_by_two_records_takes_the_newest(home: Home) -> None:
    add(home, T0, text="first")
    newest = add(home, T0 + 5, text="second")
    result = home.run("inspect", "gen-failover-42")
    assert result.returncode == 0
    assert f"id: {newest.id}" in result.stdout


def test_unknown_and_ambiguous_refs_are_exit_2_with_one_line(home: Home) -> None:
    first = add(home, T0)
    add(home, T0 + 1)
    unknown = home.run("inspect", "gen-nowhere")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert unknown.stderr.splitlines()[0] == "error: no history record or generation id matches 'gen-nowhere'"
    assert unknown.stderr.splitlines()[1].startswith("hint: ")
    ambiguous = home.run("inspect", first.id[:8])
    assert ambiguous.returncode == 2
    assert "matches 2 history records" in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr


def test_no_history_yet(home: Home) -> None:
    last = home.run("inspect")
    assert last.returncode == 2
    assert last.stdout == ""
    assert last.stderr.splitlines()[0] == "error: no history yet"
    assert last.stderr.splitlines()[1].startswith("hint: ")
    listing = home.run("history")
    assert listing.returncode == 0
    assert listing.stdout == ""
    assert "no history yet" in listing.stderr
    as_json = home.run("history", "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == []
    assert not (home.state_dir / "history.sqlite3").exists()  # looking never creates the database


def test_no_content_leaves_the_answer_out(home: Home) -> None:
    add(home, T0, text="secret-sauce answer")
    result = home.run("inspect", "--no-content")
    assert result.returncode == 0
    assert "secret-sauce" not in result.stdout
    assert "answer:" not in result.stdout
    assert_failover_shown(result.stdout)


def test_inspect_json_prints_the_record(home: Home) -> None:
    record = add(home, T0)
    result = home.run("inspect", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == record.to_json()


# -- inspect: files and stdin --------------------------------------------------------------------------


def test_the_shipped_example_renders_without_a_key(home: Home) -> None:
    result = home.run("inspect", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "attempts: 3" in lines
    assert (
        "chain: openai/gpt-5 ✗ → google-ai-studio/gemini-2.5-flash ✗ → anthropic/claude-opus-4-6 ✓" in lines
    )
    assert "attempt 3: model=anthropic/claude-opus-4-6 outcome=ok ttft_ms=1152" in lines
    assert "generation_id: 019b2c7e-5a1f-7c3d-9e42-6f1a8b0d2c55" in lines


def test_a_response_on_stdin(home: Home) -> None:
    result = home.run("inspect", "-", input=json.dumps(message("piped", metadata=FAILOVER_METADATA)))
    assert result.returncode == 0, result.stderr
    assert_failover_shown(result.stdout)
    assert result.stdout.splitlines()[-1] == "piped"


def test_inspect_json_output_and_history_json_feed_back_into_inspect(home: Home) -> None:
    add(home, T0, text="round trip")
    as_record = home.run("inspect", "--json").stdout
    as_array = home.run("history", "--json").stdout
    direct = home.run("inspect").stdout
    for document in (as_record, as_array):
        again = home.run("inspect", "-", input=document)
        assert again.returncode == 0, again.stderr
        assert again.stdout == direct


def test_a_bare_metadata_object(home: Home) -> None:
    result = home.run("inspect", "-", input=json.dumps(FAILOVER_METADATA))
    assert result.returncode == 0, result.stderr
    assert_failover_shown(result.stdout)


def test_odd_metadata_and_no_metadata_are_shown_without_error(home: Home, tmp_path: Path) -> None:
    odd = {
        "attempts": [
            {
                "model": "openai/gpt-5",
                "success": None,
                "time_to_first_token_ms": None,
                "region": "eu",
                "code": 7,
            },
            "not-an-object",
        ],
        "generation_id": None,
        "route_version": 3,
    }
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(message("odd", metadata=odd)))
    result = home.run("inspect", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "attempt 1: model=openai/gpt-5 outcome=unknown ttft_ms=- region=eu code=7" in lines
    assert "attempt 2: model=- outcome=unknown ttft_ms=- value=not-an-object" in lines
    assert "metadata.route_version: 3" in lines
    bare = home.run("inspect", "-", input=json.dumps(message("plain", metadata=None)))
    assert bare.returncode == 0
    assert "routing: no routing metadata in this response" in bare.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "stdin", "message_start"),
    [
        (["-"], "{not json", "error: invalid JSON in stdin: Expecting property name"),
        (["-"], "", "error: stdin is empty"),
        (["-"], '{"hello": "world"}', "error: stdin is not a Messages response, a history record or routing"),
        (["-"], "[]", "error: stdin holds an empty JSON array"),
        (["missing.json"], "", "error: no such file: missing.json"),
        (["./nowhere"], "", "error: no such file: ./nowhere"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(
    home: Home, args: list[str], stdin: str, message_start: str
) -> None:
    result = home.run("inspect", *args, input=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(message_start)
    assert len(lines) == 2
    assert lines[1].startswith("hint: ")


def test_invalid_json_file_and_directory(home: Home, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "x",\n  oops}')
    result = home.run("inspect", str(broken))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: invalid JSON in {broken}: ")
    assert "(line 2, column 3)" in result.stderr
    directory = home.run("inspect", str(tmp_path))
    assert directory.returncode == 2
    assert "is a directory" in directory.stderr


def test_hostile_text_is_neutralised(home: Home) -> None:
    hostile = {"attempts": [{"model": "evil\x1b]0;owned\x07", "success": True}], "reasoning": "x\x1b[2Jy"}
    result = home.run("inspect", "-", input=json.dumps(message("hi\x1b[31mred", metadata=hostile)))
    assert result.returncode == 0
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert 'model="evil\\u001b]0;owned\\u0007"' in result.stdout  # JSON-escaped in key=value
    assert "chain: evil^[]0;owned^G ✓" in result.stdout
    assert "hi^[[31mred" in result.stdout


# -- history --------------------------------------------------------------------------------------------


def test_history_lists_newest_first_with_outcomes(home: Home) -> None:
    ok = add(home, T0)
    failed = add(
        home,
        T0 + 60,
        response=None,
        error={"status": 529, "type": "overloaded_error", "message": "Overloaded", "request_id": "req_1"},
        exit_status=5,
        timings={"ttft_ms": None, "total_ms": 30.0},
    )
    interrupted = add(home, T0 + 120, metadata=None, exit_status=130, partial=True)
    result = home.run("history")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = [line.split("\t") for line in result.stdout.splitlines()]  # on a pipe: TSV, no header
    assert [row[0] for row in rows] == [interrupted.id, failed.id, ok.id]  # whole ids, newest first
    assert all(len(row) == 10 for row in rows)
    assert rows[0][8] == "interrupted partial"
    assert rows[1][8] == "exit 5 overloaded_error"
    assert rows[2] == [
        ok.id,
        ok.created_at,
        "auto",
        "anthropic/claude-opus-4-6",
        "3 ✗✗✓",
        "912",
        "12→7",
        "unpriced",
        "ok",
        "hi",
    ]
    one = home.run("history", "-n", "1").stdout.splitlines()
    assert [line.split("\t")[0] for line in one] == [interrupted.id]


def test_history_ids_work_with_inspect(home: Home) -> None:
    records = [add(home, T0, text=f"answer {i}") for i in range(3)]  # the same millisecond
    shown = [line.split("\t")[0] for line in home.run("history").stdout.splitlines()]
    assert sorted(shown) == sorted(r.id for r in records)
    for record_id in shown:
        result = home.run("inspect", record_id)
        assert result.returncode == 0, result.stderr
        assert f"id: {record_id}" in result.stdout


def test_history_json_is_an_array_of_records_newest_first(home: Home) -> None:
    older, newer = add(home, T0), add(home, T0 + 1)
    result = home.run("history", "--json", "-n", "5")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data == [newer.to_json(), older.to_json()]
    for item in data:
        assert {"id", "created_at", "request", "response", "error", "timings", "exit_status"} <= item.keys()


def test_history_limit_must_be_positive(home: Home) -> None:
    result = home.run("history", "-n", "0")
    assert result.returncode == 2
    assert result.stdout == ""


def test_a_damaged_store_is_exit_1_with_one_line(home: Home) -> None:
    home.state_dir.mkdir(parents=True)
    (home.state_dir / "history.sqlite3").write_bytes(b"definitely not sqlite " * 100)
    for args in (["history"], ["inspect"], ["inspect", "abc123"]):
        result = home.run(*args)
        assert result.returncode == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[0].startswith("error: cannot read history ")
        assert "file is not a database" in lines[0]
        assert lines[1].startswith("hint: the file looks damaged")
        assert "Traceback" not in result.stderr


def test_records_written_by_a_newer_schema_are_refused_clearly(home: Home) -> None:
    add(home, T0)
    conn = sqlite3.connect(home.state_dir / "history.sqlite3")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = home.run("history")
    assert result.returncode == 1
    assert "schema version 99" in result.stderr


# -- on a terminal ---------------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_pty(home: Home, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit status and the raw bytes a 100x60 terminal received (escape codes kept), as text."""
    run = run_on_terminal(home, *args, env=env, columns=100, rows=60)
    return run.status, run.out.data.decode("utf-8", "replace").replace("\r\n", "\n")


def test_inspect_on_a_terminal_draws_the_timeline(home: Home) -> None:
    add(home, T0, text="drawn answer")
    status, raw = run_on_pty(home, "inspect")
    assert status == 0
    assert "\x1b[" in raw  # coloured
    screen = ANSI.sub("", raw)
    assert "╭─ routing gen-failover-42" in screen
    lines = screen.splitlines()
    rows = [i for i, line in enumerate(lines) if re.match(r"│ +[123]  ", line)]
    assert len(rows) == 3
    first, second, third = (lines[i] for i in rows)
    assert "openai/gpt-5" in first
    assert "✗ failed" in first
    assert "google-ai-studio/gemini-2.5-flash" in second
    assert 'error="upstream 503"' in lines[rows[0] + 1]  # its other fields, just below
    assert "status=429" in lines[rows[1] + 1]
    assert "✓ ok" in third
    assert "840 ms" in third
    assert "█" in third
    assert "drawn answer" in screen


def test_a_dumb_terminal_gets_the_plain_text(home: Home) -> None:
    add(home, T0)
    status, raw = run_on_pty(home, "inspect", env={"TERM": "dumb"})
    assert status == 0
    assert "\x1b" not in raw
    assert "╭" not in raw
    assert 'attempt 1: model=openai/gpt-5 outcome=failed ttft_ms=- error="upstream 503"' in raw.splitlines()


def test_stdin_from_a_terminal_is_refused_not_waited_for(home: Home) -> None:
    status, raw = run_on_pty(home, "inspect", "-")
    assert status == 2
    # On a terminal the labels are coloured (bold red, yellow); the words are the same.
    assert raw.splitlines() == [
        "\x1b[1;31merror:\x1b[0m `inspect -` reads JSON from stdin, but stdin is a terminal",
        '\x1b[33mhint:\x1b[0m pipe it in: inworld-router ask --json "hi" | inworld-router inspect -',
    ]
    status, raw = run_on_pty(home, "inspect", "-", env={"NO_COLOR": "1"})
    assert (status, "\x1b" in raw) == (2, False)


def test_history_on_a_terminal_draws_a_table(home: Home) -> None:
    record = add(home, T0)
    status, raw = run_on_pty(home, "history")
    assert status == 0
    screen = ANSI.sub("", raw)
    assert "requested" in screen
    assert record.id[:8] in screen
    assert "3 ✗✗✓" in screen


# -- start-up cost ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["inspect"],
        ["inspect", "--json"],
        ["history"],
        ["history", "--json"],
        ["history", "--search", "hi", "--since", "7d"],
        ["stats"],
        ["inspect", str(EXAMPLE)],
    ],
    ids=" ".join,
)
def test_rendering_real_records_imports_nothing_heavy(home: Home, args: list[str]) -> None:
    """With a record to show (the import guard's fast paths run with an empty history)."""
    add(home, T0)
    assert loaded_modules(home, args) == []


def test_a_file_that_is_there_but_cannot_be_read_is_a_local_error(home: Home, tmp_path: Path) -> None:
    # Tests run as root, which reads any file: a Unix socket is a path that exists and cannot be read.
    import socket

    path = tmp_path / "response.json"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        result = home.run("inspect", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"error: cannot read {path}: No such device or address",
        f"hint: check {path}",
    ]
