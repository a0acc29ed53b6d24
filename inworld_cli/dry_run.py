"""`ask --dry-run`: the request that would be sent, as text (method, URL, headers with the key masked, body).

Pure apart from finding the SDK's default `anthropic-version`, which is read from the installed SDK's
source rather than by importing it (an import costs over a second, and only client.py may do it).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from inworld_cli.client import FALLBACK_API_VERSION
from inworld_cli.settings import Settings, mask_key

MESSAGES_PATH = "/v1/messages"


@functools.cache
def sdk_default_version() -> str:
    """The `anthropic-version` client.py sends when none is configured: the installed SDK's, else the
    router docs' (client.FALLBACK_API_VERSION)."""
    try:
        spec = importlib.util.find_spec("anthropic")
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            source = (Path(location) / "_constants.py").read_text(encoding="utf-8")
            match = re.search(r"""^ANTHROPIC_API_VERSION\s*=\s*["']([^"']+)["']""", source, re.MULTILINE)
            if match:
                return match.group(1)
    except (ImportError, OSError, ValueError):
        pass
    return FALLBACK_API_VERSION


def request_headers(settings: Settings) -> dict[str, str]:
    """The headers that matter, as they would be sent, with the key masked."""
    key = settings.api_key.value
    version = settings.anthropic_version.value
    if version is None:
        version = f"{sdk_default_version()} (the default)"
    return {
        "Authorization": f"Bearer {mask_key(key)}" if key else "Bearer <none: no API key configured>",
        "content-type": "application/json",
        "anthropic-version": version,
    }


def format_request(settings: Settings, body: dict[str, Any]) -> str:
    """The request as an HTTP message: `POST URL`, headers, a blank line, the JSON body (indented)."""
    lines = [f"POST {settings.base_url.value}{MESSAGES_PATH}"]
    lines += [f"{name}: {value}" for name, value in request_headers(settings).items()]
    lines += ["", json.dumps(body, indent=2, ensure_ascii=False)]
    return "\n".join(lines) + "\n"
