"""Every way the router or the network can fail `ask`, end to end: the installed command against the local
router, streamed and not, piped and on a terminal, each both in-process and through a warm worker (the
`through` fixtures): the user sees the same either way.

For each fault: the exit status; stderr is exactly the retry notices (when retried) then `error: …` and
`hint: …`, never a traceback; stdout keeps what was printed before the failure, line ended; the server saw
the right number of requests (retries only for 408, 429, 5xx, 529 and connection failures, never once text
was printed); and history holds the error, the partial answer marked as such, and the exit status.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Home, InstantClock, cli_path, closed_port
from tests.router_server import Reply, RouterServer, error_reply, json_reply, message, sse_events, sse_reply
from tests.terminal import run_on_terminal
from tests.workers import Through, wait_until

REQUEST_ID = "req-test-123"  # every reply of the local router carries it
PARTIAL = "Partial answer"
AUTH_HINT = "check the key: inworld-router auth status; or run: inworld-router auth login"
UPSTREAM_HINT = "the router or its upstreams failed; try again or another model"
CHECK_REQUEST_HINT = "check the request: model name and parameters"
DROPPED_HINT = "the router or the network dropped the answer; try again"
NOT_ROUTER_HINT = "check --base-url ({url}): it should point at the Inworld Router"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def partial_events() -> list[tuple[str, dict[str, Any]]]:
    """A stream whose first five events (start, block start, ping, two deltas) print PARTIAL."""
    return sse_events(chunks=["Partial ", "answer", " never seen"])


def error_event_after_text() -> Reply:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return sse_reply([*partial_events()[:5], ("error", overloaded)])


# An error status is handled before the body is read, the same way whether the request streams or not:
# every status runs streamed, and one of each kind (rejected, auth, retried, HTML) with --no-stream too.
BOTH = ("stream", "no-stream")
STREAM = ("stream",)


@dataclass(frozen=True)
class Fault:
    """One failure and everything the user and the history must see of it. `{url}` in the texts stands
    for the base URL in use."""

    id: str
    reply: Callable[[], Reply] | None  # what the router answers each request (None: no router at all)
    exit: int
    error: str  # the `error:` line, without the prefix
    hint: str
    record: dict[str, Any]  # the history record's `error` (its `message` included)
    requests: int = 1
    retried_after: str | None = None  # the reason a retry notice names; notices only with requests > 1
    retry_after: float | None = None  # the wait the server asks for (else: the backoff, 0.5 s doubling)
    partial: str | None = None  # text printed before the failure (and kept in history)
    args: tuple[str, ...] = ()
    modes: tuple[str, ...] = BOTH

    def waits(self) -> list[float]:
        """The waits between tries: what the server asked, or the backoff (tests take out the jitter)."""
        return [self.retry_after or 0.5 * 2 ** (n - 1) for n in range(1, self.requests)]

    def notices(self, wait: str | None = None) -> list[str]:
        """The retry notices; `wait` stands in for each wait (a pattern, when the jitter is left in)."""
        retries = self.requests - 1
        return [
            f"retrying in {wait or format(seconds, '.1f')} s after {self.retried_after} (retry {n} of {retries})"
            for n, seconds in enumerate(self.waits(), start=1)
        ]


def rejected(
    status: int,
    kind: str,
    text: str,
    hint: str = CHECK_REQUEST_HINT,
    exit: int = 4,
    modes: tuple[str, ...] = STREAM,
) -> Fault:
    return Fault(
        id=str(status),
        reply=lambda: error_reply(status, text, kind),
        exit=exit,
        error=f"the router answered {status} {kind}: {text} (request id {REQUEST_ID})",
        hint=hint,
        record={"status": status, "type": kind, "message": text, "request_id": REQUEST_ID},
        modes=modes,
    )


def retried(
    status: int, kind: str, text: str, hint: str = UPSTREAM_HINT, modes: tuple[str, ...] = STREAM
) -> Fault:
    return Fault(
        id=str(status),
        reply=lambda: error_reply(status, text, kind),
        exit=5,
        error=f"the router answered {status} {kind}: {text} (request id {REQUEST_ID}, after 3 tries)",
        hint=hint,
        record={"status": status, "type": kind, "message": text, "request_id": REQUEST_ID},
        requests=3,
        retried_after=f"{status} {kind}",
        modes=modes,
    )


_HTML_ERROR = "the router answered 502 with an HTML error page: 502 Bad Gateway"
_NOT_JSON = "the router answered 200 with something that is not a message: “hello, I am not JSON”"
_CUT_BODY = (
    "the connection broke before the answer was complete: peer closed connection without sending "
    f"complete message body (received 20 bytes, expected {len(json.dumps(message()))})"
)
_CUT_STREAM = (
    "the connection broke mid-stream: peer closed connection without sending complete message body "
    "(incomplete chunked read)"
)

FAULTS = [
    rejected(400, "invalid_request_error", "max_tokens: 99999 > 8192", modes=BOTH),
    rejected(401, "authentication_error", "invalid x-api-key", AUTH_HINT, exit=3, modes=BOTH),
    rejected(402, "billing_error", "credit balance too low",
             "check the account's credits and billing in the Inworld Portal"),
    rejected(403, "permission_error", "this key may not use that model", AUTH_HINT, exit=3),
    rejected(404, "not_found_error", "model: no/such-model", "check the model name or base URL ({url})"),
    retried(408, "timeout_error", "upstream request timed out"),
    rejected(413, "request_too_large", "request exceeds 32 MB",
             "the request is too large: shorten the prompt or lower --max-tokens"),
    rejected(422, "invalid_request_error", "temperature: must be a number"),
    retried(429, "rate_limit_error", "slow down", "wait and retry, or raise --retries"),
    Fault(
        id="429-retry-after",
        reply=lambda: error_reply(429, "slow down", "rate_limit_error", headers={"retry-after": "1"}),
        exit=5,
        error=f"the router answered 429 rate_limit_error: slow down (request id {REQUEST_ID}, after 2 tries)",
        hint="wait and retry, or raise --retries",
        record={"status": 429, "type": "rate_limit_error", "message": "slow down", "request_id": REQUEST_ID},
        requests=2,
        retried_after="429 rate_limit_error",
        retry_after=1.0,
        args=("--retries", "1"),
        modes=STREAM,
    ),
    retried(500, "api_error", "internal error"),
    Fault(
        id="502-html",
        reply=lambda: Reply(kind="raw", status=502, body=HTML_PAGE, content_type="text/html"),
        exit=5,
        error=f"{_HTML_ERROR} (request id {REQUEST_ID}, after 3 tries)",
        hint=UPSTREAM_HINT,
        record={"status": 502, "type": None, "message": _HTML_ERROR, "request_id": REQUEST_ID},
        requests=3,
        retried_after="502",
        modes=BOTH,
    ),
    retried(503, "api_error", "no healthy upstream"),
    retried(529, "overloaded_error", "Overloaded", modes=BOTH),
    Fault(
        id="200-not-json",
        reply=lambda: Reply(kind="raw", status=200, body=b"hello, I am not JSON", content_type="text/plain"),
        exit=5,
        error=f"{_NOT_JSON} (request id {REQUEST_ID})",
        hint=NOT_ROUTER_HINT,
        record={"status": 200, "type": None, "message": _NOT_JSON, "request_id": REQUEST_ID},
    ),
    Fault(
        id="error-event-after-text",
        reply=error_event_after_text,
        exit=5,
        error=f"the router sent an error: overloaded_error: Overloaded (request id {REQUEST_ID})",
        hint=UPSTREAM_HINT,
        record={"status": 200, "type": "overloaded_error", "message": "Overloaded", "request_id": REQUEST_ID},
        partial=PARTIAL,
        modes=STREAM,
    ),
    Fault(
        id="connection-cut-mid-stream",
        reply=lambda: sse_reply(partial_events(), cut_after=5),
        exit=5,
        error=f"{_CUT_STREAM} (request id {REQUEST_ID})",
        hint=DROPPED_HINT,
        record={"status": None, "type": None, "message": _CUT_STREAM, "request_id": REQUEST_ID},
        partial=PARTIAL,
        modes=STREAM,
    ),
    Fault(
        id="stream-ends-before-message-stop",
        reply=lambda: sse_reply(partial_events()[:5]),
        exit=5,
        error=f"the stream ended before message_stop (request id {REQUEST_ID})",
        hint=DROPPED_HINT,
        record={"status": None, "type": None, "message": "the stream ended before message_stop",
                "request_id": REQUEST_ID},
        partial=PARTIAL,
        modes=STREAM,
    ),
    Fault(
        id="body-cut",
        reply=lambda: json_reply(message(), body_cut_after=20),
        exit=5,
        error=f"{_CUT_BODY} (request id {REQUEST_ID})",
        hint=DROPPED_HINT,
        record={"status": None, "type": None, "message": _CUT_BODY, "request_id": REQUEST_ID},
        modes=("no-stream",),
    ),
    Fault(
        id="stall-after-first-token",
        reply=lambda: sse_reply(partial_events(), stall_after=5),
        exit=6,
        error=f"the stream stalled: nothing arrived for 0.5 s (request id {REQUEST_ID})",
        hint="raise --timeout (now 0.5 s)",
        record={"status": None, "type": None, "message": "the stream stalled: nothing arrived for 0.5 s",
                "request_id": REQUEST_ID},
        partial=PARTIAL,
        args=("--timeout", "0.5"),
        modes=STREAM,
    ),
    Fault(
        id="slow-server",
        reply=lambda: json_reply(message("too late"), delay=3),
        exit=6,
        error="no answer from the router within 0.5 s",
        hint="raise --timeout (now 0.5 s)",
        record={"status": None, "type": None, "message": "no answer from the router within 0.5 s",
                "request_id": None},
        args=("--timeout", "0.5"),
    ),
    Fault(
        id="connection-refused",
        reply=None,
        exit=6,
        error="cannot connect to {url}: connection refused (after 3 tries)",
        hint="check the network and --base-url ({url})",
        record={"status": None, "type": None, "message": "cannot connect to {url}: connection refused",
                "request_id": None},
        requests=3,
        retried_after="connection refused",
    ),
]  # fmt: skip

CASES = [pytest.param(fault, id=fault.id) for fault in FAULTS]


def history(home: Home, count: int) -> list[dict[str, Any]]:
    result = home.run("history", "--json", "-n", str(count))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(records) == count
    return records


@dataclass
class Setup:
    """A home and router prepared for one fault: the base URL, and how to arm the router per run."""

    home: Home
    router: RouterServer
    fault: Fault
    through: Through
    url: str = ""
    refused_port: int = field(default_factory=closed_port)

    def __post_init__(self) -> None:
        self.url = (
            self.router.url if self.fault.reply is not None else f"http://127.0.0.1:{self.refused_port}"
        )

    def arm(self) -> None:
        """Queue the fault's reply for every request the run will make (plus one that must stay unused)."""
        self.router.replies.clear()
        reply = self.fault.reply
        if reply is not None:
            self.router.enqueue(*(reply() for _ in range(self.fault.requests + 1)))

    def args(self, mode: str) -> list[str]:
        return ["ask", "--base-url", self.url, *self.fault.args, *(["--no-stream"] if mode == "no-stream" else []),
                "tell me"]  # fmt: skip

    def text(self, template: str) -> str:
        return template.format(url=self.url)

    def check_record(self, record: dict[str, Any], mode: str) -> None:
        fault = self.fault
        expected_error = {key: self.text(v) if isinstance(v, str) else v for key, v in fault.record.items()}
        assert record["error"] == expected_error
        assert record["exit_status"] == fault.exit
        assert record["request"]["messages"] == [{"role": "user", "content": "tell me"}]
        assert record["request"]["stream"] is (mode == "stream")
        assert record["timings"]["total_ms"] > 0
        if fault.partial is None:
            assert (record["partial"], record["response"]) == (False, None)
        else:
            assert record["partial"] is True
            assert record["response"]["content"] == [{"type": "text", "text": fault.partial}]
            assert record["timings"]["ttft_ms"] > 0


