"""`inworld-router ask`: one prompt, one answer, streamed.

stdout carries the answer and nothing else (see answer_output.py); stderr the spinner, retry notices and the
routing summary. Every ask is recorded in history, whether it succeeds, fails or is interrupted. The SDK,
rich and SQLite are imported only once a request is certain, never when this module loads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from inworld_cli.console import NOT_UTF8, StdoutClosed, Streams
from inworld_cli.deps import Deps
from inworld_cli.errors import CliError, ExitStatus, UsageError
from inworld_cli.options import (
    BaseUrlOption,
    DryRunOption,
    FallbackOption,
    IgnoreOption,
    JsonOption,
    ModelOption,
    ProfileOption,
    RouteMetaOption,
    SortOption,
    TtftTimeoutOption,
    UserOption,
)
from inworld_cli.prompt import assemble_prompt, check_has_prompt, decode_stdin, wants_stdin
from inworld_cli.routing_options import RoutingOptions, apply_routing, routing_options
from inworld_cli.settings import Overrides, Settings

if TYPE_CHECKING:
    from inworld_cli.answer_output import AnswerWriter, Spinner
    from inworld_cli.history import Record


@dataclass(frozen=True)
class AskOptions:
    prompt: tuple[str, ...] = ()
    model: str | None = None
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    stream: bool = True
    as_json: bool = False
    routing: bool = False
    quiet: bool = False
    no_log: bool = False
    timeout: float | None = None
    retries: int | None = None
    base_url: str | None = None
    profile: str | None = None
    # Routing options: the router's `extra_body` object and `user`; None/empty = the profile's default.
    fallback: tuple[str, ...] = ()
    sort: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    ttft_timeout: str | None = None
    route_meta: tuple[str, ...] = ()
    user: str | None = None
    dry_run: bool = False


def build_body(
    model: str,
    max_tokens: int,
    prompt: str,
    *,
    system: str | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    stop: tuple[str, ...] = (),
    stream: bool = True,
) -> dict[str, Any]:
    """The JSON body of the Messages request, exactly as the router must receive it; optional parameters
    only when given."""
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system is not None:
        body["system"] = system
    body["messages"] = [{"role": "user", "content": prompt}]
    if temperature is not None:
        body["temperature"] = temperature
    if top_p is not None:
        body["top_p"] = top_p
    if stop:
        body["stop_sequences"] = list(stop)
    body["stream"] = stream
    return body


def _check_unit_interval(value: float | None, flag: str) -> None:
    if value is not None and not 0 <= value <= 1:  # also refuses nan
        raise UsageError(
            f"{flag} must be between 0 and 1, not {value}", hint="see: inworld-router ask --help"
        )


def _check_options(options: AskOptions, settings: Settings) -> RoutingOptions:
    """What settings.resolve does not check (it checks max tokens, timeout and retries); returns the
    routing options, flags over the profile's defaults."""
    _check_unit_interval(options.temperature, "--temperature")
    _check_unit_interval(options.top_p, "--top-p")
    if not settings.model.value.strip():
        raise UsageError(f"empty model name from {settings.model.source}", hint="e.g. -m auto")
    return routing_options(
        fallback=options.fallback,
        sort=options.sort,
        ignore=options.ignore,
        ttft_timeout=options.ttft_timeout,
        route_meta=options.route_meta,
        user=options.user,
        profile_config=settings.profile_config,
        config_label=f"{settings.paths.config_file} [profiles.{settings.profile.value}]",
    )


# Where text that is not UTF-8 (see console.NOT_UTF8) came from: it cannot be sent as JSON.
_BODY_KEY_NAMES = {
    "messages": "the prompt",
    "system": "--system",
    "model": "the model name",
    "stop_sequences": "--stop",
    "extra_body": "a routing option",
    "user": "--user",
}


def _undecodable(value: object) -> str | None:
    """The first lone surrogate in any string inside `value`."""
    if isinstance(value, str):
        found = NOT_UTF8.search(value)
        return found.group() if found else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((char for char in map(_undecodable, items) if char), None)


def _check_utf8(body: dict[str, Any]) -> None:
    for key, value in body.items():
        char = _undecodable(value)
        if char is not None:
            byte = ord(char) - 0xDC00
            what = f" (byte 0x{byte:02x})" if 0x80 <= byte <= 0xFF else ""
            raise UsageError(
                f"{_BODY_KEY_NAMES.get(key, key)} is not UTF-8 text{what}",
                hint="arguments and INWORLD_* variables must be UTF-8; convert first, e.g. with iconv",
            )


def _read_prompt(args: tuple[str, ...], streams: Streams) -> str:
    stdin_text = None
    if wants_stdin(args, streams.stdin_is_terminal):
        if streams.stdin_is_terminal:
            streams.err("Reading the prompt from the terminal; end it with Ctrl-D.")
        stdin_text = decode_stdin(streams.stdin.read())
    return assemble_prompt(args, stdin_text)


