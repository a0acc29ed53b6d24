"""A real pseudo-terminal for end-to-end tests: run the installed command on a pty and read back what a
terminal would show (the pyte emulator, with scrollback)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyte

from tests.conftest import Home, cli_path

COLUMNS, ROWS = 80, 24
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def open_terminal(columns: int = COLUMNS, rows: int = ROWS) -> tuple[int, int]:
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return controller, terminal


@dataclass
class Terminal:
    """What a terminal shows after the bytes it received: scrollback and screen, as lines."""

    data: bytes
    columns: int = COLUMNS
    rows: int = ROWS

    def __post_init__(self) -> None:
        self.screen = pyte.HistoryScreen(self.columns, self.rows, history=100_000)
        pyte.ByteStream(self.screen).feed(self.data)

    @property
    def lines(self) -> list[str]:
        scrolled = [
            "".join(line[x].data for x in range(self.columns)).rstrip() for line in self.screen.history.top
        ]
        shown = [row.rstrip() for row in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return scrolled + shown

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Run:
    status: int
    out: Terminal  # stdout's terminal (stderr's too, unless it had its own)
    err: Terminal | None


def run_on_terminal(
    home: Home,
    *args: str,
    own_stderr: bool = False,
    interrupt_after: bytes | None = None,
    type_after: tuple[bytes, bytes] | None = None,
    env: dict[str, str] | None = None,
    columns: int = COLUMNS,
    rows: int = ROWS,
) -> Run:
    """Run `inworld-router` with stdin, stdout and stderr on a pty (stderr on a second pty when
    `own_stderr`); collect everything until it exits. `interrupt_after`: Ctrl-C once stdout showed it;
    `type_after`: (what to wait for, what to type then)."""
    return run_program_on_terminal(
        [cli_path(), *args],
        {**home.env, **(env or {})},
        own_stderr=own_stderr,
        interrupt_after=interrupt_after,
        typing=[type_after] if type_after else [],
        columns=columns,
        rows=rows,
    )


def run_program_on_terminal(
    argv: list[str],
    env: dict[str, str],
    *,
    cwd: str | None = None,
    own_stderr: bool = False,
    interrupt_after: bytes | None = None,
    typing: Sequence[tuple[bytes, bytes]] = (),
    columns: int = COLUMNS,
    rows: int = ROWS,
) -> Run:
    """Run any program on a pty as `run_on_terminal` does. `typing`: steps of (what to wait for, what to
    type then), each waiting for its text in what the terminal received after the previous step typed."""
    out_controller, out_terminal = open_terminal(columns, rows)
    err_controller, err_terminal = open_terminal(columns, rows) if own_stderr else (None, out_terminal)
    proc = subprocess.Popen(
        argv,
        stdin=out_terminal,
        stdout=out_terminal,
        stderr=err_terminal,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(out_terminal)
    if err_controller is not None:
        os.close(err_terminal)
    received: dict[int, bytes] = {out_controller: b""}
    if err_controller is not None:
        received[err_controller] = b""
    steps = list(typing)
    typed_at = 0  # where the next step's text is looked for, in what stdout's terminal received
    open_fds = set(received)
    deadline = time.monotonic() + 60
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], 0.1)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                open_fds.discard(fd)
                continue
            received[fd] += chunk
            if interrupt_after and fd == out_controller and interrupt_after in received[fd]:
                os.killpg(proc.pid, signal.SIGINT)
                interrupt_after = None
            if steps and fd == out_controller:
                found = received[fd].find(steps[0][0], typed_at)
                if found >= 0:
                    os.write(out_controller, steps.pop(0)[1])
                    typed_at = len(received[fd])
    if open_fds:  # still running at the deadline: stop what it started, and fail on what it showed
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    status = proc.wait(timeout=30)
    for fd in received:
        os.close(fd)
    err = Terminal(received[err_controller], columns, rows) if err_controller is not None else None
    return Run(status, Terminal(received[out_controller], columns, rows), err)
