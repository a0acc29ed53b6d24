"""Answers of the catalogue and saved-router endpoints, kept on disk.

One JSON file per kind ("models", "routers", "router/<id>") per base URL and key (saved routers belong to
an account: two profiles on one URL must not see each other's), in the platformdirs cache dir, 0600 under
0700, written atomically. A cache is never an error: a file that cannot be read is no entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inworld_cli.store.files import atomic_write

CACHE_TTL_S = 24 * 3600
CACHE_FORMAT = 1


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
    def __init__(self, cache_dir: Path, base_url: str, api_key: str) -> None:
        self.cache_dir = cache_dir
        self.base_url = base_url
        self._account = _digest(base_url, api_key)

    def path(self, kind: str) -> Path:
        name = kind if "/" not in kind else f"router-{_digest(kind)}"
        return self.cache_dir / f"{name}-{self._account}.json"

    def load(self, kind: str) -> Entry | None:
        """The cached entry, or None when there is none or it cannot be read."""
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
