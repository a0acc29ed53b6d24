"""Every command's --help: plain text that names each value by what it is (MODEL, SECONDS, N), never by
a Python type (`<str>`, `<list[str]>`), and examples shown whole, one command per line, never wrapped in
the middle of a command."""

from __future__ import annotations

import re

import pytest
import typer

from inworld_cli.cli import app
from tests.conftest import Home


def command_paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(getattr(group, "commands", {}).items()):
        paths += command_paths(command, (*prefix, name))
    return paths


PATHS = command_paths(typer.main.get_command(app))
PYTHON_TYPE = re.compile(
    r"<(?:str|int|float|bool|list\[|int range|float range|path|text)\b[^>]*>", re.IGNORECASE
)


def test_the_walk_finds_every_command() -> None:
    assert {("ask",), ("auth", "login"), ("routers", "show"), ("history",)} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "root")
def test_help_names_values_not_python_types_and_keeps_examples_whole(
    home: Home, path: tuple[str, ...]
) -> None:
    result = home.run(*path, "--help")
    assert (result.returncode, result.stderr) == (0, "")
    assert not PYTHON_TYPE.search(result.stdout), result.stdout
    lines = result.stdout.splitlines()
    if "  Examples:" in lines or "  Example:" in lines:
        start = next(i for i, line in enumerate(lines) if line.strip() in ("Examples:", "Example:"))
        examples = []
        for line in lines[start + 1 :]:
            if line and not line.startswith(" "):  # the next section (Options:)
                break
            if line.strip():  # a blank line would end click's unwrapped block: none is allowed
                examples.append(line)
        assert examples, result.stdout
        for line in examples:  # each one a whole command line: a wrapped one would start mid-command
            assert re.match(
                r"^    (inworld-router |\w[\w-]* .*\| inworld-router |printf |curl |eval )", line
            ), line
