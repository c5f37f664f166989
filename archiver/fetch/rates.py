"""Rates per endpoint (not per host): each upstream's published limit, and its 429s remembered.

The Wayback Machine's CDX server refuses more than about 24 requests a minute and blocks clients that
keep getting 429s; its availability API and Save Page Now sit on the same servers. One host limit
cannot say that, so every request names its endpoint (the ``source`` it is fetched as) and
``EndpointRates.wait`` spaces request starts per endpoint (``config.DEFAULT_RATES``, ``[rates]``). A 429 from an endpoint pauses it for the
Retry-After it names (60 s without one) and halves its rate for ``SLOWED_FOR``; ``export``/``load``
carry that state across runs (the store keeps it in ``endpoint_limits``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from archiver.clock import format_utc, parse_utc
from archiver.config import DEFAULT_RATES
from archiver.errors import FetchError
from archiver.fetch.limits import sleep_admitting

PAUSE_WITHOUT_RETRY_AFTER = 60.0  # seconds an endpoint rests after a 429 that names no wait
MAX_PAUSE = 7 * 86400.0  # the longest rest a 429 can ask for (a Retry-After of years is a server's bug)
SLOWED_FOR = timedelta(days=1)  # how long a 429 halves an endpoint's rate, across runs
MAX_SLOWDOWN = 64  # the most an endpoint is slowed: 64 x its interval


class EndpointPausedError(FetchError):
    """An endpoint told us to wait (a 429) longer than a run waits: the request was not sent."""


@dataclass
class _State:
    interval: float  # seconds between request starts at the full rate (0: unlimited)
    next_start: float = 0.0  # clock time the next request may start
    paused_until: float = 0.0  # clock time before which nothing is sent (a 429's Retry-After)
    slowdown: int = 1  # the interval is multiplied by this after 429s
    slowed_until: str | None = None  # UTC time the slowdown ends
    throttled_at: str | None = None  # UTC time of the last 429
    throttles: int = 0


class EndpointRates:
    """Request spacing per endpoint, with 429 pauses and slowdowns; thread-safe.

    ``rates`` are requests per minute by endpoint name (0 or absent: not limited). ``wait_max`` is the
    longest pause a request sits out; a longer one raises ``EndpointPausedError`` (its ``retry_after``
    says when), so the post goes back to the queue instead of holding a worker.
    """

    ADMIT_EVERY = 0.1

    def __init__(self, rates: dict | None = None, *, wait_max: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 utcnow: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.rates = dict(DEFAULT_RATES if rates is None else rates)
        self.wait_max = wait_max
        self._clock, self._sleep, self._utcnow = clock, sleep, utcnow
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}
        self.dirty = False  # a 429 changed what should be kept for the next run

    def _state(self, endpoint: str) -> _State:
        state = self._states.get(endpoint)
        if state is None:
            per_minute = float(self.rates.get(endpoint) or 0)
            state = self._states[endpoint] = _State(60.0 / per_minute if per_minute > 0 else 0.0)
        return state

    def wait(self, endpoint: str, admit: Callable[[], None] | None = None) -> None:
        """Block until this endpoint may be asked again, and reserve that start.

        A 429 that arrives while a request waits its turn pauses that request too: its turn is taken
        again after the pause (or it gives up, as any request would, when the pause is too long).
        """
        while True:
            with self._lock:
                state = self._state(endpoint)
                now = self._clock()
                if state.paused_until - now > self.wait_max:
                    left = state.paused_until - now
                    raise EndpointPausedError(endpoint, f"{endpoint} asked us to wait (HTTP 429): paused for "
                                                        f"another {left:.0f}s", retry_after=left)
                start = max(now, state.next_start, state.paused_until)
                if state.interval or start > now:
                    state.next_start = start + state.interval * self._slowdown(state)
                paused = state.paused_until
            sleep_admitting(self._sleep, start - now, admit, self.ADMIT_EVERY)
            with self._lock:
                if self._state(endpoint).paused_until <= paused:
                    return

    def _slowdown(self, state: _State) -> int:
        if state.slowdown > 1 and state.slowed_until and parse_utc(state.slowed_until) <= self._utcnow():
            state.slowdown, state.slowed_until = 1, None
        return state.slowdown

    def throttled(self, endpoint: str, retry_after: float | None) -> None:
        """An endpoint answered 429: pause it for its Retry-After, and halve its rate for a while."""
        with self._lock:
            state = self._state(endpoint)
            now = self._clock()
            pause = min(retry_after if retry_after is not None and retry_after > 0 else PAUSE_WITHOUT_RETRY_AFTER,
                        MAX_PAUSE)
            state.paused_until = max(state.paused_until, now + pause)
            state.next_start = max(state.next_start, state.paused_until)
            state.slowdown = min(state.slowdown * 2, MAX_SLOWDOWN)
            wall = self._utcnow()
            state.slowed_until = format_utc(wall + SLOWED_FOR)
            state.throttled_at = format_utc(wall)
            state.throttles += 1
            self.dirty = True

    def export(self) -> list[dict]:
        """What a later run must know: every endpoint paused or slowed, with UTC times."""
        with self._lock:
            now, wall = self._clock(), self._utcnow()
            rows = []
            for endpoint, state in sorted(self._states.items()):
                if state.slowdown == 1 and state.paused_until <= now:
                    continue
                paused = wall + timedelta(seconds=max(0.0, state.paused_until - now))
                rows.append({"endpoint": endpoint, "slowdown": state.slowdown, "slowed_until": state.slowed_until,
                             "paused_until": format_utc(paused), "throttled_at": state.throttled_at,
                             "throttles": state.throttles})
            self.dirty = False
            return rows

    def load(self, rows) -> None:
        """The state an earlier run exported; pauses and slowdowns already over are dropped."""
        with self._lock:
            now, wall = self._clock(), self._utcnow()
            for row in rows:
                state = self._state(row["endpoint"])
                if row.get("slowed_until") and parse_utc(row["slowed_until"]) > wall:
                    state.slowdown = max(1, min(int(row.get("slowdown") or 1), MAX_SLOWDOWN))
                    state.slowed_until = row["slowed_until"]
                if row.get("paused_until"):
                    left = (parse_utc(row["paused_until"]) - wall).total_seconds()
                    if left > 0:
                        state.paused_until = max(state.paused_until, now + left)
                        state.next_start = max(state.next_start, state.paused_until)
                state.throttled_at = row.get("throttled_at")
                state.throttles = int(row.get("throttles") or 0)

    def interval(self, endpoint: str) -> float:
        """Seconds between request starts to this endpoint now (its slowdown applied)."""
        with self._lock:
            state = self._state(endpoint)
            return state.interval * self._slowdown(state)
