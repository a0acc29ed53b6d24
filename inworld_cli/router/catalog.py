"""The router's catalogue (`models`) and saved routers: GET requests through the transport, and the cache.

A fresh cache is served without asking; when the router cannot be reached (connection, timeout, 429/5xx,
a malformed answer) a stale cache is served with the reason, so listing, completion and pricing work
offline.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from inworld_cli.core.catalogue import normalize_router_id, router_id
from inworld_cli.core.text import describe_age
from inworld_cli.errors import CliError, LocalError, NetworkFailure, RequestRejected, RouterFailure
from inworld_cli.router.failures import network_hint, status_failure
from inworld_cli.router.transport import Broken, Endpoint, TimedOut, Transport, Unreachable
from inworld_cli.store.cache import Cache

MODELS_PATH = "/llm/v1alpha/models"
ROUTERS_PATH = "/router/v1/routers"
READ_TIMEOUT_S = 30.0
PAGE_SIZE = 100
MAX_PAGES = 1000

# Failures after which a stale cache is better than nothing: the router is unreachable or unwell.
UNAVAILABLE = (NetworkFailure, RouterFailure)


# -- HTTP -------------------------------------------------------------------------------------------------


def catalogue_endpoint(endpoint: Endpoint) -> Endpoint:
    """These endpoints answer quickly or not at all: at most READ_TIMEOUT_S, whatever --timeout says."""
    timeout = min(endpoint.timeout, READ_TIMEOUT_S)
    return Endpoint(endpoint.base_url, endpoint.key, timeout, min(endpoint.connect_timeout, timeout))


def get_json(
    transport: Transport,
    endpoint: Endpoint,
    path: str,
    what: str,
    *,
    env: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    not_found: CliError | None = None,
) -> Any:
    """GET {base}{path}; the parsed JSON, or a CliError with the exit status (`not_found` for a 404)."""
    url = endpoint.url
    try:
        response = transport.get(endpoint, path, params)
        body = response.read()
    except Unreachable as exc:
        raise NetworkFailure(f"cannot connect to {url}: {exc.reason}", network_hint(url, env)) from None
    except TimedOut:
        raise NetworkFailure(
            f"no answer from the router within {endpoint.timeout:g} s", network_hint(url, env)
        ) from None
    except Broken as exc:
        raise NetworkFailure(
            f"the connection to {url} failed: {exc.reason}", network_hint(url, env)
        ) from None
    if response.status == 404 and not_found is not None:
        raise not_found
    if response.status != 200:
        raise status_failure(response.status, response.headers, body, base_url=url).error()
    try:
        return json.loads(body)
    except ValueError:
        raise RouterFailure(
            f"the router's answer for {what} is not JSON (content-type "
            f"{response.headers.get('content-type', 'none')})",
            hint="check the base URL: inworld-router auth status",
        ) from None


def _malformed(what: str, detail: str) -> RouterFailure:
    return RouterFailure(f"unexpected answer from the router for {what}: {detail}")


# -- fetching with the cache ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    data: Any
    fetched_at: float
    from_cache: bool
    problem: str | None = None  # set when a stale cache is served: why the router could not be asked


class Catalog:
    def __init__(
        self,
        transport: Transport,
        endpoint: Endpoint,
        cache: Cache,
        now: Callable[[], float],
        env: Mapping[str, str],
    ) -> None:
        self.transport = transport
        self.endpoint = catalogue_endpoint(endpoint)
        self.cache = cache
        self.now = now
        self.env = env
        self.warnings: list[str] = []  # cache write failures: the command still has its data

    def _get(self, path: str, what: str, **kwargs: Any) -> Any:
        return get_json(self.transport, self.endpoint, path, what, env=self.env, **kwargs)

    def _list_pages(self, path: str, key: str, what: str, page_size: int | None) -> list[Any]:
        """Every item of a paginated list (`nextPageToken` followed with `page_token`)."""
        items: list[Any] = []
        params: dict[str, str] = {"page_size": str(page_size)} if page_size else {}
        seen_tokens: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._get(path, what, params=params or None)
            if isinstance(page, list):  # tolerate a bare list
                return items + page
            # proto3 JSON leaves an empty list out altogether: a missing key is an empty page.
            if not isinstance(page, dict) or not isinstance(page.get(key, []), list):
                raise _malformed(what, f"expected an object with a '{key}' list")
            items.extend(page.get(key, []))
            token = page.get("nextPageToken") or page.get("next_page_token")
            if not token:
                return items
            if not isinstance(token, str) or token in seen_tokens:
                raise _malformed(what, "the pages do not end (a repeated nextPageToken)")
            seen_tokens.add(token)
            params = {**params, "page_token": token}
        raise _malformed(what, f"more than {MAX_PAGES} pages")

    def _cached(self, kind: str, refresh: bool, fetch: Callable[[], Any]) -> Fetched:
        entry = self.cache.load(kind)
        now = self.now()
        if entry is not None and not refresh and entry.fresh(now):
            return Fetched(entry.data, entry.fetched_at, from_cache=True)
        try:
            data = fetch()
        except UNAVAILABLE as exc:
            if entry is None:
                raise
            return Fetched(entry.data, entry.fetched_at, from_cache=True, problem=exc.message)
        try:
            self.cache.save(kind, data, now)
        except LocalError as exc:
            self.warnings.append(f"could not cache the answer: {exc.message}")
        return Fetched(data, now, from_cache=False)

    def models(self, refresh: bool = False) -> Fetched:
        return self._cached(
            "models", refresh, lambda: self._list_pages(MODELS_PATH, "models", "the models", None)
        )

    def routers(self, refresh: bool = False) -> Fetched:
        return self._cached(
            "routers",
            refresh,
            lambda: self._list_pages(ROUTERS_PATH, "routers", "the saved routers", PAGE_SIZE),
        )

    def router(self, raw_id: str, refresh: bool = False) -> Fetched:
        """One saved router. Unknown: exit 4 (a 404, or offline: not in the cached list)."""
        rid = normalize_router_id(raw_id)
        if not rid or "/" in rid:
            raise RequestRejected(f"no router '{raw_id}'", hint="list them: inworld-router routers")
        try:
            return self._cached(f"router/{rid}", refresh, lambda: self._fetch_router(rid))
        except UNAVAILABLE as exc:
            listed = self.cache.load("routers")
            if listed is None:
                raise
            for item in listed.data if isinstance(listed.data, list) else []:
                if router_id(item) == rid:
                    return Fetched(item, listed.fetched_at, from_cache=True, problem=exc.message)
            age = describe_age(listed.age(self.now()))
            raise RequestRejected(
                f"no router '{rid}' in the list cached {age} ago ({exc.message})",
                hint="list them: inworld-router routers",
            ) from None

    def _fetch_router(self, rid: str) -> Any:
        path = f"{ROUTERS_PATH}/{urllib.parse.quote(rid, safe='')}"
        unknown = RequestRejected(
            f"no router '{rid}' at {self.endpoint.base_url}", hint="list them: inworld-router routers"
        )
        data = self._get(path, f"router '{rid}'", not_found=unknown)
        if not isinstance(data, dict):
            raise _malformed(f"router '{rid}'", "not an object")
        return data
