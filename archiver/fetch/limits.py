"""Per-host politeness for worker threads: concurrency, request spacing, and a circuit breaker.

``HostLimiter.slot(host)`` bounds how many requests run at once per host and in total, and spaces
request starts per host; ``HostBreaker`` stops trying a host after a few consecutive
connection-level failures (DNS, refused, connect timeout), so a run without network ends quickly.
Hosts are keys such as ``"example.org:443"`` (see ``host_key``): two servers on one address but
different ports are different hosts.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx

from archiver.errors import FetchError

__all__ = ["HostLimiter", "HostBreaker", "HostUnreachableError", "host_key", "is_connection_failure", "sleep_admitting"]


def host_key(url: str) -> str:
    """``"https://Example.org/x"`` -> ``"example.org:443"``: the unit limits and the breaker count by."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return f"{host}:{port}"


def sleep_admitting(sleep: Callable[[float], None], delay: float, admit: Callable[[], None] | None,
                    every: float) -> None:
    """Sleep ``delay`` seconds; with ``admit``, in steps of ``every`` with ``admit()`` after each, so a
    request given up on (its host unreachable, say) stops waiting promptly."""
    while delay > 1e-9:
        step = min(delay, every) if admit is not None else delay
        sleep(step)
        delay -= step
        if admit is not None:
            admit()


class HostLimiter:
    """Bound concurrent requests per host and in total, and space request starts per host.

    ``per_host_concurrency`` and ``global_concurrency`` of 0 mean unlimited; ``per_host_rate`` is
    request starts per second per host (0 = unlimited), enforced as a minimum interval between
    starts.  Thread-safe; waiting for one host never holds a slot another host needs: the global
    slot is taken last, after the host's own slot and its spacing wait.
    """

    ADMIT_EVERY = 0.1  # seconds between ``admit`` checks during a spacing wait

    def __init__(self, per_host_concurrency: int, per_host_rate: float, global_concurrency: int, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.per_host_concurrency = int(per_host_concurrency)
        self.interval = 1.0 / per_host_rate if per_host_rate and per_host_rate > 0 else 0.0
        self.global_concurrency = int(global_concurrency)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._host_sems: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._global = threading.BoundedSemaphore(self.global_concurrency) if self.global_concurrency > 0 else None

    @classmethod
    def from_limits(cls, limits, **kw) -> HostLimiter:
        """Built from ``config.Limits``."""
        return cls(limits.per_host_concurrency, limits.per_host_rate, limits.concurrency, **kw)

    def _host_sem(self, host: str) -> threading.BoundedSemaphore | None:
        if self.per_host_concurrency <= 0:
            return None
        with self._lock:
            sem = self._host_sems.get(host)
            if sem is None:
                sem = self._host_sems[host] = threading.BoundedSemaphore(self.per_host_concurrency)
            return sem

    def _wait_turn(self, host: str, admit: Callable[[], None] | None) -> None:
        """Reserve the host's next start time under the lock, then sleep until it outside the lock.

        With ``admit``, the wait is cut into steps of at most ``ADMIT_EVERY`` seconds with ``admit``
        called between them, so a request whose host was given up on stops waiting promptly.
        """
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self.interval
        sleep_admitting(self._sleep, start - now, admit, self.ADMIT_EVERY)

    @contextmanager
    def slot(self, host: str, admit: Callable[[], None] | None = None) -> Iterator[None]:
        """``with limiter.slot("example.org:443"):`` around one request to that host.

        ``admit`` (e.g. a circuit breaker's check) runs once the host's slot is held, before a
        start time is reserved, and during and after the spacing wait; if it raises, the request
        gives up its place at once.
        """
        sem = self._host_sem(host)
        if sem is not None:
            sem.acquire()
        try:
            if admit is not None:
                admit()
            self._wait_turn(host, admit)
            if self._global is not None:
                self._global.acquire()
            try:
                yield
            finally:
                if self._global is not None:
                    self._global.release()
        finally:
            if sem is not None:
                sem.release()


class HostUnreachableError(FetchError):
    """The breaker is open for this host: it was not tried."""


def is_connection_failure(exc: BaseException) -> bool:
    """DNS failure, connection refused or connect timeout: the host was never reached."""
    cause = exc.__cause__ if isinstance(exc, FetchError) else exc
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, socket.gaierror))


class HostBreaker:
    """After ``threshold`` consecutive connection-level failures, a host is skipped for the run.

    ``check`` raises ``HostUnreachableError`` for an open host; ``failure``/``success`` report the
    end of a request.  Only connection failures count; any response (even a 5xx) or a failure
    after connecting resets the count.  One breaker per run: it never closes again by itself.
    """

    def __init__(self, threshold: int = 3):
        self.threshold = threshold
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._reasons: dict[str, str] = {}

    def check(self, host: str, url: str | None = None) -> None:
        with self._lock:
            count = self._failures.get(host, 0)
            reason = self._reasons.get(host, "")
        if self.threshold > 0 and count >= self.threshold:
            raise HostUnreachableError(
                url or host, f"host unreachable ({host}: {count} connection failures in a row, "
                f"last: {reason}), skipped for this run")

    def failure(self, host: str, exc: BaseException | None = None) -> None:
        with self._lock:
            self._failures[host] = self._failures.get(host, 0) + 1
            if exc is not None:
                self._reasons[host] = getattr(exc, "message", None) or str(exc)

    def success(self, host: str) -> None:
        with self._lock:
            self._failures.pop(host, None)
            self._reasons.pop(host, None)

    def is_open(self, host: str) -> bool:
        with self._lock:
            return self.threshold > 0 and self._failures.get(host, 0) >= self.threshold

    def open_hosts(self) -> list[str]:
        """Hosts skipped for the rest of this run, for the run's summary."""
        with self._lock:
            return sorted(h for h, n in self._failures.items() if self.threshold > 0 and n >= self.threshold)
