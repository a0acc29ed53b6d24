"""The Messages request: its parameters checked, its JSON body built, its text checked. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inworld_cli.core.routing_options import RoutingOptions, apply_routing
from inworld_cli.core.text import NOT_UTF8
from inworld_cli.errors import UsageError


@dataclass(frozen=True)
class Parameters:
    """Everything in a Messages body but the messages."""

    model: str
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    routing: RoutingOptions = field(default_factory=RoutingOptions)

    def check(self, model_source: str = "--model", temperature_source: str = "--temperature") -> None:
        """What settings do not check: ranges and emptiness, naming the flag (or the config file)."""
        if temperature_source == "--temperature":
            _check_unit_interval(self.temperature, temperature_source)
        else:  # a profile's default
            _check_unit_interval(
                self.temperature, f"temperature in {temperature_source}", hint=f"fix {temperature_source}"
            )
        _check_unit_interval(self.top_p, "--top-p")
        if not self.model.strip():
            raise UsageError(f"empty model name from {model_source}", hint="e.g. -m auto")
        for stop in self.stop:
            if not stop:
                raise UsageError("--stop cannot be empty", hint='give the text to stop at, e.g. --stop "END"')


def _check_unit_interval(value: float | None, name: str, hint: str | None = None) -> None:
    if value is not None and not 0 <= value <= 1:  # also refuses nan
        raise UsageError(f"{name} must be between 0 and 1, not {value}", hint=hint or f"e.g. {name} 0.7")


def build_body(parameters: Parameters, messages: list[dict[str, Any]], *, stream: bool) -> dict[str, Any]:
    """The JSON body exactly as the router must receive it; optional parameters only when given."""
    body: dict[str, Any] = {"model": parameters.model, "max_tokens": parameters.max_tokens}
    if parameters.system is not None:
        body["system"] = parameters.system
    body["messages"] = messages
    if parameters.temperature is not None:
        body["temperature"] = parameters.temperature
    if parameters.top_p is not None:
        body["top_p"] = parameters.top_p
    if parameters.stop:
        body["stop_sequences"] = list(parameters.stop)
    body["stream"] = stream
    body = apply_routing(body, parameters.routing)
    check_utf8(body)
    return body


def user_turn(content: str | list[dict[str, Any]]) -> dict[str, Any]:
    """A user turn: its text, or its blocks (attachments, then the text)."""
    return {"role": "user", "content": content}


# Where text that is not UTF-8 (see text.NOT_UTF8) came from: it cannot be sent as JSON.
_BODY_KEY_NAMES = {
    "messages": "the prompt",
    "system": "--system",
    "model": "the model name",
    "stop_sequences": "--stop",
    "extra_body": "a routing option",
    "user": "--user",
}


def undecodable(value: object) -> str | None:
    """The first lone surrogate in any string inside `value` (its keys too)."""
    if isinstance(value, str):
        found = NOT_UTF8.search(value)
        return found.group() if found else None
    items: Iterable[object] = (
        (*value.keys(), *value.values())
        if isinstance(value, dict)
        else value
        if isinstance(value, list)
        else ()
    )
    return next((char for char in map(undecodable, items) if char), None)


def check_utf8(body: dict[str, Any]) -> None:
    for key, value in body.items():
        char = undecodable(value)
        if char is not None:
            byte = ord(char) - 0xDC00
            what = f" (byte 0x{byte:02x})" if 0x80 <= byte <= 0xFF else ""
            raise UsageError(
                f"{_BODY_KEY_NAMES.get(key, key)} is not UTF-8 text{what}",
                hint="arguments and INWORLD_* variables must be UTF-8; convert first, e.g. with iconv",
            )
