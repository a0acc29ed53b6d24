"""What `stats` reports per group of requests, and how each number is defined. Pure: the store sums the
history's numeric columns per group in SQL (SUMS) and hands over the few values per request that
percentiles, the histogram and the errors need (VALUES), taken here in one pass.

- success rate: requests that ended `ok`, of the requests not stopped by the user (Ctrl-C, a closed pipe);
- failover rate: answers (requests that ended `ok` and carried routing metadata) that needed more than one
  attempt, of all such answers;
- mean attempts: over the requests whose routing metadata listed attempts;
- time to first token: the client's, of every request that received text; total time: of `ok` requests;
  percentiles by the nearest-rank method (p95 of 20 values is the 19th smallest);
- tokens per second: output tokens over the time from the first token to the end, for streamed `ok`
  answers (a whole answer's first token arrives with its last);
- cost: the sum of the requests' recorded costs, exact to a trillionth of a dollar (summed as integers of
  that unit, so no float rounding creeps in over many requests); `unpriced` counts requests that used
  tokens but have no price (their cost is not in the sum);
- errors: the commonest error types of the requests that failed.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

TTFT_PERCENTILES = (50, 95, 99)
TOTAL_PERCENTILES = (50, 95)
COMMONEST_ERRORS = 3
PICO = 10**12  # costs are summed in trillionths of a dollar

# The time-to-first-token histogram: 10 buckets a decade on a log scale from 100 ms to 10 s; the first
# bucket also holds anything faster, the last anything slower.
TTFT_CHART_FROM_MS = 100.0
TTFT_CHART_DECADES = 2
TTFT_BUCKETS_PER_DECADE = 10
TTFT_BUCKETS = TTFT_CHART_DECADES * TTFT_BUCKETS_PER_DECADE
# The lower edge of buckets 1 … n-1 (bucket 0 starts at 0).
TTFT_EDGES_MS = tuple(
    TTFT_CHART_FROM_MS * 10 ** (i / TTFT_BUCKETS_PER_DECADE) for i in range(1, TTFT_BUCKETS)
)


@dataclass
class GroupStats:
    key: str | None  # the model, provider, day …; None for the line of every request
    requests: int = 0
    ok: int = 0
    stopped: int = 0  # interrupted (Ctrl-C) or cut off by a closed stdout: the user's doing
    answers_with_attempts: int = 0
    failed_over: int = 0
    mean_attempts: float | None = None
    ttft_ms: dict[int, float | None] = field(default_factory=dict)  # percentile -> value
    total_ms: dict[int, float | None] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    generated_tokens: int = 0  # output tokens of the answers that tokens per second is measured on
    generation_ms: float = 0.0  # and the time they took from first token to end
    cost_usd: Decimal | None = None  # None: nothing priced
    unpriced: int = 0
    errors: list[tuple[str, int]] = field(default_factory=list)  # commonest first
    ttft_histogram: list[int] = field(default_factory=lambda: [0] * TTFT_BUCKETS)

    @property
    def success_rate(self) -> float | None:
        judged = self.requests - self.stopped
        return self.ok / judged if judged > 0 else None

    @property
    def failover_rate(self) -> float | None:
        return self.failed_over / self.answers_with_attempts if self.answers_with_attempts else None

    @property
    def tokens_per_second(self) -> float | None:
        return self.generated_tokens / (self.generation_ms / 1000) if self.generation_ms > 0 else None


@dataclass
class Summary:
    by: str
    groups: list[GroupStats]
    total: GroupStats


# What the store sums per group (in SQL, by the definitions above), in this order after the group key.
SUMS = (
    "requests",
    "ok",
    "stopped",
    "answers_with_attempts",
    "failed_over",
    "attempts",  # the sum of the attempts listed, and
    "with_attempts",  # the number of requests that listed them
    "input_tokens",
    "output_tokens",
    "generated_tokens",
    "generation_ms",
    "cost_picousd",  # the sum of the priced requests' costs, in trillionths of a dollar, and
    "priced",  # their number
    "unpriced",
)
# And per request, what percentiles, the histogram and the errors are taken from: the group key, then
# the time to first token, the total time of an ok request, the error type of a failed one (else None).
VALUES = ("ttft_ms", "ok_total_ms", "error")


def _percentiles(values: list[float], percentiles: tuple[int, ...]) -> dict[int, float | None]:
    """Nearest rank over sorted values: the ceil(p/100 × n)-th smallest."""
    if not values:
        return dict.fromkeys(percentiles)
    return {p: values[max(1, (p * len(values) + 99) // 100) - 1] for p in percentiles}


# The sums that are GroupStats fields as they are.
_COUNTS = ("requests", "ok", "stopped", "answers_with_attempts", "failed_over", "input_tokens",
           "output_tokens", "generated_tokens", "generation_ms", "unpriced")  # fmt: skip


@dataclass
class _Group:
    """One group's sums, and the values its percentiles, histogram and errors come from."""

    sums: dict[str, Any]
    ttfts: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: _Group) -> None:
        for name, value in other.sums.items():
            self.sums[name] = (self.sums.get(name) or 0) + (value or 0)
        self.ttfts += other.ttfts
        self.totals += other.totals
        self.errors.update(other.errors)

    def stats(self, key: str | None) -> GroupStats:
        sums = self.sums
        ttfts = sorted(self.ttfts)
        edges = [0, *(bisect.bisect_left(ttfts, edge) for edge in TTFT_EDGES_MS), len(ttfts)]
        return GroupStats(
            key,
            **{name: sums.get(name) or 0 for name in _COUNTS},
            mean_attempts=sums["attempts"] / sums["with_attempts"] if sums.get("with_attempts") else None,
            ttft_ms=_percentiles(ttfts, TTFT_PERCENTILES),
            total_ms=_percentiles(sorted(self.totals), TOTAL_PERCENTILES),
            cost_usd=(Decimal(sums["cost_picousd"]) / PICO).normalize() if sums.get("priced") else None,
            errors=sorted(self.errors.items(), key=lambda e: (-e[1], e[0]))[:COMMONEST_ERRORS],
            ttft_histogram=[edges[i + 1] - edges[i] for i in range(TTFT_BUCKETS)],
        )


def summarise(sums: list[tuple[Any, ...]], values: Iterable[tuple[Any, ...]], by: str) -> Summary:
    """Every group's numbers and every request's (the total), from the store's (key, *SUMS) rows per
    group and its (key, *VALUES) rows per request, taken in one pass."""
    groups = {row[0]: _Group(dict(zip(SUMS, row[1:], strict=True))) for row in sums}
    for key, ttft, total, error in values:
        group = groups[key]
        if ttft is not None:
            group.ttfts.append(ttft)
        if total is not None:
            group.totals.append(total)
        if error is not None:
            group.errors[error] += 1
    every = _Group({})
    for group in groups.values():
        every.merge(group)
    return Summary(by, ordered([g.stats(key) for key, g in groups.items()], by), every.stats(None))


def ordered(groups: list[GroupStats], by: str) -> list[GroupStats]:
    """Days in order, other groups most requested first; the group without a key (no model served) last
    among equals."""
    if by == "day":
        return sorted(groups, key=lambda g: (not g.key, g.key or ""))
    return sorted(groups, key=lambda g: (-g.requests, not g.key, g.key or ""))
