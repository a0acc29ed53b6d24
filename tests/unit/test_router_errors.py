"""Error bodies, statuses and the retry policy: pure functions, every shape the router may send."""

from __future__ import annotations

import email.utils
import json

import pytest

from inworld_cli.errors import AuthError, CliError, ErrorDetails, ExitStatus, RequestRejected, RouterFailure
from inworld_cli.router.failures import (
    RETRY_AFTER_MAX,
    RETRY_MAX_DELAY,
    ErrorBody,
    event_failure,
    parse_error_body,
    retry_after_seconds,
    retry_delay,
    retryable_status,
    status_failure,
)

BASE = "https://router.example"


def status_error(status: int, headers: dict[str, str], raw: bytes, *, base_url: str) -> CliError:
    return status_failure(status, headers, raw, base_url=base_url).error()


def body(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            body({"type": "error", "error": {"type": "rate_limit_error", "message": "Too many requests"}}),
            ErrorBody(type="rate_limit_error", message="Too many requests"),
        ),
        (
            body({"code": 8, "message": "quota exhausted", "details": [{"@type": "x"}]}),
            ErrorBody(type="RESOURCE_EXHAUSTED", message="quota exhausted"),
        ),
        (body({"code": "unavailable", "message": "down"}), ErrorBody(type="unavailable", message="down")),
        (
            body({"error": {"message": "Invalid model", "type": "invalid_request_error", "code": None}}),
            ErrorBody(type="invalid_request_error", message="Invalid model"),
        ),
        (body({"error": {"message": "no type here"}}), ErrorBody(message="no type here")),
        (body({"error": "plain words"}), ErrorBody(message="plain words")),
        (body({"detail": "Not Found"}), ErrorBody(message="Not Found")),
        (
            body({"type": "error", "error": {"type": "api_error", "message": "x"}, "request_id": "req-b"}),
            ErrorBody(type="api_error", message="x", request_id="req-b"),
        ),
        (b"", ErrorBody(empty=True)),
        (b"  \n", ErrorBody(empty=True)),
        (b"upstream connect error\nor disconnect", ErrorBody(message="upstream connect error or disconnect")),
        (body([1, 2]), ErrorBody(message="[1, 2]")),
    ],
)
def test_error_body_shapes(raw: bytes, expected: ErrorBody) -> None:
    assert parse_error_body(raw, "application/json") == expected


def test_html_pages_give_their_title_never_the_markup() -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>502 Bad\n Gateway</title></head><body><h1>nginx</h1></body></html>"
    assert parse_error_body(page, "text/html") == ErrorBody(html=True, html_title="502 Bad Gateway")
    assert parse_error_body(b"<html><body>oops</body></html>", None) == ErrorBody(html=True)


def test_messages_are_one_line_and_bounded() -> None:
    long = "word " * 200
    parsed = parse_error_body(body({"error": {"type": "x", "message": f"first\nsecond\r\n{long}"}}), None)
    assert parsed.message is not None
    assert "\n" not in parsed.message
    assert parsed.message.startswith("first second word")
    assert len(parsed.message) <= 300


# -- statuses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "exit_status"),
    [
        (400, RequestRejected, ExitStatus.REJECTED),
        (401, AuthError, ExitStatus.AUTH),
        (402, RequestRejected, ExitStatus.REJECTED),
        (403, AuthError, ExitStatus.AUTH),
        (404, RequestRejected, ExitStatus.REJECTED),
        (408, RouterFailure, ExitStatus.ROUTER),
        (413, RequestRejected, ExitStatus.REJECTED),
        (422, RequestRejected, ExitStatus.REJECTED),
        (429, RouterFailure, ExitStatus.ROUTER),
        (500, RouterFailure, ExitStatus.ROUTER),
        (502, RouterFailure, ExitStatus.ROUTER),
        (503, RouterFailure, ExitStatus.ROUTER),
        (529, RouterFailure, ExitStatus.ROUTER),
        (307, RouterFailure, ExitStatus.ROUTER),
    ],
)
def test_status_to_error_class_and_exit_status(status: int, cls: type, exit_status: int) -> None:
    error = status_error(status, {}, body({"error": {"message": "m"}}), base_url=BASE)
    assert type(error) is cls
    assert error.status == exit_status
    assert error.details.status == status


