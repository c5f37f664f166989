"""Behaviours a reviewer's deliberate bugs got past: each test here fails when its behaviour is removed.

Retry-After on 5xx, near-miss handles in id resolution, verify's body/media/WARC problems, hostile
link schemes on the cards, and media whose bytes are not the declared type.
"""
from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from archiver.browse.web import safe_url
from archiver.cli import cli
from archiver.config import Endpoints, Limits
from archiver.fetch.http import HttpPolicy, build_client
from archiver.fetch.media import download, sniff
from archiver.fetch.retry import Requester
from archiver.platforms.twitter.resolve import _same_handle, resolve_tweet_id
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.upstream import upstream  # noqa: F401  (fixture)

POLICY = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), connect_timeout=1.0, read_timeout=1.0,
                    total_timeout=5.0)
LIMITS = Limits(retries=3, backoff_base=0.1, retry_wait_max=30.0, per_host_rate=0, per_host_concurrency=4,
                concurrency=8)


# 1. Retry-After on 5xx answers

@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_retry_after_is_honoured_like_a_429s(upstream, status):
    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", status=status, retry_after=3)
    sleeps = []
    with build_client(POLICY) as client:
        ex = Requester(client, POLICY, LIMITS, sleep=sleeps.append).get(url, source="s")
    assert ex.body == b"ok" and sleeps == [3.0] and upstream.count("/a") == 2


def test_a_5xx_asking_for_longer_than_the_run_may_wait_gives_up_with_when(upstream):
    from archiver.errors import FetchError

    url = upstream.route("/a", "ok")
    upstream.fault("/a", "5xx", retry_after=600, times=None)
    with build_client(POLICY) as client, pytest.raises(FetchError) as caught:
        Requester(client, POLICY, LIMITS, sleep=lambda s: None).get(url, source="s")
    assert caught.value.retry_after == 600 and upstream.count("/a") == 1


# 3. Handle comparison: near misses are different accounts

@pytest.mark.parametrize("a, b, same", [
    ("SamuelSusla", "samuelsusla", True),
    ("Susla", "SamuelSusla", False),          # a suffix
    ("Samuel", "SamuelSusla", False),         # a prefix
    ("SamuelSusla_", "SamuelSusla", False),   # one more character
    ("SamueISusla", "SamuelSusla", False),    # capital i for l
    ("", "SamuelSusla", False),
])
def test_handles_match_exactly_up_to_case_and_at_sign(a, b, same):
    assert _same_handle(a, b) is same and _same_handle(b, a) is same


@pytest.mark.parametrize("article_handle", ["Susla", "SamuelSuslaa", "amuelSusla"])
def test_a_tco_answer_naming_a_near_miss_handle_is_not_taken_on_the_handle_alone(upstream, article_handle):
    """t.co names @SamuelSusla; the article names a near miss: the id is not accepted without checking."""
    upstream.tco("NearMiss1", handle="SamuelSusla", tweet_id="12345", mode="redirect")
    calls = []

    def get(url, *, source, **kw):
        calls.append(source)
        with build_client(POLICY) as client:
            return Requester(client, POLICY, LIMITS, sleep=lambda s: None).get(url, source=source, **kw)

    res = resolve_tweet_id(get, Endpoints(tco=upstream.url, syndication=upstream.url, cdx=upstream.url),
                           handle=article_handle, date="2023-03-29", text="hello there, a tweet",
                           pic_links=("pic.twitter.com/NearMiss1",))
    assert res.method != "tco-redirect"
    assert res.candidates and res.candidates[0]["accepted"] is False


# 4. verify: a changed body, a missing media file, a missing WARC file

@pytest.fixture
def archived(upstream, tmp_path):
    seed_upstream(upstream, tmp_path)
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["archive", "--db", str(db), str(SEEDS)]).exit_code == 0
    assert CliRunner().invoke(cli, ["verify", "--db", str(db)]).exit_code == 0
    return db


def verify(db):
    return CliRunner().invoke(cli, ["verify", "--db", str(db)])


