"""Content-addressed storage of what requests repeat: a record keeps each attachment, and each long text its
turn re-sends from earlier turns, as a reference to a blob (keyed by the SHA-256 of its bytes), so the same
10 MB PDF attached to ten turns, or re-sent by a conversation's every later turn, is stored once.

In a stored record, such a string is replaced by `{"$blob": "<sha256>", "encoding": "base64" | "utf-8"}`; the
blob holds the raw bytes (base64 decoded: a third smaller). Reading puts the exact string back, so
`history --json` and `inspect --json` print what was sent. A record only gets back the blobs it is linked to
(the `record_blobs` table), so a marker-shaped value in an answer cannot pull in another record's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Every reader of history loads this module: what only writing or restoring needs is imported there.

MARKER = "$blob"
# Text re-sent from earlier turns is stored by reference from this length on; shorter text stays inline,
# where it is readable and searchable.
LONG_TEXT = 8192


def _marker(raw: bytes, encoding: str, blobs: dict[str, bytes]) -> dict[str, str]:
    import hashlib  # here: only writers need it, and it costs readers ~3 ms

    digest = hashlib.sha256(raw).hexdigest()
    blobs[digest] = raw
    return {MARKER: digest, "encoding": encoding}


def _long_text(value: Any, blobs: dict[str, bytes]) -> Any:
    """A long string as a marker (when it can be encoded at all: a lone surrogate from the network stays)."""
    if isinstance(value, str) and len(value) >= LONG_TEXT:
        try:
            return _marker(value.encode("utf-8"), "utf-8", blobs)
        except UnicodeEncodeError:
            return value
    return value


def _context_turn(message: Any, blobs: dict[str, bytes]) -> Any:
    """An earlier turn re-sent: its long content string, or its text blocks' long text, by reference."""
    if not isinstance(message, dict):
        return message
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": _long_text(content, blobs)}
    if isinstance(content, list):
        blocks = [
            {**block, "text": _long_text(block["text"], blobs)}
            if isinstance(block, dict) and block.get("type") == "text"
            else block
            for block in content
        ]
        return {**message, "content": blocks}
    return message


def externalize(request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The request as stored, and the blobs it refers to (sha256 -> bytes). The request itself is not
    changed."""
    from inworld_cli.core.attachments import decoded, map_sources

    messages = request.get("messages")
    if not isinstance(messages, list):
        return request, {}
    blobs: dict[str, bytes] = {}

    def source(value: dict[str, Any]) -> dict[str, Any]:
        raw = decoded(value)
        if raw is not None:
            return {**value, "data": _marker(raw, "base64", blobs)}
        if value.get("type") == "text" and isinstance(value.get("data"), str):
            try:
                return {**value, "data": _marker(value["data"].encode("utf-8"), "utf-8", blobs)}
            except UnicodeEncodeError:
                return value
        return value

    stored = map_sources(messages, source)
    stored = [*(_context_turn(m, blobs) for m in stored[:-1]), *stored[-1:]]
    return {**request, "messages": stored}, blobs


def _is_marker(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get(MARKER), str) and len(value) == 2


def _walk(value: Any, found: set[str]) -> None:
    if _is_marker(value):
        found.add(value[MARKER])
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)


def references(request: object) -> set[str]:
    """The blobs a stored request refers to."""
    found: set[str] = set()
    _walk(request, found)
    return found


def restore(value: Any, blobs: Mapping[str, bytes], cache: dict[tuple[str, str], str] | None = None) -> Any:
    """The stored value with each marker whose blob is known replaced by the exact string it stood for
    (a marker whose blob is missing stays: it says what is missing). `cache`, shared between records,
    keeps one string per blob however many turns sent it."""
    import base64

    cache = {} if cache is None else cache

    def put_back(item: Any) -> Any:
        if _is_marker(item):
            digest, encoding = item[MARKER], item.get("encoding")
            raw = blobs.get(digest)
            if raw is None:
                return item
            key = (digest, str(encoding))
            if key not in cache:
                text = base64.b64encode(raw).decode("ascii") if encoding == "base64" else None
                cache[key] = text if text is not None else raw.decode("utf-8", "replace")
            return cache[key]
        if isinstance(item, dict):
            return {key: put_back(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [put_back(inner) for inner in item]
        return item

    return put_back(value)