def base_url_host(base_url: str) -> str:
    """host[:port] only: never a path, and never credentials someone put in the URL."""
    return urlsplit(base_url).netloc.rpartition("@")[2]


def run_ask(options: AskOptions, deps: Deps) -> None:
    streams = deps.streams
    settings = deps.settings(
        Overrides(
            profile=options.profile,
            base_url=options.base_url,
            model=options.model,
            max_tokens=options.max_tokens,
            timeout=options.timeout,
            retries=options.retries,
            no_log=options.no_log,
        )
    )
    routing = _check_options(options, settings)
    check_has_prompt(options.prompt, streams.stdin_is_terminal)

    from inworld_cli import client

    if settings.api_key.value and not options.dry_run:
        client.start_sdk_import()  # overlaps the SDK's second of imports with reading stdin
    prompt = _read_prompt(options.prompt, streams)
    plain_body = build_body(
        settings.model.value,
        settings.max_tokens.value,
        prompt,
        system=options.system,
        temperature=options.temperature,
        top_p=options.top_p,
        stop=options.stop,
        stream=options.stream,
    )
    body = apply_routing(plain_body, routing)
    _check_utf8(body)
    if options.dry_run:
        from inworld_cli.dry_run import format_request

        streams.out(format_request(settings, body))  # sends nothing, records nothing
        return
    _Exchange(options, settings, streams).run(body)


class _Exchange:
    """One request: shows the answer as it arrives, then records it, however it ended."""

    def __init__(self, options: AskOptions, settings: Settings, streams: Streams) -> None:
        from inworld_cli.answer_output import answer_writer

        self.options = options
        self.settings = settings
        self.streams = streams
        self.writer: AnswerWriter = answer_writer(streams, options.as_json)
        self.spinner: Spinner | None = None
        self.text: list[str] = []  # what arrived, for the record of an interrupted answer
        self.block_types: list[str] = []
        self.created = time.time()
        self.started = time.monotonic()

    @property
    def chatty(self) -> bool:
        """Spinner, notices and summary: for a person at a terminal, unless -q."""
        return self.streams.stderr_is_terminal and not self.options.quiet

    def run(self, body: dict[str, Any]) -> None:
        from inworld_cli import client

        if self.chatty and not self.streams.dumb_terminal:
            from inworld_cli.answer_output import Spinner

            self.spinner = Spinner(self.streams.stderr, f"waiting for {body['model']}")
            self.spinner.start()
        try:
            outcome = client.send_message(
                self.settings,
                body,
                stream=self.options.stream,
                on_text=self._on_text,
                on_notice=self._on_notice,
                on_block=self.block_types.append,
            )
            self._stop_spinner()
            self.writer.finish(outcome.message)
        except BaseException as exc:
            self._stop_spinner()
            self.writer.abort()
            record = self._failure_record(body, exc)
            self._save(record)
            if self.options.routing and record.response is not None and isinstance(exc, CliError):
                self._timeline(record)
            raise
        record = self._record(
            body,
            response=outcome.message,
            error=None,
            timings={"ttft_ms": outcome.ttft_ms, "total_ms": outcome.total_ms},
            status=ExitStatus.OK,
        )
        self._save(record)
        self._after_answer(record)

    def _stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()

    def _on_text(self, delta: str) -> None:
        self._stop_spinner()  # erased before any answer text can appear
        self.text.append(delta)
        self.writer.text(delta)

    def _on_notice(self, notice: str) -> None:
        if self.options.quiet:
            return
        if self.spinner is not None:
            self.spinner.notice(notice)
        else:
            self.streams.err(notice)

    # -- the record ---------------------------------------------------------------------------------

    def _record(
        self,
        body: dict[str, Any],
        *,
        response: dict[str, Any] | None,
        error: dict[str, Any] | None,
        timings: dict[str, Any],
        status: int,
        partial: bool = False,
    ) -> Record:
        from inworld_cli.history import Record, new_record_id, utc_timestamp

        return Record(
            id=new_record_id(self.created),
            created_at=utc_timestamp(self.created),
            profile=self.settings.profile.value,
            base_url_host=base_url_host(self.settings.base_url.value),
            request=body,
            response=response,
            error=error,
            timings=timings,
            exit_status=status,
            partial=partial,
        )

    def _failure_record(self, body: dict[str, Any], exc: BaseException) -> Record:
        status, kind, message = _failure_of(exc)
        details = getattr(exc, "details", None)
        response = getattr(exc, "partial", None) or self._partial_message()
        total = getattr(exc, "total_ms", None)
        return self._record(
            body,
            response=response,
            error=details
            if isinstance(details, dict)
            else {"status": None, "type": kind, "message": message, "request_id": None},
            timings={
                "ttft_ms": getattr(exc, "ttft_ms", None),
                "total_ms": total if total is not None else (time.monotonic() - self.started) * 1000,
            },
            status=status,
            partial=response is not None,
        )

    def _partial_message(self) -> dict[str, Any] | None:
        """What arrived before an interrupt, as a Messages response (the client only hands a partial
        message to the errors it raises itself)."""
        if not self.text:
            return None
        return {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "".join(self.text)}],
            "stop_reason": None,
        }

    def _save(self, record: Record) -> None:
        if not self.settings.history.value:
            return
        from inworld_cli.history import HistoryError, HistoryStore

        try:
            HistoryStore(self.settings.paths.history_db).add(record)
        except HistoryError as exc:
            self.streams.warn(f"this request was not saved in history: {exc.message}")

    # -- after the answer ---------------------------------------------------------------------------

    def _after_answer(self, record: Record) -> None:
        if self.chatty and self.block_types:
            kinds = ", ".join(dict.fromkeys(self.block_types))
            self.streams.err(f"note: the answer also had {kinds} content, not shown (--json shows it all)")
        if self.options.routing:
            self._timeline(record)
        elif self.chatty:
            from inworld_cli.render import summary_line

            self.streams.err(summary_line(record))

    def _timeline(self, record: Record) -> None:
        from inworld_cli.render import print_timeline

        streams = self.streams
        print_timeline(
            record, streams.console(stderr=True), plain=not streams.stderr_is_terminal, content=False
        )


