"""Statements that set and remove environment variables, in the syntax of bash and zsh (any POSIX shell),
fish and PowerShell, with every value quoted so that the shell reads it back exactly. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from inworld_cli.errors import UsageError

SHELLS = ("bash", "zsh", "fish", "powershell")

# A name as $SHELL or --shell gives it (a path's last part, without .exe) to the syntax it reads.
_SYNTAX = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "powershell": "powershell",
    "pwsh": "powershell",
    # Other POSIX shells read what bash reads.
    "sh": "bash",
    "dash": "bash",
    "ash": "bash",
    "ksh": "bash",
    "mksh": "bash",
    "yash": "bash",
}
_ALLOWED = "bash, zsh, fish, powershell (sh, dash, ksh: as bash; pwsh: as powershell)"

# Words every one of these shells reads as themselves (a hint's words are left bare when they are).
# Not `=` (zsh expands `=ls` to a path, even in `export X==ls`), `%` (fish: `%self`), `~`, `@`, `,`.
_BARE = re.compile(r"[\w./:-]+", re.ASCII)
# PowerShell takes these four as single quotes too; doubling one escapes it.
_POWERSHELL_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")


def _syntax_of(name: str) -> str | None:
    base = re.split(r"[/\\]", name.strip())[-1].lower().lstrip("-").removesuffix(".exe")
    return _SYNTAX.get(base)


def shell_named(name: str) -> str:
    """The syntax --shell asks for (exit 2 for a shell whose syntax is none of these)."""
    syntax = _syntax_of(name)
    if syntax is None:
        raise UsageError(f"bad value for --shell: {name!r}", hint=f"allowed: {_ALLOWED}")
    return syntax


def default_shell(login_shell: str | None, windows: bool) -> str:
    """The syntax when --shell is not given: $SHELL's (a path such as /usr/bin/fish); PowerShell on
    Windows without one; else bash. A $SHELL of another syntax (csh, nushell ...) is exit 2."""
    if not login_shell or not login_shell.strip():
        return "powershell" if windows else "bash"
    syntax = _syntax_of(login_shell)
    if syntax is None:
        raise UsageError(
            f"cannot tell which shell to print for: $SHELL is {login_shell!r}",
            hint=f"pass --shell: {_ALLOWED}",
        )
    return syntax


def quote(shell: str, value: str) -> str:
    """`value` as one single-quoted word that the shell reads back exactly, whatever it holds."""
    if shell == "fish":
        # Inside fish's single quotes only \\ and \' are escapes.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return "'" + _POWERSHELL_QUOTES.sub(lambda m: m.group() * 2, value) + "'"
    return "'" + value.replace("'", "'\"'\"'") + "'"  # close, a quoted ', reopen


def _word(shell: str, word: str) -> str:
    return word if _BARE.fullmatch(word) else quote(shell, word)


def _remove(shell: str, name: str) -> str:
    if shell == "fish":
        # `set -e` alone would erase a universal variable for good (from every session, on disk): a
        # universal one is shadowed with an empty global instead, the session's own is erased. Written so
        # that the status stays 0 (fish's `set` passes the previous status on): `| source; and claude`.
        return f"if set -qU {name}; set -gx {name} ''; else if set -qg {name}; set -e -g {name}; end"
    if shell == "powershell":
        return f"Remove-Item -Path Env:{name} -ErrorAction SilentlyContinue"
    return f"unset {name}"


def _assign(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} {quote(shell, value)}"
    if shell == "powershell":
        return f"$Env:{name} = {quote(shell, value)}"
    return f"export {name}={quote(shell, value)}"


def statements(shell: str, assign: Mapping[str, str], remove: Sequence[str]) -> str:
    """The lines that remove, then set, the variables: removals first, so the last status is a set's."""
    lines = [_remove(shell, name) for name in remove]
    lines += [_assign(shell, name, value) for name, value in assign.items()]
    return "".join(line + "\n" for line in lines)


def apply_command(shell: str, words: Sequence[str]) -> str:
    """How to run the command `words` so that the shell applies the statements it prints."""
    line = " ".join(_word(shell, word) for word in words)
    if shell == "powershell":
        return f"{line} | Out-String | Invoke-Expression"
    if shell == "fish":
        return f"{line} | source"
    return f'eval "$({line})"'
