"""`auth status --check` and the key check of `auth login`: the router is asked with a request that generates
nothing (the models catalogue), and the verdict decides the exit status, or whether a new key is saved."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_KEY, Home, closed_port
from tests.fixtures_catalog import MODELS_PATH, serve_catalog
from tests.router_server import Reply, RouterServer, error_reply

MASKED = f"{TEST_KEY[:4]}...{TEST_KEY[-4:]}"


@pytest.fixture
def router_home(home: Home, router: RouterServer) -> Home:
    """A home pointed at the local router, with no key yet."""
    home.env["INWORLD_BASE_URL"] = router.url
    return home


def only_the_check_was_sent(router: RouterServer, key: str = TEST_KEY) -> None:
    (request,) = router.requests
    assert (request.method, request.path) == ("GET", MODELS_PATH)
    assert request.headers["authorization"] == f"Basic {key}"
    assert router.messages_requests == []  # nothing was generated


# -- auth status --check --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "status", "row", "error"),
    [
        (None, 0, "ok: the router accepted the key", None),
        (
            error_reply(401, "invalid API key", "authentication_error"),
            3,
            "refused (exit 3; the error is below)",
            "the router answered 401 authentication_error: invalid API key (request id req-test-123)",
        ),
        (
            error_reply(403, "key disabled", "permission_error"),
            3,
            "refused (exit 3; the error is below)",
            None,
        ),
        (error_reply(503, "down", "api_error"), 5, "failed (exit 5; the error is below)", None),
        # Not the router (a web page at the base URL): not a working key.
        (Reply(kind="raw", body="<html>Welcome</html>"), 5, "failed (exit 5; the error is below)", None),
    ],
    ids=["ok", "401", "403", "503", "html-page"],
)
def test_check_asks_the_catalogue_and_exits_by_the_verdict(
    routed_home: Home, router: RouterServer, reply: Reply | None, status: int, row: str, error: str | None
) -> None:
    serve_catalog(router)
    if reply is not None:
        router.routes[MODELS_PATH] = reply
    result = routed_home.run("auth", "status", "--check")
    assert result.returncode == status, result.stderr
    assert result.stdout.splitlines()[-1] == f"check:       {row}"
    only_the_check_was_sent(router)
    if status == 0:
        assert result.stderr == ""
        return
    assert len(result.stderr.splitlines()) == 2
    if status == 3:
        message = error or ""
        assert result.stderr.startswith(f"error: the key was refused by {router.url}: {message}")
        assert result.stderr.splitlines()[1] == (
            "hint: check the key in the Inworld Portal, then: inworld-router auth login"
        )
    assert TEST_KEY not in result.stdout + result.stderr


def test_check_of_an_unreachable_router_is_exit_6(home: Home) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    home.login()
    result = home.run("auth", "status", "--check", "--json", env={"INWORLD_BASE_URL": url})
    assert result.returncode == 6
    check = json.loads(result.stdout)["check"]
    assert check == {
        "outcome": "unreachable",
        "exit_status": 6,
        "error": {
            "status": None,
            "type": None,
            "message": f"cannot connect to {url}: connection refused",
            "request_id": None,
        },
    }
    assert result.stderr.splitlines() == [
        f"error: cannot connect to {url}: connection refused",
        f"hint: check the network and --base-url ({url})",
    ]


def test_check_without_a_key_sends_nothing(router_home: Home, router: RouterServer) -> None:
    result = router_home.run("auth", "status", "--check")
    assert result.returncode == 3
    assert result.stdout.splitlines()[-1] == "check:       not done: no key"
    assert (
        result.stderr.splitlines()[0]
        == "error: no API key for profile 'default' (and INWORLD_API_KEY is not set)"
    )
    assert router.requests == []


def test_a_refused_key_hint_names_the_profile(routed_home: Home, router: RouterServer) -> None:
    routed_home.login(profile="work")
    router.routes[MODELS_PATH] = error_reply(401, "nope", "authentication_error")
    result = routed_home.run("auth", "status", "--check", "--profile", "work")
    assert result.returncode == 3
    assert result.stderr.splitlines()[1] == (
        "hint: check the key in the Inworld Portal, then: inworld-router auth login --profile work"
    )


# -- auth login verifies the key ----------------------------------------------------------------------


def test_login_says_the_router_accepted_the_key(router_home: Home, router: RouterServer) -> None:
    serve_catalog(router)
    result = router_home.run("auth", "login", "--with-key", input=TEST_KEY)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines() == [
        f"The router at {router.url} accepted the key",
        f"Saved the key {MASKED} for profile 'default' in {router_home.config_dir / 'credentials.toml'}",
    ]
    only_the_check_was_sent(router)


def test_login_refused_by_the_router_saves_nothing_and_keeps_the_old_key(
    router_home: Home, router: RouterServer
) -> None:
    router_home.login("iw-old-key-0000000000")
    router.routes[MODELS_PATH] = error_reply(401, "invalid API key", "authentication_error")
    result = router_home.run("auth", "login", "--with-key", input=TEST_KEY)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.splitlines() == [
        f"error: the key was refused by {router.url}: the router answered 401 authentication_error: "
        "invalid API key (request id req-test-123)",
        "hint: nothing was saved; check the key, or save it anyway with: inworld-router auth login --no-verify",
    ]
    only_the_check_was_sent(router)
    assert router_home.run("auth", "token").stdout == "iw-old-key-0000000000\n"


def test_login_offline_saves_the_key_unverified(home: Home) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = home.run("auth", "login", "--with-key", input=TEST_KEY, env={"INWORLD_BASE_URL": url})
    assert (result.returncode, result.stdout) == (0, "")
    credentials = home.config_dir / "credentials.toml"
    assert result.stderr.splitlines() == [
        f"warning: could not verify the key: cannot connect to {url}: connection refused",
        f"Saved the key {MASKED} for profile 'default' in {credentials} (not verified)",
    ]
    assert home.run("auth", "token").stdout == TEST_KEY + "\n"


def test_login_no_verify_asks_nothing(router_home: Home, router: RouterServer) -> None:
    result = router_home.run("auth", "login", "--with-key", "--no-verify", input=TEST_KEY)
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1].endswith("credentials.toml (not verified: --no-verify)")
    assert router.requests == []
