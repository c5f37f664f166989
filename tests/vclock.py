"""A virtual clock for limiters and backoff: sleeping advances it at once, so minutes pass in milliseconds."""
from __future__ import annotations

import threading


class VirtualClock:
    """``now``/``sleep`` for code that takes a clock and a sleep; thread-safe.

    Each thread sleeps from the time it last read: a thread that read t and sleeps d wakes at t + d (the
    clock moves to the latest wake-up so far), so waits that threads computed from the clock end where
    they would in real time, however the threads interleave.
    """

    def __init__(self, start: float = 1000.0):
        self.t = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        self._seen = threading.local()

    def now(self) -> float:
        with self._lock:
            self._seen.t = self.t
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            woke = getattr(self._seen, "t", self.t) + seconds
            self.t = max(self.t, woke)
            self._seen.t = woke


class ScaledClock:
    """Real time run faster: ``now`` counts ``factor`` seconds per real second and ``sleep(d)`` sleeps d/factor.

    Every thread and the stand-in server share real time, so requests keep their real order and spacing;
    a minute's rate window passes in a second (at factor 60).
    """

    def __init__(self, factor: float = 60.0, start: float = 1000.0):
        import time

        self.factor, self._origin, self._start, self._time = factor, time.monotonic(), start, time

    @property
    def t(self) -> float:
        return self.now()

    def now(self) -> float:
        return self._start + (self._time.monotonic() - self._origin) * self.factor

    def sleep(self, seconds: float) -> None:
        self._time.sleep(max(0.0, seconds) / self.factor)
