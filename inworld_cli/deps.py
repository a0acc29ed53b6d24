"""What every command is handed: streams, environment and file locations (tests hand in their own)."""

from __future__ import annotations

from dataclasses import dataclass

from inworld_cli.console import Streams
from inworld_cli.settings import Overrides, Paths, Settings, resolve


@dataclass
class Deps:
    streams: Streams
    paths: Paths

    @classmethod
    def from_process(cls) -> Deps:
        return cls(streams=Streams.from_process(), paths=Paths.from_platform())

    def settings(self, overrides: Overrides) -> Settings:
        settings = resolve(overrides, self.streams.env, self.paths)
        for warning in settings.warnings:
            self.streams.warn(warning)
        return settings
