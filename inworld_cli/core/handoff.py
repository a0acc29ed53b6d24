"""Handing the router to an Anthropic-compatible tool (Claude Code, the SDKs): the variables that point it
at our base URL with our key, and those that must not reach it. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping

from inworld_cli.core.text import NOT_UTF8
from inworld_cli.errors import UsageError

BASE_URL = "ANTHROPIC_BASE_URL"
AUTH_TOKEN = "ANTHROPIC_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
MODEL = "ANTHROPIC_MODEL"
# Each would make the tool send the router something besides our key: an Anthropic key as `x-api-key`
# (and Claude Code's "auth conflict" warning), or arbitrary headers of the user's Anthropic setup.
REMOVED = ("ANTHROPIC_API_KEY", "ANTHROPIC_CUSTOM_HEADERS")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_model(model: str) -> None:
    """A model name an environment variable can carry and a shell can print (exit 2 otherwise)."""
    if not model.strip():
        raise UsageError("empty model name from --model", hint="e.g. --model auto")
    if NOT_UTF8.search(model) or _CONTROL.search(model):
        raise UsageError(
            "the model name from --model has control characters or is not UTF-8 text",
            hint="e.g. --model anthropic/claude-opus-4-6",
        )


def handoff_variables(base_url: str, key: str, model: str | None) -> dict[str, str]:
    """The variables to set, in the order they are printed."""
    variables = {BASE_URL: base_url, AUTH_TOKEN: key}
    if model is not None:
        variables[MODEL] = model
    return variables


def child_environment(current: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    """`current` without the removed variables, with `variables` set."""
    child = {name: value for name, value in current.items() if name.upper() not in REMOVED}
    child.update(variables)
    return child