def make_setup(home: Home, router: RouterServer, through: Through) -> Callable[[Fault], Setup]:
    def make(fault: Fault) -> Setup:
        return Setup(home, router, fault, through)

    return make


@pytest.fixture
def setup_for(routed_home: Home, router: RouterServer, through: Through) -> Callable[[Fault], Setup]:
    return make_setup(routed_home, router, through)


@pytest.fixture
def process_setup_for(
    routed_home: Home, router: RouterServer, through_process: Through
) -> Callable[[Fault], Setup]:
    return make_setup(routed_home, router, through_process)


@pytest.mark.parametrize("fault", CASES)
def test_piped(setup_for: Callable[[Fault], Setup], fault: Fault) -> None:
    setup = setup_for(fault)
    through = setup.through
    for mode in fault.modes:
        setup.arm()
        before = len(setup.router.messages_requests)
        clock = InstantClock()
        through.begin()
        result = setup.home.run(*setup.args(mode), clock=clock, env=through.env)
        assert result.returncode == fault.exit, (mode, result.stderr)
        expected = [
            *fault.notices(),
            f"error: {setup.text(fault.error)}",
            f"hint: {setup.text(fault.hint)}",
        ]
        assert result.stderr.splitlines() == expected, mode
        assert through.waits(clock) == fault.waits(), mode
        assert result.stdout == (f"{fault.partial}\n" if fault.partial else ""), mode
        assert len(setup.router.messages_requests) - before == (fault.requests if fault.reply else 0), mode
        assert through.served() == (1 if through.worker else 0), mode
    records = history(setup.home, len(fault.modes))
    for record, mode in zip(records, reversed(fault.modes), strict=True):  # newest first
        setup.check_record(record, mode)


