"""WARC evidence: real .warc.gz files in tmp_path, read back by us and by warcio's own CLI."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from archiver.fetch import warc
from archiver.fetch.http import HOP_BODY_CAP, Exchange, HttpPolicy, fetch
from archiver.evidence.warcs import Problem, read_record, verify_warcs
from archiver.fetch.warc import (
    WarcError, WarcLocation, WarcWriter, consistent_headers, digest_hex, payload_digest, warc_date, warc_dir,
)
from tests.upstream import upstream  # noqa: F401  (fixture)

WARCIO = Path(sys.executable).parent / "warcio"
ROOT = Path(__file__).resolve().parents[1]
FIXED = datetime(2026, 11, 28, 4, 19, 43, tzinfo=timezone.utc)

HTML = b"<!doctype html><html><head><title>Caf\xc3\xa9</title></head><body>" + b"x" * 2000 + b"</body></html>"


def exchange(body: bytes = HTML, *, url: str = "https://news.example.com/2026/11/story.html?utm=1",
             status: int = 200, raw_headers=None, ip: str | None = "93.184.216.34",
             started_at: str = "2026-11-28T04:19:43.123Z") -> Exchange:
    raw = raw_headers if raw_headers is not None else [
        ("Date", "Sat, 28 Nov 2026 04:19:43 GMT"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Cache-Control", "max-age=60"),
    ]
    return Exchange(
        url=url, final_url=url, status=status, headers={k.lower(): v for k, v in raw}, body=body,
        started_at=started_at, elapsed=0.25, ip=ip,
        request_headers={"host": "news.example.com", "accept": "*/*", "accept-encoding": "identity",
                         "user-agent": "archiver/0.1.0"},
        http_version="HTTP/1.1", reason="OK" if status == 200 else "", raw_headers=raw,
    )


def warcio_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARCIO), *map(str, args)], capture_output=True, text=True, timeout=30)


def index(path) -> list[dict]:
    out = warcio_cli("index", "-f", "offset,length,warc-type,warc-target-uri,http:status", path)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def members(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of every gzip member, found independently of warcio and of the module."""
    data, pos, out = path.read_bytes(), 0, []
    while pos < len(data):
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data[pos:])
        assert d.eof
        end = len(data) - len(d.unused_data)
        out.append((pos, end - pos))
        pos = end
    return out


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture
def writer(db):
    with WarcWriter.for_db(db, clock=lambda: FIXED) as w:
        yield w


# -- paths, pure helpers

def test_warc_dir_sits_beside_the_database(tmp_path):
    assert warc_dir(tmp_path / "archive.db") == tmp_path / "archive.files" / "warc"
    assert warc_dir("data/my.sqlite") == Path("data/my.files/warc")


@pytest.mark.parametrize("given, expected", [
    ("2026-11-28T04:19:43.123Z", "2026-11-28T04:19:43.123Z"),
    ("2026-11-28T04:19:43.123456+00:00", "2026-11-28T04:19:43.123Z"),
    ("2026-11-28T05:19:43+01:00", "2026-11-28T04:19:43.000Z"),
    ("2026-11-28T04:19:43", "2026-11-28T04:19:43.000Z"),
])
def test_warc_date_is_utc_with_milliseconds(given, expected):
    assert warc_date(given) == expected


def test_warc_date_rejects_garbage():
    with pytest.raises(ValueError):
        warc_date("yesterday")


