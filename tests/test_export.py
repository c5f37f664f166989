"""archiver export: WACZ packages of posts and articles that py-wacz validates and pywb replays."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.store.db import open_db
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import ROOT, SEEDS
from tests.test_browser import free_port
from tests.upstream import Upstream, upstream, wait_until  # noqa: F401  (fixture)

PYWB = Path(os.environ.get("ARCHIVER_PYWB_VENV", ROOT / ".venv-pywb")) / "bin"


def archive_seed(upstream, folder: Path) -> dict:
    """The seed article archived against the local upstream: 3 posts resolved through t.co, each with a photo."""
    served = seed_upstream(upstream, folder)
    db_path = folder / "archive.db"
    result = CliRunner().invoke(cli, ["archive", "--db", str(db_path), str(SEEDS)])
    assert result.exit_code == 0, result.output
    return {"db": db_path, "served": served, "upstream": upstream, "tmp": folder}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded archive for the tests that only read it."""
    with Upstream() as upstream:
        yield archive_seed(upstream, tmp_path_factory.mktemp("seeded"))


@pytest.fixture
def own_seeded(upstream, tmp_path):
    """A seeded archive of the test's own, for a test that damages it."""
    return archive_seed(upstream, tmp_path)


def export(db_path, *args):
    return CliRunner().invoke(cli, ["export", "--db", str(db_path), *map(str, args)])


def post_id_of(db_path, tweet_id: str) -> int:
    return open_db(db_path).execute("SELECT id FROM posts WHERE platform_post_id = ?", [tweet_id]).fetchone()[0]


def records(wacz: Path) -> list:
    """(type, target URI, headers, payload) of every record in the package's WARC files."""
    out = []
    with zipfile.ZipFile(wacz) as z:
        for name in z.namelist():
            if name.startswith("archive/"):
                for rec in ArchiveIterator(BytesIO(z.read(name))):
                    out.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                                dict(rec.rec_headers.headers), rec.content_stream().read()))
    return out


def manifest(wacz: Path) -> dict:
    with zipfile.ZipFile(wacz) as z:
        return json.loads(z.read("logs/archiver.json"))


def validate(wacz: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(wacz)], capture_output=True,
                          text=True, timeout=120)


def test_a_post_package_validates_and_holds_exactly_that_posts_exchanges(seeded):
    first, second = SEED_TWEETS[0], SEED_TWEETS[1]
    out = seeded["tmp"] / "post.wacz"
    result = export(seeded["db"], "--post", post_id_of(seeded["db"], first.tweet_id), "-o", out)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["posts"] == 1 and summary["missing"] == []
    check = validate(out)
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl", "indexes/index.cdx.gz",
                "archive/archiver-export.warc.gz", "logs/archiver.json"} <= names
        cdx = gzip.decompress(z.read("indexes/index.cdx.gz")).decode()
    recs = records(out)
    uris = {uri for _, uri, _, _ in recs}
    up = seeded["upstream"].url
    # the t.co hop of the resolution, the syndication answer, the photo: each as request and response
    assert f"{up}/{first.code}" in uris
    assert any(u.startswith(f"{up}/tweet-result?id={first.tweet_id}") for u in uris)
    assert any(u.startswith(f"{up}/media/{first.photo}") for u in uris)
    assert {"request", "response"} <= {t for t, *_ in recs}
    assert first.tweet_id in cdx and first.photo.lower() in cdx.lower()
    # exactly that post: nothing of another post of the same article
    assert not any(second.code in u or second.tweet_id in u for u in uris)
    body, photo = seeded["served"][first.tweet_id]
    payloads = {uri: payload for t, uri, _, payload in recs if t == "response"}
    assert any(p == body for u, p in payloads.items() if "tweet-result" in u)
    assert any(p == photo for u, p in payloads.items() if "/media/" in u)


def test_an_article_package_holds_the_article_as_stored_and_all_its_posts(seeded):
    out = seeded["tmp"] / "article.wacz"
    result = export(seeded["db"], "--article", 1, "-o", out)
    assert result.exit_code == 0, result.output
    assert validate(out).returncode == 0
    stored = open_db(seeded["db"]).execute(
        "SELECT b.content, b.sha256 FROM article_versions v JOIN bodies b ON b.sha256 = v.sha256").fetchone()
    resources = [(uri, h, p) for t, uri, h, p in records(out) if t == "resource" and uri.startswith("file:")]
    assert len(resources) == 1
    uri, headers, payload = resources[0]
    assert payload == stored[0] and headers["X-Archiver-Sha256"] == stored[1]
    assert uri == (SEEDS / "000_add2564ad87b768a.txt").resolve().as_uri()
    with zipfile.ZipFile(out) as z:
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").decode().splitlines()[1:]]
    assert sorted(p["url"] for p in pages) == sorted(
        f"https://twitter.com/{t.handle}/status/{t.tweet_id}" for t in SEED_TWEETS)
    assert all(p["title"].startswith("@") for p in pages)


