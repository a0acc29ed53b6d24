"""Settings: files, profiles and precedence, resolved in one place.

Every value is resolved as flag > environment variable > the active profile in config.toml > default,
and remembers which source won (`auth status` shows it). Secrets live in credentials.toml, never in
config.toml, and never come from a flag.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from inworld_cli.core.text import NOT_UTF8
from inworld_cli.errors import LocalError, UsageError
from inworld_cli.store.files import atomic_write, ensure_private_dir, is_readable_by_others

APP_NAME = "inworld-router"
DEFAULT_PROFILE = "default"
DEFAULT_BASE_URL = "https://api.inworld.ai"
DEFAULT_MODEL = "auto"
DEFAULT_MAX_TOKENS = 4096
DEFAULT_TIMEOUT = 600.0
DEFAULT_RETRIES = 2
DEFAULT_WORKER_IDLE = 600.0  # seconds without a request before the warm worker exits

T = TypeVar("T")

# Types each config key may hold; anything else is a bad config file (exit 2).
_STR_LIST = "list of strings"
TOP_LEVEL_KEYS: dict[str, str] = {
    "default_profile": "string",
    "history": "boolean",
    "profiles": "table",
    # The warm worker is one per user, not per profile.
    "worker": "boolean",
    "worker_idle": "number",
}
PROFILE_KEYS: dict[str, str] = {
    "base_url": "string",
    "model": "string",
    "max_tokens": "integer",
    "timeout": "number",
    "retries": "integer",
    "history": "boolean",
    "anthropic_version": "string",
    # Defaults of `ask` (and the commands of many requests) that a flag replaces: -s, -t.
    "system": "string",
    "temperature": "number",
    # Routing defaults, sent as the router's `extra_body` object (see `ask --help`).
    "fallback": _STR_LIST,
    "sort": _STR_LIST,
    "ignore": _STR_LIST,
    "ttft_timeout": "string",
    "user": "string",
    "route_meta": "table of strings",
}


def _is_type(value: object, type_name: str) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == _STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if type_name == "table of strings":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return isinstance(value, dict)  # "table"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    state_dir: Path
    cache_dir: Path

    @classmethod
    def from_platform(cls) -> Paths:
        import platformdirs

        return cls(
            config_dir=platformdirs.user_config_path(APP_NAME, appauthor=False),
            state_dir=platformdirs.user_state_path(APP_NAME, appauthor=False),
            cache_dir=platformdirs.user_cache_path(APP_NAME, appauthor=False),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.toml"

    @property
    def history_db(self) -> Path:
        return self.state_dir / "history.sqlite3"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """A resolved value and where it came from (a flag, an env variable, a file, or the default)."""

    value: T
    source: str


# ---------------------------------------------------------------------------------------------------------
# Files


def _key_line(text: str, table: str | None, key: str) -> int | None:
    """The line on which `key` is assigned inside `[table]` (None = top level), or on which it opens a table
    of its own (`[profile.work]` is the key `profile` at the top level); for messages."""
    current: str | None = None
    assign = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    own = f"{table}.{key}" if table else key
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = header.group(1).replace('"', "").replace("'", "").replace(" ", "")
            if current == own or current.startswith(own + "."):
                return number
            continue
        if current == table and assign.match(line):
            return number
    return None


def _bad_type(path: Path, text: str, table: str | None, key: str, expected: str, value: object) -> UsageError:
    line = _key_line(text, table, key)
    where = f"{path}:{line}" if line else str(path)
    name = f"{table}.{key}" if table else key
    got = type(value).__name__
    article = "an" if expected[0] in "aeiou" else "a"
    return UsageError(
        f"bad config file {where}: key '{name}' must be {article} {expected}, not {got}",
        hint=f"fix or remove that key in {path}",
    )


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a missing file is empty. Errors name the file and the line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, ""
    except OSError as exc:
        raise LocalError(
            f"cannot read {path}: {exc.strerror or exc}",
            hint=f"check {path}: it must be a file you can read (or absent), in a directory",
        ) from exc
    try:
        text = raw.decode("utf-8")
        return tomllib.loads(text), text
    except UnicodeDecodeError as exc:
        raise UsageError(f"bad config file {path}: not UTF-8 text", hint=f"fix or remove {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"bad config file {path}: invalid TOML: {exc}", hint=f"fix {path}; nothing was changed"
        ) from exc


def load_config(path: Path, unknown: list[str] | None = None) -> dict[str, Any]:
    """Read config.toml and check every known key's type; unknown keys are listed in `unknown`."""
    data, text = read_toml(path)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _bad_type(path, text, None, "profiles", "table", profiles)
    checks: list[tuple[str | None, dict[str, Any], dict[str, str]]] = [(None, data, TOP_LEVEL_KEYS)]
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            raise _bad_type(path, text, "profiles", name, "table", profile)
        checks.append((f"profiles.{name}", profile, PROFILE_KEYS))
    for table, values, schema in checks:
        for key, value in values.items():
            expected = schema.get(key)
            if expected is None:
                if unknown is not None:
                    line = _key_line(text, table, key)
                    unknown.append(f"{path}:{line or '?'}: unknown key '{f'{table}.' if table else ''}{key}'")
            elif not _is_type(value, expected):
                raise _bad_type(path, text, table, key, expected, value)
    return data


