"""`models` and `routers` end to end: the installed command against the local router, its cache on disk,
and every way the router can fail (unreachable, 5xx, HTML, 401/403, unknown router)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, Home
from tests.fixtures_catalog import AB_ROUTER, MODELS, MODELS_PATH, ROUTERS, ROUTERS_PATH, serve_catalog
from tests.router_server import Reply, RouterServer, error_reply, json_reply

MODEL_ROWS = (
    "claude-haiku-4-5\tanthropic\t200000\t1.00\t5.00\n"
    "claude-opus-4-6\tanthropic\t200000\t15.00\t75.00\n"
    "gemini-2.5-flash\tgoogle\t1048576\t0.30\t2.50\n"
    "llama-3.3-70b-versatile\tgroq\t131072\t0.59\t0.79\n"
    "mystery-model\topenai\t-\t-\t-\n"
)
ROUTER_ROWS = (
    "support-router\tSupport router\t2\tgoogle-ai-studio/gemini-2.5-flash\n"
    "ab-test\tA/B test\t0\topenai/gpt-5 (50), anthropic/claude-sonnet-4-6 (50)\n"
)
SUPPORT_TREE = """\
inworld/support-router  Support router
  route 1: premium-tier  when tier == "premium"
    openai/gpt-5.2  weight 70  (variant premium-gpt5)
    anthropic/claude-opus-4-6  weight 30  (variant premium-opus)
  route 2: spanish  when language == "es"
    auto  weight 100  (variant auto-cheap)
      model_selection: {"models": ["groq/llama-3.3-70b-versatile"], "sort": ["price"]}
    priority: 2
  default route: default
    google-ai-studio/gemini-2.5-flash  weight 100  (variant default)
  defaults
    message_templates: [{"role": "system", "content": "You are a helpful support agent."}]
  createTime: 2026-10-01T12:00:00Z
