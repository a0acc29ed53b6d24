"""The history store: one SQLite row per request, safe when many `ask` processes write at once.

Each row keeps the whole record as JSON plus a few indexed columns for lookups. The database lives in the
state dir (0700) and is 0600 whatever the umask. WAL journaling and a busy timeout let twenty or fifty
parallel writers queue up instead of failing; the schema version lives in `PRAGMA user_version` and moves
forward only through MIGRATIONS.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inworld_cli.core.record import Record
from inworld_cli.core.text import NOT_UTF8
from inworld_cli.errors import LocalError, UsageError
from inworld_cli.store.blobs import MARKER, externalize, restore
from inworld_cli.store.files import SECRET_FILE_MODE, ensure_private_dir

if TYPE_CHECKING:  # loaded by the conversation methods alone: `inspect` and completion must stay fast
    from inworld_cli.core.conversation import Summary

BUSY_TIMEOUT_S = 10.0
_BATCH = 500  # ids per `IN (...)`: well under SQLite's limit on parameters

# MIGRATIONS[n] moves a database from user_version n to n + 1. Append, never edit a shipped step.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        generation_id TEXT,
        requested_model TEXT,
        served_model TEXT,
        exit_status INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX records_generation_id ON records (generation_id);
    """,
    # The second stage: conversations, batches, compares and cost, and the numbers `stats` and `history`
    # filter and aggregate on, as columns (filled from each record's JSON for the rows already there).
    """
    ALTER TABLE records ADD COLUMN conversation_id TEXT;
    ALTER TABLE records ADD COLUMN batch_id TEXT;
    ALTER TABLE records ADD COLUMN compare_id TEXT;
    ALTER TABLE records ADD COLUMN ttft_ms REAL;
    ALTER TABLE records ADD COLUMN total_ms REAL;
    ALTER TABLE records ADD COLUMN attempts INTEGER;
    ALTER TABLE records ADD COLUMN input_tokens INTEGER;
    ALTER TABLE records ADD COLUMN output_tokens INTEGER;
    ALTER TABLE records ADD COLUMN cost_usd REAL;
    ALTER TABLE records ADD COLUMN error_type TEXT;
    UPDATE records SET
        ttft_ms = json_extract(data, '$.timings.ttft_ms'),
        total_ms = json_extract(data, '$.timings.total_ms'),
        attempts = json_array_length(json_extract(data, '$.response.metadata.attempts')),
        input_tokens = json_extract(data, '$.response.usage.input_tokens'),
        output_tokens = json_extract(data, '$.response.usage.output_tokens'),
        error_type = json_extract(data, '$.error.type')
    WHERE json_valid(data);
    CREATE INDEX records_created_at ON records (created_at);
    CREATE INDEX records_conversation ON records (conversation_id, id);
    CREATE INDEX records_batch ON records (batch_id);
    CREATE INDEX records_compare ON records (compare_id);
    """,
    # Attachments (and long text re-sent by later turns) stored once, by the SHA-256 of their bytes; each
    # record is linked to the blobs it refers to, and a blob goes when its last record goes (whoever deletes).
    """
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
    CREATE TABLE record_blobs (
        record_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (record_id, sha256)
    ) WITHOUT ROWID;
    CREATE INDEX record_blobs_sha256 ON record_blobs (sha256);
    CREATE TRIGGER records_release_blobs AFTER DELETE ON records BEGIN
        DELETE FROM blobs
        WHERE sha256 IN (SELECT sha256 FROM record_blobs WHERE record_id = OLD.id)
        AND NOT EXISTS (
            SELECT 1 FROM record_blobs AS other
            WHERE other.sha256 = blobs.sha256 AND other.record_id != OLD.id
        );
        DELETE FROM record_blobs WHERE record_id = OLD.id;
    END;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)

HISTORY_HINT = "see your requests with: inworld-router history"


class HistoryError(LocalError):
    """The history database cannot be opened, read or written."""


def _storable_json(value: dict[str, Any]) -> str:
    """The record as JSON text SQLite accepts. Non-ASCII text stays as is (compact), unless the network sent
    a lone surrogate (a `\\ud83d` escape without its other half), which UTF-8 cannot encode: then the
    record is written with ASCII escapes, which keep every character exactly."""
    data = json.dumps(value, ensure_ascii=False, default=str)
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, default=str)
    return data


def _storable(text: str | None) -> str | None:
    """A lookup column's copy of a value: a lone surrogate becomes '?' there (the record keeps it)."""
    return text.encode("utf-8", "replace").decode("utf-8") if text is not None else None