def load_credentials(path: Path) -> dict[str, Any]:
    data, text = read_toml(path)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise _bad_type(path, text, None, "profiles", "table", profiles)
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            raise _bad_type(path, text, "profiles", name, "table", profile)
        key = profile.get("api_key")
        if key is not None and not isinstance(key, str):
            raise _bad_type(path, text, f"profiles.{name}", "api_key", "string", key)
    return data


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialise read-modify-write of a file between processes (two `auth login` at once)."""
    ensure_private_dir(lock_path.parent)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the write itself stays atomic.
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _update_credentials(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    import tomli_w

    with _locked(path.with_name(".credentials.lock")):
        data = load_credentials(path)
        change(data)
        atomic_write(path, tomli_w.dumps(data).encode("utf-8"))


def save_api_key(path: Path, profile: str, key: str) -> None:
    def change(data: dict[str, Any]) -> None:
        data.setdefault("profiles", {}).setdefault(profile, {})["api_key"] = key

    _update_credentials(path, change)


def remove_api_key(path: Path, profile: str) -> bool:
    """Remove the profile's key; True if there was one. Idempotent."""
    removed = False

    def change(data: dict[str, Any]) -> None:
        nonlocal removed
        profiles = data.get("profiles", {})
        removed = profiles.get(profile, {}).pop("api_key", None) is not None
        if profile in profiles and not profiles[profile]:
            del profiles[profile]

    if path.exists():
        _update_credentials(path, change)
    return removed


# ---------------------------------------------------------------------------------------------------------
# Keys

_PREFIX = re.compile(r"^(?:bearer|basic)(?:\s+|$)", re.IGNORECASE)
_BAD_KEY_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")


def normalize_api_key(raw: str, origin: str) -> str:
    """Strip whitespace and a pasted `Bearer `/`Basic ` prefix; refuse what cannot be a key."""
    key = _PREFIX.sub("", raw.strip()).strip()
    if not key:
        raise UsageError(f"empty API key from {origin}", hint="paste the key from the Inworld Portal")
    if _BAD_KEY_CHAR.search(key):
        raise UsageError(
            f"the API key from {origin} contains whitespace or control characters",
            hint="paste the key alone, on one line",
        )
    return key


