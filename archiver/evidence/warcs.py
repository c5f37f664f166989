"""Reading WARC evidence back: one record by its location, and every file checked member by member.

The writer (``archiver.fetch.warc``) keeps every record its own gzip member; here a record is read at its
(file, offset, length) with its digests checked, and whole files are walked for torn members, bad
digests and records that do not parse, without trusting the writer.
"""
from __future__ import annotations

import hashlib
import mmap
import os
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader

from archiver.fetch.warc import WARC_SUFFIX, WarcError, WarcLocation

_GZIP_MAGIC = b"\x1f\x8b\x08"
_RECORD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a WARC file, at the offset of the gzip member concerned."""

    file: str
    offset: int
    message: str


class StoredRecord(NamedTuple):
    """One record read back: WARC headers, HTTP status (0 if none), HTTP headers, payload bytes."""

    warc_headers: dict
    http_status: int
    http_headers: list
    payload: bytes


def read_record(db_folder, location, *, verify: bool = True) -> StoredRecord:
    """Read back the record at ``location`` (a WarcLocation); with ``verify``, a bad digest raises."""
    path = Path(db_folder) / location.file
    try:
        with open(path, "rb") as fh:
            fh.seek(location.offset)
            data = fh.read(location.length) if location.length else fh.read()
    except OSError as exc:
        raise WarcError(f"cannot read {path}: {exc}") from exc
    where = f"{location.file}@{location.offset}"
    try:
        it = ArchiveIterator(BytesIO(data), check_digests=verify)
        record = next(it)
        payload = record.raw_stream.read()
        short = record.raw_stream.limit if hasattr(record.raw_stream, "limit") else 0
        problems = list(record.digest_checker.problems) if verify else []
    except (ArchiveLoadFailed, StopIteration, EOFError, OSError, zlib.error, ValueError) as exc:
        raise WarcError(f"no readable WARC record at {where}: {exc or type(exc).__name__}") from exc
    if short:
        raise WarcError(f"record at {where} is truncated ({short} bytes missing)")
    if problems:
        raise WarcError(f"record at {where}: {'; '.join(problems)}")
    status = 0
    if record.http_headers and record.rec_type == "response":
        try:
            status = int(record.http_headers.get_statuscode())
        except ValueError:
            status = 0
    http_headers = list(record.http_headers.headers) if record.http_headers else []
    return StoredRecord(dict(record.rec_headers.headers), status, http_headers, payload)


def read_exchange(db_folder, file: str, offset: int, length: int | None):
    """The response record at file@offset and the request record written right after it (or None)."""
    path = Path(db_folder) / file
    try:
        with open(path, "rb") as fh:
            length, request_length = exchange_lengths(fh, offset, length)
    except OSError as exc:
        raise WarcError(f"cannot read {path}: {exc}") from exc
    response = read_record(db_folder, WarcLocation(file, offset, length))
    request = None
    if request_length:
        candidate = read_record(db_folder, WarcLocation(file, offset + length, request_length))
        if candidate.warc_headers.get("WARC-Type") == "request" and candidate.warc_headers.get(
                "WARC-Concurrent-To") == response.warc_headers.get("WARC-Record-ID"):
            request = candidate
    return response, request


def exchange_lengths(fh, offset: int, length: int | None) -> tuple[int, int]:
    """(response length, length of the record after it, 0 if none) for the response member at `offset`;
    the writer puts an exchange's request record right after its response."""
    length = length or member_length(fh, offset)
    try:
        return length, member_length(fh, offset + length)
    except ValueError:
        return length, 0


def iter_range(fh, offset: int, length: int, chunk: int = 1 << 20):
    """The bytes of a file from `offset`, `length` of them, in chunks; ValueError if the file ends first."""
    fh.seek(offset)
    left = length
    while left:
        data = fh.read(min(chunk, left))
        if not data:
            raise ValueError(f"ends {left} bytes early")
        left -= len(data)
        yield data


def member_length(fh, offset: int) -> int:
    """The compressed length of the gzip member (one record) starting at `offset` of an open WARC file."""
    fh.seek(offset)
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    used = 0
    while not d.eof:
        chunk = fh.read(1 << 16)
        if not chunk:
            raise ValueError(f"no whole gzip member at offset {offset}")
        d.decompress(chunk)
        used += len(chunk) - len(d.unused_data)
        if d.unused_data:
            break
    return used


