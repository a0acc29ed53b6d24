"""The root's error handling: one line and a hint, tracebacks only with --debug, keys masked in both."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import TEST_KEY, Home


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
