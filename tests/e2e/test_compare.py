"""`compare` against the local router: the models are asked at once, piped output is one line per model in
-m order, failures keep their place, and a terminal gets the columns and the table."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.conftest import Home
from tests.router_server import Received, Reply, RouterServer, error_reply, json_reply, message
from tests.terminal import run_on_terminal

MODELS = ["openai/gpt-5", "anthropic/claude-opus-4-6", "google-ai-studio/gemini-2.5-flash"]


def model_args(models: list[str]) -> list[str]:
    return [arg for model in models for arg in ("-m", model)]


def answer_when_all_arrived(count: int, fail: dict[str, Reply] | None = None) -> Any:
    """Each answer waits until `count` requests are in flight: asked one after another, the first would
    wait in vain, and the barrier breaks (a 500)."""
    barrier = threading.Barrier(count, timeout=10)

    def respond(request: Received) -> Reply:
        model = request.json["model"]
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return error_reply(500, "the requests did not arrive together")
        if fail and model in fail:
            return fail[model]
        return json_reply(message(f"{model} says hi", model=model))

    return respond


def test_every_model_is_asked_at_once_and_answers_in_m_order(routed_home: Home, router: RouterServer) -> None:
    router.responder = answer_when_all_arrived(3)
    result = routed_home.run("compare", *model_args(MODELS), "-s", "Be brief", "Say hi", "--retries", "0")
    assert (result.returncode, result.stderr) == (0, "")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["id"], line["status"], line["text"], line["model"]) for line in lines] == [
        (model, "ok", f"{model} says hi", model) for model in MODELS
    ]
    assert set(lines[0]) == {
        "id",
        "status",
        "text",
        "model",
        "attempts",
        "generation_id",
        "usage",
        "cost_usd",
        "ttft_ms",
        "total_ms",
        "error",
    }
    bodies = sorted((r.json for r in router.messages_requests), key=lambda body: MODELS.index(body["model"]))
    assert bodies == [
        {
            "model": model,
            "max_tokens": 4096,
            "system": "Be brief",
            "messages": [{"role": "user", "content": "Say hi"}],
            "stream": True,
        }
        for model in MODELS
    ]
    records = json.loads(routed_home.run("history", "--json").stdout)
    assert sorted(r["request"]["model"] for r in records) == sorted(MODELS)
    assert len({r["compare_id"] for r in records}) == 1
    assert records[0]["compare_id"]


def test_a_failure_keeps_its_place_and_exits_7(routed_home: Home, router: RouterServer) -> None:
    rejected = error_reply(404, "no such model", "not_found_error")
    router.responder = answer_when_all_arrived(3, {MODELS[1]: rejected})
    result = routed_home.run("compare", *model_args(MODELS), "hi", input="context")
    assert result.returncode == 7
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["id"], line["status"]) for line in lines] == [
        (MODELS[0], "ok"),
        (MODELS[1], "error"),
        (MODELS[2], "ok"),
    ]
    assert lines[1]["error"] == {
        "status": 404,
        "type": "not_found_error",
        "message": "the router answered 404 not_found_error: no such model (request id req-test-123)",
    }
    assert result.stderr == f"1 of 3 models failed: {MODELS[1]}\n"
    assert router.messages_requests[0].json["messages"] == [{"role": "user", "content": "context\n\nhi"}]


@pytest.mark.parametrize("args", [["-m", "openai/gpt-5", "hi"], ["hi"], ["-m", "a", "-m", " ", "hi"]])
def test_fewer_than_two_models_is_a_usage_error_and_sends_nothing(
    routed_home: Home, router: RouterServer, args: list[str]
) -> None:
    result = routed_home.run("compare", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: ")
    assert router.requests == []


def test_a_refused_key_is_exit_3(routed_home: Home, router: RouterServer) -> None:
    router.responder = lambda request: error_reply(401, "invalid key", "authentication_error")
    result = routed_home.run("compare", "-m", "a", "-m", "b", "hi")
    assert result.returncode == 3
    assert result.stderr.splitlines()[-2].startswith("error: the router answered 401 authentication_error")


@pytest.mark.tty
def test_a_terminal_shows_the_answers_side_by_side_then_the_table(
    routed_home: Home, router: RouterServer
) -> None:
    router.responder = answer_when_all_arrived(3, {MODELS[2]: error_reply(503, "upstream down")})
    run = run_on_terminal(
        routed_home, "compare", *model_args(MODELS), "--retries", "0", "hi", columns=150, rows=30
    )
    assert run.status == 7
    text = run.out.lines
    header = next(line for line in text if "openai/gpt-5" in line and "anthropic/claude-opus-4-6" in line)
    assert "google-ai-studio/gemini-2.5-flash" in header  # one row of three columns
    assert any(
        "openai/gpt-5 says hi" in line and "anthropic/claude-opus-4-6 says hi" in line for line in text
    )
    assert any("✗ the router answered 503 api_error: upstream" in line for line in text)
    table = text[text.index(next(line for line in text if line.startswith("requested"))) :]
    assert table[0].split() == [
        "requested",
        "served",
        "attempts",
        "ttft",
        "total",
        "tokens",
        "tokens/s",
        "cost",
    ]
    assert table[1].startswith("openai/gpt-5")
    assert table[3].startswith("google-ai-studio/gemini-2.5-flash")
    assert table[3].endswith("✗ failed")
    assert sum("fastest" in line for line in table) == 1
