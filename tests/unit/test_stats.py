"""`stats` on known data, through a real history database: percentiles, rates, tokens per second, cost
and the unpriced, errors, the histogram, groupings and filters; and its outputs for programs."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.core.history_filter import HistoryFilter
from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.core.stats import Summary
from inworld_cli.output.stats import csv_text, json_value, pipe_header, pipe_row
from inworld_cli.store.history import HistoryStore
from inworld_cli.store.stats import history_summary

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


pytestmark = pytest.mark.usefixtures("utc")  # times and days are local: pinned to UTC


def request(
    at: float,
    *,
    served: str | None = "anthropic/claude-opus-4-6",
    requested: str = "auto",
    attempts: int | None = 1,
    ttft: float | None = 500.0,
    total: float | None = 1500.0,
    tokens: tuple[int, int] | None = (10, 100),
    cost: float | None = 0.001,
    status: int = 0,
    error: str | None = None,
    stream: bool = True,
) -> Record:
    response: dict[str, Any] | None = None
    if served is not None:
        response = {"model": served, "content": [{"type": "text", "text": "x"}]}
        if tokens is not None:
            response["usage"] = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
        if attempts is not None:
            tried = [{"model": "m", "success": False}] * (attempts - 1) + [{"model": served, "success": True}]
            response["metadata"] = {"attempts": tried}
    return Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="127.0.0.1",
        request={"model": requested, "messages": [{"role": "user", "content": "q"}], "stream": stream},
        response=response,
        error={"type": error} if error else None,
        timings={"ttft_ms": ttft, "total_ms": total},
        exit_status=status,
        cost={"usd": cost} if cost is not None else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(tmp_path / "history.sqlite3")


def summary(store: HistoryStore, by: str = "model", **selection: Any) -> Summary:
    return history_summary(store, HistoryFilter(**selection), by)


def test_percentiles_by_nearest_rank(store: HistoryStore) -> None:
    # TTFT 100, 200, … 2000 ms in shuffled order; totals only of the ok ones.
    order = [7, 3, 19, 0, 12, 5, 16, 9, 1, 14, 18, 2, 11, 6, 15, 8, 13, 4, 17, 10]
    store.add_many(
        [request(T0 + i, ttft=(n + 1) * 100.0, total=(n + 1) * 1000.0) for i, n in enumerate(order)]
    )
    store.add(request(T0 + 50, ttft=None, total=99_999.0, status=5, error="overloaded_error", tokens=None))
    total = summary(store).total
    assert total.ttft_ms == {50: 1000.0, 95: 1900.0, 99: 2000.0}  # the 10th, 19th and 20th of 20
    assert total.total_ms == {50: 10_000.0, 95: 19_000.0}  # the failed request's time is not an answer's
    one = HistoryStore(store.path.with_name("one.sqlite3"))
    one.add(request(T0, ttft=123.0, total=456.0))
    assert summary(one).total.ttft_ms == {50: 123.0, 95: 123.0, 99: 123.0}


def test_rates_attempts_tokens_cost_and_errors(store: HistoryStore) -> None:
    store.add_many(
        [
            request(T0, attempts=1, tokens=(10, 100), ttft=500.0, total=1500.0, cost=0.25),
            request(T0 + 1, attempts=2, tokens=(20, 300), ttft=1000.0, total=2500.0, cost=0.5),
            request(T0 + 2, attempts=3, tokens=(30, 50), ttft=100.0, total=600.0, cost=None),  # unpriced
            request(T0 + 3, attempts=None, tokens=(5, 5), ttft=100.0, total=200.0, cost=None, stream=False),
            request(T0 + 4, served=None, status=5, error="overloaded_error", ttft=None, cost=None),
            request(T0 + 5, served=None, status=5, error="overloaded_error", ttft=None, cost=None),
            request(T0 + 6, served=None, status=6, error="timeout", ttft=None, cost=None),
            request(T0 + 7, served=None, status=3, error=None, ttft=None, cost=None),  # no key: exit 3
            request(T0 + 8, attempts=1, tokens=(7, 3), status=130, error="interrupted", cost=None),
        ]
    )
    total = summary(store).total
    assert total.requests == 9
    assert total.ok == 4
    assert total.stopped == 1
    assert total.success_rate == 4 / 8  # the request stopped by Ctrl-C is not held against the router
    assert (total.answers_with_attempts, total.failed_over) == (3, 2)  # one ok answer had no metadata
    assert total.failover_rate == 2 / 3
    assert total.mean_attempts == (1 + 2 + 3 + 1) / 4  # every request that listed its attempts
    assert (total.input_tokens, total.output_tokens) == (72, 458)
    # tokens per second: streamed ok answers, from the first token to the end
    assert total.generated_tokens == 100 + 300 + 50
    assert total.generation_ms == 1000.0 + 1500.0 + 500.0
    assert total.tokens_per_second == 450 / 3.0
    assert total.cost_usd == 0.75
    assert total.unpriced == 3  # tokens but no price: the two ok ones and the interrupted one
    assert total.errors == [("overloaded_error", 2), ("exit 3", 1), ("timeout", 1)]


def test_groups_and_their_order(store: HistoryStore) -> None:
    store.add_many(
        [
            request(T0, served="openai/gpt-5", requested="auto"),
            request(T0 + 1, served="google-ai-studio/gemini-2.5-flash", requested="inworld/support"),
            request(T0 + 2, served="google-ai-studio/gemini-2.5-flash", requested="auto"),
            request(T0 + 3, served="anthropic/claude-opus-4-6", requested="anthropic/claude-opus-4-6"),
            request(T0 + 86400, served=None, status=6, error="timeout", requested="auto"),
        ]
    )
    by_model = summary(store)
    assert [(g.key, g.requests) for g in by_model.groups] == [
        ("google-ai-studio/gemini-2.5-flash", 2),  # most requested first, then by name
        ("anthropic/claude-opus-4-6", 1),
        ("openai/gpt-5", 1),
        ("", 1),  # no model served: last among equals
    ]
    assert by_model.total.requests == 5
    assert [(g.key, g.requests) for g in summary(store, "requested").groups] == [
        ("auto", 3),
        ("anthropic/claude-opus-4-6", 1),
        ("inworld/support", 1),
    ]
    assert [(g.key, g.requests) for g in summary(store, "provider").groups] == [
        ("google-ai-studio", 2),
        ("anthropic", 1),
        ("openai", 1),
        ("", 1),
    ]
    assert [(g.key, g.requests) for g in summary(store, "day").groups] == [
        ("2026-09-21", 4),
        ("2026-09-22", 1),
    ]
    assert [g.key for g in summary(store, since=T0 + 3).groups] == ["anthropic/claude-opus-4-6", ""]
    assert [g.key for g in summary(store, model="google-ai-studio").groups] == [
        "google-ai-studio/gemini-2.5-flash"
    ]


def test_the_ttft_histogram_has_ten_buckets_a_decade(store: HistoryStore) -> None:
    store.add_many(
        [request(T0 + i, ttft=ms) for i, ms in enumerate([5.0, 100.0, 125.0, 126.0, 999.0, 1000.0, 60_000.0])]
    )
    histogram = summary(store).total.ttft_histogram
    assert len(histogram) == 20
    assert histogram[0] == 3  # faster than 100 ms, and up to 125.9 ms
    assert histogram[1] == 1  # 126 ms
    assert histogram[9] == 1  # 999 ms
    assert histogram[10] == 1  # 1 s
    assert histogram[19] == 1  # a minute: slower than the chart
    assert sum(histogram) == 7


def test_an_empty_selection(store: HistoryStore) -> None:
    assert summary(store).groups == []  # no database at all
    assert not store.exists()
    store.add(request(T0))
    empty = summary(store, since=T0 + 10)
    assert empty.groups == []
    assert empty.total.requests == 0
    assert empty.total.success_rate is None
    assert empty.total.ttft_ms == {50: None, 95: None, 99: None}


def test_outputs_for_programs(store: HistoryStore) -> None:
    store.add_many(
        [
            request(T0, ttft=400.0, total=1400.0, cost=0.0000211),
            request(T0 + 1, served=None, status=5, error="overloaded_error", ttft=None, cost=None),
        ]
    )
    result = summary(store)
    assert pipe_header("model")[:4] == ["model", "requests", "success_rate", "failover_rate"]
    assert [pipe_row(group, "model") for group in result.groups] == [
        ["anthropic/claude-opus-4-6", "1", "1.0000", "0.0000", "1.000", "400", "400", "400", "1400", "1400",
         "10", "100", "100.0", "0.0000211", "0", ""],
        ["(not served)", "1", "0.0000", "-", "-", "-", "-", "-", "-", "-", "0", "0", "-", "-", "0",
         "overloaded_error:1"],
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(csv_text(result))))
    assert rows[0] == pipe_header("model")
    assert rows[2][:5] == ["(not served)", "1", "0.0000", "", ""]  # CSV leaves missing numbers empty
    data = json_value(result, "2026-09-21T00:00:00.000Z")
    assert data["since"] == "2026-09-21T00:00:00.000Z"
    assert [g["group"] for g in data["groups"]] == ["anthropic/claude-opus-4-6", None]
    assert data["total"]["requests"] == 2
    assert data["total"]["ttft_ms"] == {"p50": 400.0, "p95": 400.0, "p99": 400.0}
    assert data["groups"][1]["errors"] == [{"type": "overloaded_error", "count": 1}]


def test_costs_add_up_exactly(store: HistoryStore) -> None:
    store.add_many([request(T0 + i, cost=0.000117) for i in range(3)] + [request(T0 + 9, cost=0.1)])
    # As floats, 0.000117 × 3 is 0.00035099999999999997: summed in trillionths of a dollar it is exact.
    assert summary(store).total.cost_usd == Decimal("0.100351")
    assert pipe_row(summary(store).total, "model")[13] == "0.100351"
