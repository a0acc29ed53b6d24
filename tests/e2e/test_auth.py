"""`auth` end to end: the installed command in a subprocess, in an isolated home."""

from __future__ import annotations

import json
import os
import stat
import subprocess

from tests.conftest import TEST_KEY, Home, cli_path

MASKED = f"{TEST_KEY[:4]}...{TEST_KEY[-4:]}"


def test_login_status_token_logout_cycle(home: Home) -> None:
    login = home.run("auth", "login", "--with-key", "--no-verify", input=f"Bearer {TEST_KEY}\n")
    assert login.returncode == 0, login.stderr
    assert login.stdout == ""
    assert "profile 'default'" in login.stderr
    assert MASKED in login.stderr
    assert TEST_KEY not in login.stderr

    status = home.run("auth", "status")
    assert status.returncode == 0
    assert MASKED in status.stdout
    assert str(home.config_dir / "credentials.toml") in status.stdout
    assert TEST_KEY not in status.stdout + status.stderr

    token = home.run("auth", "token")
    assert (token.returncode, token.stdout, token.stderr) == (0, TEST_KEY + "\n", "")

    logout = home.run("auth", "logout")
    assert logout.returncode == 0
    assert "Removed" in logout.stderr
    again = home.run("auth", "logout")
    assert again.returncode == 0
    assert "nothing to remove" in again.stderr

    status = home.run("auth", "status")
    assert status.returncode == 3
    assert "api key:     none" in status.stdout
    assert status.stderr.splitlines() == [
        "error: no API key for profile 'default' (and INWORLD_API_KEY is not set)",
        "hint: run: inworld-router auth login",
    ]
    token = home.run("auth", "token")
    assert (token.returncode, token.stdout) == (3, "")


def test_status_json_reports_sources(home: Home) -> None:
    home.login(profile="work")
    result = home.run("auth", "status", "--json", "--profile", "work", env={"INWORLD_MODEL": "openai/gpt-5"})
    record = json.loads(result.stdout)
    assert result.returncode == 0
    assert record["profile"] == {"value": "work", "source": "--profile"}
    assert record["api_key"] == {"masked": MASKED, "source": str(home.config_dir / "credentials.toml")}
    assert record["model"] == {"value": "openai/gpt-5", "source": "INWORLD_MODEL"}
    assert record["base_url"]["source"] == "default"
    default = home.run("auth", "status", "--json")
    assert default.returncode == 3
    assert json.loads(default.stdout)["api_key"] == {"masked": None, "source": "none"}


def test_env_key_is_reported_as_its_source_and_logout_warns(home: Home) -> None:
    env = {"INWORLD_API_KEY": TEST_KEY}
    status = home.run("auth", "status", env=env)
    assert status.returncode == 0
    assert "(from INWORLD_API_KEY)" in status.stdout
    logout = home.run("auth", "logout", env=env)
    assert "INWORLD_API_KEY is still set" in logout.stderr


def test_login_with_base_url_saves_it_in_config(home: Home) -> None:
    result = home.run("auth", "login", "--with-key", "--base-url", "http://127.0.0.1:9/", input=TEST_KEY)
    assert result.returncode == 0, result.stderr
    status = home.run("auth", "status")
    assert "http://127.0.0.1:9  (" in status.stdout
    assert "config.toml [profiles.default]" in status.stdout
    assert "api_key" not in (home.config_dir / "config.toml").read_text()


