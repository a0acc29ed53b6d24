"""The router's request-level routing options: validated from flags and profile defaults, added to a body.

The router documents them as a literal `extra_body` object inside the JSON body (plus a top-level `user`);
each key is sent only when the user asked for it, so a plain request stays a plain Messages request.
Pure: no IO, no Typer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from inworld_cli.errors import UsageError

SORT_CRITERIA = ("price", "latency", "throughput", "intelligence", "math", "coding")
MIN_TTFT_MS = 300

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*$", re.IGNORECASE)
_NO_SPACE = re.compile(r"^\S+$")


@dataclass(frozen=True)
class RoutingOptions:
    fallback: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ttft_timeout: str | None = None  # normalised: "800ms", "1s", "1.5s"
    route_meta: dict[str, str] = field(default_factory=dict)
    user: str | None = None

    def extra_body(self) -> dict[str, Any]:
        """The router's `extra_body` object, with only the keys that were given, in the documented order."""
        extra: dict[str, Any] = {}
        if self.fallback:
            extra["models"] = list(self.fallback)
        if self.sort:
            extra["sort"] = list(self.sort)
        if self.ignore:
            extra["ignore"] = list(self.ignore)
        if self.ttft_timeout is not None:
            extra["fallback"] = {"ttft_timeout": self.ttft_timeout}
        if self.route_meta:
            extra["metadata"] = dict(self.route_meta)
        return extra


def apply_routing(body: dict[str, Any], options: RoutingOptions) -> dict[str, Any]:
    """A copy of `body` with the routing options added: `extra_body` and `user` only when given."""
    result = dict(body)
    extra = options.extra_body()
    if extra:
        existing = body.get("extra_body")
        result["extra_body"] = {**(existing if isinstance(existing, dict) else {}), **extra}
    if options.user is not None:
        result["user"] = options.user
    return result


# -- validation ------------------------------------------------------------------------------------------


def _bad(origin: str, value: object, allowed: str) -> UsageError:
    return UsageError(f"bad value for {origin}: {value!r}", hint=f"allowed: {allowed}")


def parse_ttft_timeout(raw: str, origin: str = "--ttft-timeout") -> str:
    """`800ms`, `1.5s`, `2s` (a unit is required: a bare `800` could mean either) -> the router's form:
    milliseconds below one second ("800ms"), seconds from there on ("1s", "1.5s")."""
    allowed = f"a duration with a unit, at least {MIN_TTFT_MS}ms: e.g. 800ms, 1s, 1.5s"
    match = _DURATION.match(raw)
    if not match:
        raise _bad(origin, raw, allowed)
    try:
        amount = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise _bad(origin, raw, allowed) from None
    millis = amount if match.group(2).lower() == "ms" else amount * 1000
    if millis != millis.to_integral_value():
        raise _bad(origin, raw, f"whole milliseconds; {allowed}")
    if millis < MIN_TTFT_MS:
        raise UsageError(
            f"bad value for {origin}: {raw!r} is shorter than the router's minimum of {MIN_TTFT_MS}ms",
            hint=f"allowed: {allowed}",
        )
    whole_ms = int(millis)
    if whole_ms < 1000:
        return f"{whole_ms}ms"
    seconds = Decimal(whole_ms) / 1000
    return f"{seconds.normalize():f}s"


def parse_sort(values: Sequence[str], origin: str = "--sort") -> tuple[str, ...]:
    result = []
    for value in values:
        criterion = value.strip().lower()
        if criterion not in SORT_CRITERIA:
            raise _bad(origin, value, ", ".join(SORT_CRITERIA))
        result.append(criterion)
    return tuple(result)


def parse_names(values: Sequence[str], origin: str, what: str) -> tuple[str, ...]:
    """Model or provider names: non-empty, no whitespace inside."""
    result = []
    for value in values:
        name = value.strip()
        if not _NO_SPACE.match(name):
            raise _bad(origin, value, f"{what}, without spaces")
        result.append(name)
    return tuple(result)


def parse_route_meta(values: Sequence[str], origin: str = "--route-meta") -> dict[str, str]:
    """KEY=VALUE pairs; the key must not be empty, the value may be; a repeated key keeps its last value."""
    result: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        key = key.strip()
        if not sep or not key:
            raise _bad(origin, value, "KEY=VALUE with a non-empty KEY, e.g. tier=premium")
        result[key] = item
    return result


def parse_user(value: str, origin: str = "--user") -> str:
    user = value.strip()
    if not user:
        raise _bad(origin, value, "a non-empty user id")
    return user


# -- flags over profile defaults -------------------------------------------------------------------------


def routing_options(
    *,
    fallback: Sequence[str] | None = None,
    sort: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    ttft_timeout: str | None = None,
    route_meta: Sequence[str] | None = None,
    user: str | None = None,
    profile_config: Mapping[str, Any] | None = None,
    config_label: str = "config.toml",
) -> RoutingOptions:
    """Each option from its flag when given (None or empty = not given), else from the profile's key in
    config.toml (fallback, sort, ignore, ttft_timeout, route_meta, user). A flag replaces the profile's
    value, it never adds to it. Bad values raise UsageError naming the flag or the config key."""
    profile = profile_config or {}

    def pick(flag_value: Any, flag: str, key: str) -> tuple[Any, str] | None:
        if flag_value:  # a list or a string; an empty one counts as not given
            return flag_value, flag
        if key in profile:
            return profile[key], f"{key} in {config_label}"
        return None

    fields: dict[str, Any] = {}
    if chosen := pick(fallback, "--fallback", "fallback"):
        fields["fallback"] = parse_names(chosen[0], chosen[1], "model ids such as openai/gpt-5")
    if chosen := pick(sort, "--sort", "sort"):
        fields["sort"] = parse_sort(chosen[0], chosen[1])
    if chosen := pick(ignore, "--ignore", "ignore"):
        fields["ignore"] = parse_names(chosen[0], chosen[1], "provider names (groq) or model ids")
    if chosen := pick(ttft_timeout, "--ttft-timeout", "ttft_timeout"):
        fields["ttft_timeout"] = parse_ttft_timeout(chosen[0], chosen[1])
    if route_meta:
        fields["route_meta"] = parse_route_meta(route_meta)
    elif "route_meta" in profile:
        # A TOML table: keys and values are already apart (settings checked that the values are strings).
        table = dict(profile["route_meta"])
        if any(not str(key).strip() for key in table):
            raise _bad(f"route_meta in {config_label}", table, "a table of non-empty keys to strings")
        fields["route_meta"] = {str(key).strip(): str(value) for key, value in table.items()}
    if chosen := pick(user, "--user", "user"):
        fields["user"] = parse_user(chosen[0], chosen[1])
    return RoutingOptions(**fields)
