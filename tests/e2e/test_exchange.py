"""The exchange engine against the local router over real loopback HTTP: what leaves the machine, what
comes back, and every way it can fail. In-process, with waits that return at once and tiny timeouts."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from inworld_cli.environment import Environment
from inworld_cli.errors import (
    LOGIN_HINT,
    AuthError,
    CliError,
    ExitStatus,
    NetworkFailure,
    RequestRejected,
    RouterFailure,
    UsageError,
)
from inworld_cli.output.console import Output, Streams
from inworld_cli.router.exchange import (
    BlockStarted,
    Event,
    Exchange,
    ExchangeRequest,
    ExchangeResult,
    Finished,
    RetryNotice,
    TextDelta,
)
from inworld_cli.router.failures import PROXY_VARIABLES
from inworld_cli.router.transport import Endpoint, Transport
from inworld_cli.store.settings import Overrides, Paths, Setting, Settings, resolve
from tests.conftest import TEST_KEY, InstantClock, closed_port
from tests.router_server import (
    DEFAULT_METADATA,
    FAILOVER_METADATA,
    Received,
    Reply,
    RouterServer,
    error_reply,
    json_reply,
    message,
    sse_events,
    sse_reply,
)
from tests.workers import wait_until

BODY: dict[str, Any] = {
    "model": "auto",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello?"}],
}


@pytest.fixture(autouse=True)
def no_anthropic_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "config", tmp_path / "state", tmp_path / "cache")


def settings_for(
    paths: Paths,
    base_url: str,
    key: str | None = TEST_KEY,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    full_env = {**({"INWORLD_API_KEY": key} if key else {}), **(env or {})}
    return resolve(Overrides(base_url=base_url, **overrides), full_env, paths)


@dataclass
class Seen:
    """What the callbacks received."""

    texts: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def exchange(settings: Settings, seen: Seen, *, stream: bool, body: dict[str, Any] | None) -> ExchangeResult:
    """One exchange, its events collected into `seen`; its result."""
    streams = Streams(io.BytesIO(), Output(io.StringIO()), io.StringIO(), env=dict(os.environ))
    env = Environment(streams, settings.paths, clock=InstantClock(), jitter=lambda: 0.0)
    request = ExchangeRequest(
        env.endpoint(settings), {**(body or BODY), "stream": stream}, settings.retries.value
    )
    try:
        for event in env.exchange(request).events():
            if isinstance(event, TextDelta):
                seen.texts.append(event.text)
            elif isinstance(event, RetryNotice):
                seen.notices.append(event.text)
            elif isinstance(event, BlockStarted):
                seen.blocks.append(event.block_type)
            elif isinstance(event, Finished):
                return event.result
    finally:
        env.close()
    raise AssertionError("no Finished event")


def send(
    settings: Settings, seen: Seen, *, stream: bool = True, body: dict[str, Any] | None = None
) -> ExchangeResult:
    result = exchange(settings, seen, stream=stream, body=body)
    assert result.error is None, result.error.message
    assert result.message is not None
    return result


@dataclass
class Failed:
    """A failed exchange: its error, and what its result kept of the answer."""

    error: CliError
    result: ExchangeResult

    def __getattr__(self, name: str) -> Any:
        return getattr(self.error, name)

    def __str__(self) -> str:
        return str(self.error)

    @property
    def details(self) -> dict[str, Any]:
        return self.error.details.to_json()

    @property
    def partial(self) -> dict[str, Any] | None:
        return self.result.message

    @property
    def ttft_ms(self) -> float | None:
        return self.result.ttft_ms

    @property
    def total_ms(self) -> float:
        return self.result.total_ms


def fail(settings: Settings, seen: Seen, *, stream: bool = True) -> Failed:
    try:
        result = exchange(settings, seen, stream=stream, body=None)
    except CliError as error:  # before any request: no key
        return Failed(error, ExchangeResult(None, complete=False, error=error))
    assert result.error is not None
    return Failed(result.error, result)


# -- answers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("placement", ["start", "delta", "stop", "own"])
def test_stream_gives_text_as_it_comes_and_metadata_from_any_placement(
    router: RouterServer, paths: Paths, placement: str
) -> None:
    router.enqueue(
        sse_reply(sse_events("Neural networks learn.", metadata=FAILOVER_METADATA, metadata_in=placement))
    )
    seen = Seen()
    outcome = send(settings_for(paths, router.url), seen)
    assert seen.text == "Neural networks learn."
    assert len(seen.texts) > 1  # delta by delta, not all at the end
    assert outcome.message["metadata"] == FAILOVER_METADATA
    assert outcome.message["content"] == [{"type": "text", "text": "Neural networks learn."}]
    assert outcome.message["stop_reason"] == "end_turn"
    assert outcome.request_id == "req-test-123"
    assert outcome.complete
    assert outcome.tries == 1
    assert outcome.ttft_ms is not None
    assert 0 <= outcome.ttft_ms <= outcome.total_ms
    assert seen.notices == seen.blocks == []


def test_the_body_is_sent_exactly_with_stream_set(router: RouterServer, paths: Paths) -> None:
    body = {
        **BODY,
        "system": "Be brief.",
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "extra_body": {"models": ["openai/gpt-5"], "sort": ["latency"]},
        "user": "u-1",
        "unicode": "héllo ✓",
    }
    send(settings_for(paths, router.url), Seen(), body=body)
    send(settings_for(paths, router.url), Seen(), body=body, stream=False)
    first, second = router.messages_requests
    assert first.method == "POST"
    assert first.path == "/v1/messages"
    assert first.json == {**body, "stream": True}
    assert second.json == {**body, "stream": False}


def test_non_stream_returns_the_json_as_received(router: RouterServer, paths: Paths) -> None:
    reply = message("Whole answer", metadata=DEFAULT_METADATA)
    reply["x_router_extra"] = {"kept": True}
    reply["id"] = "msg-hyphen-id"
    router.enqueue(json_reply(reply))
    seen = Seen()
    outcome = send(settings_for(paths, router.url), seen, stream=False)
    assert outcome.message == reply
    assert seen.texts == ["Whole answer"]
    assert outcome.ttft_ms is not None


def test_a_json_answer_to_a_stream_request_is_taken_as_the_message(
    router: RouterServer, paths: Paths
) -> None:
    router.enqueue(json_reply(message("From a buffering proxy")))
    seen = Seen()
    outcome = send(settings_for(paths, router.url), seen)
    assert seen.texts == ["From a buffering proxy"]
    assert outcome.message["metadata"] == DEFAULT_METADATA


def test_events_sent_without_the_event_stream_type_are_still_read(router: RouterServer, paths: Paths) -> None:
    raw = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in sse_events("Typed wrong")).encode()
    router.enqueue(Reply(kind="raw", body=raw, content_type="text/plain"))
    seen = Seen()
    outcome = send(settings_for(paths, router.url), seen)
    assert seen.text == "Typed wrong"
    assert outcome.message["metadata"] == DEFAULT_METADATA


def test_non_text_blocks_are_reported_not_printed(router: RouterServer, paths: Paths) -> None:
    blocks = [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "redacted_thinking", "data": "x"},
    ]
    router.enqueue(sse_reply(sse_events("Answer", extra_blocks=blocks)))
    seen = Seen()
    outcome = send(settings_for(paths, router.url), seen)
    assert seen.text == "Answer"
    assert seen.blocks == ["thinking", "redacted_thinking"]
    assert [b["type"] for b in outcome.message["content"]] == ["thinking", "redacted_thinking", "text"]
    content = [*blocks, {"type": "text", "text": "Answer"}]
    router.enqueue(json_reply(message(content=content)))
    seen = Seen()
    send(settings_for(paths, router.url), seen, stream=False)
    assert (seen.texts, seen.blocks) == (["Answer"], ["thinking", "redacted_thinking"])


# -- only our key, only to our URL -----------------------------------------------------------------------------


def hostile_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Everything that steers or feeds the SDK when nobody stops it (see sdk-notes.md)."""
    config = home / ".config" / "anthropic"
    (config / "configs").mkdir(parents=True)
    (config / "credentials").mkdir()
    (config / "configs" / "default.json").write_text(
        json.dumps(
            {
                "authentication": {"type": "user_oauth"},
                "base_url": f"http://127.0.0.1:{closed_port()}",
                "workspace_id": "wrk-evil",
            }
        )
    )
    token = config / "credentials" / "default.json"
    token.write_text(
        json.dumps({"type": "oauth_token", "access_token": "sk-ant-oat-evil", "expires_at": 4102444800})
    )
    token.chmod(0o600)
    (config / "active_config").write_text("default\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api-evil")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "sk-ant-token-evil")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv(
        "ANTHROPIC_CUSTOM_HEADERS",
        "x-api-key: sk-ant-evil\nAuthorization: Bearer sk-ant-header-evil\nanthropic-version: 1999-01-01\nX-Evil: 1",
    )
    monkeypatch.setenv("ANTHROPIC_PROFILE", "default")
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content")


