"""What the router's failures mean: error bodies to one-line messages, statuses to error types and hints,
and which failures are retried after how long. Pure: no IO, no SDK.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inworld_cli.core.text import one_line
from inworld_cli.errors import (
    LOGIN_HINT,
    AuthError,
    CliError,
    ErrorDetails,
    NetworkFailure,
    RequestRejected,
    RouterFailure,
)

# ---------------------------------------------------------------------------------------------------------
# One failed try, before it becomes the user's error


@dataclass(frozen=True)
class Failure:
    """Why one HTTP request failed: the error it would be, and whether another try may pass."""

    kind: type[CliError]
    what: str  # the message, without the request id and tries that `error` adds
    hint: str | None
    details: ErrorDetails
    retryable: bool = False
    reason: str | None = None  # for a retry notice: "529 overloaded_error", "connection refused"
    retry_after: float | None = None  # what the server asked us to wait, in seconds

    @property
    def rate_limited(self) -> bool:
        """The router said too many requests (a 429, or a rate_limit_error event)."""
        return self.details.status == 429 or self.details.type == "rate_limit_error"

    def masked(self, key: str) -> Failure:
        """The key scrubbed from anything the router echoed back."""
        if not key or (key not in self.what and key not in (self.details.message or "")):
            return self
        message = self.details.message.replace(key, "****") if self.details.message else None
        return dataclasses.replace(
            self,
            what=self.what.replace(key, "****"),
            details=dataclasses.replace(self.details, message=message),
        )

    def error(self, tries: int = 1) -> CliError:
        """The error the user sees: `what (request id r-1, after 3 tries)`."""
        parts = []
        if self.details.request_id:
            parts.append(f"request id {self.details.request_id}")
        if tries > 1:
            parts.append(f"after {tries} tries")
        suffix = f" ({', '.join(parts)})" if parts else ""
        return self.kind(self.what + suffix, self.hint, details=self.details)


def failure(
    kind: type[CliError],
    what: str,
    hint: str | None,
    *,
    status: int | None = None,
    error_type: str | None = None,
    detail: str | None = None,
    request_id: str | None = None,
    retryable: bool = False,
    reason: str | None = None,
    retry_after: float | None = None,
) -> Failure:
    details = ErrorDetails(status, error_type, detail if detail is not None else what, request_id)
    return Failure(kind, what, hint, details, retryable, reason, retry_after)


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


@dataclass(frozen=True)
class ErrorBody:
    """What an error body said, whatever its shape."""

    type: str | None = None
    message: str | None = None
    request_id: str | None = None
    html: bool = False
    html_title: str | None = None
    empty: bool = False


def _scalar_text(value: object) -> str | None:
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
    request_id = _scalar_text(data.get("request_id"))
    error = data.get("error")
    if isinstance(error, dict):
        kind = (
            _scalar_text(error.get("type"))
            or _grpc_name(error.get("code"))
            or _scalar_text(error.get("status"))
        )
        message = _scalar_text(error.get("message"))
        if message or kind:
            return ErrorBody(type=kind, message=message, request_id=request_id)
    elif isinstance(error, str) and error.strip():
        kind = _scalar_text(data.get("type")) if data.get("type") != "error" else None
        return ErrorBody(type=kind, message=one_line(error), request_id=request_id)
    message = _scalar_text(data.get("message")) or _scalar_text(data.get("detail"))
    if message:
        kind = _grpc_name(data.get("code")) or _scalar_text(data.get("status"))
        if data.get("type") not in (None, "error", "message"):
            kind = _scalar_text(data.get("type")) or kind
        return ErrorBody(type=kind, message=message, request_id=request_id)
    return None


def _grpc_name(code: object) -> str | None:
    if isinstance(code, int) and not isinstance(code, bool):
        return _GRPC_CODES.get(code, str(code))
    return _scalar_text(code)


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


def kind_for_status(status: int) -> type[CliError]:
    if status in (401, 403):
        return AuthError
    if 400 <= status < 500 and status not in (408, 429):
        return RequestRejected
    return RouterFailure


def status_failure(
    status: int, headers: Mapping[str, str], body: bytes, *, base_url: str, now: float = 0.0
) -> Failure:
    """The failure for an HTTP error status: kind by status, message from the body, one line; retryable
    (with the server's retry-after, read against `now`) for 408, 429, 5xx and 529."""
    parsed = parse_error_body(body, headers.get("content-type"))
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
    retryable = retryable_status(status)
    return failure(
        kind_for_status(status),
        what,
        status_hint(status, base_url),
        status=status,
        error_type=parsed.type,
        detail=parsed.message or what,
        request_id=request_id,
        retryable=retryable,
        reason=f"{status} {parsed.type}" if parsed.type else str(status),
        retry_after=retry_after_seconds(headers, now) if retryable else None,
    )


def event_failure(error: Mapping[str, Any], *, request_id: str | None, base_url: str) -> Failure:
    """The failure for an SSE `error` event (or an error in a 200 body); retryable as the status its
    type stands for would be."""
    parsed = parse_json_error({"error": dict(error)}) or ErrorBody()
    status = ERROR_TYPE_STATUS.get(parsed.type or "", 500)
    what = "the router sent an error" + (f": {parsed.type}" if parsed.type else "")
    what += f": {parsed.message}" if parsed.message else ""
    kind = kind_for_status(status) if parsed.type in ERROR_TYPE_STATUS else RouterFailure
    return failure(
        kind,
        what,
        status_hint(status, base_url),
        status=200,
        error_type=parsed.type,
        detail=parsed.message or what,
        request_id=request_id,
        retryable=retryable_status(status),
        reason=f"an {parsed.type or 'error'} event",
    )


def network_failure(
    what: str, hint: str, *, request_id: str | None = None, reason: str | None = None
) -> Failure:
    """Cannot connect (retryable when `reason` says why), or a timeout."""
    return failure(
        NetworkFailure, what, hint, request_id=request_id, retryable=reason is not None, reason=reason
    )


def broken_failure(what: str, request_id: str | None) -> Failure:
    """An answer that stopped half-way: the router or the network dropped it. Never retried (text may
    have been shown, and the upstream may have charged)."""
    hint = "the router or the network dropped the answer; try again"
    return failure(RouterFailure, what, hint, request_id=request_id)


# ---------------------------------------------------------------------------------------------------------
# Retries

RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
RETRY_AFTER_MAX = 30.0


def retryable_status(status: int) -> bool:
    """408, 429, 5xx and 529 may pass with time; any other 4xx will not."""
    return status in (408, 429) or status >= 500


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """What the server asked us to wait: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date
    (read against `now`, seconds since the epoch)."""
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


def retry_delay(retry: int, *, retry_after: float | None, jitter: float = 0.0) -> float:
    """Seconds to wait before retry number `retry` (1 for the first).

    A server's retry-after is obeyed up to RETRY_AFTER_MAX; otherwise the wait doubles from
    RETRY_BASE_DELAY per retry up to RETRY_MAX_DELAY, shortened by up to a quarter (`jitter` in [0, 1))
    so parallel clients spread out.
    """
    if retry_after is not None and retry_after == retry_after:  # NaN is no answer
        return min(max(retry_after, 0.0), RETRY_AFTER_MAX)
    return min(RETRY_BASE_DELAY * 2.0 ** (retry - 1), RETRY_MAX_DELAY) * (1 - 0.25 * jitter)
