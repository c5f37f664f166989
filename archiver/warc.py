"""WARC 1.1 evidence of every HTTP exchange: rotating gzip files beside the database.

Layout: ``<db folder>/<db stem>.files/warc/archiver-<YYYYMMDDTHHMMSSZ>-<serial>.warc.gz``.  Every
record is its own gzip member, so a record is addressed by (file, offset, length) and a torn last
member never hides the records before it.  Files are only ever created fresh (``O_EXCL``) and appended
to by the one writer that created them; an existing file is never reopened for writing.

Digests are ``sha256:`` in base32 (warcio's own encoding, which ``warcio check`` verifies): the same
SHA-256 the store keeps beside every body, only spelled in base32 instead of hex (see ``digest_hex``).
"""
from __future__ import annotations

import base64
import hashlib
import mmap
import os
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.http import Exchange

try:  # the content codings httpx decodes while streaming (gzip, deflate; br/zstd when installed)
    from httpx._decoders import SUPPORTED_DECODERS as _HTTPX_DECODERS

    DECODED_CODINGS = frozenset(_HTTPX_DECODERS)
except ImportError:  # pragma: no cover - a future httpx that moved it
    DECODED_CODINGS = frozenset({"identity", "gzip", "deflate"})

DIGEST_ALGORITHM = "sha256"
DEFAULT_MAX_BYTES = 100 * 2**20
ORIGINAL_PREFIX = "X-Archiver-Original-"
WARC_SUFFIX = ".warc.gz"
_GZIP_MAGIC = b"\x1f\x8b\x08"
_RECORD_END = b"\r\n\r\n"
_NO_BODY_STATUSES = (204, 304)


class WarcError(ArchiverError):
    """A WARC file could not be written or a record could not be read back."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class WarcLocation:
    """Where a response record lives: file relative to the db folder, gzip member offset and length."""

    file: str
    offset: int
    length: int
    record_id: str = ""
    payload_digest: str = ""


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


def warc_dir(db_path) -> Path:
    """The WARC folder of a database: ``archive.db`` -> ``archive.files/warc``."""
    db_path = Path(db_path)
    return db_path.parent / f"{db_path.stem}.files" / "warc"


def digest_hex(labelled: str) -> str:
    """Hex of a ``sha256:BASE32`` WARC digest, to compare with the store's sha256 columns."""
    algo, _, value = labelled.partition(":")
    if algo != DIGEST_ALGORITHM or not value:
        raise ValueError(f"not a {DIGEST_ALGORITHM} WARC digest: {labelled!r}")
    return base64.b32decode(value).hex()


def payload_digest(body: bytes) -> str:
    """The ``WARC-Payload-Digest`` value this module writes for a body."""
    return f"{DIGEST_ALGORITHM}:" + base64.b32encode(hashlib.sha256(body).digest()).decode("ascii")


class _Sha256Writer(WARCWriter):
    """warcio's writer with sha256 instead of sha1 for block and payload digests."""

    @staticmethod
    def _create_digester():
        return Digester(DIGEST_ALGORITHM)


def _member(record) -> bytes:
    """One record serialised as one gzip member."""
    buf = BytesIO()
    _Sha256Writer(buf, gzip=True, warc_version="1.1").write_record(record)
    return buf.getvalue()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def warc_date(iso: str) -> str:
    """An ISO-8601 time as a WARC 1.1 date in UTC with milliseconds: ``2026-11-28T04:19:43.123Z``."""
    try:
        dt = datetime.fromisoformat(iso.strip())
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"not an ISO-8601 time: {iso!r}") from exc
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def consistent_headers(headers: list, body: bytes, status: int) -> list:
    """Response headers made true of the decoded body we keep (httpx already undid the codings).

    - ``Transfer-Encoding`` is renamed ``X-Archiver-Original-Transfer-Encoding``: the body is de-chunked.
    - ``Content-Encoding`` is renamed ``X-Archiver-Original-Content-Encoding`` when every coding in it
      is one httpx decodes; an unknown coding (e.g. ``br`` without brotli) was left on the body by
      httpx, so the header stays and still describes it.
    - ``Content-Length`` is set to ``len(body)`` when one of the above happened or it disagreed with
      the body (the old value kept as ``X-Archiver-Original-Content-Length``); never for 1xx/204/304.
    Order is kept; nothing else changes.
    """
    codings = [c.strip().lower() for name, value in headers if name.lower() == "content-encoding"
               for c in value.split(",") if c.strip()]
    decoded = bool(codings) and any(c != "identity" for c in codings) and all(c in DECODED_CODINGS for c in codings)
    out, lengths, recoded = [], [], False
    for name, value in headers:
        low = name.lower()
        if low == "transfer-encoding" or (low == "content-encoding" and decoded):
            out.append((ORIGINAL_PREFIX + name.title(), value))
            recoded = True
        elif low == "content-length":
            lengths.append((len(out), value))
            out.append((name, value))
        else:
            out.append((name, value))
    if status < 200 or status in _NO_BODY_STATUSES:
        return out
    actual = str(len(body))
    if not recoded and all(value.strip() == actual for _, value in lengths):
        return out
    if not lengths:
        return out + [("Content-Length", actual)] if recoded else out
    first = lengths[0][0]
    fixed = []
    for i, (name, value) in enumerate(out):
        if name.lower() != "content-length":
            fixed.append((name, value))
            continue
        if value.strip() != actual:
            fixed.append((ORIGINAL_PREFIX + "Content-Length", value))
        if i == first:
            fixed.append(("Content-Length", actual))
    return fixed


