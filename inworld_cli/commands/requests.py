"""What the commands that send (ask, batch, compare) share: the flags that shape a request, resolved over
the profile's defaults into the request's parameters, and the settings they override; and the prompt, from
the arguments and stdin."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from inworld_cli.core.prompt import assemble_prompt, decode_stdin, wants_stdin
from inworld_cli.core.request import Parameters
from inworld_cli.core.routing_options import routing_options
from inworld_cli.output.console import Streams
from inworld_cli.store.settings import Overrides, Settings


@dataclass(frozen=True)
class RequestFlags:
    """The flags of a request; None or empty = not given (the profile's default, or none)."""

    model: str | None = None
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int | None = None
    no_log: bool = False
    base_url: str | None = None
    profile: str | None = None
    # Routing options: the router's `extra_body` object and `user`.
    fallback: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ttft_timeout: str | None = None
    route_meta: tuple[str, ...] = ()
    user: str | None = None

    @classmethod
    def of(cls, **params: Any) -> RequestFlags:
        """From a Typer function's parameters (repeatable ones arrive as lists or None)."""
        names = cls.__dataclass_fields__
        given: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in params.items()
            if name in names and value is not None
        }
        return cls(**given)

    def overrides(self) -> Overrides:
        return Overrides(
            profile=self.profile,
            base_url=self.base_url,
            model=self.model,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
            retries=self.retries,
            no_log=self.no_log,
        )

    def parameters(self, settings: Settings) -> Parameters:
        """The request's parameters, checked: flags over the profile's defaults (exit 2 naming the flag or
        the config key)."""
        profile = settings.profile_config
        config_label = f"{settings.paths.config_file} [profiles.{settings.profile.value}]"
        parameters = Parameters(
            model=settings.model.value,
            max_tokens=settings.max_tokens.value,
            system=self.system if self.system is not None else profile.get("system"),
            temperature=self.temperature
            if self.temperature is not None
            else _number(profile.get("temperature")),
            top_p=self.top_p,
            stop=self.stop,
        )
        parameters.check(
            settings.model.source, "--temperature" if self.temperature is not None else config_label
        )
        routing = routing_options(
            fallback=self.fallback,
            sort=self.sort,
            ignore=self.ignore,
            ttft_timeout=self.ttft_timeout,
            route_meta=self.route_meta,
            user=self.user,
            profile_config=profile,
            config_label=config_label,
        )
        return dataclasses.replace(parameters, routing=routing)


def _number(value: object) -> float | None:
    """A profile's number as the flag would give it (TOML has integers: `temperature = 1`)."""
    return float(value) if isinstance(value, int | float) else None


def read_prompt(
    args: tuple[str, ...],
    streams: Streams,
    *,
    stdin_taken: str | None = None,
    may_be_empty: bool = False,
    command: str = "ask",
) -> str:
    """The prompt: piped stdin first, then a blank line, then the arguments (see core/prompt.py).
    `stdin_taken`: stdin is not the prompt's (--no-stdin, or an attachment read from it); `may_be_empty`:
    the turn has attachments, which may stand alone."""
    stdin_text = None
    if wants_stdin(args, streams.stdin_is_terminal, stdin_taken):
        if streams.stdin_is_terminal:
            streams.err("Reading the prompt from the terminal; end it with Ctrl-D.")
        stdin_text = decode_stdin(streams.stdin.read())
    return assemble_prompt(args, stdin_text, may_be_empty=may_be_empty, command=command)
