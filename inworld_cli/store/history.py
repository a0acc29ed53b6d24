"""The history store: one SQLite row per request, safe when many `ask` processes write at once.

Each row keeps the whole record as JSON plus columns for lookups, filters and `stats`. The database lives
in the state dir (0700) and is 0600 whatever the umask. WAL journaling and a busy timeout let twenty or
fifty parallel writers queue up instead of failing; the schema version lives in `PRAGMA user_version` and
moves forward only through MIGRATIONS. Removing records (`rm`, `prune`) gives the space back to the disk:
new databases use incremental auto-vacuum, older ones are rebuilt once (VACUUM) and switched to it.
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

from inworld_cli.core.history_filter import HistoryFilter
from inworld_cli.core.record import Record, utc_timestamp
from inworld_cli.core.text import NOT_UTF8
from inworld_cli.errors import LocalError, UsageError
from inworld_cli.store.blobs import MARKER, externalize, restore
from inworld_cli.store.files import SECRET_FILE_MODE, ensure_private_dir

if TYPE_CHECKING:  # loaded by the conversation methods alone: `inspect` and completion must stay fast
    from inworld_cli.core.conversation import Summary

BUSY_TIMEOUT_S = 10.0
_BATCH = 500  # ids per `IN (...)`: well under SQLite's limit on parameters
SQL_INT_MAX = 2**63 - 1  # SQLite's largest integer: a larger count from the command line means "all"

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
    # `stats` measures tokens per second on streamed answers only (a whole answer's first token arrives
    # with its last); it reads every column it needs from one covering index, never the rows, whose JSON
    # would be read along.
    """
    ALTER TABLE records ADD COLUMN streamed INTEGER;
    UPDATE records SET streamed = json_extract(data, '$.request.stream') WHERE json_valid(data);
    CREATE INDEX records_stats ON records (created_at, served_model, requested_model, exit_status,
        error_type, attempts, ttft_ms, total_ms, input_tokens, output_tokens, cost_usd, streamed);
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
        "streamed": record.request.get("stream") if isinstance(record.request.get("stream"), bool) else None,
    }
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    conn.execute(f"INSERT INTO records ({names}) VALUES ({marks})", tuple(columns.values()))  # noqa: S608


def _write(conn: sqlite3.Connection, record: Record) -> None:
    """The record's row, its attachments stored once by their SHA-256, and its links to them."""
    stored = record.to_json()
    stored["request"], blobs = externalize(record.request)
    _insert(conn, record, _storable_json(stored))
    for digest, raw in blobs.items():
        conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?, ?, ?)", (digest, len(raw), raw)
        )
        conn.execute("INSERT INTO record_blobs (record_id, sha256) VALUES (?, ?)", (record.id, digest))


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (the write lock up front) … COMMIT, or ROLLBACK on any failure."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


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


# -- filters: one clause per HistoryFilter field (a new filter is a field and a function here) --------------

Clause = tuple[str, tuple[object, ...]]


def _since(selection: HistoryFilter) -> Clause | None:
    return ("created_at >= ?", (utc_timestamp(selection.since),)) if selection.since is not None else None


def _before(selection: HistoryFilter) -> Clause | None:
    return ("created_at < ?", (utc_timestamp(selection.before),)) if selection.before is not None else None


def _model(selection: HistoryFilter) -> Clause | None:
    """The requested or served model is the given id, or has it as its name after the provider
    (`claude-opus-4-6`), or as its provider (`anthropic`), or matches it as a pattern (`*opus*`, with `*`,
    `?` and `[…]`); case-insensitive."""
    wanted = (selection.model or "").strip().lower()
    if not wanted:
        return None
    tests: list[str] = []
    params: list[object] = []
    for column in ("requested_model", "served_model"):
        if any(char in wanted for char in "*?["):
            tests.append(f"lower({column}) GLOB ?")
            params.append(wanted)
            continue
        tests.append(f"lower({column}) = ?")
        params.append(wanted)
        if "/" not in wanted:
            tests.append(f"substr(lower({column}), ?) = ?")
            params += [-(len(wanted) + 1), "/" + wanted]
            tests.append(f"substr(lower({column}), 1, ?) = ?")
            params += [len(wanted) + 1, wanted + "/"]
    return "(" + " OR ".join(tests) + ")", tuple(params)


def _failed(selection: HistoryFilter) -> Clause | None:
    return ("(exit_status != 0 OR error_type IS NOT NULL)", ()) if selection.failed else None


