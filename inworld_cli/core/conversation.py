"""Conversations: the turns of `ask -c` put back together from history, their title and summary, and the
estimate of how much of a model's context they fill. Pure.

A conversation is named after its first turn: its id is that record's id. Records from before
conversations existed (no `conversation_id`) are each a conversation of one turn, named after themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from inworld_cli.core.attachments import decoded
from inworld_cli.core.catalogue import context_tokens, model_id, provider_of
from inworld_cli.core.record import Record, turn_text
from inworld_cli.core.text import NOT_UTF8, one_line

TITLE_LENGTH = 80


def answered(record: Record) -> bool:
    """A turn that goes into the context: it succeeded, whole, with an answer to send back."""
    content = (record.response or {}).get("content")
    return (
        record.exit_status == 0
        and record.error is None
        and not record.partial
        and isinstance(content, list)
        and bool(content)
    )


def user_turn_of(record: Record) -> dict[str, Any] | None:
    """The user turn a record added: the last message it sent."""
    messages = record.request.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    return last if isinstance(last, dict) and last.get("role") == "user" else None


def _sendable(value: Any) -> Any:
    """The answer as received, but for half an emoji's escape pair (a lone surrogate, which a broken
    stream can send and no UTF-8 request can carry): U+FFFD in its place, as it was shown."""
    if isinstance(value, str):
        return NOT_UTF8.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    return value


def context_messages(records: Iterable[Record]) -> list[dict[str, Any]]:
    """The earlier turns, oldest first: each user turn exactly as it was sent and each answer exactly as it
    was received. Failed and interrupted turns are left out."""
    messages: list[dict[str, Any]] = []
    for record in records:
        user = user_turn_of(record)
        if user is not None and answered(record):
            answer = _sendable((record.response or {})["content"])
            messages += [user, {"role": "assistant", "content": answer}]
    return messages


@dataclass(frozen=True)
class Continued:
    """A conversation about to get a new turn."""

    id: str
    records: tuple[Record, ...]  # oldest first, failed turns included

    @property
    def messages(self) -> list[dict[str, Any]]:
        return context_messages(self.records)

    @property
    def model(self) -> str | None:
        """The model of its latest turn (what was asked for: the router routes again)."""
        return self.records[-1].requested_model if self.records else None

    @property
    def system(self) -> Any:
        """The system prompt of its latest turn (None: it had none)."""
        return self.records[-1].request.get("system") if self.records else None

    @property
    def served_model(self) -> str | None:
        return next((r.served_model for r in reversed(self.records) if r.served_model), None)

    @property
    def tokens_so_far(self) -> int | None:
        """What the latest answered turn counted, its question and answer included: the context's size in
        the model's own tokens."""
        for record in reversed(self.records):
            if answered(record):
                tokens_in, tokens_out = record.usage.get("input_tokens"), record.usage.get("output_tokens")
                if isinstance(tokens_in, int) and isinstance(tokens_out, int):
                    return tokens_in + tokens_out
                return None
        return 0


# -- titles and summaries -----------------------------------------------------------------------------


def title_of(request: dict[str, Any]) -> str:
    messages = request.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    content = last.get("content") if isinstance(last, dict) else None
    return one_line(turn_text(content), TITLE_LENGTH) or "-"


@dataclass(frozen=True)
class TurnRow:
    """One turn as the listing needs it: indexed columns only, no JSON."""

    id: str
    created_at: str
    exit_status: int
    served_model: str | None
    input_tokens: int | None
    output_tokens: int | None


def _total(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    turns: int  # answered turns: those that are the context
    failed: int  # failed or interrupted turns, left out of the context
    models: tuple[str, ...]  # the models that answered, in order of first use (a failed turn's none)
    input_tokens: int | None
    output_tokens: int | None
    created_at: str
    last_used_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "turns": self.turns,
            "failed": self.failed,
            "models": list(self.models),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        }


def summary_of(conversation_id: str, rows: Sequence[TurnRow], first_request: dict[str, Any]) -> Summary:
    """`rows` oldest first (never empty)."""
    # Served ones only: a turn that failed before any model answered used none (its requested model may be
    # `auto` or a router, which is no model).
    models = dict.fromkeys(row.served_model for row in rows if row.served_model)
    ok = sum(1 for row in rows if row.exit_status == 0)
    return Summary(
        id=conversation_id,
        title=title_of(first_request),
        turns=ok,
        failed=len(rows) - ok,
        models=tuple(models),
        input_tokens=_total(row.input_tokens for row in rows),
        output_tokens=_total(row.output_tokens for row in rows),
        created_at=rows[0].created_at,
        last_used_at=rows[-1].created_at,
    )


# -- the context's size -------------------------------------------------------------------------------

NEAR = 0.8  # warn from this share of the context length on
IMAGE_TOKENS = 1600  # Anthropic's estimate for an image at the largest size it keeps
PDF_PAGE_TOKENS = 2500  # text and the page's image, by Anthropic's range of 1,500-3,000 text tokens a page
CHARS_PER_TOKEN = 4
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def estimated_tokens(content: object) -> int:
    """A rough count for what no model has counted yet: text by its length, images and PDF pages at
    Anthropic's estimates (a PDF's pages are counted in its bytes)."""
    if isinstance(content, str):
        return len(content) // CHARS_PER_TOKEN
    total = 0
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        source = block["source"] if isinstance(block.get("source"), dict) else {}
        if block.get("type") == "image":
            total += IMAGE_TOKENS
        elif source.get("type") == "text" and isinstance(source.get("data"), str):
            total += len(source["data"]) // CHARS_PER_TOKEN
        elif block.get("type") == "document":
            raw = decoded(source)
            total += PDF_PAGE_TOKENS * max(1, len(_PDF_PAGE.findall(raw)) if raw is not None else 1)
        elif isinstance(block.get("text"), str):
            total += len(block["text"]) // CHARS_PER_TOKEN
    return total


def context_length_of(model: str, catalogue: object) -> tuple[str, int] | None:
    """The catalogue entry (as `provider/model`) and context length for a router model id. The catalogue
    names some providers differently (`google` for the router's `google-ai-studio`), so an entry whose model
    matches and whose provider does not is taken when it is the only one."""
    provider, _, name = model.rpartition("/")
    items = catalogue if isinstance(catalogue, list) else []
    matches = [item for item in items if model_id(item) in (model, name) and context_tokens(item) is not None]
    exact = [item for item in matches if provider_of(item) == provider]
    chosen = exact or (matches if len(matches) == 1 else [])
    if not chosen:
        return None
    item = chosen[0]
    return f"{provider_of(item) or '?'}/{model_id(item)}", context_tokens(item) or 0


def context_warning(tokens: int, max_tokens: int, model: str, length: int) -> str | None:
    """The warning for a request that fills most of the model's context, or leaves it no room for an
    answer of --max-tokens."""
    where = f"the {length:,}-token context of {model} (from the cached catalogue)"
    if tokens >= NEAR * length:
        size = f"{tokens:,} tokens, {tokens / length:.0%} of {where}"
    elif tokens + max_tokens > length:
        size = f"{tokens:,} tokens of {where}, which leaves less than --max-tokens ({max_tokens:,}) for the answer"
    else:
        return None
    return (
        f"this request is about {size}; earlier turns are never left out to make it fit: start a new "
        "conversation, or continue with a model with a longer context (-m)"
    )
