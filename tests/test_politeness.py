"""Issue 10, politeness (items 12-13): what a re-check asks of each upstream, and each endpoint's rate."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import DEFAULT_RATES
from archiver.errors import FetchError
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.upstream import upstream  # noqa: F401  (fixture)
from tests.vclock import ScaledClock

WEB_ARCHIVE = ("/wayback/available", "/cdx/search/cdx")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def due_again(db, days_ago: int = 0) -> None:
    """Make every post due now; with days_ago, the Wayback lookups are that old too."""
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE posts SET next_fetch_at = '2000-01-01T00:00:00Z'")
        if days_ago:
            con.execute("UPDATE snapshots SET fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?) "
                        "WHERE source IN ('wayback-available', 'wayback-cdx')", [f"-{days_ago} days"])
    con.close()


def requests_by_path(upstream) -> dict:
    counts: dict = {}
    for r in upstream.requests:
        counts[r.path] = counts.get(r.path, 0) + 1
    return counts


@pytest.fixture
def archived(upstream, tmp_path):
    """The seed archived once (every source asked), the upstream's request log cleared."""
    seed_upstream(upstream, tmp_path)
    # The Wayback Machine knows no capture of them (its real answers when it has none).
    upstream.json("/wayback/available", {"archived_snapshots": {}})
    upstream.route("/cdx/search/cdx", b"", content_type="text/plain")
    db = tmp_path / "archive.db"
    assert run("archive", "--db", db, SEEDS).exit_code == 0
    statuses = [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM posts")]
    assert statuses == ["archived"] * len(SEED_TWEETS)
    first = requests_by_path(upstream)
    assert all(first.get(p) == len(SEED_TWEETS) for p in ("/tweet-result", "/oembed", *WEB_ARCHIVE)), first
    upstream.clear_requests()
    return db


def test_recheck_of_an_unchanged_post_is_one_request(upstream, archived):
    due_again(archived)
    assert run("fetch", "--db", archived).exit_code == 0
    assert requests_by_path(upstream) == {"/tweet-result": len(SEED_TWEETS)}  # one each: syndication
    statuses = [r[0] for r in sqlite3.connect(archived).execute("SELECT status FROM posts")]
    assert statuses == ["archived"] * len(SEED_TWEETS)


def test_wayback_is_asked_again_once_a_week_has_passed(upstream, archived):
    due_again(archived, days_ago=6)
    assert run("fetch", "--db", archived).exit_code == 0
    assert not any(upstream.count(p) for p in WEB_ARCHIVE)
    due_again(archived, days_ago=8)
    upstream.clear_requests()
    assert run("fetch", "--db", archived).exit_code == 0
    assert all(upstream.count(p) == len(SEED_TWEETS) for p in WEB_ARCHIVE)


def test_oembed_is_asked_only_when_syndication_cannot_tell(upstream, archived):
    gone = SEED_TWEETS[0]
    upstream.route("/tweet-result", {"__typename": "TweetTombstone", "tombstone": {"text": {"text": "deleted"}}},
                   query={"id": gone.tweet_id})
    due_again(archived)
    assert run("fetch", "--db", archived).exit_code == 0
    asked = [r.query.get("url", "") for r in upstream.requests_for("/oembed")]
    assert len(asked) == 1 and gone.tweet_id in asked[0]  # the tombstoned tweet only


# --------------------------------------------------------------------------- 12. rates per endpoint

CDX_LIMIT, CDX_WINDOW = 24, 60.0  # what the Wayback Machine's CDX server enforces: 24 requests a minute


class CdxServer:
    """The stand-in CDX server's limit, on a virtual clock: over 24 requests in 60 s is refused (429)."""

    def __init__(self, clock, refuse_at: int | None = None, retry_after: int = 120):
        self.clock, self.refuse_at, self.retry_after = clock, refuse_at, retry_after
        self.served: list[float] = []
        self.refused: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, rec):
        from tests.upstream import Response

        with self.lock:
            now = self.clock.now()
            recent = [t for t in self.served if now - t < CDX_WINDOW]
            injected = self.refuse_at is not None and len(self.served) == self.refuse_at and not self.refused
            if injected or len(recent) >= CDX_LIMIT:
                self.refused.append(now)
                return Response(429, b"Too Many Requests", [("Retry-After", str(self.retry_after))], "text/plain")
            self.served.append(now)
            return Response(200, b"", [], "text/plain")


def cdx_run(upstream, clock, server, requests: int, settings=None, then=None):
    """`requests` CDX lookups from 8 threads through a fetch run's requester, on the scaled clock; then
    `then(requester)` while its client is open."""
    from archiver.config import Settings
    from archiver.fetch.http import HttpPolicy, build_client
    from archiver.fetch.retry import Requester

    upstream.route("/cdx/search/cdx", server)
    settings = settings or Settings()
    settings = replace(settings, http=HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",)))
    errors = []
    with build_client(settings.http) as client:
        requester = Requester.for_settings(client, settings, clock=clock.now, sleep=clock.sleep)

        def one(n):
            try:
                requester.get(f"{upstream.url}/cdx/search/cdx?url=twitter.com/a/status/{n}", source="wayback-cdx")
            except FetchError as exc:
                errors.append(exc)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(requests)))
        if then is not None:
            then(requester)
    return requester, errors


