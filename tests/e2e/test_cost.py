"""Cost end to end: `ask` prices each record from the catalogue, refreshing a missing or stale catalogue
alongside the request (never making the answer wait), and the cost shows in history, inspect and the
summary line. Against the local router, in-process unless a terminal is needed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from inworld_cli.core.record import utc_timestamp
from inworld_cli.store.cache import Cache
from tests.conftest import TEST_KEY, Home
from tests.fixtures_catalog import MODELS, MODELS_PATH
from tests.router_server import Received, Reply, RouterServer, json_reply, message
from tests.terminal import run_on_terminal

FLASH = "google-ai-studio/gemini-2.5-flash"
USAGE = {"input_tokens": 1234, "output_tokens": 567}
# Yesterday's prices, in a cache two days old: not what the catalogue says now.
OLD_MODELS: list[dict[str, Any]] = [
    {"model": "gemini-2.5-flash", "provider": "google", "pricing": {"prompt": "0.000001", "completion": "0.00001"}}
]  # fmt: skip


def cache_of(home: Home, router: RouterServer) -> Cache:
    return Cache(home.cache_dir, router.url, TEST_KEY)


def wait_until(condition: Callable[[], Any], limit: float = 10.0) -> None:
    """A safety net, not a timing: a test whose condition never comes true fails on its assertions."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def catalogue_requests(router: RouterServer) -> list[Received]:
    return [r for r in router.requests if r.path.startswith(MODELS_PATH)]


def last_record(home: Home) -> dict[str, Any]:
    result = home.run("history", "--json", "-n", "1")
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    return record


def flash_answer(*_: Any) -> Reply:
    return json_reply(message("Hi", model=FLASH, usage=USAGE))


def test_the_first_ask_on_a_new_machine_is_priced(routed_home: Home, router: RouterServer) -> None:
    router.routes[MODELS_PATH] = json_reply({"models": MODELS})
    cache = cache_of(routed_home, router)

    def answer_once_the_catalogue_is_cached(received: Received) -> Reply:
        wait_until(lambda: cache.load("models") is not None)  # fetched alongside this very request
        return flash_answer()

    router.responder = answer_once_the_catalogue_is_cached
    result = routed_home.run("ask", "--no-stream", "hi")
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hi\n", "")
    [fetch] = catalogue_requests(router)
    assert fetch.headers["authorization"] == f"Basic {TEST_KEY}"
    entry = cache.load("models")
    assert entry is not None
    assert last_record(routed_home)["cost"] == {
        "usd": 0.0017877,  # 1234 × $0.0000003 + 567 × $0.0000025, exactly
        "input_usd": 0.0003702,
        "output_usd": 0.0014175,
        "model": "google/gemini-2.5-flash",  # the catalogue entry the router's id was joined to
        "priced_at": utc_timestamp(entry.fetched_at),
        "usd_per_input_token": 3e-7,
        "usd_per_output_token": 2.5e-6,
    }


@pytest.mark.parametrize("cached", [True, False], ids=["stale cache", "no cache"])
def test_a_slow_catalogue_never_delays_the_answer(
    routed_home: Home, router: RouterServer, cached: bool
) -> None:
    cache = cache_of(routed_home, router)
    fetched_at = time.time() - 2 * 86400
    if cached:
        cache.save("models", OLD_MODELS, fetched_at)
    # The catalogue does not answer until the test is over: an ask that waited for it would never end.
    router.routes[MODELS_PATH] = json_reply({"models": MODELS}, delay=3600)
    router.responder = flash_answer
    result = routed_home.run("ask", "--no-stream", "hi")
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hi\n", "")
    wait_until(lambda: catalogue_requests(router))
    assert len(catalogue_requests(router)) == 1  # the refresh was asked for, alongside
    record = last_record(routed_home)
    if cached:  # priced from what was cached when the record was written: yesterday's price, so dated
        assert record["cost"]["usd"] == 0.006904  # 1234 × 0.000001 + 567 × 0.00001
        assert record["cost"]["priced_at"] == utc_timestamp(fetched_at)
    else:
        assert record["cost"] is None
        row = routed_home.run("history").stdout.split("\t")
        assert row[7] == "unpriced"


def test_a_fresh_catalogue_is_used_without_asking(routed_home: Home, router: RouterServer) -> None:
    fetched_at = time.time() - 60
    cache_of(routed_home, router).save("models", MODELS, fetched_at)
    result = routed_home.run("ask", "hi")  # the stand-in's streamed answer: claude-opus-4-6, 12→2 tokens
    assert result.returncode == 0, result.stderr
    assert catalogue_requests(router) == []
    assert last_record(routed_home)["response"]["usage"] == {"input_tokens": 12, "output_tokens": 2}
    lines = routed_home.run("inspect", "--no-content").stdout.splitlines()
    assert "cost: usd=0.00033 input_usd=0.00018 output_usd=0.00015" in lines  # 12 × $15/M + 2 × $75/M
    assert (
        "price: model=anthropic/claude-opus-4-6 usd_per_input_token=0.000015 usd_per_output_token=0.000075 "
        f"priced_at={utc_timestamp(fetched_at)}"
    ) in lines
    assert routed_home.run("history").stdout.split("\t")[7] == "0.00033"


def test_a_model_the_catalogue_does_not_price_is_unpriced(routed_home: Home, router: RouterServer) -> None:
    cache_of(routed_home, router).save("models", MODELS, time.time())
    router.enqueue(json_reply(message("Hola", model="openai/gpt-5")))
    assert routed_home.run("ask", "--no-stream", "hi").returncode == 0
    assert last_record(routed_home)["cost"] is None  # the catalogue lists no openai/gpt-5
    assert "cost: unpriced" in routed_home.run("inspect").stdout.splitlines()
    stats = routed_home.run("stats").stdout.splitlines()
    assert stats[1].split("\t")[13:15] == ["-", "1"]  # no cost summed, one request unpriced


def test_nothing_is_fetched_for_a_record_nobody_sees(routed_home: Home, router: RouterServer) -> None:
    router.routes[MODELS_PATH] = json_reply({"models": MODELS})
    result = routed_home.run("ask", "--no-log", "hi")  # not recorded, and no summary on a pipe
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert catalogue_requests(router) == []


@pytest.mark.tty
def test_the_summary_line_shows_the_cost_within_the_terminal(routed_home: Home, router: RouterServer) -> None:
    cache_of(routed_home, router).save("models", MODELS, time.time())
    run = run_on_terminal(routed_home, "ask", "hi", columns=60, own_stderr=True)
    assert run.status == 0
    assert run.err is not None
    [summary] = [line for line in run.err.lines if line.startswith("anthropic/claude-opus-4-6 · ")]
    assert "$0.00033" in summary
    assert len(summary) <= 60  # one line: the generation id (and more, if need be) left out to fit
    assert "gen-0001" not in summary
