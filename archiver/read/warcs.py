"""WARC and ARC files as article sources: each HTML response record is one article, read with where it lies.

A record is kept by reference (file, offset, length, WARC-Record-ID, payload digest): the WARC file is
the evidence, and ``verify`` reads the record again there. ``revisit`` records name content seen before and
are counted, not analysed; other records (requests, metadata, images, scripts) are counted and skipped.
A record that cannot be read (truncated, corrupt gzip) is reported with its file and offset, and reading
goes on at the next record the file still holds.
"""
from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from warcio.archiveiterator import ArchiveIterator

from archiver.models import Article
from archiver.read.articles import article_from_bytes, sniff_kind

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Types that say nothing of the content (or none at all): such a response is HTML if its bytes look like it.
UNTYPED = ("", "application/octet-stream", "binary/octet-stream", "application/unknown", "unknown/unknown", "*/*")
MAX_ERRORS = 50  # errors kept per file (all are counted)
MAX_REVISITS = 100_000  # revisits kept per file for linking (all are counted)
_GZIP_MAGIC = b"\x1f\x8b\x08"
_COUNTERS = ("records", "html", "non_html", "revisits", "other", "too_large")  # a FileScan's counts by kind
_ONE_STREAM = ("the whole file is one gzip stream, not one per record: records cannot be found again by offset "
               "(hint: `warcio recompress` the file)")


def is_web_archive(path: str) -> bool:
    """Whether a path names a WARC or ARC file (by its suffix)."""
    return path.lower().endswith(WARC_SUFFIXES)


@dataclass(frozen=True)
class RecordRef:
    """Where one record lies, and what names it: enough to find it again and check it."""

    file: str  # the file as given (absolute when read through a folder)
    offset: int
    length: int
    record_id: str | None
    payload_digest: str | None  # WARC-Payload-Digest as written (e.g. sha1:BASE32)
    target_uri: str | None
    date: str | None  # WARC-Date


