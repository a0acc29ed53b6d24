"""The prompt of `ask`: arguments and piped stdin put together, as the contract says. Pure, no IO."""

from __future__ import annotations

from collections.abc import Sequence

from inworld_cli.errors import UsageError

STDIN_ONLY = "-"

_NO_PROMPT_HINT = 'give it as arguments (inworld-router ask "…") or pipe it (… | inworld-router ask)'


def wants_stdin(args: Sequence[str], stdin_is_terminal: bool) -> bool:
    """Whether stdin must be read: `-` asks for it explicitly; otherwise only a pipe or a file is read,
    never a terminal (that would wait for input nobody knows is expected)."""
    return list(args) == [STDIN_ONLY] or not stdin_is_terminal


def check_has_prompt(args: Sequence[str], stdin_is_terminal: bool) -> None:
    """The cheap check before anything slow starts: arguments, or a stdin to read."""
    if not wants_stdin(args, stdin_is_terminal) and not " ".join(args).strip():
        raise UsageError("no prompt", hint=_NO_PROMPT_HINT)


def decode_stdin(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"stdin is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="convert it first, e.g. iconv -f latin1 -t utf-8",
        ) from None


def assemble_prompt(args: Sequence[str], stdin_text: str | None) -> str:
    """Stdin first (long material), a blank line, then the arguments (the question); `-` alone means
    stdin only. Trailing newlines of stdin are dropped; stdin of only whitespace counts as none."""
    question = "" if list(args) == [STDIN_ONLY] else " ".join(args)
    material = (stdin_text or "").rstrip("\r\n")
    if not material.strip():
        material = ""
    if not question.strip():
        question = ""
    prompt = f"{material}\n\n{question}" if material and question else material or question
    if not prompt:
        raise UsageError("no prompt: the arguments and stdin are empty", hint=_NO_PROMPT_HINT)
    return prompt
