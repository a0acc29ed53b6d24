"""Routing options: every validation rule, flags over profile defaults, and the exact body they produce."""

from __future__ import annotations

import pytest

from inworld_cli.core.routing_options import (
    SORT_CRITERIA,
    RoutingOptions,
    apply_routing,
    parse_ttft_timeout,
    routing_options,
)
from inworld_cli.errors import ExitStatus, UsageError

BODY = {"model": "auto", "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}], "stream": True}


def usage_error(**flags: object) -> UsageError:
    with pytest.raises(UsageError) as info:
        routing_options(**flags)  # type: ignore[arg-type]
    assert info.value.status == ExitStatus.USAGE
    return info.value


# -- the body ----------------------------------------------------------------------------------------------


def test_no_option_leaves_the_body_untouched() -> None:
    options = routing_options(profile_config={})
    assert options == RoutingOptions()
    assert apply_routing(BODY, options) == BODY


def test_every_option_lands_where_the_router_documents_it() -> None:
    options = routing_options(
        fallback=["openai/gpt-5", "anthropic/claude-haiku-4-5"],
        sort=["price", "Latency"],
        ignore=["groq"],
        ttft_timeout="1s",
        route_meta=["tier=premium", "language=es"],
        user="user-42",
    )
    body = apply_routing(BODY, options)
    assert body == {
        **BODY,
        "extra_body": {
            "models": ["openai/gpt-5", "anthropic/claude-haiku-4-5"],
            "sort": ["price", "latency"],
            "ignore": ["groq"],
            "fallback": {"ttft_timeout": "1s"},
            "metadata": {"tier": "premium", "language": "es"},
        },
        "user": "user-42",
    }
    assert list(body["extra_body"]) == ["models", "sort", "ignore", "fallback", "metadata"]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"fallback": ["a/b"]}, {"extra_body": {"models": ["a/b"]}}),
        ({"sort": ["coding"]}, {"extra_body": {"sort": ["coding"]}}),
        ({"ignore": ["groq", "openai/gpt-5"]}, {"extra_body": {"ignore": ["groq", "openai/gpt-5"]}}),
        ({"ttft_timeout": "800ms"}, {"extra_body": {"fallback": {"ttft_timeout": "800ms"}}}),
        ({"route_meta": ["k=v"]}, {"extra_body": {"metadata": {"k": "v"}}}),
        ({"user": "u1"}, {"user": "u1"}),
    ],
)
def test_each_option_alone_adds_only_its_own_key(
    flags: dict[str, object], expected: dict[str, object]
) -> None:
    body = apply_routing(BODY, routing_options(**flags))  # type: ignore[arg-type]
    assert {k: v for k, v in body.items() if k not in BODY} == expected


def test_apply_routing_does_not_change_the_body_it_is_given() -> None:
    body = dict(BODY)
    apply_routing(body, routing_options(fallback=["a/b"], user="u"))
    assert body == BODY


# -- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("criterion", SORT_CRITERIA)
def test_every_documented_sort_criterion_is_accepted(criterion: str) -> None:
    assert routing_options(sort=[criterion.upper()]).sort == (criterion,)


def test_a_bad_sort_criterion_names_the_flag_and_the_allowed_values() -> None:
    error = usage_error(sort=["price", "cheapest"])
    assert "--sort" in error.message
    assert "'cheapest'" in error.message
    assert error.hint == "allowed: price, latency, throughput, intelligence, math, coding"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("300ms", "300ms"),
        ("800ms", "800ms"),
        ("800 MS", "800ms"),
        ("0.8s", "800ms"),
        (".5s", "500ms"),
        ("1s", "1s"),
        ("1000ms", "1s"),
        ("1.5s", "1.5s"),
        ("1500ms", "1.5s"),
        ("2s", "2s"),
        ("2.000s", "2s"),
        ("1.25s", "1.25s"),
        ("90s", "90s"),
    ],
)
def test_ttft_timeout_is_normalised_to_the_routers_form(raw: str, normalised: str) -> None:
    assert parse_ttft_timeout(raw) == normalised


