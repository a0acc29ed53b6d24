"""`inworld-router env` and `exec`: the router for other tools (Claude Code, the Anthropic SDKs).

Both hand over the profile's base URL and key as ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN, and take
away what would send the router anything else (see core/handoff.py). `env` prints the statements for a
shell to apply; `exec` replaces this process with the command, so its signals and exit status are the
command's own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import BaseUrlOption, HandoffModelOption, ProfileOption
from inworld_cli.core.handoff import AUTH_TOKEN, REMOVED, check_model, child_environment, handoff_variables
from inworld_cli.core.shell import SHELLS, apply_command, default_shell, shell_named, statements
from inworld_cli.environment import Environment
from inworld_cli.errors import CannotRun, CommandNotFound, UsageError
from inworld_cli.output.console import sanitize
from inworld_cli.store.settings import Overrides, Settings, mask_key


@dataclass(frozen=True)
class HandoffOptions:
    profile: str | None = None
    base_url: str | None = None
    model: str | None = None


def _variables(options: HandoffOptions, env: Environment) -> tuple[Settings, dict[str, str]]:
    """The variables to set; exit 2 for a bad model or profile, 3 without a key (before anything runs)."""
    if options.model is not None:
        check_model(options.model)
    settings = env.settings(Overrides(profile=options.profile, base_url=options.base_url))
    endpoint = env.endpoint(settings)
    return settings, handoff_variables(endpoint.url, endpoint.key, options.model)


# -- env -------------------------------------------------------------------------------------------------


def _given_words(shell: str | None, settings: Settings, model: str | None) -> list[str]:
    """`inworld-router env` with the options that chose what it printed: for the hint to repeat."""
    words = ["inworld-router", "env"]
    if shell is not None:
        words += ["--shell", shell]
    if settings.profile.source == "--profile":
        words += ["--profile", settings.profile.value]
    if settings.base_url.source == "--base-url":
        words += ["--base-url", settings.base_url.value]
    if model is not None:
        words += ["--model", model]
    return words


def run_env(options: HandoffOptions, shell_flag: str | None, env: Environment) -> None:
    streams = env.streams
    shell = (
        shell_named(shell_flag)
        if shell_flag is not None
        else default_shell(env.vars.get("SHELL"), os.name == "nt")
    )
    settings, variables = _variables(options, env)
    if not streams.stdout_is_terminal:
        streams.out(statements(shell, variables, REMOVED))
        return
    # A terminal is for reading: the key stays masked there, and the user is told how to apply it.
    shown = {**variables, AUTH_TOKEN: mask_key(variables[AUTH_TOKEN])}
    streams.out(sanitize(statements(shell, shown, REMOVED)))
    how = apply_command(shell, _given_words(shell_flag, settings, options.model))
    streams.err(f"note: the key is masked on a terminal; to apply these: {how}")


ShellOption = Annotated[
    str | None,
    typer.Option(
        "--shell",
        metavar="SHELL",
        help="bash, zsh, fish or powershell (sh, dash, ksh: as bash) [default: from $SHELL].",
        show_default=False,
        autocompletion=lambda: list(SHELLS),
    ),
]


def env(
    ctx: typer.Context,
    shell: ShellOption = None,
    profile: ProfileOption = None,
    model: HandoffModelOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Print the shell statements that point Claude Code and the Anthropic SDKs at the router.

    Sets ANTHROPIC_BASE_URL (the profile's base URL) and ANTHROPIC_AUTH_TOKEN (its key), with --model
    also ANTHROPIC_MODEL; unsets ANTHROPIC_API_KEY and ANTHROPIC_CUSTOM_HEADERS, which would send the
    router something besides the key. On a terminal the key is shown masked.

    \b
    Examples:
      eval "$(inworld-router env)"
      inworld-router env --shell fish | source
      inworld-router env --shell powershell | Out-String | Invoke-Expression
      eval "$(inworld-router env --profile work -m openai/gpt-5)" && claude
    """
    run_env(HandoffOptions(profile, base_url, model), shell, environment_of(ctx))


# -- exec ------------------------------------------------------------------------------------------------

# Options end at CMD: what follows it is CMD's own (`exec claude --model x` passes --model to claude).
EXEC_CONTEXT = {"allow_interspersed_args": False}

# Python ignores these at start-up, and an ignored signal stays ignored across exec: CMD would then get
# EPIPE instead of dying quietly in `| head`, as it would when run by a shell.
_RESET_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))


@contextlib.contextmanager
def _default_signals() -> Iterator[None]:
    """Signals at their defaults for CMD; restored if the exec fails and this process goes on."""
    saved = {number: signal.signal(number, signal.SIG_DFL) for number in _RESET_SIGNALS}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _cannot_run(command: str, child: Mapping[str, str], exc: OSError) -> CommandNotFound | CannotRun:
    found = command if os.sep in command else shutil.which(command, path=child.get("PATH", os.defpath))
    if isinstance(exc, FileNotFoundError) and found and os.path.exists(found):
        # It is there, so what is missing is the interpreter its #! line names.
        return CannotRun(
            f"cannot run {command}: the interpreter on its #! line was not found",
            hint=f"check the first line of {found}",
        )
    if isinstance(exc, FileNotFoundError):
        where = "no such file" if os.sep in command else "not found on PATH"
        return CommandNotFound(
            f"command not found: {command} ({where})", hint="check the name, or give its path"
        )
    reason = exc.strerror or str(exc)
    return CannotRun(
        f"cannot run {command}: {reason}", hint=f"check that {found or command} is an executable file"
    )


def run_exec(options: HandoffOptions, command: list[str], env: Environment) -> None:
    if not command:
        raise UsageError("no command to run", hint="inworld-router exec -- CMD [ARGS]...")
    _, variables = _variables(options, env)
    child = child_environment(env.vars, variables)
    env.streams.flush()  # what this process wrote must not be lost with its image
    with _default_signals():
        try:
            os.execvpe(command[0], command, child)  # noqa: S606 - running CMD is this command's purpose
        except OSError as exc:
            raise _cannot_run(command[0], child, exc) from None


CommandArgument = Annotated[
    list[str] | None,
    # Described in the command's help text: an argument's own entry would show its Python type.
    typer.Argument(metavar="CMD [ARGS]", hidden=True, show_default=False),
]


def exec_command(
    ctx: typer.Context,
    command: CommandArgument = None,
    profile: ProfileOption = None,
    model: HandoffModelOption = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Run a command with the router as its Anthropic API: the variables of `env`, set for it alone.

    The command replaces this process: its signals and exit status are its own. Exit 127 when it is not
    found, 126 when it cannot be run.

    \b
    Examples:
      inworld-router exec -- claude
      inworld-router exec --profile work --model openai/gpt-5 -- claude -p "hi"
      inworld-router exec -- python my_sdk_script.py
    """
    run_exec(HandoffOptions(profile, base_url, model), list(command or ()), environment_of(ctx))
