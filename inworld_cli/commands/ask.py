"""`inworld-router ask`: one prompt, one answer, streamed.

stdout carries the answer and nothing else (see output/answer.py); stderr the spinner, retry notices and
the routing summary. Every ask is recorded in history, whether it succeeds, fails or is interrupted. The
SDK, rich and SQLite are imported only once a request is certain, never when this module loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import (
    BaseUrlOption,
    FallbackOption,
    IgnoreOption,
    JsonOption,
    MaxTokensOption,
    ModelOption,
    NoLogOption,
    ProfileOption,
    QuietOption,
    RetriesOption,
    RouteMetaOption,
    SortOption,
    StopOption,
    SystemOption,
    TemperatureOption,
    TimeoutOption,
    TopPOption,
    TtftTimeoutOption,
    UserOption,
)
from inworld_cli.commands.recording import Recorder
from inworld_cli.commands.requests import RequestFlags
from inworld_cli.core.prompt import assemble_prompt, check_has_prompt, decode_stdin, wants_stdin
from inworld_cli.core.record import Record
from inworld_cli.core.request import build_body, user_turn
from inworld_cli.environment import Environment
from inworld_cli.errors import CliError, ErrorDetails, ExitStatus
from inworld_cli.output.console import StdoutClosed, Streams

if TYPE_CHECKING:
    from inworld_cli.output.answer import AnswerWriter, Spinner
    from inworld_cli.router.exchange import ExchangeLike, ExchangeResult
    from inworld_cli.store.settings import Settings


@dataclass(frozen=True)
class AskOptions:
    prompt: tuple[str, ...] = ()
    request: RequestFlags = field(default_factory=RequestFlags)
    stream: bool = True
    as_json: bool = False
    routing: bool = False
    quiet: bool = False
    dry_run: bool = False


def _read_prompt(args: tuple[str, ...], streams: Streams) -> str:
    stdin_text = None
    if wants_stdin(args, streams.stdin_is_terminal):
        if streams.stdin_is_terminal:
            streams.err("Reading the prompt from the terminal; end it with Ctrl-D.")
        stdin_text = decode_stdin(streams.stdin.read())
    return assemble_prompt(args, stdin_text)


def run_ask(options: AskOptions, env: Environment) -> None:
    streams = env.streams
    settings = env.settings(options.request.overrides())
    parameters = options.request.parameters(settings)
    check_has_prompt(options.prompt, streams.stdin_is_terminal)
    if settings.api_key.value and not options.dry_run:
        env.prepare_exchanges()  # a live worker, or the SDK's second of imports overlapping stdin
    prompt = _read_prompt(options.prompt, streams)
    body = build_body(parameters, [user_turn(prompt)], stream=options.stream)
    if options.dry_run:
        _dry_run(settings, body, streams)  # sends nothing, records nothing
        return
    _Ask(options, settings, env).run(body)


def _dry_run(settings: Settings, body: dict[str, Any], streams: Streams) -> None:
    from inworld_cli.output.request import format_request
    from inworld_cli.router.transport import DEFAULT_ANTHROPIC_VERSION, MESSAGES_PATH, Endpoint
    from inworld_cli.store.settings import mask_key

    key = settings.api_key.value
    version = settings.anthropic_version.value or DEFAULT_ANTHROPIC_VERSION
    endpoint = Endpoint(settings.base_url.value, key or "", settings.timeout.value, anthropic_version=version)
    shown_key = mask_key(key) if key else "<none: no API key configured>"
    streams.out(format_request(endpoint.url + MESSAGES_PATH, endpoint.messages_headers(shown_key), body))


class _Ask:
    """One request: shows the answer as it arrives, then records it, however it ended."""

    def __init__(self, options: AskOptions, settings: Settings, env: Environment) -> None:
        self.options = options
        self.settings = settings
        self.env = env
        self.streams = env.streams
        self.spinner: Spinner | None = None
        self.block_types: list[str] = []
        self.created = env.clock.time()
        self.recorder = Recorder(settings, env.streams)

    @property
    def chatty(self) -> bool:
        """Spinner, notices and summary: for a person at a terminal, unless -q."""
        return self.streams.stderr_is_terminal and not self.options.quiet

    def run(self, body: dict[str, Any]) -> None:
        from inworld_cli.output.answer import answer_writer

        try:
            exchange = self.env.exchange(self._request(body))
        except CliError as exc:  # no key: recorded like any failed ask
            self.recorder.save(
                self.recorder.record(body, None, created=self.created, error=exc.details, status=exc.status)
            )
            raise
        writer = answer_writer(self.streams, self.options.as_json)
        if self.chatty and not self.streams.dumb_terminal:
            from inworld_cli.output.answer import Spinner

            self.spinner = Spinner(self.streams.stderr, f"waiting for {body['model']}")
            self.spinner.start()
        result = self._show(exchange, writer)
        record = self.recorder.record(body, result, created=self.created)
        self.recorder.save(record)
        if result.error is not None:
            if self.options.routing and record.response is not None:
                self._timeline(record)
            raise result.error
        self._after_answer(record)

    def _request(self, body: dict[str, Any]) -> Any:
        from inworld_cli.router.exchange import ExchangeRequest

        return ExchangeRequest(self.env.endpoint(self.settings), body, self.settings.retries.value)

    def _show(self, exchange: ExchangeLike, writer: AnswerWriter) -> ExchangeResult:
        """The loop over the exchange's events; Ctrl-C and a closed stdout are recorded, then raised."""
        from inworld_cli.router.exchange import BlockStarted, Finished, RetryNotice, TextDelta

        events = exchange.events()
        try:
            for event in events:
                if isinstance(event, TextDelta):
                    self._stop_spinner()  # erased before any answer text can appear
                    writer.text(event.text)
                elif isinstance(event, BlockStarted):
                    self.block_types.append(event.block_type)
                elif isinstance(event, RetryNotice):
                    self._notice(event.text)
                elif isinstance(event, Finished):
                    self._stop_spinner()
                    if event.result.ok:
                        writer.finish(event.result.message or {})
                    else:
                        writer.abort()
                    return event.result
            raise AssertionError("an exchange always ends with Finished")  # pragma: no cover
        except (KeyboardInterrupt, StdoutClosed) as stop:
            events.close()
            self._stop_spinner()
            writer.abort()
            result = exchange.result_so_far(interrupted=isinstance(stop, KeyboardInterrupt))
            record = self.recorder.record(
                exchange.request.body,
                result,
                created=self.created,
                error=_stopped(stop),
                status=_status(stop),
            )
            self.recorder.save(record)
            raise

    def _stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()

    def _notice(self, notice: str) -> None:
        if self.options.quiet:
            return
        if self.spinner is not None:
            self.spinner.notice(notice)
        else:
            self.streams.err(notice)

    # -- after the answer ---------------------------------------------------------------------------

    def _after_answer(self, record: Record) -> None:
        if self.chatty and self.block_types:
            kinds = ", ".join(dict.fromkeys(self.block_types))
            self.streams.err(f"note: the answer also had {kinds} content, not shown (--json shows it all)")
        if self.options.routing:
            self._timeline(record)
        elif self.chatty:
            from inworld_cli.output.timeline import summary_line

            self.streams.err(summary_line(record))

    def _timeline(self, record: Record) -> None:
        from inworld_cli.output.timeline import print_timeline

        streams = self.streams
        print_timeline(
            record, streams.console(stderr=True), plain=not streams.stderr_is_terminal, content=False
        )


