"""TAB after `-m`: the real bash completion protocol of the installed command, offline, from the caches
that `models` and `routers` filled and from history."""

from __future__ import annotations

import pytest

from inworld_cli.core.record import Record, new_record_id, utc_timestamp
from inworld_cli.store.history import HistoryStore
from tests.conftest import Home
from tests.e2e.test_completions import bash_complete
from tests.fixtures_catalog import serve_catalog
from tests.router_server import RouterServer

CATALOGUE = [
    "gemini-2.5-flash",
    "claude-opus-4-6",
    "claude-haiku-4-5",
    "llama-3.3-70b-versatile",
    "mystery-model",
]
ROUTER_MODELS = ["inworld/support-router", "inworld/ab-test"]
HISTORY_MODELS = ["openai/gpt-5", "anthropic/claude-opus-4-6"]


def bash_env(line: str) -> dict[str, str]:
    """What bash hands the program for a TAB at the end of `line` (Typer 0.29's bash protocol)."""
    words = line.split(" ")
    return {
        "_INWORLD_ROUTER_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }


def complete(home: Home, line: str, env: dict[str, str] | None = None) -> list[str]:
    result = home.run(env={**bash_env(line), **(env or {})})
    assert result.returncode == 0
    assert result.stderr == ""
    return result.stdout.splitlines()


def remember(home: Home) -> None:
    """One request in history: requested openai/gpt-5, served (after a failover) by claude-opus-4-6."""
    record = Record(
        id=new_record_id(),
        created_at=utc_timestamp(),
        profile="default",
        base_url_host="127.0.0.1",
        request={"model": "openai/gpt-5", "max_tokens": 16, "messages": []},
        response={"model": "anthropic/claude-opus-4-6", "content": []},
        error=None,
        timings={},
        exit_status=0,
    )
    HistoryStore(home.state_dir / "history.sqlite3").add(record)


@pytest.fixture
def cached_home(routed_home: Home, router: RouterServer) -> Home:
    serve_catalog(router)
    assert routed_home.run("models").returncode == 0
    assert routed_home.run("routers").returncode == 0
    remember(routed_home)
    return routed_home


def test_tab_after_model_offers_cached_models_routers_and_history_without_the_network(
    cached_home: Home, router: RouterServer
) -> None:
    before = len(router.requests)
    offered = complete(cached_home, "inworld-router ask -m ")
    assert len(router.requests) == before  # nothing asked of the router
    assert offered[0] == "auto"
    assert set(offered) == {"auto", *ROUTER_MODELS, *HISTORY_MODELS, *CATALOGUE}
    assert len(offered) == len(set(offered))
    assert complete(cached_home, "inworld-router ask -m inworld/") == ROUTER_MODELS
    assert complete(cached_home, "inworld-router ask --model claude-h") == ["claude-haiku-4-5"]


def test_completion_works_with_the_router_unreachable(cached_home: Home, router: RouterServer) -> None:
    router.stop()
    offered = complete(cached_home, "inworld-router ask -m ")
    assert set(ROUTER_MODELS + CATALOGUE) <= set(offered)


def test_the_caches_follow_the_base_url_being_completed(cached_home: Home) -> None:
    """Another base URL has its own (here: no) cache; history and auto are still offered."""
    offered = complete(cached_home, "inworld-router ask -m ", env={"INWORLD_BASE_URL": "http://127.0.0.1:9"})
    assert set(offered) == {"auto", *HISTORY_MODELS}
    typed = complete(cached_home, "inworld-router ask --base-url http://127.0.0.1:9 -m ")
    assert set(typed) == {"auto", *HISTORY_MODELS}


def test_nothing_cached_offers_auto(home: Home) -> None:
    assert complete(home, "inworld-router ask -m ") == ["auto"]


def test_damaged_caches_and_history_offer_less_never_a_traceback(cached_home: Home) -> None:
    for path in cached_home.cache_dir.glob("*.json"):
        path.write_text("{not json")
    (cached_home.state_dir / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    (cached_home.config_dir / "config.toml").write_text("[[[ broken")
    assert complete(cached_home, "inworld-router ask -m ") == ["auto"]


def test_router_ids_complete_for_routers_show(cached_home: Home) -> None:
    assert complete(cached_home, "inworld-router routers show ") == ["support-router", "ab-test"]
    assert complete(cached_home, "inworld-router routers ") == ["list", "show"]


def test_a_real_bash_completes_models_through_the_shipped_script(
    cached_home: Home, router: RouterServer
) -> None:
    before = len(router.requests)
    assert set(bash_complete(cached_home, "ask", "-m", "inworld/")) == set(ROUTER_MODELS)
    assert bash_complete(cached_home, "ask", "--model", "gemini") == ["gemini-2.5-flash"]
    assert len(router.requests) == before
