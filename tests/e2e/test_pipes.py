"""A reader that goes away (`| head -1`, `| head -c 20`) ends every command quietly: exit 141 (or 0 when
the whole output was already written), nothing on stderr, no "Exception ignored" at exit. Real processes:
only they have a pipe whose reader can leave."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore
from tests.conftest import Home, cli_path
from tests.router_server import FAILOVER_METADATA, RouterServer, message

COMMANDS = [
    ["--help"],
    ["ask", "--help"],
    ["--version"],
    ["auth", "status"],
    ["auth", "status", "--json"],
    ["history"],
    ["history", "--json"],
    ["inspect"],
    ["inspect", "--json"],
    ["models"],
    ["routers"],
    ["ask", "hi"],
]


@pytest.fixture
def full_home(routed_home: Home, router: RouterServer) -> Home:
    """History with long records, so that every listing has something to print."""
    store = HistoryStore(routed_home.state_dir / "history.sqlite3")
    for n in range(30):
        at = 1_790_000_000.0 + n
        store.add(
            Record(
                id=new_record_id(at),
                created_at=utc_timestamp(at),
                profile="default",
                base_url_host="127.0.0.1",
                request={"model": "auto", "messages": [{"role": "user", "content": "q" * 2000}]},
                response=message("a" * 20_000, metadata=FAILOVER_METADATA),
                error=None,
                timings={"ttft_ms": 840.0, "total_ms": 1200.0},
                exit_status=0,
            )
        )
    router.routes["/llm/v1alpha/models"] = router.next_reply("/none", None)  # an error: served from cache
    return routed_home


def run_into_closed_pipe(home: Home, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """The command with a stdout whose reader is already gone: its first write fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [cli_path(), *args], stdin=subprocess.DEVNULL, stdout=write, stderr=subprocess.PIPE,
            env=home.env, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_reader_that_left_before_the_first_byte_ends_the_command_quietly(
    full_home: Home, args: list[str]
) -> None:
    result = run_into_closed_pipe(full_home, args)
    if args in (["models"], ["routers"]):
        # Nothing cached and the router answers 404 here: these fail before printing anything.
        assert result.returncode == 4, result.stderr
        return
    assert (result.returncode, result.stderr) == (141, b"")


@pytest.mark.parametrize("args", [["history", "--json"], ["inspect"], ["--help"]], ids=" ".join)
def test_head_takes_what_it_wants_and_the_command_ends_quietly(full_home: Home, args: list[str]) -> None:
    result = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$0" "$@" | head -c 20', cli_path(), *args],
        capture_output=True, env=full_home.env, timeout=60, check=False,
    )  # fmt: skip
    assert len(result.stdout) == 20
    assert result.returncode in (0, 141)  # 0: everything had been written before head left
    assert result.stderr == b""


def test_history_json_is_larger_than_a_pipe_buffer(full_home: Home) -> None:
    """So that the test above really sees the reader leave mid-output."""
    listing = full_home.run("history", "--json", "-n", "30")
    assert len(json.loads(listing.stdout)) == 30
    assert len(listing.stdout.encode()) > 4 * 65536


@pytest.mark.parametrize(("mode", "partial"), [("--no-stream", False), ("--stream", True)])
def test_a_closed_stdout_is_recorded_for_what_arrived(
    routed_home: Home, router: RouterServer, mode: str, partial: bool
) -> None:
    """Without streaming the whole answer had arrived before it could not be printed: history keeps it
    whole, not as `partial`. A stream stops at its first delta: what arrived is partial. Either way the
    model that message_start or the message named is kept."""
    args = ["ask", "hi"] if mode == "--stream" else ["ask", mode, "hi"]
    result = run_into_closed_pipe(routed_home, args)
    assert (result.returncode, result.stderr) == (141, b"")
    [record] = json.loads(routed_home.run("history", "--json").stdout)
    assert (record["exit_status"], record["partial"]) == (141, partial)
    assert record["error"]["type"] == "stdout_closed"
    assert record["response"]["model"] == "anthropic/claude-opus-4-6"
    if not partial:
        assert record["response"]["content"] == [{"type": "text", "text": "Hello!"}]