"""
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard: nothing listens there


@pytest.fixture
def catalog_home(routed_home: Home, router: RouterServer) -> Home:
    serve_catalog(router)
    return routed_home


def requests_to(router: RouterServer, prefix: str) -> list[str]:
    return [r.path for r in router.requests if r.path.startswith(prefix)]


def cache_file(home: Home, kind: str) -> Path:
    [path] = home.cache_dir.glob(f"{kind}-*.json")
    return path


def age_cache(home: Home, kind: str, seconds: float) -> None:
    path = cache_file(home, kind)
    stored = json.loads(path.read_text())
    stored["fetched_at"] -= seconds
    path.write_text(json.dumps(stored))


def assert_one_error(stderr: str, *fragments: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert TEST_KEY not in stderr


# -- models ---------------------------------------------------------------------------------------------


def test_models_lists_the_catalogue_with_basic_auth_and_no_anthropic_leak(
    catalog_home: Home, router: RouterServer
) -> None:
    decoy = RouterServer()  # where ANTHROPIC_BASE_URL and the proxies point: must see nothing
    hostile = {
        "ANTHROPIC_API_KEY": "sk-ant-api-LEAK",
        "ANTHROPIC_AUTH_TOKEN": "sk-ant-token-LEAK",
        "ANTHROPIC_BASE_URL": decoy.url,
        "ANTHROPIC_CUSTOM_HEADERS": "x-api-key: sk-ant-header-LEAK",
        "HTTP_PROXY": decoy.url,
        "HTTPS_PROXY": decoy.url,
        "ALL_PROXY": decoy.url,
    }
    try:
        result = catalog_home.run("models", env=hostile)
    finally:
        decoy.stop()
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == MODEL_ROWS
    assert decoy.requests == []
    [request] = router.requests[-1:]
    assert request.path == MODELS_PATH
    assert request.headers["authorization"] == f"Basic {TEST_KEY}"
    assert "x-api-key" not in request.headers
    assert "LEAK" not in json.dumps(request.headers)


def test_models_provider_filter_and_json(catalog_home: Home) -> None:
    anthropic = catalog_home.run("models", "--provider", "Anthropic")
    assert anthropic.returncode == 0
    assert anthropic.stdout == "".join(line + "\n" for line in MODEL_ROWS.splitlines()[:2])
    as_json = catalog_home.run("models", "--json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == MODELS  # unknown fields (e.g. "deprecated") kept
    groq = json.loads(catalog_home.run("models", "--json", "--provider", "groq").stdout)
    assert [m["model"] for m in groq] == ["llama-3.3-70b-versatile"]


def test_models_unknown_provider_prints_nothing_and_names_the_known_ones(catalog_home: Home) -> None:
    result = catalog_home.run("models", "--provider", "nobody")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == (
        "warning: no models from provider 'nobody'; providers: anthropic, google, groq, openai\n"
    )


def test_models_served_from_the_cache_then_refreshed(catalog_home: Home, router: RouterServer) -> None:
    first = catalog_home.run("models")
    second = catalog_home.run("models")
    assert first.stdout == second.stdout == MODEL_ROWS
    assert second.stderr == ""  # a fresh cache is not worth a word on a pipe
    assert len(requests_to(router, MODELS_PATH)) == 1
    refreshed = catalog_home.run("models", "--refresh")
    assert refreshed.stdout == MODEL_ROWS
    assert len(requests_to(router, MODELS_PATH)) == 2


def test_an_expired_cache_is_fetched_again(catalog_home: Home, router: RouterServer) -> None:
    catalog_home.run("models")
    age_cache(catalog_home, "models", 25 * 3600)
    again = catalog_home.run("models")
    assert (again.returncode, again.stdout, again.stderr) == (0, MODEL_ROWS, "")
    assert len(requests_to(router, MODELS_PATH)) == 2


def test_the_cache_is_private(catalog_home: Home) -> None:
    catalog_home.run("models")
    path = cache_file(catalog_home, "models")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert TEST_KEY not in path.read_text()
    assert path.parent == catalog_home.cache_dir


def test_offline_the_stale_cache_is_served_with_a_warning(catalog_home: Home, router: RouterServer) -> None:
    catalog_home.run("models")
    age_cache(catalog_home, "models", 3 * 86400)
    router.stop()
    result = catalog_home.run("models")
    assert (result.returncode, result.stdout) == (0, MODEL_ROWS)
    [warning] = result.stderr.splitlines()
    assert warning.startswith(f"warning: cannot connect to {router.url}: connection refused")
    assert warning.endswith("; showing the catalogue cached 3 days ago")


def test_a_failing_router_falls_back_to_the_cache_too(catalog_home: Home, router: RouterServer) -> None:
    catalog_home.run("models")
    router.routes[MODELS_PATH] = error_reply(503, "upstream overloaded", "overloaded_error")
    result = catalog_home.run("models", "--refresh")
    assert (result.returncode, result.stdout) == (0, MODEL_ROWS)
    assert "503" in result.stderr
    assert "upstream overloaded" in result.stderr
    assert "showing the catalogue cached" in result.stderr


def test_offline_without_a_cache_is_a_network_error(home: Home) -> None:
    home.login()
    result = home.run("models", env={"INWORLD_BASE_URL": CLOSED_PORT_URL})
    assert (result.returncode, result.stdout) == (6, "")
    # The same words as `ask` for the same failure: one transport, one wording.
    assert_one_error(result.stderr, "cannot connect to http://127.0.0.1:9: connection refused")


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (error_reply(500, "boom", "api_error"), "answered 500 api_error: boom (request id req-test-123)"),
        (
            Reply(kind="raw", status=502, body=b"<html><title>Bad gateway</title></html>"),
            "answered 502 with an HTML error page: Bad gateway",
        ),
        (
            json_reply({"code": 14, "message": "unavailable"}, status=503),
            "answered 503 UNAVAILABLE: unavailable",
        ),
        (Reply(kind="raw", status=200, body=b"<html>login page</html>"), "is not JSON"),
        (json_reply({"models": {"gpt": {}}}), "expected an object with a 'models' list"),
    ],
)
def test_a_failing_router_without_a_cache_is_exit_5(
    catalog_home: Home, router: RouterServer, reply: Reply, fragment: str
) -> None:
    router.routes[MODELS_PATH] = reply
    result = catalog_home.run("models")
    assert (result.returncode, result.stdout) == (5, "")
    assert fragment in result.stderr
    assert len(result.stderr.splitlines()) <= 2


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_exit_3_even_with_a_cache(
    catalog_home: Home, router: RouterServer, status: int
) -> None:
    catalog_home.run("models")
    router.routes[MODELS_PATH] = error_reply(status, "invalid credentials", "authentication_error")
    result = catalog_home.run("models", "--refresh")
    assert (result.returncode, result.stdout) == (3, "")
    assert_one_error(result.stderr, f"the router answered {status} authentication_error: invalid credentials")


def test_no_key_is_exit_3_before_any_request(home: Home, router: RouterServer) -> None:
    result = home.run("models", env={"INWORLD_BASE_URL": router.url})
    assert result.returncode == 3
    assert "auth login" in result.stderr
    assert router.requests == []


def test_the_cache_belongs_to_one_base_url_and_key(catalog_home: Home, router: RouterServer) -> None:
    catalog_home.run("models")
    other_key = catalog_home.run("models", env={"INWORLD_API_KEY": "iw-other-account-key-0000"})
    assert other_key.stdout == MODEL_ROWS
    assert len(requests_to(router, MODELS_PATH)) == 2
    assert router.requests[-1].headers["authorization"] == "Basic iw-other-account-key-0000"


# -- routers --------------------------------------------------------------------------------------------


def test_routers_lists_every_page(catalog_home: Home, router: RouterServer) -> None:
    result = catalog_home.run("routers")
    assert (result.returncode, result.stdout, result.stderr) == (0, ROUTER_ROWS, "")
    assert requests_to(router, ROUTERS_PATH) == [
        f"{ROUTERS_PATH}?page_size=100",
        f"{ROUTERS_PATH}?page_size=100&page_token=page-2",
    ]
    assert all(r.headers["authorization"] == f"Basic {TEST_KEY}" for r in router.requests)
    assert catalog_home.run("routers", "list").stdout == ROUTER_ROWS
    assert len(requests_to(router, ROUTERS_PATH)) == 2  # the second listing came from the cache
    as_json = catalog_home.run("routers", "--json")
    assert json.loads(as_json.stdout) == ROUTERS


def test_routers_show_draws_the_tree(catalog_home: Home, router: RouterServer) -> None:
    result = catalog_home.run("routers", "show", "support-router")
    assert (result.returncode, result.stdout, result.stderr) == (0, SUPPORT_TREE, "")
    assert requests_to(router, ROUTERS_PATH) == [f"{ROUTERS_PATH}/support-router"]
    as_json = catalog_home.run("routers", "show", "inworld/ab-test", "--json")
    assert json.loads(as_json.stdout) == AB_ROUTER


def test_routers_show_an_unknown_router_is_exit_4(catalog_home: Home) -> None:
    result = catalog_home.run("routers", "show", "no-such-router")
    assert (result.returncode, result.stdout) == (4, "")
    assert_one_error(result.stderr, "no router 'no-such-router'")


def test_routers_show_offline_uses_the_cached_list(catalog_home: Home, router: RouterServer) -> None:
    catalog_home.run("routers")
    router.stop()
    known = catalog_home.run("routers", "show", "support-router")
    assert (known.returncode, known.stdout) == (0, SUPPORT_TREE)
    assert "showing the router cached" in known.stderr
    unknown = catalog_home.run("routers", "show", "no-such-router")
    assert (unknown.returncode, unknown.stdout) == (4, "")
    assert_one_error(unknown.stderr, "no router 'no-such-router' in the list cached", "cannot connect")


def test_routers_offline_without_a_cache_is_a_network_error(home: Home) -> None:
    home.login()
    result = home.run("routers", "show", "x", env={"INWORLD_BASE_URL": CLOSED_PORT_URL})
    assert result.returncode == 6
    assert_one_error(result.stderr, "cannot connect to http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["routers", "show"],
            "error: routers show needs a router id\nhint: list them: inworld-router routers\n",
        ),
        (
            ["routers", "delete"],
            "error: No such command 'delete'.\nhint: see: inworld-router routers --help\n",
        ),
    ],
)
def test_routers_bad_usage_is_exit_2(home: Home, args: list[str], fragment: str) -> None:
    result = home.run(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", fragment)


def test_an_empty_router_list_says_so(catalog_home: Home, router: RouterServer) -> None:
    router.routes.clear()
    router.routes[ROUTERS_PATH] = json_reply({})  # proto3 JSON omits an empty list
    result = catalog_home.run("routers")
    assert (result.returncode, result.stdout) == (0, "")
    assert "no saved routers" in result.stderr