@pytest.mark.parametrize("raw", ["800", "1", "1m", "fast", "", "-1s", "1.5.2s", "s", "1 s 2"])
def test_ttft_timeout_needs_a_number_and_a_unit(raw: str) -> None:
    error = usage_error(ttft_timeout=raw) if raw else None
    if error is None:  # an empty flag value counts as not given
        assert routing_options(ttft_timeout=raw).ttft_timeout is None
        return
    assert "--ttft-timeout" in error.message
    assert error.hint is not None
    assert "800ms" in error.hint
    assert "300ms" in error.hint


@pytest.mark.parametrize("raw", ["299ms", "0.2s", "0s"])
def test_ttft_timeout_below_the_minimum_is_refused(raw: str) -> None:
    error = usage_error(ttft_timeout=raw)
    assert "minimum of 300ms" in error.message


def test_ttft_timeout_finer_than_a_millisecond_is_refused() -> None:
    error = usage_error(ttft_timeout="1.2345s")
    assert error.hint is not None
    assert "whole milliseconds" in error.hint


@pytest.mark.parametrize("raw", ["=premium", "tier", "  =x"])
def test_route_meta_needs_key_equals_value(raw: str) -> None:
    error = usage_error(route_meta=[raw])
    assert "--route-meta" in error.message
    assert error.hint is not None
    assert "KEY=VALUE" in error.hint


def test_route_meta_value_may_be_empty_or_hold_equals_signs_and_a_repeated_key_keeps_the_last() -> None:
    options = routing_options(route_meta=["empty=", "expr=a=b", "tier=free", "tier=premium"])
    assert options.route_meta == {"empty": "", "expr": "a=b", "tier": "premium"}


@pytest.mark.parametrize(
    ("flag", "value"), [("fallback", "open ai/gpt-5"), ("ignore", " "), ("fallback", "")]
)
def test_model_and_provider_names_must_be_single_words(flag: str, value: str) -> None:
    error = usage_error(**{flag: ["ok/model", value]})
    assert f"--{flag}" in error.message


def test_user_must_not_be_blank() -> None:
    error = usage_error(user="   ")
    assert "--user" in error.message


# -- flags over profile defaults ----------------------------------------------------------------------------

PROFILE = {
    "fallback": ["openai/gpt-5"],
    "sort": ["latency"],
    "ignore": ["groq"],
    "ttft_timeout": "2000ms",
    "route_meta": {"tier": "free"},
    "user": "profile-user",
    "model": "auto",  # other profile keys are not routing options
}


def test_profile_defaults_apply_when_no_flag_is_given() -> None:
    options = routing_options(profile_config=PROFILE)
    assert options == RoutingOptions(
        fallback=("openai/gpt-5",),
        sort=("latency",),
        ignore=("groq",),
        ttft_timeout="2s",
        route_meta={"tier": "free"},
        user="profile-user",
    )


def test_flags_replace_profile_values_rather_than_adding_to_them() -> None:
    options = routing_options(
        fallback=["anthropic/claude-haiku-4-5"],
        sort=["price"],
        ignore=["openai"],
        ttft_timeout="900ms",
        route_meta=["language=es"],
        user="cli-user",
        profile_config=PROFILE,
    )
    assert options == RoutingOptions(
        fallback=("anthropic/claude-haiku-4-5",),
        sort=("price",),
        ignore=("openai",),
        ttft_timeout="900ms",
        route_meta={"language": "es"},
        user="cli-user",
    )


def test_a_bad_profile_value_names_the_config_key_and_file() -> None:
    error = usage_error(profile_config={"sort": ["cheap"]}, config_label="/x/config.toml [profiles.work]")
    assert "sort in /x/config.toml [profiles.work]" in error.message
    error = usage_error(profile_config={"ttft_timeout": "100ms"})
    assert "ttft_timeout in config.toml" in error.message
    error = usage_error(profile_config={"route_meta": {" ": "x"}})
    assert "route_meta in config.toml" in error.message
