"""The completion scripts in completions/ are current, and a real bash completes through them, offline."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import Home, cli_path
from tests.router_server import RouterServer

REPO = Path(__file__).resolve().parents[2]
COMPLETIONS = REPO / "completions"
GENERATOR = REPO / "scripts" / "gen_completions.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_completions", GENERATOR)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_committed_scripts_are_current() -> None:
    expected = load_generator().render_all()
    assert sorted(expected) == ["_inworld-router", "inworld-router.bash", "inworld-router.fish"]
    for filename, content in expected.items():
        committed = (COMPLETIONS / filename).read_text(encoding="utf-8")
        assert committed == content, f"completions/{filename} is stale: run python scripts/gen_completions.py"


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, check=False, timeout=60
    )


def test_check_names_the_stale_and_the_missing_file(tmp_path: Path) -> None:
    for path in COMPLETIONS.iterdir():
        shutil.copy(path, tmp_path / path.name)
    assert run_generator("--check", "--dir", str(tmp_path)).returncode == 0

    fish = tmp_path / "inworld-router.fish"
    fish.write_text(fish.read_text() + "# edited by hand\n")
    (tmp_path / "_inworld-router").unlink()
    result = run_generator("--check", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert f"{fish}: stale" in result.stderr
    assert f"{tmp_path / '_inworld-router'}: missing" in result.stderr
    assert "inworld-router.bash" not in result.stderr
    assert not (tmp_path / "_inworld-router").exists()  # --check changes nothing

    assert run_generator("--dir", str(tmp_path)).returncode == 0
    assert run_generator("--check", "--dir", str(tmp_path)).returncode == 0


def test_zsh_script_keeps_compdef_first() -> None:
    """compinit only picks up files in $fpath whose first line is `#compdef NAME`."""
    first = (COMPLETIONS / "_inworld-router").read_text().splitlines()[0]
    assert first == "#compdef inworld-router"


# Sources the script the way a user's .bashrc does, finds the function it registered for the command, and
# calls it as bash's programmable completion would: COMP_WORDS/COMP_CWORD set, then $1 $2 $3 = command,
# word being completed, previous word.
BASH_DRIVER = r"""
set -u
source "$COMPLETION_SCRIPT"
spec=$(complete -p inworld-router) || exit 97
func=${spec##*-F }
func=${func%% *}
COMP_WORDS=("$@")
COMP_CWORD=$CWORD
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$func" inworld-router "${COMP_WORDS[CWORD]}" "${COMP_WORDS[CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def bash_complete(home: Home, *words: str, bindir: Path | None = None) -> list[str]:
    """Candidates for the last word (use "" for a TAB after a space); `bindir` goes first on PATH."""
    env = {
        **home.env,
        "PATH": f"{bindir or Path(cli_path()).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COMPLETION_SCRIPT": str(COMPLETIONS / "inworld-router.bash"),
        "CWORD": str(len(words)),
    }
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "bash", "inworld-router", *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


@pytest.fixture
def offline_home(home: Home, router: RouterServer) -> Home:
    """Logged in, with the base URL pointing at a local router that records any request made."""
    home.env["INWORLD_BASE_URL"] = router.url
    home.login()
    return home


def test_bash_completes_commands(offline_home: Home, router: RouterServer) -> None:
    assert sorted(bash_complete(offline_home, "a")) == ["ask", "auth"]
    assert {"ask", "auth", "inspect", "history", "models", "routers"} <= set(bash_complete(offline_home, ""))
    assert router.requests == []


def test_bash_completing_a_model_stays_offline(offline_home: Home, router: RouterServer) -> None:
    """-m completes from caches and history only: with nothing cached, nothing is fetched to fill them."""
    bash_complete(offline_home, "ask", "-m", "")
    bash_complete(offline_home, "ask", "--model", "anthropic/")
    assert router.requests == []


def test_bash_completes_subcommands(offline_home: Home, router: RouterServer) -> None:
    assert bash_complete(offline_home, "auth", "") == ["login", "status", "logout", "token"]
    assert bash_complete(offline_home, "auth", "lo") == ["login", "logout"]
    assert router.requests == []


def test_bash_completes_options(offline_home: Home, router: RouterServer) -> None:
    replies = bash_complete(offline_home, "auth", "status", "--")
    assert {"--profile", "--json", "--help"} <= set(replies)
    assert all(reply.startswith("--") for reply in replies)
    assert {"--version", "--debug", "--help"} <= set(bash_complete(offline_home, "--"))
    assert router.requests == []


def test_bash_candidates_come_from_the_program_on_path(home: Home) -> None:
    """The script asks the program itself at each TAB: another program of that name first on PATH answers
    instead (so the candidates in the tests above came from the real app, not from the script)."""
    fake = home.root / "fakebin"
    fake.mkdir()
    (fake / "inworld-router").write_text("#!/bin/sh\necho not-a-real-candidate\n")
    (fake / "inworld-router").chmod(0o755)
    assert bash_complete(home, "a", bindir=fake) == ["not-a-real-candidate"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_through_the_script(offline_home: Home, router: RouterServer) -> None:
    functions = offline_home.root / "fish-completions"
    functions.mkdir()
    shutil.copy(COMPLETIONS / "inworld-router.fish", functions / "inworld-router.fish")
    env = {**offline_home.env, "PATH": f"{Path(cli_path()).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = f"set -p fish_complete_path {functions}; complete -C'inworld-router auth '"
    result = subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == [
        "login",
        "logout",
        "status",
        "token",
    ]
    assert router.requests == []