@pytest.mark.parametrize("headers, body, status, expected", [
    # nothing to fix: kept byte for byte, in order
    ([("Content-Type", "text/plain"), ("Content-Length", "3")], b"abc", 200,
     [("Content-Type", "text/plain"), ("Content-Length", "3")]),
    # chunked: the body is de-chunked, so Transfer-Encoding goes and a true Content-Length comes
    ([("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")], b"abc", 200,
     [("Content-Type", "text/plain"), ("X-Archiver-Original-Transfer-Encoding", "chunked"),
      ("Content-Length", "3")]),
    # gzip that httpx decoded: header renamed, length fixed in place, old length kept
    ([("Content-Encoding", "gzip"), ("Content-Length", "40"), ("Vary", "Accept-Encoding")], b"abc", 200,
     [("X-Archiver-Original-Content-Encoding", "gzip"), ("X-Archiver-Original-Content-Length", "40"),
      ("Content-Length", "3"), ("Vary", "Accept-Encoding")]),
    # a coding httpx cannot decode here stays on the body, so the header stays true
    ([("Content-Encoding", "x-unknown"), ("Content-Length", "3")], b"abc", 200,
     [("Content-Encoding", "x-unknown"), ("Content-Length", "3")]),
    # identity is not an encoding
    ([("content-encoding", "identity"), ("content-length", "3")], b"abc", 200,
     [("content-encoding", "identity"), ("content-length", "3")]),
    # a wrong length alone is fixed
    ([("Content-Length", "10")], b"abc", 200,
     [("X-Archiver-Original-Content-Length", "10"), ("Content-Length", "3")]),
    # 304 describes a body it does not carry: left alone
    ([("Content-Length", "5000"), ("ETag", '"x"')], b"", 304, [("Content-Length", "5000"), ("ETag", '"x"')]),
])
def test_consistent_headers(headers, body, status, expected):
    assert consistent_headers(headers, body, status) == expected


def test_digest_helpers_agree_with_sha256():
    assert digest_hex(payload_digest(HTML)) == hashlib.sha256(HTML).hexdigest()
    with pytest.raises(ValueError):
        digest_hex("sha1:ABCD")


# -- writing and reading back

def test_round_trip(writer, db):
    ex = exchange()
    loc = writer.write_exchange(ex)

    assert isinstance(loc, WarcLocation)
    assert loc.file == "archive.files/warc/archiver-20261128T041943Z-00001.warc.gz"
    assert (db.parent / loc.file) == writer.path
    assert loc.payload_digest == payload_digest(HTML)

    rec = read_record(db.parent, loc)
    assert rec.payload == HTML
    assert rec.http_status == 200
    assert rec.http_headers == ex.raw_headers  # nothing needed fixing: identical, in order, duplicates kept
    h = rec.warc_headers
    assert h["WARC-Type"] == "response"
    assert h["WARC-Target-URI"] == ex.final_url
    assert h["WARC-Date"] == "2026-11-28T04:19:43.123Z"
    assert h["WARC-IP-Address"] == "93.184.216.34"
    assert h["WARC-Record-ID"] == loc.record_id
    assert digest_hex(h["WARC-Payload-Digest"]) == hashlib.sha256(HTML).hexdigest()
    assert h["WARC-Block-Digest"].startswith("sha256:")

    # the request record follows its response and points at it
    req = read_record(db.parent, WarcLocation(loc.file, loc.offset + loc.length, 0))
    assert req.warc_headers["WARC-Type"] == "request"
    assert req.warc_headers["WARC-Concurrent-To"] == loc.record_id
    assert req.warc_headers["WARC-Target-URI"] == ex.final_url
    assert req.http_status == 0
    assert ("user-agent", "archiver/0.1.0") in req.http_headers

    raw = gzip.decompress((db.parent / loc.file).read_bytes())
    assert b"\r\nGET /2026/11/story.html?utm=1 HTTP/1.1\r\nhost: news.example.com\r\n" in raw
    assert raw.startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
    assert b"software: archiver/" in raw


def test_target_uri_override_and_missing_ip(writer, db):
    ex = exchange(ip=None, raw_headers=[("Content-Type", "text/plain")], body=b"moved on")
    loc = writer.write_exchange(ex, target_uri="https://news.example.com/hop")
    rec = read_record(db.parent, loc)
    assert rec.warc_headers["WARC-Target-URI"] == "https://news.example.com/hop"
    assert "WARC-IP-Address" not in rec.warc_headers


