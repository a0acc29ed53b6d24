"""The root command: composes the command groups and turns every failure into a message and an exit status.

Nothing heavy is imported here: `--help`, completion and `auth` must not pay for the SDK or rich's
markdown renderer.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Annotated, NoReturn

import typer

from inworld_cli import __version__
from inworld_cli.commands import ask, auth, models, routers
from inworld_cli.commands import history as history_cmd
from inworld_cli.commands import inspect as inspect_cmd
from inworld_cli.console import StdoutClosed, sanitize
from inworld_cli.errors import CliError, ExitStatus, redact

app = typer.Typer(
    name="inworld-router",
    help="Ask the Inworld Router, script it, and see how it routed each request.",
    no_args_is_help=True,
    # A traceback's local variables could include the API key: never show them.
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("ask")(ask.ask)
app.add_typer(auth.app, name="auth")
app.command("inspect")(inspect_cmd.inspect)
app.command("history")(history_cmd.history)
app.command("models")(models.models)
app.command("routers")(routers.routers)

_debug = {"on": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inworld-router {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks for internal errors \\[env: INWORLD_DEBUG=1].")
    ] = False,
) -> None:
    """Ask the Inworld Router, script it, and see how it routed each request."""
    if debug:
        _debug["on"] = True


def _debugging() -> bool:
    return _debug["on"] or os.environ.get("INWORLD_DEBUG", "") not in ("", "0")


def _traceback_if_debugging() -> None:
    """With --debug, the traceback of the exception being handled (keys masked), before its usual lines."""
    if _debugging():
        import traceback

        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(redact(traceback.format_exc()))


def _report(message: str, hint: str | None) -> None:
    try:
        sys.stderr.write(sanitize(redact(f"error: {message}")) + "\n")
        if hint:
            sys.stderr.write(sanitize(redact(f"hint: {hint}")) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    # After the reader of stdout has gone, anything still buffered would fail again at exit and print
    # "Exception ignored ... BrokenPipeError": point stdout at /dev/null instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main() -> NoReturn:
    status: int
    try:
        app(prog_name="inworld-router")
        status = ExitStatus.OK
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CliError as exc:
        _traceback_if_debugging()
        _report(exc.message, exc.hint)
        status = exc.status
    except StdoutClosed:
        _silence_stdout()
        status = 141
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except Exception as exc:
        _traceback_if_debugging()
        _report(f"internal error: {type(exc).__name__}: {exc}", "rerun with --debug, and report it")
        status = ExitStatus.LOCAL
    _flush_output()
    sys.exit(status)


def _flush_output() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()


def entry() -> NoReturn:
    """The console script: `main`, then an immediate exit.

    Tearing down the interpreter after the SDK's ~3,000 modules takes ~180 ms and runs nothing we need:
    output is flushed here, and history rows are durable once committed. (`main` itself keeps raising
    SystemExit, so tests can call it in-process.)
    """
    try:
        main()
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _flush_output()
    os._exit(status)
