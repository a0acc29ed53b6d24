"""TAB completion of -m/--model (and of router ids): offline, fast, and silent on any failure.

Offers `auto`, the saved routers as `inworld/<id>` and the catalogue's model ids from the cache that
`routers` and `models` fill (whatever its age), and the models seen in history. The shell runs the
program on every TAB, so this never touches the network and never imports the SDK or its HTTP library;
and it never prints a traceback into the user's command line: any failure offers less, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.core.catalogue import model_id, router_id
from inworld_cli.store.cache import Cache
from inworld_cli.store.settings import Overrides, Settings, resolve

Candidate = tuple[str, str]  # (value, a short description zsh and fish show next to it)
RECENT_CONVERSATIONS = 30


def _settings(ctx: typer.Context) -> Settings:
    """The settings the command being completed would use: its --profile/--base-url if already typed, else
    those typed before the subcommand. Resolved without the warnings `env.settings` prints: they would land
    in the user's command line."""
    env = environment_of(ctx)
    own, root = ctx.params, ctx.find_root().params

    def given(name: str) -> Any:
        return own.get(name) if own.get(name) is not None else root.get(name)

    overrides = Overrides(profile=given("profile"), base_url=given("base_url"))
    return resolve(overrides, env.vars, env.paths)


def _cached(settings: Settings, kind: str) -> list[Any]:
    key = settings.api_key.value
    if not key:
        return []
    entry = Cache(settings.paths.cache_dir, settings.base_url.value, key).load(kind)
    return entry.data if entry is not None and isinstance(entry.data, list) else []


def _router_ids(settings: Settings) -> Iterable[Candidate]:
    for item in _cached(settings, "routers"):
        rid = router_id(item)
        if rid:
            name = item.get("displayName") or item.get("display_name")
            yield rid, f"saved router{': ' + name if isinstance(name, str) and name else ''}"


def _routers(settings: Settings) -> Iterable[Candidate]:
    for rid, description in _router_ids(settings):
        yield f"inworld/{rid}", description


def _catalogue(settings: Settings) -> Iterable[Candidate]:
    for item in _cached(settings, "models"):
        mid = model_id(item)
        if mid:
            provider = item.get("provider")
            yield mid, f"catalogue{': ' + provider if isinstance(provider, str) and provider else ''}"


def _history(settings: Settings) -> Iterable[Candidate]:
    from inworld_cli.store.history import HistoryStore

    for name in HistoryStore(settings.paths.history_db).models_seen():
        yield name, "used before"


def model_candidates(settings: Settings | None, incomplete: str = "") -> list[Candidate]:
    """Every source on its own: one that fails (a damaged cache, a locked history) leaves the others."""
    found: dict[str, str] = {"auto": "the router picks"}
    sources: list[Callable[[Settings], Iterable[Candidate]]] = [_routers, _history, _catalogue]
    if settings is not None:
        for source in sources:
            try:
                for value, description in source(settings):
                    found.setdefault(value, description)
            except Exception:  # noqa: S112 - completion must offer less rather than fail
                continue
    return [(value, text) for value, text in found.items() if value.startswith(incomplete)]


def complete_model(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Typer's `autocompletion=` for -m/--model."""
    try:
        settings: Settings | None = _settings(ctx)
    except Exception:
        settings = None
    try:
        return model_candidates(settings, incomplete)
    except Exception:
        return []


def complete_router_id(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Typer's `autocompletion=` for `routers show ID`: the cached router ids."""
    try:
        return [(rid, text) for rid, text in _router_ids(_settings(ctx)) if rid.startswith(incomplete)]
    except Exception:
        return []


def complete_conversation(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Typer's `autocompletion=` for a conversation id: the recent conversations, titled."""
    from inworld_cli.store.history import HistoryStore

    try:
        store = HistoryStore(_settings(ctx).paths.history_db)
        return [
            (summary.id, summary.title)
            for summary in store.recent_conversations(RECENT_CONVERSATIONS)
            if summary.id.startswith(incomplete.lower())
        ]
    except Exception:
        return []
