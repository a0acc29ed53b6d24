"""The benchmark's router: the test suite's stand-in (tests/router_server.py) in a process of its own.

    python benchmarks/serve.py [--delay S] [--limit N]   # prints its base URL, serves until its stdin closes

Default answers as in the tests ("Hello!", streamed or not), and the tests' model catalogue. A prompt
containing `deltas=N` gets an answer of N text deltas of "x " instead, encoded once per N and written in one go, so that the server's own cost stays
out of the client's timings. It runs apart from the benchmark so that it never competes with it for a GIL.

For the batch benchmarks (benchmarks/batch.py): `--delay S` answers every message after S seconds (a
streamed "Hello!" written in one go); `--limit N` accepts at most N messages in any second (a sliding
window) and answers the others 429 with `retry-after: 1`. GET /bench/stats says what it accepted (per
prompt), refused, and when; GET /bench/reset forgets it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fixtures_catalog import MODELS, MODELS_PATH
from tests.router_server import Reply, RouterServer, json_reply, message, sse_events

DELTAS = re.compile(rb"deltas=(\d+)")


def encode_events(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    """The same bytes router_server writes event by event."""
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


STREAM = Reply(kind="raw", body=encode_events(sse_events()), content_type="text/event-stream")


class BenchRouter(RouterServer):
    def __init__(self, delay: float | None = None, limit: int | None = None) -> None:
        self._long_streams: dict[int, bytes] = {}
        self._delay = delay
        self._limit = limit
        self._stats_lock = threading.Lock()
        self._window: deque[float] = deque()  # when the messages of the last second were accepted
        self._accepted: Counter[str] = Counter()
        self._refused = 0
        self._first: float | None = None
        self._last: float | None = None
        super().__init__()
        self.routes[MODELS_PATH] = json_reply({"models": MODELS})

    def next_reply(self, path: str, request_json: Any) -> Reply:
        if path.startswith("/bench/"):
            return self._bench(path)
        if (self._delay is not None or self._limit) and path.startswith("/v1/messages"):
            return self._limited(request_json)
        return self._answer(path, request_json)

    def _bench(self, path: str) -> Reply:
        with self._stats_lock:
            if path.startswith("/bench/reset"):
                self._accepted.clear()
                self._window.clear()
                self._refused, self._first, self._last = 0, None, None
            stats = {
                "accepted": dict(self._accepted),
                "refused": self._refused,
                "first": self._first,
                "last": self._last,
            }
        with self._lock:
            self.requests.clear()  # a 10,000-item run would keep every body
        return json_reply(stats)

    def _limited(self, request_json: Any) -> Reply:
        """The batch benchmarks' router: a sliding-window limit, then a slow streamed answer."""
        messages = request_json.get("messages") if isinstance(request_json, dict) else None
        prompt = json.dumps(messages[-1]["content"]) if messages else ""
        with self._stats_lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if self._limit is not None and len(self._window) >= self._limit:
                self._refused += 1
                body = {"type": "error", "error": {"type": "rate_limit_error", "message": "rate limited"}}
                return json_reply(body, 429, headers={"retry-after": "1"})
            self._window.append(now)
            self._accepted[prompt] += 1
            self._first = now if self._first is None else self._first
            self._last = now
        return dataclasses.replace(STREAM, delay=self._delay or 0.0)

    def _answer(self, path: str, request_json: Any) -> Reply:
        found = DELTAS.search(json.dumps(request_json).encode()) if path.startswith("/v1/messages") else None
        if not found:
            return super().next_reply(path, request_json)
        count = int(found.group(1))
        if not request_json.get("stream"):
            return json_reply(message("x " * count))
        if count not in self._long_streams:
            self._long_streams[count] = encode_events(sse_events(chunks=["x "] * count))
        return Reply(kind="raw", body=self._long_streams[count], content_type="text/event-stream")


def main() -> None:
    parser = argparse.ArgumentParser(description="The benchmark's router.")
    parser.add_argument("--delay", type=float, default=None, help="seconds before each message's answer")
    parser.add_argument("--limit", type=int, default=None, help="messages accepted per second, at most")
    args = parser.parse_args()
    server = BenchRouter(args.delay, args.limit)
    print(server.url, flush=True)
    sys.stdin.read()  # the benchmark holds the other end: stop when it closes it, or dies
    server.stop()


if __name__ == "__main__":
    main()
