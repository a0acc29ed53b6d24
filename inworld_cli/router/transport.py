"""The one place that speaks HTTP: the only module that imports the Anthropic SDK or its HTTP library
(`httpx2`), both inside functions (the SDK takes over a second to import).

Every request goes to our base URL alone, with our key alone, whatever the environment holds:

- Messages (`POST /v1/messages`) go through the SDK with `auth_token=` our key and an explicit base URL,
  so it reads no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL, ANTHROPIC_PROFILE or login
  profile under ~/.config/anthropic; `X-Api-Key` and every header ANTHROPIC_CUSTOM_HEADERS names are
  removed (`Omit`); no retries of its own (it would obey any retry-after, even an hour); no telemetry.
- The catalogue and saved routers (`GET`) take the key as `Authorization: Basic`, as Inworld documents them.
- One HTTP client for both, with `trust_env=False` (proxy variables would send the request, and over a
  plain http:// base URL the key itself, to a proxy; SSL_CERT_FILE/DIR could swap the certificates that
  vouch for the router) and no redirects followed.
- One User-Agent naming this tool and its version.

Failures of the connection are translated here into a few exceptions of our own (`Unreachable`,
`TimedOut`, `Broken`), so nothing above this module needs the HTTP library to tell them apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from inworld_cli import __version__

if TYPE_CHECKING:
    import anthropic
    import httpx2

MESSAGES_PATH = "/v1/messages"
USER_AGENT = f"inworld-router/{__version__}"
# The anthropic-version the router documents (its curl example); `anthropic_version` in config changes it.
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
CONNECT_TIMEOUT = 10.0
MAX_CONNECTIONS = 100  # per endpoint: the most requests in flight at once (`batch -j` is capped to it)


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and with which key: resolved by the caller, so nothing here reads a setting."""

    base_url: str
    key: str
    timeout: float  # for an answer, and for each piece of a stream
    connect_timeout: float = CONNECT_TIMEOUT
    anthropic_version: str = DEFAULT_ANTHROPIC_VERSION

    @property
    def url(self) -> str:
        """The base URL without any `user:password@` (settings refuse one; this is the last guard: httpx
        would send it as `Authorization: Basic`, replacing our key)."""
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))

    def messages_headers(self, key: str | None = None) -> dict[str, str]:
        """The headers of a Messages request (`key`: what to show in place of the key, e.g. masked)."""
        return {
            "Authorization": f"Bearer {self.key if key is None else key}",
            "content-type": "application/json",
            "anthropic-version": self.anthropic_version,
            "User-Agent": USER_AGENT,
        }

    def catalogue_headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self.key}", "Accept": "application/json", "User-Agent": USER_AGENT}


# ---------------------------------------------------------------------------------------------------------
# What can go wrong on the wire, in our own words