def test_the_environment_really_is_hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A plain SDK client in this environment would leak: so the next test proves something."""
    import anthropic

    hostile_environment(monkeypatch, tmp_path)
    naive = anthropic.Anthropic()
    assert naive.api_key == "sk-ant-api-evil"
    assert str(naive.base_url).startswith("http://127.0.0.1:")
    assert naive.default_headers["x-api-key"] == "sk-ant-evil"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN")
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    from_profile = anthropic.Anthropic()
    assert from_profile.credentials is not None
    assert from_profile.default_headers["anthropic-workspace-id"] == "wrk-evil"


def test_only_our_bearer_key_reaches_only_our_url_in_a_hostile_environment(
    router: RouterServer, paths: Paths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hostile_environment(monkeypatch, tmp_path / "home")
    outcome = send(settings_for(paths, router.url), Seen())
    assert outcome.message["content"][0]["text"] == "Hello!"
    [request] = router.requests
    names = [name for name, _ in request.header_lines]
    assert names.count("authorization") == 1
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert "x-api-key" not in names
    assert "x-evil" not in names
    assert "anthropic-workspace-id" not in names
    assert not any("evil" in value for _, value in request.header_lines)
    assert request.headers["anthropic-version"] == "2023-06-01"  # ours, not ANTHROPIC_CUSTOM_HEADERS' 1999
    assert request.headers["user-agent"] == "inworld-router/0.1.0"
    assert not any(name.startswith("traceparent") for name in names)


def with_base_url(settings: Settings, url: str) -> Settings:
    # Settings refuse such a URL (exit 2); the client must still be safe if one ever reaches it.
    return dataclasses.replace(settings, base_url=Setting(url, "test"))


def test_credentials_in_the_base_url_never_replace_our_key(router: RouterServer, paths: Paths) -> None:
    with pytest.raises(UsageError, match="credentials in a URL"):
        settings_for(paths, router.url.replace("http://", "http://user:secret@"))
    send(
        with_base_url(settings_for(paths, router.url), router.url.replace("http://", "http://user:secret@")),
        Seen(),
    )
    assert [value for name, value in router.requests[0].header_lines if name == "authorization"] == [
        f"Bearer {TEST_KEY}"
    ]
    port = closed_port()
    error = fail(
        with_base_url(settings_for(paths, router.url, retries=0), f"http://user:secret@127.0.0.1:{port}"),
        Seen(),
    )
    assert "secret" not in error.message
    assert "secret" not in (error.hint or "")


def test_the_anthropic_version_setting_is_sent(router: RouterServer, paths: Paths) -> None:
    settings = settings_for(paths, router.url, env={"INWORLD_ANTHROPIC_VERSION": "2023-06-01"})
    send(settings, Seen())
    assert router.requests[0].headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize("key", [None, "   "])
def test_no_key_is_an_auth_error_before_any_request(
    router: RouterServer, paths: Paths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str | None
) -> None:
    hostile_environment(monkeypatch, tmp_path / "home")  # keys galore, none of them ours
    settings = settings_for(paths, router.url, key=None, env={"INWORLD_API_KEY": key} if key else None)
    assert settings.api_key.value is None
    error = fail(settings, Seen())
    assert isinstance(error.error, AuthError)
    assert error.status == ExitStatus.AUTH
    assert error.hint == LOGIN_HINT
    assert router.requests == []


def test_a_key_echoed_by_the_router_is_masked(router: RouterServer, paths: Paths) -> None:
    router.enqueue(error_reply(401, f"invalid key {TEST_KEY}", "authentication_error"))
    error = fail(settings_for(paths, router.url), Seen())
    assert TEST_KEY not in error.message
    assert TEST_KEY not in str(error)
    assert TEST_KEY not in json.dumps(error.details)
    assert TEST_KEY not in json.dumps(error.partial)
    assert "****" in error.message


def test_a_redirect_is_not_followed(router: RouterServer, paths: Paths) -> None:
    elsewhere = RouterServer()
    try:
        location = f"{elsewhere.url}/v1/messages"
        router.enqueue(Reply(kind="raw", status=307, body=b"", headers={"location": location}))
        error = fail(settings_for(paths, router.url), Seen())
        assert isinstance(error.error, RouterFailure)
        assert "not followed" in error.message
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


# -- statuses, retries ------------------------------------------------------------------------------------------

HTML_502 = Reply(
    kind="raw",
    status=502,
    body=b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
)


@pytest.mark.parametrize(
    ("reply", "cls", "exit_status", "needle"),
    [
        (error_reply(400, "max_tokens too large", "invalid_request_error"), RequestRejected, 4, "400 invalid_request_error"),
        (error_reply(401, "bad key", "authentication_error"), AuthError, 3, "401 authentication_error: bad key"),
        (json_reply({"code": 9, "message": "no credits", "details": []}, status=402), RequestRejected, 4, "402 FAILED_PRECONDITION"),
        (error_reply(403, "forbidden", "permission_error"), AuthError, 3, "403 permission_error"),
        (json_reply({"error": {"message": "model not found"}}, status=404), RequestRejected, 4, "404: model not found"),
        (error_reply(413, "too big", "request_too_large"), RequestRejected, 4, "413 request_too_large"),
        (error_reply(429, "Too many requests", "rate_limit_error"), RouterFailure, 5, "429 rate_limit_error"),
        (error_reply(500, "boom"), RouterFailure, 5, "500 api_error: boom"),
        (HTML_502, RouterFailure, 5, "502 with an HTML error page: 502 Bad Gateway"),
        (error_reply(529, "Overloaded", "overloaded_error"), RouterFailure, 5, "529 overloaded_error"),
        (Reply(kind="raw", status=200, body=b"not json at all", content_type="text/plain"), RouterFailure, 5,
         "200 with something that is not a message: “not json at all”"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("stream", [True, False])
def test_each_status_maps_to_its_error(
    router: RouterServer, paths: Paths, reply: Reply, cls: type, exit_status: int, needle: str, stream: bool
) -> None:
    router.enqueue(reply)
    seen = Seen()
    error = fail(settings_for(paths, router.url, retries=0), seen, stream=stream)
    assert type(error.error) is cls
    assert error.status == exit_status
    assert needle in error.message
    assert "\n" not in error.message
    assert "<" not in error.message
    assert error.hint
    assert error.details["request_id"] == "req-test-123"
    assert seen.texts == []
    assert len(router.messages_requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 503, 529])
def test_retryable_statuses_are_retried_then_reported(
    router: RouterServer, paths: Paths, status: int
) -> None:
    router.enqueue(*[error_reply(status, "busy") for _ in range(3)])
    seen = Seen()
    error = fail(settings_for(paths, router.url, retries=2), seen)
    assert isinstance(error.error, RouterFailure)
    assert len(router.messages_requests) == 3
    assert len(seen.notices) == 2
    assert seen.notices == [
        f"retrying in 0.5 s after {status} api_error (retry 1 of 2)",
        f"retrying in 1.0 s after {status} api_error (retry 2 of 2)",
    ]
    assert "after 3 tries" in error.message


def test_a_retry_that_succeeds_returns_the_answer(router: RouterServer, paths: Paths) -> None:
    router.enqueue(error_reply(503, "busy"), sse_reply())
    seen = Seen()
    outcome = send(settings_for(paths, router.url, retries=2), seen)
    assert seen.text == "Hello!"
    assert outcome.tries == 2
    assert len(seen.notices) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_client_errors_are_never_retried(router: RouterServer, paths: Paths, status: int) -> None:
    router.enqueue(error_reply(status, "no"), sse_reply())
    seen = Seen()
    fail(settings_for(paths, router.url, retries=3), seen)
    assert len(router.messages_requests) == 1
    assert seen.notices == []


def test_retry_after_is_read_from_the_response(router: RouterServer, paths: Paths) -> None:
    # A zero retry-after where the backoff would wait 0.5 s: the notice shows the server's wait won.
    router.enqueue(
        error_reply(429, "slow down", "rate_limit_error", headers={"retry-after": "0"}), sse_reply()
    )
    seen = Seen()
    send(settings_for(paths, router.url, retries=1), seen)
    assert seen.notices == ["retrying in 0.0 s after 429 rate_limit_error (retry 1 of 1)"]


def test_an_error_event_before_any_text_is_retried_but_not_after(router: RouterServer, paths: Paths) -> None:
    overloaded = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    router.enqueue(sse_reply([sse_events()[0], overloaded]), sse_reply())
    seen = Seen()
    send(settings_for(paths, router.url, retries=1), seen)
    assert seen.text == "Hello!"
    assert seen.notices == ["retrying in 0.5 s after an overloaded_error event (retry 1 of 1)"]

    events = sse_events("Half an answer")
    router.enqueue(sse_reply([*events[:5], overloaded]))
    seen = Seen()
    error = fail(settings_for(paths, router.url, retries=2), seen)
    assert isinstance(error.error, RouterFailure)
    assert error.message == "the router sent an error: overloaded_error: Overloaded (request id req-test-123)"
    assert seen.notices == []
    assert error.partial is not None
    assert error.partial["content"][0]["text"] == seen.text != ""


# -- broken answers -------------------------------------------------------------------------------------------


def test_a_cut_stream_fails_with_the_partial_answer_and_is_not_retried(
    router: RouterServer, paths: Paths
) -> None:
    router.enqueue(sse_reply(sse_events("This answer will be cut short"), cut_after=6), sse_reply())
    seen = Seen()
    error = fail(settings_for(paths, router.url, retries=2), seen)
    assert isinstance(error.error, RouterFailure)
    assert error.status == ExitStatus.ROUTER
    assert error.message.startswith("the connection broke mid-stream")
    assert seen.text
    assert "This answer will be cut short".startswith(seen.text)
    assert error.partial is not None
    assert error.partial["content"][0]["text"] == seen.text
    assert error.ttft_ms is not None
    assert error.total_ms is not None
    assert len(router.messages_requests) == 1


def test_a_stream_without_message_stop_fails_with_the_partial_answer(
    router: RouterServer, paths: Paths
) -> None:
    router.enqueue(sse_reply(sse_events("Almost done", stop=False, metadata_in="delta")))
    seen = Seen()
    error = fail(settings_for(paths, router.url), seen)
    assert isinstance(error.error, RouterFailure)
    assert error.message == "the stream ended before message_stop (request id req-test-123)"
    assert seen.text == "Almost done"
    assert error.partial is not None
    assert error.partial["content"][0]["text"] == "Almost done"
    assert error.partial["metadata"] == DEFAULT_METADATA


def test_a_stalled_stream_is_a_timeout_with_the_partial_answer(router: RouterServer, paths: Paths) -> None:
    router.enqueue(sse_reply(sse_events("Stalls midway"), stall_after=5))
    seen = Seen()
    error = fail(settings_for(paths, router.url, timeout=0.3), seen)
    assert isinstance(error.error, NetworkFailure)
    assert error.status == ExitStatus.NETWORK
    assert error.message == "the stream stalled: nothing arrived for 0.3 s (request id req-test-123)"
    assert error.hint == "raise --timeout (now 0.3 s)"
    assert error.partial is not None
    assert seen.text
    assert error.partial["content"][0]["text"] == seen.text


@pytest.mark.parametrize("stream", [True, False])
def test_no_answer_within_the_timeout_is_a_network_failure(
    router: RouterServer, paths: Paths, stream: bool
) -> None:
    router.enqueue(Reply(kind="json", body=message(), delay=5))
    error = fail(settings_for(paths, router.url, timeout=0.3, retries=2), Seen(), stream=stream)
    assert isinstance(error.error, NetworkFailure)
    assert error.message == "no answer from the router within 0.3 s"
    assert len(router.messages_requests) == 1


def test_the_final_error_says_how_many_tries_were_made(router: RouterServer, paths: Paths) -> None:
    router.enqueue(error_reply(503, "busy"), Reply(kind="json", body=message(), delay=5))
    error = fail(settings_for(paths, router.url, timeout=0.3, retries=2), Seen())
    assert isinstance(error.error, NetworkFailure)
    assert error.message == "no answer from the router within 0.3 s (after 2 tries)"


def test_an_error_in_a_200_is_an_error_not_an_empty_answer(router: RouterServer, paths: Paths) -> None:
    router.enqueue(
        json_reply({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    )
    seen = Seen()
    error = fail(settings_for(paths, router.url, retries=0), seen)
    assert isinstance(error.error, RouterFailure)
    assert error.message == "the router sent an error: overloaded_error: Overloaded (request id req-test-123)"
    router.enqueue(json_reply({"code": 13, "message": "internal"}))
    error = fail(settings_for(paths, router.url, retries=0), seen, stream=False)
    assert isinstance(error.error, RouterFailure)
    assert (
        error.message == "the router answered 200 with an error: INTERNAL: internal (request id req-test-123)"
    )
    assert seen.texts == []


def test_a_malformed_event_is_a_router_failure(router: RouterServer, paths: Paths) -> None:
    router.enqueue(
        Reply(kind="raw", body=b"event: message_start\ndata: {oops\n\n", content_type="text/event-stream")
    )
    error = fail(settings_for(paths, router.url), Seen())
    assert isinstance(error.error, RouterFailure)
    assert (
        error.message == "the router sent a malformed 'message_start' event: {oops (request id req-test-123)"
    )


def test_connection_refused_is_a_network_failure_after_retries(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    url = f"http://127.0.0.1:{closed_port()}"
    seen = Seen()
    error = fail(settings_for(paths, url, retries=1), seen)
    assert isinstance(error.error, NetworkFailure)
    assert error.status == ExitStatus.NETWORK
    assert error.message == f"cannot connect to {url}: connection refused (after 2 tries)"
    assert error.hint == f"check the network and --base-url ({url})"
    assert seen.notices == ["retrying in 0.5 s after connection refused (retry 1 of 1)"]


def test_an_unresolvable_host_is_a_network_failure(paths: Paths) -> None:
    error = fail(settings_for(paths, "http://no-such-host.invalid", retries=0), Seen())
    assert isinstance(error.error, NetworkFailure)
    assert "cannot connect to http://no-such-host.invalid" in error.message


def test_a_cancel_before_the_router_answers_reads_none_of_the_answer(router: RouterServer) -> None:
    """The HTTP call cannot be cut short before the answer's headers arrive (the warm worker's thread then
    waits for them), but nothing that arrives after a cancel is read: when it was cancelled, nothing had."""
    answer = threading.Event()

    def held(request: Received) -> Reply:
        answer.wait(60)
        return sse_reply(sse_events(chunks=["too ", "late"]))

    router.responder = held
    request = ExchangeRequest(Endpoint(router.url, TEST_KEY, 30.0), {**BODY, "stream": True})
    engine = Exchange(request, Transport(), InstantClock())
    events: list[Event] = []
    consumer = threading.Thread(target=lambda: events.extend(engine.events()))
    consumer.start()
    try:
        wait_until(lambda: len(router.messages_requests) == 1, "the request to reach the router")
        engine.cancel()
    finally:
        answer.set()
    consumer.join(30)
    [finished] = events
    assert isinstance(finished, Finished)
    result = finished.result
    assert (result.message, result.interrupted, result.ttft_ms, result.request_id) == (None, True, None, None)


# -- the SDK import ---------------------------------------------------------------------------------------------


def test_preloading_the_sdk_is_idempotent() -> None:
    transport = Transport()
    transport.preload()
    transport.preload()
    import anthropic

    assert anthropic.Anthropic


def test_a_broken_sdk_is_a_normal_error_not_a_thread_traceback(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        class Broken(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "anthropic":
                    raise ImportError("simulated broken install")

        sys.meta_path.insert(0, Broken())
        import threading, time
        from inworld_cli.router.exchange import Exchange, ExchangeRequest
        from inworld_cli.router.transport import Endpoint, Transport

        class Clock:
            monotonic, time = time.monotonic, time.time
            def wait(self, event, seconds):
                return event.is_set()

        transport = Transport()
        transport.preload()
        request = ExchangeRequest(Endpoint("http://127.0.0.1:9", "k-12345678", 5.0), {})
        *_, finished = Exchange(request, transport, Clock()).events()
        error = finished.result.error
        print(type(error).__name__, int(error.status), error.message)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.stdout.strip() == (
        "LocalError 1 cannot load the Anthropic SDK: ImportError: simulated broken install"
    )
    assert result.stderr == ""
