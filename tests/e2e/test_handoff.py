"""`env` and `exec`: the router handed to other tools, through real shells, a real terminal, real processes and
a real Anthropic SDK client.

`exec` replaces the process it runs in, so only its failures (which never reach the exec) run in this
process; everything that runs a command is the installed program in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, Home, cli_path
from tests.e2e.test_hostile_env import anthropic_environment, assert_only_our_key
from tests.router_server import RouterServer, json_reply, message
from tests.terminal import run_on_terminal

# A key and a model with everything a shell could misread: quotes of every kind, expansions, globs,
# escapes, a leading dash, a leading `=` (zsh expands `=ls`), fish's %self, non-ASCII.
NASTY_KEY = "-iw'q\"$(id)`x`\\!%self=~*‘’"
NASTY_MODEL = '=ls my model\'s "x" $HOME `id` \\ ! %self ~ * {a,b} ‘curly’ é 😀'
NASTY_URL = 'http://127.0.0.1:9/it\'s/"a"/$x/%self'
HOSTILE = {"ANTHROPIC_API_KEY": "sk-ant-api-EVIL", "ANTHROPIC_CUSTOM_HEADERS": "x-api-key: sk-ant-EVIL"}
DUMP_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


def shell_or_skip(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def apply_in(shell: str, statements: str, env: dict[str, str]) -> dict[str, str]:
    """Apply `statements` in a real shell (no startup files), then dump the environment a child sees."""
    path = shell_or_skip(shell)
    if shell == "fish":
        # Not --no-config: it turns universal variables off. The test home has no config.fish.
        script = "printf %s $argv[1] | source; and exec $argv[2] -c $argv[3]"
        argv = [path, "-c", script, statements, sys.executable, DUMP_ENV]
    else:
        script = 'eval "$1" && exec "$2" -c "$3"'
        flags = ["--norc", "--noprofile"] if shell == "bash" else ["-f"]
        argv = [path, *flags, "-c", script, "shell", statements, sys.executable, DUMP_ENV]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=30)
    assert (result.returncode, result.stderr) == (0, ""), statements
    return json.loads(result.stdout)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_env_statements_give_each_shell_the_exact_values(home: Home, shell: str) -> None:
    home.login(NASTY_KEY)
    result = home.run("env", "--shell", shell, "--model", NASTY_MODEL, env={"INWORLD_BASE_URL": NASTY_URL})
    assert (result.returncode, result.stderr) == (0, "")
    seen = apply_in(shell, result.stdout, {**home.env, **HOSTILE})
    assert seen["ANTHROPIC_AUTH_TOKEN"] == NASTY_KEY
    assert seen["ANTHROPIC_BASE_URL"] == NASTY_URL
    assert seen["ANTHROPIC_MODEL"] == NASTY_MODEL
    assert "ANTHROPIC_API_KEY" not in seen
    assert "ANTHROPIC_CUSTOM_HEADERS" not in seen


def test_eval_of_env_in_bash_points_tools_at_the_router(routed_home: Home) -> None:
    """The README's recipe, with the installed command and $SHELL choosing the syntax."""
    bash = shell_or_skip("bash")
    script = f'eval "$({cli_path()} env)" && exec "$1" -c "$2"'
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script, "bash", sys.executable, DUMP_ENV],
        capture_output=True,
        text=True,
        env={**routed_home.env, **HOSTILE, "SHELL": bash, "ANTHROPIC_MODEL": "kept"},
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    seen = json.loads(result.stdout)
    assert seen["ANTHROPIC_BASE_URL"] == routed_home.env["INWORLD_BASE_URL"]
    assert seen["ANTHROPIC_AUTH_TOKEN"] == TEST_KEY
    assert seen["ANTHROPIC_MODEL"] == "kept"  # only --model sets it
    assert not {"ANTHROPIC_API_KEY", "ANTHROPIC_CUSTOM_HEADERS"} & set(seen)


