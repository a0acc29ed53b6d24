"""What every command is handed: streams, environment variables, file locations, a clock, the transport
and the secrets to mask. The process builds one (`from_process`); tests build their own."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inworld_cli.errors import Secrets, no_key_error
from inworld_cli.output.console import Streams
from inworld_cli.store.settings import Overrides, Paths, Settings, resolve

if TYPE_CHECKING:
    from inworld_cli.router.catalog import Catalog
    from inworld_cli.router.exchange import Clock, Exchange, ExchangeLike, ExchangeRequest
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

    def settings(self, overrides: Overrides) -> Settings:
        """Every setting resolved once; warnings (unknown config keys, a loose credentials file) shown."""
        settings = resolve(overrides, self.vars, self.paths)
        self.secrets.add(settings.api_key.value)
        self._worker_idle = settings.worker_idle.value if settings.worker.value else None
        for warning in settings.warnings:
            self.streams.warn(warning)
        return settings

    def endpoint(self, settings: Settings) -> Endpoint:
        """Where requests go and with which key: the one place a key is required."""
        from inworld_cli.router.transport import Endpoint

        key = settings.api_key.value
        if not key:
            raise no_key_error(settings.profile.value)
        version = settings.anthropic_version.value
        if version is None:
            return Endpoint(settings.base_url.value, key, settings.timeout.value)
        return Endpoint(settings.base_url.value, key, settings.timeout.value, anthropic_version=version)

    # -- exchanges: through the warm worker when one answers, else in this process --------------------

    def prepare_exchanges(self) -> None:
        """As soon as a command knows it will send: a live worker is asked now, or else the SDK's import
        begins in the background (overlapping whatever the command does before sending)."""
        if self._worker() is None:
            self.transport.preload()

    def exchange(self, request: ExchangeRequest) -> ExchangeLike:
        workers = self._worker()
        if workers is not None:
            return workers.exchange(request, self._exchange_without_worker)
        return self._exchange_without_worker(request)

    def _exchange_without_worker(self, request: ExchangeRequest) -> Exchange:
        from inworld_cli.router.exchange import Exchange

        if self._worker_idle is not None:
            self._start_worker = True
        return Exchange(request, self.transport, self.clock, self.vars, self.jitter)

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
