"""`ask --dry-run`'s text: the method, the URL, the headers with the key masked, and the exact body."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inworld_cli.dry_run import format_request, sdk_default_version
from inworld_cli.routing_options import apply_routing, routing_options
from inworld_cli.settings import Overrides, Paths, Settings, resolve

KEY = "iw-dry-KEY-0123456789abcdef"


def settings_for(tmp_path: Path, env: dict[str, str]) -> Settings:
    paths = Paths(tmp_path / "config", tmp_path / "state", tmp_path / "cache")
    return resolve(Overrides(base_url="http://127.0.0.1:9/"), env, paths)


def body() -> dict[str, object]:
    plain = {
        "model": "auto",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "héllo"}],
        "stream": True,
    }
    options = routing_options(fallback=["a/b", "c/d"], sort=["price"], ttft_timeout="1s", user="u1")
    return apply_routing(plain, options)


def split(text: str) -> tuple[list[str], str]:
    head, _, rest = text.partition("\n\n")
    return head.splitlines(), rest


def test_the_request_is_shown_with_the_key_masked_and_the_exact_body(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, {"INWORLD_API_KEY": KEY, "INWORLD_ANTHROPIC_VERSION": "2023-06-01"})
    text = format_request(settings, body())
    assert KEY not in text
    head, rest = split(text)
    assert head == [
        "POST http://127.0.0.1:9/v1/messages",
        "Authorization: Bearer iw-d...cdef",
        "content-type: application/json",
        "anthropic-version: 2023-06-01",
    ]
    assert json.loads(rest) == body()
    assert "héllo" in rest  # readable, not \u-escaped
    assert rest.endswith("}\n")


def test_without_a_key_the_header_says_so(tmp_path: Path) -> None:
    head, _ = split(format_request(settings_for(tmp_path, {}), body()))
    assert head[1] == "Authorization: Bearer <none: no API key configured>"


def test_the_sdk_default_version_is_found_without_importing_the_sdk(tmp_path: Path) -> None:
    probe = (
        "import sys; from inworld_cli.dry_run import sdk_default_version as v; "
        "print(v(), 'anthropic' in sys.modules, 'httpx2' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    version, *imported = result.stdout.split()
    assert imported == ["False", "False"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)
    assert sdk_default_version() == version
    head, _ = split(format_request(settings_for(tmp_path, {"INWORLD_API_KEY": KEY}), body()))
    assert head[3] == f"anthropic-version: {version} (the default)"


@pytest.mark.parametrize("key", ["abc", "abcdefgh"])
def test_short_keys_are_masked_too(tmp_path: Path, key: str) -> None:
    text = format_request(settings_for(tmp_path, {"INWORLD_API_KEY": key}), body())
    assert f"Bearer {key}" not in text
