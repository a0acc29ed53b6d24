"""`inworld-router conversations [list | show ID]`: the conversations in history, listed or shown whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import ConversationArgument, JsonOption
from inworld_cli.environment import Environment
from inworld_cli.errors import UsageError
from inworld_cli.output.console import json_text

DEFAULT_LIMIT = 20

app = typer.Typer()  # its help is the callback's docstring, examples included

LimitOption = Annotated[
    int,
    typer.Option(
        "-n", "--limit", min=1, metavar="N", help="How many conversations to list, most recent first."
    ),
]


@dataclass(frozen=True)
class ListOptions:
    limit: int = DEFAULT_LIMIT
    as_json: bool = False


def run_list(options: ListOptions, env: Environment) -> None:
    # Imported here: every other command would pay for sqlite3 and the renderer.
    from inworld_cli.output.conversations import print_summaries
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(env.paths.history_db)
    summaries = store.recent_conversations(options.limit)
    streams = env.streams
    if options.as_json:
        streams.out(json_text([s.to_json() for s in summaries]) + "\n")
    elif not summaries:
        streams.err('no conversations yet (every ask starts one: inworld-router ask "…")')
    else:
        print_summaries(streams, summaries, store.short_ids([s.id for s in summaries]))


def run_show(ref: str, as_json: bool, env: Environment) -> None:
    from inworld_cli.output.conversations import print_transcript, transcript
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(env.paths.history_db)
    found = store.find_conversation(ref)
    summary = store.summaries([found])[0]
    records = list(reversed(store.conversation_records(found)))
    if as_json:
        env.streams.out(json_text({**summary.to_json(), "records": [r.to_json() for r in records]}) + "\n")
    else:
        print_transcript(env.streams, transcript(summary, records))


@app.callback(invoke_without_command=True)
def conversations(
    ctx: typer.Context, limit: LimitOption = DEFAULT_LIMIT, as_json: JsonOption = False
) -> None:
    """List the conversations in history, or show one whole.

    Every ask starts a conversation; ask -c continues the one used most recently, and
    ask --conversation ID any other.

    The list, most recently used first: id, a title from the first prompt, turns (answered;
    failed ones are left out of the context), the latest model, tokens in→out, last used.
    On a pipe: tab-separated fields without a header: id, last used (UTC), turns, failed
    turns, input tokens, output tokens, models (comma-separated), title.

    \b
    Examples:
      inworld-router conversations
      inworld-router conversations show 01a2121c
      inworld-router conversations --json | jq -r '.[0].id'
    """
    if ctx.invoked_subcommand is None:
        run_list(ListOptions(limit, as_json), environment_of(ctx))


@app.command("list")
def list_(ctx: typer.Context, limit: LimitOption = DEFAULT_LIMIT, as_json: JsonOption = False) -> None:
    """List the conversations, most recently used first (tab-separated on a pipe)."""
    group = ctx.parent.params if ctx.parent is not None else {}
    limit = limit if limit != DEFAULT_LIMIT else group.get("limit", DEFAULT_LIMIT)
    run_list(ListOptions(limit, as_json or bool(group.get("as_json"))), environment_of(ctx))


@app.command("show")
def show(ctx: typer.Context, conversation: ConversationArgument = None, as_json: JsonOption = False) -> None:
    """Show one conversation whole: each turn's prompt and answer, failed turns marked.

    ID: a conversation's id, or the id of any of its turns in history (a unique prefix works).

    --json prints its summary and its records (oldest first), each as history --json does.
    """
    if not conversation:
        raise UsageError(
            "conversations show needs a conversation id", hint="list them: inworld-router conversations"
        )
    group = ctx.parent.params if ctx.parent is not None else {}
    run_show(conversation, as_json or bool(group.get("as_json")), environment_of(ctx))
