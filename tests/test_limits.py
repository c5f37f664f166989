"""HostLimiter and HostBreaker: unit tests with a fake clock, and real concurrency at a real server."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from archiver.config import Limits
from archiver.errors import FetchError
from archiver.fetch.http import HttpPolicy, build_client
from archiver.fetch.limits import HostBreaker, HostLimiter, HostUnreachableError, host_key, is_connection_failure
from archiver.fetch.retry import Requester
from tests.upstream import Response, upstream, upstream_factory, wait_until  # noqa: F401  (fixtures)
from tests.vclock import VirtualClock

POLICY = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), connect_timeout=1.0, read_timeout=2.0)


@pytest.fixture
def client():
    with build_client(POLICY) as c:
        yield c


class Gauge:
    """How many requests a server is handling at once; a route body that holds each one until let go."""

    def __init__(self):
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.gate = threading.Semaphore(0)

    def __call__(self, rec):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        self.gate.acquire(timeout=10)  # until the test lets it go (the timeout only frees a failed test)
        with self.lock:
            self.now -= 1
        return Response(200, b"ok")

    def drain(self, total: int, inside: int) -> None:
        """Let `total` held requests go one by one, each time once `inside` are held (fewer at the end):
        every request the limits let through is in the gauge before the next one leaves."""
        for left in range(total, 0, -1):
            wait_until(lambda: self.now >= min(inside, left), timeout=5)
            self.gate.release()


def run_all(fn, items, workers=8, gauge: Gauge | None = None, inside: int = 0):
    """fn over items in worker threads; with a gauge, its held requests are let go `inside` at a time."""
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fn, item) for item in items]
        if gauge is not None:
            gauge.drain(len(futures), inside)
        return [f.result(timeout=10) for f in futures]


# --------------------------------------------------------------------------- host_key


@pytest.mark.parametrize("url, key", [
    ("https://Example.org/x", "example.org:443"),
    ("http://example.org/x", "example.org:80"),
    ("http://127.0.0.1:8001/a", "127.0.0.1:8001"),
    ("https://example.org.:8443/", "example.org:8443"),
])
def test_host_key(url, key):
    assert host_key(url) == key


# --------------------------------------------------------------------------- spacing, fake clock


class FakeTime:
    def __init__(self):
        self.t = 100.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.t += seconds


def test_rate_spaces_starts_per_host_only():
    ft = FakeTime()
    lim = HostLimiter(2, 2.0, 8, clock=ft.clock, sleep=ft.sleep)
    for _ in range(3):
        with lim.slot("a:80"):
            pass
    assert ft.sleeps == [0.5, 0.5]  # first start at once, then one every 1/rate s
    with lim.slot("b:80"):  # another host does not wait for a's schedule
        pass
    assert ft.sleeps == [0.5, 0.5]
    ft.t += 10  # after a quiet spell the host starts at once again
    with lim.slot("a:80"):
        pass
    assert ft.sleeps == [0.5, 0.5]


def test_admit_refusal_ends_a_spacing_wait_early():
    ft = FakeTime()
    lim = HostLimiter(2, 1.0, 8, clock=ft.clock, sleep=ft.sleep)
    with lim.slot("a:80"):
        pass
    calls = []

    def admit():
        calls.append(ft.t)
        if ft.t >= 100.25:  # after three steps of 0.1
            raise HostUnreachableError("http://a/", "host unreachable")

    with pytest.raises(HostUnreachableError), lim.slot("a:80", admit=admit):
        pass
    assert ft.sleeps == [0.1, 0.1, 0.1]  # checked every 0.1 s, gave up at the refusal, not after 1 s
    with lim.slot("a:80", admit=lambda: None):  # the slot was released
        pass


def test_rate_zero_is_unlimited():
    ft = FakeTime()
    lim = HostLimiter(0, 0, 0, clock=ft.clock, sleep=ft.sleep)
    for _ in range(5):
        with lim.slot("a:80"):
            pass
    assert ft.sleeps == []


# --------------------------------------------------------------------------- at a real server


def test_per_host_concurrency_is_never_exceeded(client, upstream):
    gauge = Gauge()
    url = upstream.route("/slow", gauge)
    req = Requester(client, POLICY, Limits(per_host_concurrency=2, per_host_rate=0, concurrency=8))
    results = run_all(lambda _: req.get(url, source="s").status, range(6), gauge=gauge, inside=2)
    assert results == [200] * 6
    assert gauge.peak == 2  # reached, never passed


def test_without_a_host_limit_the_gauge_sees_more(client, upstream):
    """The control for the test above: the gauge does notice concurrency when nothing bounds it."""
    gauge = Gauge()
    url = upstream.route("/slow", gauge)
    req = Requester(client, POLICY, Limits(per_host_concurrency=0, per_host_rate=0, concurrency=8))
    run_all(lambda _: req.get(url, source="s"), range(6), gauge=gauge, inside=6)  # all six held at once
    assert gauge.peak == 6


def test_global_concurrency_bounds_all_hosts_together(client, upstream, upstream_factory):
    gauge = Gauge()
    other = upstream_factory()
    urls = [upstream.route("/slow", gauge), other.route("/slow", gauge)] * 3
    req = Requester(client, POLICY, Limits(per_host_concurrency=4, per_host_rate=0, concurrency=2))
    run_all(lambda u: req.get(u, source="s"), urls, gauge=gauge, inside=2)
    assert gauge.peak == 2


def test_per_host_rate_spaces_request_starts(client, upstream):
    clock = VirtualClock()  # the limiter's waits pass on it: counted, not slept
    arrivals = []
    url = upstream.route("/a", lambda rec: (arrivals.append(clock.now()), Response(200, b"ok"))[1])
    req = Requester(client, POLICY, Limits(per_host_concurrency=8, per_host_rate=10, concurrency=8),
                    clock=clock.now, sleep=clock.sleep)
    for _ in range(5):
        req.get(url, source="s")
    assert [round(b - a, 9) for a, b in zip(arrivals, arrivals[1:])] == [0.1] * 4  # 10 a second


def test_per_host_rate_spaces_concurrent_starts(client, upstream):
    clock = VirtualClock()
    url = upstream.route("/a", "ok")
    req = Requester(client, POLICY, Limits(per_host_concurrency=8, per_host_rate=10, concurrency=8),
                    clock=clock.now, sleep=clock.sleep)
    start = clock.now()
    run_all(lambda _: req.get(url, source="s"), range(5))
    # Five threads at once: starts reserved 0, 0.1, 0.2, 0.3 and 0.4 s on, whatever their order, so the
    # last wakes 0.4 s on (0 if nothing spaced them, less if two took one slot, more if one was lost).
    assert round(clock.t - start, 9) == 0.4 and upstream.count("/a") == 5


def test_a_busy_host_does_not_hold_up_another(client, upstream, upstream_factory):
    slow = Gauge()
    busy = upstream.route("/slow", slow)
    other = upstream_factory()
    quick = other.route("/q", "ok")
    # One at a time on each host: the busy host holds its first request until this test lets it go.
    req = Requester(client, POLICY, Limits(per_host_concurrency=1, per_host_rate=2, concurrency=8))
    with ThreadPoolExecutor(8) as pool:
        queued = [pool.submit(req.get, busy, source="s") for _ in range(3)]
        upstream.wait_for_requests(1, "/slow")
        done = pool.submit(req.get, quick, source="s")
        # The quick request is answered while every busy request is still held or queued: an order,
        # not a time, so a slow machine cannot fail it.
        assert done.result(timeout=5).status == 200
        assert not any(f.done() for f in queued) and upstream.count("/slow") == 1
        slow.drain(3, 1)
        assert [f.result(timeout=5).status for f in queued] == [200] * 3
    assert slow.peak == 1


# --------------------------------------------------------------------------- breaker


def dead_url() -> str:
    """A port on 127.0.0.1 that nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/post"