def test_archiver_json_explains_the_package_and_points_at_each_record(seeded):
    out = seeded["tmp"] / "all.wacz"
    assert export(seeded["db"], "--all", "-o", out).exit_code == 0
    m = manifest(out)
    assert [a["id"] for a in m["articles"]] == [1] and len(m["posts"]) == 3
    post = next(p for p in m["posts"] if p["platform_post_id"] == SEED_TWEETS[2].tweet_id)
    assert post["status"] == "archived"
    assert [c["to_status"] for c in post["status_changes"]][-1] == "archived"
    assert post["resolutions"][0]["method"] == "tco-redirect"
    assert post["embeds"][0]["markup"] == "flattened-signature" and post["embeds"][0]["article_id"] == 1
    assert {s["source"] for s in post["snapshots"]} >= {"syndication"}
    with zipfile.ZipFile(out) as z:
        warc = z.read("archive/archiver-export.warc.gz")
    places = [r["package"] for p in m["posts"] for r in p["records"]]
    assert places and all(p is not None for p in places)
    for place in places:
        chunk = warc[place["package_offset"]:place["package_offset"] + place["length"]]
        assert hashlib.sha256(chunk).hexdigest() == place["sha256"]
    # every copied range is whole gzip members: the package WARC reads from each offset on
    for place in places:
        first = next(ArchiveIterator(BytesIO(warc[place["package_offset"]:])))
        assert first.rec_type in ("response", "request")


def test_an_article_read_by_url_brings_its_own_capture(upstream, tmp_path):
    seed_upstream(upstream, tmp_path)
    page = ('<html><head><title>Story</title></head><body><blockquote class="twitter-tweet"><p>Hi</p>&mdash; X '
            f'(@{SEED_TWEETS[0].handle}) <a href="https://twitter.com/{SEED_TWEETS[0].handle}/status/'
            f'{SEED_TWEETS[0].tweet_id}">February 4, 2026</a></blockquote></body></html>')
    url = upstream.route("/story.html", page, content_type="text/html; charset=utf-8")
    db_path = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["archive", "--db", str(db_path), url]).exit_code == 0
    out = tmp_path / "story.wacz"
    assert export(db_path, "--article", 1, "-o", out).exit_code == 0
    responses = {uri: p for t, uri, _, p in records(out) if t == "response"}
    assert responses[url] == page.encode()
    with zipfile.ZipFile(out) as z:
        assert url in z.read("pages/pages.jsonl").decode()


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "say what to export: --post ID, --article ID or --all"),
    (["--post", "999"], 1, "Error: no post 999 in this archive"),
    (["--article", "7"], 1, "Error: no article 7 in this archive"),
    (["--all", "--post", "1"], 2, "--all exports everything; give it alone"),
])
def test_export_refuses_what_it_cannot_do_in_one_line(seeded, args, code, message):
    out = seeded["tmp"] / "x.wacz"
    result = export(seeded["db"], *args, "-o", out)
    assert result.exit_code == code and message in result.output, result.output
    assert not out.exists()


def test_export_names_a_missing_warc_file_and_still_writes_what_it_has(own_seeded):
    seeded = own_seeded
    db = open_db(seeded["db"])
    gone = db.execute("SELECT warc_file FROM fetch_attempts WHERE warc_file IS NOT NULL").fetchone()[0]
    (seeded["db"].parent / gone).rename(seeded["db"].parent / (gone + ".moved"))
    out = seeded["tmp"] / "partial.wacz"
    result = export(seeded["db"], "--all", "-o", out)
    assert result.exit_code == 1 and "warning: not in the package, unreadable in the archive: " + gone in result.output
    assert validate(out).returncode == 0 and manifest(out)["missing"]


@pytest.fixture(scope="session")
def pywb() -> Path:
    """pywb's bin folder: a virtualenv of its own (it pins old libraries), made on first use beside the checkout."""
    venv = PYWB.parent
    if not (PYWB / "wayback").exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode == 0:
            made = subprocess.run([str(PYWB / "pip"), "install", "-q", "pywb"], capture_output=True, text=True,
                                  timeout=900)
        if made.returncode != 0 or not (PYWB / "wayback").exists():
            pytest.skip(f"pywb could not be installed into {venv}: {(made.stderr or made.stdout).strip()[-300:]}")
    return PYWB


def test_the_package_replays_in_pywb(seeded, tmp_path, pywb):
    """pywb, Webrecorder's replay system, in its own virtualenv, serves the archived bytes by their URLs."""
    out = seeded["tmp"] / "all.wacz"
    assert export(seeded["db"], "--all", "-o", out).exit_code == 0
    home = tmp_path / "pywb"
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": ""}
    for args in (["init", "evidence"], ["add", "--unpack-wacz", "evidence", str(out)]):
        subprocess.run([str(pywb / "wb-manager"), *args], cwd=home, env=env, check=True, capture_output=True,
                       timeout=120)
    port = free_port()
    proc = subprocess.Popen([str(pywb / "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=home, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        def replay(url):
            try:
                return httpx.get(f"http://127.0.0.1:{port}/evidence/2030id_/{url}", timeout=5)
            except httpx.TransportError:
                return None

        up = seeded["upstream"].url
        first = SEED_TWEETS[0]
        synd = next(uri for _, uri, _, _ in records(out) if uri.startswith(f"{up}/tweet-result?id={first.tweet_id}"))
        answer = wait_until(lambda: replay(synd), timeout=60, interval=0.2)
        body, photo = seeded["served"][first.tweet_id]
        assert answer.status_code == 200 and answer.content == body
        media = next(uri for _, uri, _, _ in records(out) if uri.startswith(f"{up}/media/{first.photo}"))
        assert replay(media).content == photo
        card = replay(f"https://twitter.com/{first.handle}/status/{first.tweet_id}")
        assert card.status_code == 200 and b"not a capture of" in card.content
    finally:
        proc.terminate()
        proc.wait(timeout=10)