def _failure_of(exc: BaseException) -> tuple[int, str, str]:
    """Exit status, error type and message of whatever ended an ask early."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED, "interrupted", "interrupted (Ctrl-C)"
    if isinstance(exc, StdoutClosed):
        return 141, "stdout_closed", "stdout was closed before the answer ended"
    if isinstance(exc, CliError):
        return exc.status, type(exc).__name__, exc.message
    return ExitStatus.LOCAL, "internal_error", f"{type(exc).__name__}: {exc}"


# -- the command -------------------------------------------------------------------------------------------

PromptArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="PROMPT",
        help="The prompt (words are joined by spaces). Piped stdin is read too and comes first, then a "
        "blank line, then the words; `-` alone reads stdin only.",
        show_default=False,
    ),
]


def ask(
    prompt: PromptArgument = None,
    model: ModelOption = None,
    system: Annotated[
        str | None, typer.Option("--system", "-s", help="System prompt.", show_default=False)
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            help="Most tokens to generate \\[config: max_tokens; default: 4096].",
            show_default=False,
        ),
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option("--temperature", "-t", help="Sampling temperature, 0 to 1.", show_default=False),
    ] = None,
    top_p: Annotated[
        float | None, typer.Option("--top-p", help="Nucleus sampling, 0 to 1.", show_default=False)
    ] = None,
    stop: Annotated[
        list[str] | None,
        typer.Option(
            "--stop", metavar="TEXT", help="Stop when the model writes TEXT (repeatable).", show_default=False
        ),
    ] = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole answer instead of streaming it.")
    ] = False,
    as_json: JsonOption = False,
    routing: Annotated[
        bool,
        typer.Option("--routing", "-r", help="Print the full routing timeline on stderr, even when piped."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No spinner, notices or summary: stderr shows errors only.")
    ] = False,
    no_log: Annotated[
        bool,
        typer.Option("--no-log", help="Do not record this request in history \\[env: INWORLD_NO_LOG=1]."),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Request timeout \\[env: INWORLD_TIMEOUT; config: timeout; default: 600].",
            show_default=False,
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help="Retries on connection failures, 429, 5xx and 529 \\[config: retries; default: 2].",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrlOption = None,
    profile: ProfileOption = None,
    fallback: FallbackOption = None,
    sort: SortOption = None,
    ignore: IgnoreOption = None,
    ttft_timeout: TtftTimeoutOption = None,
    route_meta: RouteMetaOption = None,
    user: UserOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Ask the router one question; the answer streams to stdout.

    A terminal gets markdown, a spinner while waiting and a routing summary (on stderr) at the end.

    Piped, stdout gets the answer's text exactly as produced, and nothing else.

    Examples:

      inworld-router ask "What is a mixture of experts?"

      git diff | inworld-router ask -m anthropic/claude-opus-4-6 "Write a commit message for this diff"

      inworld-router ask --json "hi" | jq -r .metadata.generation_id

      inworld-router ask -r -s "Answer in one word" "Capital of France?"

      inworld-router ask --fallback openai/gpt-5 --sort latency --ttft-timeout 800ms --dry-run "hi"
    """
    options = AskOptions(
        prompt=tuple(prompt or ()),
        model=model,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop=tuple(stop or ()),
        stream=not no_stream,
        as_json=as_json,
        routing=routing,
        quiet=quiet,
        no_log=no_log,
        timeout=timeout,
        retries=retries,
        base_url=base_url,
        profile=profile,
        fallback=tuple(fallback or ()),
        sort=tuple(sort or ()),
        ignore=tuple(ignore or ()),
        ttft_timeout=ttft_timeout,
        route_meta=tuple(route_meta or ()),
        user=user,
        dry_run=dry_run,
    )
    run_ask(options, Deps.from_process())
