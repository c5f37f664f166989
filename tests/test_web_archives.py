"""WARC and ARC files as article sources (issue 12): records read by reference, counted, checked again,
and the same archive whether detected serially, on a Dask LocalCluster of 2 workers, or with one killed."""
from __future__ import annotations

import gzip
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.cli import cli
from archiver.read.warcs import payload_sha1, read_record_at


def tweet(handle: str, tweet_id: int, text: str = "A post") -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en">{text}</p>&mdash; Someone (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tweet_id}">May 1, 2024</a></blockquote>')


# Hand-written pages: some embed posts (Twitter, YouTube, Instagram), some embed none.
PAGES = {
    f"https://news.example/{i}": (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Story {i}</title></head><body><article>"
        f"<h1>Story {i}</h1><p>Paragraph of story {i}.</p>"
        + (tweet(f"reporter{i}", 10**17 + i) if i % 3 == 0 else "")
        + (f"<iframe src='https://www.youtube.com/embed/vid{i:06d}xx'></iframe>" if i % 4 == 0 else "")
        + (f"<blockquote class='instagram-media' data-instgrm-permalink='https://www.instagram.com/p/Post{i}AbC/'>"
           "</blockquote>" if i % 5 == 0 else "")
        + "</article></body></html>").encode("utf-8")
    for i in range(1, 21)
}


def write_warc(path: Path, pages: dict = PAGES, gz: bool = True) -> dict[str, int]:
    """A WARC as crawlers write it: request and response per page, an image, a 404, a revisit; {uri: offset}."""
    offsets = {}
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "tests"}))
        for uri, body in pages.items():
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "news.example")], is_http_request=True)
            w.write_record(w.create_warc_record(uri, "request", http_headers=req))
            offsets[uri] = fh.tell()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http))
        img = StatusAndHeaders("200 OK", [("Content-Type", "image/jpeg")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://news.example/a.jpg", "response",
                                            payload=io.BytesIO(b"\xff\xd8\xff" + b"0" * 64), http_headers=img))
        gone = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://news.example/gone", "response",
                                            payload=io.BytesIO(b"<html>gone</html>"), http_headers=gone))
        for uri in list(pages)[:3]:  # a later crawl saw the first pages again, unchanged
            offsets["revisit " + uri] = fh.tell()
            w.write_record(w.create_revisit_record(uri, digest=payload_sha1(pages[uri]), refers_to_uri=uri,
                                                   refers_to_date="2024-05-01T00:00:00Z"))
    return offsets


def write_files(folder: Path, pages: dict = PAGES) -> None:
    folder.mkdir()
    for uri, body in pages.items():
        (folder / (uri.rsplit("/", 1)[1] + ".html")).write_bytes(body)


