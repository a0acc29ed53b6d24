"""`inworld-router batch [INPUT] [-o FILE]`: many prompts, one process.

The whole input is checked before anything is sent. Items then go out on worker threads (`-j`), paced by one
shared `Pacer` (`--rate`, and one pause for all after a 429); each finished item becomes one JSON line
(stdout, or appended to `-o FILE`, which a rerun resumes) and one history record, both written from this
thread through one database connection. A 401/403 stops everything at once; Ctrl-C too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inworld_cli.commands.context import environment_of
from inworld_cli.commands.options import (
    BaseUrlOption,
    FallbackOption,
    IgnoreOption,
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
from inworld_cli.environment import Environment
from inworld_cli.errors import AuthError, CliError, ErrorDetails, ExitStatus, UsageError
from inworld_cli.output.console import json_text
from inworld_cli.router.transport import MAX_CONNECTIONS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from inworld_cli.commands.fanout import Fanout, Job
    from inworld_cli.core.batch import Item, Tally
    from inworld_cli.core.record import Record
    from inworld_cli.core.request import Parameters
    from inworld_cli.output.batch import BatchProgress
    from inworld_cli.router.exchange import Event, ExchangeResult, RetryNotice
    from inworld_cli.router.transport import Endpoint
    from inworld_cli.store.batch_files import ResultsFile
    from inworld_cli.store.settings import Settings

DEFAULT_CONCURRENCY = 8
STOP_GRACE_S = 0.5  # after a stop, how long the exchanges being cancelled get to report (to be recorded)


@dataclass(frozen=True)
class BatchOptions:
    input: str | None = None
    output: str | None = None
    lines: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None
    ordered: bool = False
    quiet: bool = False
    request: RequestFlags = field(default_factory=RequestFlags)


def run_batch(options: BatchOptions, env: Environment) -> int:
    from inworld_cli.store.batch_files import BatchInput, ResultsFile

    streams = env.streams
    settings = env.settings(options.request.overrides())
    defaults = options.request.parameters(settings)
    if options.rate is not None and not (math.isfinite(options.rate) and options.rate > 0):
        raise UsageError(f"--rate must be more than 0, not {options.rate}", hint="e.g. --rate 20")
    if options.input is None and streams.stdin_is_terminal:
        raise UsageError(
            "no items: give a JSON Lines file, or pipe the items in",
            hint="inworld-router batch items.jsonl -o results.jsonl (see: inworld-router batch --help)",
        )
    output = _output_path(options)
    if settings.api_key.value:
        env.transport.preload()  # the SDK's second of imports overlaps checking the input
    if options.input == "-" and streams.stdin_is_terminal:
        streams.err("Reading the items from the terminal; end them with Ctrl-D.")
    source = BatchInput.open(options.input, streams.stdin, plain=options.lines)
    try:
        lines = source.check()  # exit 2 naming the line: nothing is sent
        endpoint = env.endpoint(settings)  # no key: exit 3, nothing sent
        results = ResultsFile(output) if output is not None else None
        done = results.resume(lines) if results is not None else set()
        skipped = len(lines.keys() & done)
        if skipped == len(lines):
            if not options.quiet:
                streams.err(f"nothing to send: all {skipped} items are already ok in {output}")
            return ExitStatus.OK
        run = _Batch(options, settings, env, endpoint, defaults, results)
        return run.run(source.items(skip=done), pending=len(lines) - skipped, skipped=skipped)
    finally:
        source.close()


def _output_path(options: BatchOptions) -> Path | None:
    if options.output in (None, "-"):
        return None
    output = Path(options.output).expanduser()
    if options.input not in (None, "-") and output.resolve() == Path(options.input).expanduser().resolve():
        raise UsageError(
            f"-o {options.output} is the input file", hint="write the results to a file of their own"
        )
    return output


class _Lines:
    """Where output lines go, in finishing order or (`--ordered`) in input order."""

    def __init__(self, env: Environment, results: ResultsFile | None, *, ordered: bool) -> None:
        self._streams = env.streams
        self._results = results
        self._ordered = ordered
        self._waiting: dict[int, str] = {}
        self._next = 0
        if results is None:
            from inworld_cli.output.answer import prepare_stdout

            prepare_stdout(self._streams.stdout, utf8=not self._streams.stdout_is_terminal)

    def put(self, seq: int, line: str) -> None:
        if not self._ordered:
            self._write(line)
            return
        self._waiting[seq] = line
        while self._next in self._waiting:
            self._write(self._waiting.pop(self._next))
            self._next += 1

    def skip(self, seq: int) -> None:
        """Item `seq` will have no line (it was stopped): the lines after it need not wait for it."""
        if self._ordered:
            self.put(seq, "")

    def flush_rest(self) -> None:
        """A run that stopped early: the lines still waiting for an earlier one, in order."""
        for seq in sorted(self._waiting):
            self._write(self._waiting.pop(seq))

    def _write(self, line: str) -> None:
        if not line:
            return
        if self._results is not None:
            self._results.append(line + "\n")
        else:
            self._streams.out(line + "\n")


class _Batch:
    def __init__(
        self,
        options: BatchOptions,
        settings: Settings,
        env: Environment,
        endpoint: Endpoint,
        defaults: Parameters,
        results: ResultsFile | None,
    ) -> None:
        from inworld_cli.core.record import new_record_id

        self.options = options
        self.settings = settings
        self.env = env
        self.endpoint = endpoint
        self.defaults = defaults
        self.results = results
        self.recorder = Recorder(settings, env.streams, prices=env.price_list(settings))
        self.batch_id = new_record_id(env.clock.time())
        self.refused: CliError | None = None
        self._notice_until = float("-inf")

    def _jobs(self, items: Iterator[Item]) -> Iterator[Job]:
        from inworld_cli.commands.fanout import Job
        from inworld_cli.core.batch import item_body
        from inworld_cli.router.exchange import ExchangeRequest

        retries = self.settings.retries.value
        for seq, item in enumerate(items):
            yield Job((seq, item), ExchangeRequest(self.endpoint, item_body(item, self.defaults), retries))

    def run(self, items: Iterator[Item], *, pending: int, skipped: int) -> int:
        from inworld_cli.commands.fanout import Fanout
        from inworld_cli.core.batch import Tally
        from inworld_cli.output.batch import BatchProgress, summary_text
        from inworld_cli.router.exchange import Finished, RetryNotice
        from inworld_cli.router.pacing import Pacer

        env, streams, options = self.env, self.env.streams, self.options
        tally = Tally(total=pending)
        fanout = Fanout(
            env,
            self._jobs(items),
            workers=min(options.concurrency, pending),
            forward=(Finished, RetryNotice),
            gate=Pacer(env.clock, options.rate, env.jitter),
            probe_first=True,
            stop_when=_refused,
        )
        bar = (
            streams.stderr_is_terminal
            and not streams.dumb_terminal
            and not options.quiet
            and (self.results is not None or not streams.stdout_is_terminal)
        )
        lines = _Lines(env, self.results, ordered=options.ordered)
        interrupted = False
        if self.results is not None:
            self.results.open()
        try:
            with (
                self.recorder.one_connection(),
                BatchProgress(streams, tally, bar=bar, clock=env.clock) as shown,
            ):
                self.recorder.requests_start()  # a stale catalogue is fetched alongside: the costs
                fanout.start()
                try:
                    for job, event in fanout.events():
                        self._handle(job, event, tally, lines, shown)
                        if fanout.stopping:
                            break
                except KeyboardInterrupt:
                    interrupted = True
                finally:
                    fanout.stop()
                    self._drain(fanout, tally, lines, shown, interrupted)
                elapsed = shown.elapsed
        finally:
            if self.results is not None:
                self.results.close()
        if self.refused is not None:
            not_done = pending - tally.done
            raise self.refused.with_message(
                f"{self.refused.message}; the batch stopped, {not_done} of {pending} items not done"
            )
        if interrupted:
            rerun = "; rerun the same command to finish" if self.results is not None else ""
            streams.err(f"interrupted: {tally.done} of {pending} items done{rerun}")
            return ExitStatus.INTERRUPTED
        if not options.quiet and (tally.failed or streams.stderr_is_terminal):
            streams.err(summary_text(tally, elapsed, skipped=skipped))
        return ExitStatus.SOME_FAILED if tally.failed else ExitStatus.OK

    def _drain(
        self, fanout: Fanout, tally: Tally, lines: _Lines, shown: BatchProgress, interrupted: bool
    ) -> None:
        """After a stop: what the cancelled exchanges report within a moment is recorded (an answer that
        was complete is written too); then the lines that waited for an earlier one."""
        try:
            for job, event in fanout.events(grace=STOP_GRACE_S):
                self._handle(job, event, tally, lines, shown, interrupted=interrupted)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting
        lines.flush_rest()

    def _handle(
        self,
        job: Job,
        event: Event,
        tally: Tally,
        lines: _Lines,
        shown: BatchProgress,
        *,
        interrupted: bool = False,
    ) -> None:
        from inworld_cli.router.exchange import Finished

        if not isinstance(event, Finished):
            self._notice(job, event, shown)  # type: ignore[arg-type]
            return
        result = event.result
        seq, item = job.key
        if result.interrupted:  # stopped before it finished: recorded, not written, sent again next time
            self.recorder.save(self._stopped_record(job, result, interrupted))
            lines.skip(seq)
            return
        from inworld_cli.core.batch import result_line

        record = self.recorder.record(job.request.body, result, created=job.started, batch_id=self.batch_id)
        self.recorder.save(record)
        tally.add(record, result.tries)
        message = result.error.message if result.error is not None else None
        lines.put(seq, json_text(result_line(item.id, record, message), indent=None))
        shown.update()
        if isinstance(result.error, AuthError) and self.refused is None:
            self.refused = result.error

    def _stopped_record(self, job: Job, result: ExchangeResult, interrupted: bool) -> Record:
        if interrupted:
            details = ErrorDetails(type="interrupted", message="interrupted (Ctrl-C)")
            status: int = ExitStatus.INTERRUPTED
        else:
            details = ErrorDetails(type="stopped", message="stopped: the router refused the key")
            status = ExitStatus.AUTH
        return self.recorder.record(
            job.request.body,
            result,
            created=job.started,
            error=details,
            status=status,
            batch_id=self.batch_id,
        )

    def _notice(self, job: Job, notice: RetryNotice, shown: BatchProgress) -> None:
        if self.options.quiet:
            return
        if not notice.shared:
            shown.note(f"{job.key[1].id}: {notice.text}")
            return
        now = self.env.clock.monotonic()
        if now >= self._notice_until:  # one line per pause, not one per request it caught
            self._notice_until = now + notice.delay
            shown.note(notice.text)


def _refused(event: Event) -> bool:
    from inworld_cli.router.exchange import Finished

    return isinstance(event, Finished) and isinstance(event.result.error, AuthError)


# -- the command ---------------------------------------------------------------------------------------------


def batch(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(metavar="INPUT", hidden=True, show_default=False),  # described in the help text
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Append the results to FILE instead of stdout; run again with the same FILE to send only "
            "what is not ok in it yet.",
            show_default=False,
        ),
    ] = None,
    lines: Annotated[
        bool,
        typer.Option("--lines", help="Each non-empty line of INPUT is one prompt (plain text, not JSON)."),
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-j",
            metavar="N",
            min=1,
            max=MAX_CONNECTIONS,
            help="Requests in flight at once.",
        ),
    ] = DEFAULT_CONCURRENCY,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", metavar="R", help="At most R requests per second, evenly spaced.", show_default=False
        ),
    ] = None,
    ordered: Annotated[
        bool, typer.Option("--ordered", help="Write the results in input order (else as they finish).")
    ] = False,
    model: ModelOption = None,
    system: SystemOption = None,
    max_tokens: MaxTokensOption = None,
    temperature: TemperatureOption = None,
    top_p: TopPOption = None,
    stop: StopOption = None,
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
    """Send many prompts from one process; one JSON line per item, as each finishes.

    INPUT is a JSON Lines file of items; - or nothing reads stdin. Each line is {"id", "prompt", "system", "model", "max_tokens", "temperature"} (only prompt
    required; id defaults to the line number), or Anthropic's batch form {"custom_id", "params"}; with
    --lines, plain text. Flags are defaults for what an item does not set. The whole input is checked
    before anything is sent.

    Output lines: {"id", "status", "text", "model", "attempts", "generation_id", "usage", "cost_usd",
    "ttft_ms", "total_ms", "error"}. Exit 0 when every item is ok, 7 when some failed.

    \b
    Examples:
      inworld-router batch questions.jsonl -o answers.jsonl
      inworld-router batch --lines -m openai/gpt-5 -j 16 --rate 20 < prompts.txt > answers.jsonl
      jq -c '{id: .sku, prompt: ("Describe " + .name)}' products.json | inworld-router batch -o out.jsonl
    """
    options = BatchOptions(
        input=source,
        output=output,
        lines=lines,
        concurrency=concurrency,
        rate=rate,
        ordered=ordered,
        quiet=quiet,
        request=RequestFlags.of(**ctx.params),
    )
    return run_batch(options, environment_of(ctx))
