"""`inworld-router inspect [REF]`: how a request was routed, from history, a file or stdin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import JsonOption
from inworld_cli.environment import Environment
from inworld_cli.errors import LocalError, UsageError
from inworld_cli.output.console import json_text

if TYPE_CHECKING:  # imported where used: other commands must not pay for sqlite3 and the renderer
    from inworld_cli.core.record import Record

_MESSAGE_KEYS = {"content", "stop_reason", "usage", "role"}
_METADATA_KEYS = {"attempts", "generation_id", "reasoning"}
_WHAT_FITS = (
    "give a Messages response (e.g. from `ask --json`), a history record, or a routing metadata object"
)


@dataclass(frozen=True)
class InspectOptions:
    ref: str | None
    as_json: bool
    content: bool


def _bare_record(response: dict[str, Any]) -> Record:
    """A record for a response that did not come from history: nothing known but the response."""
    from inworld_cli.core.record import Record

    return Record(
        id="",
        created_at="",
        profile="",
        base_url_host="",
        request={},
        response=response,
        error=None,
        timings={},
        exit_status=0,
    )


def record_from_document(data: object, source: str, env: Environment) -> Record:
    """Whatever `inspect` accepts as JSON: a history record (or an array of them, as `history --json`
    prints), a Messages response with or without metadata, or a bare metadata object."""
    if isinstance(data, list):
        if not data:
            raise UsageError(f"{source} holds an empty JSON array", hint=_WHAT_FITS)
        if len(data) > 1:
            env.streams.err(f"note: {source} holds {len(data)} records; showing the first")
        data = data[0]
    if isinstance(data, dict):
        if data.get("type") != "message" and ("request" in data or "response" in data):
            from inworld_cli.core.record import Record

            return Record.from_json(data)
        if data.get("type") == "message" or _MESSAGE_KEYS & data.keys():
            return _bare_record(data)
        if _METADATA_KEYS & data.keys():
            return _bare_record({"metadata": data})
    raise UsageError(
        f"{source} is not a Messages response, a history record or routing metadata", hint=_WHAT_FITS
    )


def _parse(raw: bytes, source: str) -> object:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text", hint=_WHAT_FITS) from None
    if not text.strip():
        raise UsageError(f"{source} is empty: no JSON to inspect", hint=_WHAT_FITS)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"invalid JSON in {source}: {exc.msg} (line {exc.lineno}, column {exc.colno})", hint=_WHAT_FITS
        ) from None
    except RecursionError:
        raise UsageError(f"invalid JSON in {source}: nested too deeply", hint=_WHAT_FITS) from None


def _read_stdin(env: Environment) -> bytes:
    if env.streams.stdin_is_terminal:
        raise UsageError(
            "`inspect -` reads JSON from stdin, but stdin is a terminal",
            hint='pipe it in: inworld-router ask --json "hi" | inworld-router inspect -',
        )
    return env.streams.stdin.read()


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.lower().endswith(".json") or ref.startswith(".")


def load_record(ref: str | None, env: Environment) -> Record:
    """REF: omitted or `last`, a history id or unique prefix, a generation id, a JSON file, or `-`."""
    if ref == "-":
        source = "stdin"
        return record_from_document(_parse(_read_stdin(env), source), source, env)
    if ref and ref != "last":
        path = Path(ref).expanduser()
        if path.is_dir():
            raise UsageError(f"{ref} is a directory, not a JSON file", hint=_WHAT_FITS)
        if path.exists() or _looks_like_path(ref):
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                raise UsageError(f"no such file: {ref}", hint=_WHAT_FITS) from None
            except OSError as exc:  # it is there but cannot be read: a local failure, not a bad REF
                raise LocalError(f"cannot read {ref}: {exc.strerror or exc}", hint=f"check {ref}") from None
            return record_from_document(_parse(raw, ref), ref, env)
    from inworld_cli.store.history import HistoryStore

    return HistoryStore(env.paths.history_db).find(ref or "last")


def run_inspect(options: InspectOptions, env: Environment) -> None:
    from inworld_cli.output.timeline import print_timeline, timeline_text

    record = load_record(options.ref, env)
    streams = env.streams
    if options.as_json:
        streams.out(json_text(record.to_json()) + "\n")
    elif streams.stdout_is_terminal and not streams.dumb_terminal:
        print_timeline(record, streams.console(), plain=False, content=options.content)
    else:
        streams.out(timeline_text(record, content=options.content))


def inspect(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(metavar="REF", show_default=False, hidden=True),
    ] = None,
    as_json: JsonOption = False,
    no_content: Annotated[bool, typer.Option("--no-content", help="Leave the answer out.")] = False,
) -> None:
    """Show how a request was routed: every attempt, the failover chain, the router's reasoning.

    REF: last (the default), a history id or a unique prefix of one, a generation id, a JSON file, or -
    for JSON on stdin.

    A terminal gets a drawing; a pipe gets the same facts as plain `key: value` lines, one attempt per line.

    \b
    Examples:
      inworld-router inspect
      inworld-router inspect gen-failover-42 --no-content
      inworld-router ask --json "hi" | inworld-router inspect -
      inworld-router inspect examples/failover-response.json
    """
    run_inspect(InspectOptions(ref, as_json, not no_content), environment_of(ctx))
