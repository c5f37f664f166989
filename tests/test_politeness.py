"""Issue 10, politeness (items 12-13): what a re-check asks of each upstream, and each endpoint's rate."""
from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.upstream import upstream  # noqa: F401  (fixture)

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
