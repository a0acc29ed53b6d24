"""`inworld-router ask`: one prompt, one answer, streamed.

stdout carries the answer and nothing else (see output/answer.py); stderr the spinner, retry notices and
the routing summary. Every ask is recorded in history, whether it succeeds, fails or is interrupted. The
SDK, rich and SQLite are imported only once a request is certain, never when this module loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import (
    BaseUrlOption,
    ConversationOption,
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
from inworld_cli.commands.requests import RequestFlags, read_prompt
from inworld_cli.core.prompt import check_has_prompt
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
    attach: tuple[str, ...] = ()  # paths, URLs, or - for stdin
    continue_latest: bool = False  # -c
    conversation: str | None = None  # --conversation ID
    no_stdin: bool = False
    plain: bool = False

    @property
    def stdin_taken(self) -> str | None:
        """Why stdin is not the prompt's, if it is not."""
        if self.no_stdin:
            return "--no-stdin turns off"
        return "-a - takes as the attachment" if "-" in self.attach else None


def run_ask(options: AskOptions, env: Environment) -> None:
    # Imported here: `--help` and completion load this module and must not pay for these.
    from inworld_cli.commands.attachments import check_attach_specs, read_attachments
    from inworld_cli.commands.continuing import find_conversation, kept, near_context_warning
    from inworld_cli.core.attachments import check_request_size, has_sources, summarised, user_content

    streams = env.streams
    settings = env.settings(options.request.overrides())
    parameters = options.request.parameters(settings)
    check_attach_specs(options.attach, options.no_stdin)
    check_has_prompt(options.prompt, streams.stdin_is_terminal, options.stdin_taken, len(options.attach))
    conversation = find_conversation(options.continue_latest, options.conversation, settings)
    if settings.api_key.value and not options.dry_run:
        env.prepare_exchanges()  # a live worker, or the SDK's second of imports overlapping stdin
    attachments = read_attachments(options.attach, streams)
    prompt = read_prompt(
        options.prompt, streams, stdin_taken=options.stdin_taken, may_be_empty=bool(options.attach)
    )
    turn = user_turn(user_content(attachments, prompt))
    context: list[dict[str, Any]] = []
    if conversation is not None:
        parameters = kept(parameters, conversation, options.request)
        context = conversation.messages
    body = build_body(parameters, [*context, turn], stream=options.stream)
    if context or has_sources(body["messages"]):  # a plain prompt's size is the router's to judge
        size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        check_request_size(size, attachments, continued=bool(context))
    if options.dry_run:
        _dry_run(settings, summarised(body), streams)  # sends nothing, records nothing
        return
    warning = near_context_warning(env, settings, body, conversation)
    if warning is not None and not options.quiet:
        streams.warn(warning)
    _Ask(options, settings, env, conversation.id if conversation else None).run(body)


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

    def __init__(
        self, options: AskOptions, settings: Settings, env: Environment, conversation_id: str | None
    ) -> None:
        self.options = options
        self.settings = settings
        self.env = env
        self.streams = env.streams
        self.spinner: Spinner | None = None
        self.block_types: list[str] = []
        self.created = env.clock.time()
        self.recorder = Recorder(settings, env.streams)
        self.conversation_id = conversation_id

    def _record(self, body: dict[str, Any], result: ExchangeResult | None, **how: Any) -> Record:
        """The record of this turn, in its conversation; a new conversation is named after its first turn."""
        record = self.recorder.record(
            body, result, created=self.created, conversation_id=self.conversation_id, **how
        )
        record.conversation_id = record.conversation_id or record.id
        return record

    @property
    def chatty(self) -> bool:
        """Spinner, notices and summary: for a person at a terminal, unless -q."""
        return self.streams.stderr_is_terminal and not self.options.quiet

    def run(self, body: dict[str, Any]) -> None:
        from inworld_cli.output.answer import answer_writer

        try:
            exchange = self.env.exchange(self._request(body))
        except CliError as exc:  # no key: recorded like any failed ask
            self.recorder.save(self._record(body, None, error=exc.details, status=exc.status))
            raise
        if self.settings.history.value or self.chatty:  # a record to save, or a summary that shows the cost
            self.recorder.prices = self.env.price_list(self.settings)
        writer = answer_writer(self.streams, self.options.as_json, self.options.plain)
        if self.chatty and not self.streams.dumb_terminal:
            from inworld_cli.output.answer import Spinner

            self.spinner = Spinner(self.streams.stderr, f"waiting for {body['model']}")
            self.spinner.start()
        self.recorder.requests_start()
        result = self._show(exchange, writer)
        record = self._record(body, result)
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
            record = self._record(exchange.request.body, result, error=_stopped(stop), status=_status(stop))
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

            self.streams.err(summary_line(record, width=self.streams.console(stderr=True).width))

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

# Described in the command's help text: an argument's own help would print its Python type beside it.
PromptArgument = Annotated[
    list[str] | None, typer.Argument(metavar="PROMPT", show_default=False, hidden=True)
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
    attach: Annotated[
        list[str] | None,
        typer.Option(
            "--attach",
            "-a",
            metavar="PATH|URL|-",
            help="Attach an image (PNG, JPEG, GIF, WebP), a PDF or a UTF-8 text file, before the prompt's "
            "text; a URL of an image or PDF; - for stdin (repeatable).",
            show_default=False,
        ),
    ] = None,
    continue_latest: Annotated[
        bool,
        typer.Option(
            "--continue", "-c", help="Continue the conversation used most recently, with its earlier turns."
        ),
    ] = False,
    conversation: ConversationOption = None,
    no_stdin: Annotated[
        bool,
        typer.Option("--no-stdin", help="Ignore stdin (for prompts inside a `while read` loop)."),
    ] = False,
    plain: Annotated[
        bool, typer.Option("--plain", "--raw", help="Print the answer unrendered on a terminal too.")
    ] = False,
) -> None:
    """Ask the router one question; the answer streams to stdout.

    PROMPT is the words joined by spaces. Piped stdin is read too and comes first, then a blank line,
    then the words; `-` alone reads stdin only.

    A terminal gets markdown, a spinner while waiting and a routing summary (on stderr) at the end.

    Piped, stdout gets the answer's text exactly as produced, and nothing else.

    \b
    Examples:
      inworld-router ask "What is a mixture of experts?"
      git diff | inworld-router ask -m anthropic/claude-opus-4-6 "Write a commit message for this diff"
      inworld-router ask --json "hi" | jq -r .metadata.generation_id
      inworld-router ask -r -s "Answer in one word" "Capital of France?"
      inworld-router ask --fallback openai/gpt-5 --sort latency --ttft-timeout 800ms --dry-run "hi"
      inworld-router ask -c "And in French?"
      inworld-router ask -a diagram.png -a spec.pdf "Does the diagram match the spec?"
    """
    options = AskOptions(
        prompt=tuple(prompt or ()),
        request=RequestFlags.of(**ctx.params),
        stream=not no_stream,
        as_json=as_json,
        routing=routing,
        quiet=quiet,
        dry_run=dry_run,
        attach=tuple(attach or ()),
        continue_latest=continue_latest,
        conversation=conversation,
        no_stdin=no_stdin,
        plain=plain,
    )
    run_ask(options, environment_of(ctx))