# One fault per exit status at least, on a terminal: stdout and stderr on their own ptys, wide enough that
# no line wraps. The spinner has been erased by the time the error is printed.
BY_ID = {fault.id: fault for fault in FAULTS}
TERMINAL_CASES = [
    pytest.param(BY_ID[fault_id], mode, id=f"{fault_id}-{mode}")
    for fault_id, mode in [
        ("401", "stream"),
        ("400", "no-stream"),
        ("529", "stream"),
        ("error-event-after-text", "stream"),
        ("stall-after-first-token", "stream"),
        ("connection-refused", "no-stream"),
    ]
]


@pytest.mark.tty
@pytest.mark.parametrize(("fault", "mode"), TERMINAL_CASES)
def test_on_a_terminal(process_setup_for: Callable[[Fault], Setup], fault: Fault, mode: str) -> None:
    assert mode in fault.modes
    setup = process_setup_for(fault)
    setup.arm()
    setup.through.begin()
    run = run_on_terminal(setup.home, *setup.args(mode), own_stderr=True, columns=200, env=setup.through.env)
    assert run.status == fault.exit
    assert run.err is not None
    # A real process: the waits keep their jitter.
    shown = [re.sub(r"^retrying in \d+\.\d s", "retrying in W s", line) for line in run.err.lines]
    assert shown == [
        *fault.notices(wait="W"),
        f"error: {setup.text(fault.error)}",
        f"hint: {setup.text(fault.hint)}",
    ]
    assert run.out.lines == ([fault.partial] if fault.partial else [])
    assert b"Traceback" not in run.out.data + run.err.data
    assert len(setup.router.messages_requests) == (fault.requests if fault.reply else 0)
    setup.check_record(history(setup.home, 1)[0], mode)
    assert setup.through.served() == (1 if setup.through.worker else 0)


