"""The card lists people start from (issue 9): search, filters, paging over 600 articles, gone posts,
recent changes, the .json twins, and styles that stay on the plugin's pages."""
from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest

from archiver.browse import build_datasette
from archiver.browse.lists import PAGE_SIZE
from archiver.models import Embed
from archiver.read.articles import article_from_bytes
from archiver.store.articles import save_article
from archiver.store.db import open_db, transaction

ARTICLES = 600
SITES = ("The Daily Build", "Harbour Gazette", "Night Desk")


def page_html(n: int) -> bytes:
    site = SITES[n % 3]
    return (f'<html><head><title>Story {n} zq{n:04d}x</title><meta property="og:site_name" content="{site}">'
            f'<meta property="article:published_time" content="2025-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z">'
            f'</head><body><p>text</p></body></html>').encode()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """600 articles of three sites; every article but the last ten embeds one post of its own (a tweet,
    every fifth a TikTok); every seventh post gone; each change recorded."""
    path = tmp_path_factory.mktemp("lists") / "archive.db"
    db = open_db(path)
    for n in range(ARTICLES):
        embeds = []
        if n < ARTICLES - 10:
            platform = "tiktok" if n % 5 == 0 else "twitter"
            embeds = [Embed(platform=platform, markup="test", detector="test", post_id=str(10**15 + n),
                            handle=f"author{n}", text=f"post words kq{n:04d}w about things", raw="")]
        article = replace(article_from_bytes(f"https://news.example.org/{n}.html", page_html(n)),
                          title=f"Story {n} zq{n:04d}x", site_name=SITES[n % 3],
                          published=f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T08:00:00Z")
        save_article(db, article, embeds, "test", now=f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z")
    with transaction(db):
        db.execute("UPDATE posts SET status = 'archived', status_changed_at = '2026-02-01T00:00:00Z'")
        db.execute("UPDATE posts SET status = 'unavailable', status_changed_at = '2026-03-01T00:00:00Z' "
                   "WHERE id % 7 = 0")
        db.execute("INSERT INTO post_status_changes (post_id, from_status, to_status, reason, changed_at) "
                   "SELECT id, 'archived', status, 'tombstone from syndication', status_changed_at FROM posts "
                   "WHERE status = 'unavailable'")
    db.close()
    return path


@pytest.fixture(scope="module")
def client(archive):
    ds = build_datasette(archive)

    def get(path):
        async def go():
            return await ds.client.get(path)
        return asyncio.run(go())
    return get


def listed(client, query: str = "") -> tuple[list[int], int]:
    data = client("/-/archiver/articles.json" + query).json()
    return [a["article_id"] for a in data["articles"]], data["total"]


def test_every_article_with_posts_is_reachable_by_paging(client):
    seen, page = [], 1
    while True:
        data = client(f"/-/archiver/articles.json?page={page}").json()
        seen += [a["article_id"] for a in data["articles"]]
        if page >= data["pages"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == ARTICLES - 10 and data["pages"] == -(-(ARTICLES - 10) // PAGE_SIZE)
    html = client("/-/archiver/?page=2").text
    assert f"Articles {PAGE_SIZE + 1}–{2 * PAGE_SIZE} of {ARTICLES - 10}" in html
    assert 'rel="next" href="/-/archiver/?page=3"' in html and 'rel="prev" href="/-/archiver/"' in html


def test_every_article_is_found_by_search(client):
    for n in range(ARTICLES):
        word = f"zq{n:04d}x" if n % 2 else f"kq{n:04d}w"  # a title's word, or its post's text's
        if n >= ARTICLES - 10:
            word = f"zq{n:04d}x"
        ids, total = listed(client, f"?q={word}" + ("&posts=none" if n >= ARTICLES - 10 else ""))
        assert total == 1 and len(ids) == 1, (n, word, ids)


def test_articles_without_posts_are_shown_apart(client):
    html = client("/-/archiver/").text
    assert 'href="/-/archiver/?posts=none">10 article(s) embed no post</a>' in html
    ids, total = listed(client, "?posts=none")
    assert total == 10 and len(ids) == 10


@pytest.mark.parametrize("query, expected", [
    ("?platform=tiktok", lambda n: n % 5 == 0),
    ("?status=unavailable", lambda n: (n + 1) % 7 == 0),
    ("?gone=1", lambda n: (n + 1) % 7 == 0),
    ("?site=Harbour+Gazette", lambda n: n % 3 == 1),
    ("?from=2025-03-01&to=2025-03-31", lambda n: 1 + n % 12 == 3),
    ("?q=author12+things", lambda n: str(n).startswith("12")),
])
def test_filters_find_exactly_what_they_say(client, query, expected):
    want = sum(1 for n in range(ARTICLES - 10) if expected(n))
    _, total = listed(client, query)
    assert total == want and want > 0


def test_gone_posts_and_recent_changes_are_lists_of_cards(client):
    gone = client("/-/archiver/gone").text
    unavailable = (ARTICLES - 10) // 7
    assert f"{unavailable} post(s) unavailable" in gone and gone.count('<article class="card') == PAGE_SIZE
    data = client("/-/archiver/gone.json?page=2").json()
    assert data["page"] == 2 and len(data["posts"]) == unavailable - PAGE_SIZE
    assert all(p["status"] == "unavailable" for p in data["posts"])
    changes = client("/-/archiver/changes").text
    recorded = (ARTICLES - 10) + unavailable  # each post's first status, then the changes to unavailable
    assert f"{recorded} status change(s)" in changes
    newest = client("/-/archiver/changes.json").json()
    assert newest["total"] == recorded and newest["changes"][0]["to_status"] == "unavailable"
    assert f'href="/-/archiver/post/{newest["changes"][0]["post_id"]}"' in changes


def test_card_pages_have_json_twins(client):
    article = client("/-/archiver/article/1.json").json()
    assert article["article"]["id"] == 1 and article["posts"][0]["handle"] == "author0"
    assert client("/-/archiver/post/1.json").json()["id"] == 1


def test_typed_parameters_never_break_a_list(client):
    for query in ("?page=nope", "?page=-4", "?page=99999999999", "?q=%22", "?q=%25%5F", "?from=garbage",
                  "?status=%27%3B+DROP+TABLE+posts", "?q=" + "x" * 5000):
        response = client("/-/archiver/" + query)
        assert response.status_code == 200, query


def test_the_stylesheet_only_styles_the_plugins_pages():
    from archiver.browse.web import HERE

    css = re.sub(r"/\*.*?\*/", "", (HERE / "static" / "archiver.css").read_text(), flags=re.S)
    css = re.sub(r"@media[^{]*\{", "", css)
    for selectors in re.findall(r"([^{}]+)\{", css):
        for selector in selectors.split(","):
            selector = selector.strip()
            assert selector.startswith((":root", ".archiver-status", "body.archiver", ".archiver ")), selector


def test_in_a_browser_a_journalist_walks_from_search_to_a_card_and_back_on_a_phone(archive, tmp_path):
    import subprocess
    import sys

    from tests.test_browse_evidence import _playwright
    from tests.test_browser import CHROMIUM, free_port, wait_for

    if CHROMIUM is None or _playwright() is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium) and playwright (the test extra)")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(archive), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    widths = {}

    def fits(page, name):
        """No page wider than the phone: what scrolls sideways is cut off for a reader."""
        widths[name] = page.evaluate("document.documentElement.scrollWidth")
        assert widths[name] <= 390, (name, widths[name])

    try:
        wait_for(base + "/-/archiver/", proc)
        with _playwright()() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.goto(base + "/")  # home: the cards
                assert page.url == base + "/-/archiver/"
                fits(page, "home")
                page.fill("input[name=q]", "kq0042w")  # a word of a tweet
                page.click("form.finder button")
                page.wait_for_url(re.compile(r".*q=kq0042w.*"))
                fits(page, "search")
                page.click("ul.article-list a.title")
                page.wait_for_selector("article.card")
                assert "author42" in page.inner_text("article.card")
                fits(page, "article")
                page.click("article.card a[href^='/-/archiver/post/']")
                page.wait_for_url(re.compile(r".*/-/archiver/post/\d+$"))
                fits(page, "post")
                page.click("header.top a[href='/-/archiver/gone']")
                page.wait_for_selector("article.card")
                assert "unavailable" in page.inner_text("main")
                fits(page, "gone")
                page.go_back()
                page.wait_for_url(re.compile(r".*/-/archiver/post/\d+$"))
                desktop = browser.new_page(viewport={"width": 1280, "height": 900})
                desktop.goto(base + "/-/archiver/gone")
                assert desktop.evaluate("document.documentElement.scrollWidth") <= 1280
                desktop.goto(base + "/archive/posts")  # Datasette's own page keeps its footer readable
                colour = desktop.evaluate("getComputedStyle(document.querySelector('footer')).color")
                assert colour != "rgb(92, 107, 122)", colour  # not the plugin's muted grey
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    assert set(widths) == {"home", "search", "article", "post", "gone"}


def test_posts_a_page_does_not_tell_apart_are_one_card(tmp_path):
    db_path = tmp_path / "archive.db"
    db = open_db(db_path)
    blank = [Embed(platform="instagram", markup="test", detector="test", post_id=f"Blank{n:04d}xy", raw="")
             for n in range(12)]
    told = [Embed(platform="twitter", markup="test", detector="test", post_id=str(10**15 + n), handle=f"who{n}",
                  raw="") for n in range(2)]
    article = replace(article_from_bytes("https://news.example.org/many.html", b"<html><p>x</p></html>"),
                      title="Many embeds")
    save_article(db, article, told[:1] + blank + told[1:], "test")
    db.close()
    ds = build_datasette(db_path)

    async def go():
        return await ds.client.get("/-/archiver/article/1")
    html = asyncio.run(go()).text
    assert html.count('<article class="card') == 3  # two told apart, one for the twelve
    assert "12 instagram embeds this page does not tell apart" in html
    assert all(f'href="/-/archiver/post/{n}">post {n}</a>' in html for n in range(2, 14))
    assert html.index("@who0") < html.index("12 instagram embeds") < html.index("@who1")  # in the page's order


@pytest.mark.parametrize("written, stored", [
    ("Wed, 04 May 2022 00:25:56 GMT", "2022-05-04T00:25:56Z"),
    ("2022-05-04T00:25:56+02:00", "2022-05-03T22:25:56Z"),
    ("2022-11-06T23:00:00.000Z", "2022-11-06T23:00:00Z"),
    ("2022-05-04", "2022-05-04"),  # a date with no time stays a date
    ("May 4, 2022", "2022-05-04"),
    ("Wednesday, 4 May 2022 - 10:00", "2022-05-04"),
    ("2009-04-11 18:06:36", "2009-04-11T18:06:36"),  # no zone said: none claimed
    ("sometime last spring", None),
])
def test_publication_dates_are_stored_in_iso_with_the_text_beside(tmp_path, written, stored):
    db = open_db(tmp_path / "archive.db")
    save_article(db, replace(article_from_bytes("a.html", b"<html><p>x</p></html>"), published=written), [], "t")
    assert db.execute("SELECT published_at, published_text FROM articles").fetchone() == (stored, written)


def test_existing_dates_are_migrated_to_iso(tmp_path, monkeypatch):
    import archiver.store.db as store
    from archiver.store.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    monkeypatch.setattr(store, "MIGRATIONS", MIGRATIONS[:8])  # an archive from before the ISO dates
    monkeypatch.setattr(store, "FTS", {**store.FTS, "articles": ["title", "site_name"]})  # and its index
    db = open_db(path)
    for n, written in enumerate(("Wed, 04 May 2022 00:25:56 GMT", "2022-05-04", "not a date", None)):
        db.execute("INSERT INTO articles (source, published_at, first_seen_at, last_seen_at) VALUES (?, ?, 'x', 'x')",
                   [f"a{n}.html", written])
    db.conn.commit()
    db.close()
    monkeypatch.undo()
    db = open_db(path)
    assert db.execute("SELECT published_at, published_text FROM articles ORDER BY id").fetchall() == [
        ("2022-05-04T00:25:56Z", "Wed, 04 May 2022 00:25:56 GMT"), ("2022-05-04", "2022-05-04"),
        (None, "not a date"), (None, None)]


def test_each_embed_keeps_the_paragraph_before_it_and_only_what_cannot_be_told_apart_is_grouped(tmp_path):
    from archiver.detect.scan import detect_html

    blank = '<div class="instagram-media-lazy instagram"><a href="https://www.instagram.com/p/{code}/">View</a></div>'
    page = ("<html><body><p>First, the mayor posted a photo of the flood.</p>" + blank.format(code="FloodPic001")
            + "<p>Then the council answered with its own.</p>" + blank.format(code="Council0001")
            + "".join(blank.format(code=f"Gallery{n:04d}") for n in range(5)) + "</body></html>")
    embeds = detect_html(page)
    assert [e.surrounding for e in embeds[:2]] == ["First, the mayor posted a photo of the flood.",
                                                   "Then the council answered with its own."]
    db = open_db(tmp_path / "archive.db")
    save_article(db, replace(article_from_bytes("https://news.example.org/flood.html", page.encode()),
                             title="Flood"), embeds, "test")
    assert db.execute("SELECT surrounding FROM embeds ORDER BY id LIMIT 1").fetchone()[0].startswith("First, the")
    db.close()
    ds = build_datasette(tmp_path / "archive.db")

    async def go():
        return await ds.client.get("/-/archiver/article/1")
    html = asyncio.run(go()).text
    assert "just before it: “First, the mayor posted a photo of the flood.”" in html
    # the first stands apart by its paragraph; the six after the second paragraph cannot be told apart
    assert html.count('<article class="card') == 2 and "6 instagram embeds this page does not tell apart" in html
    assert "just before them: “Then the council answered with its own.”" in html


def test_an_articles_own_words_and_url_are_searched(tmp_path):
    from archiver.run.pipeline import process_source

    page = tmp_path / "story.html"
    page.write_text("<html><head><title>Council meeting</title><script>var hidden='zzscriptword';</script></head>"
                    "<body><p>The harbour dredging plan was approved by seven votes.</p></body></html>")
    db = open_db(tmp_path / "archive.db")
    assert process_source(str(page), db=db).error is None
    db.close()
    ds = build_datasette(tmp_path / "archive.db")

    def found(path):
        async def go():
            return await ds.client.get(path)
        return asyncio.run(go()).json()

    assert [r["title"] for r in found("/archive/articles.json?_search=dredging&_shape=array")] == ["Council meeting"]
    assert found("/archive/articles.json?_search=story.html&_shape=array")  # its URL or path
    assert found("/archive/articles.json?_search=zzscriptword&_shape=array") == []  # scripts are not words
    assert found("/-/archiver/articles.json?q=dredging&posts=none")["total"] == 1


def test_an_older_archive_gets_the_new_search_index(tmp_path, monkeypatch):
    import archiver.store.db as store
    from archiver.store.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    monkeypatch.setattr(store, "MIGRATIONS", MIGRATIONS[:10])
    monkeypatch.setattr(store, "FTS", {**store.FTS, "articles": ["title", "site_name"]})  # as it was then
    db = open_db(path)
    db.execute("INSERT INTO articles (source, title, first_seen_at, last_seen_at) VALUES "
               "('https://x.example/harbour.html', 'Harbour news', 'x', 'x')")
    db.conn.commit()
    db.close()
    monkeypatch.undo()
    db = open_db(path)
    hits = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'harbour'").fetchall()
    assert hits == [(1,)]  # by its title and its URL, from the rebuilt index


HOSTILE = "<script>alert('list')</script><img src=x onerror=alert(2)>"


def test_the_new_pages_escape_hostile_text_and_keep_the_strict_policy(tmp_path):
    db = open_db(tmp_path / "archive.db")
    page = f"<html><body><p>Before it: {HOSTILE}</p><blockquote class='twitter-tweet'><p>{HOSTILE} hostileword</p>" \
           f"&mdash; Mal (@mallory) <a href='https://twitter.com/mallory/status/123456'>May 1, 2024</a></blockquote>" \
           f"</body></html>"
    from archiver.detect.scan import detect_html

    article = replace(article_from_bytes("https://evil.example/a.html", page.encode()), title=f"Title {HOSTILE}",
                      site_name=HOSTILE)
    save_article(db, article, detect_html(page), "test")
    with transaction(db):
        db.execute("UPDATE posts SET status = 'unavailable', status_changed_at = '2026-03-01T00:00:00Z'")
        db.execute("INSERT INTO post_status_changes (post_id, from_status, to_status, reason, changed_at) "
                   f"VALUES (1, 'archived', 'unavailable', ?, '2026-03-01T00:00:00Z')", [HOSTILE])
    db.close()
    ds = build_datasette(tmp_path / "archive.db")

    def get(path):
        async def go():
            return await ds.client.get(path)
        return asyncio.run(go())

    for path in ("/-/archiver/", "/-/archiver/?q=hostileword", "/-/archiver/gone", "/-/archiver/changes",
                 "/-/archiver/article/1", "/-/archiver/?q=%3Cscript%3E"):
        response = get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(" in html, path  # shown, as text
        assert "script-src" not in response.headers["content-security-policy"], path
