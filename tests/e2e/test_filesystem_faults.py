"""Files that cannot be used, end to end: an unusable config or state directory, a damaged or full history
database, loose credentials, a config file edited into invalid TOML.

The tests run as root, which ignores permission bits, so "cannot be read or written" is made with a file
where a directory should be, or a directory where a file should be. A full disk is a file size limit
(RLIMIT_FSIZE = 0 in the child): every write past it fails, as on a full disk (SQLite reports a disk I/O
error rather than "disk is full"; its max_page_count pragma lasts only for one connection, so it cannot
make a database full for another process). Two `auth login` at once are in test_auth.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY, Home, cli_path
from tests.router_server import RouterServer

NOT_SAVED = "warning: this request was not saved in history: cannot write history {db}: {reason}"


def db_of(home: Home) -> Path:
    return home.state_dir / "history.sqlite3"


def history(home: Home) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", "50")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def make_config_dir_a_file(home: Home) -> Path:
    shutil.rmtree(home.config_dir)
    home.config_dir.write_text("a file where the config directory should be")
    return home.config_dir / "config.toml"


def make_config_file_a_directory(home: Home) -> Path:
    (home.config_dir / "config.toml").mkdir()
    return home.config_dir / "config.toml"


def make_credentials_a_directory(home: Home) -> Path:
    (home.config_dir / "credentials.toml").unlink()
    (home.config_dir / "credentials.toml").mkdir()
    return home.config_dir / "credentials.toml"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (make_config_dir_a_file, "Not a directory"),
        (make_config_file_a_directory, "Is a directory"),
        (make_credentials_a_directory, "Is a directory"),
    ],
    ids=["config-dir-is-a-file", "config-file-is-a-directory", "credentials-file-is-a-directory"],
)
def test_an_unusable_config_directory_is_exit_1_with_one_line_and_a_hint(
    routed_home: Home, router: RouterServer, damage: Any, reason: str
) -> None:
    """Nothing is sent: a config that cannot be read may hold the base URL the key must go to."""
    unreadable = damage(routed_home)
    expected = [
        f"error: cannot read {unreadable}: {reason}",
        f"hint: check {unreadable}: it must be a file you can read (or absent), in a directory",
    ]
    # With the key from the environment, so that only the config (or the credentials file) is in the way.
    env = {"INWORLD_API_KEY": TEST_KEY} if "credentials" not in str(unreadable) else {}
    for args in (["ask", "hi"], ["auth", "login", "--with-key"]):
        result = routed_home.run(*args, input=TEST_KEY if "login" in args else "", env=env)
        assert (result.returncode, result.stdout) == (1, ""), args
        assert result.stderr.splitlines() == expected, args
    assert router.requests == []
    assert not db_of(routed_home).exists()


def test_a_history_that_is_a_directory_warns_and_the_answer_succeeds(routed_home: Home) -> None:
    db_of(routed_home).mkdir(parents=True)
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr.splitlines() == [NOT_SAVED.format(db=db_of(routed_home), reason="Is a directory")]
    listing = routed_home.run("history")
    assert (listing.returncode, listing.stdout) == (1, "")
    assert listing.stderr.splitlines() == [
        f"error: cannot read history {db_of(routed_home)}: Is a directory",
        f"hint: check the permissions of {routed_home.state_dir}",
    ]


def test_a_damaged_history_is_left_alone_and_the_answer_succeeds(routed_home: Home) -> None:
    db = db_of(routed_home)
    db.parent.mkdir(parents=True)
    garbage = b"\x00garbage, not SQLite\xff" * 500
    db.write_bytes(garbage)
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr.splitlines() == [NOT_SAVED.format(db=db, reason="file is not a database")]
    assert db.read_bytes() == garbage  # never overwritten: it may be worth rescuing
    for args in (["history"], ["inspect"], ["inspect", "--json", "last"]):
        shown = routed_home.run(*args)
        assert (shown.returncode, shown.stdout) == (1, ""), args
        assert shown.stderr.splitlines() == [
            f"error: cannot read history {db}: file is not a database",
            f"hint: the file looks damaged; move it aside and a new one is made: mv {db} {db}.bad",
        ]
    db.rename(f"{db}.bad")  # as the hint says
    assert routed_home.run("ask", "again").returncode == 0
    assert [r["request"]["messages"][0]["content"] for r in history(routed_home)] == ["again"]


def run_on_a_full_disk(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    import resource

    def no_room() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # any write past byte 0 fails (EFBIG)

    result = subprocess.run(
        [cli_path(), *args], capture_output=True, text=True, env=home.env, preexec_fn=no_room, check=False
    )
    return result


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE")
def test_a_full_disk_loses_only_the_new_record(routed_home: Home, router: RouterServer) -> None:
    for prompt in ("one", "two"):
        assert routed_home.run("ask", prompt).returncode == 0
    db = db_of(routed_home)
    result = run_on_a_full_disk(routed_home, "ask", "three")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr.splitlines() == [NOT_SAVED.format(db=db, reason="disk I/O error")]
    listing = run_on_a_full_disk(routed_home, "history")
    assert (listing.returncode, listing.stdout) == (1, "")
    assert listing.stderr.splitlines() == [
        f"error: cannot read history {db}: disk I/O error",
        f"hint: check the free space on the disk that holds {routed_home.state_dir}",  # not "move it aside"
    ]
    assert routed_home.run("ask", "four").returncode == 0  # room again
    prompts = [r["request"]["messages"][0]["content"] for r in history(routed_home)]
    assert prompts == ["four", "two", "one"]
    assert len(router.messages_requests) == 4


def test_loose_credentials_give_one_warning_and_the_answer(routed_home: Home) -> None:
    credentials = routed_home.config_dir / "credentials.toml"
    credentials.chmod(0o644)
    result = routed_home.run("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert result.stderr.splitlines() == [
        f"warning: {credentials} is readable by other users; run: chmod 600 {credentials}"
    ]
    assert TEST_KEY not in result.stderr


def test_a_config_edited_into_invalid_toml_is_exit_2_and_left_unchanged(
    routed_home: Home, router: RouterServer
) -> None:
    config = routed_home.config_dir / "config.toml"
    credentials = routed_home.config_dir / "credentials.toml"
    broken = '[profiles.default]\nmodel = "anthropic/claude-opus-4-6"\nmax_tokens = 1024\ntimeout = = 30\n'
    config.write_text(broken)
    saved = credentials.read_bytes()
    for args in (["ask", "hi"], ["auth", "logout"], ["auth", "login", "--with-key"], ["models"]):
        result = routed_home.run(*args, input=TEST_KEY if "login" in args else "")
        assert (result.returncode, result.stdout) == (2, ""), args
        error, hint = result.stderr.splitlines()
        assert error.startswith(f"error: bad config file {config}: invalid TOML: "), args
        assert "line 4" in error
        assert hint == f"hint: fix {config}; nothing was changed"
    assert config.read_text() == broken
    assert credentials.read_bytes() == saved
    assert router.requests == []


def test_a_state_directory_that_is_a_file_is_reported_not_taken_for_no_history(routed_home: Home) -> None:
    routed_home.state_dir.parent.mkdir(parents=True, exist_ok=True)
    routed_home.state_dir.write_text("a file where the state directory should be")
    answer = routed_home.run("ask", "hi")
    assert (answer.returncode, answer.stdout) == (0, "Hello!\n")
    assert answer.stderr.startswith("warning: this request was not saved in history")
    for args in (["history"], ["inspect"]):
        result = routed_home.run(*args)
        assert (result.returncode, result.stdout) == (1, ""), args
        assert result.stderr.splitlines() == [
            f"error: cannot read history {db_of(routed_home)}: {routed_home.state_dir} is not a directory",
            f"hint: move {routed_home.state_dir} aside",
        ]
