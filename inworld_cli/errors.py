"""Exit statuses and the one family of errors that carry them.

Code raises a `CliError` subclass where a thing fails; `cli.main` turns it into two lines on stderr
(what happened, what to do next) and the exit status, in one place. A failure of a request to the router
also carries `details` for the history record: the HTTP status, the router's error type and message and
the request id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar


class ExitStatus(enum.IntEnum):
    OK = 0
    LOCAL = 1
    USAGE = 2
    AUTH = 3
    REJECTED = 4
    ROUTER = 5
    NETWORK = 6
    SOME_FAILED = 7
    CANNOT_RUN = 126
    NOT_FOUND = 127
    INTERRUPTED = 130
    STDOUT_CLOSED = 141


LOGIN_HINT = "run: inworld-router auth login"


@dataclass(frozen=True)
class ErrorDetails:
    """What history records of a failed request."""

    status: int | None = None
    type: str | None = None
    message: str | None = None
    request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "type": self.type,
            "message": self.message,
            "request_id": self.request_id,
        }


class CliError(Exception):
    """An error the user sees as one line plus a hint, never as a traceback."""

    status: ClassVar[ExitStatus] = ExitStatus.LOCAL

    def __init__(self, message: str, hint: str | None = None, *, details: ErrorDetails | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details if details is not None else ErrorDetails(message=message)

    def with_message(self, message: str) -> CliError:
        """The same error saying something else (the key masked, the tries counted)."""
        copy = type(self)(message, self.hint, details=self.details)
        return copy


class LocalError(CliError):
    """A file or directory that cannot be read or written; a broken installation."""

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
    """The router or its upstreams failed (408, 429, 5xx after retries), or its answer was malformed."""

    status = ExitStatus.ROUTER


class NetworkFailure(CliError):
    """Cannot connect, DNS, TLS, or a timeout."""

    status = ExitStatus.NETWORK


class CannotRun(CliError):
    """`exec`: the command exists but cannot be run (not executable, a directory, a bad #! line)."""

    status = ExitStatus.CANNOT_RUN


class CommandNotFound(CliError):
    """`exec`: the command to run does not exist."""

    status = ExitStatus.NOT_FOUND


ERROR_CLASSES: dict[str, type[CliError]] = {
    cls.__name__: cls
    for cls in (
        CliError,
        LocalError,
        UsageError,
        AuthError,
        RequestRejected,
        RouterFailure,
        NetworkFailure,
        CannotRun,
        CommandNotFound,
    )
}


def no_key_error(profile: str) -> AuthError:
    """The one error for a missing key: every command that needs one raises this."""
    return AuthError(f"no API key for profile '{profile}' (and INWORLD_API_KEY is not set)", LOGIN_HINT)


class Secrets:
    """Values that must never be printed; `redact` masks them in any message. One per process (the
    environment holds it), not a module global, so two environments in one test process stay apart."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._values.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._values:
            text = text.replace(secret, "****")
        return text
