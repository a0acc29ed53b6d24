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
        parameters = Parameters(
            model=settings.model.value,
            max_tokens=settings.max_tokens.value,
            system=self.system,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=self.stop,
        )
        parameters.check(settings.model.source)
        routing = routing_options(
            fallback=self.fallback,
            sort=self.sort,
            ignore=self.ignore,
            ttft_timeout=self.ttft_timeout,
            route_meta=self.route_meta,
            user=self.user,
            profile_config=settings.profile_config,
            config_label=f"{settings.paths.config_file} [profiles.{settings.profile.value}]",
        )
        return dataclasses.replace(parameters, routing=routing)


def read_prompt(args: tuple[str, ...], streams: Streams) -> str:
    """The prompt: piped stdin first, then a blank line, then the arguments (see core/prompt.py)."""
    stdin_text = None
    if wants_stdin(args, streams.stdin_is_terminal):
        if streams.stdin_is_terminal:
            streams.err("Reading the prompt from the terminal; end it with Ctrl-D.")
        stdin_text = decode_stdin(streams.stdin.read())
    return assemble_prompt(args, stdin_text)