def _insert(conn: sqlite3.Connection, record: Record, data: str) -> None:
    columns = {
        "id": record.id,
        "created_at": record.created_at,
        "generation_id": _storable(record.generation_id),
        "requested_model": _storable(record.requested_model),
        "served_model": _storable(record.served_model),
        "exit_status": record.exit_status,
        "data": data,
        "conversation_id": record.conversation_id,
        "batch_id": record.batch_id,
        "compare_id": record.compare_id,
        "ttft_ms": _number(record.timings.get("ttft_ms")),
        "total_ms": _number(record.timings.get("total_ms")),
        "attempts": len(record.trace.attempts) if record.trace.present else None,
        "input_tokens": _integer(record.usage.get("input_tokens")),
        "output_tokens": _integer(record.usage.get("output_tokens")),
        "cost_usd": _number((record.cost or {}).get("usd")),
        "error_type": _storable(str((record.error or {}).get("type")))
        if (record.error or {}).get("type")
        else None,
    }
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    conn.execute(f"INSERT INTO records ({names}) VALUES ({marks})", tuple(columns.values()))  # noqa: S608


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, one by one (a trigger's body holds semicolons of its own)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def _is_busy(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _common_prefix_length(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


@dataclass
class HistoryStore:
    path: Path
    _ready: bool = field(default=False, init=False, repr=False)

    # -- connection ----------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def _create_private_file(self) -> None:
        ensure_private_dir(self.path.parent)
        # Create the file ourselves so that it is 0600 from its first byte; SQLite gives the -wal and -shm
        # files the database file's mode.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != SECRET_FILE_MODE:
                os.fchmod(fd, SECRET_FILE_MODE)
        finally:
            os.close(fd)

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL once. The switch needs an exclusive lock and SQLite reports a busy database
        at once instead of waiting (measured: some of thirty processes creating the store together failed),
        so wait here, until another process has switched it or we can."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                import secrets

                time.sleep(0.01 + secrets.randbelow(40) / 1000)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"history database {self.path} has schema version {version}, newer than this "
                f"inworld-router understands ({SCHEMA_VERSION})",
                hint="upgrade inworld-router, or move the file aside",
            )
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see the new version
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _connect(self, action: str) -> Iterator[sqlite3.Connection]:
        """A ready connection (created, WAL, migrated); every failure becomes a HistoryError."""
        conn: sqlite3.Connection | None = None
        try:
            try:
                self._create_private_file()
            except LocalError as exc:  # the state dir cannot be made
                raise HistoryError(exc.message, hint=f"check the permissions of {self.path.parent}") from exc
            except OSError as exc:
                raise HistoryError(
                    f"cannot {action} history {self.path}: {exc.strerror or exc}",
                    hint=f"check the permissions of {self.path.parent}",
                ) from exc
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a write takes the lock up front.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if not self._ready:
                self._use_wal(conn)
                self._migrate(conn)
                self._ready = True
            yield conn
        except sqlite3.Error as exc:
            raise self._translate(exc, action) from exc
        finally:
            if conn is not None:
                conn.close()

    def _translate(self, exc: sqlite3.Error, action: str) -> HistoryError:
        text = str(exc)
        if _is_busy(exc):
            hint = f"another inworld-router held it for more than {BUSY_TIMEOUT_S:.0f} s; try again"
        elif isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "unable to open" in text):
            hint = f"check the permissions of {self.path} and {self.path.parent}"
        elif isinstance(exc, sqlite3.OperationalError) and ("disk I/O error" in text or "is full" in text):
            # Out of space, or a file size limit: the file itself is most likely fine.
            hint = f"check the free space on the disk that holds {self.path.parent}"
        else:
            hint = (
                f"the file looks damaged; move it aside and a new one is made: mv {self.path} {self.path}.bad"
            )
        return HistoryError(f"cannot {action} history {self.path}: {text}", hint=hint)

    # -- writing -------------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        with self.writer() as add:
            add(record)

    @contextlib.contextmanager
    def writer(self, *, many: bool = False) -> Iterator[Callable[[Record], None]]:
        """One connection for many records (a batch): each record added is its own transaction, committed
        before `add` returns; a failed add raises HistoryError and leaves the connection usable.

        `many`: records come one after another, fast. Each commit then survives the process being killed
        but reaches the disk when the OS writes it, not through an fsync of its own (WAL with
        synchronous=NORMAL: 0.3 ms a record instead of 4 ms here, which would cap a batch's pace).
        """
        with self._connect("write") as conn:
            if many:
                conn.execute("PRAGMA synchronous = NORMAL")

            def add(record: Record) -> None:
                stored = record.to_json()
                stored["request"], blobs = externalize(record.request)
                data = _storable_json(stored)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        _insert(conn, record, data)
                        for digest, raw in blobs.items():
                            conn.execute(
                                "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)",
                                (digest, len(raw), raw),
                            )
                            conn.execute(
                                "INSERT INTO record_blobs (record_id, sha256) VALUES (?, ?)",
                                (record.id, digest),
                            )
                        conn.execute("COMMIT")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                except sqlite3.Error as exc:
                    raise self._translate(exc, "write") from exc

            yield add

    def _check_parents(self) -> None:
        """No file is no history, unless a file stands where a directory of its path should be."""
        for parent in self.path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise HistoryError(
                        f"cannot read history {self.path}: {parent} is not a directory",
                        hint=f"move {parent} aside",
                    )
                return

    # -- reading -------------------------------------------------------------------------------------
    # Reads never create the database: with no file there is simply no history yet.

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.exists():
            self._check_parents()
            return []
        with self._connect("read") as conn:
            return conn.execute(sql, params).fetchall()

    def _records(self, where: str, params: tuple[object, ...], limit: int) -> list[Record]:
        """Records, newest first, with what they sent put back together (attachments included)."""
        # `where` is always one of this module's own literals; values travel as parameters.
        rows = self._rows(f"SELECT id, data FROM records {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        linked = self._linked_blobs([record_id for record_id, data in rows if MARKER in data])
        shared: dict[tuple[str, str], str] = {}  # a file sent by ten turns is one string in memory
        return [self._load(data, linked.get(record_id, {}), shared) for record_id, data in rows]

    def _linked_blobs(self, record_ids: list[str]) -> dict[str, dict[str, bytes]]:
        """Per record, the blobs it is linked to (and only those: see store/blobs.py)."""
        found: dict[str, dict[str, bytes]] = {}
        for start in range(0, len(record_ids), _BATCH):
            chunk = record_ids[start : start + _BATCH]
            rows = self._rows(
                "SELECT link.record_id, blobs.sha256, blobs.data FROM record_blobs AS link "  # noqa: S608
                f"JOIN blobs ON blobs.sha256 = link.sha256 WHERE link.record_id IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
            for record_id, digest, raw in rows:
                found.setdefault(record_id, {})[digest] = bytes(raw)
        return found

    def _load(
        self, data: str, blobs: Mapping[str, bytes], cache: dict[tuple[str, str], str] | None = None
    ) -> Record:
        try:
            loaded = json.loads(data)
        except json.JSONDecodeError as exc:
            raise HistoryError(
                f"cannot read history {self.path}: a record is not valid JSON ({exc.msg})",
                hint=f"the file looks damaged; move it aside: mv {self.path} {self.path}.bad",
            ) from exc
        if not isinstance(loaded, dict):
            loaded = {}
        if blobs and isinstance(loaded.get("request"), dict):
            loaded["request"] = restore(loaded["request"], blobs, cache)
        return Record.from_json(loaded)

    def latest(self) -> Record | None:
        found = self._records("", (), 1)
        return found[0] if found else None

    def recent(self, limit: int) -> list[Record]:
        """The newest `limit` records, newest first."""
        return self._records("", (), max(limit, 0))

    def find(self, ref: str) -> Record:
        """ "last", an id, a unique id prefix, or a generation_id or its first 8 or more characters (the
        newest record carrying it)."""
        ref = ref.strip()
        if ref in ("", "last"):
            latest = self.latest()
            if latest is None:
                raise UsageError(
                    "no history yet",
                    hint='ask something first (inworld-router ask "hi"), or give a JSON file',
                )
            return latest
        if NOT_UTF8.search(ref):  # no id holds such text, and SQLite could not even take it
            raise self._unknown(ref)
        exact = self._records("WHERE id = ? OR generation_id = ?", (ref.lower(), ref), 1)
        if exact:
            return exact[0]
        candidates = self._records("WHERE substr(id, 1, ?) = ?", (len(ref), ref.lower()), 2)
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            count = self._rows(
                "SELECT count(*) FROM records WHERE substr(id, 1, ?) = ?", (len(ref), ref.lower())
            )
            raise UsageError(
                f"'{ref}' matches {count[0][0]} history records", hint="give more characters of the id"
            )
        # The start of a generation id, as `ask`'s summary line shortens it: the newest record carrying one.
        prefix = ref.removesuffix("…")
        if len(prefix) >= 8:
            found = self._records("WHERE substr(generation_id, 1, ?) = ?", (len(prefix), prefix), 1)
            if found:
                return found[0]
        raise self._unknown(ref)

    @staticmethod
    def _unknown(ref: str) -> UsageError:
        return UsageError(
            f"no history record or generation id matches '{ref}'",
            hint=f"{HISTORY_HINT}; or give a JSON file path, or - for stdin",
        )

    def short_ids(self, ids: list[str], minimum: int = 8) -> dict[str, str]:
        """The shortest prefix (at least `minimum` long) of each id that no other stored id shares."""
        result: dict[str, str] = {}
        for record_id in ids:
            neighbours = self._rows(
                "SELECT (SELECT max(id) FROM records WHERE id < ?), (SELECT min(id) FROM records WHERE id > ?)",
                (record_id, record_id),
            )
            shared = 0
            for other in neighbours[0] if neighbours else ():
                if isinstance(other, str):
                    shared = max(shared, _common_prefix_length(record_id, other))
            result[record_id] = record_id[: max(minimum, shared + 1)]
        return result

    def models_seen(self, limit: int = 200) -> list[str]:
        """Requested and served model names, most recent first, each once."""
        rows = self._rows(
            "SELECT requested_model, served_model FROM records ORDER BY id DESC LIMIT ?", (max(limit, 0),)
        )
        seen: dict[str, None] = {}
        for requested, served in rows:
            for name in (requested, served):
                if isinstance(name, str) and name:
                    seen.setdefault(name, None)
        return list(seen)

    # -- conversations -------------------------------------------------------------------------------
    # A record's conversation is its `conversation_id`, or the record itself for one that has none (from
    # before conversations existed). Turns of `batch` and `compare` are not what `-c` or the listing offer,
    # but `--conversation` continues any record.

    def latest_conversation(self) -> str | None:
        """The conversation used most recently: the one whose latest turn is newest."""
        rows = self._rows(
            f"SELECT {_CONVERSATION} FROM records WHERE {_ASKED} ORDER BY id DESC LIMIT 1"  # noqa: S608
        )
        return rows[0][0] if rows else None

    def find_conversation(self, ref: str) -> str:
        """The conversation with that id, or holding the record with that id; a unique prefix of either."""
        wanted = ref.strip().lower()
        if not wanted or NOT_UTF8.search(wanted):
            raise _unknown_conversation(ref)
        found = [
            row[0]
            for row in self._rows(
                f"SELECT DISTINCT {_CONVERSATION} FROM records "  # noqa: S608
                "WHERE substr(id, 1, ?) = ? OR substr(conversation_id, 1, ?) = ? LIMIT 6",
                (len(wanted), wanted, len(wanted), wanted),
            )
        ]
        if len(found) == 1:
            return str(found[0])
        if not found:
            raise _unknown_conversation(ref)
        short = self.short_ids(found)
        listed = [f"{short[s.id]} ({s.title})" for s in self.summaries(found[:5])]
        more = ", and more" if len(found) > 5 else ""
        raise UsageError(
            f"'{ref}' matches {len(found) if not more else 'more than 5'} conversations: "
            + ", ".join(listed)
            + more,
            hint="give more characters of the id (see: inworld-router conversations)",
        )

    def conversation_records(self, conversation_id: str, limit: int = -1) -> list[Record]:
        """The conversation's turns, newest first, failed ones included (limit -1: all)."""
        return self._records(_IN_CONVERSATION, (conversation_id, conversation_id), limit)

    def recent_conversations(self, limit: int) -> list[Summary]:
        """The conversations used most recently, most recent first."""
        rows = self._rows(
            f"SELECT {_CONVERSATION} AS conversation, max(id) AS last FROM records WHERE {_ASKED} "  # noqa: S608
            "GROUP BY conversation ORDER BY last DESC LIMIT ?",
            (max(limit, 0),),
        )
        return self.summaries([row[0] for row in rows])

    def summaries(self, conversation_ids: list[str]) -> list[Summary]:
        """A summary of each conversation, in the order given (from the indexed columns, and the first
        turn's request for its title)."""
        from inworld_cli.core.conversation import TurnRow, summary_of

        turns: dict[str, list[TurnRow]] = {}
        for start in range(0, len(conversation_ids), _BATCH):
            chunk = tuple(conversation_ids[start : start + _BATCH])
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(
                f"SELECT {_CONVERSATION}, id, created_at, exit_status, requested_model, served_model, "  # noqa: S608
                f"input_tokens, output_tokens FROM records WHERE conversation_id IN ({marks}) "
                f"OR (conversation_id IS NULL AND id IN ({marks})) ORDER BY id",
                chunk + chunk,
            )
            for conversation, *columns in rows:
                turns.setdefault(conversation, []).append(TurnRow(*columns))
        firsts = [found[0].id for found in turns.values()]
        requests: dict[str, dict[str, Any]] = {}
        for start in range(0, len(firsts), _BATCH):
            chunk = tuple(firsts[start : start + _BATCH])
            marks = ", ".join("?" * len(chunk))
            for record_id, data in self._rows(f"SELECT id, data FROM records WHERE id IN ({marks})", chunk):  # noqa: S608
                request = self._load(data, {}).request  # the title needs no attachment's bytes
                requests[record_id] = request
        return [
            summary_of(cid, turns[cid], requests.get(turns[cid][0].id, {}))
            for cid in conversation_ids
            if cid in turns
        ]


_CONVERSATION = "COALESCE(conversation_id, id)"
_ASKED = "batch_id IS NULL AND compare_id IS NULL"
_IN_CONVERSATION = "WHERE conversation_id = ? OR (conversation_id IS NULL AND id = ?)"


def _unknown_conversation(ref: str) -> UsageError:
    return UsageError(
        f"no conversation or history record matches '{ref}'",
        hint="list them: inworld-router conversations",
    )