# The prompt is every text the request sent (user turns, earlier answers of a conversation, the system
# prompt), the answer every text block received; matched case-insensitively by iw_contains (below).
_SEARCH = """(
    EXISTS (SELECT 1 FROM json_tree(records.data, '$.request') AS node
            WHERE node.type = 'text' AND node.key IN ('content', 'text', 'system')
            AND iw_contains(node.value, ?))
    OR EXISTS (SELECT 1 FROM json_tree(records.data, '$.response.content') AS node
            WHERE node.type = 'text' AND node.key = 'text' AND iw_contains(node.value, ?)))"""


def _search(selection: HistoryFilter) -> Clause | None:
    if not selection.search:
        return None
    needle = selection.search.casefold()
    return _SEARCH, (needle, needle)


def _conversation(selection: HistoryFilter) -> Clause | None:
    if selection.conversation is None:
        return None
    return "(conversation_id = ? OR (conversation_id IS NULL AND id = ?))", (selection.conversation,) * 2


_CLAUSES = (_since, _before, _model, _failed, _search, _conversation)


def where_clause(selection: HistoryFilter | None) -> Clause:
    """`WHERE …` (or nothing) selecting the filter's records, and its parameters."""
    found = [clause for make in _CLAUSES if selection and (clause := make(selection)) is not None]
    if not found:
        return "", ()
    return "WHERE " + " AND ".join(sql for sql, _ in found), tuple(p for _, params in found for p in params)


