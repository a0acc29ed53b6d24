"""The root's error handling: one line and a hint, tracebacks only with --debug, keys masked in both."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import TEST_KEY, Home
from tests.router_server import RouterServer


def test_debug_adds_the_traceback_and_keeps_the_exit_status(home: Home) -> None:
    plain = home.run("auth", "token")
    assert plain.returncode == 3
    assert "Traceback" not in plain.stderr
    for args, env in ((["--debug", "auth", "token"], {}), (["auth", "token"], {"INWORLD_DEBUG": "1"})):
        debug = home.run(*args, env=env)
        assert debug.returncode == 3
        assert debug.stderr.startswith("Traceback (most recent call last):")
        assert debug.stderr.endswith(plain.stderr)


INTERNAL_ERROR = textwrap.dedent(
    """
    import sys
    from inworld_cli import cli
    from inworld_cli.commands import auth

    key = sys.argv[1]

    def broken(profile, deps):
        deps.settings(auth.Overrides(profile=profile))  # resolves (and so learns) the key
        raise RuntimeError("a bug that mentions " + key)

    auth.run_token = broken
    sys.argv = ["inworld-router", *sys.argv[2:], "auth", "token"]
    cli.entry()
    """
)


def test_an_internal_error_is_one_line_with_the_key_masked(home: Home) -> None:
    home.login()
    for flags in ([], ["--debug"]):
        result = subprocess.run(
            [sys.executable, "-c", INTERNAL_ERROR, TEST_KEY, *flags],
            capture_output=True,
            text=True,
            env=home.env,
            check=False,
        )
        assert result.returncode == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[-2] == "error: internal error: RuntimeError: a bug that mentions ****"
        assert lines[-1] == "hint: rerun with --debug, and report it"
        assert TEST_KEY not in result.stderr
        assert ("Traceback" in result.stderr) == bool(flags)


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (["ask", "--frobnicate", "hi"], "No such option: --frobnicate", "see: inworld-router ask --help"),
        (["ask", "hi", "-m"], "Option '-m' requires an argument.", "see: inworld-router ask --help"),
        (
            ["history", "-n", "0"],
            "Invalid value for '-n' / '--limit': 0 is not in the range x>=1.",
            "see: inworld-router history --help",
        ),
        (["frobnicate"], "No such command 'frobnicate'.", "see: inworld-router --help"),
        (
            ["auth", "status", "extra"],
            "Got unexpected extra argument(s) (extra)",
            "see: inworld-router auth status --help",
        ),
    ],
)
def test_typers_own_usage_errors_come_in_the_one_style(
    routed_home: Home, router: RouterServer, args: list[str], error: str, hint: str
) -> None:
    """Not a box drawn by rich and wrapped inside it: `error:` and `hint:`, one line each, exit 2, nothing
    on stdout and nothing sent."""
    result = routed_home.run(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"error: {error}", f"hint: {hint}"]
    assert router.requests == []


def test_an_empty_stop_sequence_is_refused_and_nothing_is_sent(
    routed_home: Home, router: RouterServer
) -> None:
    result = routed_home.run("ask", "--stop", "", "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: --stop cannot be empty",
        'hint: give the text to stop at, e.g. --stop "END"',
    ]
    assert router.requests == []


@pytest.mark.parametrize(
    "args",
    [["ask", "hi"], ["batch", "--lines"], ["compare", "-m", "a/b", "-m", "c/d", "hi"]],
    ids=["ask", "batch", "compare"],
)
@pytest.mark.parametrize("url", ["http://127.0.0.1:notaport", "http://127.0.0.1:99999", "http://:8080"])
def test_a_base_url_whose_host_or_port_is_no_such_thing_is_a_usage_error(
    routed_home: Home, router: RouterServer, args: list[str], url: str
) -> None:
    """Refused when read, as any bad base URL, not found out when sending (an internal error, exit 1)."""
    result = routed_home.run(*args, "--base-url", url, input="hi\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: bad base URL from --base-url: {url!r}",
        "hint: use a URL such as https://api.inworld.ai",
    ]
    assert router.requests == []
    assert routed_home.run("history", "--json").stdout == "[]\n"


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ["batch", "--lines", "-t", "5"],
            "--temperature must be between 0 and 1, not 5.0",
            "e.g. --temperature 0.7",
        ),
        (
            ["compare", "-m", "a/b", "-m", "c/d", "--top-p", "2", "hi"],
            "--top-p must be between 0 and 1, not 2.0",
            "e.g. --top-p 0.7",
        ),
        (
            ["compare", "-m", "a/b", "-m", "c/d"],
            "no prompt: the arguments and stdin are empty",
            'give it as arguments (inworld-router compare "…") or pipe it (… | inworld-router compare)',
        ),
    ],
    ids=["batch-temperature", "compare-top-p", "compare-no-prompt"],
)
def test_a_hint_names_the_command_that_was_run(
    routed_home: Home, router: RouterServer, args: list[str], error: str, hint: str
) -> None:
    """Not `ask`'s, which the checks were first written for."""
    result = routed_home.run(*args, input="")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"error: {error}", f"hint: {hint}"]
    assert router.messages_requests == []