def test_fish_shadows_a_universal_api_key_without_erasing_it(home: Home) -> None:
    """`set -e` would delete a universal variable from every fish session for good."""
    fish = shell_or_skip("fish")
    home.login()
    subprocess.run([fish, "-c", "set -Ux ANTHROPIC_API_KEY sk-ant-universal"], env=home.env, check=True)
    statements = home.run("env", "--shell", "fish").stdout
    seen = apply_in("fish", statements, home.env)
    assert seen.get("ANTHROPIC_API_KEY", "") == ""  # no Anthropic key reaches the tool
    assert seen["ANTHROPIC_AUTH_TOKEN"] == TEST_KEY
    kept = subprocess.run(
        [fish, "-c", "echo $ANTHROPIC_API_KEY"],
        env=home.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert kept.stdout == "sk-ant-universal\n"


def test_env_prints_each_shells_syntax(home: Home) -> None:
    home.login()
    fish = home.run("env", env={"SHELL": "/usr/local/bin/fish"})
    assert fish.stdout.splitlines()[-2:] == [
        "set -gx ANTHROPIC_BASE_URL 'https://api.inworld.ai'",
        f"set -gx ANTHROPIC_AUTH_TOKEN '{TEST_KEY}'",
    ]
    powershell = home.run("env", "--shell", "powershell", "-m", "auto")
    assert powershell.stdout == (
        "Remove-Item -Path Env:ANTHROPIC_API_KEY -ErrorAction SilentlyContinue\n"
        "Remove-Item -Path Env:ANTHROPIC_CUSTOM_HEADERS -ErrorAction SilentlyContinue\n"
        "$Env:ANTHROPIC_BASE_URL = 'https://api.inworld.ai'\n"
        f"$Env:ANTHROPIC_AUTH_TOKEN = '{TEST_KEY}'\n"
        "$Env:ANTHROPIC_MODEL = 'auto'\n"
    )
    tcsh = home.run("env", env={"SHELL": "/bin/tcsh"})
    assert (tcsh.returncode, tcsh.stdout) == (2, "")
    assert tcsh.stderr.splitlines()[0] == "error: cannot tell which shell to print for: $SHELL is '/bin/tcsh'"


def test_env_on_a_terminal_masks_the_key_and_says_how_to_apply_it(home: Home) -> None:
    home.login()
    run = run_on_terminal(home, "env", "--profile", "default", env={"SHELL": "/bin/zsh"}, columns=120)
    assert run.status == 0
    assert TEST_KEY.encode() not in run.out.data
    assert run.out.lines == [
        "unset ANTHROPIC_API_KEY",
        "unset ANTHROPIC_CUSTOM_HEADERS",
        "export ANTHROPIC_BASE_URL='https://api.inworld.ai'",
        "export ANTHROPIC_AUTH_TOKEN='iw-t...cdef'",
        'note: the key is masked on a terminal; to apply these: eval "$(inworld-router env --profile default)"',
    ]


def test_env_without_a_key_prints_nothing_and_exits_3(home: Home) -> None:
    result = home.run("env")
    assert (result.returncode, result.stdout) == (3, "")
    assert (
        result.stderr.splitlines()[0]
        == "error: no API key for profile 'default' (and INWORLD_API_KEY is not set)"
    )


# -- exec --------------------------------------------------------------------------------------------------


def spawn(home: Home, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [cli_path(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**home.env, **(env or {})},
    )


def test_exec_becomes_the_command_with_its_exit_status_and_variables(home: Home) -> None:
    home.login()
    script = (
        'echo "$$"; printf "%s|%s|%s|%s|%s|%s\\n" "$ANTHROPIC_AUTH_TOKEN" "$ANTHROPIC_MODEL" '
        '"${ANTHROPIC_API_KEY-unset}" "${ANTHROPIC_CUSTOM_HEADERS-unset}" "$MY_VAR" "$1"; exit 42'
    )
    env = {**HOSTILE, "MY_VAR": "kept"}
    proc = spawn(home, "exec", "-m", "openai/gpt-5", "--", "sh", "-c", script, "sh", "--model", env=env)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (42, "")
    pid, values = out.splitlines()
    assert int(pid) == proc.pid  # the same process: replaced, not a child
    # CMD's own options stay CMD's; the rest of the environment is passed on.
    assert values == f"{TEST_KEY}|openai/gpt-5|unset|unset|kept|--model"


def test_exec_signals_are_the_commands_own(home: Home) -> None:
    home.login()
    killed = spawn(home, "exec", "sh", "-c", 'kill -TERM "$$"')
    killed.communicate(timeout=30)
    assert killed.returncode == -signal.SIGTERM
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc to read the ignored signals from")
    # Python ignores SIGPIPE; CMD must not inherit that, or `| head` would make it fail instead of stop.
    status = spawn(home, "exec", "cat", "/proc/self/status")
    out, _ = status.communicate(timeout=30)
    ignored = int(next(line for line in out.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert ignored & (1 << (signal.SIGPIPE - 1)) == 0


def test_exec_of_a_missing_command_is_127(home: Home) -> None:
    home.login()
    result = home.run("exec", "--", "no-such-command-0123")
    assert (result.returncode, result.stdout) == (127, "")
    assert result.stderr.splitlines() == [
        "error: command not found: no-such-command-0123 (not found on PATH)",
        "hint: check the name, or give its path",
    ]
    missing = home.run("exec", "./no/such/file")
    assert missing.returncode == 127
    assert "no such file" in missing.stderr


def test_exec_of_what_cannot_run_is_126(home: Home, tmp_path: Path) -> None:
    home.login()
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = home.run("exec", str(script))
    assert (result.returncode, result.stdout) == (126, "")
    assert result.stderr.startswith(f"error: cannot run {script}: Permission denied\n")
    broken = tmp_path / "bad-interpreter"
    broken.write_text("#!/no/such/interpreter\n")
    broken.chmod(0o755)
    result = home.run("exec", str(broken))
    assert result.returncode == 126
    assert "the interpreter on its #! line was not found" in result.stderr


def test_exec_refuses_before_running_anything(home: Home, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for args, status, error in [
        (["exec", "touch", str(marker)], 3, "error: no API key for profile 'default'"),
        (["exec", "--profile", "nope", "touch", str(marker)], 2, "error: unknown profile 'nope'"),
        (["exec", "-m", " ", "touch", str(marker)], 2, "error: empty model name from --model"),
        (["exec"], 2, "error: no command to run"),
    ]:
        proc = spawn(home, *args)
        out, err = proc.communicate(timeout=30)
        assert (proc.returncode, out) == (status, ""), args
        assert err.startswith(error), args
    assert not marker.exists()


SDK_CLIENT = """
import anthropic
client = anthropic.Anthropic(max_retries=0)
reply = client.messages.create(model="auto", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
print(reply.content[0].text)
"""


def test_a_real_anthropic_sdk_client_reaches_the_router_with_our_key_alone(
    routed_home: Home, router: RouterServer
) -> None:
    """The tool's own SDK in a child process, under every Anthropic variable and login profile a user of
    Claude Code may have: the router sees one Authorization, ours; the decoy where they point, nothing."""
    decoy = RouterServer()
    try:
        hostile = anthropic_environment(routed_home, decoy)
        router.enqueue(json_reply(message("Hello from the router")))
        proc = spawn(routed_home, "exec", "--", sys.executable, "-c", SDK_CLIENT, env=hostile)
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out) == (0, "Hello from the router\n")
        # The SDK notices the login profile on disk and says the token it was handed wins, as it must.
        assert [
            line
            for line in err.splitlines()
            if "ANTHROPIC_AUTH_TOKEN is set and takes precedence" not in line
        ] == []
        (request,) = router.requests
        assert request.path == "/v1/messages"
        assert_only_our_key(request, f"Bearer {TEST_KEY}")
        assert decoy.requests == []
    finally:
        decoy.stop()
