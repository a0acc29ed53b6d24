"""`inworld-router stats`: how the router served the requests in history, per model, provider or day."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.history import selection_of
from inworld_cli.commands.options import JsonOption, ModelFilterOption, SinceOption
from inworld_cli.core.history_filter import HistoryFilter
from inworld_cli.core.record import utc_timestamp
from inworld_cli.environment import Environment
from inworld_cli.errors import UsageError
from inworld_cli.output.console import json_text


class Grouping(enum.StrEnum):
    model = "model"
    requested = "requested"
    provider = "provider"
    day = "day"


@dataclass(frozen=True)
class StatsOptions:
    selection: HistoryFilter
    by: str = "model"
    as_json: bool = False
    as_csv: bool = False


def run_stats(options: StatsOptions, env: Environment) -> None:
    # Imported here: other commands must not pay for sqlite3 and the renderer.
    from inworld_cli.output.stats import csv_text, json_value, pipe_header, pipe_row, print_stats
    from inworld_cli.output.tables import left_out_note, plain_rows
    from inworld_cli.store.history import HistoryStore
    from inworld_cli.store.stats import history_summary

    if options.as_json and options.as_csv:
        raise UsageError("--json and --csv cannot be used together", hint="choose one")
    store = HistoryStore(env.paths.history_db)
    summary = history_summary(store, options.selection, options.by)
    streams = env.streams
    if not summary.groups:
        narrowed = options.selection.narrows and store.exists()
        streams.err("no requests in history match" if narrowed else "no history yet")
    since = options.selection.since
    if options.as_json:
        streams.out(
            json_text(json_value(summary, utc_timestamp(since) if since is not None else None)) + "\n"
        )
    elif options.as_csv:
        streams.out(csv_text(summary))
    elif streams.stdout_is_terminal:
        if summary.groups:
            console = streams.console()
            left_out = print_stats(summary, console)
            if left_out:
                streams.err(left_out_note(left_out, console.width, "; see --json"))
    else:
        rows = [pipe_row(group, summary.by) for group in summary.groups]
        streams.out(plain_rows([pipe_header(summary.by), *rows]))


def stats(
    ctx: typer.Context,
    since: SinceOption = None,
    by: Annotated[
        Grouping,
        typer.Option(
            "--by", case_sensitive=False, help="One line per served model, requested model, provider or day."
        ),
    ] = Grouping.model,
    model: ModelFilterOption = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV with a header line on stdout.")] = False,
) -> None:
    """Summarise the requests in history: success and failover rates, time to first token, cost.

    Per group: requests; ok (success rate, requests you stopped aside); failover (answers that needed
    more than one attempt); mean attempts; the client's time to first token p50/p95/p99 and total time
    p50/p95; tokens in→out; tokens per second (streamed answers, after the first token); cost, and how
    many requests were unpriced; the commonest errors. Then a chart of each group's time to first token
    (log scale, 100 ms to 10 s) and failover rate.

    On a pipe: tab-separated columns under a header line; --csv and --json for other programs.

    \b
    Examples:
      inworld-router stats
      inworld-router stats --since 7d --by provider
      inworld-router stats --by day --csv > days.csv
      inworld-router stats --json | jq '.total.cost_usd'
    """
    env = environment_of(ctx)
    selection = selection_of(env, since=since, model=model)
    run_stats(StatsOptions(selection, by.value, as_json, as_csv), env)
