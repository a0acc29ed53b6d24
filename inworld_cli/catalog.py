"""The router's catalogue and saved routers: HTTP calls to their endpoints, and a cache on disk.

Both endpoints take the key as `Authorization: Basic <key>` (as Inworld documents them; the key is the
Portal's Base64 credential, used as is). Requests go only to our base URL, through the SDK's HTTP library
(`httpx2`, imported inside the function that sends) with `trust_env=False`: otherwise HTTP(S)_PROXY or
ALL_PROXY from the environment would send the key through a proxy, and SSL_CERT_FILE/SSL_CERT_DIR could
swap the certificates that vouch for the router (the system's trust store is used). ANTHROPIC_* variables
play no part here at all.

Answers are cached per base URL and key (saved routers belong to an account: two profiles on one URL must
not see each other's) in the platformdirs cache dir, 0600 under 0700, written atomically. A fresh cache is
served without asking; when the router cannot be reached (connection, timeout, 429/5xx, a malformed
answer) a stale cache is served with the reason, so listing and completion work offline.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inworld_cli import __version__
from inworld_cli.errors import (
    LOGIN_HINT,
    AuthError,
    CliError,
    LocalError,
    NetworkFailure,
    RequestRejected,
    RouterFailure,
)
from inworld_cli.files import atomic_write
from inworld_cli.settings import CONNECT_TIMEOUT, Settings

MODELS_PATH = "/llm/v1alpha/models"
ROUTERS_PATH = "/router/v1/routers"
CACHE_TTL_S = 24 * 3600
READ_TIMEOUT_S = 30.0
PAGE_SIZE = 100
MAX_PAGES = 1000
CACHE_FORMAT = 1

# Failures after which a stale cache is better than nothing: the router is unreachable or unwell.
UNAVAILABLE = (NetworkFailure, RouterFailure)


# -- the cache ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    data: Any
    fetched_at: float  # seconds since the epoch

    def age(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)

    def fresh(self, now: float, ttl: float = CACHE_TTL_S) -> bool:
        return 0 <= now - self.fetched_at < ttl


def _digest(*parts: str) -> str:
    import hashlib

    return hashlib.sha256("\0".join(("inworld-router", *parts)).encode("utf-8")).hexdigest()[:16]


class Cache:
    """One JSON file per kind ("models", "routers", "router/<id>") for one base URL and key."""

    def __init__(self, cache_dir: Path, base_url: str, api_key: str) -> None:
        self.cache_dir = cache_dir
        self.base_url = base_url
        self._account = _digest(base_url, api_key)

    def path(self, kind: str) -> Path:
        name = kind if "/" not in kind else f"router-{_digest(kind)}"
        return self.cache_dir / f"{name}-{self._account}.json"

    def load(self, kind: str) -> Entry | None:
        """The cached entry, or None when there is none or it cannot be read (a cache is never an error)."""
        try:
            stored = json.loads(self.path(kind).read_text(encoding="utf-8"))
            if (
                stored.get("format") == CACHE_FORMAT
                and stored.get("base_url") == self.base_url
                and stored.get("kind") == kind
                and isinstance(stored.get("fetched_at"), int | float)
            ):
                return Entry(stored["data"], float(stored["fetched_at"]))
        except (OSError, ValueError, AttributeError):
            pass
        return None

    def save(self, kind: str, data: Any, now: float) -> None:
        """Raises LocalError when the cache cannot be written."""
        stored = {"format": CACHE_FORMAT, "base_url": self.base_url, "kind": kind, "fetched_at": now}
        stored["data"] = data
        atomic_write(self.path(kind), json.dumps(stored, ensure_ascii=False).encode("utf-8"))


def describe_age(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


# -- HTTP -------------------------------------------------------------------------------------------------


def require_key(settings: Settings) -> str:
    key = settings.api_key.value
    if not key:
        raise AuthError(f"no API key for profile '{settings.profile.value}'", hint=LOGIN_HINT)
    return key


def get_json(
    settings: Settings,
    path: str,
    what: str,
    params: dict[str, str] | None = None,
    not_found: CliError | None = None,
) -> Any:
    """GET {base}{path} with the key as Basic auth; the parsed JSON, or a CliError with the exit status
    (`not_found`, when given, for a 404)."""
    key = require_key(settings)
    # Imported here: the HTTP library, and the error tables, are only needed once a request is made
    # (models.py and routers.py import this module on every start, for completion and --help).
    import httpx2

    from inworld_cli.router_errors import network_hint, status_error

    base = settings.base_url.value
    timeout = min(settings.timeout.value, READ_TIMEOUT_S)
    headers = {
        "Authorization": f"Basic {key}",
        "Accept": "application/json",
        "User-Agent": f"inworld-router/{__version__}",
    }
    try:
        with httpx2.Client(
            trust_env=False,
            follow_redirects=False,
            timeout=httpx2.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
        ) as client:
            response = client.get(base + path, params=params, headers=headers)
    except httpx2.TimeoutException:
        raise NetworkFailure(
            f"the router at {base} did not answer within {timeout:g} s", hint=network_hint(base, os.environ)
        ) from None
    except httpx2.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise NetworkFailure(
            f"cannot reach the router at {base}: {reason}", hint=network_hint(base, os.environ)
        ) from None
    if response.status_code == 404 and not_found is not None:
        raise not_found
    if response.status_code != 200:
        raise status_error(response.status_code, response.headers, response.content, base_url=base)
    try:
        return response.json()
    except ValueError:
        raise RouterFailure(
            f"the router's answer for {what} is not JSON (content-type "
            f"{response.headers.get('content-type', 'none')})",
            hint="check the base URL: inworld-router auth status",
        ) from None


def _malformed(what: str, detail: str) -> RouterFailure:
    return RouterFailure(f"unexpected answer from the router for {what}: {detail}")


def _list_pages(settings: Settings, path: str, key: str, what: str, page_size: int | None) -> list[Any]:
    """Every item of a paginated list (`nextPageToken` followed with `page_token`)."""
    items: list[Any] = []
    params: dict[str, str] = {"page_size": str(page_size)} if page_size else {}
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        page = get_json(settings, path, what, params or None)
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


# -- names --------------------------------------------------------------------------------------------


def model_id(item: Any) -> str | None:
    """A catalogue entry's model id (the `model` field, as the router lists it)."""
    if isinstance(item, dict):
        for key in ("model", "id", "name"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return None


def router_id(item: Any) -> str | None:
    """A saved router's id: `name` is "routers/<id>"; the id is what goes after `inworld/`."""
    if isinstance(item, dict):
        name = item.get("name") or item.get("id")
        if isinstance(name, str) and name:
            return name.rsplit("/", 1)[-1]
    return None


def normalize_router_id(raw: str) -> str:
    """Accept `my-router`, `inworld/my-router` and `routers/my-router` alike."""
    value = raw.strip()
    for prefix in ("inworld/", "routers/"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


# -- fetching with the cache ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    data: Any
    fetched_at: float
    from_cache: bool
    problem: str | None = None  # set when a stale cache is served: why the router could not be asked


class Catalog:
    def __init__(self, settings: Settings, now: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.now = now
        self.cache = Cache(settings.paths.cache_dir, settings.base_url.value, require_key(settings))
        self.warnings: list[str] = []  # cache write failures: the command still has its data

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
            "models", refresh, lambda: _list_pages(self.settings, MODELS_PATH, "models", "the models", None)
        )

    def routers(self, refresh: bool = False) -> Fetched:
        return self._cached(
            "routers",
            refresh,
            lambda: _list_pages(self.settings, ROUTERS_PATH, "routers", "the saved routers", PAGE_SIZE),
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
            f"no router '{rid}' at {self.settings.base_url.value}", hint="list them: inworld-router routers"
        )
        data = get_json(self.settings, path, f"router '{rid}'", not_found=unknown)
        if not isinstance(data, dict):
            raise _malformed(f"router '{rid}'", "not an object")
        return data
