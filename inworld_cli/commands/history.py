"""`inworld-router history`: the recent requests, newest first, filtered; and `history rm`/`prune`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import ConversationOption, JsonOption, ModelFilterOption, SinceOption
from inworld_cli.core.history_filter import HistoryFilter, parse_moment
from inworld_cli.core.text import NOT_UTF8, describe_size
from inworld_cli.environment import Environment
from inworld_cli.errors import UsageError
from inworld_cli.output.console import json_text

DEFAULT_LIMIT = 20

app = typer.Typer()


@dataclass(frozen=True)
class HistoryOptions:
    limit: int = DEFAULT_LIMIT
    as_json: bool = False
    selection: HistoryFilter = field(default_factory=HistoryFilter)


def selection_of(
    env: Environment,
    *,
    since: str | None = None,
    model: str | None = None,
    failed: bool = False,
    search: str | None = None,
    conversation: str | None = None,
) -> HistoryFilter:
    """The filter the options ask for (a bad value, or a conversation that is no conversation, stops here,
    naming the flag)."""
    for flag, text in (("--model", model), ("--search", search)):
        if text and NOT_UTF8.search(text):  # SQLite could not even take it
            raise UsageError(
                f"{flag} is not UTF-8 text", hint="arguments must be UTF-8; convert first, e.g. iconv"
            )
    moment = parse_moment(since, env.clock.time(), "--since") if since is not None else None
    if conversation is not None:
        from inworld_cli.store.history import HistoryStore

        conversation = HistoryStore(env.paths.history_db).find_conversation(conversation)
    return HistoryFilter(since=moment, model=model, failed=failed, search=search, conversation=conversation)


def run_history(options: HistoryOptions, env: Environment) -> None:
    # Imported here, not at the top: every other command would pay for sqlite3 and the renderer.
    from inworld_cli.output.listing import COLUMNS, NARROWING, history_row
    from inworld_cli.output.tables import print_table
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(env.paths.history_db)
    records = store.recent(options.limit, options.selection)
    streams = env.streams
    if options.as_json:
        streams.out(json_text([r.to_json() for r in records]) + "\n")
        return
    if not records:
        if options.selection.narrows and store.exists():
            streams.err("no requests in history match")
        else:
            streams.err(f"no history yet (requests made with `inworld-router ask` are kept in {store.path})")
        return
    if streams.stdout_is_terminal:
        short = store.short_ids([r.id for r in records])
        rows = [history_row(r, short.get(r.id, r.id)) for r in records]
    else:
        rows = [history_row(r, r.id, plain=True) for r in records]
    print_table(streams, COLUMNS, rows, narrowing=NARROWING)


@app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("-n", "--limit", min=1, metavar="N", help="How many records to show, newest first.")
    ] = DEFAULT_LIMIT,
    model: ModelFilterOption = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only requests that did not end ok (errors, interrupts).")
    ] = False,
    since: SinceOption = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            metavar="TEXT",
            help="Only requests whose prompt or answer contains TEXT (any case).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    conversation: ConversationOption = None,
) -> None:
    """List recent requests, newest first; remove some (rm), or the old ones (prune).

    attempts: one mark per try (✗ failed and the router moved on, ✓ answered).

    outcome: ok, interrupted, or the exit status and error type (+ partial).

    cost: what the tokens cost at the served model's price when it was asked (unpriced: the catalogue
    had no price for it).

    Give an id, or a unique prefix of it, to `inworld-router inspect`. A terminal gets a table that
    fits its width; a pipe gets tab-separated columns without a header (id, time, requested, served,
    attempts, ttft_ms, tokens, cost_usd, outcome, prompt), with whole ids and UTC times.

    \b
    Examples:
      inworld-router history
      inworld-router history --failed --since 7d
      inworld-router history -m anthropic --search "commit message" -n 5
      inworld-router history --json | jq -r '.[0].response.metadata.generation_id'
      inworld-router history --conversation 01a2121c
    """
    if ctx.invoked_subcommand is not None:
        return
    env = environment_of(ctx)
    selection = selection_of(
        env, since=since, model=model, failed=failed, search=search, conversation=conversation
    )
    run_history(HistoryOptions(limit, as_json, selection), env)


def run_rm(refs: list[str], env: Environment) -> None:
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(env.paths.history_db)
    before = store.size()
    removed = store.remove(refs)
    env.streams.err(
        f"removed {len(removed)} record{'s' if len(removed) != 1 else ''}; "
        f"{store.path.name}: {describe_size(before)} → {describe_size(store.size())}"
    )


@app.command("rm")
def rm(
    ctx: typer.Context,
    refs: Annotated[
        list[str],
        typer.Argument(metavar="ID...", hidden=True),  # described in the help text
    ],
) -> None:
    """Remove records from history, and give their space back to the disk.

    ID: a history id, a unique prefix of one (as `history` shows), or last.

    Every ID is checked first: one that matches no record, or several, removes nothing (exit 2).

    \b
    Examples:
      inworld-router history rm last
      inworld-router history rm 01a2121c 01a21220
    """
    run_rm(refs, environment_of(ctx))


@dataclass(frozen=True)
class PruneOptions:
    older_than: str | None = None
    keep: int | None = None
    dry_run: bool = False


def run_prune(options: PruneOptions, env: Environment) -> None:
    from inworld_cli.store.history import HistoryStore

    if options.older_than is None and options.keep is None:
        raise UsageError(
            "say what to prune: --older-than 30d, --keep N, or both",
            hint="see: inworld-router history prune --help",
        )
    before = None
    if options.older_than is not None:
        before = parse_moment(options.older_than, env.clock.time(), "--older-than")
    store = HistoryStore(env.paths.history_db)
    if not store.exists():
        env.streams.err("no history yet: nothing to prune")
        return
    size = store.size()
    count = store.prune(before, options.keep, dry_run=options.dry_run)
    records = f"{count} record{'s' if count != 1 else ''}"
    if options.dry_run:
        env.streams.err(f"would remove {records} ({store.path.name} is {describe_size(size)})")
    else:
        after = describe_size(store.size())
        env.streams.err(f"removed {records}; {store.path.name}: {describe_size(size)} → {after}")


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="30d|DATE",
            help="Remove the requests made before then: a span back from now (12h, 30d, 8w) or a local "
            "date (2026-01-01).",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep", metavar="N", min=0, help="Keep only the newest N requests.", show_default=False
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say how many would be removed, and remove nothing.")
    ] = False,
) -> None:
    """Remove old requests from history, and give their space back to the disk.

    With both options, a request goes when either says so.

    \b
    Examples:
      inworld-router history prune --older-than 30d
      inworld-router history prune --keep 1000 --dry-run
    """
    run_prune(PruneOptions(older_than, keep, dry_run), environment_of(ctx))
