"""`inworld-router compare [PROMPT]... -m A -m B [-m C ...]`: one prompt to several models at once.

Every model's exchange starts at once on a thread of its own. On a terminal the answers stream in columns,
then a table compares them; through a pipe (or with --json) each model gets one JSON line in the shape of a
`batch` line, in -m order. Each answer is a history record; they share one compare id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import (
    BaseUrlOption,
    FallbackOption,
    IgnoreOption,
    MaxTokensOption,
    ModelsOption,
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
from inworld_cli.environment import Environment
from inworld_cli.errors import AuthError, CliError, ErrorDetails, ExitStatus, UsageError
from inworld_cli.output.console import json_text

if TYPE_CHECKING:
    from inworld_cli.commands.fanout import Fanout, Job
    from inworld_cli.core.record import Record
    from inworld_cli.output.compare import CompareView
    from inworld_cli.router.exchange import Event, ExchangeResult

STOP_GRACE_S = 0.5  # after Ctrl-C, how long the cancelled exchanges get to report their partial answers
MODELS_HINT = (
    'e.g. inworld-router compare -m openai/gpt-5 -m anthropic/claude-opus-4-6 "Why is the sky blue?"'
)


@dataclass(frozen=True)
class CompareOptions:
    models: tuple[str, ...] = ()
    prompt: tuple[str, ...] = ()
    request: RequestFlags = field(default_factory=RequestFlags)
    as_json: bool = False
    quiet: bool = False


def run_compare(options: CompareOptions, env: Environment) -> int:
    from inworld_cli.core.request import build_body, user_turn

    streams = env.streams
    settings = env.settings(options.request.overrides())
    parameters = options.request.parameters(settings)
    models = [model.strip() for model in options.models]
    if len(models) < 2:
        raise UsageError("compare needs at least two models: give -m once for each", hint=MODELS_HINT)
    if not all(models):
        raise UsageError("empty model name given to -m", hint=MODELS_HINT)
    check_has_prompt(options.prompt, streams.stdin_is_terminal, command="compare")
    if settings.api_key.value:
        env.transport.preload()  # overlaps the SDK's second of imports with reading stdin
    prompt = read_prompt(options.prompt, streams, command="compare")
    bodies = [
        build_body(dataclasses.replace(parameters, model=model), [user_turn(prompt)], stream=True)
        for model in models
    ]
    recorder = Recorder(settings, streams, prices=env.price_list(settings))
    return _Compare(options, models, env, recorder).run(bodies, settings.retries.value)


class _Compare:
    def __init__(
        self, options: CompareOptions, models: list[str], env: Environment, recorder: Recorder
    ) -> None:
        from inworld_cli.core.record import new_record_id

        self.options = options
        self.models = models
        self.env = env
        self.recorder = recorder
        self.compare_id = new_record_id(env.clock.time())
        streams = env.streams
        self.view: CompareView | None = None
        if streams.stdout_is_terminal and not streams.dumb_terminal and not options.as_json:
            from inworld_cli.output.compare import CompareView

            self.view = CompareView(streams.console(), models)
        self.records: dict[int, Record] = {}
        self.failures: dict[int, str] = {}
        self.refused: CliError | None = None
        self._written = 0

    def run(self, bodies: list[dict[str, object]], retries: int) -> int:
        from inworld_cli.commands.fanout import Fanout, Job
        from inworld_cli.router.exchange import ExchangeRequest, Finished, RetryNotice, TextDelta

        endpoint = self.env.endpoint(self.recorder.settings)  # no key: exit 3, nothing sent
        jobs = [Job(index, ExchangeRequest(endpoint, body, retries)) for index, body in enumerate(bodies)]
        forward: tuple[type, ...] = (Finished, RetryNotice) + ((TextDelta,) if self.view else ())
        fanout = Fanout(self.env, jobs, workers=len(jobs), forward=forward)
        interrupted = completed = False
        with self.recorder.one_connection():
            if self.view is not None:
                self.view.start()
            self.recorder.requests_start()  # a stale catalogue is fetched alongside: the costs of the table
            fanout.start()
            try:
                for job, event in fanout.events():
                    self._handle(job, event)
                completed = True
            except KeyboardInterrupt:
                interrupted = True
                fanout.stop()
                self._drain(fanout)
            finally:
                fanout.stop()
                if self.view is not None and (completed or interrupted):
                    self.view.finish()  # after Ctrl-C too: what arrived stays on the screen, as with ask
                elif self.view is not None:
                    self.view.stop()
        if interrupted:
            return ExitStatus.INTERRUPTED
        return self._status()

    def _drain(self, fanout: Fanout) -> None:
        try:
            for job, event in fanout.events(grace=STOP_GRACE_S):
                self._handle(job, event)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting

    def _handle(self, job: Job, event: Event) -> None:
        from inworld_cli.router.exchange import Finished, RetryNotice, TextDelta

        index: int = job.key
        if isinstance(event, TextDelta):
            assert self.view is not None
            self.view.text(index, event.text)
        elif isinstance(event, RetryNotice):
            if self.view is not None:
                self.view.status(index, event.text)
            elif not self.options.quiet:
                self.env.streams.err(f"{self.models[index]}: {event.text}")
        elif isinstance(event, Finished):
            self._finished(job, event.result)

    def _finished(self, job: Job, result: ExchangeResult) -> None:
        index: int = job.key
        stopped = None
        if result.interrupted:
            stopped = ErrorDetails(type="interrupted", message="interrupted (Ctrl-C)")
        record = self.recorder.record(
            job.request.body,
            result,
            created=job.started,
            error=stopped,
            status=ExitStatus.INTERRUPTED if stopped else None,
            compare_id=self.compare_id,
        )
        self.recorder.save(record)
        if result.interrupted:
            if self.view is not None:
                self.view.status(index, "interrupted")
            return
        self.records[index] = record
        error = result.error.message if result.error is not None else None
        if result.error is not None:
            self.failures[index] = result.error.message
            if isinstance(result.error, AuthError) and self.refused is None:
                self.refused = result.error
        if self.view is not None:
            self.view.done(index, record, error)
        else:
            self._write_ready()

    def _write_ready(self) -> None:
        """JSON lines in -m order: each as soon as it and every one before it have finished."""
        from inworld_cli.core.batch import result_line

        while self._written in self.records:
            index = self._written
            line = result_line(self.models[index], self.records[index], self.failures.get(index))
            self.env.streams.out(json_text(line, indent=None) + "\n")
            self._written += 1

    def _status(self) -> int:
        if not self.failures:
            return ExitStatus.OK
        if self.refused is not None:  # the key is refused: every model fails the same way
            raise self.refused
        if self.view is None and not self.options.quiet:
            failed = ", ".join(self.models[i] for i in sorted(self.failures))
            self.env.streams.err(f"{len(self.failures)} of {len(self.models)} models failed: {failed}")
        return ExitStatus.SOME_FAILED


# -- the command ---------------------------------------------------------------------------------------------


def compare(
    ctx: typer.Context,
    prompt: Annotated[
        list[str] | None,
        typer.Argument(metavar="PROMPT", hidden=True, show_default=False),  # described in the help text
    ] = None,
    models: ModelsOption = None,
    system: SystemOption = None,
    max_tokens: MaxTokensOption = None,
    temperature: TemperatureOption = None,
    top_p: TopPOption = None,
    stop: StopOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines on stdout even on a terminal, one per model.")
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
) -> int:
    """Ask several models the same prompt at once and compare the answers.

    PROMPT is read as for ask: the words joined by spaces, piped stdin first; - reads stdin only.

    A terminal shows the answers streaming side by side (stacked when narrow), then a table: requested and
    served model, attempts, time to first token, total time, tokens, tokens/s, cost; the fastest and the
    cheapest marked. Piped (or --json): one JSON line per model, in -m order, shaped like a batch line.
    Exit 0 when every model answered, 7 when some failed.

    \b
    Examples:
      inworld-router compare -m openai/gpt-5 -m anthropic/claude-opus-4-6 "Explain CRDTs in one paragraph"
      git diff | inworld-router compare -m auto -m inworld/my-router "Review this diff"
      inworld-router compare -m openai/gpt-5 -m google-ai-studio/gemini-2.5-flash "hi" | jq -r '.id + ": " + .text'
    """
    options = CompareOptions(
        models=tuple(models or ()),
        prompt=tuple(prompt or ()),
        request=RequestFlags.of(**ctx.params),
        as_json=as_json,
        quiet=quiet,
    )
    return run_compare(options, environment_of(ctx))