def test_the_cdx_limit_is_never_exceeded_at_default_rates(upstream):
    clock = ScaledClock(60)  # a minute a second: 60 lookups at the default rate take about 3 s
    start = clock.now()
    server = CdxServer(clock)
    _, errors = cdx_run(upstream, clock, server, 60)
    assert (len(server.served), server.refused, errors) == (60, [], [])
    assert clock.now() - start >= 59 * CDX_WINDOW / CDX_LIMIT  # spaced (3 s apart), not bunched


def test_after_a_429_nothing_is_sent_within_the_window_it_names(upstream):
    clock = ScaledClock(60)
    server = CdxServer(clock, refuse_at=3, retry_after=120)
    served_in_run = []

    def after_the_window(requester):
        served_in_run.append(len(server.served))
        clock.sleep(120)  # the window it named is over: the same requester asks again, at half the rate
        for n in range(4):
            requester.get(f"{upstream.url}/cdx/search/cdx?url=twitter.com/a/status/x{n}", source="wayback-cdx")

    requester, errors = cdx_run(upstream, clock, server, 12, then=after_the_window)
    [refused_at] = server.refused
    # Requests that came while it rested were not sent: the pause outlasts what a run waits (30 s), so
    # each says when to come back (the post goes back to the queue) instead of holding a worker.
    assert served_in_run == [3] and len(errors) == 12 - 3
    assert all(0 < e.retry_after <= 120 for e in errors)
    after = [t for t in server.served if t > refused_at]
    assert len(after) == 4 and min(after) >= refused_at + 120  # nothing inside the window
    # At half the rate, 6 s apart: three gaps span 18 s, where the full rate's 3 s would span 9. The times
    # are arrivals at the server, which carry a loaded machine's jitter (a 60x clock turns 50 ms of real
    # delay into 3 s): one gap feels it whole (CI saw 3.1 s for 6), a span only at its two ends, so the
    # span is asked to be 13.5 s (75 ms of real jitter left), still far above the full rate's.
    half_rate = 2 * 60 / DEFAULT_RATES["wayback-cdx"]
    assert after[-1] - after[0] >= 3 * half_rate - 0.75 * half_rate
    assert requester.rates.interval("wayback-cdx") == 2 * 60 / DEFAULT_RATES["wayback-cdx"]


def test_a_429_is_remembered_by_the_next_run(upstream, tmp_path):
    from archiver.config import Settings
    from archiver.fetch.rates import EndpointRates
    from archiver.store.db import open_db
    from archiver.store.endpoints import load_endpoint_limits

    seed_upstream(upstream, tmp_path, rates={"wayback-cdx": 60})  # a second apart: the 429 is back first
    upstream.json("/wayback/available", {"archived_snapshots": {}})
    upstream.route("/cdx/search/cdx", b"slow down", status=429, headers={"Retry-After": "3600"})
    db = tmp_path / "archive.db"
    assert run("archive", "--db", db, SEEDS).exit_code == 0
    assert upstream.count("/cdx/search/cdx") == 1  # the first 429 paused it: the other posts did not ask
    [row] = load_endpoint_limits(open_db(db))
    assert (row["endpoint"], row["slowdown"], row["throttles"]) == ("wayback-cdx", 2, 1)
    due_again(db)
    upstream.clear_requests()
    assert run("fetch", "--db", db, "--post", "1").exit_code == 0
    assert upstream.count("/tweet-result") == 1 and upstream.count("/cdx/search/cdx") == 0  # still resting
    # Once the pause is over, the next run still asks it at half its rate (for a day after the 429).
    rates = EndpointRates(Settings().rates)
    rates.load([dict(row, paused_until="2000-01-01T00:00:00Z")])
    assert rates.interval("wayback-cdx") == 2 * 60 / DEFAULT_RATES["wayback-cdx"]
    assert rates.interval("syndication") == 60 / DEFAULT_RATES["syndication"]


def test_rates_are_configured_per_endpoint_and_checked(tmp_path):
    from archiver.config import load_settings
    from archiver.errors import ConfigError

    path = tmp_path / "archiver.toml"
    path.write_text('[rates]\n"wayback-cdx" = 6\n')
    settings = load_settings(path)
    assert settings.rates["wayback-cdx"] == 6 and settings.rates["syndication"] == DEFAULT_RATES["syndication"]
    for bad, said in (('"wayback-cdxx" = 6', "unknown endpoint"), ('"tco" = -1', "must not be negative"),
                      ('"tco" = "fast"', "expected a number")):
        path.write_text(f"[rates]\n{bad}\n")
        with pytest.raises(ConfigError, match=said):
            load_settings(path)
