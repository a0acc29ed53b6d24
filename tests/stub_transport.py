"""A transport that answers from memory: for exchange tests that need no socket (property tests, many
exchanges at once). It records every body it was given."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from inworld_cli.router.exchange import Exchange, ExchangeRequest
from inworld_cli.router.transport import Endpoint


@dataclass
class StubResponse:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    body: list[bytes] = field(default_factory=list)  # the chunks, as they arrive
    closed: bool = False

    def chunks(self) -> Iterator[bytes]:
        for chunk in self.body:
            if self.closed:
                return
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def close(self) -> None:
        self.closed = True


@dataclass
class StubTransport:
    replies: list[StubResponse | Exception]
    sent: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def prepare(self, endpoint: Endpoint) -> None:
        pass

    def post_messages(self, endpoint: Endpoint, content: bytes) -> Any:
        with self._lock:
            self.sent.append(content)
            reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


class NoWait:
    """A clock whose waits return at once."""

    def monotonic(self) -> float:
        import time

        return time.monotonic()

    def time(self) -> float:
        import time

        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.is_set()


ENDPOINT = Endpoint("http://127.0.0.1:9", "k-123456", 30.0)


def stub_exchange(
    *replies: StubResponse | Exception, body: dict[str, Any] | None = None, retries: int = 2
) -> Exchange:
    request = ExchangeRequest(ENDPOINT, body or {"model": "auto", "stream": True}, retries)
    return Exchange(request, StubTransport(list(replies)), NoWait())  # type: ignore[arg-type]