def mask_key(key: str) -> str:
    """At most the first 4 and last 4 characters; fewer for short keys, nothing for very short ones."""
    shown = min(4, len(key) // 4)
    if shown == 0:
        return "****"
    return f"{key[:shown]}...{key[-shown:]}"


# ---------------------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Overrides:
    """What the command line said; None means not given."""

    profile: str | None = None
    base_url: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    retries: int | None = None
    no_log: bool = False


@dataclass(frozen=True)
class Settings:
    paths: Paths
    profile: Setting[str]
    api_key: Setting[str | None]
    base_url: Setting[str]
    model: Setting[str]
    max_tokens: Setting[int]
    timeout: Setting[float]
    retries: Setting[int]
    history: Setting[bool]
    anthropic_version: Setting[str | None]
    worker: Setting[bool]
    worker_idle: Setting[float]
    profile_config: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _first(*candidates: tuple[object, str] | None, default: tuple[Any, str]) -> Setting[Any]:
    for candidate in candidates:
        if candidate is not None and candidate[0] is not None:
            return Setting(candidate[0], candidate[1])
    return Setting(*default)


def _env_number(env: Mapping[str, str], name: str, kind: Callable[[str], T]) -> tuple[T, str] | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return kind(raw.strip()), name
    except ValueError:
        raise UsageError(
            f"bad value for {name}: {raw!r} is not a number", hint=f"unset {name} or fix it"
        ) from None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _env_bool(env: Mapping[str, str], name: str) -> tuple[bool, str] | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise UsageError(f"bad value for {name}: {raw!r} (use 1 or 0)", hint=f"unset {name} or fix it")
    return value in _TRUE, name


def _env_str(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    raw = env.get(name)
    return (raw.strip(), name) if raw and raw.strip() else None


def normalize_base_url(url: str, origin: str) -> str:
    url = url.strip().rstrip("/")
    if (
        not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE)
        or any(c.isspace() for c in url)
        or NOT_UTF8.search(url)
        or not _host_and_port_are_valid(url)
    ):
        raise UsageError(
            f"bad base URL from {origin}: {url!r}", hint="use a URL such as https://api.inworld.ai"
        )
    if "@" in url.split("/")[2]:
        # user:password@ would make the HTTP client send Basic credentials in place of our key.
        raise UsageError(
            f"bad base URL from {origin}: credentials in a URL are not allowed",
            hint="give the host alone; the key goes in: inworld-router auth login",
        )
    return url


def _host_and_port_are_valid(url: str) -> bool:
    """A host name, and a port that is a number from 0 to 65535 if there is one (else the HTTP client
    fails on it only when sending)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        return False
    return bool(parts.hostname)


def resolve(overrides: Overrides, env: Mapping[str, str], paths: Paths) -> Settings:
    """Resolve every setting once: flag > env > active profile > default."""
    unknown_keys: list[str] = []
    config = load_config(paths.config_file, unknown_keys)
    config_label = str(paths.config_file)

    profile = _first(
        (overrides.profile, "--profile"),
        _env_str(env, "INWORLD_PROFILE"),
        (config.get("default_profile"), f"{config_label} (default_profile)"),
        default=(DEFAULT_PROFILE, "default"),
    )
    profile_name: str = profile.value
    if NOT_UTF8.search(profile_name):
        raise UsageError(
            f"the profile name from {profile.source} is not UTF-8 text", hint="e.g. --profile work"
        )
    section: dict[str, Any] = config.get("profiles", {}).get(profile_name, {})
    in_profile = f"{config_label} [profiles.{profile_name}]"

    def from_profile(key: str) -> tuple[Any, str] | None:
        return (section[key], in_profile) if key in section else None

    base_url = _first(
        (overrides.base_url, "--base-url"),
        _env_str(env, "INWORLD_BASE_URL"),
        from_profile("base_url"),
        default=(DEFAULT_BASE_URL, "default"),
    )
    base_url = Setting(normalize_base_url(base_url.value, base_url.source), base_url.source)

    no_log_env = env.get("INWORLD_NO_LOG", "").strip().lower() not in ("", "0", "false", "no")
    history_cfg = from_profile("history") or (
        (config["history"], f"{config_label} (history)") if "history" in config else None
    )
    history = _first(
        (False, "--no-log") if overrides.no_log else None,
        (False, "INWORLD_NO_LOG") if no_log_env else None,
        history_cfg,
        default=(True, "default"),
    )

    api_key, credentials_warning = _resolve_key(env, paths, profile_name)
    settings = Settings(
        paths=paths,
        profile=profile,
        api_key=api_key,
        base_url=base_url,
        model=_first(
            (overrides.model, "--model"),
            _env_str(env, "INWORLD_MODEL"),
            from_profile("model"),
            default=(DEFAULT_MODEL, "default"),
        ),
        max_tokens=_first(
            (overrides.max_tokens, "--max-tokens"),
            from_profile("max_tokens"),
            default=(DEFAULT_MAX_TOKENS, "default"),
        ),
        timeout=_first(
            (overrides.timeout, "--timeout"),
            _env_number(env, "INWORLD_TIMEOUT", float),
            from_profile("timeout"),
            default=(DEFAULT_TIMEOUT, "default"),
        ),
        retries=_first(
            (overrides.retries, "--retries"),
            from_profile("retries"),
            default=(DEFAULT_RETRIES, "default"),
        ),
        history=history,
        anthropic_version=_first(
            _env_str(env, "INWORLD_ANTHROPIC_VERSION"),
            from_profile("anthropic_version"),
            default=(None, "default"),
        ),
        worker=_first(
            _env_bool(env, "INWORLD_WORKER"),
            (config.get("worker"), f"{config_label} (worker)"),
            default=(True, "default"),
        ),
        worker_idle=_first(
            (config.get("worker_idle"), f"{config_label} (worker_idle)"),
            default=(DEFAULT_WORKER_IDLE, "default"),
        ),
        profile_config=section,
        warnings=(*unknown_keys, *([credentials_warning] if credentials_warning else [])),
    )
    _check_range(settings.max_tokens, "max tokens", minimum=1)
    _check_range(settings.timeout, "timeout", minimum=0, exclusive=True)
    _check_range(settings.retries, "retries", minimum=0)
    _check_range(settings.worker_idle, "worker_idle", minimum=0, exclusive=True)
    return settings


def known_profiles(paths: Paths) -> list[str]:
    """Every profile that exists somewhere: `default`, and each one config.toml or credentials.toml names."""
    config = load_config(paths.config_file)
    credentials = load_credentials(paths.credentials_file)
    return sorted({DEFAULT_PROFILE, *config.get("profiles", {}), *credentials.get("profiles", {})})


def require_known_profile(settings: Settings) -> None:
    """A profile that exists nowhere is a typo, not an empty profile to run with silently (exit 2)."""
    name = settings.profile.value
    # Most profiles are in config.toml: then credentials.toml (which may be unreadable while
    # INWORLD_API_KEY supplies the key) is not read at all.
    if name == DEFAULT_PROFILE or name in load_config(settings.paths.config_file).get("profiles", {}):
        return
    known = known_profiles(settings.paths)
    if name not in known:
        raise UsageError(
            f"unknown profile '{name}' (from {settings.profile.source}); known profiles: {', '.join(known)}",
            hint=f"create it: inworld-router auth login --profile {shlex.quote(name)}",
        )


def _check_range(setting: Setting[Any], name: str, *, minimum: float, exclusive: bool = False) -> None:
    value = setting.value
    if not math.isfinite(value) or value < minimum or (exclusive and value == minimum):
        bound = f"more than {minimum}" if exclusive else f"at least {minimum}"
        raise UsageError(
            f"bad {name} from {setting.source}: {value} (must be {bound})", hint=f"fix {setting.source}"
        )


def _resolve_key(
    env: Mapping[str, str], paths: Paths, profile: str
) -> tuple[Setting[str | None], str | None]:
    raw_env = env.get("INWORLD_API_KEY")
    if raw_env is not None and raw_env.strip():
        return Setting(normalize_api_key(raw_env, "INWORLD_API_KEY"), "INWORLD_API_KEY"), None
    path = paths.credentials_file
    stored = load_credentials(path).get("profiles", {}).get(profile, {}).get("api_key")
    if not stored:
        return Setting(None, "none"), None
    warning = None
    if is_readable_by_others(path):
        warning = f"{path} is readable by other users; run: chmod 600 {path}"
    return Setting(normalize_api_key(stored, str(path)), str(path)), warning
