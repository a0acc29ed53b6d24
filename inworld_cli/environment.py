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
    from inworld_cli.router.exchange import Clock, Exchange, ExchangeLike, ExchangeRequest, Gate
    from inworld_cli.router.prices import PriceList
    from inworld_cli.router.transport import Endpoint, Transport
    from inworld_cli.worker.client import Workers
    from inworld_cli.worker.sockets import Place


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
    # The warm worker: whether the settings allow it, the one found (decided once), and whether this
    # process sent in-process because there was none (it then starts one as it ends).
    _worker_idle: float | None = field(default=None, repr=False)
    _workers: Workers | None = field(default=None, repr=False)
    _workers_looked_for: bool = field(default=False, repr=False)
    _start_worker: bool = field(default=False, repr=False)
    _worker_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # exchanges in threads

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
        if self._workers is not None:
            self._workers.close()

    def settings(self, overrides: Overrides, *, new_profile: bool = False) -> Settings:
        """Every setting resolved once; warnings (unknown config keys, a loose credentials file) shown.

        The subcommand's own --profile/--base-url win over the same options given before it. A profile
        that exists nowhere is a usage error, unless the command creates it (`new_profile`).
        """
        settings = self.quiet_settings(overrides)
        self._worker_idle = settings.worker_idle.value if settings.worker.value else None
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

    # -- exchanges: through the warm worker when one answers, else in this process --------------------

    def prepare_exchanges(self) -> None:
        """As soon as a command knows it will send: a live worker is asked now, or else the SDK's import
        begins in the background (overlapping whatever the command does before sending)."""
        if self._worker() is None:
            self.transport.preload()

    def exchange(self, request: ExchangeRequest, gate: Gate | None = None) -> ExchangeLike:
        """One exchange, through the warm worker when one answers. `gate`: the pacing it shares with the
        exchanges that run alongside (a batch): those run in this process, which paces them."""
        workers = self._worker() if gate is None else None
        if workers is not None:
            return workers.exchange(request, self._exchange_without_worker)
        return self._exchange_without_worker(request, gate)

    def _exchange_without_worker(self, request: ExchangeRequest, gate: Gate | None = None) -> Exchange:
        from inworld_cli.router.exchange import Exchange

        if self._worker_idle is not None and gate is None:
            self._start_worker = True
        return Exchange(request, self.transport, self.clock, self.vars, self.jitter, gate)

    def _worker_place(self) -> Place:
        from inworld_cli.worker.sockets import place_for

        return place_for(self.vars, self.paths.state_dir)

    def _worker(self) -> Workers | None:
        """The live worker of this build, looked for once (a missing socket costs a failed connect)."""
        with self._worker_lock:
            if not self._workers_looked_for and self._worker_idle is not None:
                self._workers_looked_for = True
                from inworld_cli.worker import sockets
                from inworld_cli.worker.client import Workers

                if sockets.supported():
                    self._workers = Workers.find(self._worker_place(), self.clock, self.vars)
                else:
                    self._worker_idle = None  # no worker on this system: none is started either
            return self._workers

    def finish(self) -> None:
        """The command is over (its output flushed): start a worker if this one sent without one."""
        if self._start_worker:
            self._start_worker = False
            from inworld_cli.worker import protocol
            from inworld_cli.worker.client import start_worker

            assert self._worker_idle is not None
            start_worker(self._worker_place(), self._worker_idle, protocol.build_id(), self.vars)

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
