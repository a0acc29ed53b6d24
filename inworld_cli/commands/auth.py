"""`inworld-router auth`: store, show, remove and print the API key."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from inworld_cli.commands.context import environment_of, help_without_subcommand
from inworld_cli.commands.options import BaseUrlOption, JsonOption, ProfileOption
from inworld_cli.environment import Environment
from inworld_cli.errors import AuthError, CliError, ExitStatus, UsageError, no_key_error
from inworld_cli.store.files import atomic_write
from inworld_cli.store.settings import (
    DEFAULT_PROFILE,
    Overrides,
    Settings,
    known_profiles,
    load_config,
    mask_key,
    normalize_api_key,
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
    verify: bool = True


def _read_key(env: Environment, with_key: bool) -> tuple[str, str]:
    streams = env.streams
    if with_key or not streams.stdin_is_terminal:
        try:
            return streams.stdin.read().decode("utf-8"), "stdin"
        except UnicodeDecodeError:
            raise UsageError("the key on stdin is not UTF-8 text", hint="pipe the key alone") from None
    import getpass

    try:
        return getpass.getpass(
            "Paste your Inworld API key (input is hidden): ", stream=streams.stderr
        ), "the prompt"
    except (KeyboardInterrupt, EOFError):
        streams.err("")  # end the prompt's line: the shell's prompt must not start after it
        raise


def _save_base_url(env: Environment, profile: str, base_url: str) -> None:
    import tomli_w

    path = env.paths.config_file
    config = load_config(path)  # refuses (exit 2) rather than overwrite a file it cannot read
    config.setdefault("profiles", {}).setdefault(profile, {})["base_url"] = base_url
    atomic_write(path, tomli_w.dumps(config).encode("utf-8"))


def _verify(env: Environment, settings: Settings, key: str) -> bool:
    """Whether the router accepted the new key; a refusal stops the login (exit 3, nothing saved). When
    the router cannot say (offline, failing), the key is saved unverified: the user pasted it once."""
    login = "inworld-router auth login" + _profile_flag(settings)
    hint = f"nothing was saved; check the key, or save it anyway with: {login} --no-verify"
    try:
        env.check_key(settings, hint, key)
    except AuthError:
        raise
    except CliError as exc:
        env.streams.warn(f"could not verify the key: {exc.message}")
        return False
    env.streams.err(f"The router at {settings.base_url.value} accepted the key")
    return True


def run_login(options: LoginOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile, base_url=options.base_url), new_profile=True)
    profile = settings.profile.value
    # A --base-url (given to login, or before it) is saved for the profile.
    base_url = settings.base_url.value if settings.base_url.source == "--base-url" else None
    raw, origin = _read_key(env, options.with_key)
    key = normalize_api_key(raw, origin)
    env.secrets.add(key)
    verified = _verify(env, settings, key) if options.verify else None
    path = env.paths.credentials_file
    save_api_key(path, profile, key)
    if base_url:
        _save_base_url(env, profile, base_url)
    streams = env.streams
    unverified = {None: " (not verified: --no-verify)", False: " (not verified)", True: ""}[verified]
    streams.err(f"Saved the key {mask_key(key)} for profile '{profile}' in {path}{unverified}")
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
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Save the key without asking the router whether it works.")
    ] = False,
) -> None:
    """Store an API key for a profile (hidden prompt, or stdin), once the router has accepted it.

    A key the router refuses is not saved (exit 3); when the router cannot be reached the key is saved
    with a warning that it was not verified. --no-verify saves it without asking (offline).

    \b
    Examples:
      inworld-router auth login
      printf %s "$INWORLD_KEY" | inworld-router auth login --with-key
      inworld-router auth login --profile staging --base-url https://staging.example.com
    """
    run_login(LoginOptions(profile, base_url, with_key, verify=not no_verify), environment_of(ctx))


# -- status --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusOptions:
    profile: str | None = None
    as_json: bool = False
    check: bool = False
    all_profiles: bool = False


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


def _check(env: Environment, settings: Settings) -> tuple[dict[str, Any], CliError | None]:
    """`--check`: the router's verdict on the profile's key, as a record field and the error to exit with."""
    if settings.api_key.value is None:
        return {"outcome": "no key", "exit_status": int(ExitStatus.AUTH), "error": None}, None
    login = "inworld-router auth login" + _profile_flag(settings)
    try:
        env.check_key(settings, f"check the key in the Inworld Portal, then: {login}")
    except CliError as exc:
        outcome = {ExitStatus.AUTH: "refused", ExitStatus.NETWORK: "unreachable"}.get(exc.status, "failed")
        return {"outcome": outcome, "exit_status": int(exc.status), "error": exc.details.to_json()}, exc
    return {"outcome": "ok", "exit_status": 0, "error": None}, None


def _profile_flag(settings: Settings) -> str:
    name = settings.profile.value
    return "" if name == DEFAULT_PROFILE else f" --profile {shlex.quote(name)}"


def _key_text(record: dict[str, Any]) -> str:
    key = record["api_key"]
    return f"{key['masked']}  (from {key['source']})" if key["masked"] else "none"


def _check_text(check: dict[str, Any]) -> str:
    if check["outcome"] == "ok":
        return "ok: the router accepted the key"
    if check["outcome"] == "no key":
        return "not done: no key"
    return f"{check['outcome']} (exit {check['exit_status']}; the error is below)"


def _status_text(record: dict[str, Any]) -> str:
    rows = [
        ("profile", f"{record['profile']['value']}  ({record['profile']['source']})"),
        ("api key", _key_text(record)),
        ("base url", f"{record['base_url']['value']}  ({record['base_url']['source']})"),
        ("model", f"{record['model']['value']}  ({record['model']['source']})"),
        ("config", record["files"]["config"]),
        ("credentials", record["files"]["credentials"]),
        ("history", record["files"]["history"]),
    ]
    if "check" in record:
        rows.append(("check", _check_text(record["check"])))
    return "".join(f"{name + ':':<13}{value}\n" for name, value in rows)


def _profiles_text(records: list[dict[str, Any]]) -> str:
    """`--all`: one block per profile, the active one marked."""
    lines = []
    for record in records:
        lines.append(record["profile"]["value"] + ("  (active)" if record["active"] else ""))
        lines.append(f"  api key:   {_key_text(record)}")
        lines.append(f"  base url:  {record['base_url']['value']}  ({record['base_url']['source']})")
        if "check" in record:
            lines.append(f"  check:     {_check_text(record['check'])}")
    return "".join(line + "\n" for line in lines)


def run_status(options: StatusOptions, env: Environment) -> None:
    settings = env.settings(Overrides(profile=options.profile))
    if options.all_profiles:
        names = known_profiles(env.paths)
        every = [
            settings if n == settings.profile.value else env.quiet_settings(Overrides(profile=n))
            for n in names
        ]
    else:
        every = [settings]
    records, failures = [], []
    for each in every:
        record = status_record(each)
        if options.all_profiles:
            record["active"] = each is settings
            if each is not settings:
                record["profile"]["source"] = None
        if options.check:
            record["check"], failure = _check(env, each)
            if failure is not None:
                failures.append((each.profile.value, failure))
        records.append(record)
    if options.as_json:
        env.streams.out(json.dumps(records if options.all_profiles else records[0], indent=2) + "\n")
    else:
        env.streams.out(_profiles_text(records) if options.all_profiles else _status_text(records[0]))
    if settings.api_key.value is None:
        raise no_key_error(settings.profile.value)
    if failures:
        name, failure = failures[0]
        raise (
            failure.with_message(f"profile '{name}': {failure.message}") if options.all_profiles else failure
        )


@app.command()
def status(
    ctx: typer.Context,
    profile: ProfileOption = None,
    as_json: JsonOption = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Also ask the router whether the key works (a request that generates nothing)."
        ),
    ] = False,
    all_profiles: Annotated[
        bool,
        typer.Option("--all", help="Every profile: its key (masked), where it comes from, its base URL."),
    ] = False,
) -> None:
    """Show the profile, where the key comes from (masked), the base URL and model, and the files.

    Exits 0 when a key is available, 3 when none is. With --check, also 3 when the router refuses the key,
    6 when it cannot be reached.

    \b
    Examples:
      inworld-router auth status
      inworld-router auth status --check
      inworld-router auth status --all
      inworld-router auth status --json | jq -r .api_key.source
    """
    run_status(StatusOptions(profile, as_json, check, all_profiles), environment_of(ctx))


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

    \b
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

    \b
    Example:
      curl -H "Authorization: Bearer $(inworld-router auth token)" ...
    """
    run_token(profile, environment_of(ctx))
