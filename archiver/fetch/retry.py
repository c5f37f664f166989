"""Every request of a fetch run: limits, circuit breaker, retries with backoff, one record per attempt.

``Requester.get`` wraps ``archiver.http.fetch``.  It retries connection errors, timeouts, HTTP 429
and 5xx (not 501) with exponential backoff and jitter, honouring ``Retry-After``; it never retries
other 4xx (those are returned: the caller classifies 404/403/410), policy refusals, oversized
bodies, redirect loops or hosts the breaker has given up on.  A wait longer than
``Limits.retry_wait_max`` is not slept: ``FetchError.retry_after`` tells the caller when to come
back.  Each attempt, successful or not, is reported to ``on_attempt`` as an ``AttemptRecord``.
"""
from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import httpx
import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from archiver.config import Limits
from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.clock import utcnow_ms
from archiver.fetch.http import Exchange, HttpPolicy, fetch
from archiver.fetch.limits import HostBreaker, HostLimiter, HostUnreachableError, host_key, is_connection_failure
from archiver.fetch.rates import EndpointPausedError, EndpointRates

__all__ = ["AttemptRecord", "Requester", "RetryableStatusError", "parse_retry_after", "OUTCOMES",
           "RECORDED_HEADERS"]

OUTCOMES = ("ok", "http_error", "retry", "network_error", "timeout", "forbidden", "too_large", "skipped")
RECORDED_HEADERS = ("content-type", "content-length", "retry-after", "date", "server", "location", "etag",
                    "last-modified")
RECORDED_PREFIXES = ("x-rate-limit-", "x-ratelimit-")
ERROR_MAX_CHARS = 500


@dataclass(frozen=True)
class AttemptRecord:
    """One request as the ``fetch_attempts`` table keeps it."""

    source: str
    url: str
    final_url: str | None
    http_status: int | None
    outcome: str  # one of OUTCOMES
    headers: dict = field(default_factory=dict)
    bytes: int | None = None
    duration_ms: int | None = None
    ip: str | None = None
    error: str | None = None
    attempted_at: str = ""
    attempt: int = 1
    warc: object = None  # archiver.fetch.warc.WarcLocation of the exchange this attempt returned, once written


class RetryableStatusError(FetchError):
    """A 429 or 5xx answer; ``.exchange`` holds the response, ``.retry_after`` the server's wish."""

    def __init__(self, url: str, message: str, *, status: int, retry_after: float | None, exchange: Exchange):
        super().__init__(url, message, status=status, retry_after=retry_after)
        self.exchange = exchange


def is_retryable_status(status: int) -> bool:
    return status == 429 or (500 <= status <= 599 and status != 501)