def run(*args, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def natural(db_path) -> dict:
    """The archive by natural keys (never row ids): articles with embeds by their bytes' SHA-256, embeds, posts."""
    c = sqlite3.connect(db_path)
    out = {
        "articles": sorted(r[0] for r in c.execute(
            "SELECT DISTINCT v.sha256 FROM article_versions v JOIN embeds e ON e.article_version_id = v.id")),
        "embeds": sorted(c.execute(
            "SELECT v.sha256, e.ordinal, e.platform, e.markup, p.platform_post_id, e.handle, e.text FROM embeds e "
            "JOIN article_versions v ON v.id = e.article_version_id JOIN posts p ON p.id = e.post_id")),
        "posts": sorted(c.execute("SELECT platform, platform_post_id, handle, canonical_url FROM posts")),
    }
    c.close()
    return out


def test_a_warc_gives_the_same_archive_as_the_same_pages_as_files(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    offsets = write_warc(warc)
    write_files(tmp_path / "pages")
    run("archive", "--no-fetch", "--db", tmp_path / "w.db", warc)
    run("archive", "--no-fetch", "--db", tmp_path / "f.db", tmp_path / "pages")
    from_warc, from_files = natural(tmp_path / "w.db"), natural(tmp_path / "f.db")
    assert from_warc == {**from_files, "posts": from_warc["posts"]} and from_warc["posts"] == from_files["posts"]
    # pages 3, 6, ... (a tweet), 4, 8, ... (a video), 5, 10, ... (an Instagram post): 12 pages, 15 posts
    assert len(from_warc["articles"]) == 12 and len(from_warc["posts"]) == 15
    c = sqlite3.connect(tmp_path / "w.db")
    # only the pages that embed a post are rows; the rest are counted per file
    assert c.execute("SELECT count(*) FROM articles").fetchone() == (12,)
    row = dict(zip(("records", "html", "with_embeds", "without_embeds", "non_html", "revisits", "other", "errors"),
                   c.execute("SELECT records, html, with_embeds, without_embeds, non_html, revisits, other, errors "
                             "FROM web_archive_files WHERE file = 'crawl.warc.gz'").fetchone()))
    assert row == {"records": 46, "html": 20, "with_embeds": 12, "without_embeds": 8, "non_html": 2, "revisits": 3,
                   "other": 21, "errors": 0}
    # provenance: the record's place, id and digest; the bytes stay in the WARC (a reference, not a copy)
    uri = "https://news.example/3"
    file, offset, length, record_id, digest, sha, content, by_ref = c.execute(
        "SELECT v.source_file, v.source_offset, v.source_length, v.source_record_id, v.source_payload_digest, "
        "v.sha256, b.content, b.by_reference FROM article_versions v JOIN articles a ON a.id = v.article_id "
        "JOIN bodies b ON b.sha256 = v.sha256 WHERE a.source = ?", [uri]).fetchone()
    assert (file, offset, by_ref, content) == ("crawl.warc.gz", offsets[uri], 1, b"")
    payload, headers = read_record_at(str(warc), offset)
    assert payload == PAGES[uri] and headers["WARC-Record-ID"] == record_id
    assert headers["WARC-Payload-Digest"] == digest and length > len(PAGES[uri]) // 4
    # revisits link to the stored content they repeat (pages 1 and 2 embed nothing: counted only)
    assert c.execute("SELECT a.source, r.source_file, r.source_offset FROM article_revisits r JOIN article_versions v "
                     "ON v.id = r.article_version_id JOIN articles a ON a.id = v.article_id").fetchall() == [
        (uri, "crawl.warc.gz", offsets["revisit " + uri])]
    c.close()
    # pages read again from the WARC are the same versions: nothing added
    before = natural(tmp_path / "w.db")
    run("archive", "--no-fetch", "--db", tmp_path / "w.db", warc)
    assert natural(tmp_path / "w.db") == before


def test_keep_all_stores_every_page_and_bytes_stay_out_of_the_database(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    run("archive", "--no-fetch", "--keep-all", "--db", tmp_path / "a.db", warc)
    c = sqlite3.connect(tmp_path / "a.db")
    assert c.execute("SELECT count(*) FROM articles").fetchone() == (20,)
    assert c.execute("SELECT sum(length(content)), count(*) FROM bodies").fetchone() == (0, 20)
    c.close()


def test_a_warc_article_keeps_its_opening_words_for_search_and_the_record_the_rest(tmp_path):
    from archiver.read.metadata import RECORD_READABLE_MAX

    words = " ".join(f"word{i}" for i in range(2_000))
    long_page = {"https://news.example/long": (
        f"<html><head><title>Long story</title></head><body><p>Openingword {words} Closingword</p>"
        + tweet("reporter", 10**17 + 77) + "</body></html>").encode()}
    write_warc(tmp_path / "long.warc.gz", long_page)
    write_files(tmp_path / "pages", long_page)
    run("archive", "--no-fetch", "--db", tmp_path / "w.db", tmp_path / "long.warc.gz")
    run("archive", "--no-fetch", "--db", tmp_path / "f.db", tmp_path / "pages")
    [(from_warc,)] = sqlite3.connect(tmp_path / "w.db").execute("SELECT readable_text FROM articles").fetchall()
    [(from_file,)] = sqlite3.connect(tmp_path / "f.db").execute("SELECT readable_text FROM articles").fetchall()
    assert len(from_file) > 10_000 and "Closingword" in from_file  # a file's article keeps all its words
    assert from_warc == from_file[:RECORD_READABLE_MAX]
    search = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
    c = sqlite3.connect(tmp_path / "w.db")
    assert c.execute(search, ["Openingword"]).fetchone() == (1,) and c.execute(search, ["Closingword"]).fetchone() == (0,)
    c.close()


def test_a_page_with_no_hint_is_counted_without_being_parsed(tmp_path, monkeypatch):
    from archiver.run import pipeline

    pages = {
        "https://news.example/embed": f"<html><body><p>Look:</p>{tweet('reporter', 10**17 + 5)}</body></html>".encode(),
        "https://news.example/prose": b"<html><body><p>As <a href='https://twitter.com/someone/status/1234'>she "
                                      b"wrote</a>.</p></body></html>",  # a hint, no embed: parsed, then found empty
        "https://news.example/plain": b"<html><head><title>Plain</title></head><body><p>Words only.</p></body></html>",
    }
    from archiver.detect.located import LocatedPage

    write_warc(tmp_path / "crawl.warc.gz", pages)
    parsed, detected = [], []
    real, build = pipeline.parse_html, LocatedPage.build.__func__
    monkeypatch.setattr(pipeline, "parse_html", lambda text, raw=None: parsed.append(text[-60:]) or real(text, raw))
    monkeypatch.setattr(LocatedPage, "build", classmethod(lambda cls, data, low: detected.append(data[-60:])
                                                          or build(cls, data, low)))
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", tmp_path / "crawl.warc.gz")
    # The two pages with a hint are parsed for detection (Lexbor); only the one with an embed is parsed
    # again for its metadata (lxml), the only one stored; the page with no hint is parsed by neither.
    assert len(detected) == 2 and not any(b"Words only" in d for d in detected)
    assert len(parsed) == 1 and "</blockquote>" in parsed[0]
    c = sqlite3.connect(tmp_path / "a.db")
    assert c.execute("SELECT with_embeds, without_embeds FROM web_archive_files").fetchone() == (1, 2)
    c.close()
    # every page kept: each is parsed for its metadata
    parsed.clear()
    run("archive", "--no-fetch", "--keep-all", "--db", tmp_path / "k.db", tmp_path / "crawl.warc.gz")
    assert len(parsed) == 3
    c = sqlite3.connect(tmp_path / "k.db")
    assert c.execute("SELECT title FROM articles WHERE source = 'https://news.example/plain'").fetchone() == ("Plain",)
    c.close()


def test_an_untyped_response_is_read_when_its_bytes_are_html(tmp_path):
    page = lambda i: f"<!DOCTYPE html><html><body>{tweet('reporter', 10**17 + i)}</body></html>".encode()  # noqa: E731
    responses = [  # (URI, Content-Type or None, payload)
        ("https://news.example/none", None, page(1)),  # no Content-Type at all
        ("https://news.example/octet", "application/octet-stream", page(2)),
        ("https://news.example/image", "application/octet-stream", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
        ("https://news.example/gzip", "application/octet-stream", gzip.compress(page(3))),
        ("https://news.example/plain", "text/plain", page(4)),  # said to be text: taken at its word
    ]
    path = tmp_path / "untyped.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for uri, ctype, body in responses:
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)] if ctype else [], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http))
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", path)
    c = sqlite3.connect(tmp_path / "a.db")
    assert {r[0] for r in c.execute("SELECT source FROM articles")} == {"https://news.example/none",
                                                                      "https://news.example/octet"}
    assert c.execute("SELECT html, with_embeds, non_html FROM web_archive_files").fetchone() == (2, 2, 3)
    c.close()


