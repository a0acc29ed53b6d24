"""A stand-in for the Inworld Router on 127.0.0.1, started by the tests themselves.

It speaks the Messages API (JSON and server-sent events, with routing `metadata` wherever a test puts it),
the models and routers endpoints, and every failure a test asks for: error statuses and bodies, HTML, a
stream cut mid-way, a stall, a slow answer. It records every request it receives (headers and body).

Written on the standard library rather than pytest-httpserver because the tests need control that a
request/response mock does not give: chunked SSE written event by event, a connection dropped mid-stream,
stalls between events.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_METADATA: dict[str, Any] = {
    "attempts": [{"model": "anthropic/claude-opus-4-6", "success": True, "time_to_first_token_ms": 120}],
    "generation_id": "gen-0001",
    "reasoning": "Using specified model: 'anthropic/claude-opus-4-6' - success",
}

FAILOVER_METADATA: dict[str, Any] = {
    "attempts": [
        {"model": "openai/gpt-5", "success": False, "time_to_first_token_ms": None, "error": "upstream 503"},
        {"model": "google-ai-studio/gemini-2.5-flash", "success": False, "status": 429},
        {"model": "anthropic/claude-opus-4-6", "success": True, "time_to_first_token_ms": 840},
    ],
    "generation_id": "gen-failover-42",
    "reasoning": "openai/gpt-5 failed (503); gemini rate limited; fell back to anthropic/claude-opus-4-6",
}


def message(
    text: str = "Hello!",
    *,
    model: str = "anthropic/claude-opus-4-6",
    metadata: dict[str, Any] | None = DEFAULT_METADATA,
    content: list[dict[str, Any]] | None = None,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A Messages API response as the router sends it."""
    body: dict[str, Any] = {
        "id": "msg-test-1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 12, "output_tokens": 7},
    }
    if metadata is not None:
        body["metadata"] = metadata
    return body


