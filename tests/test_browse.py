"""Browsing with Datasette: tables, views, facets, search, canned queries, cards and the media route.

One archive per module, built like a user's: the seed article (detected only), a story whose posts
are fetched from the local upstream serving the project's built responses (a photo tweet with its photo and
Wayback captures, a tweet deleted later, one never found), a hostile post, and a daemon pass.
Requests go through ``datasette.client``.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.browse import build_datasette
from archiver.browse.metadata import QUERIES, TABLES
from archiver.browse.plugin import linkify, media_file
from archiver.store.views import VIEWS, ensure_views
from archiver.cli import cli
from archiver.store.db import open_db
from tests.test_fetch import PHOTO_ID, PHOTO_PATH, write_config
from tests.responses import AVAILABLE_AT, body, tombstone
from tests.upstream import Upstream, fake_media, syndication_routes, wayback_routes

ROOT = Path(__file__).resolve().parents[1]
DELETED_ID = "2023357708301455483"  # served as a tweet first, as the tombstone later
QUOTED_ID = "1641895049427550208"
MISSING_ID = "1600000000000000009"  # no route: syndication and oEmbed answer 404
HOSTILE_ID = "1700000000000000001"
HOSTILE_TEXT = ("<script>document.title='pwned'</script> and <img src=x onerror=\"document.title='pwned'\"> "
                "see https://example.com/a?b=1&c=2")


def tweet(handle, name, tweet_id, text, date):
    """A blockquote.twitter-tweet as publishers paste it; ``text`` and ``name`` are HTML-escaped."""
    from html import escape

    return (f'<blockquote class="twitter-tweet"><p lang="en">{escape(text, quote=False)}</p>&mdash; '
            f'{escape(name, quote=False)} (@{handle}) <a href="https://twitter.com/{handle}/status/{tweet_id}'
            f'?ref_src=twsrc%5Etfw">{date}</a></blockquote>')


STORY = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>React Native's new renderer, explained by the people who built it</title>
<meta property="og:site_name" content="The Daily Build">
<meta property="article:published_time" content="2023-04-02T09:00:00Z">
<meta name="author" content="Ada Reporter">
<link rel="canonical" href="https://daily-build.example/2023/04/react-native-renderer">
</head><body><article><p>Engineers described the change on social media.</p>
{tweet("SamuelSusla", "sammy", PHOTO_ID, "If you are interested about View Flattening in React Native, I wrote a "
       "short post about it: https://t.co/4G6RAMfrHy Let me know what you think! pic.twitter.com/rQd6FIwZ0U",
       "March 29, 2023")}
<p>Others followed.</p>
{tweet("mattcarrollcode", "Matt Carroll", QUOTED_ID, "#ReactNative's new architecture renderer brings view "
       "flattening, previously an Android-only optimization, to iOS. View flattening reduces the depth of view "
       "hierarchies, lowers memory usage, and speeds up drawing times—all without extra setup!", "March 31, 2023")}
{tweet("jarredsumner", "Jarred Sumner", DELETED_ID, "Underdocumented: `bun build --compile` supports `--splitting "
       "—format=esm` Lazy load code embedded in your single-file executable to improve CLI start time",
       "February 16, 2026")}
{tweet("ghost_account", "Ghost", MISSING_ID, "This account never existed as far as the platform says.",
       "April 1, 2023")}
</article></body></html>
"""

HOSTILE = (f"<html><head><title>A page quoting a hostile post</title></head><body>"
           f"{tweet('mallory', 'Mallory <b onmouseover=alert(1)>M</b>', HOSTILE_ID, HOSTILE_TEXT, 'September 1, 2023')}"
           f"</body></html>")


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def build_archive(folder: Path, upstream: Upstream, *, hostile: bool = True, photo: bytes | None = None) -> Path:
    """An archive in ``folder`` with every kind of row the browser shows; returns the database path.

    ``photo``: the bytes served as the photo tweet's photo (default: test_fetch's fake JPEG).
    """
    syndication_routes(upstream)
    wayback_routes(upstream)
    upstream.route(PHOTO_PATH, photo or fake_media("photo.jpg", 50_000), content_type="image/jpeg")
    write_config(folder, upstream)
    db_path = folder / "archive.db"
    (folder / "story.html").write_text(STORY, encoding="utf-8")
    _run("archive", "--db", db_path, folder / "story.html")
    # the deleted tweet: archived above, a tombstone now
    upstream.route("/tweet-result", body(tombstone()),
                   query={"id": DELETED_ID}, content_type="application/json")
    db = open_db(db_path)
    deleted = db.execute("SELECT id FROM posts WHERE platform_post_id = ?", [DELETED_ID]).fetchone()[0]
    db.close()
    _run("fetch", "--db", db_path, "--post", deleted)
    _run("run-once", "--db", db_path)  # the daemon's jobs, once: job_runs rows
    if hostile:
        (folder / "hostile.html").write_text(HOSTILE, encoding="utf-8")
        _run("archive", "--no-fetch", "--db", db_path, folder / "hostile.html")
    _run("archive", "--no-fetch", "--db", db_path, ROOT / "seeds")  # open_db creates the views
    return db_path