def test_unreadable_and_truncated_records_are_named_and_the_rest_is_read(tmp_path):
    good = tmp_path / "good.warc.gz"
    offsets = write_warc(good)
    data = good.read_bytes()
    cut = offsets["https://news.example/9"] + 40
    bad = tmp_path / "bad.warc.gz"
    junk = b"\x00not gzip at all\x00" * 4
    bad.write_bytes(data[:cut] + junk + data[cut:])
    truncated = tmp_path / "truncated.warc.gz"
    truncated.write_bytes(data[:offsets["https://news.example/20"] + 100])  # a download cut off in the last page
    result = run("archive", "--no-fetch", "--db", tmp_path / "a.db", bad, truncated, ok=False)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    [damaged] = [e for e in errors if "bad.warc.gz@" in e]
    at = int(damaged.split("@")[1].split(":")[0])
    assert "unreadable" in damaged
    assert f"truncated.warc.gz@{offsets['https://news.example/20']}: truncated record: the file ends 100 byte(s)" \
        in "\n".join(errors)
    c = sqlite3.connect(tmp_path / "a.db")
    sources = {r[0] for r in c.execute("SELECT source FROM articles")}
    assert "https://news.example/12" in sources and "https://news.example/6" in sources  # after and before the damage
    # Named where the reader's parse failed: from the damaged record on, and before the first record read after
    # it. Junk inside a deflate stream is not always noticed where it lies: zlib may decode it, and go on into
    # the next record's bytes (whose offsets the junk moved) before a check fails, as a CI run saw.
    from_bad = [r[0] for r in c.execute("SELECT a.source FROM articles a JOIN article_versions v ON "
                                        "v.article_id = a.id WHERE v.source_file = 'bad.warc.gz'")]
    after = min(int(u.rsplit("/", 1)[1]) for u in from_bad if u.rsplit("/", 1)[1].isdigit()
                and int(u.rsplit("/", 1)[1]) > 9)
    assert offsets["https://news.example/9"] <= at < offsets[f"https://news.example/{after}"] + len(junk)
    assert "https://news.example/9" not in {r[0] for r in c.execute(
        "SELECT a.source FROM articles a JOIN article_versions v ON v.article_id = a.id "
        "WHERE v.source_file = 'bad.warc.gz'")}
    assert dict(c.execute("SELECT file, errors FROM web_archive_files")) == {"bad.warc.gz": 1, "truncated.warc.gz": 1}
    c.close()


