"""The catalogue's prices for the records a command writes, without making any answer wait for them.

The cached catalogue (the one `models` fills) is used as it is. When it is missing or older than its
24 hours, `refresh_alongside()` fetches it again in a background thread, called when the command's first
request starts, never before it. A record takes the freshest prices there are when it is written: the
refreshed catalogue once the fetch has finished, else the cache on disk (which may be the stale one), else
none, and the record is unpriced. Nothing waits for the fetch: a process that ends while it runs abandons
it, and the next command tries again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from inworld_cli.core.pricing import Price, cost_of, find_price
from inworld_cli.core.record import utc_timestamp
from inworld_cli.router.catalog import Catalog


class PriceList:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._started = False
        self._fetched: tuple[Any, float] | None = None  # (the catalogue, when it was fetched)

    def refresh_alongside(self) -> None:
        """When the cache is missing or stale, fetch the catalogue in a daemon thread (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        entry = self._catalog.cache.load("models")
        if entry is not None and entry.fresh(self._catalog.now()):
            return
        threading.Thread(target=self._refresh, name="catalogue-refresh", daemon=True).start()

    def _refresh(self) -> None:
        # Prices are a bonus: any failure leaves the records unpriced, and a thread's uncaught exception
        # would print a traceback on stderr.
        with contextlib.suppress(Exception):
            fetched = self._catalog.models()
            with self._lock:
                self._fetched = (fetched.data, fetched.fetched_at)

    def _catalogue(self) -> tuple[Any, float] | None:
        with self._lock:
            if self._fetched is not None:
                return self._fetched
        entry = self._catalog.cache.load("models")
        return (entry.data, entry.fetched_at) if entry is not None else None

    def price(self, served_model: str) -> tuple[Price, str] | None:
        """The served model's price and when the catalogue holding it was fetched (UTC), or None."""
        catalogue = self._catalogue()
        if catalogue is None:
            return None
        data, fetched_at = catalogue
        price = find_price(data if isinstance(data, list) else [], served_model)
        return (price, utc_timestamp(fetched_at)) if price is not None else None

    def cost(self, served_model: str | None, usage: dict[str, Any]) -> dict[str, Any] | None:
        """A record's `cost` for what the served model used; None when it cannot be priced."""
        found = self.price(served_model) if served_model else None
        return cost_of(usage, *found) if found is not None else None
