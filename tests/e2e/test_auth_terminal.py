"""`auth login` on a real pseudo-terminal: the key is asked for with hidden input and never echoed."""

from __future__ import annotations

from tests.conftest import TEST_KEY, Home
from tests.terminal import run_on_terminal

PROMPT = b"hidden): "


def test_login_prompts_with_hidden_input(home: Home) -> None:
    run = run_on_terminal(home, "auth", "login", "--no-verify", type_after=(PROMPT, f"{TEST_KEY}\r".encode()))
    assert run.status == 0
    assert b"input is hidden" in run.out.data
    assert b"Saved the key" in run.out.data
    assert TEST_KEY.encode() not in run.out.data
    assert home.run("auth", "token").stdout == TEST_KEY + "\n"


def test_ctrl_c_at_the_prompt_exits_130_and_saves_nothing(home: Home) -> None:
    run = run_on_terminal(home, "auth", "login", interrupt_after=PROMPT)
    assert run.status == 130
    assert b"Traceback" not in run.out.data
    assert not (home.config_dir / "credentials.toml").exists()
    assert run.out.screen.cursor.x == 0  # the prompt's line was ended: the shell's prompt starts afresh


def test_end_of_input_at_the_prompt_ends_the_line_too(home: Home) -> None:
    run = run_on_terminal(home, "auth", "login", type_after=(PROMPT, b"\x04"))
    assert run.status == 1
    assert run.out.lines[-1] == "error: aborted: the input ended"
    assert run.out.screen.cursor.x == 0
    assert not (home.config_dir / "credentials.toml").exists()
