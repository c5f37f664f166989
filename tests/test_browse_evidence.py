"""Proof in the browser: record pages, WACZ and JSON downloads, timestamp status, the article as captured."""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from io import BytesIO

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from tests.built import SEED_TWEETS, seed_upstream, tweet_json
from tests.conftest import SEEDS
from tests.test_browse import get
from tests.test_browser import CHROMIUM, free_port, wait_for
from tests.upstream import Upstream

HOSTILE_TWEET_TEXT = '</pre><script>alert("record")</script><img src=x onerror=alert(1)> hostile'
@pytest.fixture(scope="module")
def beacon():
    """A server a hostile article tries to reach; nothing may arrive."""
    with Upstream() as server:
        yield server


@pytest.fixture(scope="module")
def archive(tmp_path_factory, tsa, beacon):
    """The seed (one tweet's text made hostile), a hostile HTML article, timestamps from the local TSA."""
    folder = tmp_path_factory.mktemp("evidence-browse")
    hostile_page = folder / "hostile.html"
    t = SEED_TWEETS[0]
    hostile_page.write_text(
        "<html><head><title>A hostile article</title></head><body><h1>Hostile</h1>"
        "<script>alert('script ran')</script><img src=x onerror=\"alert('onerror ran')\">"
        f"<img src=\"{beacon.url}/pixel.gif\"><link rel=stylesheet href=\"{beacon.url}/style.css\">"
        f"<iframe src=\"{beacon.url}/frame\"></iframe>"
        f'<blockquote class="twitter-tweet"><p>x</p>&mdash; X (@{t.handle}) <a href="https://twitter.com/'
        f'{t.handle}/status/{t.tweet_id}">February 4, 2026</a></blockquote></body></html>', encoding="utf-8")
    with Upstream() as upstream:
        seed_upstream(upstream, folder, extra_config=f'[timestamps]\ntsa_urls = ["{tsa.url}"]\n')
        bad = SEED_TWEETS[1]
        upstream.route("/tweet-result", tweet_json(bad).replace(bad.text.encode(), HOSTILE_TWEET_TEXT.replace(
            '"', '\\"').encode()), query={"id": bad.tweet_id}, content_type="application/json")
        db_path = folder / "archive.db"
        for source in (SEEDS, hostile_page):
            result = CliRunner().invoke(cli, ["archive", "--db", str(db_path), str(source)])
            assert result.exit_code == 0, result.output
    return db_path


def one(db_path, sql, params=()):
    import sqlite3

    return sqlite3.connect(db_path).execute(sql, params).fetchone()


def test_a_post_card_offers_its_evidence_and_says_when_it_was_timestamped(archive, tsa):
    pid = one(archive, "SELECT id FROM posts WHERE platform_post_id = ?", [SEED_TWEETS[0].tweet_id])[0]
    html = get(archive, f"/-/archiver/post/{pid}").text
    assert f'href="/-/archiver/post/{pid}.wacz">Download evidence (WACZ)</a>' in html
    assert f'href="/-/archiver/post/{pid}.json">Download JSON</a>' in html
    gen_time = one(archive, "SELECT gen_time FROM timestamps WHERE status = 'granted'")[0]
    assert f"by TSA {tsa.url} at {gen_time}" in html
    snap = one(archive, "SELECT id FROM snapshots WHERE post_id = ? AND source = 'syndication'", [pid])[0]
    assert f'href="/-/archiver/snapshot/{snap}"' in html


def test_a_post_not_covered_by_any_token_says_so(tmp_path):
    db = tmp_path / "archive.db"
    page = tmp_path / "a.html"
    t = SEED_TWEETS[2]
    page.write_text(f'<blockquote class="twitter-tweet"><p>x</p>&mdash; X (@{t.handle}) <a href="https://twitter.com/'
                    f'{t.handle}/status/{t.tweet_id}">February 4, 2026</a></blockquote>')
    assert CliRunner().invoke(cli, ["archive", "--db", str(db), "--no-fetch", str(page)]).exit_code == 0
    assert "not yet timestamped" in get(db, "/-/archiver/post/1").text


def test_the_record_page_shows_the_exchange_escaped_with_its_provenance(archive):
    bad = SEED_TWEETS[1]
    sid, sha, warc_file, offset = one(
        archive, "SELECT s.id, s.sha256, s.warc_file, s.warc_offset FROM snapshots s JOIN posts p ON p.id = "
                 "s.post_id WHERE p.platform_post_id = ? AND s.source = 'syndication'", [bad.tweet_id])
    response = get(archive, f"/-/archiver/snapshot/{sid}")
    assert response.status_code == 200
    assert "script-src" not in response.headers["content-security-policy"]
    html = response.text
    assert sha in html and warc_file in html and f"at offset {offset}" in html
    assert re.search(r"<code>&lt;urn:uuid:[0-9a-f-]{36}&gt;</code>", html)  # the WARC-Record-ID
    assert f'"id_str": "{bad.tweet_id}"' in html.replace("&#34;", '"')  # pretty-printed JSON
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    request_part = html[html.index("<h2>Request</h2>"):html.index("<h2>Response")]
    assert "user-agent: archiver/" in request_part.lower()  # the request's headers, as sent
    twin = get(archive, f"/-/archiver/snapshot/{sid}.json").json()
    assert twin["snapshot"]["sha256"] == sha and twin["response"]["status"] == 200
    assert json.loads(twin["body_text"])["id_str"] == bad.tweet_id


