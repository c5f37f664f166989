"""warcio against FastWARC reading the same gzipped WARC: which reader archiver should use for WARC sources.

    pip install fastwarc          # bench only unless chosen; without it only warcio and the gunzip floor run
    python bench/warc_read.py [--mb 200] [--rounds 3] [--samples 1000] [--page-kb 0] [--dir /tmp] [--keep]

1. Builds, in a temporary directory, a WARC of ``--mb`` MB (compressed, MB = 10**6 bytes) the way Common
   Crawl writes them: one gzip member per record, written by warcio's ``WARCWriter``. Per URL a
   ``request`` and a ``response`` record; the responses are real pages (the corpus HTML in
   ``../shared/corpus``; without it, pages built here from a template and random words), each copy made
   unique by a comment and a paragraph inserted after ``<body>``, so no two payloads are alike. Among
   them: 301 redirects, ``image/jpeg`` responses, ``metadata`` records, ``revisit`` records with HTTP
   headers and no payload, and a ``warcinfo`` record at the start and every 10,000 URLs. The writer's
   own offsets, lengths and payload hashes are kept as the ground truth.
2. Times, in alternating rounds (the order rotates), best of ``--rounds``: warcio's ``ArchiveIterator``;
   FastWARC's ``ArchiveIterator`` with ``parse_http=True`` and with ``parse_http=False`` (HTTP headers
   parsed only for response/revisit records); and plain multi-member gunzip with ``zlib`` as the floor.
   Each reader takes, of every record, the type, WARC-Target-URI, WARC-Date, WARC-Record-ID,
   WARC-Payload-Digest, HTTP status and Content-Type, the record's offset and length, and the full
   payload bytes of HTML responses (raw, no content decoding, as archiver stores them). Wall and CPU
   time are printed, with records/s, MB/s (compressed and uncompressed) and the ratio to warcio.
   An untimed pass per reader then hashes the payload of every record (sha256), and the two readers are
   compared field by field with each other and with the writer's ground truth.
3. Re-reads ``--samples`` random response records by (offset, length), as ``archiver verify`` will:
   open, seek, read the member, parse it, read the payload and check it against WARC-Payload-Digest
   and against the sha256 from the scan; times per record for each reader. It also checks that each
   reader's own digest check catches a payload altered by one byte.
4. ARC: writes a small ARC file (plain and per-record gzip) of corpus pages and tries both readers.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import random
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator as WarcioIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus_score import CORPUS, corpus_available, manifest  # noqa: E402

try:
    import fastwarc
    from fastwarc import ArchiveIterator as FastIterator, WarcRecordType
except ImportError:  # the bench still times warcio and the floor
    fastwarc = None

MB = 1_000_000
WORDS = ("the of and to in a is that for on was with as by at from his her an be it were are which this "
         "said not have has had its after new first two year government minister police city people "
         "report would could about more than when who will their one over into after market election "
         "court week president country state officials told statement video post photo shared").split()
BASE_DATE = datetime(2024, 5, 1, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------- pages

def load_pages() -> list[tuple[str, bytes, str]]:
    """(url, html bytes, charset or '') of every corpus HTML page, or 200 built pages without the corpus."""
    if corpus_available():
        out = []
        for entry in manifest():
            if entry["kind"] != "html":
                continue
            url = entry.get("origin_url") or ""
            if not url.startswith(("http://", "https://")):  # a few labels name no URL
                url = f"https://news.example/{Path(entry['file']).stem}"
            out.append((url, (CORPUS / entry["file"]).read_bytes(), entry.get("encoding") or ""))
        return out
    rng = random.Random(7)
    embed = ('<blockquote class="twitter-tweet"><p lang="en">{t}</p>&mdash; Someone (@someone) '
             '<a href="https://twitter.com/someone/status/{n}">May 1, 2024</a></blockquote>')
    pages = []
    for n in range(200):
        paras = "".join("<p>" + " ".join(rng.choices(WORDS, k=rng.randint(40, 160))) + ".</p>\n"
                        for _ in range(rng.randint(20, 120)))
        tweets = "".join(embed.format(t=" ".join(rng.choices(WORDS, k=20)), n=10**18 + n * 10 + i)
                         for i in range(n % 4))
        html = (f"<!doctype html><html><head><meta charset='utf-8'><title>Article {n}</title></head>"
                f"<body><article><h1>Article {n}</h1>{paras}{tweets}</article></body></html>")
        pages.append((f"https://news.example/{2024}/{n:04d}/article.html", html.encode(), "utf-8"))
    return pages


def unique_copy(page: bytes, n: int, rng: random.Random) -> bytes:
    """The page with a unique comment and paragraph inserted after <body ...> (or in front)."""
    mark = (f"\n<!-- archiver-bench copy {n} {uuid.UUID(int=rng.getrandbits(128)).hex} -->\n<p class=\"bench\">"
            + " ".join(rng.choices(WORDS, k=30)) + "</p>\n").encode()
    low = page[:200_000].lower()
    at = low.find(b"<body")
    end = page.find(b">", at) if at >= 0 else -1
    return page[:end + 1] + mark + page[end + 1:] if end >= 0 else mark + page


def http_date(dt: datetime) -> str:
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


def warc_date(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def build_warc(path: Path, target_bytes: int, pages, seed: int, page_cap: int = 0) -> list[tuple]:
    """Write the WARC; return the ground truth per record: (offset, length, type, uri, payload sha256|None)."""
    rng = random.Random(seed)
    truth: list[tuple] = []
    last_html: list[tuple] = []  # (uri, record id, date, digest) of recent HTML responses, for revisits
    t0 = time.perf_counter()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.0")

        def put(record, uri, payload: bytes | None):
            offset = fh.tell()
            writer.write_record(record)
            truth.append((offset, fh.tell() - offset, record.rec_type, uri,
                          hashlib.sha256(payload).hexdigest() if payload is not None else None))

        n = 0
        while fh.tell() < target_bytes:
            when = BASE_DATE + timedelta(seconds=n)
            if n % 10_000 == 0:
                info = {"software": "archiver bench/warc_read.py (warcio WARCWriter)", "format": "WARC File Format 1.0",
                        "isPartOf": "CC-NEWS-like-bench", "operator": "bench", "robots": "checked via crawler-commons"}
                put(writer.create_warcinfo_record(path.name, info), None, None)
            url, page, charset = pages[n % len(pages)]
            uri = f"{url}{'&' if '?' in url else '?'}bench={n}".replace(" ", "%20")  # one corpus URL ends in a space
            host = uri.split("/")[2]
            kind = "image" if n % 40 == 39 else "redirect" if n % 25 == 24 else "html"
            if kind == "html":
                body = unique_copy(page[:page_cap] if page_cap else page, n, rng)
                status, ctype = "200 OK", "text/html" + (f"; charset={charset}" if charset else "")
                extra = []
            elif kind == "image":
                size = rng.randint(5_000, 60_000)
                body = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(size)
                status, ctype, extra = "200 OK", "image/jpeg", [("Cache-Control", "max-age=86400")]
                uri = uri.replace("?", ".jpg?", 1) if "?" in uri else uri + ".jpg"
            else:
                body = (f"<html><head><title>Moved</title></head><body><a href=\"{url}\">moved {n}</a>"
                        f"</body></html>").encode()
                status, ctype, extra = "301 Moved Permanently", "text/html; charset=utf-8", [("Location", url)]
            headers = [("Date", http_date(when)), ("Server", "nginx"), ("Content-Type", ctype),
                       ("Content-Length", str(len(body))), *extra, ("Connection", "close")]
            response = writer.create_warc_record(
                uri, "response", payload=BytesIO(body), length=len(body),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": warc_date(when), "WARC-IP-Address": f"192.0.2.{n % 250 + 1}"})
            resp_id = response.rec_headers.get_header("WARC-Record-ID")
            path_part = "/" + uri.split("/", 3)[3] if uri.count("/") >= 3 else "/"
            request = writer.create_warc_record(
                uri, "request", payload=BytesIO(b""), length=0,
                http_headers=StatusAndHeaders(f"GET {path_part} HTTP/1.1", [
                    ("Host", host), ("User-Agent", "CCBot/2.0 (https://commoncrawl.org/faq/)"),
                    ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"), ("Accept-Encoding", "br,gzip")],
                    is_http_request=True),
                warc_headers_dict={"WARC-Date": warc_date(when), "WARC-Concurrent-To": resp_id})
            put(request, uri, b"")
            put(response, uri, body)
            if kind == "html":
                last_html = (last_html + [(uri, warc_date(when), response.rec_headers.get_header(
                    "WARC-Payload-Digest"))])[-50:]
            if n % 10 == 3:
                meta = (f"fetchTimeMs: {rng.randint(50, 3000)}\r\ncharset-detected: UTF-8\r\n"
                        f"languages-cld2: {{\"reliable\":true,\"languages\":[{{\"code\":\"en\"}}]}}\r\n").encode()
                put(writer.create_warc_record(
                    uri, "metadata", payload=BytesIO(meta), length=len(meta),
                    warc_content_type="application/warc-fields",
                    warc_headers_dict={"WARC-Date": warc_date(when), "WARC-Concurrent-To": resp_id}), uri, meta)
            if n % 60 == 59 and last_html:
                old_uri, old_date, digest = rng.choice(last_html)
                revisit = writer.create_revisit_record(
                    old_uri, digest, old_uri, old_date,
                    http_headers=StatusAndHeaders("200 OK", [("Date", http_date(when)), ("Content-Type", "text/html")],
                                                  protocol="HTTP/1.1"),
                    warc_headers_dict={"WARC-Date": warc_date(when)})
                put(revisit, old_uri, b"")
            n += 1
            if n % 2000 == 0:
                print(f"  writing: {fh.tell() / MB:,.0f} MB, {len(truth):,} records", file=sys.stderr, flush=True)
    print(f"  wrote {path.stat().st_size / MB:,.1f} MB, {len(truth):,} records in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return truth


# --------------------------------------------------------------------------------------------- readers
# Each returns one row per record: [offset, length, type, uri, date, record id, payload digest,
# http status, http content type, payload length (HTML responses; -1 when not read)], plus, with
# ``hash_all``, the sha256 and the base32 sha1 of the payload of every record.

def is_html(ctype) -> bool:
    return bool(ctype) and ctype.lower().startswith("text/html")


def read_warcio(path: Path, hash_all: bool = False) -> list[list]:
    rows = []
    with open(path, "rb") as fh:
        it = WarcioIterator(fh)
        for rec in it:
            rtype = rec.rec_type
            h = rec.rec_headers
            uri = h.get_header("WARC-Target-URI")
            date = h.get_header("WARC-Date")
            rid = h.get_header("WARC-Record-ID")
            digest = h.get_header("WARC-Payload-Digest")
            status = ctype = None
            if rec.http_headers is not None and rtype in ("response", "revisit"):
                status = int(rec.http_headers.get_statuscode())
                ctype = rec.http_headers.get_header("Content-Type")
            size = -1
            payload = None
            if hash_all or (rtype == "response" and is_html(ctype)):
                payload = rec.raw_stream.read()
                size = len(payload)
            row = [it.get_record_offset(), it.get_record_length(), rtype, uri, date, rid, digest, status, ctype, size]
            if hash_all:
                row += [hashlib.sha256(payload).hexdigest(), sha1_b32(payload)]
            rows.append(row)
    return rows


if fastwarc is not None:
    _TYPE_NAME = {int(t): str(t) for t in (WarcRecordType.warcinfo, WarcRecordType.response, WarcRecordType.resource,
                                      WarcRecordType.request, WarcRecordType.metadata, WarcRecordType.revisit,
                                      WarcRecordType.conversion, WarcRecordType.continuation,
                                      WarcRecordType.unknown)}
    _RESPONSE, _REVISIT = int(WarcRecordType.response), int(WarcRecordType.revisit)  # the enum is not hashable


def read_fastwarc(path: Path, hash_all: bool = False, parse_http: bool = True) -> list[list]:
    """FastWARC has no record length: it is the next record's stream_pos minus this one's (the file size last)."""
    rows = []
    with open(path, "rb") as fh:
        for rec in FastIterator(fh, parse_http=parse_http):
            rtype = int(rec.record_type)
            h = rec.headers
            status = ctype = None
            if rtype == _RESPONSE or rtype == _REVISIT:
                if not parse_http:
                    rec.parse_http()
                if rec.is_http:
                    hh = rec.http_headers
                    status = hh.status_code
                    ctype = hh.get("Content-Type")
            size = -1
            payload = None
            if hash_all or (rtype == _RESPONSE and is_html(ctype)):
                payload = rec.reader.read()
                size = len(payload)
            row = [rec.stream_pos, 0, _TYPE_NAME[rtype], h.get("WARC-Target-URI"), h.get("WARC-Date"),
                   h.get("WARC-Record-ID"), h.get("WARC-Payload-Digest"), status, ctype, size]
            if hash_all:
                row += [hashlib.sha256(payload).hexdigest(), sha1_b32(payload)]
            rows.append(row)
    end = path.stat().st_size
    for i in range(len(rows) - 1, -1, -1):
        rows[i][1] = end - rows[i][0]
        end = rows[i][0]
    return rows


def gunzip_floor(path: Path) -> tuple[int, int]:
    """Multi-member gunzip of the whole file with zlib: (uncompressed bytes, gzip members)."""
    total = members = 0
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb", buffering=0) as fh:
        while chunk := fh.read(1 << 20):
            while chunk:
                total += len(d.decompress(chunk))
                if d.eof:
                    members += 1
                    chunk = d.unused_data
                    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    chunk = b""
    return total, members


# --------------------------------------------------------------------------------------------- one record

def slice_of(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb") as fh:  # opened per record, as archiver.evidence.warcs.read_record does
        fh.seek(offset)
        return fh.read(length)


def one_warcio(data: bytes, check: bool = True):
    """(uri, header payload digest, payload, library digest check: True/False/None)."""
    rec = next(WarcioIterator(BytesIO(data), check_digests=check))
    payload = rec.raw_stream.read()
    ok = (not rec.digest_checker.problems) if check else None
    return rec.rec_headers.get_header("WARC-Target-URI"), rec.rec_headers.get_header("WARC-Payload-Digest"), payload, ok


def one_fastwarc(data: bytes, check: bool = True):
    rec = next(iter(FastIterator(BytesIO(data), parse_http=True)))
    ok = rec.verify_payload_digest(consume=False) if check else None
    payload = rec.reader.read()
    return rec.headers.get("WARC-Target-URI"), rec.headers.get("WARC-Payload-Digest"), payload, ok


def seek_read(path: Path, truth: list[tuple], samples: int, seed: int, readers: dict) -> dict:
    responses = [t for t in truth if t[2] == "response"]
    picks = random.Random(seed + 1).sample(responses, min(samples, len(responses)))
    out = {}
    for name, fn in readers.items():
        for check in (False, True):
            bad = []
            elapsed = 0.0
            for offset, length, _, uri, sha in picks:
                t0 = time.perf_counter()
                got_uri, digest, payload, ok = fn(slice_of(path, offset, length), check)
                elapsed += time.perf_counter() - t0
                # checked outside the timing: the record is the one written, its digest header is right
                if got_uri != uri or digest != sha1_b32(payload) or hashlib.sha256(payload).hexdigest() != sha \
                        or ok is False:
                    bad.append(offset)
            out[name, check] = (elapsed / len(picks), len(picks), bad)
    return out


def tamper(member: bytes) -> bytes:
    """The gzip member with one payload byte changed (the WARC headers, and so the digests, left as they are)."""
    raw = gzip.decompress(member)
    at = raw.rindex(b"</") - 1  # inside the HTML body, near its end
    raw = raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1:]
    return gzip.compress(raw)


def direct_from_handle(path: Path, picks, reader: str) -> str:
    """Whether the iterator reads the right record straight from a handle seeked to the offset (no copy)."""
    try:
        with open(path, "rb") as fh:
            for offset, _, _, uri, sha in picks:
                fh.seek(offset)
                if reader == "warcio":
                    rec = next(WarcioIterator(fh))
                    got, payload = rec.rec_headers.get_header("WARC-Target-URI"), rec.raw_stream.read()
                else:
                    rec = next(iter(FastIterator(fh)))
                    got, payload = rec.headers.get("WARC-Target-URI"), rec.reader.read()
                if got != uri or hashlib.sha256(payload).hexdigest() != sha:
                    return f"no (wrong record at {offset})"
        return "yes"
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        return f"no ({type(exc).__name__}: {exc})"


# --------------------------------------------------------------------------------------------- ARC

def build_arc(folder: Path, pages, count: int = 20) -> tuple[Path, Path, list[tuple[str, str]]]:
    """An ARC v1 file of HTTP responses, plain and with one gzip member per record; truth: (uri, sha256)."""
    stamp = "20240501000000"
    desc_body = b"1 0 archiver-bench\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [f"filedesc://bench.arc 0.0.0.0 {stamp} text/plain {len(desc_body)}\n".encode() + desc_body + b"\n"]
    truth = []
    for n in range(count):
        url, page, _ = pages[n % len(pages)]
        uri = f"{url}{'&' if '?' in url else '?'}arc={n}".replace(" ", "%20")
        body = unique_copy(page, n, random.Random(n))
        block = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        records.append(f"{uri} 192.0.2.1 {stamp} text/html {len(block)}\n".encode() + block + b"\n")
        truth.append((uri, hashlib.sha256(body).hexdigest()))
    plain, packed = folder / "bench.arc", folder / "bench.arc.gz"
    plain.write_bytes(b"".join(records))
    packed.write_bytes(b"".join(gzip.compress(r) for r in records))
    return plain, packed, truth


def arc_check(plain: Path, packed: Path, truth) -> list[str]:
    lines = []
    for path in (plain, packed):
        try:
            with open(path, "rb") as fh:
                got = [(r.rec_headers.get_header("WARC-Target-URI"), r.rec_type,
                        hashlib.sha256(r.raw_stream.read()).hexdigest())
                       for r in WarcioIterator(fh, arc2warc=True)]
            responses = [(u, s) for u, t, s in got if t == "response"]
            lines.append(f"warcio   {path.name:12} arc2warc=True: {len(got)} records "
                         f"({', '.join(sorted({t for _, t, _ in got}))}); responses match writer: {responses == truth}")
        except Exception as exc:  # noqa: BLE001
            lines.append(f"warcio   {path.name:12}: {type(exc).__name__}: {exc}")
        if fastwarc is None:
            continue
        for opts in ({}, {"strict_mode": False, "quirks_mode": True}):
            try:
                with open(path, "rb") as fh:
                    got = [(r.headers.get("WARC-Target-URI"), str(r.record_type)) for r in FastIterator(fh, **opts)]
                lines.append(f"fastwarc {path.name:12} {opts or 'defaults'}: {len(got)} records")
            except Exception as exc:  # noqa: BLE001
                lines.append(f"fastwarc {path.name:12} {opts or 'defaults'}: {type(exc).__name__}: {exc}")
    return lines


# --------------------------------------------------------------------------------------------- edge cases

def edge_cases() -> list[str]:
    """What each reader returns for target URIs that are not valid URIs, and FastWARC without parse_http."""
    buf = BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="1.0")
    uris = ["https://news.example/a b", "<https://news.example/bracketed>"]
    body = b"<html><body>x</body></html>"
    for uri in uris:
        writer.write_record(writer.create_warc_record(
            uri, "response", payload=BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    data = buf.getvalue()
    import logging
    logging.getLogger("warcio").setLevel(logging.ERROR)  # it warns once per record with a space
    got_w = [r.rec_headers.get_header("WARC-Target-URI") for r in WarcioIterator(BytesIO(data))]
    lines = [f"URI written {u!r}: warcio returns {w!r}" for u, w in zip(uris, got_w)]
    if fastwarc:
        got_f = [r.headers.get("WARC-Target-URI") for r in FastIterator(BytesIO(data))]
        lines = [line + f", fastwarc {f!r}" for line, f in zip(lines, got_f)]
        rec = next(iter(FastIterator(BytesIO(data), parse_http=False)))
        raw = rec.reader.read()
        lines.append(f"fastwarc parse_http=False, reader.read() without calling parse_http(): {len(raw)} bytes, "
                     f"starting {raw[:15]!r} (the HTTP headers come with the payload)")
    return lines


# --------------------------------------------------------------------------------------------- compare

FIELDS = ("offset", "length", "type", "uri", "date", "record_id", "payload_digest", "status", "content_type",
          "payload_len", "payload_sha256", "payload_sha1")


def compare(a: list[list], b: list[list], name_a: str, name_b: str) -> list[str]:
    if len(a) != len(b):
        out = [f"{name_a} has {len(a):,} records, {name_b} {len(b):,}"]
    else:
        out = []
    diffs: dict[str, int] = {}
    examples = []
    for i, (ra, rb) in enumerate(zip(a, b)):
        for f, va, vb in zip(FIELDS, ra, rb):
            if va != vb:
                diffs[f] = diffs.get(f, 0) + 1
                if len(examples) < 3:
                    examples.append(f"record {i} ({ra[2]} at {ra[0]}): {f} {name_a}={va!r} {name_b}={vb!r}")
    out += [f"{f}: {c:,} records differ" for f, c in diffs.items()] + examples
    return out


def against_truth(rows: list[list], truth: list[tuple]) -> list[str]:
    out = [] if len(rows) == len(truth) else [f"{len(rows):,} records read, {len(truth):,} written"]
    bad = 0
    for i, (r, t) in enumerate(zip(rows, truth)):
        if (r[0], r[1], r[2], r[3]) != t[:4] or (t[4] is not None and r[10] != t[4]):
            bad += 1
            if bad <= 3:
                out.append(f"record {i}: read {(r[0], r[1], r[2], r[3], r[10][:12])} "
                           f"written {t[:4] + (str(t[4])[:12],)}")
    if bad:
        out.append(f"{bad:,} records differ from what was written")
    return out


def digest_mismatches(rows: list[list]) -> int:
    """Response and metadata records whose WARC-Payload-Digest is not the sha1 of the payload read."""
    return sum(1 for r in rows if r[2] in ("response", "metadata") and r[6] != r[11])


# --------------------------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=200, help="compressed size of the WARC to build, MB (default 200)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=1000, help="records re-read by offset")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--page-kb", type=int, default=0,
                    help="cut every page to this many KB (smaller records: more per-record overhead); 0: whole pages")
    ap.add_argument("--dir", default=None, help="where the temporary directory goes (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the WARC and print its path")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    from importlib.metadata import version
    print(f"python {sys.version.split()[0]}, warcio {version('warcio')}, "
          f"fastwarc {version('fastwarc') if fastwarc else 'not installed (pip install fastwarc)'}")
    need = int(args.mb * MB * 1.1) + 50 * MB
    parent = args.dir or tempfile.gettempdir()
    free = shutil.disk_usage(parent).free
    if free < need:
        sys.exit(f"{parent}: {free / MB:,.0f} MB free, {need / MB:,.0f} MB needed for --mb {args.mb:g}")

    folder = Path(tempfile.mkdtemp(prefix="warc_read-", dir=parent))
    try:
        pages = load_pages()
        origin = "corpus HTML pages" if corpus_available() else "built pages (no ../shared/corpus)"
        print(f"pages: {len(pages)} {origin}, {sum(len(p) for _, p, _ in pages) / MB:.1f} MB")
        path = folder / "bench.warc.gz"
        truth = build_warc(path, int(args.mb * MB), pages, args.seed, args.page_kb * 1000)
        size = path.stat().st_size

        methods = {"warcio": lambda: read_warcio(path)}
        if fastwarc:
            methods["fastwarc parse_http=True"] = lambda: read_fastwarc(path, parse_http=True)
            methods["fastwarc parse_http=False"] = lambda: read_fastwarc(path, parse_http=False)
        methods["gunzip floor (zlib)"] = lambda: gunzip_floor(path)
        names = list(methods)
        best = {n: (float("inf"), 0.0) for n in names}
        results = {}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                c0, t0 = time.process_time(), time.perf_counter()
                results[name] = methods[name]()
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                print(f"  round {r + 1} {name}: {wall:.2f} s", file=sys.stderr, flush=True)
                if wall < best[name][0]:
                    best[name] = (wall, cpu)
        uncompressed, members = results["gunzip floor (zlib)"]
        records = len(results["warcio"])
        html = sum(1 for row in results["warcio"] if row[9] >= 0)
        html_bytes = sum(row[9] for row in results["warcio"] if row[9] >= 0)

        print(f"\nWARC: --mb {args.mb:g}: {size / MB:,.1f} MB compressed, {uncompressed / MB:,.1f} MB uncompressed, "
              f"{records:,} records ({members:,} gzip members), {html:,} HTML payloads read "
              f"({html_bytes / MB:,.1f} MB); best of {args.rounds}, warm page cache, one thread")
        print(f"{'reader':28} {'wall s':>8} {'cpu s':>8} {'records/s':>10} {'MB/s gz':>8} {'MB/s raw':>9} "
              f"{'x warcio':>9}")
        w = best["warcio"][0]
        for name in names:
            wall, cpu = best[name]
            recs = records if not name.startswith("gunzip") else members
            print(f"{name:28} {wall:8.2f} {cpu:8.2f} {recs / wall:10,.0f} {size / MB / wall:8.1f} "
                  f"{uncompressed / MB / wall:9.1f} {w / wall:9.2f}")

        # ---- agreement
        print("\nagreement (untimed pass per reader hashing every payload):")
        full_w = read_warcio(path, hash_all=True)
        timed_same = [r[:9] for r in full_w] == [r[:9] for r in results["warcio"]]
        problems_w = against_truth(full_w, truth)
        print(f"  warcio vs writer (offset, length, type, URI, payload sha256): "
              f"{'all ' + format(len(full_w), ',') + ' agree' if not problems_w else '; '.join(problems_w)}")
        if fastwarc:
            full_f = read_fastwarc(path, hash_all=True, parse_http=True)
            problems_f = against_truth(full_f, truth)
            print(f"  fastwarc vs writer: "
                  f"{'all ' + format(len(full_f), ',') + ' agree' if not problems_f else '; '.join(problems_f)}")
            diffs = compare(full_w, full_f, "warcio", "fastwarc")
            print(f"  fastwarc vs warcio, every field of every record ({', '.join(FIELDS)}): "
                  f"{'identical' if not diffs else ''}")
            for d in diffs:
                print(f"    {d}")
            print(f"  fastwarc: WARC-Payload-Digest differs from the sha1 of its payload in "
                  f"{digest_mismatches(full_f)} response/metadata records")
            for variant in (True, False):
                timed = results[f"fastwarc parse_http={variant}"]
                diffs = compare([r[:10] for r in results["warcio"]], timed, "warcio", "fastwarc")
                print(f"  timed passes, fastwarc(parse_http={variant}) vs warcio (headers, offsets, lengths, HTML "
                      f"payload lengths): {'identical' if not diffs else ''}")
                for d in diffs:
                    print(f"    {d}")
            # Offsets when FastWARC is given its own GzipReader, or a path, instead of a file object.
            from fastwarc.stream_io import GzipReader
            for label, make in (("GzipReader(file)", lambda fh: GzipReader(fh)), ("path string", lambda fh: str(path))):
                with open(path, "rb") as fh:
                    got = []
                    for rec in FastIterator(make(fh), parse_http=False):
                        got.append(rec.stream_pos)
                        if len(got) >= 1000:
                            break
                wrong = [i for i, (g, t) in enumerate(zip(got, truth)) if g != t[0]]
                verdict = "right" if not wrong else (f"{len(wrong)} wrong, first at record {wrong[0]}: "
                                                     f"{got[wrong[0]]} for {truth[wrong[0]][0]}")
                print(f"  fastwarc stream_pos with {label} as input, first {len(got)} records: {verdict}")
        print(f"  timed warcio pass read the same headers as the hashing pass: {timed_same}")
        print(f"  warcio: WARC-Payload-Digest differs from the sha1 of its payload in {digest_mismatches(full_w)} "
              "response/metadata records")
        for line in edge_cases():
            print(f"  {line}")

        # ---- one record by offset
        readers = {"warcio": one_warcio}
        if fastwarc:
            readers["fastwarc"] = one_fastwarc
        print(f"\nseek + read one record by (offset, length), {args.samples} random response records: open, seek, "
              "read the member, parse it, read the payload; then with the library's own payload digest check "
              "(warcio check_digests=True, fastwarc verify_payload_digest()); URI, sha1 and sha256 compared untimed:")
        res = seek_read(path, truth, args.samples, args.seed, readers)
        for (name, check), (per, n, bad) in res.items():
            print(f"  {name:9} {'with digest check' if check else 'read only':18} {per * 1e6:8.0f} us/record "
                  f"({n} records, {len(bad)} wrong)")
        if "fastwarc" in readers:
            print("  ratio warcio/fastwarc: " + ", ".join(
                f"{'with digest check' if c else 'read only'} {res['warcio', c][0] / res['fastwarc', c][0]:.2f}"
                for c in (False, True)))
        picks = random.Random(args.seed + 2).sample([t for t in truth if t[2] == "response"], 50)
        html_pick = next(t for t in truth if t[2] == "response" and t[1] > 2000)
        member = slice_of(path, html_pick[0], html_pick[1])
        altered = tamper(member)
        for name, fn in readers.items():
            try:
                ok = fn(altered)[3]
                verdict = "caught" if ok is False else "NOT caught"
            except Exception as exc:  # noqa: BLE001
                verdict = f"raised {type(exc).__name__}: {exc}"
            print(f"  {name:9} own digest check on a payload altered by one byte: {verdict}; "
                  f"iterator straight on a seeked file handle: {direct_from_handle(path, picks, name)}")

        # ---- ARC
        print("\nARC (20 HTTP responses + filedesc record):")
        plain, packed, arc_truth = build_arc(folder, pages)
        for line in arc_check(plain, packed, arc_truth):
            print(f"  {line}")
        if args.keep:
            print(f"\nkept: {path}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