def test_decoded_body_is_stored_with_headers_that_match_it(writer, db):
    body = b'{"ok": true}'
    ex = exchange(body, raw_headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                     ("Transfer-Encoding", "chunked")])
    loc = writer.write_exchange(ex)
    rec = read_record(db.parent, loc)
    assert rec.payload == body
    assert rec.http_headers == [("Content-Type", "application/json"),
                                ("X-Archiver-Original-Content-Encoding", "gzip"),
                                ("X-Archiver-Original-Transfer-Encoding", "chunked"),
                                ("Content-Length", str(len(body)))]
    assert warcio_cli("check", writer.path).returncode == 0


def test_warcio_index_and_check_accept_the_file(writer, db):
    locs = [writer.write_exchange(exchange(HTML + bytes([i]), url=f"https://news.example.com/{i}"))
            for i in range(3)]
    path = writer.path

    rows = index(path)
    assert [r["warc-type"] for r in rows] == ["warcinfo"] + ["response", "request"] * 3
    responses = [r for r in rows if r["warc-type"] == "response"]
    assert [(int(r["offset"]), int(r["length"])) for r in responses] == [(loc.offset, loc.length) for loc in locs]
    assert [r["warc-target-uri"] for r in responses] == [f"https://news.example.com/{i}" for i in range(3)]
    assert {r["http:status"] for r in responses} == {"200"}
    # one record per gzip member, and our offsets are the members' offsets
    assert [(int(r["offset"]), int(r["length"])) for r in rows] == members(path)

    check = warcio_cli("check", "-v", path)
    assert check.returncode == 0, check.stdout
    assert check.stdout.count("digest pass") == 7
    assert verify_warcs(path.parent) == []


def test_real_exchange_through_fetch(upstream, writer, db):  # noqa: F811
    page = HTML * 3
    upstream.route("/gz.html", gzip.compress(page), content_type="text/html; charset=utf-8",
                   headers=[("Content-Encoding", "gzip")])
    upstream.route("/chunked.bin", b"MAGIC")
    upstream.fault("/chunked.bin", "oversized", size=3000, chunk_size=1000)
    policy = HttpPolicy(allow_private=True)
    with httpx.Client(headers={"Accept-Encoding": "identity"}) as client:
        gz = fetch(client, upstream.url + "/gz.html", policy)
        chunked = fetch(client, upstream.url + "/chunked.bin", policy)
    assert gz.body == page and gz.headers["content-encoding"] == "gzip"  # httpx decoded it
    assert chunked.headers.get("transfer-encoding") == "chunked" and len(chunked.body) == 3000

    loc_gz = writer.write_exchange(gz)
    loc_ch = writer.write_exchange(chunked)

    rec = read_record(db.parent, loc_gz)
    assert rec.payload == page
    names = dict(rec.http_headers)
    assert "Content-Encoding" not in names
    assert names["X-Archiver-Original-Content-Encoding"] == "gzip"
    assert names["Content-Length"] == str(len(page))
    assert names["X-Archiver-Original-Content-Length"] == str(len(gzip.compress(page)))
    assert rec.warc_headers["WARC-IP-Address"] == "127.0.0.1"
    assert rec.warc_headers["WARC-Target-URI"] == upstream.url + "/gz.html"

    rec = read_record(db.parent, loc_ch)
    assert rec.payload == chunked.body
    assert dict(rec.http_headers)["Content-Length"] == "3000"
    assert "Transfer-Encoding" not in dict(rec.http_headers)

    req = read_record(db.parent, WarcLocation(loc_gz.file, loc_gz.offset + loc_gz.length, 0))
    assert ("host", upstream.url.split("//")[1]) in req.http_headers
    assert warcio_cli("check", writer.path).returncode == 0
    assert verify_warcs(warc_dir(db)) == []