def test_verify_reads_each_record_again_and_says_when_a_file_is_gone_or_altered(tmp_path):
    warc = tmp_path / "crawl.warc"
    offsets = write_warc(warc, gz=False)
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", warc)
    ok = run("verify", "--db", tmp_path / "a.db")
    assert "12 record(s) read again from web archives" in ok.stderr and "0 problem(s)" in ok.stderr
    data = bytearray(warc.read_bytes())
    at = data.index(b"Story 3", offsets["https://news.example/3"])
    data[at:at + 7] = b"Story X"
    warc.write_bytes(bytes(data))
    altered = run("verify", "--db", tmp_path / "a.db", ok=False)
    assert altered.exit_code == 1
    assert f"MISMATCH source crawl.warc@{offsets['https://news.example/3']}" in altered.stdout
    assert "payload does not match its SHA-256" in altered.stdout
    warc.unlink()
    gone = run("verify", "--db", tmp_path / "a.db", ok=False)
    assert gone.stdout.count("the WARC/ARC file is absent") == 12


def test_an_arc_file_is_read_too(tmp_path):
    arc = tmp_path / "old.arc.gz"
    with gzip.open(arc, "wb") as fh:
        fh.write(b"filedesc://old.arc 0.0.0.0 20240501000000 text/plain 76\n"
                 b"1 0 tests\nURL IP-address Archive-date Content-type Archive-length\n\n\n")
    for uri in ("https://news.example/3", "https://news.example/4"):
        http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGES[uri]
        with gzip.open(arc, "ab") as fh:
            fh.write(f"{uri} 192.0.2.1 20240501000000 text/html {len(http)}\n".encode() + http + b"\n")
    out = run("detect", arc).stdout.splitlines()
    found = sorted((json.loads(line)["source"], json.loads(line)["platform"]) for line in out)
    assert found == [("https://news.example/3", "twitter"), ("https://news.example/4", "youtube")]


