"""Retries, Retry-After and the record of each attempt, in process and to the letter.

Written for mutation testing (``bench/mutation.py``). Every request goes to an ``httpx.MockTransport``
at a literal public address (never looked up, never dialled); waits pass on a virtual clock.
"""
from __future__ import annotations

import time
from dataclasses import replace

import httpx
import pytest

from archiver.config import Limits, Settings
from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.fetch.http import HttpPolicy
from archiver.fetch.limits import HostBreaker, HostLimiter, HostUnreachableError
from archiver.fetch.rates import EndpointPausedError, EndpointRates
from archiver.fetch.retry import (
    ERROR_MAX_CHARS,
    Requester,
    RetryableStatusError,
    _is_retryable,
    _one_line,
    _outcome_of,
    is_retryable_status,
    parse_retry_after,
)
from tests.vclock import VirtualClock

HOST = "93.184.216.34"
URL = f"http://{HOST}/a"
POLICY = HttpPolicy(allowed_hosts=("*",), connect_timeout=1, read_timeout=1, total_timeout=5)
LIMITS = Limits(retries=3, backoff_base=0.1, retry_wait_max=30.0, per_host_rate=0, per_host_concurrency=4,
                concurrency=8)
DATE = "Wed, 21 Oct 2015 07:28:00 GMT"


class Server:
    """Answers in turn (the last answer repeats); an answer is a status, (status, headers), or an exception."""

    def __init__(self, *answers, clock=None, takes=0.0):
        self.answers, self.requests, self.clock, self.takes = list(answers), [], clock, takes

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.clock is not None and self.takes:
            self.clock.t += self.takes
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return httpx.Response(status, headers=headers, content=b"body")


def make(server, limits=LIMITS, clock=None, **kw):
    clock = clock or VirtualClock()
    records = []
    client = httpx.Client(transport=httpx.MockTransport(server))
    kw.setdefault("on_attempt", records.append)
    req = Requester(client, POLICY, limits, sleep=clock.sleep, clock=clock.now, **kw)
    return req, records, clock


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize("status, retryable", [
    (429, True), (500, True), (501, False), (502, True), (503, True), (599, True), (600, False), (499, False),
    (428, False), (430, False), (404, False), (200, False)])
def test_which_statuses_are_retried(status, retryable):
    assert is_retryable_status(status) is retryable


