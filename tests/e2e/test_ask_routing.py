"""Routing options and --dry-run on `ask`, end to end: what is printed, and what the router receives."""

from __future__ import annotations

import json

from tests.conftest import TEST_KEY, Home
from tests.router_server import RouterServer

FLAGS = [
    "--fallback", "openai/gpt-5",
    "--fallback", "google-ai-studio/gemini-2.5-flash",
    "--sort", "price", "--sort", "latency",
    "--ignore", "groq",
    "--ttft-timeout", "1.5s",
    "--route-meta", "tier=gold",
    "--user", "user-42",
]  # fmt: skip

EXPECTED_ROUTING = {
    "models": ["openai/gpt-5", "google-ai-studio/gemini-2.5-flash"],
    "sort": ["price", "latency"],
    "ignore": ["groq"],
    "fallback": {"ttft_timeout": "1.5s"},
    "metadata": {"tier": "gold"},
}


def test_dry_run_prints_the_request_and_sends_nothing(routed_home: Home, router: RouterServer) -> None:
    result = routed_home.run("ask", *FLAGS, "--dry-run", "hello there")
    assert result.returncode == 0, result.stderr
    head, _, body_text = result.stdout.partition("\n\n")
    assert head.splitlines()[0] == f"POST {router.url}/v1/messages"
    assert f"Authorization: Bearer {TEST_KEY[:4]}...{TEST_KEY[-4:]}" in head
    assert TEST_KEY not in result.stdout + result.stderr
    body = json.loads(body_text)
    assert body["extra_body"] == EXPECTED_ROUTING
    assert body["user"] == "user-42"
    assert body["messages"] == [{"role": "user", "content": "hello there"}]
    assert router.requests == []
    assert routed_home.run("history", "--json").stdout.strip() in ("", "[]")


def test_routing_flags_reach_the_router_as_a_literal_extra_body(
    routed_home: Home, router: RouterServer
) -> None:
    result = routed_home.run("ask", *FLAGS, "hello")
    assert result.returncode == 0, result.stderr
    sent = router.messages_requests[0].json
    assert sent["extra_body"] == EXPECTED_ROUTING
    assert sent["user"] == "user-42"
    plain = routed_home.run("ask", "hello")
    assert plain.returncode == 0
    assert "extra_body" not in router.messages_requests[1].json
    assert "user" not in router.messages_requests[1].json


def test_profile_defaults_apply_and_flags_replace_them(routed_home: Home, router: RouterServer) -> None:
    (routed_home.config_dir / "config.toml").write_text(
        '[profiles.default]\nfallback = ["a/one", "a/two"]\nsort = ["coding"]\n'
        'ttft_timeout = "800ms"\n[profiles.default.route_meta]\nteam = "search"\n'
    )
    assert routed_home.run("ask", "hi").returncode == 0
    assert router.messages_requests[0].json["extra_body"] == {
        "models": ["a/one", "a/two"],
        "sort": ["coding"],
        "fallback": {"ttft_timeout": "800ms"},
        "metadata": {"team": "search"},
    }
    assert routed_home.run("ask", "--fallback", "b/only", "hi").returncode == 0
    assert router.messages_requests[1].json["extra_body"]["models"] == ["b/only"]


def test_bad_routing_values_are_usage_errors_before_anything_is_sent(
    routed_home: Home, router: RouterServer
) -> None:
    cases = [
        (["--sort", "cheapest"], "--sort"),
        (["--ttft-timeout", "100ms"], "--ttft-timeout"),
        (["--ttft-timeout", "soon"], "--ttft-timeout"),
        (["--route-meta", "novalue"], "--route-meta"),
    ]
    for flags, named in cases:
        result = routed_home.run("ask", *flags, "hi")
        assert result.returncode == 2, (flags, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 2
        assert named in lines[0]
        assert lines[1].startswith("hint: ")
    assert router.requests == []
