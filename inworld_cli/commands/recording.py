"""History records of exchanges, built, priced and saved the same way by every command that sends (ask, and
the commands of many requests): from the exchange's result, however it ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inworld_cli.core.record import Record, base_url_host, new_record_id, utc_timestamp
from inworld_cli.errors import ErrorDetails, ExitStatus

if TYPE_CHECKING:
    from inworld_cli.output.console import Streams
    from inworld_cli.router.exchange import ExchangeResult
    from inworld_cli.router.prices import PriceList
    from inworld_cli.store.settings import Settings


@dataclass
class Recorder:
    settings: Settings
    streams: Streams
    prices: PriceList | None = None  # the catalogue's prices: each record gets the cost of what it used

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

        try:
            HistoryStore(self.settings.paths.history_db).add(record)
        except HistoryError as exc:
            self.streams.warn(f"this request was not saved in history: {exc.message}")