def _status(stop: BaseException) -> int:
    return ExitStatus.INTERRUPTED if isinstance(stop, KeyboardInterrupt) else ExitStatus.STDOUT_CLOSED


def _stopped(stop: BaseException) -> ErrorDetails:
    if isinstance(stop, KeyboardInterrupt):
        return ErrorDetails(type="interrupted", message="interrupted (Ctrl-C)")
    return ErrorDetails(type="stdout_closed", message="stdout was closed before the answer ended")


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
    ctx: typer.Context,
    prompt: PromptArgument = None,
    model: ModelOption = None,
    system: SystemOption = None,
    max_tokens: MaxTokensOption = None,
    temperature: TemperatureOption = None,
    top_p: TopPOption = None,
    stop: StopOption = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole answer instead of streaming it.")
    ] = False,
    as_json: JsonOption = False,
    routing: Annotated[
        bool,
        typer.Option("--routing", "-r", help="Print the full routing timeline on stderr, even when piped."),
    ] = False,
    quiet: QuietOption = False,
    no_log: NoLogOption = False,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    base_url: BaseUrlOption = None,
    profile: ProfileOption = None,
    fallback: FallbackOption = None,
    sort: SortOption = None,
    ignore: IgnoreOption = None,
    ttft_timeout: TtftTimeoutOption = None,
    route_meta: RouteMetaOption = None,
    user: UserOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the request that would be sent (key masked) and send nothing."),
    ] = False,
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
        request=RequestFlags.of(**ctx.params),
        stream=not no_stream,
        as_json=as_json,
        routing=routing,
        quiet=quiet,
        dry_run=dry_run,
    )
    run_ask(options, environment_of(ctx))
