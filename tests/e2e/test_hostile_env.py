"""Hostile environments, end to end: other tools' Anthropic credentials, base URL, headers and login profile,
proxies, NO_COLOR, TERM=dumb, a 20-column terminal, no HOME.

Where a request could be diverted, a second local server (the decoy) stands where ANTHROPIC_BASE_URL, the
login profile and the proxies point: it must receive nothing, and the real router exactly our one
Authorization header (Bearer for the Messages API, Basic for the catalogue endpoints).

`ask` runs both ways: in-process, and through a warm worker, which for the credentials and proxies is one
started by an `ask` whose own environment carried all of them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, Home, isolated_env, process_environment
from tests.fixtures_catalog import MODELS_PATH, ROUTERS_PATH, serve_catalog
from tests.router_server import FAILOVER_METADATA, Received, RouterServer, sse_events, sse_reply
from tests.terminal import SPINNER_FRAMES, run_on_terminal
from tests.workers import ProcessWorker, Through, process_environment_of, start_process_worker

ANTHROPIC_CONFIG = {  # the SDK 2.13 layout: <config dir>/active_config, configs/<profile>.json, credentials/
    "active_config": "default\n",
    "configs/default.json": {"authentication": {"type": "user_oauth"}, "workspace_id": "wrk-EVIL"},
    "credentials/default.json": {"type": "oauth_token", "access_token": "sk-ant-oat-EVIL", "expires_at": 4102444800},
}  # fmt: skip

# (command, the path it calls, the Authorization it must send)
COMMANDS = {
    "ask": (["ask", "hi"], "/v1/messages", f"Bearer {TEST_KEY}"),
    "ask-no-stream": (["ask", "--no-stream", "hi"], "/v1/messages", f"Bearer {TEST_KEY}"),
    "models": (["models", "--refresh"], MODELS_PATH, f"Basic {TEST_KEY}"),
    "routers": (["routers", "--refresh"], ROUTERS_PATH, f"Basic {TEST_KEY}"),
}


@pytest.fixture
def decoy() -> Iterator[RouterServer]:
    server = RouterServer()
    yield server
    server.stop()


def anthropic_environment(home: Home, decoy: RouterServer) -> dict[str, str]:
    """Everything the SDK would otherwise pick up: keys, a base URL, headers and a login profile."""
    config_dir = Path(home.env["HOME"]) / ".config" / "anthropic"
    for name, content in ANTHROPIC_CONFIG.items():
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            content = json.dumps({**content, "base_url": decoy.url} if "configs/" in name else content)
        path.write_text(content)
    (config_dir / "credentials" / "default.json").chmod(0o600)
    return {
        "ANTHROPIC_API_KEY": "sk-ant-api-EVIL",
        "ANTHROPIC_AUTH_TOKEN": "sk-ant-token-EVIL",
        "ANTHROPIC_BASE_URL": decoy.url,
        "ANTHROPIC_CUSTOM_HEADERS": "x-api-key: sk-ant-header-EVIL\nAuthorization: Bearer sk-ant-EVIL\nX-Evil: 1",
        "ANTHROPIC_PROFILE": "default",
    }


def proxy_environment(decoy: RouterServer) -> dict[str, str]:
    names = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
    return {name: decoy.url for name in [*names, *(n.lower() for n in names)]}


def assert_only_our_key(request: Received, authorization: str) -> None:
    authorizations = [value for name, value in request.header_lines if name == "authorization"]
    assert authorizations == [authorization]
    names = [name for name, _ in request.header_lines]
    assert "x-api-key" not in names
    assert "anthropic-workspace-id" not in names
    assert not any("EVIL" in value or "evil" in name for name, value in request.header_lines)


# Commands and the ways they send: `ask` in-process and through the worker; the catalogue has no worker.
WAYS = [
    pytest.param(command, way, id=f"{command}-{way}")
    for command in COMMANDS
    for way in (["in-process", "worker"] if command.startswith("ask") else ["in-process"])
]
SCRUBBED = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE"}


@pytest.fixture(scope="module")
def hostile_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessWorker]:
    """A worker started, as `ask` starts one, by a process whose environment carried the key, every
    ANTHROPIC_* variable and proxies: it must have kept none of them."""
    root = tmp_path_factory.mktemp("hostile")
    home = Home(root, isolated_env(root))
    decoy = RouterServer()
    hostile = {
        **home.env,
        **anthropic_environment(home, decoy),
        **proxy_environment(decoy),
        "INWORLD_API_KEY": TEST_KEY,
    }
    with process_environment(hostile):
        worker = start_process_worker(variables=os.environ)
    try:
        assert set(process_environment_of(worker.pid)) <= SCRUBBED
        yield worker
    finally:
        worker.stop()
        decoy.stop()


def run_with(
    home: Home, router: RouterServer, command: str, env: dict[str, str], worker: ProcessWorker | None
) -> Received:
    args, path, authorization = COMMANDS[command]
    serve_catalog(router)
    served = worker.served if worker else 0
    result = home.run(*args, env={**env, **(worker.env if worker else {})})
    assert result.returncode == 0, result.stderr
    assert "EVIL" not in result.stdout + result.stderr
    [request] = [r for r in router.requests if r.path.startswith(path)][-1:]
    assert_only_our_key(request, authorization)
    if worker:
        assert worker.served == served + 1
    return request


@pytest.mark.parametrize("hostile", ["anthropic", "proxies"])
@pytest.mark.parametrize(("command", "way"), WAYS)
def test_other_tools_credentials_base_url_headers_login_profile_and_proxies_divert_nothing(
    routed_home: Home,
    router: RouterServer,
    decoy: RouterServer,
    command: str,
    way: str,
    hostile: str,
    request: pytest.FixtureRequest,
) -> None:
    env = anthropic_environment(routed_home, decoy) if hostile == "anthropic" else proxy_environment(decoy)
    worker = request.getfixturevalue("hostile_worker") if way == "worker" else None
    run_with(routed_home, router, command, env, worker)
    assert decoy.requests == []


# -- the terminal --------------------------------------------------------------------------------------------

MARKDOWN = "# Title\n\nSome **bold**, *italic* and `code`.\n\n- one\n- two\n\n```python\nprint('hi')\n```\n"
SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def colour_codes(data: bytes) -> list[str]:
    """The SGR parameters that set a colour (30-38, 40-48, 90-97, 100-107), in what a terminal received."""
    found = []
    for match in SGR.finditer(data):
        for param in match.group(1).decode().split(";"):
            if param.isdigit() and (30 <= int(param) <= 48 or 90 <= int(param) <= 107):
                found.append(param)
    return found


@pytest.mark.tty
def test_no_color_means_no_colour_in_the_answer_the_summary_or_inspect(
    routed_home: Home, router: RouterServer, through_process: Through
) -> None:
    router.enqueue(sse_reply(sse_events(MARKDOWN, metadata=FAILOVER_METADATA)))
    through_process.begin()
    coloured = run_on_terminal(routed_home, "ask", "hi", env=through_process.env)
    assert colour_codes(coloured.out.data)  # the same run without NO_COLOR has colour: the check can fail
    router.enqueue(sse_reply(sse_events(MARKDOWN, metadata=FAILOVER_METADATA)))
    for args in (["ask", "hi"], ["inspect"], ["history"]):
        run = run_on_terminal(routed_home, *args, env={"NO_COLOR": "1", **through_process.env})
        assert run.status == 0, args
        assert colour_codes(run.out.data) == [], args
    assert "Title" in run_on_terminal(routed_home, "inspect", env={"NO_COLOR": "1"}).out.text
    assert through_process.served() == (2 if through_process.worker else 0)


@pytest.mark.tty
def test_a_dumb_terminal_gets_no_escape_sequence_at_all(
    routed_home: Home, router: RouterServer, through_process: Through
) -> None:
    router.enqueue(sse_reply(sse_events(MARKDOWN), delay=0.5))  # long enough for a spinner to show
    router.enqueue(sse_reply(sse_events("partial", chunks=["partial"]), cut_after=5))
    through_process.begin()
    env = {"TERM": "dumb", **through_process.env}
    ok = run_on_terminal(routed_home, "ask", "hi", env=env)
    failed = run_on_terminal(routed_home, "ask", "hi", env=env)
    assert (ok.status, failed.status) == (0, 5)
    assert through_process.served() == (2 if through_process.worker else 0)
    for run in (ok, failed):
        assert b"\x1b" not in run.out.data
        assert not any(frame.encode() in run.out.data for frame in SPINNER_FRAMES)
    assert ok.out.lines[: len(MARKDOWN.splitlines())] == MARKDOWN.splitlines()  # as sent, unrendered
    assert ok.out.lines[-1].startswith("anthropic/claude-opus-4-6 · 1 attempt")
    assert failed.out.lines[0] == "partial"
    assert failed.out.lines[1].startswith("error: ")


@pytest.mark.tty
def test_a_20_column_terminal_loses_no_word(
    routed_home: Home, router: RouterServer, through_process: Through
) -> None:
    words = [
        "An",
        "answer",
        "with",
        "a",
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
        "and",
        "short",
        "ones",
    ]
    answer = " ".join(words[:6]) + "\n\n- " + " ".join(words[6:]) + "\n"
    router.enqueue(sse_reply(sse_events(answer, metadata=FAILOVER_METADATA), delay=0.3))
    through_process.begin()
    run = run_on_terminal(routed_home, "ask", "hi", columns=20, own_stderr=True, env=through_process.env)
    assert run.status == 0
    assert through_process.served() == (1 if through_process.worker else 0)
    shown = "".join(run.out.lines)
    position = 0
    for word in words:  # every word, in order (long ones folded across lines)
        position = shown.index(word, position) + len(word)
    assert run.err is not None
    assert "anthropic/claude-opus-4-6" in "".join(run.err.lines)  # the summary, wrapped
    listing = run_on_terminal(routed_home, "history", columns=20)
    assert listing.status == 0
    assert "anthropic/claude-opus-4-6" in "".join(listing.out.lines)
    inspected = run_on_terminal(routed_home, "inspect", columns=20)
    assert inspected.status == 0
    drawing = "".join(inspected.out.lines)
    for fact in (
        "gen-failover-42",
        "google-ai-studio/gemini-2.5-flash",
        "status=429",
        "fell back to",
        *words,
    ):
        assert fact in drawing, inspected.out.lines


def test_without_home_ask_and_history_work(routed_home: Home, router: RouterServer, through: Through) -> None:
    env = {k: v for k, v in routed_home.env.items() if k != "HOME"}
    routed_home.env = env
    through.begin()
    result = routed_home.run("ask", "hi", env=through.env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Hello!\n", "")
    assert through.served() == (1 if through.worker else 0)
    assert [
        r["request"]["messages"][0]["content"]
        for r in json.loads(routed_home.run("history", "--json").stdout)
    ] == ["hi"]