def _request_headers(ex: Exchange, uri: str) -> list:
    headers = [(str(k), str(v)) for k, v in ex.request_headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.insert(0, ("Host", urlsplit(uri).netloc))
    return headers


def _request_target(uri: str) -> str:
    parts = urlsplit(uri)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def build_records(ex: Exchange, *, target_uri: str | None = None) -> tuple[bytes, bytes, str, str]:
    """The response and request records of an exchange as gzip members, the response id and digest."""
    uri = target_uri or ex.final_url
    builder = _Sha256Writer(BytesIO(), gzip=True, warc_version="1.1")
    date = warc_date(ex.started_at)
    resp_id = StatusAndHeadersParser.make_warc_id()
    common = {"WARC-Date": date, "WARC-Target-URI": uri}
    if ex.ip:
        common["WARC-IP-Address"] = ex.ip

    raw = ex.raw_headers or list(ex.headers.items())
    reason = ex.reason
    if not reason:
        try:
            reason = HTTPStatus(ex.status).phrase
        except ValueError:
            reason = ""
    http_headers = StatusAndHeaders(f"{ex.status} {reason}".rstrip(),
                                    consistent_headers([(str(k), str(v)) for k, v in raw], ex.body, ex.status),
                                    protocol=ex.http_version)
    resp = builder.create_warc_record(
        uri, "response", payload=BytesIO(ex.body), length=len(ex.body), http_headers=http_headers,
        warc_headers_dict={"WARC-Type": "response", "WARC-Record-ID": resp_id, **common,
                           **({"WARC-Truncated": "length"} if ex.truncated else {})})
    digest = resp.rec_headers.get_header("WARC-Payload-Digest")

    req_line = StatusAndHeaders(f"GET {_request_target(uri)} {ex.http_version}", _request_headers(ex, uri),
                                is_http_request=True)
    req = builder.create_warc_record(
        uri, "request", http_headers=req_line,
        warc_headers_dict={"WARC-Type": "request", "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(), **common,
                           "WARC-Concurrent-To": resp_id})
    return _member(resp), _member(req), resp_id, digest


class WarcWriter:
    """Thread-safe writer of request/response pairs into rotating ``.warc.gz`` files in one folder."""

    def __init__(self, directory, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 software: str = f"archiver/{__version__}", root=None,
                 clock: Callable[[], datetime] = _utcnow):
        """``root``: locations are relative to it; default the db folder (``directory/../..``)."""
        self.directory = Path(directory)
        self.root = Path(root) if root is not None else self.directory.parent.parent
        self.max_bytes = max_bytes
        self.software = software
        self._clock = clock
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._serial = 0

    @classmethod
    def for_db(cls, db_path, **kwargs) -> "WarcWriter":
        """The writer for a database's WARC folder."""
        return cls(warc_dir(db_path), root=Path(db_path).parent, **kwargs)

    @property
    def path(self) -> Path | None:
        """The file being written, or None before the first write and after close()."""
        return self._path

    def __enter__(self) -> "WarcWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write_exchange(self, ex: Exchange, *, target_uri: str | None = None) -> WarcLocation:
        """Write the response and request records of one exchange, fsynced; return the response's place.

        Each redirect hop before it (``ex.hops``) is written first, as its own response and request
        pair, so the file shows the whole chain a reader followed. The response headers are rewritten
        to match the decoded body we keep (see consistent_headers): Transfer-Encoding and decoded
        Content-Encoding become X-Archiver-Original-*, Content-Length is fixed.
        """
        # Compressed outside the lock.
        hops = b"".join(b"".join(build_records(hop, target_uri=hop.url)[:2]) for hop in ex.hops)
        resp, req, resp_id, digest = build_records(ex, target_uri=target_uri)
        with self._lock:
            if self._fd is not None and self._size >= self.max_bytes:
                self._close_file()
            if self._fd is None:
                self._open_file()
            offset = self._size + len(hops)
            self._append(hops + resp + req)  # one append: a chain is never split across files
            path = self._path
        rel = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        return WarcLocation(rel, offset, len(resp), resp_id, digest)

    def close(self) -> None:
        """Close the current file; a later write starts a new one."""
        with self._lock:
            self._close_file()

    # -- under the lock

    def _open_file(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = self._clock().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            while True:
                self._serial += 1
                path = self.directory / f"archiver-{stamp}-{self._serial:05d}{WARC_SUFFIX}"
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
                except FileExistsError:  # another process (or an earlier run) has that name
                    continue
                break
            _fsync_dir(self.directory)
        except OSError as exc:
            raise WarcError(f"cannot create a WARC file in {self.directory}: {exc}",
                            hint="check the folder exists and is writable") from exc
        self._fd, self._path, self._size = fd, path, 0
        builder = _Sha256Writer(BytesIO(), gzip=True, warc_version="1.1")
        info = builder.create_warcinfo_record(path.name, {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": "HTTP exchanges fetched by archiver, one request/response pair per fetch",
        })
        self._append(_member(info))

    def _append(self, data: bytes) -> None:
        start = self._size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            path = self._path
            try:  # leave no torn member behind, and never write to this file again
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            except OSError:
                pass
            self._close_file()
            raise WarcError(f"cannot write to {path}: {exc}", hint="is the disk full?") from exc
        self._size += len(data)

    def _close_file(self) -> None:
        if self._fd is not None:
            fd, self._fd, self._path, self._size = self._fd, None, None, 0
            os.close(fd)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


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