class ConnectionProblem(Exception):
    """Base of the transport's own exceptions; `reason` is short and one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreachable(ConnectionProblem):
    """No connection could be made (refused, DNS, TLS, unreachable network, a connect timeout)."""


class ConnectTimeout(Unreachable):
    """No connection within the connect timeout."""


class TimedOut(ConnectionProblem):
    """Connected, but nothing arrived within the timeout."""


class Broken(ConnectionProblem):
    """The connection broke while the answer was arriving."""


class SdkUnavailable(Exception):
    """The SDK cannot be imported: a broken installation."""


def _reason(exc: BaseException) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= 160 else text[:159] + "…"


_CONNECT_REASONS = (
    (("connection refused",), "connection refused"),
    (("name or service not known", "nodename nor servname", "getaddrinfo failed", "name resolution"),
     "cannot resolve the host name"),
    (("certificate", "ssl", "tls"), "TLS failed"),
    (("network is unreachable", "no route to host"), "the network is unreachable"),
)  # fmt: skip


def connection_reason(exc: BaseException) -> str:
    """A short reason from the innermost cause of a connection error."""
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    detail = _reason(cause)
    lowered = detail.lower()
    for needles, reason in _CONNECT_REASONS:
        if any(needle in lowered for needle in needles):
            return f"{reason} ({detail})" if reason == "TLS failed" else reason
    return detail


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """httpx2's connection errors as ours (the SDK's are translated where it is used: the catalogue's
    requests must not import it)."""
    import httpx2

    try:
        yield
    except httpx2.ConnectTimeout as exc:
        raise ConnectTimeout("a connection timeout") from exc
    except httpx2.TimeoutException as exc:
        raise TimedOut("no answer") from exc
    except httpx2.ConnectError as exc:
        raise Unreachable(connection_reason(exc)) from exc
    except httpx2.TransportError as exc:
        raise Broken(_reason(exc)) from exc


class Response:
    """An HTTP response whose body is read as it arrives; reading errors come out as ours."""

    def __init__(self, raw: httpx2.Response) -> None:
        self._raw = raw
        self.status: int = raw.status_code
        self.headers: Mapping[str, str] = raw.headers

    def chunks(self) -> Iterator[bytes]:
        with _translated():
            yield from self._raw.iter_bytes()

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()


# ---------------------------------------------------------------------------------------------------------
# The transport


class Transport:
    """Sends for one process: loads the SDK once (in the background when asked early) and keeps one HTTP
    client per endpoint, shared by the threads that send (httpx's client is thread-safe).

    `remember_keys=False` (the warm worker, which sends for many processes) keeps no key between requests:
    its HTTP clients are kept per base URL and timeouts only (they hold no key), and the SDK's client, which
    holds the key, is built for each request and dropped with it (it costs ~0.2 ms; an HTTP client ~25 ms).
    """

    def __init__(self, *, remember_keys: bool = True) -> None:
        self._remember_keys = remember_keys
        self._lock = threading.Lock()
        self._sdk_thread: threading.Thread | None = None
        self._clients: dict[Endpoint, tuple[httpx2.Client, anthropic.Anthropic | None]] = {}

    # -- the SDK, imported in the background while the command does its other work -------------------

    def preload(self) -> None:
        """Begin importing the SDK in a daemon thread (idempotent); sending waits for it."""
        with self._lock:
            if self._sdk_thread is None and "anthropic" not in sys.modules:
                self._sdk_thread = threading.Thread(target=_import_quietly, name="sdk-import", daemon=True)
                self._sdk_thread.start()

    def _load_sdk(self) -> None:
        thread = self._sdk_thread
        if thread is not None:
            thread.join()
        try:
            import anthropic  # noqa: F401
            import httpx2  # noqa: F401
        except Exception as exc:
            raise SdkUnavailable(f"{type(exc).__name__}: {_reason(exc)}") from exc

    # -- clients -------------------------------------------------------------------------------------

    def _http(self, endpoint: Endpoint) -> httpx2.Client:
        import httpx2

        timeout = httpx2.Timeout(endpoint.timeout, connect=endpoint.connect_timeout)
        # Every connection kept alive (httpx keeps 20): a batch of up to MAX_CONNECTIONS requests in flight
        # reuses its connections instead of opening a new one per request.
        limits = httpx2.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
        return httpx2.Client(trust_env=False, follow_redirects=False, timeout=timeout, limits=limits)

    def _sdk_client(self, endpoint: Endpoint) -> anthropic.Anthropic:
        self._load_sdk()
        if not self._remember_keys:
            return _build_sdk_client(endpoint, self._http_client(dataclasses.replace(endpoint, key="")))
        with self._lock:
            http, sdk = self._clients.get(endpoint, (None, None))
            if sdk is None:
                http = http or self._http(endpoint)
                sdk = _build_sdk_client(endpoint, http)
                self._clients[endpoint] = (http, sdk)
            return sdk

    def _http_client(self, endpoint: Endpoint) -> httpx2.Client:
        with self._lock:
            http, sdk = self._clients.get(endpoint, (None, None))
            if http is None:
                http = self._http(endpoint)
                self._clients[endpoint] = (http, sdk)
            return http

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for http, sdk in clients.values():
            with contextlib.suppress(Exception):
                (sdk or http).close()

    # -- requests ------------------------------------------------------------------------------------

    def prepare(self, endpoint: Endpoint) -> None:
        """Load the SDK and build the client for `endpoint` now, so that the time it takes is not counted
        as the router's. Raises SdkUnavailable."""
        self._sdk_client(endpoint)

    def post_messages(self, endpoint: Endpoint, content: bytes) -> Response:
        """POST the JSON body to {base}/v1/messages; the response (any status) with its body unread.
        Raises Unreachable or TimedOut when no response arrives, SdkUnavailable when the SDK is broken."""
        import anthropic
        import httpx2

        client = self._sdk_client(endpoint)
        with _translated():
            try:
                raw = client.post(
                    MESSAGES_PATH,
                    cast_to=httpx2.Response,
                    content=content,
                    stream=True,
                    # The timeout again per request, or the SDK sends `x-stainless-timeout: NOT_GIVEN`.
                    options={"follow_redirects": False, "timeout": client.timeout},
                )
            except anthropic.APIStatusError as exc:
                raw = exc.response  # an error status is an answer too: the caller reads its body
            except anthropic.APITimeoutError as exc:
                if isinstance(exc.__cause__, httpx2.ConnectTimeout):
                    raise ConnectTimeout("a connection timeout") from exc
                raise TimedOut("no answer") from exc
            except anthropic.APIConnectionError as exc:
                raise Unreachable(connection_reason(exc)) from exc
        return Response(raw)

    def get(self, endpoint: Endpoint, path: str, params: Mapping[str, str] | None = None) -> Response:
        """GET {base}{path} with the key as Basic auth; the whole response (any status)."""
        client = self._http_client(endpoint)
        with _translated():
            raw = client.get(
                endpoint.url + path, params=dict(params or {}), headers=endpoint.catalogue_headers()
            )
        return Response(raw)


def _import_quietly() -> None:
    # A failure here would print a thread traceback; instead it surfaces as a normal error when sending
    # imports the SDK again.
    with contextlib.suppress(BaseException):
        import anthropic  # noqa: F401


def env_header_names(custom_headers: str | None) -> list[str]:
    """The header names the SDK takes from ANTHROPIC_CUSTOM_HEADERS (its own parsing, 2.13)."""
    if not custom_headers:
        return []
    return [line[: line.find(":")].strip() for line in custom_headers.split("\n") if ":" in line]


def _build_sdk_client(endpoint: Endpoint, http: httpx2.Client) -> anthropic.Anthropic:
    import anthropic

    omit = anthropic.Omit()
    # The SDK reads ANTHROPIC_CUSTOM_HEADERS from the process environment (not from ours) and merges it
    # under default_headers: name each of its headers as Omit so none is sent. os.environ is only read:
    # unsetting variables while threads run is unsafe, and the environment belongs to the user.
    headers: dict[str, Any] = dict.fromkeys(
        env_header_names(os.environ.get("ANTHROPIC_CUSTOM_HEADERS")), omit
    )
    # content-type is the SDK's own: given twice (in two spellings) it would go out twice.
    headers.update({k: v for k, v in endpoint.messages_headers().items() if k != "content-type"})
    headers["X-Api-Key"] = omit
    return anthropic.Anthropic(
        auth_token=endpoint.key,
        base_url=endpoint.url,
        max_retries=0,
        timeout=http.timeout,
        default_headers=headers,
        open_telemetry={"traces": False, "propagation": False},
        # A plain client: the SDK's DefaultHttpxClient mounts environment proxies even with trust_env=False.
        http_client=http,
    )
