"""The pace of exchanges that run together (a batch): at most R requests a second, evenly spaced, and one
wait for all of them when the router rate-limits any. No IO: time comes from the clock handed in.

The rate is a token bucket that holds one token: requests go out at least 1/R s apart, so no second ever
sees more than R of them, and a quiet moment never saves up a burst; each 429 despite it slows the pace a
little. After a 429 every exchange waits out
the same pause (the router's retry-after, capped as for `ask`). Then the retries go first, each within a
quarter of the pause after its end, at random, so that they do not all come back in the same instant; new
requests follow in the next quarter. Without that order, the workers that resume first would take the
router's whole allowance with new requests, and the refused ones could be refused again until their
retries ran out.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from inworld_cli.router.exchange import Clock

JITTER_SHARE = 0.25  # of a pause: the spread of the retries after it, then of the new requests
SLOW_DOWN = 1.05  # a rate-limited pause makes the interval this much longer (the rate about 5% lower)


class Pacer:
    """A `Gate` for the exchanges of one batch; thread-safe."""

    def __init__(
        self, clock: Clock, rate: float | None = None, jitter: Callable[[], float] = random.random
    ) -> None:
        self._clock = clock
        self._base_interval = self._interval = 1.0 / rate if rate else 0.0
        self._jitter = jitter
        self._lock = threading.Lock()
        self._next_slot = float("-inf")  # the earliest moment the next request may be planned for
        self._last_sent = float("-inf")  # when the last request was let go
        self._held_until = float("-inf")
        self._spread = 0.0  # the spread of the resumptions after the current pause

    def admit(self, cancelled: threading.Event, *, retry: bool = False) -> bool:
        """Wait for this request's turn (a retry's comes before new requests'); True when `cancelled` was
        set meanwhile."""
        while True:
            with self._lock:
                now = self._clock.monotonic()
                turn = now
                if self._held_until > now:
                    after = (0.0 if retry else 1.0) + self._jitter()
                    turn = self._held_until + after * self._spread
                if self._interval:
                    turn = max(turn, self._next_slot)
                    self._next_slot = turn + self._interval
            if turn > now and self._clock.wait(cancelled, turn - now):
                return True
            if cancelled.is_set():
                return True
            with self._lock:
                # A pause that began while this one waited for its turn, and lasts beyond it: wait again.
                # (Judged against the turn, not the clock, so that a clock whose waits return at once, as
                # in the tests, is obeyed without spinning.)
                if self._held_until > turn:
                    continue
                if not self._interval:
                    return False
                # Spaced by when requests really go out, not by plan: after one that went out late (a
                # busy machine wakes threads late), the next still waits a whole interval, so a limiter
                # that counts arrivals never sees two closer than 1/R.
                at = max(self._clock.monotonic(), turn)
                late = self._last_sent + self._interval - at
                at += max(late, 0.0)
                self._last_sent = at
                self._next_slot = max(self._next_slot, at + self._interval)
            return late > 0 and self._clock.wait(cancelled, late)

    def hold(self, seconds: float) -> None:
        """Nobody is admitted for `seconds` from now (a longer pause already running is kept). With a
        rate, a new pause also slows the pace by SLOW_DOWN for the rest of the run (never below half the
        rate): the router counted more than R in some second, so it sees the requests closer together
        than they were sent (a busy machine or network delays some more than others), and at exactly R
        it would again and again, each time costing a whole pause."""
        with self._lock:
            now = self._clock.monotonic()
            until = now + max(seconds, 0.0)
            if self._interval and now >= self._held_until:
                self._interval = min(self._interval * SLOW_DOWN, 2 * self._base_interval)
            if until > self._held_until:
                self._held_until = until
                self._spread = JITTER_SHARE * max(seconds, 0.0)
