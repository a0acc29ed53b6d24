"""Exit statuses and the error types that carry them.

Code raises a `CliError` subclass where a thing fails; `cli.main` turns it into two lines on stderr
(what happened, what to do next) and the exit status, in one place.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0
    LOCAL = 1
    USAGE = 2
    AUTH = 3
    REJECTED = 4
    ROUTER = 5
    NETWORK = 6
    INTERRUPTED = 130


class CliError(Exception):
    """An error the user should see as one line plus a hint, never as a traceback."""

    status: ExitStatus = ExitStatus.LOCAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class LocalError(CliError):
    """A file or directory that cannot be read or written."""

    status = ExitStatus.LOCAL


class UsageError(CliError):
    """Bad flags, bad input, a bad config file, an unknown reference."""

    status = ExitStatus.USAGE


class AuthError(CliError):
    """No key configured, or the router refused the key (401/403)."""

    status = ExitStatus.AUTH


class RequestRejected(CliError):
    """The router rejected the request (4xx other than 401/403/408/429)."""

    status = ExitStatus.REJECTED


class RouterFailure(CliError):
    """The router or its upstreams failed (429, 408, 5xx after retries), or its response was malformed."""

    status = ExitStatus.ROUTER


class NetworkFailure(CliError):
    """Cannot connect, DNS, TLS, or a timeout."""

    status = ExitStatus.NETWORK


LOGIN_HINT = "run: inworld-router auth login"

_secrets: set[str] = set()


def remember_secret(secret: str) -> None:
    """Register a value that must never be printed; `redact` masks it in any message."""
    if len(secret) >= 4:
        _secrets.add(secret)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "****")
    return text