def _contains(text: object, needle: str) -> bool:
    return isinstance(text, str) and needle in text.casefold()


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
        with _transaction(conn):  # one process migrates; the others wait, then see the new version
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
            conn.create_function("iw_contains", 2, _contains, deterministic=True)
            if not self._ready:
                if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
                    # A new file: space freed by `rm` and `prune` can go back to the disk. Only possible
                    # before the first table (and before WAL, which writes the header).
                    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
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
                try:
                    with _transaction(conn):
                        _write(conn, record)
                except sqlite3.Error as exc:
                    raise self._translate(exc, "write") from exc

            yield add

    def add_many(self, records: list[Record]) -> None:
        """In one transaction: all or none."""
        with self._connect("write") as conn, _transaction(conn):
            for record in records:
                _write(conn, record)

    def remove(self, refs: list[str]) -> list[str]:
        """Remove the records that `refs` name ("last", ids or unique prefixes), and give their space back.
        Every ref is resolved first: one that matches nothing, or several records, removes nothing."""
        ids = list(dict.fromkeys(self.find(ref, by_generation_id=False).id for ref in refs))
        with self._connect("write") as conn:
            conn.execute("PRAGMA secure_delete = ON")  # a removed prompt leaves no copy in free pages
            with _transaction(conn):
                conn.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in ids])
            self._shrink(conn)
        return ids

    def prune(self, before: float | None, keep: int | None, *, dry_run: bool = False) -> int:
        """Remove the records made before `before` and those beyond the newest `keep`; how many (with
        dry_run: would be). The file shrinks afterwards."""
        tests: list[str] = []
        params: list[object] = []
        if before is not None:
            tests.append("created_at < ?")
            params.append(utc_timestamp(before))
        if keep is not None:
            tests.append("id < (SELECT id FROM records ORDER BY id DESC LIMIT 1 OFFSET ?)" if keep else "1")
            params += [min(keep, SQL_INT_MAX) - 1] if keep else []
        if not tests or not self.exists():
            return 0
        where = " OR ".join(tests)  # each is one of the literals above; values travel as parameters
        with self._connect("write") as conn:
            count = int(conn.execute(f"SELECT count(*) FROM records WHERE {where}", params).fetchone()[0])  # noqa: S608
            if dry_run:
                return count
            conn.execute("PRAGMA secure_delete = ON")
            with _transaction(conn):
                conn.execute(f"DELETE FROM records WHERE {where}", params)  # noqa: S608
            self._shrink(conn)
        return count

    @staticmethod
    def _shrink(conn: sqlite3.Connection) -> None:
        """Give free pages back to the file system, and empty the write-ahead log."""
        if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:  # incremental
            # executescript runs the pragma to its end; execute() would free one page per call.
            conn.executescript("PRAGMA incremental_vacuum;")
        else:  # a database from before incremental auto-vacuum: rebuilt once, and switched to it
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def size(self) -> int:
        """Bytes on disk: the database and its write-ahead log."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

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

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query (none when there is no database yet); any failure is a HistoryError."""
        if not self.exists():
            self._check_parents()
            return []
        with self._connect("read") as conn:
            return conn.execute(sql, params).fetchall()

    def _records(self, where: str, params: tuple[object, ...], limit: int) -> list[Record]:
        """Records, newest first, with what they sent put back together (attachments included)."""
        # `where` is always one of this module's own literals; values travel as parameters.
        limit = min(limit, SQL_INT_MAX)  # `-n 99999999999999999999` means all, not an overflow
        rows = self.rows(f"SELECT id, data FROM records {where} ORDER BY id DESC LIMIT ?", (*params, limit))  # noqa: S608
        linked = self._linked_blobs([record_id for record_id, data in rows if MARKER in data])
        shared: dict[tuple[str, str], str] = {}  # a file sent by ten turns is one string in memory
        return [self._load(data, linked.get(record_id, {}), shared) for record_id, data in rows]

    def _linked_blobs(self, record_ids: list[str]) -> dict[str, dict[str, bytes]]:
        """Per record, the blobs it is linked to (and only those: see store/blobs.py)."""
        found: dict[str, dict[str, bytes]] = {}
        for start in range(0, len(record_ids), _BATCH):
            chunk = record_ids[start : start + _BATCH]
            rows = self.rows(
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

    def recent(self, limit: int, selection: HistoryFilter | None = None) -> list[Record]:
        """The newest `limit` records (that the filter selects), newest first."""
        where, params = where_clause(selection)
        return self._records(where, params, max(limit, 0))

    def find(self, ref: str, *, by_generation_id: bool = True) -> Record:
        """ "last", an id, a unique id prefix, or (by_generation_id) a generation_id or its first 8 or more
        characters (the newest record carrying it)."""
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
            raise self._unknown(ref, by_generation_id)
        if by_generation_id:
            exact = self._records("WHERE id = ? OR generation_id = ?", (ref.lower(), ref), 1)
        else:
            exact = self._records("WHERE id = ?", (ref.lower(),), 1)
        if exact:
            return exact[0]
        candidates = self._records("WHERE substr(id, 1, ?) = ?", (len(ref), ref.lower()), 2)
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            count = self.rows(
                "SELECT count(*) FROM records WHERE substr(id, 1, ?) = ?", (len(ref), ref.lower())
            )
            raise UsageError(
                f"'{ref}' matches {count[0][0]} history records", hint="give more characters of the id"
            )
        # The start of a generation id, as `ask`'s summary line shortens it: the newest record carrying one.
        prefix = ref.removesuffix("…")
        if by_generation_id and len(prefix) >= 8:
            found = self._records("WHERE substr(generation_id, 1, ?) = ?", (len(prefix), prefix), 1)
            if found:
                return found[0]
        raise self._unknown(ref, by_generation_id)

    @staticmethod
    def _unknown(ref: str, by_generation_id: bool = True) -> UsageError:
        if not by_generation_id:
            return UsageError(f"no history record matches '{ref}'", hint=HISTORY_HINT)
        return UsageError(
            f"no history record or generation id matches '{ref}'",
            hint=f"{HISTORY_HINT}; or give a JSON file path, or - for stdin",
        )

    def short_ids(self, ids: list[str], minimum: int = 8) -> dict[str, str]:
        """The shortest prefix (at least `minimum` long) of each id that no other stored id shares."""
        result: dict[str, str] = {}
        for record_id in ids:
            neighbours = self.rows(
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
        rows = self.rows(
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
        rows = self.rows(
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
            for row in self.rows(
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
        where, params = where_clause(HistoryFilter(conversation=conversation_id))
        return self._records(where, params, limit)

    def recent_conversations(self, limit: int) -> list[Summary]:
        """The conversations used most recently, most recent first."""
        rows = self.rows(
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
            rows = self.rows(
                f"SELECT {_CONVERSATION}, id, created_at, exit_status, served_model, "  # noqa: S608
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
            for record_id, data in self.rows(f"SELECT id, data FROM records WHERE id IN ({marks})", chunk):  # noqa: S608
                request = self._load(data, {}).request  # the title needs no attachment's bytes
                requests[record_id] = request
        return [
            summary_of(cid, turns[cid], requests.get(turns[cid][0].id, {}))
            for cid in conversation_ids
            if cid in turns
        ]


_CONVERSATION = "COALESCE(conversation_id, id)"
_ASKED = "batch_id IS NULL AND compare_id IS NULL"


def _unknown_conversation(ref: str) -> UsageError:
    return UsageError(
        f"no conversation or history record matches '{ref}'",
        hint="list them: inworld-router conversations",
    )
