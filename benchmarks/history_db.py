"""A big history database for the benchmarks: `count` generated records, as `ask` would have written them
over a few months (successes, failovers, failures, interrupts, priced and unpriced, streamed or not).

    python benchmarks/history_db.py PATH [COUNT]

Seeded: the same count gives the same records. Written through the history store (in transactions of a
few thousand), so the columns `stats`, `history` and `inspect` read are filled exactly as in use.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from inworld_cli.core.pricing import Price, cost_of
from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore

START = 1_780_000_000.0  # 2026-05-28: the generated history runs from here, a few minutes apart
BATCH = 5000
# model: (weight, USD per input and output token, or None: not in the catalogue, median TTFT in ms)
MODELS: dict[str, tuple[int, tuple[str, str] | None, float]] = {
    "anthropic/claude-opus-4-6": (20, ("0.000015", "0.000075"), 900.0),
    "anthropic/claude-sonnet-4-6": (25, ("0.000003", "0.000015"), 600.0),
    "anthropic/claude-haiku-4-5": (10, ("0.000001", "0.000005"), 350.0),
    "openai/gpt-5": (15, ("0.00000125", "0.00001"), 1400.0),
    "openai/gpt-4o-mini": (10, ("0.00000015", "0.0000006"), 400.0),
    "google-ai-studio/gemini-2.5-flash": (15, ("0.0000003", "0.0000025"), 450.0),
    "groq/llama-3.3-70b-versatile": (5, None, 200.0),
}
REQUESTED = ["auto", "auto", "auto", "inworld/support-router", *MODELS]
ERRORS = [
    (529, "overloaded_error", 5),
    (429, "rate_limit_error", 5),
    (400, "invalid_request_error", 4),
    (None, "timeout", 6),
    (None, "connection_error", 6),
]
WORDS = [
    "the",
    "router",
    "sends",
    "each",
    "request",
    "to",
    "one",
    "model",
    "and",
    "moves",
    "on",
    "when",
    "it",
    "fails",
    "or",
    "is",
    "slow",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _attempts(rng: random.Random, served: str) -> list[dict[str, Any]]:
    failed = rng.choices([0, 1, 2], weights=[85, 12, 3])[0]
    others = [m for m in MODELS if m != served]
    tries: list[dict[str, Any]] = [
        {"model": m, "success": False, "time_to_first_token_ms": None, "error": "upstream 503"}
        for m in rng.sample(others, failed)
    ]
    return [*tries, {"model": served, "success": True, "time_to_first_token_ms": rng.randint(80, 4000)}]


def record(rng: random.Random, index: int) -> Record:
    at = START + index * 90 + rng.random() * 60
    served = rng.choices(list(MODELS), weights=[w for w, _, _ in MODELS.values()])[0]
    requested = rng.choice(REQUESTED)
    stream = rng.random() < 0.8
    body = {
        "model": requested,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": _text(rng, rng.randint(5, 60))}],
        "stream": stream,
    }
    ttft = rng.lognormvariate(0, 0.6) * MODELS[served][2]
    total = ttft + rng.uniform(200, 8000)
    usage = {"input_tokens": rng.randint(8, 3000), "output_tokens": rng.randint(5, 1200)}
    response: dict[str, Any] | None = {
        "id": f"msg-{index}",
        "type": "message",
        "role": "assistant",
        "model": served,
        "content": [{"type": "text", "text": _text(rng, rng.randint(20, 150))}],
        "stop_reason": "end_turn",
        "usage": usage,
        "metadata": {
            "attempts": _attempts(rng, served),
            "generation_id": f"gen-{index:08d}",
            "reasoning": f"Using {served} - success",
        },
    }
    error, status, partial = None, 0, False
    roll = rng.random()
    if roll < 0.05:  # the router failed: nothing arrived
        http, kind, status = rng.choice(ERRORS)
        error = {"status": http, "type": kind, "message": kind.replace("_", " "), "request_id": None}
        response, ttft, total = None, None, rng.uniform(5, 30000)
    elif roll < 0.07:  # Ctrl-C part way
        error = {"status": None, "type": "interrupted", "message": "interrupted (Ctrl-C)", "request_id": None}
        status, partial = 130, True
    prices = MODELS[served][1]
    cost = None
    if response is not None and prices is not None:
        price = Price(served, *(__import__("decimal").Decimal(p) for p in prices))
        cost = cost_of(usage, price, utc_timestamp(at - 3600))
    return Record(
        id=new_record_id(at),
        created_at=utc_timestamp(at),
        profile="default",
        base_url_host="api.inworld.ai",
        request=body,
        response=response,
        error=error,
        timings={"ttft_ms": ttft, "total_ms": total},
        exit_status=status,
        partial=partial,
        cost=cost,
    )


def generate(path: Path, count: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    store = HistoryStore(path)
    for start in range(0, count, BATCH):
        store.add_many([record(rng, i) for i in range(start, min(count, start + BATCH))])


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