class _Served:
    """One Datasette on an archive and one event loop driving it, for many requests."""

    def __init__(self, path: Path):
        self.ds = build_datasette(path)
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, **kw):
        return self.loop.run_until_complete(self.ds.client.get(path, **kw))

    def close(self) -> None:
        for db in self.ds.databases.values():
            db.close()
        self.loop.close()


_SERVED: dict = {}  # the module's shared archive -> its one Datasette (building one per request is slow)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browse")
    with Upstream() as upstream:
        path = build_archive(folder, upstream)
    _SERVED[path] = _Served(path)
    yield path
    _SERVED.pop(path).close()


@pytest.fixture(scope="module")
def ids(archive) -> dict:
    """posts.id by handle, articles.id by title word, and a few other ids the tests look at."""
    conn = sqlite3.connect(archive)
    posts = dict(conn.execute("SELECT handle, id FROM posts"))
    story = conn.execute("SELECT id FROM articles WHERE title LIKE 'React Native%'").fetchone()[0]
    seed = conn.execute("SELECT id FROM articles WHERE source LIKE '%seeds%'").fetchone()[0]
    snaps = [r[0] for r in conn.execute(
        "SELECT id FROM snapshots WHERE post_id = ? AND source = 'syndication' ORDER BY id", [posts["jarredsumner"]])]
    conn.close()
    return {"posts": posts, "story": story, "seed": seed, "deleted_snapshots": snaps}


def get(archive, path: str, **kw):
    """One request through datasette.client: the shared archive's instance, else a fresh one."""
    served = _SERVED.get(archive)
    if served is not None:
        return served.get(path, **kw)
    ds = build_datasette(archive)

    async def go():
        try:
            return await ds.client.get(path, **kw)
        finally:
            for db in ds.databases.values():
                db.close()

    return asyncio.run(go())


def rows(archive, path: str) -> list[dict]:
    """The rows of a table, view or canned query (``/archive/NAME?params``) as dicts."""
    base, _, query = path.partition("?")
    response = get(archive, f"{base}.json?{query}{'&' if query else ''}_shape=objects&_size=max")
    assert response.status_code == 200, response.text
    return response.json()["rows"]


def facet(archive, path: str, column: str) -> dict:
    response = get(archive, path + ".json")
    assert response.status_code == 200, response.text
    return {r["value"]: r["count"] for r in response.json()["facet_results"][column]["results"]}


# --- the shape ------------------------------------------------------------------------------------

def test_ensure_views_is_idempotent_and_updates_a_stale_view(tmp_path):
    db = open_db(tmp_path / "a.db")  # opening creates the views
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'view'")} >= set(VIEWS)
    assert ensure_views(db) == []  # nothing to write: a current database is not touched
    db.execute("DROP VIEW fetch_queue")
    db.execute("CREATE VIEW fetch_queue AS SELECT 1 AS old")
    assert ensure_views(db) == ["fetch_queue"]
    assert [c[0] for c in db.execute("SELECT * FROM fetch_queue").description][:2] == ["post_id", "platform"]


def test_every_table_and_view_has_a_description(archive):
    conn = sqlite3.connect(archive)
    names = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE '%fts%' "
        "AND name NOT LIKE 'sqlite_%'")}
    conn.close()
    assert names - set(TABLES) == set()
    assert set(VIEWS) <= names
    meta = get(archive, "/-/metadata.json").json()
    tables = meta["databases"]["archive"]["tables"]
    assert all(tables[name]["description"] for name in names)
    assert meta["title"].startswith("archiver") and meta["license"] and meta["source"]


