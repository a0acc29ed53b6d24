"""Secret files: modes whatever the umask, atomic replacement, a crash mid-write."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from inworld_cli.errors import LocalError
from inworld_cli.store.files import atomic_write, ensure_private_dir
from inworld_cli.store.settings import load_credentials, remove_api_key, save_api_key


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_modes_under_umask_000(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "conf" / "credentials.toml"
        save_api_key(path, "default", "k-123456")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_existing_loose_directory_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "loose"
    directory.mkdir(mode=0o777)
    directory.chmod(0o777)
    ensure_private_dir(directory)
    assert mode(directory) == 0o700


def test_rewrite_keeps_other_profiles_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "c" / "credentials.toml"
    save_api_key(path, "a", "key-a-1234")
    path.chmod(0o644)  # loosened by hand: the next write makes it private again
    save_api_key(path, "b", "key-b-1234")
    assert load_credentials(path)["profiles"] == {
        "a": {"api_key": "key-a-1234"},
        "b": {"api_key": "key-b-1234"},
    }
    assert mode(path) == 0o600
    assert remove_api_key(path, "a") is True
    assert remove_api_key(path, "a") is False
    assert load_credentials(path)["profiles"] == {"b": {"api_key": "key-b-1234"}}


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c" / "credentials.toml"
    save_api_key(path, "default", "old-key-1234")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(LocalError, match="No space left"):
        atomic_write(path, b"half")
    assert tomllib.loads(path.read_text())["profiles"]["default"]["api_key"] == "old-key-1234"
    assert sorted(p.name for p in path.parent.iterdir()) == [".credentials.lock", "credentials.toml"]


def test_crash_mid_write_leaves_old_file(tmp_path: Path) -> None:
    """A process killed after writing the temp file but before the rename: the old file is intact."""
    path = tmp_path / "c" / "credentials.toml"
    save_api_key(path, "default", "old-key-1234")
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from inworld_cli.store.settings import save_api_key
        os.replace = lambda *a: os._exit(9)  # the machine dies right before the rename
        save_api_key(Path({str(path)!r}), "default", "new-key-5678")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == 9
    assert tomllib.loads(path.read_text())["profiles"]["default"]["api_key"] == "old-key-1234"
    assert mode(path) == 0o600


def test_write_where_the_directory_is_a_file_is_a_local_error(tmp_path: Path) -> None:
    # Tests run as root, which ignores permission bits: a file in the directory's place fails for anyone.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with pytest.raises(LocalError, match="cannot create directory"):
        atomic_write(blocker / "credentials.toml", b"data")