def test_verify_names_a_changed_body(archived):
    conn = sqlite3.connect(archived)
    sha = conn.execute("SELECT sha256 FROM snapshots WHERE source = 'syndication'").fetchone()[0]
    conn.execute("UPDATE bodies SET content = CAST('{}' AS BLOB) WHERE sha256 = ?", [sha])
    conn.commit()
    result = verify(archived)
    assert result.exit_code == 1 and f"MISMATCH body {sha[:16]}: content does not match its SHA-256" in result.output


def test_verify_names_a_missing_media_file(archived):
    media_id, path = sqlite3.connect(archived).execute("SELECT id, path FROM media ORDER BY id").fetchone()
    (archived.parent / path).unlink()
    result = verify(archived)
    assert result.exit_code == 1 and f"MISMATCH media #{media_id} {path}: file is missing" in result.output


def test_verify_names_a_missing_warc_file(archived):
    name = sqlite3.connect(archived).execute("SELECT warc_file FROM snapshots WHERE warc_file IS NOT NULL").fetchone()[0]
    (archived.parent / name).unlink()
    result = verify(archived)
    assert result.exit_code == 1
    assert f"MISMATCH warc {name}: file referenced by the archive is missing" in result.output


# 5. safe_url: only plain http(s) links reach a card

@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "\tjavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example/x", "\\\\evil.example/x",
    "https://ok.example/<script>", "https://ok.example/a b", "ftp://files.example/x", "", None, 42,
    "java\nscript:alert(1)", "https:alert(1)",
])
def test_safe_url_refuses_every_other_scheme_and_shape(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("url", ["https://twitter.com/a/status/1", "http://example.org/x?y=1#z",
                                 "  https://web.archive.org/web/2021/https://x.com/a  "])
def test_safe_url_keeps_plain_http_links(url):
    assert safe_url(url) == url.strip()


# 7. Media: bytes that are not the declared type are refused, not stored

def test_sniff_knows_images_and_video_and_nothing_else():
    assert sniff(b"\xff\xd8\xff\xe0" + b"x" * 20) == ("jpg", "image")
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"x" * 20) == ("png", "image")
    assert sniff(b"<html><body>not an image</body></html>") is None
    assert sniff(b"RIFX" + b"\x00" * 4 + b"WEBP") is None


def test_an_html_page_served_as_a_jpeg_is_not_kept(upstream, tmp_path):
    from archiver.config import Settings
    from archiver.fetch.worker import FetchContext

    url = upstream.route("/media/fake.jpg", b"<html><body>login wall</body></html>", content_type="image/jpeg")
    with build_client(POLICY) as client:
        ctx = FetchContext(Requester(client, POLICY, LIMITS, sleep=lambda s: None), None, Settings(), tmp_path,
                           tmp_path / "media")
        result = download(ctx, url, "photo")
    assert result.sha256 is None and result.path is None and result.error
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.jpg"))


def test_seed_tweets_are_what_the_built_fixtures_say():
    """The fixtures these tests lean on are the seed's: three handles, three codes."""
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    for t in SEED_TWEETS:
        assert f"(@{t.handle})" in text and f"pic.twitter.com/{t.code}" in text


# 10. Many processes opening a new archive at once: none fails