def test_index_and_database_pages(archive):
    home = get(archive, "/")
    assert home.status_code == 302 and home.headers["location"] == "/-/archiver/"  # people start from the cards
    page = get(archive, "/archive")
    assert page.status_code == 200 and "Start with the cards" in page.text
    assert '<a href="/-/archiver/">articles</a>' in page.text
    for name in ("posts_overview", "articles_overview", "posts_gone", "fetch_queue", "fetch_errors", "job_health"):
        assert f'href="/archive/{name}"' in page.text
    for query in QUERIES.values():
        assert query["title"] in page.text


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_table_and_view_answers(archive, table):
    response = get(archive, f"/archive/{table}")
    assert response.status_code == 200, response.text[:500]
    assert TABLES[table]["description"].split(":")[0][:40] in response.text.replace("&#39;", "'")


def test_the_server_cannot_write(archive):
    """Reads go through ?mode=ro connections; even Datasette's own write connection is query_only."""
    ds = build_datasette(archive)

    async def go():
        db = ds.get_database("archive")
        assert db.is_mutable  # not immutable=1: it sees what the daemon commits to the WAL
        reader = await db.execute_fn(lambda conn: conn.execute("PRAGMA query_only").fetchone()[0])
        try:
            await db.execute_write("UPDATE posts SET text = 'x'")
        except sqlite3.OperationalError as exc:
            return reader, str(exc)
        finally:
            db.close()
        return reader, None

    reader, error = asyncio.run(go())
    assert reader == 1 and error == "attempt to write a readonly database"
    assert sqlite3.connect(archive).execute("SELECT count(*) FROM posts WHERE text = 'x'").fetchone()[0] == 0
    response = get(archive, "/archive.json", params={"sql": "update posts set text = 'x'"})
    assert response.status_code == 400


def test_the_server_sees_what_the_daemon_writes_meanwhile(archive, tmp_path):
    db_path = tmp_path / "archive.db"
    shutil.copy(archive, db_path)
    ds = build_datasette(db_path)

    async def count(db):
        return (await db.execute("SELECT count(*) FROM job_runs")).rows[0][0]

    async def go():
        db = ds.get_database("archive")
        before = await count(db)
        writer = open_db(db_path)  # the daemon: WAL, its own connection
        writer["job_runs"].insert({"job": "fetch", "started_at": "2026-01-01T00:00:00Z", "status": "error",
                                   "error": "boom"})
        in_wal = (db_path.parent / "archive.db-wal").stat().st_size > 0
        after = await count(db)
        health = (await db.execute("SELECT failed_runs, last_error FROM job_health WHERE job = 'fetch'")).rows[0]
        writer.close()
        db.close()
        return in_wal, before, after, tuple(health)

    in_wal, before, after, health = asyncio.run(go())
    assert in_wal and (after - before, health) == (1, (1, "boom"))


# --- tables: labels, sorts, facets, search ---------------------------------------------------------

def test_posts_by_status_and_platform(archive, ids):
    statuses = facet(archive, "/archive/posts", "status")
    assert statuses == {"archived": 2, "pending": 4, "unavailable": 1, "not_found": 1}
    assert facet(archive, "/archive/posts", "platform") == {"twitter": 8}
    handles = facet(archive, "/archive/posts", "handle")
    assert handles["SamuelSusla"] == 1 and handles["mallory"] == 1 and len(handles) == 8


def test_foreign_keys_show_labels_not_ids(archive, ids):
    page = get(archive, "/archive/embeds").text
    sam = ids["posts"]["SamuelSusla"]
    # Labelled as Datasette labels them, and linked to the cards people read them in.
    assert f'href="/-/archiver/post/{sam}" title="show this post as a card">SamuelSusla</a>' in page
    assert f'href="/-/archiver/article/{ids["story"]}" title="show this article&#39;s posts as cards">React Native' in page
    media = rows(archive, "/archive/media?_labels=on")
    assert media[0]["post_id"] == {"value": sam, "label": "SamuelSusla"}