def test_login_refuses_bad_keys(home: Home) -> None:
    for bad in ["", "  \n", "Bearer ", "two words", "esc\x1b[2Jkey"]:
        result = home.run("auth", "login", "--with-key", input=bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
    assert not (home.config_dir / "credentials.toml").exists()


def test_login_reads_piped_stdin_without_flag(home: Home) -> None:
    result = home.run("auth", "login", "--no-verify", input=TEST_KEY)
    assert result.returncode == 0, result.stderr
    assert home.run("auth", "token").stdout == TEST_KEY + "\n"


def test_files_are_private_under_umask_000(home: Home) -> None:
    result = subprocess.run(
        [cli_path(), "auth", "login", "--with-key", "--no-verify"],
        input=TEST_KEY.encode(),
        env=home.env,
        capture_output=True,
        preexec_fn=lambda: os.umask(0),
        check=False,
    )
    assert result.returncode == 0
    assert stat.S_IMODE((home.config_dir / "credentials.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.config_dir.stat().st_mode) == 0o700


def test_loose_credentials_file_gives_a_warning(home: Home) -> None:
    home.login()
    (home.config_dir / "credentials.toml").chmod(0o644)
    result = home.run("auth", "status")
    assert result.returncode == 0
    assert "readable by other users" in result.stderr
    assert "chmod 600" in result.stderr


def test_bad_config_is_exit_2_and_not_overwritten(home: Home) -> None:
    home.config_dir.mkdir(parents=True)
    bad = "[profiles.default]\nmodel = 'a'\nmax_tokens = 'lots'\n"
    (home.config_dir / "config.toml").write_text(bad)
    for args in (["auth", "status"], ["auth", "token"]):
        result = home.run(*args)
        assert result.returncode == 2
        assert result.stdout == ""
        assert "config.toml:3: key 'profiles.default.max_tokens' must be an integer" in result.stderr
        assert "Traceback" not in result.stderr
    login = home.run("auth", "login", "--with-key", "--base-url", "http://x", input=TEST_KEY)
    assert login.returncode == 2
    assert (home.config_dir / "config.toml").read_text() == bad

    (home.config_dir / "config.toml").write_text("[profiles.default\n")
    result = home.run("auth", "status")
    assert result.returncode == 2
    assert "invalid TOML" in result.stderr
    assert "line 1" in result.stderr
    assert len(result.stderr.splitlines()) == 2


def test_two_logins_at_once_keep_both_profiles(home: Home) -> None:
    procs = [
        subprocess.Popen(
            [cli_path(), "auth", "login", "--with-key", "--no-verify", "--profile", f"p{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=home.env,
        )
        for i in range(8)
    ]
    for i, proc in enumerate(procs):
        proc.communicate(f"key-number-{i}-abcdef".encode())
        assert proc.returncode == 0
    for i in range(8):
        assert home.run("auth", "token", "--profile", f"p{i}").stdout == f"key-number-{i}-abcdef\n"


def test_version_and_python_m(home: Home) -> None:
    from inworld_cli import __version__

    result = home.run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"inworld-router {__version__}")
    import sys

    module = subprocess.run(
        [sys.executable, "-m", "inworld_cli", "--version"],
        capture_output=True,
        text=True,
        env=home.env,
        check=False,
    )
    assert module.stdout == result.stdout


def test_usage_error_is_exit_2(home: Home) -> None:
    result = home.run("auth", "status", "--no-such-flag")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert result.stdout == ""


def test_works_without_home(home: Home) -> None:
    env = {k: v for k, v in home.env.items() if k != "HOME"}
    result = subprocess.run(
        [cli_path(), "auth", "login", "--with-key", "--no-verify"],
        input=TEST_KEY.encode(),
        env=env,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status = subprocess.run(
        [cli_path(), "auth", "status"], env=env, capture_output=True, text=True, check=False
    )
    assert status.returncode == 0
    assert MASKED in status.stdout


def test_anthropic_variables_never_supply_a_key(home: Home) -> None:
    hostile = {
        "ANTHROPIC_API_KEY": "sk-ant-api-SECRET",
        "ANTHROPIC_AUTH_TOKEN": "sk-ant-oat-SECRET",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    }
    status = home.run("auth", "status", env=hostile)
    assert status.returncode == 3
    assert "SECRET" not in status.stdout + status.stderr
    assert "https://api.inworld.ai  (default)" in status.stdout
    assert home.run("auth", "token", env=hostile).returncode == 3