def test_every_redirect_hop_is_kept_before_the_final_response(upstream, writer, db):  # noqa: F811
    upstream.route("/story.html", HTML, content_type="text/html; charset=utf-8")
    upstream.fault("/s/abc", "redirect", location="/amp/story", status=301)
    upstream.route("/amp/story", b"<p>moved</p>" * 10_000, status=302,
                   headers=[("Location", upstream.url + "/story.html")])  # a long courtesy page
    with httpx.Client(headers={"Accept-Encoding": "identity"}) as client:
        ex = fetch(client, upstream.url + "/s/abc", HttpPolicy(allow_private=True))
    assert [h.status for h in ex.hops] == [301, 302] and ex.status == 200

    loc = writer.write_exchange(ex)
    rows = [r for r in index(writer.path) if r["warc-type"] != "warcinfo"]
    assert [(r["warc-type"], r["warc-target-uri"].replace(upstream.url, ""), r.get("http:status"))
            for r in rows] == [
        ("response", "/s/abc", "301"), ("request", "/s/abc", None),
        ("response", "/amp/story", "302"), ("request", "/amp/story", None),
        ("response", "/story.html", "200"), ("request", "/story.html", None),
    ]
    assert int(rows[4]["offset"]) == loc.offset  # the location names the final response, not a hop
    first = read_record(db.parent, WarcLocation(loc.file, int(rows[0]["offset"]), int(rows[0]["length"])))
    assert dict(first.http_headers)["Location"] == "/amp/story" and "WARC-Truncated" not in first.warc_headers
    second = read_record(db.parent, WarcLocation(loc.file, int(rows[2]["offset"]), int(rows[2]["length"])))
    assert second.warc_headers["WARC-Truncated"] == "length"  # the long redirect body is cut, and says so
    assert second.payload == (b"<p>moved</p>" * 10_000)[:HOP_BODY_CAP]
    assert "WARC-Truncated" not in read_record(db.parent, loc).warc_headers
    assert read_record(db.parent, loc).payload == HTML
    assert warcio_cli("check", writer.path).returncode == 0
    assert verify_warcs(warc_dir(db)) == []


# -- files: rotation, fresh names, concurrency

def test_rotation_by_size_keeps_offsets_right(db):
    with WarcWriter.for_db(db, max_bytes=3000, clock=lambda: FIXED) as w:
        locs = [w.write_exchange(exchange(HTML + bytes([i]), url=f"https://news.example.com/{i}"))
                for i in range(6)]
    files = sorted({loc.file for loc in locs})
    assert len(files) >= 2
    assert [Path(f).name for f in files][:2] == ["archiver-20261128T041943Z-00001.warc.gz",
                                                 "archiver-20261128T041943Z-00002.warc.gz"]
    for i, loc in enumerate(locs):
        rec = read_record(db.parent, loc)
        assert rec.payload == HTML + bytes([i])
        assert rec.warc_headers["WARC-Target-URI"] == f"https://news.example.com/{i}"
    for f in files:
        path = db.parent / f
        rows = index(path)
        assert rows[0]["warc-type"] == "warcinfo" and rows[0]["offset"] == "0"
        assert warcio_cli("check", path).returncode == 0
    assert verify_warcs(warc_dir(db)) == []


def test_a_new_writer_never_touches_an_existing_file(db):
    with WarcWriter.for_db(db, clock=lambda: FIXED) as first:
        loc1 = first.write_exchange(exchange())
    before = (db.parent / loc1.file).read_bytes()
    with WarcWriter.for_db(db, clock=lambda: FIXED) as second:  # same second: same name would collide
        loc2 = second.write_exchange(exchange())
    assert loc2.file != loc1.file
    assert loc2.file.endswith("-00002.warc.gz")
    assert (db.parent / loc1.file).read_bytes() == before


def test_close_then_write_starts_a_new_file(writer, db):
    loc1 = writer.write_exchange(exchange())
    writer.close()
    assert writer.path is None
    loc2 = writer.write_exchange(exchange())
    assert loc1.file != loc2.file
    assert read_record(db.parent, loc2).payload == HTML


