"""The fast paths never pay for the SDK (over a second to import) or for rich's markdown and live views."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import Home
from tests.router_server import RouterServer
from tests.workers import ThreadWorker

# pydantic is not here: Typer 0.29 itself imports it to coerce any typed parameter. rich.markdown is
# Typer's own on --help (its rich help formatter); every other fast path must not load it.
HEAVY = ["anthropic", "httpx2", "httpx", "rich.markdown", "rich.live"]
SDK = ["anthropic", "httpx2", "httpx"]

PROBE = """
import json, sys
sys.argv = ["inworld-router", *json.loads(sys.argv[1])]
from inworld_cli import cli
try:
    cli.main()
except SystemExit:
    pass
heavy = {heavy!r}
sys.__stderr__.write("LOADED=" + json.dumps([m for m in heavy if m in sys.modules]) + "\\n")
"""


def run_probe(
    home: Home, args: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in-process under the probe; its stdout is the command's, stderr ends with LOADED=[...]."""
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(args)],
        capture_output=True,
        text=True,
        env={**home.env, **(env or {})},
        check=False,
    )


def loaded_modules(home: Home, args: list[str], env: dict[str, str] | None = None) -> list[str]:
    return loaded_in(run_probe(home, args, env))


def loaded_in(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = [line for line in result.stderr.splitlines() if line.startswith("LOADED=")]
    assert lines, result.stderr
    return json.loads(lines[-1].removeprefix("LOADED="))


FAST_PATHS = [
    ["--help"],
    ["--version"],
    ["auth", "--help"],
    ["auth", "status"],
    ["auth", "token"],
    ["auth", "logout"],
    ["auth", "status", "--all"],
    ["env", "--shell", "fish"],
    ["inspect"],
    ["inspect", "last"],
    ["history"],
    ["models", "--help"],
    ["routers", "--help"],
    ["ask", "--help"],
    ["worker", "status"],
    ["worker", "stop"],
    ["ask", "--temperature", "5", "a bad flag stops before the SDK loads"],
    ["batch", "--help"],
    ["batch", "--rate", "0", "items.jsonl"],
    ["compare", "--help"],
]


@pytest.mark.parametrize("args", FAST_PATHS, ids=" ".join)
def test_fast_paths_do_not_import_the_sdk(home: Home, args: list[str]) -> None:
    home.login()
    loaded = loaded_modules(home, args)
    allowed = ["rich.markdown"] if "--help" in args else []
    assert [m for m in loaded if m not in allowed] == []


def test_probe_can_see_a_heavy_import(home: Home) -> None:
    """The guard itself must be able to fail: a module that imports the SDK is seen."""
    code = PROBE.format(heavy=HEAVY).replace(
        "from inworld_cli import cli", "import anthropic\nfrom inworld_cli import cli"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, '["--version"]'],
        capture_output=True,
        text=True,
        env=home.env,
        check=False,
    )
    assert 'LOADED=["anthropic"' in result.stderr


# A TAB runs the program once with the shell's words in the environment (Typer's completion protocol).
COMPLETION_REQUESTS = {
    "bash": {"COMP_WORDS": "inworld-router auth ", "COMP_CWORD": "2"},
    "zsh": {"_TYPER_COMPLETE_ARGS": "inworld-router auth "},
    "fish": {"_TYPER_COMPLETE_ARGS": "inworld-router auth ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
}


@pytest.mark.parametrize("shell", COMPLETION_REQUESTS)
def test_completion_does_not_import_the_sdk(home: Home, shell: str) -> None:
    home.login()
    env = {"_INWORLD_ROUTER_COMPLETE": f"complete_{shell}", **COMPLETION_REQUESTS[shell]}
    result = run_probe(home, [], env)
    assert "login" in result.stdout, result.stderr  # the probe really completed
    # zsh and fish show each candidate's help, which Typer cleans with its rich helpers (rich.markdown).
    allowed = [] if shell == "bash" else ["rich.markdown"]
    assert [m for m in loaded_in(result) if m not in allowed] == []


def test_model_completion_does_not_import_the_sdk(home: Home) -> None:
    """TAB after -m reads the caches and history: never the SDK, its HTTP library or rich's views."""
    home.login()
    env = {
        "_INWORLD_ROUTER_COMPLETE": "complete_bash",
        "COMP_WORDS": "inworld-router ask -m ",
        "COMP_CWORD": "3",
    }
    result = run_probe(home, [], env)
    assert "auto" in result.stdout.split(), result.stderr  # the probe really completed a model
    assert loaded_in(result) == []


@pytest.mark.parametrize("args", [["models", "--refresh"], ["routers", "--refresh"]], ids=" ".join)
def test_the_catalogue_is_fetched_without_the_sdk(home: Home, args: list[str]) -> None:
    """A GET to the catalogue needs the HTTP library, never the SDK's second of imports."""
    from tests.router_server import RouterServer, json_reply

    router = RouterServer()
    try:
        router.routes["/llm/v1alpha/models"] = json_reply({"models": [{"model": "m", "provider": "p"}]})
        router.routes["/router/v1/routers"] = json_reply({"routers": []})
        home.login()
        result = run_probe(home, args, {"INWORLD_BASE_URL": router.url})
        loaded = loaded_in(result)
        assert "anthropic" not in loaded
        assert "httpx2" in loaded  # it did make the request
        assert len(router.requests) == 1
    finally:
        router.stop()


def test_an_ask_through_a_warm_worker_does_not_import_the_sdk(
    routed_home: Home, router: RouterServer, thread_worker: ThreadWorker
) -> None:
    """The point of the worker: the SDK, its HTTP library and rich's views stay out of a piped `ask`
    (whose catalogue of prices is cached and fresh, as after any `ask` of the last day: a stale one is
    fetched alongside, which does load the HTTP library)."""
    from tests.fixtures_catalog import serve_catalog

    serve_catalog(router)
    assert routed_home.run("models").returncode == 0
    result = run_probe(routed_home, ["ask", "hi"], thread_worker.env)
    assert result.stdout == "Hello!\n", result.stderr
    assert thread_worker.served == 1
    assert loaded_in(result) == []
