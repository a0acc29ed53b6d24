"""A history record: one exchange as it is stored, and as `inspect --json` and `history --json` print it.
Pure data."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from inworld_cli.core.trace import RoutingTrace, trace_of_response


def utc_timestamp(now: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds and a Z, e.g. 2026-11-25T09:42:14.123Z."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_record_id(now: float | None = None) -> str:
    """12 hex digits of milliseconds since the epoch + 8 random hex: ids sort by time, prefixes identify."""
    import secrets  # here, not at the top: only writers need it, and it costs readers ~3 ms (hmac, hashlib)

    millis = int((time.time() if now is None else now) * 1000)
    return f"{millis:012x}{secrets.token_hex(4)}"


def text_of(message: dict[str, Any]) -> str:
    """The text of a Messages response: its text blocks, joined."""
    content = message.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(
        block["text"]
        for block in content
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str)
    )


def _dict_or(value: object, default: dict[str, Any] | None) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else default


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class Record:
    id: str
    created_at: str
    profile: str
    base_url_host: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    error: dict[str, Any] | None
    timings: dict[str, Any]
    exit_status: int
    partial: bool = False
    conversation_id: str | None = None  # every recorded ask belongs to one; `ask -c` continues it
    batch_id: str | None = None  # the `batch` run that sent it
    compare_id: str | None = None  # the `compare` run that sent it, with one record per model
    cost: dict[str, Any] | None = None  # {usd, input_usd, output_usd, model, priced_at}; None: unpriced

    def to_json(self) -> dict[str, Any]:
        """Exactly the dataclass fields: the shape `inspect --json` and `history --json` print."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """Tolerant: a missing or mistyped key takes its default, so any record-ish JSON loads."""

        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        status = data.get("exit_status")
        return cls(
            id=text("id"),
            created_at=text("created_at"),
            profile=text("profile"),
            base_url_host=text("base_url_host"),
            request=_dict_or(data.get("request"), {}) or {},
            response=_dict_or(data.get("response"), None),
            error=_dict_or(data.get("error"), None),
            timings=_dict_or(data.get("timings"), {}) or {},
            exit_status=status if isinstance(status, int) and not isinstance(status, bool) else 0,
            partial=data.get("partial") is True,
            conversation_id=_text_or_none(data.get("conversation_id")),
            batch_id=_text_or_none(data.get("batch_id")),
            compare_id=_text_or_none(data.get("compare_id")),
            cost=_dict_or(data.get("cost"), None),
        )

    @property
    def requested_model(self) -> str | None:
        model = self.request.get("model")
        return model if isinstance(model, str) else None

    @property
    def served_model(self) -> str | None:
        model = (self.response or {}).get("model")
        return model if isinstance(model, str) else None

    @property
    def trace(self) -> RoutingTrace:
        return trace_of_response(self.response)

    @property
    def generation_id(self) -> str | None:
        return self.trace.generation_id

    @property
    def prompt(self) -> str:
        """The last user turn (what was asked): its text, with other blocks named (see `turn_text`)."""
        messages = self.request.get("messages")
        for message in reversed(messages if isinstance(messages, list) else []):
            if isinstance(message, dict) and message.get("role") == "user":
                return turn_text(message.get("content"))
        return ""

    @property
    def usage(self) -> dict[str, Any]:
        usage = (self.response or {}).get("usage")
        return usage if isinstance(usage, dict) else {}


def base_url_host(base_url: str) -> str:
    """host[:port] only: never a path, and never credentials someone put in the URL."""
    from urllib.parse import urlsplit

    return urlsplit(base_url).netloc.rpartition("@")[2]


def turn_text(content: object) -> str:
    """A user turn's text, its other blocks named: `[report.pdf] [image/png] Summarise this`."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict):
            parts.append(_block_label(block))
    return " ".join(parts)


def _block_label(block: dict[str, Any]) -> str:
    """An attachment by its URL, its name (a document's title) or its media type (an image has no name in
    the request); any other block by its type."""
    source = block["source"] if isinstance(block.get("source"), dict) else {}
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return f"[{source['url']}]"
    title, media_type = block.get("title"), source.get("media_type")
    if isinstance(title, str) and title:
        return f"[{title}]"
    return (
        f"[{media_type}]" if isinstance(media_type, str) and media_type else f"[{block.get('type', 'block')}]"
    )