def test_concurrent_writes_from_eight_threads(db):
    n_threads, per_thread = 8, 25
    start = threading.Barrier(n_threads)

    def work(t: int) -> list:
        start.wait()
        return [(t, i, w.write_exchange(exchange(f"thread {t} item {i} ".encode() * 50,
                                                 url=f"https://news.example.com/{t}/{i}")))
                for i in range(per_thread)]

    with WarcWriter.for_db(db, clock=lambda: FIXED) as w:
        with ThreadPoolExecutor(n_threads) as pool:
            results = [r for batch in pool.map(work, range(n_threads)) for r in batch]
        path = w.path

    assert len({(loc.file, loc.offset) for _, _, loc in results}) == n_threads * per_thread
    for t, i, loc in results:
        rec = read_record(db.parent, loc)
        assert rec.payload == f"thread {t} item {i} ".encode() * 50
        assert rec.warc_headers["WARC-Target-URI"] == f"https://news.example.com/{t}/{i}"
    assert len(index(path)) == 1 + 2 * n_threads * per_thread
    assert warcio_cli("check", path).returncode == 0
    assert verify_warcs(path.parent) == []


# -- damage: truncation, flipped bits, crashes

def test_truncated_last_record_is_reported_and_hides_nothing(writer, db):
    locs = [writer.write_exchange(exchange(HTML + bytes([i]))) for i in range(3)]
    path = writer.path
    writer.close()
    torn_at = locs[-1].offset + locs[-1].length  # the last request record's member
    with open(path, "r+b") as fh:
        fh.truncate(torn_at + 25)

    problems = verify_warcs(path.parent)
    assert problems == [Problem(str(path), torn_at, "truncated gzip member: the file ends inside this record")]
    for i, loc in enumerate(locs):  # every response, even the last, is still whole
        assert read_record(db.parent, loc).payload == HTML + bytes([i])


