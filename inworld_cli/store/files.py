"""Private directories and atomic file writes, independent of the umask."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from inworld_cli.errors import LocalError

PRIVATE_DIR_MODE = 0o700
SECRET_FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) if needed; the leaf is 0700 whatever the umask."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
            path.chmod(PRIVATE_DIR_MODE)
    except OSError as exc:
        raise LocalError(
            f"cannot create directory {path}: {exc.strerror or exc}", hint=_check_hint(path)
        ) from exc


def _check_hint(directory: Path) -> str:
    return f"check {directory} and the directories above it: each must be a directory you can write"


def atomic_write(path: Path, data: bytes, mode: int = SECRET_FILE_MODE) -> None:
    """Replace `path` with `data` so that a crash leaves either the old file or the new one, never half.

    A temp file in the same directory gets its mode before any byte is written, is fsynced, then renamed.
    """
    import tempfile

    ensure_private_dir(path.parent)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), mode)
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise LocalError(
            f"cannot write {path}: {exc.strerror or exc}", hint=_check_hint(path.parent)
        ) from exc
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_readable_by_others(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:
        return False
