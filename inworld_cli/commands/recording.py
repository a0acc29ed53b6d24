"""History records of exchanges, built, priced and saved the same way by every command that sends (ask, and
the commands of many requests): from the exchange's result, however it ended."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inworld_cli.core.record import Record, base_url_host, new_record_id, utc_timestamp
from inworld_cli.errors import ErrorDetails, ExitStatus

if TYPE_CHECKING:
    from inworld_cli.output.console import Streams
    from inworld_cli.router.exchange import ExchangeResult
    from inworld_cli.router.prices import PriceList
    from inworld_cli.store.history import HistoryError
    from inworld_cli.store.settings import Settings


@dataclass
class Recorder:
    """Builds and saves records; used from one thread (SQLite connections belong to the thread that made
    them), which for the commands of many requests is the one that consumes their events."""

    settings: Settings
    streams: Streams
    prices: PriceList | None = None  # the catalogue's prices: each record gets the cost of what it used
    _add: Callable[[Record], None] | None = field(default=None, init=False, repr=False)
    _unsaved: int = field(default=0, init=False, repr=False)
    _unopened: bool = field(default=False, init=False, repr=False)  # one_connection could not open it

    def requests_start(self) -> None:
        """Call as the first request starts: a missing or stale catalogue is fetched alongside it."""
        if self.prices is not None:
            self.prices.refresh_alongside()

    def record(
        self,
        body: dict[str, Any],
        result: ExchangeResult | None,
        *,
        created: float,
        error: ErrorDetails | None = None,
        status: int | None = None,
        **links: str | None,
    ) -> Record:
        """The record of one exchange that started at `created` (seconds since the epoch). `result` None:
        it never started (no key); `error` and `status` default to the result's; `links` are the ids that
        tie it to others (conversation_id, batch_id, compare_id)."""
        if error is None and result is not None and result.error is not None:
            error = result.error.details
        if status is None:
            status = result.error.status if result is not None and result.error else ExitStatus.OK
        message = result.message if result is not None else None
        record = Record(
            id=new_record_id(created),
            created_at=utc_timestamp(created),
            profile=self.settings.profile.value,
            base_url_host=base_url_host(self.settings.base_url.value),
            request=body,
            response=message,
            error=error.to_json() if error is not None else None,
            timings={
                "ttft_ms": result.ttft_ms if result is not None else None,
                "total_ms": result.total_ms if result is not None else 0.0,
            },
            exit_status=status,
            partial=message is not None and not (result is not None and result.complete),
            **links,  # type: ignore[arg-type]
        )
        if self.prices is not None and message is not None:
            record.cost = self.prices.cost(record.served_model, record.usage)
        return record

    def save(self, record: Record) -> None:
        """Into history, unless logging is off; a history that cannot be written is a warning, never the
        end of the command."""
        if not self.settings.history.value:
            return
        from inworld_cli.store.history import HistoryError, HistoryStore

        if self._unopened:
            self._unsaved += 1
            return
        try:
            if self._add is not None:
                self._add(record)
            else:
                HistoryStore(self.settings.paths.history_db).add(record)
        except HistoryError as exc:
            self._not_saved(exc)

    def _not_saved(self, exc: HistoryError) -> None:
        """The first failure is a warning; the ones after it are only counted (a batch of thousands must
        not print thousands of lines), and one_connection says how many there were at its end."""
        self._unsaved += 1
        if self._unsaved == 1:
            self.streams.warn(f"this request was not saved in history: {exc.message}")

    @contextlib.contextmanager
    def one_connection(self) -> Iterator[None]:
        """Every save inside goes through one database connection (for the commands of many requests: a
        connection per record would pay an open, a schema check and a close each time)."""
        if not self.settings.history.value:
            yield
            return
        from inworld_cli.store.history import HistoryError, HistoryStore

        with contextlib.ExitStack() as stack:
            try:
                store = HistoryStore(self.settings.paths.history_db)
                self._add = stack.enter_context(store.writer(many=True))
            except HistoryError as exc:
                self.streams.warn(f"these requests are not saved in history: {exc.message}")
                self._unopened = True  # not tried again for every record
            try:
                yield
            finally:
                self._add = None
                self._unopened = False
        if self._unsaved > 1:
            self.streams.warn(f"{self._unsaved} requests in all were not saved in history")
        self._unsaved = 0
