"""Shell statements for `env` and the variables `env` and `exec` hand over (pure); the quoting is proven
against real shells in tests/e2e/test_handoff.py."""

from __future__ import annotations

import pytest

from inworld_cli.core.handoff import check_model, child_environment, handoff_variables
from inworld_cli.core.shell import apply_command, default_shell, quote, shell_named, statements
from inworld_cli.errors import UsageError


@pytest.mark.parametrize(
    ("login_shell", "windows", "syntax"),
    [
        ("/bin/bash", False, "bash"),
        ("/usr/bin/zsh", False, "zsh"),
        ("/opt/homebrew/bin/fish", False, "fish"),
        ("/bin/sh", False, "bash"),
        ("/bin/dash", False, "bash"),
        ("/usr/bin/pwsh", False, "powershell"),
        ("C:\\Program Files\\PowerShell\\7\\pwsh.exe", True, "powershell"),
        ("-zsh", False, "zsh"),
        (None, False, "bash"),
        ("", False, "bash"),
        (None, True, "powershell"),
    ],
)
def test_the_default_shell_comes_from_SHELL(login_shell: str | None, windows: bool, syntax: str) -> None:
    assert default_shell(login_shell, windows) == syntax


def test_a_SHELL_of_another_syntax_is_a_usage_error_naming_it() -> None:
    with pytest.raises(UsageError) as caught:
        default_shell("/bin/tcsh", False)
    assert caught.value.message == "cannot tell which shell to print for: $SHELL is '/bin/tcsh'"
    assert str(caught.value.hint).startswith("pass --shell: bash, zsh, fish, powershell")


def test_shell_flag_accepts_the_four_and_their_kin_only() -> None:
    assert [shell_named(n) for n in ("bash", "ZSH", "fish", "powershell", "pwsh", "sh")] == [
        "bash",
        "zsh",
        "fish",
        "powershell",
        "powershell",
        "bash",
    ]
    with pytest.raises(UsageError, match="bad value for --shell: 'nu'"):
        shell_named("nu")


def test_every_value_is_single_quoted_in_each_shells_own_way() -> None:
    value = "it's \\ ‘x’ $y"
    assert quote("bash", value) == "'it'\"'\"'s \\ ‘x’ $y'"
    assert quote("fish", value) == "'it\\'s \\\\ ‘x’ $y'"
    # PowerShell reads ‘ and ’ as quotes too: each is doubled like '.
    assert quote("powershell", value) == "'it''s \\ ‘‘x’’ $y'"
    assert quote("bash", "") == "''"


def test_statements_remove_first_then_set() -> None:
    assign = {"A": "1", "B": "x y"}
    assert statements("bash", assign, ["C"]) == "unset C\nexport A='1'\nexport B='x y'\n"
    assert statements("zsh", assign, ["C"]) == statements("bash", assign, ["C"])
    assert statements("fish", assign, ["C"]) == (
        "if set -qU C; set -gx C ''; else if set -qg C; set -e -g C; end\nset -gx A '1'\nset -gx B 'x y'\n"
    )
    assert statements("powershell", assign, ["C"]) == (
        "Remove-Item -Path Env:C -ErrorAction SilentlyContinue\n$Env:A = '1'\n$Env:B = 'x y'\n"
    )


def test_how_to_apply_names_each_shells_idiom_and_quotes_odd_words() -> None:
    words = ["inworld-router", "env", "--profile", "my work", "--model", "=ls"]
    assert apply_command("bash", words) == "eval \"$(inworld-router env --profile 'my work' --model '=ls')\""
    assert apply_command("fish", words[:2]) == "inworld-router env | source"
    assert apply_command("powershell", [*words[:2], "--shell", "powershell"]) == (
        "inworld-router env --shell powershell | Out-String | Invoke-Expression"
    )


def test_the_child_environment_loses_anthropic_credentials_and_gains_ours() -> None:
    current = {
        "PATH": "/bin",
        "ANTHROPIC_API_KEY": "sk-ant",
        "ANTHROPIC_CUSTOM_HEADERS": "x-api-key: sk-ant",
        "ANTHROPIC_AUTH_TOKEN": "old",
        "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
    }
    child = child_environment(current, handoff_variables("http://127.0.0.1:9", "iw-key", None))
    assert child == {
        "PATH": "/bin",
        "ANTHROPIC_AUTH_TOKEN": "iw-key",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    }
    assert handoff_variables("u", "k", "auto")["ANTHROPIC_MODEL"] == "auto"


@pytest.mark.parametrize("model", ["", "  ", "a\nb", "esc\x1b[2J", "w\udce9rk"])
def test_a_model_no_variable_can_carry_is_refused(model: str) -> None:
    with pytest.raises(UsageError):
        check_model(model)
