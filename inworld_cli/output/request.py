"""`ask --dry-run`: the request that would be sent, as an HTTP message. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def format_request(url: str, headers: Mapping[str, str], body: dict[str, Any]) -> str:
    """`POST URL`, the headers, a blank line, the JSON body (indented)."""
    lines = [f"POST {url}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["", json.dumps(body, indent=2, ensure_ascii=False)]
    return "\n".join(lines) + "\n"