def test_message_names_status_type_text_request_id_and_tries() -> None:
    raw = body({"type": "error", "error": {"type": "rate_limit_error", "message": "Too many requests"}})
    failure = status_failure(429, {"request-id": "req-123"}, raw, base_url=BASE)
    error = failure.error()
    assert error.message == "the router answered 429 rate_limit_error: Too many requests (request id req-123)"
    error = failure.error(tries=3)
    assert error.message == (
        "the router answered 429 rate_limit_error: Too many requests (request id req-123, after 3 tries)"
    )
    assert str(error) == error.message
    assert error.hint == "wait and retry, or raise --retries"
    assert error.details == ErrorDetails(429, "rate_limit_error", "Too many requests", "req-123")
    assert (failure.retryable, failure.reason) == (True, "429 rate_limit_error")


def test_request_id_from_x_request_id_or_the_body() -> None:
    assert status_error(500, {"x-request-id": "x-1"}, b"", base_url=BASE).details.request_id == "x-1"
    raw = body({"type": "error", "error": {"type": "api_error", "message": "m"}, "request_id": "b-1"})
    assert status_error(500, {}, raw, base_url=BASE).details.request_id == "b-1"


def test_html_and_empty_bodies_say_so() -> None:
    page = b"<html><head><title>Bad Gateway</title></head><body>" + b"x" * 5000 + b"</body></html>"
    error = status_error(502, {"content-type": "text/html"}, page, base_url=BASE)
    assert error.message == "the router answered 502 with an HTML error page: Bad Gateway"
    assert "<" not in error.message
    assert status_error(500, {}, b"", base_url=BASE).message == "the router answered 500 with an empty body"


def test_a_redirect_is_reported_not_followed() -> None:
    error = status_error(307, {"location": "https://elsewhere.example/v1/messages"}, b"", base_url=BASE)
    assert "redirect to https://elsewhere.example/v1/messages" in error.message
    assert "not followed" in error.message


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        (401, "inworld-router auth status"),
        (403, "inworld-router auth login"),
        (404, f"check the model name or base URL ({BASE})"),
        (429, "raise --retries"),
        (500, "the router or its upstreams failed"),
        (529, "try again or another model"),
        (402, "billing"),
        (413, "shorten the prompt"),
        (400, "check the request"),
    ],
)
def test_hints(status: int, needle: str) -> None:
    hint = status_error(status, {}, b"", base_url=BASE).hint
    assert hint is not None
    assert needle in hint


@pytest.mark.parametrize(
    ("error_type", "cls", "retryable"),
    [
        ("overloaded_error", RouterFailure, True),
        ("api_error", RouterFailure, True),
        ("rate_limit_error", RouterFailure, True),
        ("invalid_request_error", RequestRejected, False),
        ("authentication_error", AuthError, False),
        ("something_new", RouterFailure, True),
    ],
)
def test_error_events(error_type: str, cls: type, retryable: bool) -> None:
    failure = event_failure({"type": error_type, "message": "Said so"}, request_id="r-9", base_url=BASE)
    error = failure.error()
    assert type(error) is cls
    assert failure.retryable is retryable
    assert error.message == f"the router sent an error: {error_type}: Said so (request id r-9)"
    assert error.details.type == error_type


# -- retries --------------------------------------------------------------------------------------------------


def test_which_statuses_are_retried() -> None:
    assert [
        s for s in (400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 529) if retryable_status(s)
    ] == [
        408,
        429,
        500,
        502,
        503,
        529,
    ]


def test_retry_after_is_obeyed_but_capped() -> None:
    assert retry_delay(1, retry_after=3600) == RETRY_AFTER_MAX == 30
    assert retry_delay(1, retry_after=2.5) == 2.5
    assert retry_delay(2, retry_after=-5) == 0
    assert retry_delay(1, retry_after=float("nan")) == 0.5


def test_backoff_doubles_from_the_base_up_to_a_cap_with_jitter_shortening_at_most_a_quarter() -> None:
    assert [retry_delay(n, retry_after=None) for n in (1, 2, 3, 4, 5, 6, 10)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert retry_delay(3, retry_after=None, jitter=0.999) == pytest.approx(2 * 0.75, rel=0.01)
    assert retry_delay(30, retry_after=None) == RETRY_MAX_DELAY


def test_retry_after_header_forms() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds({"retry-after": "3600"}, now) == 3600
    assert retry_after_seconds({"retry-after": "1.5"}, now) == 1.5
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}, now) == 0.25
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now) == pytest.approx(12)
    assert retry_after_seconds({"retry-after": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None
    assert retry_delay(1, retry_after=retry_after_seconds({"retry-after": "3600"}, now)) == 30