def parse_retry_after(value: str | None, date: str | None = None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date; None if unusable.

    An HTTP-date is measured against the response's own ``Date`` header when there is one (so the
    two clocks are the server's), else against ``now`` (``time.time()``).  Past dates give 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        seconds = float(value)  # not RFC 9110, but some servers send "1.5"
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds and seconds != float("inf") else None
    when = _http_date(value)
    if when is None:
        return None
    base = _http_date(date) if date else None
    reference = base.timestamp() if base is not None else (time.time() if now is None else now)
    return max(when.timestamp() - reference, 0.0)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= ERROR_MAX_CHARS else text[: ERROR_MAX_CHARS - 1] + "…"


def _recorded_headers(headers: dict) -> dict:
    return {k: v for k, v in headers.items() if k in RECORDED_HEADERS or k.startswith(RECORDED_PREFIXES)}


def _outcome_of(exc: BaseException) -> str:
    if isinstance(exc, HostUnreachableError):
        return "skipped"
    if isinstance(exc, ForbiddenURLError):
        return "forbidden"
    if isinstance(exc, TooLargeError):
        return "too_large"
    if isinstance(exc, RetryableStatusError):
        return "http_error"
    cause = exc.__cause__
    if isinstance(cause, (httpx.TimeoutException, TimeoutError)):
        return "timeout"
    if isinstance(exc, FetchError) and exc.status is not None and cause is None:
        return "http_error"  # e.g. a redirect loop: the server answered, wrongly
    return "network_error"


def _is_retryable(exc: BaseException) -> bool:
    """Transient: 429/5xx, timeouts, transport errors, DNS failures. Never policy, size, loops, skips."""
    if isinstance(exc, (HostUnreachableError, ForbiddenURLError, TooLargeError)):
        return False
    if isinstance(exc, RetryableStatusError):
        return True
    if not isinstance(exc, FetchError):
        return False
    return isinstance(exc.__cause__, (httpx.TransportError, TimeoutError)) or is_connection_failure(exc)


class _wait_retry_after(wait_base):
    """The server's ``Retry-After`` when it gave one, else the fallback backoff."""

    def __init__(self, fallback: wait_base):
        self.fallback = fallback

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.fallback(retry_state)


class _stop_if_wait_over(stop_base):
    """Stop when the next wait (already computed: tenacity runs wait before stop) is too long."""

    def __init__(self, longest: float):
        self.longest = longest

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self.longest


class _Call:
    """The state of one ``get``: attempts so far and the record not yet reported."""

    def __init__(self, on_attempt):
        self.on_attempt = on_attempt
        self.attempt = 0
        self.pending: AttemptRecord | None = None

    def flush(self, retrying: bool) -> None:
        record, self.pending = self.pending, None
        if record is None or self.on_attempt is None:
            return
        if retrying and record.outcome == "http_error":
            record = replace(record, outcome="retry")
        self.on_attempt(record)


class Requester:
    """The object a fetch run sends every request through; safe to share between worker threads."""

    def __init__(self, client: httpx.Client, policy: HttpPolicy, limits: Limits, *,
                 on_attempt: Callable[[AttemptRecord], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 limiter: HostLimiter | None = None, breaker: HostBreaker | None = None,
                 rates: EndpointRates | None = None):
        self.client = client
        self.policy = policy
        self.limits = limits
        self.on_attempt = on_attempt
        self._sleep = sleep
        self._clock = clock
        self.limiter = limiter if limiter is not None else HostLimiter.from_limits(limits, clock=clock, sleep=sleep)
        self.breaker = breaker if breaker is not None else HostBreaker()
        # Per endpoint (the request's source): none unless given; a fetch run gives the configured ones.
        self.rates = rates if rates is not None else EndpointRates({}, clock=clock, sleep=sleep)

    @classmethod
    def for_settings(cls, client: httpx.Client, settings, *, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> Requester:
        """The requester of a fetch run: the settings' policy, limits and per-endpoint rates."""
        rates = EndpointRates(settings.rates, wait_max=settings.limits.retry_wait_max, clock=clock, sleep=sleep)
        return cls(client, settings.http, settings.limits, sleep=sleep, clock=clock, rates=rates)

    def get(self, url: str, *, source: str, max_bytes: int | None = None, headers: dict | None = None,
            follow_redirects: bool = True, retry: bool = True, extra_hosts=(),
            on_attempt: Callable[[AttemptRecord], None] | None = None, method: str = "GET",
            content: bytes | None = None) -> Exchange:
        """GET ``url`` with retries; returns the Exchange for 2xx/3xx/4xx, raises FetchError otherwise.

        Raises ``FetchError`` (``.status`` and ``.retry_after`` set) when a 429/5xx outlasts the
        retries or asks for a wait over ``limits.retry_wait_max``; ``ForbiddenURLError``,
        ``TooLargeError``, ``HostUnreachableError`` (breaker open) or a plain ``FetchError``
        (network, timeout, redirect loop) otherwise.  ``extra_hosts`` adds allowlist patterns for
        this request only; ``on_attempt`` receives this request's attempts (instead of the
        requester's own ``on_attempt``), so each post's fetch can keep its own record.
        """
        policy = self.policy
        if extra_hosts:
            extra = tuple(h.lower() for h in extra_hosts if h and h.lower() not in policy.allowed_hosts)
            policy = replace(policy, allowed_hosts=policy.allowed_hosts + extra)
        call = _Call(on_attempt or self.on_attempt)
        base = self.limits.backoff_base
        wait_max = self.limits.retry_wait_max
        retries = max(int(self.limits.retries), 0) if retry else 0
        retrying = tenacity.Retrying(
            sleep=self._sleep,
            stop=tenacity.stop_after_attempt(retries + 1) | _stop_if_wait_over(wait_max),
            wait=_wait_retry_after(tenacity.wait_exponential_jitter(multiplier=base, max=wait_max, jitter=base)),
            retry=tenacity.retry_if_exception(self._is_retryable),
            before_sleep=lambda state: call.flush(retrying=True),
            retry_error_callback=_give_up,
        )
        try:
            return retrying(self._attempt, call, url, source, policy, max_bytes, headers, follow_redirects,
                            method, content)
        finally:
            call.flush(retrying=False)

    def _attempt(self, call: _Call, url: str, source: str, policy: HttpPolicy, max_bytes, headers,
                 follow_redirects: bool, method: str = "GET", content: bytes | None = None) -> Exchange:
        call.attempt += 1
        try:
            self.rates.wait(source, admit=lambda: self.breaker.check(host_key(url), url))
        except EndpointPausedError as exc:
            call.pending = AttemptRecord(source=source, url=url, attempted_at=utcnow_ms(), attempt=call.attempt,
                                         duration_ms=0, final_url=None, http_status=None, outcome="skipped",
                                         error=_one_line(exc))
            raise
        attempted_at = utcnow_ms()
        t0 = self._clock()

        def record(**kw) -> AttemptRecord:
            return AttemptRecord(source=source, url=url, attempted_at=attempted_at, attempt=call.attempt,
                                 duration_ms=int(round((self._clock() - t0) * 1000)), **kw)

        try:
            ex = fetch(self.client, url, policy, max_bytes=max_bytes, follow_redirects=follow_redirects,
                       headers=headers, guard=self._guard, method=method, content=content)
        except Exception as exc:
            call.pending = record(final_url=None, http_status=getattr(exc, "status", None),
                                  outcome=_outcome_of(exc), error=_one_line(exc))
            raise
        fields_ = dict(final_url=ex.final_url, http_status=ex.status, headers=_recorded_headers(ex.headers),
                       bytes=len(ex.body), ip=ex.ip)
        if is_retryable_status(ex.status):
            retry_after = parse_retry_after(ex.headers.get("retry-after"), ex.headers.get("date"))
            if ex.status == 429:
                self.rates.throttled(source, retry_after)  # this endpoint: paused, then slower, across runs
            wish = f", Retry-After {retry_after:g}s" if retry_after is not None else ""
            err = RetryableStatusError(url, f"HTTP {ex.status}{wish}", status=ex.status,
                                       retry_after=retry_after, exchange=ex)
            call.pending = record(outcome="http_error", error=_one_line(err), **fields_)
            raise err
        call.pending = record(outcome="ok" if ex.status < 400 else "http_error", **fields_)
        return ex

    def _is_retryable(self, exc: BaseException) -> bool:
        # No point waiting to retry a host the breaker has just given up on.
        if is_connection_failure(exc) and self.breaker.is_open(host_key(getattr(exc, "url", ""))):
            return False
        return _is_retryable(exc)

    @contextmanager
    def _guard(self, hop_url: str) -> Iterator[None]:
        """Around every hop: breaker check, host/global slot, then report the hop to the breaker."""
        key = host_key(hop_url)
        self.breaker.check(key, hop_url)
        # Checked again inside the slot: the breaker may open while this request waits its turn.
        with self.limiter.slot(key, admit=lambda: self.breaker.check(key, hop_url)):
            try:
                yield
            except FetchError as exc:
                if is_connection_failure(exc):
                    self.breaker.failure(key, exc)
                elif not isinstance(exc, ForbiddenURLError):
                    self.breaker.success(key)  # we reached it; it misbehaved in another way
                raise
            else:
                self.breaker.success(key)


def _give_up(retry_state: tenacity.RetryCallState):
    """Out of retries, or the next wait is too long: raise the last error, with when to come back."""
    exc = retry_state.outcome.exception()
    if isinstance(exc, RetryableStatusError):
        if exc.retry_after is None:
            exc.retry_after = retry_state.upcoming_sleep
        attempts = retry_state.attempt_number
        exc.message = (f"HTTP {exc.status} after {attempts} attempt{'s' if attempts != 1 else ''}; "
                       f"retry after {exc.retry_after:g}s")
        exc.args = (f"{exc.url}: {exc.message}",)
    raise exc
