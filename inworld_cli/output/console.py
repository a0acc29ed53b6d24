"""The process's streams, terminal detection, and neutralising untrusted text for a terminal."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

if TYPE_CHECKING:
    from rich.console import Console

# C0 controls but newline and tab, DEL, and the C1 block (0x9b is a one-byte CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _caret(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    return f"\\x{code:02x}"


def sanitize(text: str) -> str:
    """Make text from the network harmless on a terminal: every control character but newline and tab
    is shown in caret notation (ESC becomes ^[), so nothing can move the cursor, clear or retitle."""
    return _CONTROL.sub(_caret, text)


# json.dumps leaves these raw inside strings: DEL and the C1 controls (0x9b is a one-byte CSI on some
# terminals), and lone surrogates (half of an emoji's escape pair, as a broken stream may send), which no
# encoding can write. Escaping them keeps the same JSON value.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff]")


def json_text(value: object, *, indent: int | None = 2) -> str:
    """JSON for stdout: non-ASCII text kept readable, but nothing a terminal would obey or an encoder
    would refuse. `indent=None`: one line (JSON Lines)."""
    separators = None if indent is not None else (",", ":")
    text = json.dumps(value, indent=indent, ensure_ascii=False, separators=separators)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class StdoutClosed(Exception):
    """The reader of stdout went away (`| head -1`). Deliberately not an OSError: Typer would turn that
    into exit 1."""


class Output:
    """stdout as the commands see it: a text stream whose closed pipe ends the program quietly."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError as exc:
            raise StdoutClosed from exc

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError as exc:
            raise StdoutClosed from exc

    def isatty(self) -> bool:
        return _isatty(self.stream)

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8") or "utf-8"


def _label(text: str, sgr: str, colour: bool) -> str:
    return f"\x1b[{sgr}m{text}\x1b[0m" if colour else text


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Streams:
    """Everything a command reads from or writes to, so tests can hand in their own."""

    stdin: BinaryIO
    stdout: Output
    stderr: TextIO
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_process(cls) -> Streams:
        # A character stdout cannot encode (a lone surrogate from the network, or any non-ASCII text under
        # PYTHONIOENCODING=ascii) is written as "?" rather than ending the command in an internal error.
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
        return cls(stdin=sys.stdin.buffer, stdout=Output(sys.stdout), stderr=sys.stderr, env=os.environ)

    @property
    def stdin_is_terminal(self) -> bool:
        return _isatty(self.stdin)

    @property
    def stdout_is_terminal(self) -> bool:
        return self.stdout.isatty()

    @property
    def stderr_is_terminal(self) -> bool:
        return _isatty(self.stderr)

    @property
    def dumb_terminal(self) -> bool:
        """TERM=dumb: a terminal (so sanitise) that cannot redraw (so no spinner, no live view)."""
        return self.env.get("TERM", "") == "dumb"

    def out(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def err(self, text: str) -> None:
        """One line on stderr; network text in it is neutralised when stderr is a terminal."""
        if self.stderr_is_terminal:
            text = sanitize(text)
        try:
            self.stderr.write(text + "\n")
            self.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass  # nowhere left to report to

    def warn(self, text: str) -> None:
        self.err(f"warning: {text}")

    @property
    def stderr_colour(self) -> bool:
        """Colour on stderr: a terminal that can show it, unless NO_COLOR is set."""
        return self.stderr_is_terminal and not self.dumb_terminal and "NO_COLOR" not in self.env

    def error(self, message: str, hint: str | None) -> None:
        """The one style of every error: `error: …` and `hint: …`, one line each (coloured labels on a
        terminal). Always neutralised: the message may quote the router."""
        colour = self.stderr_colour
        lines = [_label("error:", "1;31", colour) + " " + sanitize(" ".join(message.splitlines()))]
        if hint:
            lines.append(_label("hint:", "33", colour) + " " + sanitize(" ".join(hint.splitlines())))
        try:
            self.stderr.write("\n".join(lines) + "\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass  # nowhere left to report to

    def silence_stdout(self) -> None:
        """After the reader of stdout has gone, anything still buffered would fail again at exit and print
        "Exception ignored ... BrokenPipeError": point stdout at /dev/null instead."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def flush(self) -> None:
        """The end of the command: whatever is buffered goes out, or is dropped if the reader left."""
        try:
            self.stdout.stream.flush()
        except BrokenPipeError:
            self.silence_stdout()
        except (OSError, ValueError):
            pass
        with contextlib.suppress(OSError, ValueError):
            self.stderr.flush()

    def console(self, stderr: bool = False) -> Console:
        """A rich console for drawing; only built by the commands that draw."""
        from rich.console import Console

        file: Any = self.stderr if stderr else self.stdout
        is_terminal = self.stderr_is_terminal if stderr else self.stdout_is_terminal
        return Console(
            file=file,
            force_terminal=is_terminal and not self.dumb_terminal,
            no_color="NO_COLOR" in self.env or None,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=not is_terminal,
        )