# -- verification

class _BadMember(Exception):
    pass


def _inflate(view: memoryview, start: int) -> tuple[int, bytes]:
    """Decompress the gzip member at ``start``; return (end offset, data) or raise _BadMember."""
    d = zlib.decompressobj(zlib.MAX_WBITS | 16)
    parts, pos, chunk = [], start, 1 << 16
    while pos < len(view):
        piece = view[pos:pos + chunk]
        try:
            parts.append(d.decompress(piece))
        except zlib.error as exc:
            raise _BadMember(f"corrupt gzip member: {exc}") from exc
        if d.eof:
            return pos + len(piece) - len(d.unused_data), b"".join(parts)
        pos += len(piece)
        chunk = min(chunk * 2, 1 << 22)
    raise _BadMember("truncated gzip member: the file ends inside this record")


def _check_record(data: bytes) -> list[str]:
    """Problems of one decompressed member: a WARC record, full length, good digests, proper end."""
    stream = BytesIO(data)
    try:
        record = ArcWarcRecordLoader(verify_http=False, arc2warc=False).parse_record_stream(
            stream, known_format="warc", check_digests=True)
        while record.raw_stream.read(1 << 20):
            pass
    except (ArchiveLoadFailed, EOFError, ValueError) as exc:
        return [f"not a readable WARC record: {exc or type(exc).__name__}"]
    problems = list(record.digest_checker.problems)
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        problems.append(f"record is {missing} bytes shorter than its Content-Length")
    elif stream.read() != _RECORD_END:
        problems.append("record is not followed by exactly CRLF CRLF (wrong Content-Length?)")
    return problems


def verify_file(path) -> list[Problem]:
    """Re-read every record of one .warc.gz file, checking gzip framing, lengths and digests."""
    path = Path(path)
    name = str(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        return [Problem(name, 0, f"cannot open: {exc}")]
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return [Problem(name, 0, "empty file (no warcinfo record): a writer died before its first write")]
        problems: list[Problem] = []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, memoryview(mm) as view:
            pos, resyncing = 0, False
            while pos < size:
                try:
                    end, data = _inflate(view, pos)
                except _BadMember as exc:
                    if not resyncing:
                        problems.append(Problem(name, pos, str(exc)))
                    nxt = mm.find(_GZIP_MAGIC, pos + 1)  # look for the next record after the damage
                    if nxt < 0:
                        break
                    pos, resyncing = nxt, True
                    continue
                found = _check_record(data)
                if resyncing and found:  # a false start inside the damaged member
                    pos = mm.find(_GZIP_MAGIC, pos + 1)
                    if pos < 0:
                        break
                    continue
                problems.extend(Problem(name, pos, msg) for msg in found)
                pos, resyncing = end, False
    return problems


def verify_warcs(directory) -> list[Problem]:
    """Re-read every record of every ``.warc.gz`` file in a folder; return what is wrong (empty: all good)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    problems: list[Problem] = []
    for path in sorted(directory.glob(f"*{WARC_SUFFIX}")):
        problems.extend(verify_file(path))
    return problems


def stored_body(db, db_folder, sha256: str) -> bytes | None:
    """A stored body's bytes: from ``bodies``, or for a body kept by reference, the payload of the WARC/ARC
    record an article version was read from (None when neither can be read)."""
    from archiver.read.warcs import read_record_at

    row = db.execute("SELECT content, by_reference FROM bodies WHERE sha256 = ?", [sha256]).fetchone()
    if row is None:
        return None
    if not row[1]:
        return row[0]
    for file, offset, size in db.execute(
            "SELECT v.source_file, v.source_offset, b.size FROM article_versions v JOIN bodies b ON b.sha256 = v.sha256 "
            "WHERE v.sha256 = ? AND v.source_file IS NOT NULL ORDER BY v.id", [sha256]):
        path = Path(db_folder) / file
        if not path.is_file():  # a path from the database opens a regular file only (never a FIFO or a device)
            continue
        try:
            payload, _ = read_record_at(str(path), offset, max_bytes=(size or 0) + 1)
        except (OSError, ValueError):
            continue
        if hashlib.sha256(payload).hexdigest() == sha256:
            return payload
    return None
