"""The routing trace: the router's `metadata` object parsed tolerantly. Pure data, no IO.

Only part of the metadata is documented (attempts with model, success and time to first token; generation
id; reasoning). Everything else the router sends, on an attempt or at the top level, is kept in `extra` in
the order it came, and a documented key whose value has an unexpected shape is kept there too rather than
dropped: whatever arrives can be shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ATTEMPT_TTFT_KEY = "time_to_first_token_ms"


@dataclass
class Attempt:
    position: int  # 1-based
    model: str | None
    success: bool | None  # None when the router did not say
    ttft_ms: float | None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """ok / failed / unknown: words that read right without colour."""
        return {True: "ok", False: "failed", None: "unknown"}[self.success]


@dataclass
class RoutingTrace:
    present: bool  # False when the response carried no routing metadata at all
    attempts: list[Attempt] = field(default_factory=list)
    generation_id: str | None = None
    reasoning: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def failovers(self) -> int:
        """Attempts that failed before the last one: how often the router moved on."""
        return sum(1 for attempt in self.attempts[:-1] if attempt.success is False)


def _as_text(value: object) -> str | None:
    """A string, or a number the router sent where a string was expected; else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    return None


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_millis(value: object) -> float | None:
    """A finite number of milliseconds from a number or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _attempt(position: int, raw: object) -> Attempt:
    if not isinstance(raw, dict):
        # Not an object: keep the value itself so that it is still shown.
        return Attempt(position, None, None, None, {"value": raw})
    model = _as_text(raw.get("model"))
    success = _as_bool(raw.get("success"))
    ttft = as_millis(raw.get(ATTEMPT_TTFT_KEY))
    parsed = {"model": model, "success": success, ATTEMPT_TTFT_KEY: ttft}
    extra: dict[str, object] = {}
    for key, value in raw.items():
        # A documented key is absorbed only when it parsed (or was plainly null); otherwise it stays visible.
        if key in parsed and (parsed[key] is not None or value is None):
            continue
        extra[str(key)] = value
    return Attempt(position, model, success, ttft, extra)


def parse_metadata(metadata: object) -> RoutingTrace:
    """Never raises, whatever the input. None means the response had no routing metadata."""
    if metadata is None:
        return RoutingTrace(present=False)
    if not isinstance(metadata, dict):
        return RoutingTrace(present=True, extra={"metadata": metadata})
    trace = RoutingTrace(present=True)
    for key, value in metadata.items():
        if key == "attempts" and isinstance(value, list):
            trace.attempts = [_attempt(i, raw) for i, raw in enumerate(value, start=1)]
        elif key == "generation_id" and _as_text(value) is not None:
            trace.generation_id = _as_text(value)
        elif key == "reasoning" and isinstance(value, str):
            trace.reasoning = value
        elif key in ("attempts", "generation_id", "reasoning") and value is None:
            continue
        else:
            trace.extra[str(key)] = value
    return trace


def trace_of_response(response: dict[str, object] | None) -> RoutingTrace:
    if not isinstance(response, dict):
        return RoutingTrace(present=False)
    return parse_metadata(response.get("metadata"))
