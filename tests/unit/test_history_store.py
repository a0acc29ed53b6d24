"""The history store: record shape, lookups, file modes, damage, schema versions, many writers at once."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.errors import ExitStatus, UsageError
from inworld_cli.store.history import SCHEMA_VERSION, HistoryError, HistoryStore
from tests.router_server import FAILOVER_METADATA, message

T0 = 1_790_000_000.0  # a fixed moment, so ids and times are predictable


def make_record(
    at: float = T0,
    *,
    model: str = "auto",
    served: str = "anthropic/claude-opus-4-6",
    generation_id: str | None = "gen-0001",
    exit_status: int = 0,
) -> Record:
    metadata: dict[str, Any] | None = (
        {**FAILOVER_METADATA, "generation_id": generation_id} if generation_id else None
    )
    return Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="127.0.0.1:8080",
        request={"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
        response=message("Hello!", model=served, metadata=metadata),
        error=None,
        timings={"ttft_ms": 840.0, "total_ms": 1200.0},
        exit_status=exit_status,
    )


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / "state" / "inworld-router" / "history.sqlite3")


def test_ids_and_times_have_the_agreed_shape() -> None:
    record_id = new_record_id(T0)
    assert re.fullmatch(r"[0-9a-f]{20}", record_id)
    assert record_id.startswith(f"{int(T0 * 1000):012x}")
    assert new_record_id(T0 + 0.001) > new_record_id(T0)  # ids sort by time
    assert new_record_id(T0) != new_record_id(T0)  # the random tail separates the same millisecond
    assert utc_timestamp(T0 + 0.123) == "2026-09-21T14:13:20.123Z"


def test_record_json_is_exactly_the_fields_and_round_trips() -> None:
    record = make_record()
    data = record.to_json()
    assert list(data) == [
        "id",
        "created_at",
        "profile",
        "base_url_host",
        "request",
        "response",
        "error",
        "timings",
        "exit_status",
        "partial",
        "conversation_id",
        "batch_id",
        "compare_id",
        "cost",
    ]
    assert Record.from_json(data) == record


def test_from_json_is_tolerant_of_missing_and_mistyped_keys() -> None:
    record = Record.from_json({"response": {"model": "m"}, "exit_status": "5", "request": [1], "partial": 1})
    assert record.id == ""
    assert record.request == {}
    assert record.response == {"model": "m"}
    assert record.exit_status == 0
    assert record.partial is False
    assert record.timings == {}


def test_add_then_read_back_newest_first(store: HistoryStore) -> None:
    first, second, third = (make_record(T0 + i, generation_id=f"gen-{i}") for i in range(3))
    for record in (second, first, third):  # insertion order does not matter: ids carry the time
        store.add(record)
    assert store.recent(10) == [third, second, first]
    assert store.recent(2) == [third, second]
    assert store.latest() == third


def test_find_by_last_id_prefix_and_generation_id(store: HistoryStore) -> None:
    old = make_record(T0, generation_id="gen-shared")
    new = make_record(T0 + 100, generation_id="gen-shared")
    other = make_record(T0 + 200, generation_id="gen-other")
    for record in (old, new, other):
        store.add(record)
    assert store.find("last") == other
    assert store.find(old.id) == old
    assert store.find(old.id.upper()) == old
    assert store.find(old.id[:14]) == old  # 12 hex of time + 2: unique
    assert store.find("gen-shared") == new  # the newest carrying that generation id
    assert store.find("gen-other") == other
    assert store.find("gen-shar") == new  # the first 8 characters, as ask's summary shortens it
    assert store.find("gen-othe…") == other  # pasted with the ellipsis
    with pytest.raises(UsageError):
        store.find("gen-sha")  # fewer than 8: not taken for a generation id


def test_ambiguous_and_unknown_refs_are_usage_errors(store: HistoryStore) -> None:
    store.add(make_record(T0))
    store.add(make_record(T0 + 1))
    with pytest.raises(UsageError, match="matches 2 history records") as ambiguous:
        store.find(new_record_id(T0)[:6])
    assert ambiguous.value.status == ExitStatus.USAGE
    with pytest.raises(UsageError, match="no history record or generation id matches 'nope'"):
        store.find("nope")


def test_reading_an_absent_store_creates_nothing(store: HistoryStore) -> None:
    assert store.recent(5) == []
    assert store.latest() is None
    assert store.models_seen() == []
    with pytest.raises(UsageError, match="no history yet"):
        store.find("last")
    assert not store.path.exists()
    assert not store.path.parent.exists()


def test_file_is_0600_and_dir_0700_whatever_the_umask(store: HistoryStore) -> None:
    old = os.umask(0)
    try:
        store.add(make_record())
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    for sidecar in store.path.parent.glob("history.sqlite3-*"):  # -wal / -shm while open elsewhere
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600


def test_an_existing_loose_file_is_made_private(store: HistoryStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.touch(mode=0o644)
    os.chmod(store.path, 0o644)
    store.add(make_record())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_schema_version_and_wal_are_set(store: HistoryStore) -> None:
    store.add(make_record())
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = [row[1] for row in conn.execute("PRAGMA table_info(records)")]
        indexed = conn.execute("SELECT generation_id, requested_model, served_model FROM records").fetchall()
    conn.close()
    assert {"id", "created_at", "generation_id", "requested_model", "served_model", "data"} <= set(columns)
    assert indexed == [("gen-0001", "auto", "anthropic/claude-opus-4-6")]


def test_a_first_stage_database_is_migrated_and_its_columns_filled_from_the_records(
    store: HistoryStore,
) -> None:
    """A database written by the first stage (schema 1): its rows gain the second stage's columns, filled
    from each record's JSON, so that `stats` and the filters see old requests too."""
    from inworld_cli.store.history import MIGRATIONS

    store.path.parent.mkdir(parents=True)
    old = make_record()
    with sqlite3.connect(store.path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute(
            "INSERT INTO records (id, created_at, generation_id, requested_model, served_model, exit_status, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (old.id, old.created_at, "gen-0001", "auto", "x", 0, json.dumps(old.to_json())),
        )
        conn.execute("PRAGMA user_version = 1")
    conn.close()
    store.add(make_record(T0 + 1))
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = conn.execute(
            "SELECT ttft_ms, total_ms, attempts, input_tokens, output_tokens, error_type FROM records ORDER BY id"
        ).fetchall()
    conn.close()
    assert rows == [(840.0, 1200.0, 3, 12, 7, None)] * 2  # the migrated row, and one written now
    assert [r.id for r in HistoryStore(store.path).recent(5)][-1] == old.id


def test_a_newer_schema_is_refused_with_a_clear_error(store: HistoryStore) -> None:
    store.add(make_record())
    conn = sqlite3.connect(store.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(HistoryError, match="newer than this inworld-router understands"):
        HistoryStore(store.path).recent(1)


def test_a_damaged_file_is_a_history_error_not_a_crash(store: HistoryStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(HistoryError, match=r"cannot write history .*history\.sqlite3") as on_write:
        store.add(make_record())
    assert on_write.value.status == ExitStatus.LOCAL
    assert "move it aside" in (on_write.value.hint or "")
    with pytest.raises(HistoryError, match="cannot read history"):
        HistoryStore(store.path).recent(5)


def test_a_state_dir_that_cannot_be_made_is_a_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(HistoryError, match="cannot create directory"):
        HistoryStore(blocker / "inworld-router" / "history.sqlite3").add(make_record())


def test_models_seen_most_recent_first_each_once(store: HistoryStore) -> None:
    store.add(make_record(T0, model="auto", served="openai/gpt-5"))
    store.add(make_record(T0 + 1, model="inworld/my-router", served="anthropic/claude-opus-4-6"))
    store.add(make_record(T0 + 2, model="auto", served="openai/gpt-5"))
    assert store.models_seen() == ["auto", "openai/gpt-5", "inworld/my-router", "anthropic/claude-opus-4-6"]


def test_short_ids_are_unique_prefixes(store: HistoryStore) -> None:
    records = [make_record(T0) for _ in range(3)] + [make_record(T0 + 3600)]  # three share a millisecond
    for record in records:
        store.add(record)
    short = store.short_ids([r.id for r in records])
    for record in records:
        prefix = short[record.id]
        assert record.id.startswith(prefix)
        assert len(prefix) >= 8
        assert store.find(prefix) == record
    assert len(short[records[3].id]) < len(short[records[0].id])


WRITER = """
import sys, time
from pathlib import Path
from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore
path, go, tag, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
while not go.exists():
    time.sleep(0.005)
store = HistoryStore(path)
for i in range(count):
    store.add(Record(id=new_record_id(), created_at=utc_timestamp(), profile="p", base_url_host="h",
                     request={"model": f"{tag}-{i}"}, response=None, error=None, timings={}, exit_status=0))
"""


def test_many_processes_writing_at_once_lose_nothing(store: HistoryStore, tmp_path: Path) -> None:
    """30 writers released together onto a store that does not exist yet (so they also race to create
    it, switch it to WAL and migrate it): every record arrives."""
    go = tmp_path / "go"
    writers, per_writer = 30, 3
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), str(go), f"w{n}", str(per_writer)])
        for n in range(writers)
    ]
    time.sleep(0.5)  # let most of them start and wait at the gate
    go.touch()
    assert [p.wait(timeout=60) for p in procs] == [0] * writers
    models = {r.request["model"] for r in store.recent(1000)}
    assert models == {f"w{n}-{i}" for n in range(writers) for i in range(per_writer)}
