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
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.errors import ArchiverError
from archiver.fetch.http import Exchange

try:  # the content codings httpx decodes while streaming (gzip, deflate; br/zstd when installed)
    from httpx._decoders import SUPPORTED_DECODERS as _HTTPX_DECODERS

    DECODED_CODINGS = frozenset(_HTTPX_DECODERS)
except ImportError:  # pragma: no cover - a future httpx that moved it
    DECODED_CODINGS = frozenset({"identity", "gzip", "deflate"})

DIGEST_ALGORITHM = "sha256"
DEFAULT_MAX_BYTES = 100 * 2**20
ORIGINAL_PREFIX = "X-Archiver-Original-"
WARC_SUFFIX = ".warc.gz"
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
    span_offset: int = 0  # every record the exchange wrote (redirect hops, response, request), in one range
    span_length: int = 0


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


def resource_record(uri: str, body: bytes, content_type: str, date: str, headers: dict | None = None) -> bytes:
    """A WARC ``resource`` record of bytes held without an HTTP exchange (a file, a rendering), one gzip member."""
    builder = _Sha256Writer(BytesIO(), gzip=True, warc_version="1.1")
    record = builder.create_warc_record(
        uri, "resource", payload=BytesIO(body), length=len(body), warc_content_type=content_type,
        warc_headers_dict={"WARC-Date": warc_date(date), **(headers or {})})
    return _member(record)


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
            start = self._size
            self._append(hops + resp + req)  # one append: a chain is never split across files
            path = self._path
        rel = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        return WarcLocation(rel, start + len(hops), len(resp), resp_id, digest, start, len(hops) + len(resp) + len(req))

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
