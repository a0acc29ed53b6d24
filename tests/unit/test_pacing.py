"""The batch's pacing: requests evenly spaced at --rate, one pause for all after a 429, jitter on resuming,
cancellation; and the hook through which an exchange uses it. On a virtual clock: nothing here waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from inworld_cli.router.exchange import Finished, RetryNotice
from inworld_cli.router.pacing import Pacer
from tests.stub_transport import StubResponse, stub_exchange


@dataclass
class VirtualClock:
    """Time that moves only when someone waits; `during_wait` runs inside the next wait (another thread's
    doing, e.g. a 429 that arrives meanwhile)."""

    now: float = 100.0
    waits: list[float] = field(default_factory=list)
    during_wait: Callable[[], None] | None = None
    oversleep: float = 0.0  # the next wait ends this much late (a busy machine)

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        if self.during_wait is not None:
            action, self.during_wait = self.during_wait, None
            action()
        if event.is_set():
            return True
        self.now += seconds + self.oversleep
        self.oversleep = 0.0
        return False


def admit_times(pacer: Pacer, clock: VirtualClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        assert pacer.admit(threading.Event()) is False
        times.append(round(clock.now - 100.0, 6))
    return times


def test_without_a_rate_or_a_pause_nobody_waits() -> None:
    clock = VirtualClock()
    assert admit_times(Pacer(clock), clock, 5) == [0, 0, 0, 0, 0]
    assert clock.waits == []


def test_a_rate_spaces_requests_evenly_so_no_second_holds_more_than_r() -> None:
    clock = VirtualClock()
    times = admit_times(Pacer(clock, rate=4), clock, 9)
    assert times == [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1) <= 4


def test_a_request_let_go_late_pushes_the_next_back_a_whole_interval() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, rate=4)
    admit_times(pacer, clock, 1)
    clock.oversleep = 0.1  # the second wakes 0.1 s after its turn
    assert admit_times(pacer, clock, 1) == [0.35]
    # Not at 0.5, as planned before: that would be 0.15 s after the second.
    start = clock.now
    assert pacer.admit(threading.Event()) is False
    assert round(clock.now - 100.0, 6) == 0.6
    assert clock.now - start == pytest.approx(0.25)


def test_a_quiet_moment_saves_up_no_burst() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, rate=4)
    admit_times(pacer, clock, 2)
    clock.now += 10  # nothing sent for ten seconds
    assert admit_times(pacer, clock, 3) == [10.25, 10.5, 10.75]


def resume_times(pacer: Pacer, clock: VirtualClock, *, retry: bool, count: int) -> list[float]:
    """When `count` workers whose next request comes during the pause are let go."""
    resumed = []
    for _ in range(count):
        start = clock.now
        assert pacer.admit(threading.Event(), retry=retry) is False
        resumed.append(round(clock.now - 100.0, 4))
        clock.now = start
    return resumed


def test_after_a_pause_retries_resume_first_then_new_requests_each_at_random() -> None:
    clock = VirtualClock()
    draws = iter([0.0, 0.5, 0.99] * 2)
    pacer = Pacer(clock, jitter=lambda: next(draws))
    pacer.hold(2.0)
    assert resume_times(pacer, clock, retry=True, count=3) == [2.0, 2.25, 2.495]  # the pause's first quarter
    assert resume_times(pacer, clock, retry=False, count=3) == [2.5, 2.75, 2.995]  # then its second


def test_a_shorter_hold_does_not_cut_a_longer_one_short() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, jitter=lambda: 0.0)
    pacer.hold(5.0)
    pacer.hold(1.0)
    assert resume_times(pacer, clock, retry=True, count=1) == [5.0]


def test_a_pause_that_begins_while_waiting_for_a_turn_is_waited_out_too() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, rate=2, jitter=lambda: 0.0)
    admit_times(pacer, clock, 1)
    clock.during_wait = lambda: pacer.hold(3.0)  # a 429 elsewhere, while this one waits for its slot
    assert admit_times(pacer, clock, 1) == [3.75]  # a new request: after the retries' quarter
    assert clock.waits == [0.5, 3.25]


def test_a_pause_despite_the_rate_slows_the_pace_by_5_percent_once_per_pause() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, rate=2, jitter=lambda: 0.0)
    pacer.hold(1.0)
    pacer.hold(1.0)  # another request of the same burst, refused too: the same pause
    assert admit_times(pacer, clock, 3) == [1.25, 1.775, 2.3]


def test_the_pace_never_falls_below_half_the_rate() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock, rate=2, jitter=lambda: 0.0)
    for _ in range(30):
        pacer.hold(1.0)
        clock.now += 1.0
    start = clock.now
    assert [round(t - start + 100.0, 6) for t in admit_times(pacer, clock, 2)] == [0.0, 1.0]


def test_cancelling_ends_the_wait_at_once() -> None:
    clock = VirtualClock()
    pacer = Pacer(clock)
    pacer.hold(30.0)
    cancelled = threading.Event()
    clock.during_wait = cancelled.set
    assert pacer.admit(cancelled) is True
    assert clock.now == 100.0


# -- the hook in the exchange ----------------------------------------------------------------------------


@dataclass
class RecordingGate:
    calls: list[str] = field(default_factory=list)

    def admit(self, cancelled: threading.Event, *, retry: bool = False) -> bool:
        self.calls.append("admit a retry" if retry else "admit")
        return False

    def hold(self, seconds: float) -> None:
        self.calls.append(f"hold {seconds}")


def error_response(status: int, error_type: str, headers: dict[str, str] | None = None) -> StubResponse:
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": "slow down"}}).encode()
    return StubResponse(
        status=status, headers={"content-type": "application/json", **(headers or {})}, body=[body]
    )


def ok_response() -> StubResponse:
    body = json.dumps({"type": "message", "content": [{"type": "text", "text": "hi"}]}).encode()
    return StubResponse(headers={"content-type": "application/json"}, body=[body])


def test_an_exchange_asks_the_gate_before_each_try_and_shares_a_429_as_one_pause() -> None:
    gate = RecordingGate()
    exchange = stub_exchange(error_response(429, "rate_limit_error", {"retry-after": "7"}), ok_response())
    exchange.gate = gate
    events = list(exchange.events())
    assert gate.calls == ["admit", "hold 7.0", "admit a retry"]
    notice = next(e for e in events if isinstance(e, RetryNotice))
    assert notice.shared
    assert notice.text == "rate limited (429 rate_limit_error): every request waits 7.0 s (retry 1 of 2)"
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.result.ok
    assert finished.result.tries == 2


def test_other_retryable_failures_wait_alone() -> None:
    gate = RecordingGate()
    exchange = stub_exchange(error_response(529, "overloaded_error"), ok_response())
    exchange.gate = gate
    events = list(exchange.events())
    assert gate.calls == ["admit", "admit a retry"]
    notice = next(e for e in events if isinstance(e, RetryNotice))
    assert not notice.shared
    assert notice.text.endswith("s after 529 overloaded_error (retry 1 of 2)")


def test_a_gate_that_reports_cancellation_ends_the_exchange_as_interrupted() -> None:
    class Cancelling(RecordingGate):
        def admit(self, cancelled: threading.Event, *, retry: bool = False) -> bool:
            return True

    exchange = stub_exchange(ok_response())
    exchange.gate = Cancelling()
    (finished,) = list(exchange.events())
    assert isinstance(finished, Finished)
    assert finished.result.interrupted
    assert exchange.transport.sent == []  # type: ignore[attr-defined]