def test_truncated_response_cannot_be_read_back(writer, db):
    loc = writer.write_exchange(exchange())
    path = writer.path
    writer.close()
    with open(path, "r+b") as fh:
        fh.truncate(loc.offset + loc.length // 2)
    with pytest.raises(WarcError):
        read_record(db.parent, loc)
    assert [p.offset for p in verify_warcs(path.parent)] == [loc.offset]


def _rewrite_member(path: Path, loc: WarcLocation, change) -> int:
    """Replace the member at loc by a well-formed gzip member of change(decompressed bytes); the shift."""
    data = path.read_bytes()
    member = data[loc.offset:loc.offset + loc.length]
    new = gzip.compress(change(gzip.decompress(member)))
    path.write_bytes(data[:loc.offset] + new + data[loc.offset + loc.length:])
    return len(new) - loc.length


def test_bit_flipped_in_payload_is_reported(writer, db):
    locs = [writer.write_exchange(exchange(HTML + bytes([i]))) for i in range(3)]
    path = writer.path
    writer.close()

    def flip(record: bytes) -> bytes:
        i = record.index(b"<body>") + 10
        return record[:i] + bytes([record[i] ^ 0x01]) + record[i + 1:]

    shift = _rewrite_member(path, locs[1], flip)
    problems = verify_warcs(path.parent)
    assert {p.offset for p in problems} == {locs[1].offset}
    assert any("payload digest failed" in p.message for p in problems)
    assert any("block digest failed" in p.message for p in problems)
    assert warcio_cli("check", path).returncode == 1
    with pytest.raises(WarcError, match="digest failed"):
        read_record(db.parent, locs[1])
    flipped = WarcLocation(locs[1].file, locs[1].offset, locs[1].length + shift)
    assert flip(read_record(db.parent, flipped, verify=False).payload) == HTML + b"\x01"
    assert read_record(db.parent, locs[0]).payload == HTML + b"\x00"
    after = WarcLocation(locs[2].file, locs[2].offset + shift, locs[2].length)
    assert read_record(db.parent, after).payload == HTML + b"\x02"


def test_bit_flipped_in_compressed_bytes_is_reported_and_later_records_still_checked(writer, db):
    locs = [writer.write_exchange(exchange(HTML + bytes([i]))) for i in range(3)]
    path = writer.path
    writer.close()
    data = bytearray(path.read_bytes())
    data[locs[0].offset + locs[0].length // 2] ^= 0x40
    path.write_bytes(bytes(data))

    problems = verify_warcs(path.parent)
    assert [p.offset for p in problems] == [locs[0].offset]
    # a later damaged record is still found after the first damage
    _rewrite_member(path, locs[2], lambda r: r.replace(b"<title>", b"<titl3>"))
    assert [p.offset for p in verify_warcs(path.parent)] == [locs[0].offset, locs[2].offset, locs[2].offset]


def test_length_mismatch_is_reported(writer, db):
    loc = writer.write_exchange(exchange())
    path = writer.path
    writer.close()
    _rewrite_member(path, loc, lambda r: r.replace(b"</html>", b"</html>extra"))
    messages = [p.message for p in verify_warcs(path.parent)]
    assert any("CRLF CRLF" in m for m in messages)


def test_empty_and_garbage_files_are_reported(tmp_path):
    (tmp_path / "archiver-x-00001.warc.gz").write_bytes(b"")
    (tmp_path / "archiver-x-00002.warc.gz").write_bytes(gzip.compress(b"not a warc\r\n\r\n"))
    (tmp_path / "notes.txt").write_text("ignored")
    problems = verify_warcs(tmp_path)
    assert [(Path(p.file).name, p.offset) for p in problems] == [("archiver-x-00001.warc.gz", 0),
                                                                ("archiver-x-00002.warc.gz", 0)]
    assert "empty file" in problems[0].message
    assert "not a readable WARC record" in problems[1].message
    assert verify_warcs(tmp_path / "missing") == []


def test_read_record_of_a_missing_file_is_a_typed_error(tmp_path):
    with pytest.raises(WarcError, match="cannot read"):
        read_record(tmp_path, WarcLocation("archive.files/warc/nope.warc.gz", 0, 10))


def test_a_failed_write_leaves_no_torn_record_and_moves_to_a_new_file(writer, db, monkeypatch):
    loc1 = writer.write_exchange(exchange())
    path1 = writer.path
    size = path1.stat().st_size
    real_write = os.write
    calls = []

    def half_then_enospc(fd, data):
        if fd != writer._fd:
            return real_write(fd, data)
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(warc.os, "write", half_then_enospc)
    with pytest.raises(WarcError, match="No space left"):
        writer.write_exchange(exchange())
    monkeypatch.setattr(warc.os, "write", real_write)

    assert path1.stat().st_size == size  # the torn half was cut off
    assert writer.path is None
    loc3 = writer.write_exchange(exchange(b"after"))
    assert loc3.file != loc1.file
    assert read_record(db.parent, loc3).payload == b"after"
    assert verify_warcs(warc_dir(db)) == []


def test_records_survive_kill_9_right_after_write(db):
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        from archiver.fetch.http import Exchange
        from archiver.fetch.warc import WarcWriter
        w = WarcWriter.for_db({str(db)!r})
        for i in range(3):
            ex = Exchange(url="https://e.example/%d" % i, final_url="https://e.example/%d" % i, status=200,
                          headers={{}}, body=b"body %d" % i, started_at="2026-11-28T04:19:43.123Z", elapsed=0.0)
            loc = w.write_exchange(ex)
            print(loc.file, loc.offset, loc.length, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == -9, proc.stderr
    lines = proc.stdout.split("\n")[:-1]
    assert len(lines) == 3
    for i, line in enumerate(lines):
        file, offset, length = line.split()
        assert read_record(db.parent, WarcLocation(file, int(offset), int(length))).payload == b"body %d" % i
    assert verify_warcs(warc_dir(db)) == []
