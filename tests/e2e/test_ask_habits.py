"""Everyday habits on `ask`: --no-stdin (prompts in a `while read` loop), --plain on a terminal, and the
system prompt and temperature a profile sets."""

from __future__ import annotations

import io

import pytest

from inworld_cli.output.answer import MarkdownAnswer, answer_writer
from inworld_cli.output.console import Output, Streams
from tests.conftest import Home
from tests.router_server import RouterServer


def test_no_stdin_leaves_stdin_to_the_loop(routed_home: Home, router: RouterServer) -> None:
    result = routed_home.run("ask", "--no-stdin", "q1", input="q2\nq3\n")
    assert (result.returncode, result.stdout) == (0, "Hello!\n")
    assert router.messages_requests[-1].json["messages"] == [{"role": "user", "content": "q1"}]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--no-stdin",), "error: no prompt"),
        (("--no-stdin", "-"), "error: the prompt - reads stdin, which --no-stdin turns off"),
        (("--no-stdin", "-a", "-", "hi"), "error: -a - reads stdin, which --no-stdin turns off"),
    ],
)
def test_no_stdin_refuses_what_would_read_stdin(
    routed_home: Home, router: RouterServer, args: tuple[str, ...], error: str
) -> None:
    result = routed_home.run("ask", *args, input="q2\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == error
    assert router.messages_requests == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_prints_the_text_unrendered_on_a_terminal() -> None:
    out = Terminal()
    streams = Streams(stdin=io.BytesIO(), stdout=Output(out), stderr=Terminal(), env={"TERM": "xterm"})
    assert isinstance(answer_writer(streams, as_json=False), MarkdownAnswer)
    writer = answer_writer(streams, as_json=False, plain=True)
    writer.text("# Title\n\n**bold** \x1b]0;owned\x07")
    writer.finish({})
    assert out.getvalue() == "# Title\n\n**bold** ^[]0;owned^G\n"  # as written, but neutralised


def test_a_profile_sets_system_and_temperature_and_flags_replace_them(
    routed_home: Home, router: RouterServer
) -> None:
    config = routed_home.config_dir / "config.toml"
    config.write_text('[profiles.default]\nsystem = "Answer in French."\ntemperature = 0\n')
    quiet = routed_home.run("ask", "hi")
    assert (quiet.returncode, quiet.stderr) == (0, "")  # no "unknown key" warning any more
    body = router.messages_requests[-1].json
    assert (body["system"], body["temperature"]) == ("Answer in French.", 0.0)
    assert routed_home.run("ask", "-s", "Be brief.", "-t", "0.7", "hi").returncode == 0
    body = router.messages_requests[-1].json
    assert (body["system"], body["temperature"]) == ("Be brief.", 0.7)
    config.write_text("[profiles.default]\ntemperature = 1.5\n")
    bad = routed_home.run("ask", "hi")
    assert (bad.returncode, bad.stderr) == (
        2,
        f"error: temperature in {config} [profiles.default] must be between 0 and 1, not 1.5\n"
        f"hint: fix {config} [profiles.default]\n",
    )
    config.write_text('[profiles.default]\nsystem = ["a"]\n')
    wrong = routed_home.run("ask", "hi")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith(
        f"error: bad config file {config}:2: key 'profiles.default.system' must be"
    )
    assert len(router.messages_requests) == 2