@pytest.mark.parametrize("value, date, now, expected", [
    ("1.5", None, None, 1.5),
    ("-3", None, None, 0.0),
    ("nan", None, None, None),
    ("inf", None, None, None),
    ("Wed, 21 Oct 2015 07:28:30 GMT", DATE, None, 30.0),
    ("Wed, 21 Oct 2015 09:28:30 +0200", DATE, None, 30.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", None, 1445412500.0, 10.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", "", 1445412500.0, 10.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", "not a date", 1445412500.0, 10.0),
])
def test_retry_after_values(value, date, now, expected):
    assert parse_retry_after(value, date, now) == expected


def test_a_retry_after_date_without_a_date_header_is_measured_from_now():
    assert 86400 * 365 < parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT") < 86400 * 365 * 80


def test_a_retry_after_date_without_a_zone_is_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 -0000", DATE) == 30.0
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 -0000", None, 1445412500.0) == 10.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_an_error_is_recorded_on_one_line_and_capped():
    assert _one_line(ValueError("a\n   b\tc ")) == "a b c"
    assert _one_line(ValueError()) == "ValueError"
    exact = "x" * ERROR_MAX_CHARS
    assert _one_line(ValueError(exact)) == exact
    long = _one_line(ValueError("y" * (ERROR_MAX_CHARS + 10)))
    assert long == "y" * (ERROR_MAX_CHARS - 1) + "…" and len(long) == ERROR_MAX_CHARS


def test_outcomes_of_errors():
    assert _outcome_of(HostUnreachableError(URL, "open")) == "skipped"
    assert _outcome_of(RetryableStatusError(URL, "HTTP 503", status=503, retry_after=None, exchange=None)) == "http_error"
    assert _outcome_of(ForbiddenURLError(URL, "no")) == "forbidden"
    assert _outcome_of(TooLargeError(URL, "big", status=200)) == "too_large"
    assert _outcome_of(FetchError(URL, "loop", status=302)) == "http_error"
    assert _outcome_of(FetchError(URL, "odd")) == "network_error"
    timed = FetchError(URL, "slow", status=200)
    timed.__cause__ = TimeoutError("total timeout")
    assert _outcome_of(timed) == "timeout"


def test_what_is_worth_retrying():
    gai = FetchError(URL, "cannot resolve")
    gai.__cause__ = __import__("socket").gaierror(-2, "Name or service not known")
    assert _is_retryable(gai) is True
    assert _is_retryable(ValueError("a bug")) is False
    assert _is_retryable(FetchError(URL, "loop", status=302)) is False


# --------------------------------------------------------------------------- giving up


def test_giving_up_says_how_often_it_tried_and_when_to_come_back():
    req, records, clock = make(Server((503, {"Retry-After": "7"})))
    with pytest.raises(RetryableStatusError) as caught:
        req.get(URL, source="s")
    exc = caught.value
    assert (exc.url, exc.status, exc.retry_after) == (URL, 503, 7.0)
    assert exc.message == "HTTP 503 after 4 attempts; retry after 7s" and str(exc) == f"{URL}: {exc.message}"
    assert exc.exchange.status == 503 and exc.exchange.body == b"body"
    assert clock.sleeps == [7.0, 7.0, 7.0]
    assert [r.outcome for r in records] == ["retry", "retry", "retry", "http_error"]
    assert records[-1].error == f"{URL}: HTTP 503, Retry-After 7s"


def test_one_attempt_is_one_attempt():
    req, records, _ = make(Server((502, {"Retry-After": "3"})))
    with pytest.raises(RetryableStatusError) as caught:
        req.get(URL, source="s", retry=False)
    assert caught.value.message == "HTTP 502 after 1 attempt; retry after 3s"


def test_zero_retries_is_one_attempt():
    server = Server(503)
    req, records, clock = make(server, limits=replace(LIMITS, retries=0))
    with pytest.raises(RetryableStatusError):
        req.get(URL, source="s")
    assert len(server.requests) == 1 and clock.sleeps == []


def test_a_retry_after_of_exactly_the_longest_wait_is_waited_for():
    server = Server((503, {"Retry-After": "30"}), 200)
    req, records, clock = make(server)
    assert req.get(URL, source="s").status == 200 and clock.sleeps == [30.0]


def test_backoff_never_waits_longer_than_the_longest_wait():
    server = Server(503)
    req, records, clock = make(server, limits=replace(LIMITS, backoff_base=10.0, retry_wait_max=15.0))
    with pytest.raises(RetryableStatusError):
        req.get(URL, source="s")
    assert len(server.requests) == 4 and len(clock.sleeps) == 3 and all(s <= 15.0 for s in clock.sleeps)
    assert clock.sleeps[1:] == [15.0, 15.0]


def test_a_retry_after_date_is_measured_against_the_responses_date():
    server = Server((429, {"Retry-After": "Wed, 21 Oct 2015 07:28:20 GMT", "Date": DATE}), 200)
    req, records, clock = make(server)
    assert req.get(URL, source="s").status == 200 and clock.sleeps == [20.0]


# --------------------------------------------------------------------------- records


def test_an_attempt_record_takes_the_time_the_request_took():
    clock = VirtualClock()
    req, records, _ = make(Server(200, clock=clock, takes=2.0), clock=clock)
    req.get(URL, source="syndication")
    [r] = records
    assert (r.source, r.url, r.final_url, r.http_status, r.outcome, r.duration_ms, r.attempt, r.bytes) == (
        "syndication", URL, URL, 200, "ok", 2000, 1, 4)


def test_a_failed_attempt_keeps_its_status_and_its_error():
    def handler(request):
        return httpx.Response(200, content=b"x" * 50)

    req, records, _ = make(handler)
    with pytest.raises(TooLargeError):
        req.get(URL, source="media", max_bytes=10)
    [r] = records
    assert (r.outcome, r.http_status, r.final_url, r.error) == (
        "too_large", 200, None, f"{URL}: body of 50 bytes is over the 10-byte cap")


def test_without_a_listener_nothing_is_reported():
    req, records, _ = make(Server(200), on_attempt=None)
    assert req.get(URL, source="s").status == 200 and records == []


def test_a_post_sends_its_body_through_the_requester():
    server = Server(200)
    req, records, _ = make(server)
    req.get(URL, source="tsa", method="POST", content=b"query")
    [sent] = server.requests
    assert (sent.method, sent.content) == ("POST", b"query")


def test_a_paused_endpoint_is_skipped_with_a_full_record():
    clock = VirtualClock()
    rates = EndpointRates({}, wait_max=30, clock=clock.now, sleep=clock.sleep)
    rates.throttled("cdx", 100)
    server = Server(200)
    req, records, _ = make(server, clock=clock, rates=rates)
    with pytest.raises(EndpointPausedError) as caught:
        req.get(URL, source="cdx")
    [r] = records
    assert (r.source, r.url, r.final_url, r.http_status, r.outcome, r.duration_ms, r.attempt) == (
        "cdx", URL, None, None, "skipped", 0, 1)
    assert r.error == _one_line(caught.value) and r.error.startswith("cdx: cdx asked us to wait")
    assert r.attempted_at.endswith("Z") and server.requests == []


def test_a_429_pauses_its_own_endpoint():
    clock = VirtualClock()
    rates = EndpointRates({}, wait_max=30, clock=clock.now, sleep=clock.sleep)
    req, records, _ = make(Server((429, {"Retry-After": "20"}), 200), clock=clock, rates=rates)
    with pytest.raises(RetryableStatusError):
        req.get(URL, source="cdx", retry=False)
    [row] = rates.export()
    assert (row["endpoint"], row["slowdown"], row["throttles"]) == ("cdx", 2, 1)
    req.get(URL, source="cdx")  # waits out the pause first (in admit steps)
    assert abs(sum(clock.sleeps) - 20.0) < 1e-6


def test_a_requester_of_its_own_pauses_on_a_429_with_its_clock():
    clock = VirtualClock()
    req, records, _ = make(Server((429, {"Retry-After": "20"}), 200), clock=clock)
    with pytest.raises(RetryableStatusError):
        req.get(URL, source="cdx", retry=False)
    req.get(URL, source="cdx")
    assert abs(sum(clock.sleeps) - 20.0) < 1e-6


def test_a_requester_of_its_own_has_no_endpoint_limits():
    req, records, clock = make(Server(200))
    for _ in range(3):
        req.get(URL, source="wayback-cdx")
    assert clock.sleeps == []


def test_endpoint_spacing_is_by_source():
    clock = VirtualClock()
    rates = EndpointRates({"cdx": 60}, clock=clock.now, sleep=clock.sleep)
    req, records, _ = make(Server(200), clock=clock, rates=rates)
    req.get(URL, source="cdx")
    req.get(URL, source="other")
    req.get(URL, source="cdx")
    assert clock.sleeps and abs(sum(clock.sleeps) - 1.0) < 1e-6


def test_host_spacing_runs_on_the_requesters_clock():
    clock = VirtualClock()
    req, records, _ = make(Server(200), limits=replace(LIMITS, per_host_rate=0.5), clock=clock)
    t0 = time.monotonic()
    req.get(URL, source="s")
    req.get(URL, source="s")
    assert abs(sum(clock.sleeps) - 2.0) < 1e-6 and time.monotonic() - t0 < 1.0


# --------------------------------------------------------------------------- the breaker


def test_an_open_breaker_stops_a_rate_wait_promptly():
    clock = VirtualClock()
    rates = EndpointRates({"cdx": 6}, clock=clock.now, sleep=clock.sleep)
    breaker = HostBreaker(threshold=1)
    server = Server(200)
    req, records, _ = make(server, clock=clock, rates=rates, breaker=breaker)
    req.get(URL, source="cdx")
    breaker.failure(f"{HOST}:80", FetchError(URL, "refused"))
    with pytest.raises(HostUnreachableError) as caught:
        req.get(URL, source="cdx")
    assert sum(clock.sleeps) < 1.0 and len(server.requests) == 1 and caught.value.url == URL
    assert len(records) == 1  # the request given up on before it started leaves no record


def test_an_open_breaker_sends_nothing():
    breaker = HostBreaker(threshold=1)
    breaker.failure(f"{HOST}:80")
    server = Server(200)
    req, records, _ = make(server, breaker=breaker)
    with pytest.raises(HostUnreachableError):
        req.get(URL, source="s")
    assert server.requests == [] and [r.outcome for r in records] == ["skipped"]


def test_a_connection_failure_is_retried_until_the_breaker_opens():
    server = Server(httpx.ConnectError("refused"), 200)
    req, records, clock = make(server)
    assert req.get(URL, source="s").status == 200 and len(clock.sleeps) == 1
    server = Server(httpx.ConnectError("refused"), 200)
    req, records, clock = make(server, breaker=HostBreaker(threshold=1))
    with pytest.raises(FetchError) as caught:
        req.get(URL, source="s")
    assert not isinstance(caught.value, HostUnreachableError) and clock.sleeps == []
    assert [r.outcome for r in records] == ["network_error"] and len(server.requests) == 1


def test_given_limiter_breaker_and_rates_are_the_ones_used():
    limiter, breaker, rates = HostLimiter.from_limits(LIMITS), HostBreaker(), EndpointRates({})
    req, _, _ = make(Server(200), limiter=limiter, breaker=breaker, rates=rates)
    assert (req.limiter, req.breaker, req.rates) == (limiter, breaker, rates)


def test_a_requester_for_a_runs_settings():
    clock = VirtualClock()
    settings = Settings(rates={"cdx": 30}, limits=replace(LIMITS, retry_wait_max=12.0), http=POLICY)
    client = httpx.Client(transport=httpx.MockTransport(Server(200, clock=clock, takes=0.5)))
    req = Requester.for_settings(client, settings, sleep=clock.sleep, clock=clock.now)
    assert (req.client, req.policy, req.limits) == (client, POLICY, settings.limits)
    assert (req.rates.rates, req.rates.wait_max) == ({"cdx": 30}, 12.0)
    records = []
    req.on_attempt = records.append
    req.get(URL, source="cdx")
    req.get(URL, source="cdx")
    assert abs(sum(clock.sleeps) - 1.5) < 1e-6  # 30 a minute (2 s apart, 0.5 s of it the request), on the given clock
    assert [r.duration_ms for r in records] == [500, 500]
    client = httpx.Client(transport=httpx.MockTransport(Server((503, {"Retry-After": "3"}), 200)))
    req = Requester.for_settings(client, settings, sleep=clock.sleep, clock=clock.now)
    before = len(clock.sleeps)
    assert req.get(URL, source="other").status == 200 and clock.sleeps[before:] == [3.0]


def test_a_status_without_retry_after_is_recorded_without_one():
    req, records, _ = make(Server(503, 200))
    req.get(URL, source="s")
    assert [r.error for r in records] == [f"{URL}: HTTP 503", None]


def test_the_requester_passes_follow_redirects_on():
    server = Server((302, {"Location": "/b"}))
    req, records, _ = make(server)
    assert req.get(URL, source="s", follow_redirects=False).status == 302 and len(server.requests) == 1


def test_a_bug_below_the_requester_is_recorded_and_raised_as_it_is():
    def handler(request):
        raise ValueError("a bug")

    req, records, _ = make(handler)
    with pytest.raises(ValueError, match="a bug"):
        req.get(URL, source="s")
    assert [(r.outcome, r.http_status, r.error) for r in records] == [("network_error", None, "a bug")]


def test_a_retry_skipped_by_a_pause_is_recorded_as_that_attempt():
    clock = VirtualClock()
    rates = EndpointRates({}, wait_max=30, clock=clock.now, sleep=clock.sleep)

    def sleep(seconds):
        clock.sleep(seconds)
        rates.throttled("cdx", 100)  # another worker's 429 while this one backs off

    req, records, _ = make(Server(503, 200), clock=clock, rates=rates)
    req._sleep = sleep
    req.limiter = HostLimiter.from_limits(LIMITS, clock=clock.now, sleep=sleep)
    with pytest.raises(EndpointPausedError):
        req.get(URL, source="cdx")
    assert [(r.outcome, r.attempt) for r in records] == [("retry", 1), ("skipped", 2)]
