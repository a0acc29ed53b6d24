"""What `ask -c` and `ask --conversation ID` add to a request: the conversation found in history, its
earlier turns, the model and system prompt it keeps, and a warning when it nears the model's context length.
Everything here happens before anything is sent; a conversation that cannot be found is exit 2."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from inworld_cli.core.conversation import (
    Continued,
    context_length_of,
    context_warning,
    estimated_tokens,
)
from inworld_cli.errors import LocalError, UsageError

if TYPE_CHECKING:
    from inworld_cli.commands.requests import RequestFlags
    from inworld_cli.core.request import Parameters
    from inworld_cli.environment import Environment
    from inworld_cli.store.settings import Settings

# A prompt and an answer of --max-tokens that add up to less than this come near no context of 8,750 tokens
# or more (80% of it), so the catalogue is not even read: with the default --max-tokens (4,096), a prompt
# under ~2,900 tokens; a larger --max-tokens is checked against the model's context.
SMALL_REQUEST_TOKENS = 7000


def find_conversation(latest: bool, ref: str | None, settings: Settings) -> Continued | None:
    """The conversation to continue: the one used most recently (`latest`), or the one `ref` names."""
    if latest and ref is not None:
        raise UsageError(
            "-c and --conversation cannot be used together",
            hint="-c continues the conversation used last; --conversation ID picks one",
        )
    if not latest and ref is None:
        return None
    from inworld_cli.store.blobs import references
    from inworld_cli.store.history import HistoryStore

    store = HistoryStore(settings.paths.history_db)
    found = store.find_conversation(ref) if ref is not None else store.latest_conversation()
    if found is None:
        off = "" if settings.history.value else f" (history is off: {settings.history.source})"
        raise UsageError(
            f"no conversation to continue: history holds none{off}",
            hint='start one: inworld-router ask "…"',
        )
    conversation = Continued(found, tuple(reversed(store.conversation_records(found))))
    missing = references(conversation.messages)
    if missing:
        raise LocalError(
            f"conversation {found} cannot be re-sent: history lacks an attachment of it "
            f"(sha256 {sorted(missing)[0]})",
            hint="start a new conversation",
        )
    return conversation


def kept(parameters: Parameters, conversation: Continued, flags: RequestFlags) -> Parameters:
    """The conversation's model and system prompt, unless -m or -s say otherwise for this turn."""
    model = parameters.model if flags.model is not None else conversation.model or parameters.model
    system = conversation.system if isinstance(conversation.system, str) else None
    if flags.system is not None:
        system = parameters.system
    return dataclasses.replace(parameters, model=model, system=system)


def near_context_warning(
    env: Environment,
    settings: Settings,
    body: dict[str, Any],
    conversation: Continued | None,
) -> str | None:
    """A warning when the request fills most of the model's context, by the cached catalogue (never fetched
    for this: without a cache there is no warning)."""
    messages = body["messages"]
    so_far = conversation.tokens_so_far if conversation is not None else 0
    if so_far is None:  # the router reported no usage: estimate the earlier turns too
        tokens = sum(estimated_tokens(m.get("content")) for m in messages)
    else:
        tokens = so_far + estimated_tokens(messages[-1].get("content"))
        if conversation is None:
            tokens += estimated_tokens(body.get("system"))
    if tokens + body["max_tokens"] < SMALL_REQUEST_TOKENS or not settings.api_key.value:
        return None
    model = body["model"]
    if (model == "auto" or model.startswith("inworld/")) and conversation is not None:
        model = conversation.served_model or model  # the router decides; it chose this one last time
    from inworld_cli.store.cache import Cache

    entry = Cache(env.paths.cache_dir, settings.base_url.value, settings.api_key.value).load("models")
    found = context_length_of(model, entry.data) if entry is not None else None
    if found is None:
        return None
    name, length = found
    return context_warning(tokens, body["max_tokens"], name, length)
