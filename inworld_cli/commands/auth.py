"""`inworld-router auth`: store, show, remove and print the API key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from inworld_cli.commands.context import environment_of, help_without_subcommand
from inworld_cli.commands.options import BaseUrlOption, JsonOption, ProfileOption
from inworld_cli.environment import Environment
from inworld_cli.errors import UsageError, no_key_error
from inworld_cli.store.files import atomic_write
from inworld_cli.store.settings import (
    Overrides,
    Settings,
    known_profiles,
    load_config,
    mask_key,
    normalize_api_key,
    normalize_base_url,
    remove_api_key,
    save_api_key,
)

app = typer.Typer(help="Store, show, remove or print the Inworld API key.")


@app.callback(invoke_without_command=True)
def _group(ctx: typer.Context) -> None:
    help_without_subcommand(ctx)


# -- login ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOptions:
    profile: str | None
    base_url: str | None
    with_key: bool


def _read_key(env: Environment, with_key: bool) -> tuple[str, str]:
    streams = env.streams
    if with_key or not streams.stdin_is_terminal:
        try:
            return streams.stdin.read().decode("utf-8"), "stdin"
        except UnicodeDecodeError:
            raise UsageError("the key on stdin is not UTF-8 text", hint="pipe the key alone") from None
    import getpass

    return getpass.getpass(
        "Paste your Inworld API key (input is hidden): ", stream=streams.stderr
    ), "the prompt"


def _save_base_url(env: Environment, profile: str, base_url: str) -> None:
    import tomli_w

    path = env.paths.config_file
    config = load_config(path)  # refuses (exit 2) rather than overwrite a file it cannot read
    config.setdefault("profiles", {}).setdefault(profile, {})["base_url"] = base_url
    atomic_write(path, tomli_w.dumps(config).encode("utf-8"))


def run_login(options: LoginOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile), new_profile=True)
    profile = settings.profile.value
    base_url = normalize_base_url(options.base_url, "--base-url") if options.base_url else None
    raw, origin = _read_key(env, options.with_key)
    key = normalize_api_key(raw, origin)
    path = env.paths.credentials_file
    save_api_key(path, profile, key)
    if base_url:
        _save_base_url(env, profile, base_url)
    streams = env.streams
    streams.err(f"Saved the key {mask_key(key)} for profile '{profile}' in {path}")
    if base_url:
        streams.err(f"Saved base_url {base_url} for profile '{profile}' in {env.paths.config_file}")
    if "INWORLD_API_KEY" in streams.env:
        streams.warn("INWORLD_API_KEY is set and takes precedence over the stored key")


@app.command()
def login(
    ctx: typer.Context,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
    with_key: Annotated[bool, typer.Option("--with-key", help="Read the key from stdin.")] = False,
) -> None:
    """Store an API key for a profile (hidden prompt, or stdin).

    Examples:

      inworld-router auth login

      printf %s "$INWORLD_KEY" | inworld-router auth login --with-key

      inworld-router auth login --profile staging --base-url https://staging.example.com
    """
    run_login(LoginOptions(profile, base_url, with_key), environment_of(ctx))


# -- status --------------------------------------------------------------------------------------------


def status_record(settings: Settings) -> dict[str, Any]:
    key = settings.api_key.value
    paths = settings.paths
    return {
        "profile": {"value": settings.profile.value, "source": settings.profile.source},
        "api_key": {"masked": mask_key(key) if key else None, "source": settings.api_key.source},
        "base_url": {"value": settings.base_url.value, "source": settings.base_url.source},
        "model": {"value": settings.model.value, "source": settings.model.source},
        "files": {
            "config": str(paths.config_file),
            "credentials": str(paths.credentials_file),
            "history": str(paths.history_db),
            "cache": str(paths.cache_dir),
        },
    }


def _status_text(record: dict[str, Any]) -> str:
    key = record["api_key"]
    key_line = f"{key['masked']}  (from {key['source']})" if key["masked"] else "none"
    rows = [
        ("profile", f"{record['profile']['value']}  ({record['profile']['source']})"),
        ("api key", key_line),
        ("base url", f"{record['base_url']['value']}  ({record['base_url']['source']})"),
        ("model", f"{record['model']['value']}  ({record['model']['source']})"),
        ("config", record["files"]["config"]),
        ("credentials", record["files"]["credentials"]),
        ("history", record["files"]["history"]),
    ]
    return "".join(f"{name + ':':<13}{value}\n" for name, value in rows)


def run_status(profile: str | None, as_json: bool, env: Environment) -> None:
    settings = env.settings(Overrides(profile=profile))
    record = status_record(settings)
    env.streams.out(json.dumps(record, indent=2) + "\n" if as_json else _status_text(record))
    if settings.api_key.value is None:
        raise no_key_error(settings.profile.value)


@app.command()
def status(ctx: typer.Context, profile: ProfileOption = None, as_json: JsonOption = False) -> None:
    """Show the profile, where the key comes from (masked), the base URL and model, and the files.

    Exits 0 when a key is available, 3 when none is.

    Examples:

      inworld-router auth status

      inworld-router auth status --json | jq -r .api_key.source
    """
    run_status(profile, as_json, environment_of(ctx))


# -- logout --------------------------------------------------------------------------------------------


def run_logout(profile: str | None, env: Environment) -> None:
    # An unknown profile is no error here: logging out twice must succeed (the first may remove it).
    settings = env.settings(Overrides(profile=profile), new_profile=True)
    name = settings.profile.value
    path = env.paths.credentials_file
    if remove_api_key(path, name):
        env.streams.err(f"Removed the key for profile '{name}' from {path}")
    elif name not in (known := known_profiles(env.paths)):
        env.streams.err(f"No profile '{name}' (known profiles: {', '.join(known)}); nothing to remove")
    else:
        env.streams.err(f"No key stored for profile '{name}'; nothing to remove")
    if "INWORLD_API_KEY" in env.streams.env:
        env.streams.warn("INWORLD_API_KEY is still set and still supplies a key")


@app.command()
def logout(ctx: typer.Context, profile: ProfileOption = None) -> None:
    """Remove a profile's stored key (its settings stay).

    Example:

      inworld-router auth logout --profile staging
    """
    run_logout(profile, environment_of(ctx))


# -- token ---------------------------------------------------------------------------------------------


def run_token(profile: str | None, env: Environment) -> None:
    settings = env.settings(Overrides(profile=profile))
    if settings.api_key.value is None:
        raise no_key_error(settings.profile.value)
    env.streams.out(settings.api_key.value + "\n")


@app.command()
def token(ctx: typer.Context, profile: ProfileOption = None) -> None:
    """Print the key alone on stdout, for scripts.

    Example:

      curl -H "Authorization: Bearer $(inworld-router auth token)" ...
    """
    run_token(profile, environment_of(ctx))
