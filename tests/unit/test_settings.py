"""Precedence, masking, key normalisation and config validation: the pure parts of settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from inworld_cli.errors import UsageError
from inworld_cli.store.settings import (
    Overrides,
    Paths,
    mask_key,
    normalize_api_key,
    normalize_base_url,
    resolve,
    save_api_key,
)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(config_dir=tmp_path / "c", state_dir=tmp_path / "s", cache_dir=tmp_path / "k")


def write_config(paths: Paths, text: str) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text)


PROFILE_FILE = """
default_profile = "work"
[profiles.work]
base_url = "https://work.example"
model = "openai/gpt-5"
max_tokens = 100
timeout = 30
[profiles.home]
model = "anthropic/claude-haiku-4-5"
"""

# (flags, env, config text) -> expected (value, source) of the model setting
MODEL_CASES = [
    (Overrides(), {}, "", ("auto", "default")),
    (Overrides(), {}, PROFILE_FILE, ("openai/gpt-5", "[profiles.work]")),
    (Overrides(), {"INWORLD_MODEL": "groq/x"}, PROFILE_FILE, ("groq/x", "INWORLD_MODEL")),
    (Overrides(model="m/flag"), {"INWORLD_MODEL": "groq/x"}, PROFILE_FILE, ("m/flag", "--model")),
    (Overrides(profile="home"), {}, PROFILE_FILE, ("anthropic/claude-haiku-4-5", "[profiles.home]")),
    (
        Overrides(),
        {"INWORLD_PROFILE": "home"},
        PROFILE_FILE,
        ("anthropic/claude-haiku-4-5", "[profiles.home]"),
    ),
    (Overrides(profile="none"), {}, PROFILE_FILE, ("auto", "default")),
    (Overrides(), {"INWORLD_MODEL": "   "}, PROFILE_FILE, ("openai/gpt-5", "[profiles.work]")),
]


@pytest.mark.parametrize(("overrides", "env", "config", "expected"), MODEL_CASES)
def test_model_precedence(
    paths: Paths, overrides: Overrides, env: dict[str, str], config: str, expected: tuple[str, str]
) -> None:
    write_config(paths, config)
    setting = resolve(overrides, env, paths).model
    assert setting.value == expected[0]
    assert expected[1] in setting.source


def test_profile_precedence_and_sources(paths: Paths) -> None:
    write_config(paths, PROFILE_FILE)
    assert resolve(Overrides(), {}, paths).profile.value == "work"
    assert "default_profile" in resolve(Overrides(), {}, paths).profile.source
    assert resolve(Overrides(), {"INWORLD_PROFILE": "home"}, paths).profile.source == "INWORLD_PROFILE"
    chosen = resolve(Overrides(profile="x"), {"INWORLD_PROFILE": "home"}, paths).profile
    assert (chosen.value, chosen.source) == ("x", "--profile")


def test_every_setting_from_each_source(paths: Paths) -> None:
    write_config(paths, PROFILE_FILE)
    s = resolve(Overrides(), {}, paths)
    assert (s.base_url.value, s.max_tokens.value, s.timeout.value) == ("https://work.example", 100, 30)
    s = resolve(Overrides(), {"INWORLD_BASE_URL": "http://127.0.0.1:9/", "INWORLD_TIMEOUT": "5"}, paths)
    assert (s.base_url.value, s.base_url.source) == ("http://127.0.0.1:9", "INWORLD_BASE_URL")
    assert (s.timeout.value, s.timeout.source) == (5.0, "INWORLD_TIMEOUT")
    s = resolve(
        Overrides(base_url="http://h", max_tokens=7, timeout=1.5, retries=0),
        {"INWORLD_BASE_URL": "http://e"},
        paths,
    )
    assert (s.base_url.value, s.max_tokens.value, s.timeout.value, s.retries.value) == ("http://h", 7, 1.5, 0)


def test_history_switches(paths: Paths) -> None:
    assert resolve(Overrides(), {}, paths).history.value is True
    assert resolve(Overrides(no_log=True), {}, paths).history.value is False
    assert resolve(Overrides(), {"INWORLD_NO_LOG": "1"}, paths).history.value is False
    assert resolve(Overrides(), {"INWORLD_NO_LOG": "0"}, paths).history.value is True
    write_config(paths, "history = false\n")
    assert resolve(Overrides(), {}, paths).history.value is False


def test_worker_switches_and_idle_time(paths: Paths) -> None:
    def worker(env: dict[str, str]) -> tuple[bool, str, float]:
        settings = resolve(Overrides(), env, paths)
        return settings.worker.value, settings.worker.source, settings.worker_idle.value

    assert worker({}) == (True, "default", 600.0)
    for off in ("0", "false", "No", " off "):
        assert worker({"INWORLD_WORKER": off})[:2] == (False, "INWORLD_WORKER")
    write_config(paths, "worker = false\nworker_idle = 30\n")
    assert worker({}) == (False, f"{paths.config_file} (worker)", 30.0)
    assert worker({"INWORLD_WORKER": "1"})[:2] == (True, "INWORLD_WORKER")  # the environment wins
    assert worker({"INWORLD_WORKER": ""})[0] is False  # empty is unset
    with pytest.raises(UsageError, match=r"bad value for INWORLD_WORKER: 'sometimes' \(use 1 or 0\)"):
        worker({"INWORLD_WORKER": "sometimes"})


def test_key_from_env_wins_over_file(paths: Paths) -> None:
    save_api_key(paths.credentials_file, "default", "file-key-123456")
    s = resolve(Overrides(), {}, paths)
    assert (s.api_key.value, s.api_key.source) == ("file-key-123456", str(paths.credentials_file))
    s = resolve(Overrides(), {"INWORLD_API_KEY": " Bearer env-key-123456\n"}, paths)
    assert (s.api_key.value, s.api_key.source) == ("env-key-123456", "INWORLD_API_KEY")
    s = resolve(Overrides(profile="other"), {}, paths)
    assert s.api_key.value is None


def test_anthropic_variables_are_never_read(paths: Paths) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-x", "ANTHROPIC_AUTH_TOKEN": "t", "ANTHROPIC_BASE_URL": "http://evil"}
    s = resolve(Overrides(), env, paths)
    assert s.api_key.value is None
    assert s.base_url.value == "https://api.inworld.ai"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc123", "abc123"),
        ("  abc123\n", "abc123"),
        ("Bearer abc123", "abc123"),
        ("bearer   abc123 ", "abc123"),
        ("Basic YWJjOmRlZg==", "YWJjOmRlZg=="),
    ],
)
def test_normalize_api_key(raw: str, expected: str) -> None:
    assert normalize_api_key(raw, "test") == expected


@pytest.mark.parametrize("raw", ["", "   \n", "Bearer ", "ab c", "ab\x1bc", "ab\tc", "key\x00"])
def test_normalize_api_key_refuses(raw: str) -> None:
    with pytest.raises(UsageError):
        normalize_api_key(raw, "test")


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("abcdefghijklmnopqrstuvwxyz", "abcd...wxyz"),
        ("abcdefghijklmnop", "abcd...mnop"),
        ("abcdefgh", "ab...gh"),
        ("abcd", "a...d"),
        ("abc", "****"),
    ],
)
def test_mask_key(key: str, masked: str) -> None:
    assert mask_key(key) == masked


@pytest.mark.parametrize("length", range(1, 40))
def test_mask_never_reveals_more_than_half(length: int) -> None:
    key = "".join(chr(ord("a") + i % 26) for i in range(length))
    shown = mask_key(key).replace("...", "").replace("****", "")
    assert len(shown) <= min(8, length // 2)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "[profiles.default]\nbase_url = 'https://x'\n\nmax_tokens = 'many'\n",
            ":4: key 'profiles.default.max_tokens' must be an integer",
        ),
        ("history = 'yes'\n", ":1: key 'history' must be a boolean"),
        ("[profiles.default]\nsort = [1, 2]\n", ":2: key 'profiles.default.sort'"),
        ("[profiles\nmodel = 1", "invalid TOML"),
        ("profiles = 3\n", "key 'profiles' must be a table"),
        ("worker = 'yes'\n", ":1: key 'worker' must be a boolean"),
        ("\nworker_idle = '10m'\n", ":2: key 'worker_idle' must be a number"),
    ],
)
def test_bad_config_names_file_line_and_key(paths: Paths, text: str, fragment: str) -> None:
    write_config(paths, text)
    with pytest.raises(UsageError) as info:
        resolve(Overrides(), {}, paths)
    assert str(paths.config_file) in info.value.message
    assert fragment in info.value.message


@pytest.mark.parametrize(
    "url", ["ftp://x", "api.inworld.ai", "http://", "http://a b", "https://user:secret@api.inworld.ai/v1"]
)
def test_bad_base_url(url: str) -> None:
    with pytest.raises(UsageError):
        normalize_base_url(url, "--base-url")


def test_bad_env_number(paths: Paths) -> None:
    with pytest.raises(UsageError, match="INWORLD_TIMEOUT"):
        resolve(Overrides(), {"INWORLD_TIMEOUT": "soon"}, paths)


def test_unknown_keys_are_warned_about_with_their_line(paths: Paths) -> None:
    write_config(paths, 'modle = "x"\n[profiles.default]\nmodel = "a/b"\ntemprature = 1\n')
    settings = resolve(Overrides(), {}, paths)
    assert settings.model.value == "a/b"
    assert any(":1: unknown key 'modle'" in w for w in settings.warnings)
    assert any(":4: unknown key 'profiles.default.temprature'" in w for w in settings.warnings)


def test_an_unknown_table_is_warned_about_with_the_line_of_its_header(paths: Paths) -> None:
    """`[profile.work]` for `[profiles.work]`: the warning names the header's line, not `?`."""
    write_config(paths, '[profiles.default]\nmodel = "a/b"\n\n[profile.work]\nmodel = "c/d"\n')
    settings = resolve(Overrides(), {}, paths)
    assert settings.warnings == (f"{paths.config_file}:4: unknown key 'profile'",)


@pytest.mark.parametrize(
    ("overrides", "env", "config", "fragment"),
    [
        (Overrides(max_tokens=0), {}, "", "bad max tokens from --max-tokens: 0"),
        (Overrides(timeout=float("nan")), {}, "", "bad timeout from --timeout: nan"),
        (Overrides(), {"INWORLD_TIMEOUT": "inf"}, "", "bad timeout from INWORLD_TIMEOUT: inf"),
        (Overrides(), {"INWORLD_TIMEOUT": "0"}, "", "bad timeout from INWORLD_TIMEOUT"),
        (Overrides(), {}, "[profiles.default]\nretries = -1\n", "bad retries from"),
        (Overrides(), {}, "[profiles.default]\ntimeout = -5\n", "[profiles.default]: -5"),
        (Overrides(), {}, "worker_idle = 0\n", "bad worker_idle from"),
    ],
)
def test_out_of_range_values_name_their_source(
    paths: Paths, overrides: Overrides, env: dict[str, str], config: str, fragment: str
) -> None:
    write_config(paths, config)
    with pytest.raises(UsageError) as info:
        resolve(overrides, env, paths)
    assert fragment in info.value.message
