"""`batch` items: each input line checked and made into an item, an item's request body (the flags are
defaults for what it does not set), and the output line of a finished item. Pure: no IO.

Three forms of line: ours, `{"id", "prompt", "system", "model", "max_tokens", "temperature"}` (only `prompt`
required; `id` defaults to the line number); Anthropic's batch form, `{"custom_id", "params": {...}}`, whose
params are a Messages body; and with `--lines`, any non-empty line of plain text. Blank lines are skipped.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from inworld_cli.core.pricing import has_tokens, recorded_usd
from inworld_cli.core.record import Record, text_of
from inworld_cli.core.request import Parameters, build_body, undecodable, user_turn
from inworld_cli.core.routing_options import apply_routing
from inworld_cli.errors import UsageError

FORMS_HINT = (
    'each line is {"id": …, "prompt": …} or Anthropic\'s {"custom_id": …, "params": {…}}; for plain text, '
    "one prompt per line, use --lines"
)
OWN_KEYS = ("id", "prompt", "system", "model", "max_tokens", "temperature")
ANTHROPIC_KEYS = ("custom_id", "params")
ROLES = ("user", "assistant")


@dataclass(frozen=True)
class Item:
    id: str
    line: int
    prompt: str | None = None  # ours and --lines
    settings: Mapping[str, Any] = field(default_factory=dict)  # ours: system, model, max_tokens, temperature
    params: Mapping[str, Any] | None = None  # Anthropic's form: a Messages body


class BadLine(UsageError):
    """A line that is none of the forms; `cli` shows it as `SOURCE:LINE: what`."""

    def __init__(self, source: str, line: int, what: str, hint: str = FORMS_HINT) -> None:
        super().__init__(f"{source}:{line}: {what}", hint)


def parse_line(raw: bytes, line: int, source: str, *, plain: bool = False) -> Item | None:
    """The item on one line (`raw` with or without its line ending); None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        what = f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"
        raise BadLine(source, line, what, "convert the input first, e.g. iconv -f latin1 -t utf-8") from None
    if line == 1:
        text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    text = text.rstrip("\r\n")
    if not text.strip():
        return None
    if plain:
        return Item(id=str(line), line=line, prompt=text)
    try:
        data = json.loads(text)
    except ValueError as exc:
        what = f"not valid JSON: {getattr(exc, 'msg', exc)} (column {getattr(exc, 'colno', '?')})"
        raise BadLine(source, line, what) from None
    if not isinstance(data, dict):
        raise BadLine(source, line, f"a JSON {_kind(data)}, not an object")
    char = undecodable(data)
    if char is not None:
        raise BadLine(
            source, line, "a \\u escape that is half a character (a lone surrogate)", "fix that line"
        )
    if "custom_id" in data or "params" in data:
        return _anthropic_item(data, line, source)
    if "prompt" in data:
        return _own_item(data, line, source)
    keys = ", ".join(json.dumps(key) for key in data)
    raise BadLine(source, line, 'no "prompt"' + (f" (its keys: {keys})" if keys else " (an empty object)"))


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


def _unknown_keys(data: Mapping[str, Any], known: tuple[str, ...], source: str, line: int) -> None:
    unknown = [key for key in data if key not in known]
    if unknown:
        names = ", ".join(f'"{key}"' for key in unknown)
        raise BadLine(source, line, f"unknown key {names}", "the keys of this form: " + ", ".join(known))


def _own_item(data: Mapping[str, Any], line: int, source: str) -> Item:
    _unknown_keys(data, OWN_KEYS, source, line)

    def bad(what: str) -> BadLine:
        return BadLine(source, line, what, "see: inworld-router batch --help")

    prompt = data["prompt"]
    if not isinstance(prompt, str) or not prompt.strip():
        raise bad('"prompt" must be a non-empty string')
    item_id = data.get("id")
    if item_id is None:
        item_id = str(line)
    elif isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    elif not isinstance(item_id, str) or not item_id:
        raise bad('"id" must be a non-empty string or a whole number')
    settings: dict[str, Any] = {}
    for key in ("system", "model"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or (key == "model" and not value.strip()):
            raise bad(f'"{key}" must be a {"non-empty " if key == "model" else ""}string')
        settings[key] = value
    max_tokens = data.get("max_tokens")
    if max_tokens is not None:
        if not _whole(max_tokens) or max_tokens < 1:
            raise bad('"max_tokens" must be a whole number, at least 1')
        settings["max_tokens"] = max_tokens
    temperature = data.get("temperature")
    if temperature is not None:
        if not _number(temperature) or not 0 <= temperature <= 1:
            raise bad('"temperature" must be a number from 0 to 1')
        settings["temperature"] = temperature
    return Item(id=item_id, line=line, prompt=prompt, settings=settings)


def _anthropic_item(data: Mapping[str, Any], line: int, source: str) -> Item:
    _unknown_keys(data, ANTHROPIC_KEYS, source, line)

    def bad(what: str) -> BadLine:
        return BadLine(source, line, what, "the Anthropic batch form: " + '{"custom_id": "…", "params": {…}}')

    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise bad('"custom_id" must be a non-empty string')
    params = data.get("params")
    if not isinstance(params, dict):
        raise bad('"params" must be an object: the Messages request')
    messages = params.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad('"params.messages" must be a non-empty array')
    for number, message in enumerate(messages, start=1):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str | list)
        ):
            raise bad(
                f'message {number} of "params.messages" needs a "role" (user or assistant) and "content"'
            )
    model = params.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise bad('"params.model" must be a non-empty string')
    max_tokens = params.get("max_tokens")
    if max_tokens is not None and (not _whole(max_tokens) or max_tokens < 1):
        raise bad('"params.max_tokens" must be a whole number, at least 1')
    return Item(id=custom_id, line=line, params=params)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# -- the request -----------------------------------------------------------------------------------------