def sse_events(
    text: str = "Hello!",
    *,
    chunks: list[str] | None = None,
    model: str = "anthropic/claude-opus-4-6",
    metadata: dict[str, Any] | None = DEFAULT_METADATA,
    metadata_in: str = "stop",
    stop: bool = True,
    extra_blocks: list[dict[str, Any]] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The server-sent events of a streamed answer. `metadata_in`: start, delta, stop or own (an event
    type of its own, `router_metadata`)."""
    pieces = chunks if chunks is not None else [text[i : i + 3] for i in range(0, len(text), 3)] or [""]
    start = message(
        "", model=model, metadata=None, content=[], usage={"input_tokens": 12, "output_tokens": 0}
    )
    start["stop_reason"] = None
    if metadata is not None and metadata_in == "start":
        start["metadata"] = metadata
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    index = 0
    for block in extra_blocks or []:
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        )
    )
    events.append(("ping", {"type": "ping"}))
    for piece in pieces:
        delta = {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": piece},
        }
        events.append(("content_block_delta", delta))
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    message_delta: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": len(pieces)},
    }
    if metadata is not None and metadata_in == "delta":
        message_delta["metadata"] = metadata
    events.append(("message_delta", message_delta))
    if metadata is not None and metadata_in == "own":
        events.append(("router_metadata", {"type": "router_metadata", "metadata": metadata}))
    if stop:
        message_stop: dict[str, Any] = {"type": "message_stop"}
        if metadata is not None and metadata_in == "stop":
            message_stop["metadata"] = metadata
        events.append(("message_stop", message_stop))
    return events


@dataclass
class Reply:
    """What the server answers to one request.

    kind: "json" (body as JSON), "raw" (body bytes as is), "sse" (events as a chunked event stream).
    """

    kind: str = "json"
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    event_delay: float = 0.0  # between events
    cut_after: int | None = None  # drop the connection after this many events (no final chunk)
    stall_after: int | None = None  # stop sending, keep the connection open, after this many events
    content_type: str | None = None
    body_cut_after: int | None = None  # json/raw: drop the connection after this many bytes of the body


def json_reply(body: Any, status: int = 200, **kwargs: Any) -> Reply:
    return Reply(kind="json", status=status, body=body, **kwargs)


def sse_reply(events: list[tuple[str, dict[str, Any]]] | None = None, **kwargs: Any) -> Reply:
    return Reply(kind="sse", events=events if events is not None else sse_events(), **kwargs)


def error_reply(
    status: int, message: str = "something went wrong", err_type: str = "api_error", **kwargs: Any
) -> Reply:
    body = {"type": "error", "error": {"type": err_type, "message": message}}
    return Reply(kind="json", status=status, body=body, **kwargs)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # Every header line as sent, duplicates kept (`headers` keeps only the last of each name).
    header_lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of parallel clients (the load tests) queue instead of retrying SYNs

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request is no error of the server's: `ask` leaves at once when its
        # answer is done, even while its background catalogue refresh is still being answered.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RouterServer:
    """Messages to /v1/messages come from `responder` when set (a reply computed from the request, e.g.
    from its prompt), else from a queue of replies (then a default answer); other paths from `routes`, a
    fixed reply per path."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: deque[Reply] = deque()
        self.routes: dict[str, Reply] = {}
        self.responder: Callable[[Received], Reply] | None = None
        # Paths whose reply depends on the request (e.g. on the key it carries), computed per request.
        self.gatekeepers: dict[str, Callable[[Received], Reply]] = {}
        self.dropped = 0  # replies the client hung up on before they were written whole
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        handler = _make_handler(self)
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for the next poll, and every test stops a server.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def next_reply(self, path: str, request_json: Any) -> Reply:
        with self._lock:
            for prefix, reply in self.routes.items():
                if path.startswith(prefix):
                    return reply
            if path.startswith("/v1/messages") and self.replies:
                return self.replies.popleft()
        if path.startswith("/v1/messages"):
            streaming = isinstance(request_json, dict) and request_json.get("stream")
            return sse_reply() if streaming else json_reply(message())
        return error_reply(404, f"no route for {path}", "not_found_error")

    @property
    def messages_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.startswith("/v1/messages")]

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _make_handler(server: RouterServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                [(k.lower(), v) for k, v in self.headers.items()],
            )
            with server._lock:
                server.requests.append(received)
            try:
                request_json = json.loads(body) if body else None
            except ValueError:
                request_json = None
            responder = server.responder
            route = next((r for p, r in server.gatekeepers.items() if self.path.startswith(p)), None)
            if route is not None:
                reply = route(received)
            elif responder is not None and self.path.startswith("/v1/messages"):
                reply = responder(received)
            else:
                reply = server.next_reply(self.path, request_json)
            if reply.delay and server._stopping.wait(reply.delay):
                return
            try:
                if reply.kind == "sse":
                    self._send_sse(reply)
                else:
                    self._send_body(reply)
            except (BrokenPipeError, ConnectionResetError):
                with server._lock:
                    server.dropped += 1

        def _send_body(self, reply: Reply) -> None:
            if reply.kind == "json":
                data = json.dumps(reply.body).encode()
                content_type = reply.content_type or "application/json"
            else:
                data = reply.body if isinstance(reply.body, bytes) else str(reply.body).encode()
                content_type = reply.content_type or "text/html"
            self.send_response(reply.status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self._send_headers(reply)
            self.end_headers()
            if reply.body_cut_after is not None:
                self.wfile.write(data[: reply.body_cut_after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(data)
            self.wfile.flush()

        def _send_sse(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type or "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self._send_headers(reply)
            self.end_headers()
            for count, (name, data) in enumerate(reply.events):
                if reply.cut_after is not None and count >= reply.cut_after:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if reply.stall_after is not None and count >= reply.stall_after:
                    server._stopping.wait(3600)
                    return
                self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                if reply.event_delay:
                    time.sleep(reply.event_delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _send_headers(self, reply: Reply) -> None:
            """The reply's own headers; a request id unless the reply brings its own."""
            if "request-id" not in {name.lower() for name in reply.headers}:
                self.send_header("request-id", "req-test-123")
            for name, value in reply.headers.items():
                self.send_header(name, value)

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    return Handler


def serve_forever_from_cli() -> None:  # pragma: no cover - used by benchmarks and manual runs
    """`python -m tests.router_server`: print the URL, serve default answers until interrupted."""
    server = RouterServer()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    serve_forever_from_cli()
