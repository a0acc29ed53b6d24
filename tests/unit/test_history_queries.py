"""The history store's selections and housekeeping: every filter, `rm` and `prune`, and the file really
shrinking afterwards (new databases and ones made before incremental auto-vacuum)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core.history_filter import HistoryFilter, parse_moment
from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.errors import UsageError
from inworld_cli.store.history import HistoryStore
from tests.router_server import message

T0 = 1_790_000_000.0
DAY = 86400.0


def record(
    at: float,
    *,
    prompt: str = "hi",
    answer: str = "Hello!",
    model: str = "auto",
    served: str | None = "anthropic/claude-opus-4-6",
    status: int = 0,
    **changes: Any,
) -> Record:
    made = Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="127.0.0.1",
        request={"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": prompt}]},
        response=message(answer, model=served) if served else None,
        error=None if status == 0 else {"status": 529, "type": "overloaded_error"},
        timings={"ttft_ms": 100.0, "total_ms": 200.0},
        exit_status=status,
    )
    for key, value in changes.items():
        setattr(made, key, value)
    return made


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / "state" / "history.sqlite3")


def ids(found: list[Record]) -> list[str]:
    return [r.id for r in found]


def test_filters_select_and_combine(store: HistoryStore) -> None:
    old = record(T0 - 10 * DAY, prompt="Why is the sky blue?", model="openai/gpt-5", served="openai/gpt-5")
    flash = record(
        T0 - DAY, prompt="Straße names", answer="Die STRASSE", served="google-ai-studio/gemini-2.5-flash"
    )
    failed = record(
        T0, prompt="a commit message please", model="anthropic/claude-opus-4-6", served=None, status=5
    )
    stopped = record(T0 + 1, prompt="long story", status=130, partial=True)
    store.add_many([old, flash, failed, stopped])

    def found(**selection: Any) -> list[str]:
        return ids(store.recent(10, HistoryFilter(**selection)))

    assert found() == ids([stopped, failed, flash, old])
    assert found(since=T0 - 2 * DAY) == ids([stopped, failed, flash])
    assert found(failed=True) == ids([stopped, failed])  # errors and interrupts: not `ok`
    # --model: a whole id (requested or served), the name after the provider, or the provider
    assert found(model="openai/gpt-5") == ids([old])
    assert found(model="gemini-2.5-flash") == ids([flash])
    assert found(model="google-ai-studio") == ids([flash])
    assert found(model="ANTHROPIC") == ids([stopped, failed])  # served by, or asked for, anthropic
    assert found(model="claude-opus-4-6") == ids([stopped, failed])
    assert found(model="gpt") == []  # no partial names: gpt is neither a provider nor a model here
    assert found(model="*GPT*") == ids([old])  # but a pattern
    assert found(model="*/claude-opus-4-?") == ids([stopped, failed])
    assert found(model="[go]*") == ids([flash, old])
    assert found(model="auto") == ids([stopped, flash])
    # --search: the prompt or the answer, in any case (Unicode case folding: ß is ss)
    assert found(search="SKY BLUE") == ids([old])
    assert found(search="hello!") == ids([stopped, old])  # the answer ("failed" got none)
    assert found(search="strasse") == ids([flash])
    assert found(search="anthropic") == []  # not the model name, nor any other field: text only
    assert found(search="commit", failed=True, since=T0 - 1) == ids([failed])
    assert store.recent(1, HistoryFilter(failed=True)) == [stopped]


def test_search_covers_system_prompts_and_content_blocks(store: HistoryStore) -> None:
    blocks = record(T0)
    blocks.request["system"] = "You are TERSE."
    blocks.request["messages"] = [
        {"role": "user", "content": [{"type": "image", "source": {"data": "needle"}}, {"type": "text", "text": "caption"}]}
    ]  # fmt: skip
    store.add(blocks)
    assert ids(store.recent(5, HistoryFilter(search="terse"))) == [blocks.id]
    assert ids(store.recent(5, HistoryFilter(search="caption"))) == [blocks.id]
    assert store.recent(5, HistoryFilter(search="needle")) == []  # an attachment's data is not text
    assert blocks.prompt == "[image] caption"


def test_moments_people_type() -> None:
    assert parse_moment("7d", T0, "--since") == T0 - 7 * DAY
    assert parse_moment("90m", T0, "--since") == T0 - 90 * 60
    assert parse_moment("1.5h", T0, "--since") == T0 - 5400
    assert parse_moment("2w", T0, "--since") == T0 - 14 * DAY
    assert parse_moment("2026-09-21T14:13:20Z", 0, "--since") == T0
    assert parse_moment("2026-09-21T16:13:20+02:00", 0, "--since") == T0
    for bad in ("yesterday", "7", "-3d", "", "2026-13-01", "7 days"):
        with pytest.raises(UsageError, match=r"bad value for --since") as caught:
            parse_moment(bad, T0, "--since")
        assert "90m, 12h, 7d, 2w" in (caught.value.hint or "")


def test_rm_removes_only_what_every_ref_names(store: HistoryStore) -> None:
    first, second, third = (record(T0 + i * 60) for i in range(3))
    store.add_many([first, second, third])
    with pytest.raises(UsageError, match="no history record matches 'ffffffff'"):
        store.remove([first.id, "ffffffff"])
    assert len(store.recent(10)) == 3  # nothing removed
    with pytest.raises(UsageError, match="matches 3 history records"):
        store.remove([first.id[:6]])
    with pytest.raises(UsageError, match="no history record matches 'gen-0001'"):
        store.remove(["gen-0001"])  # generation ids are not ids: several records may carry one
    assert store.remove([first.id[:10], "last", third.id]) == [first.id, third.id]
    assert ids(store.recent(10)) == [second.id]


def db_bytes(store: HistoryStore) -> int:
    return store.size()


def file_contents(store: HistoryStore) -> bytes:
    """The database and its write-ahead log (gone once the last connection closed)."""
    wal = Path(f"{store.path}-wal")
    return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def big_history(store: HistoryStore, count: int = 60) -> list[Record]:
    records = [record(T0 + i * DAY, prompt="x" * 50_000 + str(i)) for i in range(count)]
    store.add_many(records)
    return records


def test_prune_by_age_and_count_and_the_file_shrinks(store: HistoryStore) -> None:
    records = big_history(store)
    now = T0 + 60 * DAY
    before = db_bytes(store)
    assert before > 3_000_000
    assert store.prune(now - 30.5 * DAY, None, dry_run=True) == 30  # a dry run changes nothing
    assert db_bytes(store) == before
    assert store.prune(now - 30.5 * DAY, None) == 30
    assert ids(store.recent(100)) == ids(records[30:][::-1])
    halved = db_bytes(store)
    assert halved < before * 0.6  # the freed pages went back to the file system
    assert store.prune(None, 10) == 20
    assert ids(store.recent(100)) == ids(records[50:][::-1])
    assert db_bytes(store) < halved * 0.4
    assert store.prune(now, 100) == 10  # either option is enough
    assert store.recent(100) == []
    assert db_bytes(store) < 200_000
    assert store.prune(None, 0) == 0


def test_keep_zero_empties_and_rm_shrinks_too(store: HistoryStore) -> None:
    records = big_history(store, 20)
    before = db_bytes(store)
    store.remove([r.id for r in records[:10]])
    assert db_bytes(store) < before * 0.65
    assert store.prune(None, 0) == 10
    assert store.recent(10) == []


def test_an_older_database_is_rebuilt_once_then_shrinks_incrementally(store: HistoryStore) -> None:
    big_history(store, 30)
    conn = sqlite3.connect(store.path)  # as databases made before this version: no auto-vacuum
    conn.execute("PRAGMA auto_vacuum = NONE")
    conn.execute("VACUUM")
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    conn.close()
    reopened = HistoryStore(store.path)
    before = db_bytes(reopened)
    assert reopened.prune(None, 15) == 15
    assert db_bytes(reopened) < before * 0.65
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental from now on
    conn.close()


def test_a_new_database_uses_incremental_auto_vacuum(store: HistoryStore) -> None:
    store.add(record(T0))
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_removed_text_leaves_no_copy_in_the_file(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect = sqlite3.connect

    def without_secure_delete(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)  # as SQLite is built by default (Debian's turns it on)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", without_secure_delete)
    secret = "sk-pasted-by-mistake-0123456789"
    # Small records share a page: SQLite would keep a deleted one's bytes in the page's free space.
    before, oops, after = record(T0), record(T0 + 1, prompt=f"my key is {secret}"), record(T0 + 2)
    store.add_many([before, oops, after])
    assert secret.encode() in file_contents(store)
    store.remove([oops.id])
    assert secret.encode() not in file_contents(store)
    assert store.recent(5) == [after, before]