def item_body(item: Item, defaults: Parameters) -> dict[str, Any]:
    """The streamed Messages body of an item: what it sets, and the flags (over the profile) for the rest."""
    if item.params is None:
        parameters = dataclasses.replace(defaults, **item.settings)
        return build_body(parameters, [user_turn(item.prompt or "")], stream=True)
    body = {key: value for key, value in item.params.items() if key != "stream"}
    body.setdefault("model", defaults.model)
    body.setdefault("max_tokens", defaults.max_tokens)
    optional = {
        "system": defaults.system,
        "temperature": defaults.temperature,
        "top_p": defaults.top_p,
        "stop_sequences": list(defaults.stop) or None,
    }
    for key, value in optional.items():
        if value is not None:
            body.setdefault(key, value)
    routing = apply_routing({}, defaults.routing)
    if "extra_body" in routing:
        own = body.get("extra_body")
        body["extra_body"] = {**routing["extra_body"], **(own if isinstance(own, dict) else {})}
    if "user" in routing:
        body.setdefault("user", routing["user"])
    body["stream"] = True
    return body


# -- the output line ---------------------------------------------------------------------------------------


def _millis(value: object) -> float | None:
    return round(float(value), 1) if _number(value) else None  # type: ignore[arg-type]


def result_line(item_id: str, record: Record, error_message: str | None = None) -> dict[str, Any]:
    """One line of `batch` output (and of `compare` through a pipe), from the item's record;
    `error_message`: the error as the user sees it (request id and tries included), if not the record's."""
    ok = record.exit_status == 0 and record.error is None
    trace = record.trace
    error = record.error or {}
    return {
        "id": item_id,
        "status": "ok" if ok else "error",
        "text": text_of(record.response or {}) if ok else None,
        "model": record.served_model,
        "attempts": len(trace.attempts) if trace.present else None,
        "generation_id": record.generation_id,
        "usage": record.usage or None,
        "cost_usd": record.cost.get("usd") if record.cost else None,
        "ttft_ms": _millis(record.timings.get("ttft_ms")),
        "total_ms": _millis(record.timings.get("total_ms")),
        "error": None
        if ok
        else {
            "status": error.get("status"),
            "type": error.get("type"),
            "message": error_message or error.get("message"),
        },
    }


def is_ok_line(data: object) -> bool:
    return isinstance(data, dict) and data.get("status") == "ok" and isinstance(data.get("id"), str)


def is_result_line(data: object) -> bool:
    """A line `batch` wrote: an object with a string id and an ok or error status."""
    return (
        isinstance(data, dict) and isinstance(data.get("id"), str) and data.get("status") in ("ok", "error")
    )


# -- the run's numbers -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run of many requests did: its summary line and progress bar."""

    total: int  # items this run sends
    ok: int = 0
    failed: int = 0
    requests: int = 0  # HTTP requests, retries included
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)  # exact: float sums drift (0.0075393000000000005)
    priced: int = 0  # finished items whose cost is known
    unpriced: int = 0  # finished items that used tokens at no known price (a failure without any: neither)

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def add(self, record: Record, tries: int) -> None:
        if record.exit_status == 0 and record.error is None:
            self.ok += 1
        else:
            self.failed += 1
        self.requests += tries
        tokens_in, tokens_out = record.usage.get("input_tokens"), record.usage.get("output_tokens")
        self.input_tokens += (
            tokens_in if isinstance(tokens_in, int) and not isinstance(tokens_in, bool) else 0
        )
        self.output_tokens += (
            tokens_out if isinstance(tokens_out, int) and not isinstance(tokens_out, bool) else 0
        )
        usd = recorded_usd(record.cost)
        if usd is not None:
            self.cost_usd += usd
            self.priced += 1
        elif has_tokens(record.usage):
            self.unpriced += 1