def test_a_warc_articles_package_holds_its_record_and_the_captured_page_reads_it(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    offsets = write_warc(warc)
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", warc)
    c = sqlite3.connect(tmp_path / "a.db")
    aid, vid = c.execute("SELECT a.id, v.id FROM articles a JOIN article_versions v ON v.article_id = a.id "
                         "WHERE a.source = 'https://news.example/3'").fetchone()
    c.close()
    run("export", "--db", tmp_path / "a.db", "--article", aid, "-o", tmp_path / "a.wacz")
    with zipfile.ZipFile(tmp_path / "a.wacz") as z:
        package = json.loads(z.read("logs/archiver.json"))
        warc_bytes = z.read("archive/archiver-export.warc.gz")
    [version] = package["articles"][0]["versions"] if "versions" in package["articles"][0] else [
        v for v in package["articles"][0].get("article_versions", [])]
    place = version["package"]
    assert place["source_file"] == "crawl.warc.gz" and place["source_offset"] == offsets["https://news.example/3"]
    start = place["package_offset"]
    assert warc_bytes[start:start + place["length"]] == warc.read_bytes()[place["source_offset"]:
                                                                          place["source_offset"] + place["length"]]
    from tests.test_browse import get

    page = get(tmp_path / "a.db", f"/-/archiver/version/{vid}/captured")
    assert page.status_code == 200 and page.content == PAGES["https://news.example/3"]


# --- on a Dask cluster ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    """Three WARC files and a folder of the same pages as plain files."""
    folder = tmp_path_factory.mktemp("crawl")
    items = list(PAGES.items())
    for n, part in enumerate((items[:7], items[7:14], items[14:])):
        write_warc(folder / f"part{n}.warc.gz", dict(part))
    return folder


def test_two_workers_and_a_killed_worker_give_the_serial_archive(crawl, tmp_path, monkeypatch):
    warcs = sorted(crawl.glob("*.warc.gz"))
    run("archive", "--no-fetch", "--db", tmp_path / "serial.db", *warcs)
    serial = natural(tmp_path / "serial.db")
    assert len(serial["articles"]) == 12
    run("archive", "--no-fetch", "--workers", "2", "--db", tmp_path / "two.db", *warcs)
    assert natural(tmp_path / "two.db") == serial
    flag = tmp_path / "kill-once"
    flag.write_text("the first worker to take this file away dies mid-unit")
    monkeypatch.setenv("ARCHIVER_TEST_KILL_WORKER_ONCE", str(flag))
    run("archive", "--no-fetch", "--workers", "2", "--db", tmp_path / "killed.db", *warcs)
    assert not flag.exists()  # a worker did die
    assert natural(tmp_path / "killed.db") == serial
    counts = "SELECT file, records, html, with_embeds, without_embeds, errors FROM web_archive_files ORDER BY file"
    files = {name: sqlite3.connect(tmp_path / name).execute(counts).fetchall() for name in ("serial.db", "killed.db")}
    assert files["killed.db"] == files["serial.db"]
    assert sum(r[1] for r in files["serial.db"]) == 3 * 6 + 2 * 20  # warcinfo, image, 404, 3 revisits; request, response
    revisits = "SELECT source_file, source_offset, article_version_id IS NOT NULL FROM article_revisits ORDER BY 1, 2"
    linked = {name: sqlite3.connect(tmp_path / name).execute(revisits).fetchall() for name in ("serial.db", "killed.db")}
    assert linked["killed.db"] == linked["serial.db"] and len(linked["serial.db"]) >= 1


def test_a_page_read_from_a_warc_then_from_a_file_keeps_its_bytes(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", warc)
    page = tmp_path / "3.html"
    page.write_bytes(PAGES["https://news.example/3"])
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", page)
    c = sqlite3.connect(tmp_path / "a.db")
    sha = c.execute("SELECT v.sha256 FROM article_versions v JOIN articles a ON a.id = v.article_id "
                    "WHERE a.source = ?", [str(page.resolve())]).fetchone()[0]
    assert c.execute("SELECT content, by_reference FROM bodies WHERE sha256 = ?", [sha]).fetchone() == (
        PAGES["https://news.example/3"], 0)  # the bytes now in the archive, no longer only in the WARC
    c.close()
    warc.unlink()
    check = run("verify", "--db", tmp_path / "a.db", ok=False)
    # the other pages are named (their bytes were only in the WARC); page 3 is checked from its stored bytes
    assert "Traceback" not in check.output and check.stdout.count("the WARC/ARC file is absent") == 11
    assert f"crawl.warc.gz@{offset_of(tmp_path / 'a.db', 'https://news.example/3')}:" not in check.stdout


def offset_of(db_path, uri: str) -> int:
    c = sqlite3.connect(db_path)
    [(offset,)] = c.execute("SELECT v.source_offset FROM article_versions v JOIN articles a ON a.id = v.article_id "
                            "WHERE a.source = ? AND v.source_file IS NOT NULL", [uri]).fetchall()
    c.close()
    return offset


def test_an_arc_archive_verifies(tmp_path):
    arc = tmp_path / "old.arc"
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGES["https://news.example/3"]
    desc = b"1 0 tests\nURL IP-address Archive-date Content-type Archive-length\n"
    arc.write_bytes(f"filedesc://old.arc 0.0.0.0 20240501000000 text/plain {len(desc)}\n".encode() + desc + b"\n"
                    + f"https://news.example/3 192.0.2.1 20240501000000 text/html {len(http)}\n".encode() + http + b"\n")
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", arc)
    check = run("verify", "--db", tmp_path / "a.db")
    assert "1 record(s) read again from web archives" in check.stderr  # an ARC record has no id to compare


def test_a_warc_gzipped_whole_is_refused_in_one_line(tmp_path):
    plain = tmp_path / "crawl.warc"
    write_warc(plain, gz=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    result = run("archive", "--no-fetch", "--db", tmp_path / "a.db", whole, ok=False)
    assert result.exit_code == 1
    assert "whole.warc.gz@0: the whole file is one gzip stream" in result.stderr and "warcio recompress" in result.stderr
    c = sqlite3.connect(tmp_path / "a.db")
    assert c.execute("SELECT count(*) FROM article_versions WHERE source_length < 0").fetchone() == (0,)
    c.close()


def test_a_revisit_is_linked_to_a_page_a_later_file_holds(tmp_path):
    uri = "https://news.example/3"
    later = tmp_path / "b-later.warc.gz"
    write_warc(later, {uri: PAGES[uri]})  # holds the page, and a revisit of it
    earlier = tmp_path / "a-revisit-only.warc.gz"
    with open(earlier, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_revisit_record(uri, digest=payload_sha1(PAGES[uri]), refers_to_uri=uri,
                                               refers_to_date="2024-05-01T00:00:00Z"))
    run("archive", "--no-fetch", "--db", tmp_path / "a.db", earlier, later)  # the revisit is read first
    c = sqlite3.connect(tmp_path / "a.db")
    assert sorted(r[0] for r in c.execute("SELECT source_file FROM article_revisits")) == [
        "a-revisit-only.warc.gz", "b-later.warc.gz"]
    c.close()


# --- byte ranges of one file --------------------------------------------------------------------------------

def record_offsets(path: Path) -> list[int]:
    from warcio.archiveiterator import ArchiveIterator

    offsets = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            it.read_to_end(record)
            offsets.append(it.get_record_offset())
    return offsets


def test_a_range_starts_at_the_first_record_at_or_after_its_position(tmp_path):
    from archiver.read.warcs import record_start_at_or_after

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    starts = record_offsets(warc)
    size = warc.stat().st_size
    assert len(starts) == 46
    for position in range(0, size + 50, 37):
        expected = next((s for s in starts if s >= position), None)
        assert record_start_at_or_after(str(warc), position) == expected, position


def test_a_gzip_header_inside_compressed_bytes_is_not_taken_for_a_record(tmp_path):
    from archiver.read.warcs import record_start_at_or_after

    warc = tmp_path / "crawl.warc.gz"
    offsets = write_warc(warc)
    data = warc.read_bytes()
    cut = offsets["https://news.example/9"] + 40  # inside the page's compressed bytes: magic, then no WARC header
    fake = tmp_path / "fake.warc.gz"
    fake.write_bytes(data[:cut] + b"\x1f\x8b\x08" + bytes(20) + data[cut:])
    after = [s for s in record_offsets(warc) if s > cut]
    assert record_start_at_or_after(str(fake), cut) == after[0] + 23


def test_ranges_of_a_file_read_every_record_once(tmp_path):
    from archiver.read.warcs import FileScan, read_web_archive

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    whole_scan = FileScan("w")
    whole = [(a.source, a.meta["record"].offset) for a in read_web_archive(str(warc), whole_scan, 1 << 20)]
    size = warc.stat().st_size
    for parts in (2, 3, 7, 60):
        read, merged = read_in_ranges(warc, [size * k // parts for k in range(parts)])
        assert read == whole, parts
        assert (merged.records, merged.html, merged.non_html, merged.revisits, merged.other) == \
            (whole_scan.records, whole_scan.html, whole_scan.non_html, whole_scan.revisits, whole_scan.other)
        assert [r.offset for r in merged.revisit_refs] == [r.offset for r in whole_scan.revisit_refs]


def test_one_big_file_is_spread_over_two_workers_in_ranges(tmp_path, monkeypatch):
    from archiver.run import distributed

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    run("archive", "--no-fetch", "--db", tmp_path / "serial.db", warc)
    monkeypatch.setattr(distributed, "RANGE_BYTES", warc.stat().st_size // 4)
    units = distributed.units_of([str(warc)])
    assert len(units) == 4 and [u[1][2] for u in units] == [4] * 4
    result = run("archive", "--no-fetch", "--workers", "2", "--db", tmp_path / "two.db", warc)
    assert natural(tmp_path / "two.db") == natural(tmp_path / "serial.db")
    counts = "SELECT file, records, html, with_embeds, without_embeds, non_html, revisits, other, errors " \
             "FROM web_archive_files"
    rows = {name: sqlite3.connect(tmp_path / name).execute(counts).fetchall() for name in ("serial.db", "two.db")}
    assert rows["two.db"] == rows["serial.db"] and rows["serial.db"][0][1] == 46
    revisits = "SELECT source_offset FROM article_revisits ORDER BY 1"
    linked = {name: sqlite3.connect(tmp_path / name).execute(revisits).fetchall() for name in ("serial.db", "two.db")}
    assert linked["two.db"] == linked["serial.db"] and linked["serial.db"]
    assert "web archives: 1 file(s)" in result.stderr


def test_an_existing_cluster_named_by_scheduler_or_environment_does_the_work(crawl, tmp_path, monkeypatch):
    from dask.distributed import LocalCluster

    warcs = sorted(crawl.glob("*.warc.gz"))
    run("archive", "--no-fetch", "--db", tmp_path / "serial.db", *warcs)
    serial = natural(tmp_path / "serial.db")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                      dashboard_address=None, silence_logs=40) as cluster:
        assert "scan_unit" not in cluster.scheduler.task_prefixes
        run("archive", "--no-fetch", "--scheduler", cluster.scheduler_address, "--db", tmp_path / "flag.db", *warcs)
        assert natural(tmp_path / "flag.db") == serial
        # the units were computed on this cluster (not on one the command started itself)
        assert cluster.scheduler.task_prefixes["scan_unit"].all_durations["compute"] > 0
        monkeypatch.setenv("ARCHIVER_DASK_SCHEDULER", cluster.scheduler_address)
        run("archive", "--no-fetch", "--db", tmp_path / "env.db", *warcs)
        assert natural(tmp_path / "env.db") == serial


def test_a_scheduler_that_does_not_answer_is_one_line(crawl, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):  # Dask's default is 30 s
        result = run("archive", "--no-fetch", "--scheduler", f"tcp://127.0.0.1:{port}", "--db", tmp_path / "a.db",
                     *sorted(crawl.glob("*.warc.gz")), ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: the Dask cluster could not be reached or started: Timed out trying to connect to "
        f"tcp://127.0.0.1:{port} after 2 s")
    assert "Traceback" not in result.stderr


def read_in_ranges(warc: Path, positions: list[int]):
    """Records (source, offset) and merged counts of a file read in ranges that begin at ``positions``."""
    from archiver.read.warcs import FileScan, read_web_archive, record_start_at_or_after

    cuts = [record_start_at_or_after(str(warc), p) for p in positions] + [None]
    merged, read = FileScan("w"), []
    for start, end in zip(cuts, cuts[1:]):
        if start is None or (end is not None and start >= end):
            continue
        scan = FileScan("w")
        read += [(a.source, a.meta["record"].offset) for a in read_web_archive(str(warc), scan, 1 << 20, start, end)]
        merged.merge(scan)
    return read, merged


def counts_of(scan) -> tuple:
    return scan.records, scan.html, scan.non_html, scan.revisits, scan.other, scan.error_count, scan.errors


@pytest.mark.parametrize("damage", ["empty member", "damaged record"])
def test_what_lies_at_a_range_boundary_is_read_or_named_once(tmp_path, damage):
    import zlib

    from archiver.read.warcs import FileScan, read_web_archive

    good = tmp_path / "good.warc.gz"
    offsets = write_warc(good)
    data = good.read_bytes()
    at = offsets["https://news.example/9"]
    if damage == "empty member":  # bytes the reader folds into the next record: it seems to start before the cut
        inserted = gzip.compress(b"")
    else:  # a member that opens with a WARC header, then corrupt data: unreadable where a range begins
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        inserted = c.compress(b"WARC/1.0\r\nWARC-Type: response\r\n") + c.flush(zlib.Z_SYNC_FLUSH) + b"\xff" * 64
    warc = tmp_path / "odd.warc.gz"
    warc.write_bytes(data[:at] + inserted + data[at:])
    whole_scan = FileScan("w")
    whole = [(a.source, a.meta["record"].offset) for a in read_web_archive(str(warc), whole_scan, 1 << 20)]
    assert len(whole) == 20 and whole_scan.error_count == (damage == "damaged record")
    record_id = lambda offset: read_record_at(str(warc), offset)[1]["WARC-Record-ID"]  # noqa: E731
    for cut in range(at - 8, at + len(inserted) + 8):
        read, merged = read_in_ranges(warc, [0, cut])
        # the same records, each once; an offset may name the empty member before a record or the record itself
        assert [s for s, _ in read] == [s for s, _ in whole], cut
        assert [record_id(o) for _, o in read] == [record_id(o) for _, o in whole], cut
        assert counts_of(merged) == counts_of(whole_scan), cut


def test_a_missing_or_repeated_file_on_workers_is_named_and_the_rest_archived(tmp_path, monkeypatch):
    from archiver.run import distributed

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc)
    monkeypatch.setattr(distributed, "RANGE_BYTES", warc.stat().st_size // 3)
    assert len(distributed.units_of([str(warc), str(tmp_path / "." / "crawl.warc.gz")])) == 3  # its ranges once
    gone = tmp_path / "gone.warc.gz"
    result = run("archive", "--no-fetch", "--workers", "1", "--db", tmp_path / "a.db", gone, warc,
                 str(warc).replace(str(tmp_path), str(tmp_path / "." )), ok=False)
    assert result.exit_code == 1
    assert f"error: {gone}: No such file or directory" in result.stderr and "Dask cluster" not in result.stderr
    c = sqlite3.connect(tmp_path / "a.db")
    assert c.execute("SELECT file, records, html FROM web_archive_files WHERE records > 0").fetchall() == [
        ("crawl.warc.gz", 46, 20)]  # read once, though named twice
    assert c.execute("SELECT count(*) FROM articles").fetchone() == (12,)
    c.close()


def test_a_serial_run_commits_a_file_in_batches_and_keeps_them_when_stopped(tmp_path):
    from archiver.run.pipeline import process_web_archive
    from archiver.store.db import open_db

    write_warc(tmp_path / "c.warc.gz")
    db = open_db(tmp_path / "archive.db")
    statements = []
    db.conn.set_trace_callback(statements.append)
    outcomes = list(process_web_archive(str(tmp_path / "c.warc.gz"), db=db))
    assert sum(1 for o in outcomes if o.saved) == 12  # the pages that embed a post
    # One transaction for the file's articles and its counts (each article's was its own before).
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    db.close()

    # Stopped after its third stored article (Ctrl-C in the loop): what was stored is committed.
    db = open_db(tmp_path / "stopped.db")
    stored = 0
    with pytest.raises(KeyboardInterrupt):
        for outcome in process_web_archive(str(tmp_path / "c.warc.gz"), db=db):
            stored += bool(outcome.saved)
            if stored == 3:
                raise KeyboardInterrupt
    other = sqlite3.connect(tmp_path / "stopped.db")
    assert other.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3
    assert other.execute("SELECT html FROM web_archive_files").fetchone()[0] == 5  # pages 1 to 5 were read
    other.close()
    db.close()