def test_the_warc_record_downloads_as_a_readable_warc(archive):
    sid, body_sha = one(archive, "SELECT id, sha256 FROM snapshots WHERE source = 'syndication' ORDER BY id")
    response = get(archive, f"/-/archiver/snapshot/{sid}.warc.gz")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    records = [(r.rec_type, r.content_stream().read()) for r in ArchiveIterator(BytesIO(response.content))]
    assert [t for t, _ in records] == ["response", "request"]
    import hashlib

    assert hashlib.sha256(records[0][1]).hexdigest() == body_sha


def test_the_post_downloads_as_a_valid_package_and_as_json(archive, tsa, tmp_path):
    pid = one(archive, "SELECT id FROM posts WHERE platform_post_id = ?", [SEED_TWEETS[0].tweet_id])[0]
    response = get(archive, f"/-/archiver/post/{pid}.wacz")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    package = tmp_path / "post.wacz"
    package.write_bytes(response.content)
    check = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(package)], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout
    verified = CliRunner().invoke(cli, ["verify", str(package), "--tsa-root", str(tsa.root)])
    assert verified.exit_code == 0, verified.output
    data = get(archive, f"/-/archiver/post/{pid}.json").json()
    assert data["platform_post_id"] == SEED_TWEETS[0].tweet_id and data["snapshots"] and data["timestamps"]
    assert get(archive, "/-/archiver/post/99999.wacz").status_code == 404


def test_the_article_as_captured_is_served_inert(archive):
    vid = one(archive, "SELECT v.id FROM article_versions v JOIN articles a ON a.id = v.article_id "
                       "WHERE a.source LIKE '%hostile.html'")[0]
    response = get(archive, f"/-/archiver/version/{vid}/captured")
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "script-src" not in csp and "default-src 'none'" in csp
    assert "img-src data:" in csp and response.headers["content-type"].startswith("text/html")
    aid = one(archive, "SELECT article_id FROM article_versions WHERE id = ?", [vid])[0]
    page = get(archive, f"/-/archiver/article/{aid}").text
    assert f'<iframe class="captured-frame" sandbox src="/-/archiver/version/{vid}/captured"' in page


def test_the_new_pages_honour_datasette_permissions(archive):
    from datasette.app import Datasette

    from archiver.browse.metadata import build_metadata

    metadata = build_metadata("archive")
    metadata["databases"]["archive"]["tables"]["snapshots"]["allow"] = {"id": "editor"}
    metadata["databases"]["archive"]["tables"]["posts"]["allow"] = {"id": "editor"}
    metadata["databases"]["archive"]["tables"]["bodies"]["allow"] = {"id": "editor"}
    ds = Datasette(files=[str(archive)], metadata=metadata)

    async def go():
        try:
            return [(await ds.client.get(p)).status_code for p in (
                "/-/archiver/snapshot/1", "/-/archiver/snapshot/1.json", "/-/archiver/snapshot/1.warc.gz",
                "/-/archiver/post/1.json", "/-/archiver/post/1.wacz", "/-/archiver/version/1/captured")]
        finally:
            for db in ds.databases.values():
                db.close()

    assert asyncio.run(go()) == [403] * 6


# -- a real browser

def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


@pytest.fixture(scope="module")
def served(archive):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(archive), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/-/archiver/", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.skipif(CHROMIUM is None or _playwright() is None,
                    reason="needs Debian's chromium (apt-get install chromium) and playwright (the test extra)")
def test_in_a_browser_the_evidence_link_leads_to_the_record_and_a_hostile_article_runs_nothing(
        served, archive, beacon):
    dialogs, requests, failed = [], [], {}
    with _playwright()() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.__setitem__(r.url, r.failure))
            t = SEED_TWEETS[0]
            pid = one(archive, "SELECT id FROM posts WHERE platform_post_id = ?", [t.tweet_id])[0]
            page.goto(f"{served}/-/archiver/post/{pid}")
            page.click("a.record-link")  # the first snapshot of the card: its WARC record
            page.wait_for_selector("pre.body")
            assert "Snapshot" in page.title() and t.tweet_id in page.inner_text("pre.body")
            bad = SEED_TWEETS[1]
            pid_bad = one(archive, "SELECT id FROM posts WHERE platform_post_id = ?", [bad.tweet_id])[0]
            sid = one(archive, "SELECT id FROM snapshots WHERE post_id = ? AND source = 'syndication'", [pid_bad])[0]
            page.goto(f"{served}/-/archiver/snapshot/{sid}")
            assert "<script>alert" in page.inner_text("pre.body")  # shown as text
            aid = one(archive, "SELECT id FROM articles WHERE source LIKE '%hostile.html'")[0]
            page.goto(f"{served}/-/archiver/article/{aid}")
            page.click("details.captured summary")
            frame = page.frame_locator("iframe.captured-frame")
            assert frame.locator("h1").inner_text() == "Hostile"  # the capture is shown
            page.wait_for_load_state("networkidle")  # every script, image or frame has had its chance
        finally:
            browser.close()
    assert dialogs == []
    assert beacon.requests == []
    # what the article asked for elsewhere was refused by the browser itself, before any connection
    outside = [u for u in requests if not u.startswith((served, "data:", "about:"))]
    assert outside and {failed.get(u) for u in outside} == {"csp"}, (outside, failed)
