"""The files of a batch: its input, read twice (once to check every line before anything is sent, once to
send, so that a 10,000-line input is never held in memory), and its `-o` output, which a rerun resumes.

Output lines are written whole: each line goes out in one write(2) to a file opened for appending, so a
process killed between lines leaves whole lines only. A crash in the middle of that one write (a long
line, a full disk) can leave its start behind; the next run with the same file cuts such a torn last line
off before it sends anything, and sends that item again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Container, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from inworld_cli.core.batch import Item, is_ok_line, is_result_line, parse_line
from inworld_cli.errors import LocalError, UsageError

INPUT_HINT = "give a JSON Lines file, or - (or nothing) to read stdin"


class BatchInput:
    """The items of a batch, from a seekable copy of the input (stdin and pipes are spooled to an
    anonymous temporary file: `batch <(jq …)` works)."""

    def __init__(self, stream: IO[bytes], source: str, *, plain: bool) -> None:
        self._stream = stream
        self.source = source
        self._plain = plain

    @classmethod
    def open(cls, path: str | None, stdin: BinaryIO, *, plain: bool) -> BatchInput:
        if path in (None, "-"):
            return cls(_spooled(stdin), "stdin", plain=plain)
        try:
            stream: IO[bytes] = open(path, "rb")  # noqa: SIM115  (kept open for the two passes)
        except FileNotFoundError:
            raise UsageError(f"no such file: {path}", hint=INPUT_HINT) from None
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory, not a file of items", hint=INPUT_HINT) from None
        except OSError as exc:
            raise LocalError(f"cannot read {path}: {exc.strerror or exc}", hint=f"check {path}") from None
        if not stream.seekable():
            with stream:
                stream = _spooled(stream)
        return cls(stream, path, plain=plain)

    def close(self) -> None:
        self._stream.close()

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        self._stream.seek(0)
        try:
            yield from enumerate(self._stream, start=1)
        except OSError as exc:
            raise LocalError(f"cannot read {self.source}: {exc.strerror or exc}", hint=INPUT_HINT) from None

    def check(self) -> dict[str, int]:
        """Every line checked, before anything is sent: each item's id and its line. Raises UsageError
        naming the first bad line, or a repeated id with both lines."""
        lines: dict[str, int] = {}
        for number, raw in self._lines():
            item = parse_line(raw, number, self.source, plain=self._plain)
            if item is None:
                continue
            first = lines.setdefault(item.id, number)
            if first != number:
                raise UsageError(
                    f"{self.source}:{number}: the id {json.dumps(item.id)} was already used on line {first}",
                    hint="give every item an id of its own",
                )
        if not lines:
            raise UsageError(f"no items in {self.source}: every line is blank", hint=INPUT_HINT)
        return lines

    def items(self, skip: Container[str] = ()) -> Iterator[Item]:
        """The items in input order, read as they are needed, but those whose id is in `skip`."""
        for number, raw in self._lines():
            item = parse_line(raw, number, self.source, plain=self._plain)
            if item is not None and item.id not in skip:
                yield item


def _spooled(stream: IO[bytes]) -> IO[bytes]:
    """A copy of a stream that can be read twice: an anonymous temporary file (unlinked at once, 0600)."""
    copy = tempfile.TemporaryFile()  # noqa: SIM115  (closed by BatchInput.close)
    try:
        shutil.copyfileobj(stream, copy, 1 << 20)
    except OSError as exc:
        copy.close()
        raise LocalError(f"cannot keep a copy of the input: {exc.strerror or exc}", hint=INPUT_HINT) from None
    return copy


class ResultsFile:
    """The `-o FILE` of a batch: the ids an earlier run finished, and one whole line per finished item."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def resume(self, wanted: Container[str]) -> set[str]:
        """The ids already `ok` in the file. Error lines of items in `wanted` are dropped (those items are
        sent again, and their new line replaces the old) and a torn last line is cut off; when anything
        goes, the file is rewritten atomically (a crash leaves the old file or the new one)."""
        done: set[str] = set()
        try:
            with open(self.path, "rb") as existing:
                changed = False
                for number, raw in enumerate(existing, start=1):
                    changed = self._judge(raw, number, wanted, done) != raw or changed
                if changed:
                    existing.seek(0)
                    self._rewrite(existing, wanted)
        except FileNotFoundError:
            return set()
        except IsADirectoryError:
            raise UsageError(f"-o {self.path} is a directory", hint="give -o a file") from None
        except OSError as exc:
            raise self._error("rewrite", exc) from None
        return done

    def _rewrite(self, existing: IO[bytes], wanted: Container[str]) -> None:
        kept = tempfile.NamedTemporaryFile(  # noqa: SIM115  (renamed over the file, or removed)
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent, delete=False
        )
        try:
            with kept:
                os.fchmod(kept.fileno(), os.fstat(existing.fileno()).st_mode & 0o777)
                for number, raw in enumerate(existing, start=1):
                    line = self._judge(raw, number, wanted, set())
                    if line is not None:
                        kept.write(line)
                kept.flush()
                os.fsync(kept.fileno())
            os.replace(kept.name, self.path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(kept.name)

    def _judge(self, raw: bytes, number: int, wanted: Container[str], done: set[str]) -> bytes | None:
        """The line to keep (with its newline), or None to drop it."""
        whole = raw.endswith(b"\n")
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not is_result_line(data):
            if not whole:  # the torn end of a line that a crash cut short
                return None
            raise UsageError(
                f"{self.path}:{number}: not a line that batch writes, so -o is not the output of a batch",
                hint="give -o a new file, or the output of an earlier batch to finish it",
            )
        assert isinstance(data, dict)
        if is_ok_line(data):
            done.add(data["id"])
        elif data["id"] in wanted:
            return None  # sent again: its new line replaces this one
        return raw if whole else raw + b"\n"

    def open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise self._error("write", exc) from None

    def append(self, line: str) -> None:
        """One line, whole, in one write (repeated only if the system writes less). Stopped half-way (a
        full disk, Ctrl-C between two writes), the file is cut back to where the line began."""
        assert self._fd is not None
        data = memoryview(line.encode("utf-8"))
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            while data:
                data = data[os.write(self._fd, data) :]
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            if isinstance(exc, OSError):
                raise self._error("write", exc) from None
            raise

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def _error(self, action: str, exc: OSError) -> LocalError:
        return LocalError(
            f"cannot {action} {self.path}: {exc.strerror or exc}",
            hint=f"check {self.path} and its directory: the results must go to a file you can write",
        )