def test_an_absurd_retry_after_is_capped_at_30_seconds(
    routed_home: Home, router: RouterServer, through_process: Through
) -> None:
    """retry-after: 3600 would hang a script for an hour: the wait is capped (the notice shows the wait
    that is slept), and Ctrl-C during it ends the run at once, recorded (through a worker, the worker's
    wait is cut short, and it serves on)."""
    router.enqueue(*[error_reply(429, "slow down", "rate_limit_error", headers={"retry-after": "3600"})] * 2)
    through_process.begin()
    proc = subprocess.Popen(
        [cli_path(), "ask", "--retries", "1", "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**routed_home.env, **through_process.env},
    )
    assert proc.stderr is not None
    notice = proc.stderr.readline().decode()
    assert notice == "retrying in 30.0 s after 429 rate_limit_error (retry 1 of 1)\n"
    time.sleep(0.3)
    assert proc.poll() is None  # waiting, as announced
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=10)
    assert (proc.returncode, stdout, stderr) == (130, b"", b"")
    assert len(router.messages_requests) == 1
    record = history(routed_home, 1)[0]
    assert (record["exit_status"], record["error"]["type"], record["partial"]) == (130, "interrupted", False)
    if through_process.worker is not None:
        wait_until(lambda: through_process.served() == 1, "the worker to end the cancelled request")
        router.replies.clear()
        after = routed_home.run("ask", "hi", env=through_process.env)
        assert (after.returncode, after.stdout) == (0, "Hello!\n")
        assert through_process.served() == 2


@pytest.mark.parametrize("command", [["ask", "hi"], ["models", "--refresh"]])
def test_a_set_proxy_variable_is_named_when_the_router_cannot_be_reached(
    routed_home: Home, command: list[str], through: Through
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env = {"INWORLD_BASE_URL": url, "HTTPS_PROXY": "http://127.0.0.1:9", **through.env}
    result = routed_home.run(*command, env=env)
    assert (result.returncode, result.stdout) == (6, "")
    hint = result.stderr.splitlines()[-1]
    assert hint == (
        f"hint: check the network and --base-url ({url}); "
        "HTTPS_PROXY is set, but inworld-router never uses a proxy: it connects directly"
    )
    without = routed_home.run(*command, env={k: v for k, v in env.items() if k != "HTTPS_PROXY"})
    assert without.stderr.splitlines()[-1] == f"hint: check the network and --base-url ({url})"
