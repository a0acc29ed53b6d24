"""The Messages endpoint: the one module that imports the Anthropic SDK (inside functions: it takes over
a second to import) and speaks HTTP to the router.

The SDK builds and sends the request; this module makes sure only our key leaves, only to our base URL,
whatever ANTHROPIC_* the environment holds (sdk-notes.md lists what the SDK would otherwise pick up),
retries on its own terms (the SDK's obeys any retry-after, even an hour), and reads the answer itself: the
raw server-sent events, decoded and folded by stream_assembly, so the router's `metadata` is kept from
wherever it comes and no pydantic model is built per delta.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from inworld_cli.errors import LOGIN_HINT
from inworld_cli.router_errors import (
    ERROR_TYPE_STATUS,
    AuthFailed,
    NetworkFailed,
    RequestFailed,
    RouterFailed,
    SdkUnavailable,
    base_delay,
    event_error,
    network_hint,
    one_line,
    parse_error_body,
    parse_json_error,
    request_id_of,
    retry_after_seconds,
    retry_delay,
    retryable_status,
    status_error,
)
from inworld_cli.settings import CONNECT_TIMEOUT, Settings
from inworld_cli.stream_assembly import MessageAssembler, non_text_block_types, sse_events, text_of

if TYPE_CHECKING:
    import anthropic
    import httpx2

__all__ = ["Outcome", "RequestFailed", "send_message", "start_sdk_import"]

MESSAGES_PATH = "/v1/messages"
# The anthropic-version sent when neither the settings nor the SDK say (the router docs' curl example).
FALLBACK_API_VERSION = "2023-06-01"
# json.loads without its per-call setup: the stream decodes one JSON object per delta.
_json_decode = json.JSONDecoder().decode


@dataclass
class Outcome:
    message: dict[str, Any]  # as received (non-stream), or assembled from the events, with "metadata"
    request_id: str | None
    ttft_ms: float | None  # from sending the request (of the try that answered) to the first text
    total_ms: float  # from sending the first request to the end of the answer, retries included
    tries: int  # HTTP requests made: 1 + retries


# ---------------------------------------------------------------------------------------------------------
# The SDK, imported in the background while the command does its other work

_sdk_thread: threading.Thread | None = None
_sdk_lock = threading.Lock()


def start_sdk_import() -> None:
    """Begin importing the SDK in a daemon thread (idempotent); send_message waits for it."""
    global _sdk_thread
    with _sdk_lock:
        if _sdk_thread is None and "anthropic" not in sys.modules:
            _sdk_thread = threading.Thread(target=_import_quietly, name="sdk-import", daemon=True)
            _sdk_thread.start()


def _import_quietly() -> None:
    # A failure here would print a thread traceback; instead it surfaces as a normal error when
    # send_message imports the SDK again.
    with contextlib.suppress(BaseException):
        import anthropic  # noqa: F401


def _load_sdk() -> None:
    thread = _sdk_thread
    if thread is not None:
        thread.join()
    try:
        import anthropic  # noqa: F401
        import httpx2  # noqa: F401
    except Exception as exc:
        raise SdkUnavailable(
            f"cannot load the Anthropic SDK: {type(exc).__name__}: {one_line(str(exc), 200)}",
            "reinstall: pip install --force-reinstall inworld-cli",
        ) from exc


# ---------------------------------------------------------------------------------------------------------
# The client: our key, our URL, nothing from the environment


def our_key(settings: Settings) -> str:
    """The key to send; refuses to go on without one (no SDK client is ever built keyless: it would
    fall back to ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN or an Anthropic login profile)."""
    key = (settings.api_key.value or "").strip()
    if not key:
        raise AuthFailed(
            f"no API key for profile '{settings.profile.value}' (and INWORLD_API_KEY is not set)", LOGIN_HINT
        )
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise AuthFailed("the API key contains whitespace or control characters", LOGIN_HINT)
    return key


def env_header_names(custom_headers: str | None) -> list[str]:
    """The header names the SDK would take from ANTHROPIC_CUSTOM_HEADERS (its own parsing, 2.13)."""
    if not custom_headers:
        return []
    return [line[: line.find(":")].strip() for line in custom_headers.split("\n") if ":" in line]


def base_url_of(settings: Settings) -> str:
    """The base URL without any `user:password@`: httpx would send those as `Authorization: Basic`,
    replacing our Bearer key (and error messages would print them)."""
    url = settings.base_url.value
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def build_client(settings: Settings, key: str) -> anthropic.Anthropic:
    """An SDK client that sends `Authorization: Bearer <key>` to settings.base_url and nothing else.

    - auth_token= is an explicit credential, so the SDK reads no ANTHROPIC_API_KEY/AUTH_TOKEN, no
      ANTHROPIC_PROFILE and no login profile under ~/.config/anthropic (nor their base URLs or headers);
      base_url= is explicit (and without user:password), so ANTHROPIC_BASE_URL is ignored.
    - ANTHROPIC_CUSTOM_HEADERS is merged by the SDK under our default_headers: each header it names is
      given as Omit (removed), and Authorization, X-Api-Key (Omit) and anthropic-version are set by us,
      so they win. os.environ is not touched: unsetting variables while threads run is unsafe, and the
      environment belongs to the user.
    - No OpenTelemetry spans or trace headers, whatever ANTHROPIC_OPEN_TELEMETRY* say.
    - trust_env=False, as for models/routers: HTTP(S)_PROXY/ALL_PROXY would send the request (and over a
      plain http:// base URL, the key itself) to a proxy, and SSL_CERT_FILE/DIR could swap the
      certificates that vouch for the router. The key goes to the base URL and nowhere else.
    """
    import anthropic
    import httpx2

    timeout = httpx2.Timeout(settings.timeout.value, connect=CONNECT_TIMEOUT)
    omit = anthropic.Omit()
    headers: dict[str, Any] = dict.fromkeys(
        env_header_names(os.environ.get("ANTHROPIC_CUSTOM_HEADERS")), omit
    )
    headers.update(
        {"Authorization": f"Bearer {key}", "X-Api-Key": omit, "anthropic-version": _api_version(settings)}
    )
    return anthropic.Anthropic(
        auth_token=key,
        base_url=base_url_of(settings),
        max_retries=0,
        timeout=timeout,
        default_headers=headers,
        open_telemetry={"traces": False, "propagation": False},
        # A plain client: the SDK's DefaultHttpxClient mounts environment proxies even with trust_env=False.
        http_client=httpx2.Client(trust_env=False, follow_redirects=False, timeout=timeout),
    )


def _api_version(settings: Settings) -> str:
    if settings.anthropic_version.value:
        return settings.anthropic_version.value
    from anthropic import _constants

    version = getattr(_constants, "ANTHROPIC_API_VERSION", None)
    return version if isinstance(version, str) and version else FALLBACK_API_VERSION


# ---------------------------------------------------------------------------------------------------------
# Sending


def send_message(
    settings: Settings,
    body: dict[str, Any],
    *,
    stream: bool,
    on_text: Callable[[str], None],
    on_notice: Callable[[str], None],
    on_block: Callable[[str], None],
) -> Outcome:
    """POST `body` (with "stream" set to `stream`) to {base_url}/v1/messages and return the answer.

    on_text gets each text delta as it arrives (non-stream: the whole text once); on_notice gets retry
    notices; on_block the type of each non-text content block. Raises a RequestFailed (AuthError,
    RequestRejected, RouterFailure, NetworkFailure, or LocalError when the SDK cannot load); never
    swallows KeyboardInterrupt.
    """
    key = our_key(settings)
    _load_sdk()
    client = build_client(settings, key)
    exchange = _Exchange(settings, client, {**body, "stream": stream}, on_text, on_notice, on_block)
    try:
        return exchange.run()
    except RequestFailed as failure:
        exchange.annotate(failure, key)
        raise
    finally:
        client.close()


class _Retry(Exception):
    """An attempt failed in a way that may pass: retried unless the retries are spent or text was shown."""

    def __init__(self, failure: RequestFailed, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        self.retry_after = retry_after


class _Exchange:
    """One send_message: the retry loop and the reading of each answer."""

    def __init__(
        self,
        settings: Settings,
        client: anthropic.Anthropic,
        payload: dict[str, Any],
        on_text: Callable[[str], None],
        on_notice: Callable[[str], None],
        on_block: Callable[[str], None],
    ) -> None:
        self.client = client
        self.content = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.on_text = on_text
        self.on_notice = on_notice
        self.on_block = on_block
        self.base_url = base_url_of(settings)
        self.timeout = settings.timeout.value
        self.retries = max(0, settings.retries.value)
        self.started = time.monotonic()  # the first request goes out right after
        self.tries = 0
        self.ttft_ms: float | None = None
        self.text_shown = False
        self.assembler: MessageAssembler | None = None

    def run(self) -> Outcome:
        base = base_delay(os.environ)
        while True:
            self.tries += 1
            self.assembler = None
            try:
                return self._attempt()
            except _Retry as retry:
                if self.tries > self.retries or self.text_shown:
                    raise retry.failure from retry.__cause__
                jitter = random.random()  # noqa: S311 - spreading retries, not a secret
                delay = retry_delay(self.tries, retry_after=retry.retry_after, base=base, jitter=jitter)
                self.on_notice(
                    f"retrying in {delay:.1f} s after {retry.reason} (retry {self.tries} of {self.retries})"
                )
                time.sleep(delay)

    def annotate(self, failure: RequestFailed, key: str) -> None:
        """Timings and the partial answer on the error; the key scrubbed from anything the router echoed."""
        failure.ttft_ms = self.ttft_ms
        failure.total_ms = (time.monotonic() - self.started) * 1000
        if self.assembler is not None and self.assembler.events:
            failure.partial = self.assembler.message()
        failure.note_tries(self.tries)
        failure.message = failure.message.replace(key, "****")
        failure.args = (failure.message,)
        if isinstance(failure.details.get("message"), str):
            failure.details["message"] = failure.details["message"].replace(key, "****")

    # -- one HTTP request ----------------------------------------------------------------------------

    def _attempt(self) -> Outcome:
        import anthropic
        import httpx2

        sent = time.monotonic()
        try:
            response = self.client.post(
                MESSAGES_PATH,
                cast_to=httpx2.Response,
                content=self.content,
                stream=True,
                # The timeout again per request, or the SDK sends `x-stainless-timeout: NOT_GIVEN`.
                options={"follow_redirects": False, "timeout": self.client.timeout},
            )
        except anthropic.APIStatusError as exc:
            raise self._status_failure(exc.response) from exc
        except anthropic.APITimeoutError as exc:
            if isinstance(exc.__cause__, httpx2.ConnectTimeout):
                failure = self._network(f"cannot connect to {self.base_url} within {CONNECT_TIMEOUT:g} s")
                raise _Retry(failure, "a connection timeout") from exc
            raise self._timeout(f"no answer from the router within {self.timeout:g} s") from exc
        except anthropic.APIConnectionError as exc:
            reason = _connection_reason(exc)
            raise _Retry(self._network(f"cannot connect to {self.base_url}: {reason}"), reason) from exc
        except httpx2.TimeoutException as exc:  # while reading an error body
            raise self._timeout(f"no answer from the router within {self.timeout:g} s") from exc
        except httpx2.TransportError as exc:
            raise self._network(f"the connection to {self.base_url} failed: {_reason(exc)}") from exc
        try:
            if "event-stream" in response.headers.get("content-type", "").lower():
                return self._read_stream(response.iter_bytes(), sent, request_id_of(response.headers))
            return self._read_whole(response, sent)
        finally:
            response.close()

    def _status_failure(self, response: httpx2.Response) -> RequestFailed | _Retry:
        import httpx2

        try:
            body = response.content
        except httpx2.ResponseNotRead:
            body = b""
        status = response.status_code
        failure = status_error(status, response.headers, body, base_url=self.base_url)
        if not retryable_status(status):
            return failure
        kind = failure.details.get("type")
        reason = f"{status} {kind}" if kind else str(status)
        return _Retry(failure, reason, retry_after_seconds(response.headers, time.time()))

    def _network(self, message: str) -> NetworkFailed:
        return NetworkFailed(message, network_hint(self.base_url, os.environ))

    def _timeout(self, message: str, request_id: str | None = None) -> NetworkFailed:
        return NetworkFailed(message, f"raise --timeout (now {self.timeout:g} s)", request_id=request_id)

    def _broken(self, message: str, request_id: str | None) -> RouterFailed:
        hint = "the router or the network dropped the answer; try again"
        return RouterFailed(message, hint, request_id=request_id)

    # -- reading the answer ----------------------------------------------------------------------------

    def _read_stream(self, chunks: Iterable[bytes], sent: float, request_id: str | None) -> Outcome:
        import httpx2

        assembler = self.assembler = MessageAssembler()
        feed = assembler.feed
        on_text = self.on_text
        try:
            for name, raw in sse_events(chunks):
                try:
                    data = _json_decode(raw.decode("utf-8"))
                except ValueError:
                    data = None
                if type(data) is not dict:
                    self._malformed_event(assembler, name, raw, request_id)
                    continue
                text = feed(name, data)
                if text is not None:
                    if not self.text_shown:
                        self.ttft_ms = (time.monotonic() - sent) * 1000
                        self.text_shown = True
                    on_text(text)
                elif assembler.new_blocks:
                    for block_type in assembler.take_new_blocks():
                        self.on_block(block_type)
                elif assembler.error is not None:
                    self._event_failure(assembler.error, request_id)
        except httpx2.TimeoutException as exc:
            what = "the stream stalled" if assembler.events else "the stream stalled before its first event"
            raise self._timeout(f"{what}: nothing arrived for {self.timeout:g} s", request_id) from exc
        except httpx2.TransportError as exc:
            raise self._broken(f"the connection broke mid-stream: {_reason(exc)}", request_id) from exc
        if not assembler.stopped:
            raise self._broken("the stream ended before message_stop", request_id)
        message = assembler.message()
        return self._outcome(message, request_id)

    def _malformed_event(
        self, assembler: MessageAssembler, name: str, raw: bytes, request_id: str | None
    ) -> None:
        if assembler.stopped:  # trailing noise after the message (e.g. "data: [DONE]")
            return
        excerpt = one_line(raw.decode("utf-8", "replace"), 120)
        raise RouterFailed(
            f"the router sent a malformed '{name}' event: {excerpt}",
            f"check --base-url ({self.base_url}): it should point at the Inworld Router",
            request_id=request_id,
        )

    def _event_failure(self, error: dict[str, Any], request_id: str | None) -> None:
        failure, retryable = event_error(error, request_id=request_id, base_url=self.base_url)
        if retryable and not self.text_shown:
            raise _Retry(failure, f"an {failure.details.get('type') or 'error'} event")
        raise failure

    def _read_whole(self, response: httpx2.Response, sent: float) -> Outcome:
        """A whole body: the JSON message (asked for, or a proxy's answer to a stream request), or SSE
        sent without its content type, or something that is no answer at all."""
        body = self._read_body(response, sent)
        request_id = request_id_of(response.headers)
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            data = None
        if isinstance(data, dict) and ("content" in data or data.get("type") == "message"):
            for block_type in non_text_block_types(data):
                self.on_block(block_type)
            self.ttft_ms = (time.monotonic() - sent) * 1000
            text = text_of(data)
            if text:
                self.text_shown = True
                self.on_text(text)
            return self._outcome(data, request_id)
        if data is None and body.lstrip().startswith((b"event:", b"data:", b":")):
            return self._read_stream([body], sent, request_id)
        raise self._not_a_message(response, body, data, request_id)

    def _read_body(self, response: httpx2.Response, sent: float) -> bytes:
        """The whole body, within settings.timeout from sending the request."""
        import httpx2

        deadline = sent + self.timeout
        parts = []
        late = f"the answer did not arrive within {self.timeout:g} s"
        request_id = request_id_of(response.headers)
        try:
            for chunk in response.iter_bytes():
                parts.append(chunk)
                if time.monotonic() > deadline:
                    raise self._timeout(late, request_id)
        except httpx2.TimeoutException as exc:
            raise self._timeout(late, request_id) from exc
        except httpx2.TransportError as exc:
            what = f"the connection broke before the answer was complete: {_reason(exc)}"
            raise self._broken(what, request_id) from exc
        return b"".join(parts)

    def _not_a_message(
        self, response: httpx2.Response, body: bytes, data: object, request_id: str | None
    ) -> RequestFailed:
        status = response.status_code
        hint = f"check --base-url ({self.base_url}): it should point at the Inworld Router"
        error = parse_json_error(data)
        if error is not None:
            # An error in a success status: judged by its type, as an `error` event would be.
            if error.type in ERROR_TYPE_STATUS:
                failure, _ = event_error(
                    {"type": error.type, "message": error.message},
                    request_id=request_id,
                    base_url=self.base_url,
                )
                return failure
            what = f"an error: {error.type}: {error.message}" if error.type else f"an error: {error.message}"
            return RouterFailed(
                f"the router answered {status} with {what}",
                hint,
                status=status,
                error_type=error.type,
                detail=error.message,
                request_id=request_id,
            )
        parsed = parse_error_body(body, response.headers.get("content-type"))
        if parsed.html:
            what = "an HTML page" + (f" ({parsed.html_title})" if parsed.html_title else "")
        elif parsed.empty:
            what = "an empty body"
        else:
            what = f"something else: {one_line(parsed.message or '', 120)}"
        return RouterFailed(
            f"the router answered {status} with {what}, not a message",
            hint,
            status=status,
            request_id=request_id,
        )

    def _outcome(self, message: dict[str, Any], request_id: str | None) -> Outcome:
        total_ms = (time.monotonic() - self.started) * 1000
        return Outcome(message, request_id, self.ttft_ms, total_ms, self.tries)


def _reason(exc: BaseException) -> str:
    return one_line(str(exc) or type(exc).__name__, 160)


_CONNECT_REASONS = (
    (("connection refused",), "connection refused"),
    (("name or service not known", "nodename nor servname", "getaddrinfo failed", "name resolution"),
     "cannot resolve the host name"),
    (("certificate", "ssl", "tls"), "TLS failed"),
    (("network is unreachable", "no route to host"), "the network is unreachable"),
)  # fmt: skip


def _connection_reason(exc: BaseException) -> str:
    """A short reason from the innermost cause of an SDK connection error."""
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    detail = _reason(cause)
    lowered = detail.lower()
    for needles, reason in _CONNECT_REASONS:
        if any(needle in lowered for needle in needles):
            return f"{reason} ({detail})" if reason == "TLS failed" else reason
    return detail
