"""What `stats` summarises, in SQL over the history's numeric columns (read through the covering index
`records_stats`, never a record's JSON): per group the sums and counts core/stats.py defines, and per
request the few values its percentiles, histogram and errors are taken from."""

from __future__ import annotations

from inworld_cli.core.history_filter import HistoryFilter
from inworld_cli.core.stats import PICO, SUMS, VALUES, Summary, summarise
from inworld_cli.store.history import HistoryStore, where_clause

# The group of a row, per --by ('' when it has none: e.g. no model served).
GROUP_KEYS = {
    "model": "coalesce(served_model, '')",
    "requested": "coalesce(requested_model, '')",
    "provider": "CASE WHEN served_model IS NULL THEN '' WHEN instr(served_model, '/') > 0 "
    "THEN substr(served_model, 1, instr(served_model, '/') - 1) ELSE served_model END",
    "day": "coalesce(date(created_at, 'localtime'), '')",
}

_OK = "(exit_status = 0 AND error_type IS NULL)"
_STOPPED = "exit_status IN (130, 141)"  # Ctrl-C, or a closed stdout
_GENERATING = f"{_OK} AND streamed AND output_tokens > 0 AND total_ms > ttft_ms"
_SUMS = {
    "requests": "count(*)",
    "ok": f"sum({_OK})",
    "stopped": f"sum({_STOPPED})",
    "answers_with_attempts": f"sum({_OK} AND attempts IS NOT NULL)",
    "failed_over": f"sum({_OK} AND attempts > 1)",
    "attempts": "sum(attempts)",
    "with_attempts": "count(attempts)",
    "input_tokens": "sum(input_tokens)",
    "output_tokens": "sum(output_tokens)",
    "generated_tokens": f"sum(CASE WHEN {_GENERATING} THEN output_tokens END)",
    "generation_ms": f"sum(CASE WHEN {_GENERATING} THEN total_ms - ttft_ms END)",
    "cost_picousd": f"sum(CAST(round(cost_usd * {PICO}) AS INTEGER))",
    "priced": "count(cost_usd)",
    "unpriced": "sum(cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL))",
}
_VALUES = {
    "ttft_ms": "ttft_ms",
    "ok_total_ms": f"CASE WHEN {_OK} THEN total_ms END",
    "error": f"CASE WHEN NOT {_OK} AND NOT {_STOPPED} THEN coalesce(error_type, 'exit ' || exit_status) END",
}


def history_summary(store: HistoryStore, selection: HistoryFilter, by: str) -> Summary:
    # `where` comes from where_clause (the store's own literals); values travel as parameters.
    where, params = where_clause(selection)
    key = GROUP_KEYS[by]
    sums = ", ".join(_SUMS[name] for name in SUMS)
    values = ", ".join(_VALUES[name] for name in VALUES)
    return summarise(
        store.rows(f"SELECT {key}, {sums} FROM records {where} GROUP BY 1", params),  # noqa: S608
        store.rows(f"SELECT {key}, {values} FROM records {where}", params),  # noqa: S608
        by,
    )