def _open_at_barrier(path, barrier, results):
    from archiver.store.db import open_db

    barrier.wait(timeout=30)
    try:
        open_db(path).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - the test reports what failed
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_released_together_all_open_a_new_archive(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for round_ in range(8):
        path = tmp_path / f"race-{round_}.db"
        barrier, results = ctx.Barrier(12), ctx.Queue()
        procs = [ctx.Process(target=_open_at_barrier, args=(path, barrier, results)) for _ in range(12)]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        assert outcomes == ["ok"] * 12, outcomes
        from archiver.store.db import open_db, schema_version
        from archiver.store.migrations import MIGRATIONS

        assert schema_version(open_db(path)) == len(MIGRATIONS)


# 11. Error pages with rich installed (py-wacz brings it)

def test_error_pages_work_with_rich_installed(tmp_path):
    import asyncio
    import importlib.util

    from archiver.browse import build_datasette
    from archiver.store.db import open_db

    assert importlib.util.find_spec("rich") is not None  # the case this test is about
    db = tmp_path / "archive.db"
    open_db(db).close()
    ds = build_datasette(db)

    async def go():
        try:
            return [(await ds.client.get(p)).status_code for p in ("/nope", "/-/archiver/post/abc",
                                                                   "/archive/no_such_table")]
        finally:
            for d in ds.databases.values():
                d.close()

    assert asyncio.run(go()) == [404, 404, 404]


# 6. Backoff, the move to failed, and the re-check job

NOW = "2026-11-28T06:00:00Z"


@pytest.mark.parametrize("failures, expected", [
    (1, "2026-11-28T06:05:00Z"), (2, "2026-11-28T06:10:00Z"), (3, "2026-11-28T06:20:00Z"),
    (4, "2026-11-28T06:40:00Z"), (12, "2026-11-29T06:00:00Z"), (60, "2026-11-29T06:00:00Z"),
])
def test_backoff_doubles_from_its_base_up_to_its_cap(failures, expected):
    from archiver.fetch.status import backoff

    assert backoff(failures, NOW, base=300, cap=86400) == expected


def test_a_retry_after_longer_than_the_backoff_wins_but_not_past_the_cap():
    from archiver.fetch.status import backoff

    assert backoff(1, NOW, retry_after=3600, base=300, cap=86400) == "2026-11-28T07:00:00Z"
    assert backoff(1, NOW, retry_after=10 ** 9, base=300, cap=86400) == "2026-11-29T06:00:00Z"


@pytest.mark.parametrize("before, status", [(6, "pending"), (7, "failed"), (20, "failed")])
def test_a_post_fails_after_the_configured_number_of_failures(before, status):
    from archiver.fetch.results import PostResult, SourceResult
    from archiver.fetch.status import MAX_FAILURES, decide
    from archiver.models import QueuedPost

    assert MAX_FAILURES == 8
    result = PostResult(1, sources=[SourceResult("syndication", "error", error="HTTP 503")])
    decide(QueuedPost(1, "twitter", status="pending", fetch_failures=before), result, NOW, ("1h",))
    assert (result.status, result.failures) == (status, before + 1)


def test_the_recheck_job_takes_due_settled_posts_and_only_those(upstream, tmp_path):
    from archiver.config import load_settings
    from archiver.run.schedule import JobRunner

    seed_upstream(upstream, tmp_path)
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["archive", "--db", str(db), str(SEEDS)]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE posts SET next_fetch_at = '2000-01-01T00:00:00Z'")  # all three due
    conn.execute("UPDATE posts SET status = 'pending' WHERE id = 3")  # not settled: the fetch job's
    conn.commit()
    asked = upstream.count("/tweet-result")
    counts = JobRunner(load_settings(tmp_path / "archiver.toml"), db).run("recheck")
    assert counts["posts"] == 2 and counts["by_status"] == {"archived": 2}
    assert upstream.count("/tweet-result") - asked == 2
    assert conn.execute("SELECT next_fetch_at > '2026' FROM posts WHERE id = 3").fetchone()[0] == 0


# 8. Paths never exercised before: Bluesky and Mastodon snapshots, init-config read back, fetch --limit,
#    article_hosts

BLUESKY = ('<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:abc123/app.bsky.feed.post/3kxyz" '
           'data-bluesky-cid="bafy"><p lang="en">Hello from the sky</p>&mdash; Sky Person (<a href="https://bsky.app/'
           'profile/did:plc:abc123?ref_src=embed">@sky.person</a>) <a href="https://bsky.app/profile/did:plc:abc123/'
           'post/3kxyz?ref_src=embed">May 1, 2024 at 10:00 AM</a></blockquote>')
MASTODON = ('<iframe src="https://mastodon.social/@Gargron/111111111111111111/embed" class="mastodon-embed" '
            'width="400"></iframe>')


@pytest.mark.parametrize("markup, route, source, answer", [
    (BLUESKY, "/oembed", "bluesky-oembed", {"type": "rich", "author_name": "Sky Person", "html": "<blockquote/>"}),
    (MASTODON, "/api/oembed", "mastodon-oembed", {"type": "rich", "author_name": "Eugen", "html": "<iframe/>"}),
])
def test_bluesky_and_mastodon_posts_are_archived_through_their_oembed(upstream, tmp_path, markup, route, source,
                                                                       answer):
    seed_upstream(upstream, tmp_path)
    upstream.json(route, answer)
    page = tmp_path / "a.html"
    page.write_text(f"<html><body><p>Story</p>{markup}</body></html>")
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["archive", "--db", str(db), str(page)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM posts").fetchone()[0] == "archived"
    (outcome, parsed), = conn.execute("SELECT outcome, parsed FROM snapshots WHERE source = ?", [source]).fetchall()
    assert outcome == "archived" and '"author_name": "' + answer["author_name"] + '"' in parsed
    asked = upstream.requests_for(route)[0]
    assert "url=https%3A%2F%2F" in asked.target  # the post's canonical URL is what was looked up


def test_init_config_writes_a_file_that_reads_back_as_the_defaults(tmp_path):
    from dataclasses import replace

    from archiver.config import Settings, _with_endpoint_hosts, load_settings

    path = tmp_path / "archiver.toml"
    assert CliRunner().invoke(cli, ["init-config", str(path)]).exit_code == 0
    read = load_settings(path, env={})
    assert replace(read, path=None) == _with_endpoint_hosts(Settings())


def test_fetch_limit_takes_at_most_that_many_posts(upstream, tmp_path):
    seed_upstream(upstream, tmp_path)
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["archive", "--db", str(db), "--no-fetch", str(SEEDS)]).exit_code == 0
    result = CliRunner().invoke(cli, ["fetch", "--db", str(db), "--limit", "1"])
    assert result.exit_code == 0 and len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 1
    statuses = [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM posts ORDER BY id")]
    assert sorted(statuses) == ["archived", "pending", "pending"]


def test_article_hosts_limit_where_articles_come_from(upstream, tmp_path):
    url = upstream.route("/story.html", "<html><body><p>nothing embedded</p></body></html>",
                         content_type="text/html")
    seed_upstream(upstream, tmp_path, extra_config="")
    config = tmp_path / "archiver.toml"
    text = config.read_text().replace("[http]", 'article_hosts = ["news.example.org"]\n\n[http]', 1)
    config.write_text(text)
    db = tmp_path / "archive.db"
    refused = CliRunner().invoke(cli, ["archive", "--db", str(db), "--no-fetch", url])
    assert refused.exit_code == 1 and "127.0.0.1" in refused.output and upstream.count("/story.html") == 0
    config.write_text(text.replace('article_hosts = ["news.example.org"]', 'article_hosts = ["127.0.0.1"]'))
    allowed = CliRunner().invoke(cli, ["archive", "--db", str(db), "--no-fetch", url])
    assert allowed.exit_code == 0 and upstream.count("/story.html") == 1


# 8. (continued) `[daemon] recheck_articles`, and SIGINT (in test_daemon)

@pytest.mark.parametrize("recheck", [False, True])
def test_recheck_articles_fetches_a_known_article_again_only_when_asked(upstream, tmp_path, recheck):
    from archiver.config import load_settings
    from archiver.run.schedule import JobRunner
    from tests.built import write_config
    from tests.upstream import Response

    story = {"html": "<html><body><p>As first published.</p></body></html>"}
    upstream.route("/story.html", lambda req: Response(200, story["html"].encode(), [], "text/html"))
    upstream.route("/list.txt", f"{upstream.url}/story.html\n", content_type="text/plain")
    config = write_config(tmp_path, upstream, f'[daemon]\nrecheck_articles = {str(recheck).lower()}\n\n'
                                              f'[[sources]]\nname = "list"\nkind = "urls"\n'
                                              f'location = "{upstream.url}/list.txt"\n')
    db = tmp_path / "archive.db"
    runner = JobRunner(load_settings(config), db)
    assert runner.run("poll")["articles_added"] == 1
    story["html"] = "<html><body><p>Edited after publication.</p></body></html>"
    runner.run("poll")
    assert upstream.count("/story.html") == (2 if recheck else 1)
    versions = sqlite3.connect(db).execute("SELECT count(*) FROM article_versions").fetchone()[0]
    assert versions == (2 if recheck else 1)  # the edit is kept as a new version only when re-checked
