"""`auth login` on a real pseudo-terminal: the key is asked for with hidden input and never echoed."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time

from tests.conftest import TEST_KEY, Home, cli_path


def read_until(fd: int, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def spawn_on_pty(home: Home, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [cli_path(), *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=home.env,
        start_new_session=True,
    )
    os.close(terminal)
    return proc, controller


def test_login_prompts_with_hidden_input(home: Home) -> None:
    proc, controller = spawn_on_pty(home, "auth", "login")
    try:
        assert b"input is hidden" in read_until(controller, b"hidden): ")
        os.write(controller, f"{TEST_KEY}\r".encode())
        rest = read_until(controller, b"Saved the key")
        rest += read_until(controller, b"\n")
        assert proc.wait(timeout=20) == 0
    finally:
        os.close(controller)
    assert TEST_KEY.encode() not in rest
    assert b"Saved the key" in rest
    assert home.run("auth", "token").stdout == TEST_KEY + "\n"


def test_ctrl_c_at_the_prompt_exits_130_and_saves_nothing(home: Home) -> None:
    proc, controller = spawn_on_pty(home, "auth", "login")
    try:
        read_until(controller, b"hidden): ")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 130
        output = read_until(controller, b"\n", timeout=1)
    finally:
        os.close(controller)
    assert b"Traceback" not in output
    assert not (home.config_dir / "credentials.toml").exists()