def test_articles_show_their_source_by_name(archive, ids, tmp_path):
    db_path = tmp_path / "archive.db"
    shutil.copy(archive, db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO sources (id, name, kind, location) VALUES (7, 'Tech desk feed', 'rss', 'https://e/f')")
    conn.execute("UPDATE articles SET source_id = 7 WHERE id = ?", [ids["story"]])
    conn.commit()
    conn.close()
    assert '<a href="/archive/sources/7">Tech desk feed</a>' in get(db_path, "/archive/articles").text


def test_posts_link_to_their_cards_and_statuses_are_badges(archive, ids):
    page = get(archive, "/archive/posts").text
    sam = ids["posts"]["SamuelSusla"]
    assert f'<a class="archiver-card-link" href="/-/archiver/post/{sam}" title="show this post as a card">{PHOTO_ID}</a>' in page
    assert '<span class="archiver-status archiver-status-unavailable">unavailable</span>' in page
    assert 'href="/-/archiver/static/archiver.css"' in page
    articles = get(archive, "/archive/articles").text
    assert f'href="/-/archiver/article/{ids["story"]}"' in articles


def test_default_sort_is_newest_first(archive):
    changes = rows(archive, "/archive/post_status_changes")
    stamps = [r["changed_at"] for r in changes]
    assert stamps == sorted(stamps, reverse=True)
    queue = rows(archive, "/archive/fetch_queue")
    times = [r["next_fetch_at"] for r in queue]
    assert times == sorted(times)


def test_search_posts_and_articles(archive, ids):
    found = rows(archive, "/archive/posts?_search=flattening")
    assert sorted(r["handle"] for r in found) == ["SamuelSusla", "mattcarrollcode"]
    assert [r["handle"] for r in rows(archive, "/archive/posts_overview?_search=Underdocumented")] == ["jarredsumner"]
    assert [r["article_id"] for r in rows(archive, "/archive/articles_overview?_search=renderer")] == [ids["story"]]
    assert [r["id"] for r in rows(archive, "/archive/articles?_search=renderer")] == [ids["story"]]


def test_date_and_site_facets(archive):
    assert facet(archive, "/archive/articles", "site_name") == {"The Daily Build": 1}
    days = facet(archive, "/archive/posts", "created_date")
    assert days["2023-03-29"] == 1 and days["2026-02-16"] == 1


# --- views -----------------------------------------------------------------------------------------

def test_posts_overview_has_latest_snapshot_and_articles(archive, ids):
    by_handle = {r["handle"]: r for r in rows(archive, "/archive/posts_overview")}
    sam = by_handle["SamuelSusla"]
    assert (sam["status"], sam["latest_snapshot_source"], sam["latest_snapshot_outcome"]) == (
        "archived", "syndication", "archived")
    assert sam["media"] == 1 and sam["captures"] == 2 and sam["articles"] == 1
    assert sam["article_titles"].startswith("React Native's new renderer")
    gone = by_handle["jarredsumner"]
    assert (gone["status"], gone["latest_snapshot_outcome"]) == ("unavailable", "unavailable")
    assert gone["latest_archived_snapshot_id"] == ids["deleted_snapshots"][0]
    assert by_handle["atrupar"]["latest_snapshot_id"] is None


def test_articles_overview_counts_posts_by_status(archive, ids):
    by_id = {r["article_id"]: r for r in rows(archive, "/archive/articles_overview")}
    story = by_id[ids["story"]]
    assert {k: story[k] for k in ("posts", "archived", "unavailable", "not_found", "pending", "gone")} == {
        "posts": 4, "archived": 2, "unavailable": 1, "not_found": 1, "pending": 0, "gone": 2}
    assert (by_id[ids["seed"]]["posts"], by_id[ids["seed"]]["pending"]) == (3, 3)


def test_posts_gone_says_when_and_why(archive, ids):
    gone = {r["handle"]: r for r in rows(archive, "/archive/posts_gone")}
    assert set(gone) == {"jarredsumner", "ghost_account"}
    deleted = gone["jarredsumner"]
    assert (deleted["from_status"], deleted["to_status"]) == ("archived", "unavailable")
    assert "deleted" in deleted["reason"] and deleted["gone_at"] >= deleted["archived_at"]
    assert gone["ghost_account"]["from_status"] == "pending" and gone["ghost_account"]["to_status"] == "not_found"


def test_fetch_queue_shows_next_attempts(archive, ids):
    queue = {r["handle"]: r for r in rows(archive, "/archive/fetch_queue")}
    assert queue["atrupar"]["due"] == 1 and queue["atrupar"]["attempts"] == 0  # detected, never tried
    assert queue["SamuelSusla"]["due"] == 0 and queue["SamuelSusla"]["attempts"] >= 4
    assert facet(archive, "/archive/fetch_queue", "due") == {1: 4, 0: 4}


def test_fetch_errors_by_host_and_status(archive):
    errors = rows(archive, "/archive/fetch_errors")
    assert errors and {r["host"] for r in errors} == {re.sub(r"^.*?://", "", errors[0]["last_url"]).split("/")[0]}
    by_source = {(r["source"], r["http_status"]): r for r in errors}
    assert by_source[("oembed", 404)]["outcome"] == "http_error"
    assert by_source[("syndication", 404)]["posts"] == 1  # the account that never existed


def test_job_health_follows_the_daemon(archive):
    jobs = {r["job"]: r for r in rows(archive, "/archive/job_health")}
    assert set(jobs) == {"poll", "fetch", "recheck"}
    assert all((j["runs"], j["ok_runs"], j["failed_runs"], j["last_status"]) == (1, 1, 0, "ok") for j in jobs.values())
    assert facet(archive, "/archive/job_runs", "status") == {"ok": 3}


# --- canned queries --------------------------------------------------------------------------------

def test_which_posts_in_this_article_are_gone(archive, ids):
    by_id = rows(archive, f"/archive/gone_posts_in_article?article={ids['story']}")
    assert sorted((r["handle"], r["status"]) for r in by_id) == [
        ("ghost_account", "not_found"), ("jarredsumner", "unavailable")]
    by_source = rows(archive, f"/archive/gone_posts_in_article?article={archive.parent / 'story.html'}")
    assert [r["post_id"] for r in by_source] == [r["post_id"] for r in by_id]
    by_url = rows(archive, "/archive/gone_posts_in_article?article=https://daily-build.example/2023/04/"
                           "react-native-renderer")
    assert [r["post_id"] for r in by_url] == [r["post_id"] for r in by_id]
    slashed = rows(archive, "/archive/gone_posts_in_article?article=https://daily-build.example/2023/04/"
                            "react-native-renderer/")
    assert [r["post_id"] for r in slashed] == [r["post_id"] for r in by_id]  # a trailing slash is the same page
    assert rows(archive, f"/archive/gone_posts_in_article?article={ids['seed']}") == []


def test_every_article_that_embedded_this_post(archive, ids):
    by_platform_id = rows(archive, f"/archive/articles_embedding_post?post={PHOTO_ID}")
    assert [(r["article_id"], r["handle"], r["markup"]) for r in by_platform_id] == [
        (ids["story"], "SamuelSusla", "blockquote.twitter-tweet")]
    by_id = rows(archive, f"/archive/articles_embedding_post?post={ids['posts']['atrupar']}")
    assert [r["article_id"] for r in by_id] == [ids["seed"]]
    from urllib.parse import quote

    # A pasted post URL, in any form detection accepts, finds the post (parsed by the same code).
    for pasted in (f"https://x.com/SamuelSusla/status/{PHOTO_ID}", f"https://twitter.com/samuelsusla/status/{PHOTO_ID}",
                   f"https://mobile.twitter.com/SamuelSusla/status/{PHOTO_ID}?s=20&t=abc",
                   f"twitter.com/SamuelSusla/status/{PHOTO_ID}/photo/1", f" https://x.com/i/web/status/{PHOTO_ID} "):
        found = rows(archive, f"/archive/articles_embedding_post?post={quote(pasted)}")
        assert [r["article_id"] for r in found] == [ids["story"]], pasted
    assert rows(archive, f"/archive/articles_embedding_post?post={quote('https://x.com/SamuelSusla/status/1')}") == []


def test_a_card_links_the_diff_of_its_last_two_snapshots(archive, ids):
    before, after = ids["deleted_snapshots"]
    pid = ids["posts"]["jarredsumner"]
    page = get(archive, f"/-/archiver/post/{pid}").text
    assert f'href="/archive/snapshot_diff?snapshot_a={before}&amp;snapshot_b={after}"' in page
    assert "snapshot_diff" not in get(archive, f"/-/archiver/post/{ids['posts']['atrupar']}").text  # one snapshot
    sheet = get(archive, "/-/archiver/static/tables.css")
    assert sheet.status_code == 200 and "overflow-wrap: anywhere" in sheet.text
    assert "/-/archiver/static/tables.css" in get(archive, "/archive/snapshot_diff").text


def test_ids_are_links_to_cards_in_views_and_queries(archive, ids):
    html = get(archive, f"/archive/gone_posts_in_article?article={ids['story']}").text
    pid = ids["posts"]["jarredsumner"]
    assert f'<a class="archiver-card-link" href="/-/archiver/post/{pid}"' in html
    assert f'href="/-/archiver/article/{ids["story"]}"' in html
    snapshot = re.search(r'href="/-/archiver/snapshot/(\d+)"', html)
    assert snapshot, "last_archived_snapshot_id links to its record"
    view = get(archive, "/archive/posts_gone").text
    assert 'href="/-/archiver/post/' in view
    embeds = get(archive, "/archive/embeds").text  # a table's post_id too
    assert 'class="archiver-card-link" href="/-/archiver/post/' in embeds


def test_what_changed_between_two_snapshots(archive, ids):
    before, after = ids["deleted_snapshots"]
    diff = {r["field"]: r for r in rows(archive, f"/archive/snapshot_diff?snapshot_a={before}&snapshot_b={after}")}
    assert (diff["outcome"]["snapshot_a"], diff["outcome"]["snapshot_b"], diff["outcome"]["changed"]) == (
        "archived", "unavailable", "changed")
    assert diff["text"]["snapshot_a"].startswith("Underdocumented") and diff["text"]["snapshot_b"] is None
    assert diff["source"]["changed"] == "" and diff["http_status"]["changed"] == ""
    assert diff["parsed.outcome"]["snapshot_b"] == "unavailable"
    assert "deleted" in diff["parsed.reason"]["snapshot_b"]


# --- the plugin: cards, article page, media --------------------------------------------------------

def test_post_card(archive, ids):
    sam = ids["posts"]["SamuelSusla"]
    response = get(archive, f"/-/archiver/post/{sam}")
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<span class="author">sammy</span>' in page
    assert 'href="https://twitter.com/SamuelSusla" rel="nofollow noopener noreferrer">@SamuelSusla</a>' in page
    assert '<time>2023-03-29T14:34:41Z</time>' in page
    assert '<a href="https://t.co/4G6RAMfrHy" rel="nofollow noopener noreferrer">https://t.co/4G6RAMfrHy</a>' in page
    assert re.search(r'<img src="/-/archiver/media/(\d+)" alt="photo 1 of @SamuelSusla"', page)
    assert f'href="https://twitter.com/SamuelSusla/status/{PHOTO_ID}" rel="nofollow noopener noreferrer">Original post' in page
    # the post's own Wayback capture (a capture of another URL is never linked to a post)
    assert f'href="https://web.archive.org/web/{AVAILABLE_AT}/https://twitter.com/SamuelSusla/status/{PHOTO_ID}"' in page
    conn = sqlite3.connect(archive)
    sha, warc_file, offset = conn.execute(
        "SELECT sha256, warc_file, warc_offset FROM snapshots WHERE post_id = ? AND source = 'syndication'",
        [sam]).fetchone()
    assert f'href="/archive/bodies/{sha}">{sha}</a>' in page
    assert f"<code>{warc_file}</code> @ {offset}" in page
    assert f'href="/-/archiver/article/{ids["story"]}">React Native&#39;s new renderer' in page


def test_a_deleted_post_card_says_since_when(archive, ids):
    page = get(archive, f"/-/archiver/post/{ids['posts']['jarredsumner']}").text
    assert '<span class="badge status-unavailable">unavailable</span> since 20' in page
    assert "This Post was deleted by the Post author" in page
    assert "archived → unavailable" in page


def test_a_hostile_post_is_escaped(archive, ids):
    response = get(archive, f"/-/archiver/post/{ids['posts']['mallory']}")
    page = response.text
    assert "<script>document" not in page and "<img src=x" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;document.title=&#39;pwned&#39;&#34;&gt;" in page
    assert "Mallory &lt;b onmouseover=alert(1)&gt;M&lt;/b&gt;" in page
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">' in page
    assert "<script" not in page.lower().replace("&lt;script", "")
    for table in ("posts", "posts_overview", "embeds"):  # Datasette's own pages, with the plugin's cells
        listing = get(archive, f"/archive/{table}").text
        assert "&lt;script&gt;document.title" in listing and "<script>document" not in listing
        assert "<b onmouseover" not in listing


def test_linkify_never_makes_an_unsafe_link():
    out = str(linkify('javascript:alert(1) "><x> https://e.com/"onmouseover=x @bob', "twitter"))
    assert out == ('javascript:alert(1) &#34;&gt;&lt;x&gt; <a href="https://e.com/" rel="nofollow noopener '
                   'noreferrer">https://e.com/</a>&#34;onmouseover=x <a href="https://twitter.com/bob" '
                   'rel="nofollow noopener noreferrer">@bob</a>')


def test_article_page_lists_its_posts_as_cards(archive, ids):
    response = get(archive, f"/-/archiver/article/{ids['story']}")
    assert response.status_code == 200 and "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "<h1>React Native&#39;s new renderer, explained by the people who built it</h1>" in page
    assert '<span class="site">The Daily Build</span>' in page
    assert page.count('<article class="card') == 4
    order = [page.index(f'@{h}</a>') for h in ("SamuelSusla", "mattcarrollcode", "jarredsumner", "ghost_account")]
    assert order == sorted(order)  # in the article's order
    assert "4 embedded post(s)" in page
    assert f'href="/archive/gone_posts_in_article?article={ids["story"]}"' in page
    index = get(archive, "/-/archiver/").text
    assert f'<a class="title" href="/-/archiver/article/{ids["story"]}">React Native' in index


def test_the_cards_honour_datasette_permissions(archive, ids):
    """A deployment that hides the posts table hides the cards too."""
    from datasette.app import Datasette

    from archiver.browse.metadata import build_metadata

    metadata = build_metadata("archive")
    metadata["databases"]["archive"]["tables"]["posts"]["allow"] = {"id": "editor"}
    ds = Datasette(files=[str(archive)], metadata=metadata)

    async def go():
        try:
            return [(await ds.client.get(path)).status_code for path in (
                f"/-/archiver/post/{ids['posts']['SamuelSusla']}", f"/-/archiver/article/{ids['story']}",
                "/archive/posts", "/-/archiver/")]
        finally:
            for db in ds.databases.values():
                db.close()

    # The article list searches posts' text and counts them by status: it follows the posts table too.
    assert asyncio.run(go()) == [403, 403, 403, 403]


def test_missing_posts_and_articles_are_404(archive):
    assert get(archive, "/-/archiver/post/99999").status_code == 404
    assert get(archive, "/-/archiver/article/99999").status_code == 404
    assert get(archive, "/-/archiver/post/abc").status_code == 404


def test_media_route_serves_the_archived_photo(archive, ids):
    conn = sqlite3.connect(archive)
    media_id, path, sha = conn.execute("SELECT id, path, sha256 FROM media").fetchone()
    response = get(archive, f"/-/archiver/media/{media_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (archive.parent / path).read_bytes() == fake_media("photo.jpg", 50_000)


def test_media_route_answers_byte_ranges_so_a_video_can_seek(archive, ids):
    conn = sqlite3.connect(archive)
    media_id, path = conn.execute("SELECT id, path FROM media").fetchone()
    data = (archive.parent / path).read_bytes()
    size = len(data)
    url = f"/-/archiver/media/{media_id}"
    assert get(archive, url).headers["accept-ranges"] == "bytes"
    for asked, first, last in [("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1), ("bytes=-10", size - 10, size - 1),
                               (f"bytes=10-{size + 500}", 10, size - 1)]:
        response = get(archive, url, headers={"Range": asked})
        assert response.status_code == 206, asked
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.content == data[first:last + 1]
        assert response.headers["content-length"] == str(last + 1 - first)
        assert response.headers["content-type"] == "image/jpeg" and response.headers["x-content-type-options"] == "nosniff"
    for unsatisfiable in (f"bytes={size}-", "bytes=-0"):
        response = get(archive, url, headers={"Range": unsatisfiable})
        assert response.status_code == 416 and response.headers["content-range"] == f"bytes */{size}"
    for ignored in ("bytes=0-1,5-9", "items=0-5", "bytes=9-2", "bytes=-", "garbage"):
        response = get(archive, url, headers={"Range": ignored})
        assert response.status_code == 200 and response.content == data, ignored


def test_byte_ranges_are_capped_per_answer():
    from archiver.browse.plugin import RANGE_CHUNK, byte_range

    assert byte_range("bytes=0-", 100 * RANGE_CHUNK) == (0, RANGE_CHUNK - 1)
    assert byte_range(f"bytes={RANGE_CHUNK}-", 100 * RANGE_CHUNK) == (RANGE_CHUNK, 2 * RANGE_CHUNK - 1)
    assert byte_range("bytes=99999999999999999999-", 10) is None  # 20 digits: not a range we serve
    assert byte_range("bytes=5-5", 10) == (5, 5)
    assert byte_range("bytes=\u0661-", 10) is None  # digits are ASCII digits


def test_media_route_refuses_paths_outside_the_media_folder(archive, tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    db_path = folder / "archive.db"
    shutil.copy(archive, db_path)
    shutil.copytree(archive.parent / "archive.files", folder / "archive.files")
    (folder / "secret.jpg").write_bytes(b"\xff\xd8\xff secret")
    (folder / "archive.files" / "warc" / "x.jpg").write_bytes(b"\xff\xd8\xff not media")
    (folder / "archive.files" / "media" / "note.txt").write_text("not an image")
    real = sqlite3.connect(db_path).execute("SELECT path FROM media").fetchone()[0]
    hostile = ["secret.jpg", "../secret.jpg", str(folder / "secret.jpg"), "archive.files/media/../../secret.jpg",
               "archive.files/warc/x.jpg", "archive.files/media", "archive.files/media/note.txt", "/etc/passwd",
               real + "\x00.jpg"]
    conn = sqlite3.connect(db_path)
    for n, path in enumerate(hostile):
        conn.execute("INSERT INTO media (id, post_id, url, path, fetched_at) VALUES (?, 1, ?, ?, '2026')",
                     [1000 + n, f"https://e/{n}", path])
    conn.commit()
    conn.close()
    for n, path in enumerate(hostile):
        response = get(db_path, f"/-/archiver/media/{1000 + n}")
        assert response.status_code == 404, path
        assert b"secret" not in response.content and b"not media" not in response.content
        assert b"not an image" not in response.content
    for url in ("/-/archiver/media/../../secret.jpg", "/-/archiver/media/%2e%2e%2fsecret.jpg",
                "/-/archiver/media/1/../../secret.jpg", "/-/archiver/media/999"):
        assert get(db_path, url, follow_redirects=True).status_code == 404, url
    assert media_file(db_path, real) is not None and media_file(db_path, "../secret.jpg") is None
    (folder / "archive.files" / "media" / "link.jpg").symlink_to(folder / "secret.jpg")
    assert media_file(db_path, "archive.files/media/link.jpg") is None


def test_serve_refuses_a_missing_archive(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope.db'}: no such archive (hint: run `archiver archive SOURCE` first)"
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.parametrize("path, status, said", [
    ("/archive/posts?_sort=nope", 400, "Cannot sort posts by 'nope'"),
    ("/archive/posts_overview?_sort_desc=nope", 400, "Cannot sort posts_overview by 'nope'"),
    ("/archive/posts.json?_sort=nope", 400, "it has no such column"),
    ("/archive/posts?_sort=handle", 200, None),
    ("/archive/posts?_search=%22", 200, None),
    ("/archive/articles?_search=React%22", 200, "React Native"),
    ("/archive/posts?_search=%22view+flattening%22", 200, None),
])
def test_typed_parameters_get_an_answer_not_an_error_page(archive, path, status, said):
    response = get(archive, path)
    assert response.status_code == status, response.text[:300]
    if said:
        assert said in response.text


def test_a_canned_querys_browser_title_is_its_title(archive, ids):
    page = get(archive, f"/archive/gone_posts_in_article?article={ids['story']}").text
    assert "<title>archive: Which posts in this article are gone?</title>" in page
    assert "SELECT" not in re.search(r"<title>(.*?)</title>", page, re.S).group(1)
