"""Profiles: --profile and --base-url before the subcommand, a profile that exists nowhere, and
`auth status --all`."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_KEY, Home, closed_port
from tests.e2e.test_model_completion import complete
from tests.fixtures_catalog import serve_catalog
from tests.router_server import RouterServer

WORK_KEY = "iw-work-KEY-9876543210"


@pytest.fixture
def two_profiles(home: Home, router: RouterServer) -> Home:
    """`default` at a closed port; `work` (config and key) at the router; `ci` with a key only."""
    closed = f"http://127.0.0.1:{closed_port()}"
    home.config_dir.mkdir(parents=True, exist_ok=True)
    (home.config_dir / "config.toml").write_text(
        f'[profiles.default]\nbase_url = "{closed}"\n[profiles.work]\nbase_url = "{router.url}"\n'
    )
    home.login()
    home.login(WORK_KEY, profile="work")
    home.login("iw-ci-KEY-000011112222", profile="ci")
    return home


def test_profile_and_base_url_before_the_subcommand(two_profiles: Home, router: RouterServer) -> None:
    result = two_profiles.run("--profile", "work", "ask", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert router.messages_requests[-1].headers["authorization"] == f"Bearer {WORK_KEY}"
    # --base-url before the subcommand, with the default profile's key
    result = two_profiles.run("--base-url", router.url, "ask", "--no-log", "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert router.messages_requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert len(router.messages_requests) == 2


def test_the_subcommands_own_options_win(two_profiles: Home, router: RouterServer) -> None:
    status = json.loads(
        two_profiles.run("-P", "nowhere", "auth", "status", "--json", "--profile", "work").stdout
    )
    assert status["profile"] == {"value": "work", "source": "--profile"}
    closed = f"http://127.0.0.1:{closed_port()}"
    result = two_profiles.run("--base-url", closed, "ask", "--base-url", router.url, "hi")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")


def test_completion_follows_a_profile_given_before_the_subcommand(
    two_profiles: Home, router: RouterServer
) -> None:
    serve_catalog(router)
    assert two_profiles.run("models", "--profile", "work").returncode == 0  # fills work's cache
    assert "gemini-2.5-flash" in complete(two_profiles, "inworld-router --profile work ask -m ")
    assert "gemini-2.5-flash" not in complete(two_profiles, "inworld-router ask -m ")


@pytest.mark.parametrize(
    ("args", "env", "source"),
    [
        (["ask", "--profile", "wrok", "hi"], {}, "--profile"),
        (["--profile", "wrok", "models"], {}, "--profile"),
        (["auth", "token"], {"INWORLD_PROFILE": "wrok"}, "INWORLD_PROFILE"),
        (["env"], {"INWORLD_API_KEY": TEST_KEY, "INWORLD_PROFILE": "wrok"}, "INWORLD_PROFILE"),
    ],
)
def test_a_profile_that_exists_nowhere_is_a_usage_error(
    two_profiles: Home, router: RouterServer, args: list[str], env: dict[str, str], source: str
) -> None:
    result = two_profiles.run(*args, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: unknown profile 'wrok' (from {source}); known profiles: ci, default, work",
        "hint: create it: inworld-router auth login --profile wrok",
    ]
    assert router.requests == []


def test_a_default_profile_that_exists_nowhere_names_the_config(home: Home) -> None:
    home.config_dir.mkdir(parents=True)
    (home.config_dir / "config.toml").write_text('default_profile = "gone"\n')
    result = home.run("auth", "status")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"error: unknown profile 'gone' (from {home.config_dir / 'config.toml'} (default_profile)); "
        "known profiles: default"
    )


def test_login_creates_a_profile_and_logout_of_an_unknown_one_is_no_error(home: Home) -> None:
    home.login(profile="new")
    assert home.run("auth", "status", "--profile", "new").returncode == 0
    logout = home.run("auth", "logout", "--profile", "new")
    assert logout.returncode == 0
    again = home.run("auth", "logout", "--profile", "new")  # the first removed the profile altogether
    assert (again.returncode, again.stderr) == (
        0,
        "No profile 'new' (known profiles: default); nothing to remove\n",
    )


def test_status_all_lists_every_profile(two_profiles: Home, router: RouterServer) -> None:
    credentials = two_profiles.config_dir / "credentials.toml"
    config = two_profiles.config_dir / "config.toml"
    result = two_profiles.run("auth", "status", "--all", "--profile", "work")
    assert (result.returncode, result.stderr) == (0, "")
    closed = json.loads(two_profiles.run("auth", "status", "--json").stdout)["base_url"]["value"]
    assert result.stdout.splitlines() == [
        "ci",
        f"  api key:   iw-c...2222  (from {credentials})",
        "  base url:  https://api.inworld.ai  (default)",
        "default",
        f"  api key:   iw-t...cdef  (from {credentials})",
        f"  base url:  {closed}  ({config} [profiles.default])",
        "work  (active)",
        f"  api key:   iw-w...3210  (from {credentials})",
        f"  base url:  {router.url}  ({config} [profiles.work])",
    ]
    listed = json.loads(two_profiles.run("auth", "status", "--all", "--json").stdout)
    assert [(r["profile"]["value"], r["active"]) for r in listed] == [
        ("ci", False),
        ("default", True),
        ("work", False),
    ]
    assert WORK_KEY not in result.stdout + json.dumps(listed)


def test_status_all_shows_that_INWORLD_API_KEY_overrides_every_profile(two_profiles: Home) -> None:
    result = two_profiles.run("auth", "status", "--all", env={"INWORLD_API_KEY": "iw-env-KEY-00005555"})
    keys = [line for line in result.stdout.splitlines() if "api key:" in line]
    assert keys == ["  api key:   iw-e...5555  (from INWORLD_API_KEY)"] * 3


def test_status_all_check_checks_each_profile_with_its_own_key(
    two_profiles: Home, router: RouterServer
) -> None:
    serve_catalog(router)
    result = two_profiles.run("--base-url", router.url, "auth", "status", "--all", "--check")
    assert (result.returncode, result.stderr) == (0, "")
    checks = [line.strip() for line in result.stdout.splitlines() if "check:" in line]
    assert checks == ["check:     ok: the router accepted the key"] * 3
    sent = sorted(request.headers["authorization"] for request in router.requests)
    assert sent == sorted(f"Basic {key}" for key in ("iw-ci-KEY-000011112222", TEST_KEY, WORK_KEY))
    assert router.messages_requests == []


def test_a_profile_in_config_needs_no_readable_credentials_file(home: Home) -> None:
    """With the key from INWORLD_API_KEY, a credentials.toml in the way must not stop a known profile."""
    home.config_dir.mkdir(parents=True)
    (home.config_dir / "config.toml").write_text('[profiles.work]\nmodel = "auto"\n')
    (home.config_dir / "credentials.toml").mkdir()
    result = home.run("auth", "status", "--profile", "work", env={"INWORLD_API_KEY": TEST_KEY})
    assert (result.returncode, result.stderr) == (0, "")
