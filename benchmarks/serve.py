"""The benchmark's router: the test suite's stand-in (tests/router_server.py) in a process of its own.

    python benchmarks/serve.py     # prints its base URL, serves until its stdin closes

Default answers as in the tests ("Hello!", streamed or not), and the tests' model catalogue. A prompt
containing `deltas=N` gets an answer of N text deltas of "x " instead, encoded once per N and written in one go, so that the server's own cost stays
out of the client's timings. It runs apart from the benchmark so that it never competes with it for a GIL.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fixtures_catalog import MODELS, MODELS_PATH
from tests.router_server import Reply, RouterServer, json_reply, message, sse_events

DELTAS = re.compile(rb"deltas=(\d+)")


def encode_events(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    """The same bytes router_server writes event by event."""
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


class BenchRouter(RouterServer):
    def __init__(self) -> None:
        self._long_streams: dict[int, bytes] = {}
        super().__init__()
        self.routes[MODELS_PATH] = json_reply({"models": MODELS})

    def next_reply(self, path: str, request_json: Any) -> Reply:
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
    server = BenchRouter()
    print(server.url, flush=True)
    sys.stdin.read()  # the benchmark holds the other end: stop when it closes it, or dies
    server.stop()


if __name__ == "__main__":
    main()
