"""What the router's failures mean: error bodies to one-line messages, statuses to exit statuses and
hints, and which failures are retried after how long. Pure: no IO, no SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inworld_cli.errors import (
    LOGIN_HINT,
    AuthError,
    CliError,
    LocalError,
    NetworkFailure,
    RequestRejected,
    RouterFailure,
)


def _suffix(request_id: str | None, tries: int) -> str:
    parts = []
    if request_id:
        parts.append(f"request id {request_id}")
    if tries > 1:
        parts.append(f"after {tries} tries")
    return f" ({', '.join(parts)})" if parts else ""


# ---------------------------------------------------------------------------------------------------------
# The errors send_message raises: the usual CliError classes, carrying what history records.


class RequestFailed(CliError):
    """Base of every error `client.send_message` raises.

    details: {"status", "type", "message", "request_id"} for the history record (the router's own
    message when it sent one); partial: the message assembled from what arrived before the failure
    (streams only); ttft_ms / total_ms: the client's timings, set by send_message.
    """

    def __init__(
        self,
        what: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        error_type: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(what + _suffix(request_id, 1), hint)
        self.what = what
        self.details: dict[str, Any] = {
            "status": status,
            "type": error_type,
            "message": detail if detail is not None else what,
            "request_id": request_id,
        }
        self.partial: dict[str, Any] | None = None
        self.ttft_ms: float | None = None
        self.total_ms: float | None = None

    def note_tries(self, tries: int) -> None:
        """Say how many requests were made, next to the request id: `(request id r-1, after 3 tries)`."""
        self.message = self.what + _suffix(self.details["request_id"], tries)
        self.args = (self.message,)


class AuthFailed(RequestFailed, AuthError):
    """No key, or the router answered 401/403 (exit 3)."""


class Rejected(RequestFailed, RequestRejected):
    """Any other 4xx (exit 4)."""


class RouterFailed(RequestFailed, RouterFailure):
    """408, 429, 5xx, 529 after retries; a malformed, cut-off or unexpected answer (exit 5)."""


class NetworkFailed(RequestFailed, NetworkFailure):
    """Cannot connect, DNS, TLS, or a timeout (exit 6)."""


class SdkUnavailable(RequestFailed, LocalError):
    """The Anthropic SDK cannot be imported: a broken installation (exit 1)."""


# ---------------------------------------------------------------------------------------------------------
# Error bodies

_GRPC_CODES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}

# Anthropic error types, as an `error` event names them, to the HTTP status they stand for.
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

MESSAGE_LIMIT = 300


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Whitespace runs (newlines included) to one space, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ErrorBody:
    """What an error body said, whatever its shape."""

    type: str | None = None
    message: str | None = None
    request_id: str | None = None
    html: bool = False
    html_title: str | None = None
    empty: bool = False


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return one_line(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_json_error(data: object) -> ErrorBody | None:
    """The error in a JSON body of one of the known shapes, or None when it holds no error message.

    Shapes: Anthropic `{"type": "error", "error": {"type", "message"}}`; gRPC-style `{"code", "message",
    "details"}`; OpenAI-style `{"error": {"message", "type"|"code"}}` or `{"error": "text"}`; and a bare
    `{"message"}` / `{"detail"}`.
    """
    if not isinstance(data, dict):
        return None
    request_id = _text(data.get("request_id"))
    error = data.get("error")
    if isinstance(error, dict):
        kind = _text(error.get("type")) or _grpc_name(error.get("code")) or _text(error.get("status"))
        message = _text(error.get("message"))
        if message or kind:
            return ErrorBody(type=kind, message=message, request_id=request_id)
    elif isinstance(error, str) and error.strip():
        kind = _text(data.get("type")) if data.get("type") != "error" else None
        return ErrorBody(type=kind, message=one_line(error), request_id=request_id)
    message = _text(data.get("message")) or _text(data.get("detail"))
    if message:
        kind = _grpc_name(data.get("code")) or _text(data.get("status"))
        if data.get("type") not in (None, "error", "message"):
            kind = _text(data.get("type")) or kind
        return ErrorBody(type=kind, message=message, request_id=request_id)
    return None


def _grpc_name(code: object) -> str | None:
    if isinstance(code, int) and not isinstance(code, bool):
        return _GRPC_CODES.get(code, str(code))
    return _text(code)


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def parse_error_body(body: bytes, content_type: str | None) -> ErrorBody:
    """Parse any error body: one of the JSON shapes, an HTML page (its title only), or plain text."""
    stripped = body.strip()
    if not stripped:
        return ErrorBody(empty=True)
    try:
        data = json.loads(stripped)
    except ValueError:
        data = None
    else:
        parsed = parse_json_error(data)
        if parsed is not None:
            return parsed
        return ErrorBody(message=one_line(stripped.decode("utf-8", "replace"), 200))
    lowered = stripped[:200].lower()
    if "html" in (content_type or "").lower() or lowered.startswith(
        (b"<!doctype", b"<html", b"<head", b"<body")
    ):
        match = _TITLE.search(stripped[:4096])
        title = one_line(_TAG.sub("", match.group(1).decode("utf-8", "replace")), 80) if match else None
        return ErrorBody(html=True, html_title=title or None)
    return ErrorBody(message=one_line(stripped.decode("utf-8", "replace"), 200))


# ---------------------------------------------------------------------------------------------------------
# Statuses to errors


def request_id_of(headers: Mapping[str, str]) -> str | None:
    return headers.get("request-id") or headers.get("x-request-id") or None


def status_hint(status: int, base_url: str) -> str:
    if status in (401, 403):
        return f"check the key: inworld-router auth status; or {LOGIN_HINT}"
    if status == 404:
        return f"check the model name or base URL ({base_url})"
    if status == 429:
        return "wait and retry, or raise --retries"
    if status == 408 or status >= 500:
        return "the router or its upstreams failed; try again or another model"
    if status == 402:
        return "check the account's credits and billing in the Inworld Portal"
    if status == 413:
        return "the request is too large: shorten the prompt or lower --max-tokens"
    if 300 <= status < 400:
        return f"check --base-url ({base_url}): use the address it redirects to, if you trust it"
    return "check the request: model name and parameters"


PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def network_hint(base_url: str, env: Mapping[str, str]) -> str:
    """What to check when the router cannot be reached; says so when a proxy variable is set, since the
    CLI never uses one (the key goes to the base URL only) and that may be why."""
    hint = f"check the network and --base-url ({base_url})"
    proxies = [name for name in PROXY_VARIABLES if env.get(name)]
    if proxies:
        hint += f"; {proxies[0]} is set, but inworld-router never uses a proxy: it connects directly"
    return hint


def _class_for(status: int) -> type[RequestFailed]:
    if status in (401, 403):
        return AuthFailed
    if 400 <= status < 500 and status not in (408, 429):
        return Rejected
    return RouterFailed


def status_error(status: int, headers: Mapping[str, str], body: bytes, *, base_url: str) -> RequestFailed:
    """The error for an HTTP error status: class by status, message from the body, one line."""
    content_type = headers.get("content-type")
    parsed = parse_error_body(body, content_type)
    request_id = request_id_of(headers) or parsed.request_id
    what = f"the router answered {status}"
    if 300 <= status < 400:
        location = one_line(headers.get("location") or "elsewhere", 120)
        what += f", a redirect to {location}; not followed, so the key goes only to the base URL"
    elif parsed.html:
        what += " with an HTML error page" + (f": {parsed.html_title}" if parsed.html_title else "")
    elif parsed.empty:
        what += " with an empty body"
    else:
        what += (f" {parsed.type}" if parsed.type else "") + (f": {parsed.message}" if parsed.message else "")
    cls = _class_for(status)
    return cls(
        what,
        status_hint(status, base_url),
        status=status,
        error_type=parsed.type,
        detail=parsed.message or what,
        request_id=request_id,
    )


def event_error(
    error: Mapping[str, Any], *, request_id: str | None, base_url: str
) -> tuple[RequestFailed, bool]:
    """The error for an SSE `error` event, and whether it may be retried (when no text was shown yet)."""
    parsed = parse_json_error({"error": dict(error)}) or ErrorBody()
    status = ERROR_TYPE_STATUS.get(parsed.type or "", 500)
    what = "the router sent an error" + (f": {parsed.type}" if parsed.type else "")
    what += f": {parsed.message}" if parsed.message else ""
    cls = _class_for(status) if parsed.type in ERROR_TYPE_STATUS else RouterFailed
    failure = cls(
        what,
        status_hint(status, base_url),
        status=200,
        error_type=parsed.type,
        detail=parsed.message or what,
        request_id=request_id,
    )
    return failure, retryable_status(status)


# ---------------------------------------------------------------------------------------------------------
# Retries

RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
RETRY_AFTER_MAX = 30.0
# Tests (which run the real command in a subprocess) shrink the backoff with this; retry-after still counts.
RETRY_BASE_DELAY_ENV = "INWORLD_RETRY_BASE_DELAY"


def retryable_status(status: int) -> bool:
    """408, 429, 5xx and 529 may pass with time; any other 4xx will not."""
    return status in (408, 429) or status >= 500


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """What the server asked us to wait: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        import email.utils  # only for the rare HTTP-date form; costs every command at import

        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - now


def retry_delay(
    retry: int, *, retry_after: float | None, base: float = RETRY_BASE_DELAY, jitter: float = 0.0
) -> float:
    """Seconds to wait before retry number `retry` (1 for the first).

    A server's retry-after is obeyed up to RETRY_AFTER_MAX; otherwise `base` doubles per retry up to
    RETRY_MAX_DELAY, shortened by up to a quarter (`jitter` in [0, 1)) so parallel clients spread out.
    """
    if retry_after is not None and retry_after == retry_after:  # NaN is no answer
        return min(max(retry_after, 0.0), RETRY_AFTER_MAX)
    return min(base * 2.0 ** (retry - 1), RETRY_MAX_DELAY) * (1 - 0.25 * jitter)


def base_delay(env: Mapping[str, str]) -> float:
    raw = env.get(RETRY_BASE_DELAY_ENV, "").strip()
    try:
        value = float(raw) if raw else RETRY_BASE_DELAY
    except ValueError:
        return RETRY_BASE_DELAY
    return value if 0 <= value <= RETRY_MAX_DELAY else RETRY_BASE_DELAY
