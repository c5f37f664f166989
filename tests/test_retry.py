"""Requester: retries, Retry-After, what is never retried, one record per attempt; against a real server."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from archiver.config import Limits
from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.fetch.http import HttpPolicy, build_client
from archiver.fetch.retry import AttemptRecord, Requester, parse_retry_after
from tests.upstream import upstream, upstream_factory  # noqa: F401  (fixtures)
from tests.vclock import VirtualClock

POLICY = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), connect_timeout=1.0, read_timeout=1.0,
                    total_timeout=5.0)
# Unlimited spacing so the recorded sleeps are the retry waits only.
LIMITS = Limits(retries=3, backoff_base=0.1, retry_wait_max=30.0, per_host_rate=0, per_host_concurrency=4,
                concurrency=8)


@pytest.fixture
def client():
    with build_client(POLICY) as c:
        yield c


def requester(client, limits=LIMITS, policy=POLICY, **kw):
    records: list[AttemptRecord] = []
    sleeps: list[float] = []
    if "sleep" not in kw:  # backoff waits pass on a virtual clock: recorded, not slept
        clock = VirtualClock()
        kw.update(sleep=clock.sleep, clock=clock.now)
        sleeps = clock.sleeps
    return Requester(client, policy, limits, on_attempt=records.append, **kw), records, sleeps


def outcomes(records):
    return [r.outcome for r in records]


# --------------------------------------------------------------------------- success and records


def test_ok_is_one_attempt_with_a_full_record(client, upstream):
    url = upstream.route("/a", "hello", headers={"ETag": '"v1"', "X-Rate-Limit-Remaining": "9",
                                                 "X-Secret": "not kept"})
    req, records, sleeps = requester(client)
    ex = req.get(url, source="syndication")
    assert (ex.status, ex.body) == (200, b"hello")
    assert sleeps == [] and upstream.count("/a") == 1
    [r] = records
    assert (r.source, r.url, r.final_url, r.http_status, r.outcome, r.attempt) == (
        "syndication", url, url, 200, "ok", 1)
    assert r.bytes == 5 and r.ip == "127.0.0.1" and r.error is None
    assert r.headers["etag"] == '"v1"' and r.headers["x-rate-limit-remaining"] == "9"
    assert r.headers["content-type"].startswith("text/plain") and "date" in r.headers
    assert "x-secret" not in r.headers
    assert isinstance(r.duration_ms, int) and r.duration_ms >= 0
    assert r.attempted_at.endswith("Z") and datetime.fromisoformat(r.attempted_at.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- Retry-After


def test_429_retry_after_seconds_is_honoured(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "429", retry_after=2)
    req, records, sleeps = requester(client)
    assert req.get(url, source="s").body == b"ok"
    assert sleeps == [2.0]
    assert upstream.count("/a") == 2
    assert outcomes(records) == ["retry", "ok"]
    assert [r.attempt for r in records] == [1, 2]
    assert records[0].http_status == 429 and records[0].headers["retry-after"] == "2"


def test_429_retry_after_http_date_is_honoured(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "429", retry_after=datetime.now(timezone.utc) + timedelta(seconds=5))
    req, records, sleeps = requester(client)
    assert req.get(url, source="s").body == b"ok"
    [wait] = sleeps
    assert 3.5 <= wait <= 6.0  # both dates have one-second resolution
    assert outcomes(records) == ["retry", "ok"]


def test_retry_after_is_really_waited_for(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "429", retry_after=1)
    req, records, _ = requester(client, sleep=time.sleep)
    t0 = time.monotonic()
    assert req.get(url, source="s").body == b"ok"
    elapsed = time.monotonic() - t0
    assert 1.0 <= elapsed < 5.0  # waited the second asked for, and not a backoff's worth more
    first, second = upstream.requests_for("/a")
    assert second.monotonic - first.monotonic >= 0.95


@pytest.mark.parametrize("retry_after", [120, "date"])
def test_retry_after_beyond_max_is_not_slept_but_returned(client, upstream, retry_after):
    if retry_after == "date":
        retry_after = datetime.now(timezone.utc) + timedelta(seconds=120)
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "429", retry_after=retry_after)
    req, records, sleeps = requester(client, sleep=time.sleep)  # a real sleep would show in the clock
    t0 = time.monotonic()
    with pytest.raises(FetchError) as info:
        req.get(url, source="s")
    assert time.monotonic() - t0 < 10  # not the 120 s asked for
    assert info.value.status == 429
    assert 118 <= info.value.retry_after <= 121
    assert upstream.count("/a") == 1
    assert outcomes(records) == ["http_error"]


# --------------------------------------------------------------------------- 5xx, resets, timeouts


def test_5xx_then_success_backs_off_exponentially(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", times=2, status=502)
    req, records, sleeps = requester(client)
    assert req.get(url, source="s").body == b"ok"
    assert upstream.count("/a") == 3
    assert outcomes(records) == ["retry", "retry", "ok"]
    assert [r.http_status for r in records] == [502, 502, 200]
    first, second = sleeps
    assert 0.1 <= first <= 0.2 and 0.2 <= second <= 0.3  # base * 2**n + jitter in [0, base]


def test_5xx_to_the_end_raises_with_status_and_retry_after(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", times=None, status=503)
    req, records, sleeps = requester(client, limits=Limits(retries=2, backoff_base=0.1, per_host_rate=0))
    with pytest.raises(FetchError) as info:
        req.get(url, source="s")
    assert info.value.status == 503
    assert info.value.retry_after is not None and info.value.retry_after > 0
    assert "after 3 attempts" in str(info.value)
    assert upstream.count("/a") == 3 and len(sleeps) == 2
    assert outcomes(records) == ["retry", "retry", "http_error"]


def test_retry_false_is_a_single_attempt(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", times=None)
    req, records, sleeps = requester(client)
    with pytest.raises(FetchError) as info:
        req.get(url, source="s", retry=False)
    assert info.value.status == 503 and upstream.count("/a") == 1 and sleeps == []
    assert outcomes(records) == ["http_error"]


def test_reset_then_success(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "reset")
    req, records, sleeps = requester(client)
    assert req.get(url, source="s").body == b"ok"
    assert upstream.count("/a") == 2 and len(sleeps) == 1
    assert outcomes(records) == ["network_error", "ok"]
    assert records[0].http_status is None and records[0].error


def test_read_timeout_is_retried_then_gives_up(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "timeout", times=None, seconds=5)
    policy = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), read_timeout=0.2)
    req, records, sleeps = requester(client, policy=policy, limits=Limits(retries=2, backoff_base=0.1,
                                                                          per_host_rate=0))
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        req.get(url, source="s")
    assert time.monotonic() - t0 < 4.5  # never the server's 5 s hold
    assert upstream.count("/a") == 3 and len(sleeps) == 2
    assert outcomes(records) == ["timeout"] * 3


def test_read_timeout_once_then_success(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "timeout", seconds=5)
    policy = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), read_timeout=0.2)
    req, records, _ = requester(client, policy=policy)
    assert req.get(url, source="s").body == b"ok"
    assert outcomes(records) == ["timeout", "ok"]


def test_total_timeout_bounds_a_slow_server(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "latency", ms=3000)
    policy = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), read_timeout=10, total_timeout=0.3)
    req, records, _ = requester(client, policy=policy)
    t0 = time.monotonic()
    with pytest.raises(FetchError):
        req.get(url, source="s", retry=False)
    assert time.monotonic() - t0 < 2.0  # the 0.3 s total, not the server's 3 s
    assert outcomes(records) == ["timeout"]


# --------------------------------------------------------------------------- never retried


@pytest.mark.parametrize("status", [404, 403, 410, 400])
def test_client_errors_are_returned_not_retried(client, upstream, status):
    url = upstream.route("/a", "gone", status=status)
    req, records, sleeps = requester(client)
    ex = req.get(url, source="s")
    assert ex.status == status and ex.body == b"gone"
    assert upstream.count("/a") == 1 and sleeps == []
    assert outcomes(records) == ["http_error"] and records[0].http_status == status


def test_redirect_to_metadata_address_is_refused(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "redirect", location="http://169.254.169.254/latest/meta-data/")
    req, records, sleeps = requester(client)
    with pytest.raises(ForbiddenURLError, match="169.254.169.254"):
        req.get(url, source="s")
    assert upstream.count("/a") == 1 and sleeps == []
    assert outcomes(records) == ["forbidden"]


def test_redirect_off_the_allowlist_never_reaches_the_other_host(client, upstream, upstream_factory):
    other = upstream_factory()
    other.route("/b", "other")
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "redirect", times=None, location=f"http://localhost:{other.port}/b")
    req, records, _ = requester(client)
    with pytest.raises(ForbiddenURLError, match="not on the allowlist"):
        req.get(url, source="s")
    assert other.count() == 0 and upstream.count("/a") == 1
    # ... unless the caller allows that host for this one request.
    ex = req.get(url, source="s", extra_hosts=("localhost",))
    assert ex.body == b"other" and other.count("/b") == 1
    assert ex.final_url == f"http://localhost:{other.port}/b"
    assert records[-1].final_url == ex.final_url and records[-1].outcome == "ok"
    with pytest.raises(ForbiddenURLError):  # the extra host does not stick
        req.get(url, source="s")


def test_forbidden_first_url_sends_nothing(client, upstream):
    req, records, _ = requester(client)
    with pytest.raises(ForbiddenURLError):
        req.get(f"http://localhost:{upstream.port}/a", source="s")
    assert upstream.count() == 0 and outcomes(records) == ["forbidden"]


def test_redirect_loop_is_refused_once(client, upstream):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "redirect_loop")
    req, records, sleeps = requester(client)
    with pytest.raises(FetchError, match="redirect loop"):
        req.get(url, source="s")
    assert upstream.count("/a") == 1 and upstream.count("/a/loop") == 1 and sleeps == []
    assert outcomes(records) == ["http_error"]


def test_oversized_body_is_cut_off_not_retried(client, upstream):
    url = upstream.route("/big.bin", b"\x89PNG")
    upstream.fault("/big.bin", "oversized", times=None, size=4 * 1024 * 1024)
    req, records, sleeps = requester(client)
    with pytest.raises(TooLargeError):
        req.get(url, source="s", max_bytes=64 * 1024)
    assert upstream.count("/big.bin") == 1 and sleeps == []
    assert outcomes(records) == ["too_large"]


def test_declared_oversize_is_refused_before_reading(client, upstream):
    url = upstream.route("/big.bin", b"x" * 5000)
    req, records, _ = requester(client)
    with pytest.raises(TooLargeError, match="5000 bytes"):
        req.get(url, source="s", max_bytes=1000)
    assert upstream.count("/big.bin") == 1 and outcomes(records) == ["too_large"]


def test_truncated_body_is_an_error_never_a_short_body(client, upstream):
    url = upstream.route("/a", "x" * 2000)
    upstream.fault("/a", "truncated", times=None)
    req, records, _ = requester(client, limits=Limits(retries=1, backoff_base=0.1, per_host_rate=0))
    with pytest.raises(FetchError):
        req.get(url, source="s")
    assert upstream.count("/a") == 2
    assert outcomes(records) == ["network_error", "network_error"]


def test_truncated_once_then_the_whole_body(client, upstream):
    url = upstream.route("/a", "x" * 2000)
    upstream.fault("/a", "truncated")
    req, records, _ = requester(client)
    assert req.get(url, source="s").body == b"x" * 2000
    assert outcomes(records) == ["network_error", "ok"]


# --------------------------------------------------------------------------- http.fetch details


def test_credentials_are_not_forwarded_to_another_origin(client, upstream, upstream_factory):
    other = upstream_factory()
    other.route("/b", "other")
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "redirect", location=f"{other.url}/b")
    req, _, _ = requester(client)
    req.get(url, source="s", headers={"Authorization": "LOW key:secret", "Accept": "text/html"})
    [first] = upstream.requests_for("/a")
    [second] = other.requests_for("/b")
    assert first.headers["authorization"] == "LOW key:secret"
    assert "authorization" not in second.headers and second.headers["accept"] == "text/html"


def test_credentials_survive_a_same_origin_redirect(client, upstream):
    upstream.route("/b", "b")
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "redirect", location=f"{upstream.url}/b")
    req, _, _ = requester(client)
    assert req.get(url, source="s", headers={"Authorization": "x"}).body == b"b"
    assert upstream.requests_for("/b")[0].headers["authorization"] == "x"


# --------------------------------------------------------------------------- parse_retry_after


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, date, expected", [
    ("120", None, 120.0),
    (" 3 ", None, 3.0),
    ("0", None, 0.0),
    ("1.5", None, 1.5),
    ("Wed, 01 May 2024 12:00:30 GMT", "Wed, 01 May 2024 12:00:00 GMT", 30.0),
    ("Wed, 01 May 2024 11:59:00 GMT", "Wed, 01 May 2024 12:00:00 GMT", 0.0),  # in the past
    ("Wed, 01 May 2024 12:01:00 GMT", None, 60.0),  # against the local clock
    ("soon", None, None),
    ("", None, None),
    (None, None, None),
    ("-5", None, 0.0),
])
def test_parse_retry_after(value, date, expected):
    assert parse_retry_after(value, date, now=NOW.timestamp()) == expected