def test_breaker_opens_after_three_refusals_and_the_rest_fail_fast(client):
    records = []
    req = Requester(client, POLICY, Limits(retries=3, backoff_base=0.05, per_host_rate=2),
                    on_attempt=records.append)
    url = dead_url()
    t0 = time.monotonic()
    errors = []
    for _ in range(50):
        with pytest.raises(FetchError) as info:
            req.get(url, source="s")
        errors.append(info.value)
    elapsed = time.monotonic() - t0
    assert elapsed < 10.0, elapsed  # without the breaker: 50 x 3 tries at 2/s, over a minute
    assert [r.outcome for r in records[:3]] == ["network_error"] * 3
    assert all(r.outcome == "skipped" for r in records[3:]) and len(records) == 52  # 3 tries + 49 skips
    assert isinstance(errors[-1], HostUnreachableError)
    assert "host unreachable" in str(errors[-1]) and "skipped for this run" in str(errors[-1])
    assert req.breaker.open_hosts() == [host_key(url)]


def test_breaker_with_worker_threads_finishes_fast(client, upstream):
    records = []
    req = Requester(client, POLICY, Limits(retries=3, backoff_base=0.05, concurrency=8),
                    on_attempt=records.append)
    url = dead_url()
    alive = upstream.route("/a", "ok")

    def one(_):
        try:
            req.get(url, source="s")
        except HostUnreachableError:
            return "skipped"
        except FetchError:
            return "failed"
        return "ok"

    t0 = time.monotonic()
    results = run_all(one, range(50))
    assert time.monotonic() - t0 < 10.0  # a hang guard; the counts below are the real check
    assert results.count("skipped") >= 50 - 8
    tried = [r for r in records if r.outcome == "network_error"]
    assert 3 <= len(tried) <= 3 + 8  # requests already past the check when it opened
    # Other hosts are unaffected.
    assert req.get(alive, source="s").status == 200


def test_breaker_counts_only_consecutive_connection_failures():
    refused = FetchError("http://h/", "ConnectError")
    refused.__cause__ = httpx.ConnectError("refused")
    br = HostBreaker(threshold=3)
    br.failure("h:80", refused)
    br.failure("h:80", refused)
    br.success("h:80")
    br.failure("h:80", refused)
    br.failure("h:80", refused)
    br.check("h:80")  # still closed: the success broke the run
    br.failure("h:80", refused)
    with pytest.raises(HostUnreachableError, match="h:80: 3 connection failures"):
        br.check("h:80", "http://h/x")
    br.check("other:80")


@pytest.mark.parametrize("cause, expected", [
    (httpx.ConnectError("refused"), True),
    (httpx.ConnectTimeout("slow"), True),
    (socket.gaierror(-2, "Name or service not known"), True),
    (httpx.ReadTimeout("slow"), False),
    (httpx.RemoteProtocolError("reset"), False),
    (None, False),
])
def test_is_connection_failure(cause, expected):
    exc = FetchError("http://h/", "x")
    exc.__cause__ = cause
    assert is_connection_failure(exc) is expected


def test_a_server_error_resets_the_breaker(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", times=None)
    req = Requester(client, POLICY, Limits(retries=0, per_host_rate=0))
    for _ in range(5):
        with pytest.raises(FetchError) as info:
            req.get(url, source="s")
        assert info.value.status == 503  # reached every time, never skipped
    assert req.breaker.open_hosts() == []
