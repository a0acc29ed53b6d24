"""What every command is handed: streams, environment variables, file locations, a clock, the transport
and the secrets to mask. The process builds one (`from_process`); tests build their own."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inworld_cli.errors import Secrets, no_key_error
from inworld_cli.output.console import Streams
from inworld_cli.store.settings import Overrides, Paths, Settings, require_known_profile, resolve

if TYPE_CHECKING:
    from inworld_cli.router.catalog import Catalog
    from inworld_cli.router.exchange import Clock, Exchange, ExchangeRequest, Gate
    from inworld_cli.router.prices import PriceList
    from inworld_cli.router.transport import Endpoint, Transport


class SystemClock:
    """The real time; `wait` is cut short when its event is set (a cancelled exchange)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)


@dataclass
class Environment:
    streams: Streams
    paths: Paths
    clock: Clock = field(default_factory=SystemClock)
    secrets: Secrets = field(default_factory=Secrets)
    debug: bool = False
    jitter: Callable[[], float] = random.random  # spreads retries; tests fix it
    # --profile and --base-url given before the subcommand: what a subcommand's own flag does not say.
    global_options: Overrides = field(default_factory=Overrides)
    _transport: Transport | None = field(default=None, repr=False)

    @classmethod
    def from_process(cls) -> Environment:
        return cls(streams=Streams.from_process(), paths=Paths.from_platform())

    @property
    def vars(self) -> Mapping[str, str]:
        """The environment variables (the process's, or what a test gave)."""
        return self.streams.env

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            from inworld_cli.router.transport import Transport

            self._transport = Transport()
        return self._transport

    def close(self) -> None:
        """Release the connections (a process that exits needs not; tests that build many do)."""
        if self._transport is not None:
            self._transport.close()

    def settings(self, overrides: Overrides, *, new_profile: bool = False) -> Settings:
        """Every setting resolved once; warnings (unknown config keys, a loose credentials file) shown.

        The subcommand's own --profile/--base-url win over the same options given before it. A profile
        that exists nowhere is a usage error, unless the command creates it (`new_profile`).
        """
        settings = self.quiet_settings(overrides)
        for warning in settings.warnings:
            self.streams.warn(warning)
        if not new_profile:
            require_known_profile(settings)
        return settings

    def quiet_settings(self, overrides: Overrides) -> Settings:
        """`settings` without showing warnings or checking the profile (for listing every profile)."""
        given = self.global_options
        overrides = dataclasses.replace(
            overrides,
            profile=given.profile if overrides.profile is None else overrides.profile,
            base_url=given.base_url if overrides.base_url is None else overrides.base_url,
        )
        settings = resolve(overrides, self.vars, self.paths)
        self.secrets.add(settings.api_key.value)
        return settings

    def endpoint(self, settings: Settings, key: str | None = None) -> Endpoint:
        """Where requests go and with which key (the settings' own, or `key`, one not saved yet): the one
        place a key is required."""
        from inworld_cli.router.transport import Endpoint

        key = key or settings.api_key.value
        if not key:
            raise no_key_error(settings.profile.value)
        version = settings.anthropic_version.value
        if version is None:
            return Endpoint(settings.base_url.value, key, settings.timeout.value)
        return Endpoint(settings.base_url.value, key, settings.timeout.value, anthropic_version=version)

    def check_key(self, settings: Settings, refused_hint: str, key: str | None = None) -> None:
        """Ask the router whether it accepts the key, with a request that generates nothing."""
        from inworld_cli.router.key_check import check_key

        check_key(self.transport, self.endpoint(settings, key), self.vars, refused_hint)

    def exchange(self, request: ExchangeRequest, gate: Gate | None = None) -> Exchange:
        """One exchange; `gate`: the pacing it shares with the exchanges that run alongside (a batch)."""
        from inworld_cli.router.exchange import Exchange

        return Exchange(request, self.transport, self.clock, self.vars, self.jitter, gate)

    def catalog(self, settings: Settings) -> Catalog:
        from inworld_cli.router.catalog import Catalog
        from inworld_cli.store.cache import Cache

        endpoint = self.endpoint(settings)
        cache = Cache(self.paths.cache_dir, endpoint.base_url, endpoint.key)
        return Catalog(self.transport, endpoint, cache, self.clock.time, self.vars)

    def price_list(self, settings: Settings) -> PriceList | None:
        """The catalogue's prices for the records of a command that sends; None without a key."""
        if not settings.api_key.value:
            return None
        from inworld_cli.router.prices import PriceList

        return PriceList(self.catalog(settings))