@dataclass
class FileScan:
    """What one file held: records by kind, and the records that could not be read (offset, reason)."""

    file: str
    size: int = 0
    records: int = 0
    html: int = 0  # HTML responses: analysed as articles
    non_html: int = 0  # responses of another type, or not status 200
    revisits: int = 0
    other: int = 0  # requests, metadata, warcinfo, resources
    too_large: int = 0
    errors: list = field(default_factory=list)  # (offset, reason), the first MAX_ERRORS
    error_count: int = 0
    revisit_refs: list = field(default_factory=list)  # RecordRef of each revisit (payload_digest: what it repeats)

    def error(self, offset: int, reason: str) -> None:
        """Count a record that could not be read; keep the first MAX_ERRORS."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((offset, reason))

    def merge(self, other: "FileScan") -> None:
        """Fold in the counts of another byte range of the same file."""
        self.size = max(self.size, other.size)  # a range in which no record starts never reads the size
        for name in (*_COUNTERS, "error_count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors = sorted(self.errors + other.errors)[:MAX_ERRORS]
        self.revisit_refs = sorted(self.revisit_refs + other.revisit_refs, key=lambda r: r.offset)[:MAX_REVISITS]


def read_web_archive(path: str, scan: FileScan, max_bytes: int, start: int = 0,
                     end: int | None = None) -> Iterator[Article]:
    """The HTML response records of a WARC/ARC file as Articles (source: the record's target URI); with
    ``start`` and ``end`` (record offsets, see record_start_at_or_after), those that start in that range.

    Each Article's ``meta`` carries ``record`` (a RecordRef) and the record's HTTP content type; its
    ``fetched_at`` is the WARC-Date, its ``http_status`` the response's.
    """
    scan.size = os.path.getsize(path)
    while start is not None and (end is None or start < end):
        start = yield from _read_from(path, start, scan, max_bytes, end)


SPLITTABLE = (".warc.gz",)  # files read in byte ranges: a gzip member per record, each found by its header


def record_start_at_or_after(path: str, position: int) -> int | None:
    """Where the first record of a gzipped WARC file that starts at or after ``position`` begins (a gzip
    member that opens with a WARC header), or None when none does. Every reader asking for the same
    position gets the same answer, so byte ranges cut at such positions neither overlap nor leave gaps."""
    if position <= 0:
        return 0
    while True:
        hit = _next_record(path, position)
        if hit is None:
            return None
        if _opens_warc_record(path, hit):
            return hit
        position = hit + 1  # the gzip magic bytes occurred inside compressed data


def _only_empty_members(path: str, start: int, end: int) -> bool:
    """Whether the bytes from ``start`` to ``end`` of a gzipped file are gzip members holding nothing."""
    if end - start > 4096:
        return False
    data = _bytes_at(path, start, end - start)
    while data:
        d = zlib.decompressobj(31)
        try:
            if d.decompress(data, 1) or not d.eof:
                return False
        except zlib.error:
            return False
        data = d.unused_data
    return True


def _opens_warc_record(path: str, offset: int) -> bool:
    try:
        return zlib.decompressobj(31).decompress(_bytes_at(path, offset, 4096), 8).startswith(b"WARC/")
    except zlib.error:
        return False


def _bytes_at(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _read_from(path: str, start: int, scan: FileScan, max_bytes: int, end: int | None = None):
    """Read records from byte ``start`` (those that start before ``end``); returns where to go on after an
    unreadable record, or None at the end."""
    with open(path, "rb") as fh:
        fh.seek(start)
        it = ArchiveIterator(fh, arc2warc=True, ensure_http_headers=False)
        offset = start  # where the record being read starts (the previous one's end)
        try:
            for record in it:
                if end is not None and offset >= end:
                    return None  # the next range's first record
                before = [getattr(scan, c) for c in _COUNTERS] if end is not None else None
                scan.records += 1
                body = _html_body(record, scan, max_bytes)
                it.read_to_end(record)  # warcio knows a record's offset and length once it is read to its end
                here, length = it.get_record_offset(), it.get_record_length()  # from the file's start
                if end is not None and here < end < here + length and _only_empty_members(path, here, end):
                    # warcio counted empty gzip members before this record as its own bytes: it starts at
                    # ``end``, the next range's first record.
                    for name, value in zip(_COUNTERS, before):
                        setattr(scan, name, value)
                    return None
                if length < 0:  # one gzip stream for the whole file: no record can be found again by offset
                    scan.records -= 1
                    scan.html -= body is not None
                    scan.error(here, _ONE_STREAM)
                    return None
                if body is not None:
                    article = _article(path, record, here, length, body)
                    offset = here + length
                    yield article
                else:
                    offset = here + length
                    if record.rec_type == "revisit" and len(scan.revisit_refs) < MAX_REVISITS:
                        scan.revisit_refs.append(_ref(path, record, here, length))
        except Exception as exc:  # noqa: BLE001 - warcio raises many types on damaged bytes (AttributeError too)
            if end is not None and offset >= end:
                return None  # a damaged record that opens the next range: that range names it
            if "non-chunked gzip" in str(exc):
                scan.error(offset, _ONE_STREAM)
                return None
            resume = _next_record(path, max(offset, start) + 1)
            if resume is None:  # nothing readable follows: the file ends inside this record
                scan.error(offset, f"truncated record: the file ends {scan.size - offset} byte(s) after its start")
            else:
                scan.error(offset, _reason(exc))
            return resume
    if offset < scan.size and not _only_separators(path, offset):
        # the reader stopped short of the end: a record cut off (a truncated download)
        scan.error(offset, f"truncated record: {scan.size - offset} byte(s) after the last whole record")
    return None


def _only_separators(path: str, offset: int) -> bool:
    """Whether all that follows ``offset`` is the blank lines that end an uncompressed record."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        rest = fh.read(65)
    return len(rest) <= 64 and not rest.strip()


def _html_body(record, scan: FileScan, max_bytes: int) -> bytes | None:
    """The payload of an HTML response (status 200, typed HTML or untyped and sniffed as HTML); None, counted
    by kind, for any other record."""
    kind = record.rec_type
    if kind == "revisit":
        scan.revisits += 1
        return None
    if kind != "response":
        scan.other += 1
        return None
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http is not None else 0
    ctype = (http.get_header("Content-Type") or "") if http is not None else ""
    untyped = _media_type(ctype) in UNTYPED
    if status != 200 or not (untyped or _media_type(ctype) in HTML_TYPES):
        scan.non_html += 1
        return None
    body = record.content_stream().read(max_bytes + 1)
    if len(body) > max_bytes:
        scan.too_large += 1
        return None
    if not body.strip() or (untyped and not _sniffed_html(body)):
        scan.non_html += 1
        return None
    scan.html += 1
    return body


def _sniffed_html(body: bytes) -> bool:
    """Whether an untyped payload reads as an HTML page (not binary, markup near its start)."""
    try:
        return sniff_kind(body) == "html"
    except ValueError:  # binary or compressed
        return False


def _ref(path: str, record, offset: int, length: int) -> RecordRef:
    headers = record.rec_headers
    # An ARC record has no id: warcio makes one up on every read, so none is kept to check it against.
    record_id = None if path.lower().endswith((".arc", ".arc.gz")) else headers.get_header("WARC-Record-ID")
    return RecordRef(file=path, offset=offset, length=length, record_id=record_id,
                     payload_digest=headers.get_header("WARC-Payload-Digest"),
                     target_uri=headers.get_header("WARC-Target-URI"), date=headers.get_header("WARC-Date"))


def _article(path: str, record, offset: int, length: int, body: bytes) -> Article:
    http = record.http_headers
    ref = _ref(path, record, offset, length)
    uri = ref.target_uri
    ctype = http.get_header("Content-Type") or ""
    article = article_from_bytes(uri or f"{path}@{offset}", body, kind="html", content_type=ctype)
    return replace(article, url=uri, final_url=uri, http_status=200, fetched_at=_iso(ref.date),
                   meta={"record": ref, "content_type": ctype})


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _iso(date: str | None) -> str | None:
    """WARC-Date as the archive writes times (second precision, Z)."""
    if not date:
        return None
    return date[:19] + "Z" if len(date) >= 19 else date


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text.split(", first line:")[0]  # warcio quotes the unreadable bytes: noise in a report
    return f"unreadable record: {type(exc).__name__}{': ' + text if text else ''}"[:160]


def _next_record(path: str, after: int, window: int = 1 << 20) -> int | None:
    """Where the next record may start at or after ``after`` (a gzip member, or a WARC/ARC header line in
    an uncompressed file), or None when the file holds no more."""
    marks = (_GZIP_MAGIC,) if path.lower().endswith(".gz") else (b"\nWARC/1.", b"\nhttp://", b"\nhttps://")
    with open(path, "rb") as fh:
        pos = after
        while True:
            fh.seek(pos)
            chunk = fh.read(window + 16)
            found = [i for i in (chunk.find(m) for m in marks) if i >= 0]
            if found:
                hit = min(found)
                return pos + hit + (0 if path.lower().endswith(".gz") else 1)
            if len(chunk) < window + 16:
                return None
            pos += window


def payload_sha1(body: bytes) -> str:
    """A payload digest as WARC writers spell it: sha1: and base32."""
    import base64

    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def read_record_at(path: str, offset: int, max_bytes: int = 1 << 30) -> tuple[bytes, dict]:
    """The payload of the record at ``offset`` (as articles read it) and its WARC headers; raises OSError or
    ValueError when the file or record cannot be read."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh, arc2warc=True, ensure_http_headers=False)))
        except StopIteration:
            raise ValueError("no record at this offset") from None
        except Exception as exc:  # noqa: BLE001 - as above: whatever warcio raises, the record is unreadable
            raise ValueError(_reason(exc)) from None
        body = record.content_stream().read(max_bytes)
        return body, dict(record.rec_headers.headers)
