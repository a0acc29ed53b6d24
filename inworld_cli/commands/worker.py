"""`inworld-router worker`: see and stop the warm worker that keeps the SDK loaded for `ask`."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import typer

from inworld_cli.commands.context import environment_of, help_without_subcommand
from inworld_cli.commands.options import JsonOption
from inworld_cli.environment import Environment
from inworld_cli.store.settings import Overrides

app = typer.Typer(help="See or stop the warm worker that keeps the SDK loaded, so that ask starts fast.")

# How long `stop` waits for a worker to let go of its socket, before and after a signal.
_STOP_WITHIN = 5.0


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    help_without_subcommand(ctx)


# -- status --------------------------------------------------------------------------------------------


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _requests(count: int) -> str:
    return f"{count} request" + ("" if count == 1 else "s")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def status_record(env: Environment) -> dict[str, Any]:
    """What `worker status` shows: whether one runs (and is of this build), and the settings for one."""
    from inworld_cli.worker import client, protocol, sockets

    settings = env.settings(Overrides())
    place = sockets.place_for(env.vars, env.paths.state_dir)
    info = client.status(place) if sockets.supported() else None
    record: dict[str, Any] = {
        "running": info is not None,
        "enabled": settings.worker.value and sockets.supported(),
        "enabled_source": settings.worker.source if sockets.supported() else "not supported on this system",
        "idle_exit": settings.worker_idle.value,
        "socket": str(place.socket),
    }
    if info is None:
        holder = client.lock_holder(place) if sockets.supported() else None
        record["unresponsive_pid"] = holder or None
        return record
    since = float(info.get("since", 0))
    record.update(
        pid=info.get("pid"),
        version=info.get("version"),
        current=info.get("build") == protocol.build_id(),
        since=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(since)),
        since_seconds_ago=round(env.clock.time() - since, 1),
        served=info.get("served"),
        in_flight=info.get("in_flight"),
        idle_exit=info.get("idle_exit"),
    )
    return record


def _status_text(record: dict[str, Any]) -> str:
    if record["running"]:
        version = record["version"]
        if not record["current"]:
            version += "  (another installation: the next ask replaces it)"
        rows = [
            ("worker", f"running, pid {record['pid']}"),
            ("version", version),
            ("since", f"{record['since']}  ({_ago(record['since_seconds_ago'])})"),
            ("served", f"{_requests(record['served'])} ({record['in_flight']} in flight)"),
            ("idle exit", f"after {_duration(record['idle_exit'])} without a request"),
        ]
    elif record["unresponsive_pid"]:
        rows = [
            (
                "worker",
                f"not answering, pid {record['unresponsive_pid']} (stop it: inworld-router worker stop)",
            )
        ]
    elif record["enabled"]:
        rows = [("worker", "not running (the next ask starts one)")]
    else:
        rows = [("worker", f"not running, and off ({record['enabled_source']})")]
    if not record["enabled"] and record["running"]:
        rows.append(("note", f"the worker is off ({record['enabled_source']}): ask does not use this one"))
    rows.append(("socket", record["socket"]))
    return "".join(f"{name + ':':<11}{value}\n" for name, value in rows)


def run_status(as_json: bool, env: Environment) -> int:
    record = status_record(env)
    env.streams.out(json.dumps(record, indent=2) + "\n" if as_json else _status_text(record))
    return 0 if record["running"] else 1


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Whether a worker runs: its pid, version, since when, and how many requests it served.

    Exits 0 when one runs, 1 when none does.

    \b
    Examples:
      inworld-router worker status
      inworld-router worker status --json | jq .served
    """
    raise typer.Exit(run_status(as_json, environment_of(ctx)))


# -- stop ------------------------------------------------------------------------------------------------


def _released(place: Any, within: float) -> bool:
    """Whether the worker's lock is free within `within` seconds."""
    from inworld_cli.worker.client import lock_holder

    deadline = time.monotonic() + within
    while lock_holder(place) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_stop(env: Environment) -> None:
    from inworld_cli.worker import client, sockets

    env.settings(Overrides())  # a bad config file is reported as for every command
    place = sockets.place_for(env.vars, env.paths.state_dir)
    streams = env.streams
    answer = client.stop(place) if sockets.supported() else None
    if answer is not None:
        _released(place, _STOP_WITHIN)
        in_flight = int(answer.get("in_flight") or 0)
        pid = answer.get("pid")
        if in_flight:
            streams.err(
                f"Stopped the worker (pid {pid}); it exits once its {_requests(in_flight)} in flight end"
            )
        else:
            streams.err(f"Stopped the worker (pid {pid})")
        return
    pid = client.lock_holder(place) if sockets.supported() else None
    if not pid:
        streams.err("No worker is running")
        return
    # It holds the lock but does not answer (stopped with SIGSTOP, or stuck): ask, then insist.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        if _released(place, _STOP_WITHIN):
            break
    streams.err(f"Stopped the worker (pid {pid}), which did not answer")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the worker (requests in flight are finished first); the next ask starts a new one.

    \b
    Example:
      inworld-router worker stop
    """
    run_stop(environment_of(ctx))
