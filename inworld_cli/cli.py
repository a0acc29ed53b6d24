"""The root command: composes the command groups, and turns every failure into a message and an exit status.

Nothing heavy is imported here: `--help`, completion and `auth` must not pay for the SDK or rich's
markdown renderer.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn, TextIO, cast

import typer

from inworld_cli import __version__
from inworld_cli.commands import (
    ask,
    auth,
    batch,
    compare,
    conversations,
    handoff,
    models,
    routers,
    stats,
    worker,
)
from inworld_cli.commands import history as history_cmd
from inworld_cli.commands import inspect as inspect_cmd
from inworld_cli.commands.context import environment_of, help_without_subcommand
from inworld_cli.environment import Environment
from inworld_cli.errors import CliError, ExitStatus
from inworld_cli.output.console import StdoutClosed
from inworld_cli.store.settings import Overrides

app = typer.Typer(
    name="inworld-router",
    help="Ask the Inworld Router, script it, and see how it routed each request.",
    # A traceback's local variables could include the API key: never show them.
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("ask")(ask.ask)
app.command("batch")(batch.batch)
app.command("compare")(compare.compare)
app.add_typer(auth.app, name="auth")
app.command("inspect")(inspect_cmd.inspect)
app.add_typer(history_cmd.app, name="history")
app.add_typer(conversations.app, name="conversations")
app.command("stats")(stats.stats)
app.command("models")(models.models)
app.add_typer(routers.app, name="routers")
app.command("env")(handoff.env)
app.command("exec", context_settings=handoff.EXEC_CONTEXT)(handoff.exec_command)
app.add_typer(worker.app, name="worker")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inworld-router {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for internal errors [env: INWORLD_DEBUG=1].")
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-P",
            metavar="NAME",
            help="Profile for the command that follows; its own --profile wins [env: INWORLD_PROFILE].",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="Router base URL for the command that follows; its own --base-url wins "
            "[env: INWORLD_BASE_URL].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Ask the Inworld Router, script it, and see how it routed each request."""
    env = environment_of(ctx)
    env.debug = env.debug or debug
    env.global_options = Overrides(profile=profile, base_url=base_url)
    help_without_subcommand(ctx)


def _report(env: Environment, message: str, hint: str | None) -> None:
    env.streams.error(env.secrets.redact(message), env.secrets.redact(hint) if hint else None)


def _traceback_if_debugging(env: Environment) -> None:
    """With --debug, the traceback of the exception being handled (keys masked), before its usual lines."""
    if env.debug:
        import traceback

        with contextlib.suppress(OSError, ValueError):
            env.streams.stderr.write(env.secrets.redact(traceback.format_exc()))


def _usage_error(env: Environment, exc: typer.TyperException, args: Sequence[str]) -> int:
    """Typer's own usage errors (an unknown option, a missing value) in the one style: error and hint."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or _command_path(args)
    _report(env, exc.format_message(), f"see: {command} --help")
    return exc.exit_code


def _command_path(args: Sequence[str]) -> str:
    """`inworld-router auth status` from the words of a command line that name commands (Typer does not
    always say which command an error belongs to)."""
    path = ["inworld-router"]
    group = typer.main.get_command(app)
    for word in args:
        commands = getattr(group, "commands", {})
        if word.startswith("-") or word not in commands:
            break
        path.append(word)
        group = commands[word]
    return " ".join(path)


def main(args: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run one command line; the exit status. Tests call this in-process with their own environment."""
    env = env or Environment.from_process()
    env.debug = env.debug or env.vars.get("INWORLD_DEBUG", "") not in ("", "0")
    try:
        # Typer's own output (help, --version, completion) goes through our stdout too, whose closed pipe
        # is not an OSError: Typer would turn that into exit 1.
        with contextlib.redirect_stdout(cast(TextIO, env.streams.stdout)):
            status = app(args=args, prog_name="inworld-router", obj=env, standalone_mode=False)
        status = status if isinstance(status, int) else ExitStatus.OK
    except SystemExit as exc:  # completion, and --help of Typer's eager options
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CliError as exc:
        _traceback_if_debugging(env)
        _report(env, exc.message, exc.hint)
        status = exc.status
    except typer.TyperException as exc:
        status = _usage_error(env, exc, sys.argv[1:] if args is None else args)
    except (StdoutClosed, BrokenPipeError):
        env.streams.silence_stdout()
        status = ExitStatus.STDOUT_CLOSED
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except typer.Abort:  # end of input at a prompt
        _report(env, "aborted: the input ended", None)
        status = ExitStatus.LOCAL
    except Exception as exc:
        _traceback_if_debugging(env)
        _report(env, f"internal error: {type(exc).__name__}: {exc}", "rerun with --debug, and report it")
        status = ExitStatus.LOCAL
    env.streams.flush()
    env.finish()
    return status


def entry() -> NoReturn:
    """The console script: `main`, then an immediate exit.

    Tearing down the interpreter after the SDK's ~3,000 modules takes ~180 ms and runs nothing we need:
    output is flushed, and history rows are durable once committed.
    """
    status = main()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(status)
