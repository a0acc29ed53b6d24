"""Server-sent events to one Messages response: pure, no IO, no SDK.

The SDK's own stream helpers drop or mislabel the router's `metadata` (see sdk-notes.md), and its typed
events cost a pydantic model per delta, so the client decodes the wire format itself: `SSEDecoder` turns
bytes into (event, data) pairs and `MessageAssembler` folds the parsed events into the message a
non-streaming request would have returned, with `metadata` merged from wherever the router put it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

# Which string field of a content block each delta type extends.
_DELTA_FIELDS = {"text_delta": "text", "thinking_delta": "thinking", "signature_delta": "signature"}
# A delta that arrives for a block whose start never came: the block type it implies.
_DELTA_BLOCK_TYPES = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "tool_use"}


class SSEDecoder:
    """Incremental server-sent-events decoder (the WHATWG rules that matter here).

    `feed(chunk)` returns the events completed by that chunk as (event name, data bytes); `flush()`
    returns an event left unterminated when the body ended (kept rather than lost). Lines may end in
    LF, CRLF or CR; comments (`:`) and `id`/`retry` fields are ignored.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str, bytes]]:
        buffer = self._pending + chunk if self._pending else chunk
        if b"\r" in buffer:
            # A CR at the very end may be the first half of a CRLF split across chunks: keep it back.
            held = buffer.endswith(b"\r")
            if held:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = buffer.split(b"\n")
            self._pending = lines.pop() + (b"\r" if held else b"")
        else:
            lines = buffer.split(b"\n")
            self._pending = lines.pop()
        events: list[tuple[str, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append((self._event or "message", b"\n".join(self._data)))
                self._event = ""
                self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                self._event = line[6:].strip().decode("utf-8", "replace")
            elif line == b"data":
                self._data.append(b"")
        return events

    def flush(self) -> list[tuple[str, bytes]]:
        events = self.feed(b"\n") if self._pending else []
        if self._data:
            events.append((self._event or "message", b"\n".join(self._data)))
        self._event = ""
        self._data = []
        return events


def sse_events(chunks: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """The (event name, data) pairs in a body that arrives in chunks, an unterminated last one included."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


def merge_metadata(current: dict[str, Any] | None, incoming: object) -> dict[str, Any] | None:
    """Merge a `metadata` object the router sent into what arrived before it.

    Later values win per key, except that a null never erases a value, and an `attempts` list is
    replaced only by one at least as long (a final summary may repeat fewer attempts than an earlier,
    fuller account). Anything that is not an object is ignored.
    """
    if not isinstance(incoming, dict):
        return current
    merged = dict(current) if current else {}
    for key, value in incoming.items():
        old = merged.get(key)
        if value is None and old is not None:
            continue
        if key == "attempts" and isinstance(old, list) and isinstance(value, list) and len(value) < len(old):
            continue
        merged[key] = value
    return merged


def non_text_block_types(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [
        str(block.get("type"))
        for block in content
        if isinstance(block, dict) and block.get("type") not in ("text", None)
    ]


class MessageAssembler:
    """Folds parsed stream events into one Messages response.

    `feed` returns the text a delta added (so the caller can print it at once) and otherwise None;
    `new_blocks` lists the non-text blocks started since `take_new_blocks()`; `error` holds the payload of an SSE
    `error` event; `stopped` says whether `message_stop` came; `take_metadata()` gives the routing metadata
    each time it changed. `message()` may be called at any time:
    after a failure it gives what arrived so far.
    """

    def __init__(self) -> None:
        self.events = 0
        self.stopped = False
        self.error: dict[str, Any] | None = None
        self.new_blocks: list[str] = []
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        # Text pieces per (block index, field), joined once at the end: no quadratic string building.
        self._pieces: dict[tuple[int, str], list[str]] = {}
        self._metadata: dict[str, Any] | None = None
        self.metadata_changed = False

    def feed(self, name: str, data: dict[str, Any]) -> str | None:
        self.events += 1
        kind = data.get("type") or name
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "content_block_start":
            return self._start_block(data)
        if kind == "message_start":
            return self._start_message(data)
        if kind == "message_delta":
            self._message_delta(data)
        elif kind == "message_stop":
            self.stopped = True
            self._merge(data.get("metadata"))
        elif kind == "error":
            error = data.get("error")
            self.error = error if isinstance(error, dict) else data
        elif kind not in ("ping", "content_block_stop"):
            self._unknown(kind, data)
        return None

    def _delta(self, data: dict[str, Any]) -> str | None:
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return None
        index = _index(data)
        delta_type = delta.get("type")
        if index not in self._blocks:
            implied = _DELTA_BLOCK_TYPES.get(str(delta_type), "text")
            self._blocks[index] = {"type": implied}
            if implied != "text":
                self.new_blocks.append(implied)
        if delta_type == "text_delta":
            text = delta.get("text")
            if isinstance(text, str) and text:
                self._piece(index, "text", text)
                return text
            return None
        field = _DELTA_FIELDS.get(str(delta_type))
        if field is not None:
            value = delta.get(field)
            if isinstance(value, str):
                self._piece(index, field, value)
        elif delta_type == "input_json_delta":
            value = delta.get("partial_json")
            if isinstance(value, str):
                self._piece(index, "partial_json", value)
        elif delta_type == "citations_delta":
            self._blocks[index].setdefault("citations", []).append(delta.get("citation"))
        else:
            # An unknown delta: extend the block's string fields, set the others, lose nothing.
            for key, value in delta.items():
                if key == "type":
                    continue
                if isinstance(value, str):
                    self._piece(index, key, value)
                else:
                    self._blocks[index][key] = value
        return None

    def _piece(self, index: int, field: str, value: str) -> None:
        pieces = self._pieces.get((index, field))
        if pieces is None:
            self._pieces[(index, field)] = [value]
        else:
            pieces.append(value)

    def _start_block(self, data: dict[str, Any]) -> str | None:
        block = data.get("content_block")
        block = dict(block) if isinstance(block, dict) else {"type": "text", "text": ""}
        index = _index(data)
        self._blocks[index] = block
        block_type = block.get("type")
        if block_type != "text":
            self.new_blocks.append(str(block_type))
            return None
        text = block.get("text")
        return text if isinstance(text, str) and text else None

    def _start_message(self, data: dict[str, Any]) -> str | None:
        message = data.get("message")
        if not isinstance(message, dict):
            return None
        message = dict(message)
        self._merge(message.pop("metadata", None))
        content = message.pop("content", None)
        # A second message_start (a failover mid-stream) updates what the first one said.
        self._message.update(message)
        # Some servers put content in message_start itself: keep it as the first blocks.
        texts = []
        for position, block in enumerate(content if isinstance(content, list) else []):
            if isinstance(block, dict):
                text = self._start_block({"index": position, "content_block": block})
                if text:
                    texts.append(text)
        return "".join(texts) or None

    def _message_delta(self, data: dict[str, Any]) -> None:
        delta = data.get("delta")
        if isinstance(delta, dict):
            delta = dict(delta)
            self._merge(delta.pop("metadata", None))
            self._message.update(delta)
        usage = data.get("usage")
        if isinstance(usage, dict):
            old = self._message.get("usage")
            self._message["usage"] = {**old, **usage} if isinstance(old, dict) else dict(usage)
        self._merge(data.get("metadata"))

    def _unknown(self, kind: str, data: dict[str, Any]) -> None:
        if "metadata" in data:
            self._merge(data["metadata"])
        elif "metadata" in kind:
            # An event named for the metadata and carrying it bare, e.g. `event: metadata`.
            self._merge({k: v for k, v in data.items() if k != "type"})

    def _merge(self, incoming: object) -> None:
        merged = merge_metadata(self._metadata, incoming)
        if merged is not self._metadata and merged != self._metadata:
            self._metadata = merged
            self.metadata_changed = True

    def take_metadata(self) -> dict[str, Any] | None:
        """The routing metadata merged so far, when it changed since the last call; else None."""
        if not self.metadata_changed:
            return None
        self.metadata_changed = False
        return dict(self._metadata or {})

    def take_new_blocks(self) -> list[str]:
        taken, self.new_blocks = self.new_blocks, []
        return taken

    def message(self) -> dict[str, Any]:
        """The message assembled from the events so far (a fresh dict each time)."""
        blocks = {index: dict(block) for index, block in self._blocks.items()}
        for (index, field), pieces in self._pieces.items():
            block = blocks[index]
            joined = "".join(pieces)
            if field == "partial_json":
                _finish_tool_input(block, joined)
            else:
                old = block.get(field)
                block[field] = (old if isinstance(old, str) else "") + joined
        message = {"type": "message", "role": "assistant", **self._message}
        message["content"] = [blocks[index] for index in sorted(blocks)]
        if self._metadata is not None:
            message["metadata"] = self._metadata
        return message


def _index(data: dict[str, Any]) -> int:
    index = data.get("index")
    return index if isinstance(index, int) else 0


def _finish_tool_input(block: dict[str, Any], raw: str) -> None:
    """A tool's input arrives as pieces of JSON; a cut stream leaves them unparsable: keep them raw."""
    if not raw:
        return
    try:
        block["input"] = json.loads(raw)
    except ValueError:
        block["partial_json"] = raw
