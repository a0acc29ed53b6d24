"""`inworld-router history`: the recent requests, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import ConversationOption, JsonOption
from inworld_cli.environment import Environment
from inworld_cli.output.console import json_text

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class HistoryOptions:
    limit: int
    as_json: bool
    conversation: str | None = None  # only that conversation's turns


def run_history(options: HistoryOptions, env: Environment) -> None:
    # Imported here, not at the top: every other command would pay for sqlite3 and the renderer.
    from inworld_cli.output.timeline import history_row, history_table, history_text
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(env.paths.history_db)
    if options.conversation is not None:
        records = store.conversation_records(store.find_conversation(options.conversation), options.limit)
    else:
        records = store.recent(options.limit)
    streams = env.streams
    if options.as_json:
        streams.out(json_text([r.to_json() for r in records]) + "\n")
        return
    if not records:
        streams.err(f"no history yet (requests made with `inworld-router ask` are kept in {store.path})")
        return
    short = store.short_ids([r.id for r in records])
    rows = [history_row(r, short.get(r.id, r.id)) for r in records]
    if streams.stdout_is_terminal and not streams.dumb_terminal:
        streams.console().print(history_table(rows), soft_wrap=True)
    else:
        streams.out(history_text(rows))


def history(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("-n", "--limit", min=1, metavar="N", help="How many records to show, newest first.")
    ] = DEFAULT_LIMIT,
    as_json: JsonOption = False,
    conversation: ConversationOption = None,
) -> None:
    """List recent requests, newest first.

    attempts: one mark per try (✗ failed and the router moved on, ✓ answered).
    outcome: ok, interrupted, or the exit status and error type (+ partial).
    Give an id, or a unique prefix of it, to `inworld-router inspect`.

    \b
    Examples:
      inworld-router history
      inworld-router history -n 5
      inworld-router history --json | jq -r '.[0].response.metadata.generation_id'

      inworld-router history --conversation 01a2121c
    """
    run_history(HistoryOptions(limit, as_json, conversation), environment_of(ctx))
