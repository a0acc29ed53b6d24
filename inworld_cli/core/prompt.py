"""The prompt of `ask`: arguments and piped stdin put together, as the contract says. Pure, no IO."""

from __future__ import annotations

from collections.abc import Sequence

from inworld_cli.errors import UsageError

STDIN_ONLY = "-"


def _no_prompt_hint(command: str) -> str:
    return f'give it as arguments (inworld-router {command} "…") or pipe it (… | inworld-router {command})'


def wants_stdin(args: Sequence[str], stdin_is_terminal: bool, stdin_taken: str | None = None) -> bool:
    """Whether stdin must be read for the prompt: `-` asks for it explicitly; otherwise only a pipe or a
    file is read, never a terminal (that would wait for input nobody knows is expected). `stdin_taken`
    says why stdin is not the prompt's at all (`--no-stdin`, `-a -`)."""
    if stdin_taken is not None:
        if list(args) == [STDIN_ONLY]:
            raise UsageError(
                f"the prompt - reads stdin, which {stdin_taken}", hint="give the prompt as arguments"
            )
        return False
    return list(args) == [STDIN_ONLY] or not stdin_is_terminal


def check_has_prompt(
    args: Sequence[str],
    stdin_is_terminal: bool,
    stdin_taken: str | None = None,
    attachments: int = 0,
    *,
    command: str = "ask",
) -> None:
    """The cheap check before anything slow starts: arguments, attachments, or a stdin to read. `command`:
    the one the hint shows (compare's options come before its prompt too)."""
    if attachments:
        return
    if not wants_stdin(args, stdin_is_terminal, stdin_taken) and not " ".join(args).strip():
        raise UsageError("no prompt", hint=_no_prompt_hint(command))


def decode_stdin(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"stdin is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
            hint="convert it first, e.g. iconv -f latin1 -t utf-8",
        ) from None


def assemble_prompt(
    args: Sequence[str], stdin_text: str | None, *, may_be_empty: bool = False, command: str = "ask"
) -> str:
    """Stdin first (long material), a blank line, then the arguments (the question); `-` alone means
    stdin only. Trailing newlines of stdin are dropped; stdin of only whitespace counts as none. Empty is
    an error unless `may_be_empty` (attachments alone are a prompt)."""
    question = "" if list(args) == [STDIN_ONLY] else " ".join(args)
    material = (stdin_text or "").rstrip("\r\n")
    if not material.strip():
        material = ""
    if not question.strip():
        question = ""
    prompt = f"{material}\n\n{question}" if material and question else material or question
    if not prompt and not may_be_empty:
        raise UsageError("no prompt: the arguments and stdin are empty", hint=_no_prompt_hint(command))
    return prompt
