"""`ask --dry-run`: the request as it would be sent (method, URL, headers with the key masked, exact body),
and the proof that it is the request the transport does send: the same headers reach the router."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_KEY, Home
from tests.router_server import RouterServer

ROUTING = [
    "--fallback",
    "a/b",
    "--fallback",
    "c/d",
    "--sort",
    "price",
    "--ttft-timeout",
    "1s",
    "--user",
    "u1",
]


def split(text: str) -> tuple[list[str], str]:
    head, _, rest = text.partition("\n\n")
    return head.splitlines(), rest


def test_the_request_shown_is_the_request_sent(routed_home: Home, router: RouterServer) -> None:
    shown = routed_home.run("ask", "--dry-run", *ROUTING, "héllo")
    assert (shown.returncode, shown.stderr) == (0, "")
    assert TEST_KEY not in shown.stdout
    head, rest = split(shown.stdout)
    assert head == [
        f"POST {router.url}/v1/messages",
        "Authorization: Bearer iw-t...cdef",
        "content-type: application/json",
        "anthropic-version: 2023-06-01",
        "User-Agent: inworld-router/0.1.0",
    ]
    assert "héllo" in rest  # readable, not \\u-escaped
    assert rest.endswith("}\n")
    assert router.requests == []  # a dry run sends nothing

    sent = routed_home.run("ask", *ROUTING, "héllo")
    assert sent.returncode == 0, sent.stderr
    [received] = router.messages_requests
    assert received.json == json.loads(rest)
    lines = dict(received.header_lines)
    for line in head[1:]:
        name, _, value = line.partition(": ")
        expected = value.replace("iw-t...cdef", TEST_KEY)
        assert [v for k, v in received.header_lines if k == name.lower()] == [expected], name
    assert "x-api-key" not in lines


def test_the_anthropic_version_setting_is_shown_and_sent(routed_home: Home, router: RouterServer) -> None:
    env = {"INWORLD_ANTHROPIC_VERSION": "2026-01-01"}
    head, _ = split(routed_home.run("ask", "--dry-run", "hi", env=env).stdout)
    assert head[3] == "anthropic-version: 2026-01-01"
    routed_home.run("ask", "hi", env=env)
    assert router.messages_requests[0].headers["anthropic-version"] == "2026-01-01"


def test_without_a_key_the_header_says_so(home: Home) -> None:
    result = home.run("ask", "--dry-run", "hi")
    assert result.returncode == 0
    assert split(result.stdout)[0][1] == "Authorization: Bearer <none: no API key configured>"


@pytest.mark.parametrize("key", ["abcd", "abcdefgh"])
def test_short_keys_are_masked_too(home: Home, key: str) -> None:
    result = home.run("ask", "--dry-run", "hi", env={"INWORLD_API_KEY": key})
    assert f"Bearer {key}" not in result.stdout
