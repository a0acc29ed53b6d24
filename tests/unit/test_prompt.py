"""What `ask` sends: the prompt put together from arguments and stdin, and the request body."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inworld_cli.core.prompt import assemble_prompt, check_has_prompt, decode_stdin, wants_stdin
from inworld_cli.core.record import base_url_host
from inworld_cli.core.request import Parameters, build_body, user_turn
from inworld_cli.errors import UsageError


@pytest.mark.parametrize(
    ("args", "stdin", "prompt"),
    [
        (["why", "is", "the", "sky", "blue?"], None, "why is the sky blue?"),
        (["two  spaces kept"], None, "two  spaces kept"),
        ([], "a long text\n", "a long text"),
        (["summarise"], "line 1\nline 2\n\n\n", "line 1\nline 2\n\nsummarise"),
        (["summarise", "this"], "  indented\n", "  indented\n\nsummarise this"),
        (["q"], "windows\r\n", "windows\n\nq"),
        (["question"], " \n\t\n", "question"),
        (["question"], "", "question"),
        (["-"], "only stdin\n", "only stdin"),
        (["-", "x"], "in\n", "in\n\n- x"),
        (["  "], "material", "material"),
    ],
)
def test_assembly(args: list[str], stdin: str | None, prompt: str) -> None:
    assert assemble_prompt(args, stdin) == prompt


@pytest.mark.parametrize(
    ("args", "stdin"), [([], None), ([], " \n\n"), (["-"], ""), (["-"], "\n"), ([" "], None)]
)
def test_no_prompt_is_a_usage_error(args: list[str], stdin: str | None) -> None:
    with pytest.raises(UsageError, match="no prompt"):
        assemble_prompt(args, stdin)


def test_stdin_is_read_from_pipes_and_never_from_a_terminal_unless_asked() -> None:
    assert wants_stdin([], stdin_is_terminal=False)
    assert wants_stdin(["q"], stdin_is_terminal=False)
    assert not wants_stdin(["q"], stdin_is_terminal=True)
    assert wants_stdin(["-"], stdin_is_terminal=True)
    with pytest.raises(UsageError, match="no prompt"):
        check_has_prompt([], stdin_is_terminal=True)
    check_has_prompt([], stdin_is_terminal=False)
    check_has_prompt(["-"], stdin_is_terminal=True)


def test_stdin_that_is_not_utf8_names_the_byte() -> None:
    assert decode_stdin("héllo".encode()) == "héllo"
    with pytest.raises(UsageError, match=r"not UTF-8.*0xe9 at offset 1"):
        decode_stdin("héllo".encode("latin-1"))


@given(data=st.binary(max_size=200), args=st.lists(st.text(max_size=10), max_size=3))
def test_any_stdin_gives_a_prompt_or_a_usage_error(data: bytes, args: list[str]) -> None:
    try:
        prompt = assemble_prompt(args, decode_stdin(data))
    except UsageError:
        return
    assert prompt.strip()
    question = " ".join(args)
    if question.strip() and args != ["-"]:
        assert prompt.endswith(question)


def test_body_has_only_what_was_given() -> None:
    assert build_body(Parameters("auto", 4096), [user_turn("hi")], stream=True) == {
        "model": "auto",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    parameters = Parameters(
        "openai/gpt-5", 10, system="be brief", temperature=0.0, top_p=0.5, stop=("END", "\n\n")
    )
    full = build_body(parameters, [user_turn("hi")], stream=False)
    assert full == {
        "model": "openai/gpt-5",
        "max_tokens": 10,
        "system": "be brief",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.0,
        "top_p": 0.5,
        "stop_sequences": ["END", "\n\n"],
        "stream": False,
    }


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.inworld.ai", "api.inworld.ai"),
        ("http://127.0.0.1:8080/base", "127.0.0.1:8080"),
        ("https://user:secret@proxy.example:443", "proxy.example:443"),
    ],
)
def test_history_keeps_only_the_host_of_the_base_url(url: str, host: str) -> None:
    assert base_url_host(url) == host
