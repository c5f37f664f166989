"""A real HTTP server on 127.0.0.1 that stands in for every upstream, with fault injection.

Stdlib only on the server side: ``http.server.ThreadingHTTPServer`` in a background thread,
HTTP/1.1 keep-alive, daemon handler threads.  Tests use the ``upstream`` fixture::

    def test_fetch(upstream):
        upstream.route("/a.html", "<html>hi</html>")
        upstream.fault("/a.html", "429", retry_after=2)      # first request only
        ...
        assert upstream.count("/a.html") == 2

Responses are registered per exact path (``.route``), optionally narrowed by query parameters;
faults (``.fault``) apply to the first ``times`` matching requests, then the normal response is
served again.  Every request is recorded in ``.requests``.  Waiting never sleeps blindly: a
hanging handler waits on the server's stop event, so ``stop()`` returns promptly.
"""
from __future__ import annotations

import email.utils
import hashlib
import html
import json
import mimetypes
import os
import re
import socket
import struct
import sys
import threading
import traceback
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

__all__ = [
    "FAULT_KINDS",
    "SAMPLES_DIR",
    "TOMBSTONE_ID",
    "Fault",
    "RecordedRequest",
    "Response",
    "Upstream",
    "fake_media",
    "load_sample",
    "oembed_routes",
    "samples_dir",
    "syndication_routes",
    "tco_html",
    "ts_literal_to_json",
    "upstream",
    "upstream_factory",
    "wait_until",
    "wayback_routes",
]

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "samples"
# An id that no real tweet has; the deleted-tweet tombstone sample is served under it.
TOMBSTONE_ID = "1000000000000000001"
SYNDICATION_CONTENT_TYPE = "application/json;charset=utf-8"
BROWSER_UA_MARK = "Mozilla/"

# kind -> {option: default}; a default of _REQUIRED means the option must be given.
_REQUIRED = object()
_NOT_FOUND = object()
FAULT_KINDS: dict[str, dict[str, Any]] = {
    "429": {"retry_after": 1, "body": b"rate limited", "headers": None},
    "5xx": {"status": 503, "retry_after": None, "body": b"upstream error", "headers": None},
    "reset": {"send": b""},
    "timeout": {"seconds": 30.0, "then": "close"},
    "truncated": {"body": None, "send": None, "content_length": None},
    "oversized": {"size": 10 * 1024 * 1024, "chunk_size": 64 * 1024, "content_type": None},
    "redirect_loop": {"via": None, "status": 302},
    "redirect": {"location": _REQUIRED, "status": 302},
    "latency": {"ms": _REQUIRED},
}
# Kinds that apply to every matching request unless ``times`` is given.
_FOREVER_BY_DEFAULT = {"latency", "redirect_loop"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str  # without the query string, not percent-decoded
    raw_query: str
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]  # lower-cased names
    body: bytes
    time: float  # time.time() when the request line and body had been read
    monotonic: float  # time.monotonic() at the same moment
    client: tuple[str, int]  # the client's (host, port): equal ports = same connection

    @property
    def target(self) -> str:
        return self.path + ("?" + self.raw_query if self.raw_query else "")


@dataclass
class Response:
    """What a route answers; ``body`` may be bytes, str, or a dict/list (sent as JSON)."""

    status: int = 200
    body: Any = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = None


@dataclass
class _Route:
    path: str
    query: dict[str, Any]
    respond: Any  # a Response, or (callable, status, headers, content_type)


@dataclass
class Fault:
    """A registered fault; ``remaining`` is None for "forever", ``hits`` counts applications."""

    path: str  # exact path or "*"
    kind: str
    remaining: int | None
    query: dict[str, Any]
    opts: dict[str, Any]
    hits: int = 0


# --------------------------------------------------------------------------- helpers


def _headers_list(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _encode_body(body: Any, content_type: str | None, path: str) -> tuple[bytes, str]:
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
        default = mimetypes.guess_type(path)[0] or "application/octet-stream"
    elif isinstance(body, str):
        data = body.encode("utf-8")
        guessed = mimetypes.guess_type(path)[0]
        default = f"{guessed or 'text/plain'}; charset=utf-8"
    elif isinstance(body, (dict, list)):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        default = "application/json"
    elif body is None:
        data, default = b"", "application/octet-stream"
    else:
        raise TypeError(f"unsupported body type {type(body).__name__}")
    return data, content_type or default


def _split_target(path: str, query: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``"/p?a=1"`` -> ``("/p", {"a": "1"})``, merged with an explicit ``query``."""
    merged: dict[str, Any] = {}
    if "?" in path:
        path, qs = path.split("?", 1)
        merged.update({k: v[0] for k, v in parse_qs(qs, keep_blank_values=True).items()})
    merged.update(query or {})
    if not path.startswith("/") and path != "*":
        raise ValueError(f"path must start with '/': {path!r}")
    return path, merged


def _query_matches(want: Mapping[str, Any], got: Mapping[str, str]) -> bool:
    for key, expected in want.items():
        value = got.get(key)
        if value is None:
            return False
        if isinstance(expected, re.Pattern):
            if not expected.search(value):
                return False
        elif callable(expected):
            if not expected(value):
                return False
        elif value != str(expected):
            return False
    return True


def format_retry_after(value: Any) -> str:
    """Seconds (int/float) -> ``"2"``; datetime -> an IMF-fixdate; str -> as is."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return email.utils.format_datetime(value.astimezone(timezone.utc), usegmt=True)
    if isinstance(value, (int, float)):
        return str(int(value))
    return str(value)


def wait_until(predicate: Callable[[], Any], timeout: float = 2.0, interval: float = 0.005) -> Any:
    """Poll ``predicate`` until it returns something truthy; AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_JPEG_TAIL = b"\xff\xd9"
_MP4_FTYP = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


def fake_media(name: str, size: int) -> bytes:
    """Deterministic bytes of exactly ``size`` with a real magic header for .jpg/.jpeg/.mp4.

    JPEG: SOI + JFIF APP0 ... EOI.  MP4: an ``ftyp`` box, then an ``mdat`` box filling the rest.
    The filler depends on ``name`` so two files never share a digest.
    """
    suffix = Path(name).suffix.lower()
    seed = hashlib.sha256(name.encode()).digest()
    if suffix in (".jpg", ".jpeg"):
        head, tail = _JPEG_HEAD, _JPEG_TAIL
    elif suffix == ".mp4":
        head, tail = _MP4_FTYP + struct.pack(">I", max(size - len(_MP4_FTYP), 0)) + b"mdat", b""
    else:
        head, tail = b"", b""
    fill = size - len(head) - len(tail)
    if fill < 0:
        raise ValueError(f"{name}: size {size} is smaller than its {len(head) + len(tail)}-byte header")
    filler = (seed * (fill // len(seed) + 1))[:fill]
    return head + filler + tail


def tco_html(location: str) -> str:
    """The page t.co serves to browsers instead of a 301."""
    esc = html.escape(location, quote=True)
    js = json.dumps(location).replace("/", "\\/")
    return (
        '<head><meta name="referrer" content="always">'
        f'<noscript><META http-equiv="refresh" content="0;URL={esc}"></noscript>'
        f"<title>{esc}</title></head>"
        f"<script>window.opener = null; location.replace({js})</script>"
    )


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # we join handler threads ourselves, with a deadline
    request_queue_size = 128  # many concurrent clients in latency benchmarks

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.reset_sockets: set[socket.socket] = set()
        super().__init__(("127.0.0.1", upstream.port), _Handler)

    def process_request_thread(self, request, client_address):  # noqa: ANN001
        up = self.upstream
        with up._lock:
            up._conns.add(request)
            up._threads.add(threading.current_thread())
            stopping = up._stopping.is_set()
        try:
            if stopping:
                self.shutdown_request(request)
            else:
                super().process_request_thread(request, client_address)
        finally:
            with up._lock:
                up._conns.discard(request)
                up._threads.discard(threading.current_thread())

    def shutdown_request(self, request):  # noqa: ANN001
        with self.upstream._lock:
            reset = request in self.reset_sockets
            self.reset_sockets.discard(request)
        if reset:
            request.close()  # SO_LINGER 0 is set: the kernel sends RST, no FIN first
        else:
            super().shutdown_request(request)

    def handle_error(self, request, client_address):  # noqa: ANN001
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or (
            isinstance(exc, OSError) and self.upstream._stopping.is_set()
        ):
            return  # the client went away, or we are shutting down
        self.upstream.errors.append(exc)
        traceback.print_exc()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "upstream-test/1"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- request

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        up = self.server.upstream
        split = urlsplit(self.path)
        body = self._read_body()
        rec = RecordedRequest(
            method=self.command,
            path=split.path or "/",
            raw_query=split.query,
            query={k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            time=time.time(),
            monotonic=time.monotonic(),
            client=self.client_address[:2],
        )
        with up._lock:
            up.requests.append(rec)
        delays, fault = up._take_faults(rec)
        for ms in delays:
            if up._stopping.wait(ms / 1000):
                self.close_connection = True
                return
        if fault is not None and self._apply_fault(fault, rec):
            return
        self._send(up._resolve(rec))

    # -- response

    def _send(self, resp: Response, head_only: bool | None = None) -> None:
        data, ctype = resp.body, resp.content_type
        head_only = self.command == "HEAD" if head_only is None else head_only
        self.send_response(resp.status)
        names = {k.lower() for k, _ in resp.headers}
        if resp.status not in (204, 304) and "content-type" not in names and ctype:
            self.send_header("Content-Type", ctype)
        for k, v in resp.headers:
            self.send_header(k, v)
        if resp.status not in (204, 304) and "content-length" not in names:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head_only and resp.status not in (204, 304) and data:
            self.wfile.write(data)

    def _apply_fault(self, f: Fault, rec: RecordedRequest) -> bool:
        """Answer with fault ``f``; False means "now serve the normal response"."""
        up = self.server.upstream
        o = f.opts
        kind = f.kind
        if kind in ("429", "5xx"):
            headers = _headers_list(o["headers"])
            if o["retry_after"] is not None:
                headers.append(("Retry-After", format_retry_after(o["retry_after"])))
            data, ctype = _encode_body(o["body"], None, "")
            self._send(Response(429 if kind == "429" else int(o["status"]), data, headers, ctype))
        elif kind == "reset":
            if o["send"]:
                self.wfile.write(o["send"])
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with up._lock:
                self.server.reset_sockets.add(self.connection)
            self.close_connection = True
        elif kind == "timeout":
            stopped = up._stopping.wait(float(o["seconds"]))
            if o["then"] == "respond" and not stopped:
                return False
            self.close_connection = True
        elif kind == "truncated":
            normal = up._resolve(rec, default=None)
            body = o["body"]
            if body is None:
                body = normal.body if normal is not None else b"x" * 1000
            data, ctype = _encode_body(body, normal.content_type if normal else None, rec.path)
            send = len(data) // 2 if o["send"] is None else int(o["send"])
            declared = o["content_length"] if o["content_length"] is not None else max(len(data), send + 1)
            self.send_response(normal.status if normal is not None else 200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            self.wfile.write(data[:send])
            self.close_connection = True
        elif kind == "oversized":
            normal = up._resolve(rec, default=None)
            prefix = normal.body if normal is not None else b""
            ctype = o["content_type"] or (normal.content_type if normal else None) or "application/octet-stream"
            size, chunk = int(o["size"]), int(o["chunk_size"])
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command == "HEAD":
                return True
            first = (prefix + bytes(chunk))[:chunk]  # the route's body (magic bytes) leads
            zeros = bytes(chunk)
            sent = 0
            while sent < size:
                if up._stopping.is_set():
                    self.close_connection = True
                    return True
                n = min(chunk, size - sent)
                piece = first if sent == 0 else zeros
                self.wfile.write(b"%X\r\n" % n + piece[:n] + b"\r\n")
                sent += n
            self.wfile.write(b"0\r\n\r\n")
        elif kind in ("redirect_loop", "redirect"):
            location = o.get("location")
            if kind == "redirect_loop":
                location = up.url + o["target"] + ("?" + rec.raw_query if rec.raw_query else "")
            self._send(Response(int(o["status"]), b"", [("Location", location)], None))
        else:  # pragma: no cover - fault() validates kinds
            raise AssertionError(kind)
        return True


class Upstream:
    """A real HTTP/1.1 server on 127.0.0.1 with routes, a request log and fault injection."""

    def __init__(self, port: int = 0) -> None:
        """port 0 picks a free one; a given port lets a test bring a server "back" where it was."""
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []  # unexpected exceptions raised in handlers
        self._routes: list[_Route] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = port
        self.url = ""

    # -- lifecycle

    def start(self) -> Upstream:
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"upstream:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, wake hanging handlers, close every connection; bounded by ``timeout``."""
        if self._server is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        for t in [self._thread, *threads]:
            if t is not None:
                t.join(max(0.0, deadline - time.monotonic()))
        self._server = None

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes

    def route(
        self,
        path: str,
        body: Any = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        content_type: str | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> str:
        """Answer ``path`` (exact; ``"/p?a=1"`` also narrows by query) and return its full URL.

        ``body``: bytes | str | dict/list (JSON) | callable(RecordedRequest) -> any of those or a
        ``Response``.  ``query`` values: str (equal), ``re.Pattern`` (search) or a predicate.
        The route whose query constrains the most parameters wins; re-registering replaces.
        """
        path, q = _split_target(path, query)
        if callable(body):
            respond: Any = (body, status, _headers_list(headers), content_type)
        else:
            data, ctype = _encode_body(body, content_type, path)
            respond = Response(status, data, _headers_list(headers), ctype)
        with self._lock:
            self._routes = [r for r in self._routes if not (r.path == path and r.query == q)]
            self._routes.append(_Route(path, q, respond))
        plain = {k: v for k, v in q.items() if isinstance(v, str)}
        return self.url + path + ("?" + urlencode(plain) if plain else "")

    def json(self, path: str, obj: Any, **kw: Any) -> str:
        """``route`` with ``obj`` serialised as JSON (``application/json``)."""
        kw.setdefault("content_type", "application/json")
        return self.route(path, json.dumps(obj).encode(), **kw)

    def media(self, name: str, size: int, *, content_type: str | None = None) -> bytes:
        """Serve ``/media/NAME`` with ``fake_media(NAME, size)``; returns the bytes."""
        data = fake_media(name, size)
        self.route(f"/media/{name}", data, content_type=content_type)
        return data

    def tco(
        self,
        code: str,
        location: str | None = None,
        *,
        handle: str | None = None,
        tweet_id: str | None = None,
        mode: str = "auto",
    ) -> str:
        """Serve ``/CODE`` like t.co: 301 + Location, or a 200 HTML meta-refresh page.

        ``location`` defaults to ``https://twitter.com/HANDLE/status/ID/photo/1``.
        ``mode``: "redirect" (always 301), "html" (always 200 page), "auto" (page for a browser-like
        User-Agent containing "Mozilla/", 301 otherwise).  Returns the short URL on this server.
        """
        if mode not in ("auto", "redirect", "html"):
            raise ValueError(f"mode must be auto, redirect or html, not {mode!r}")
        if location is None:
            if not (handle and tweet_id):
                raise ValueError("give location, or handle and tweet_id")
            location = f"https://twitter.com/{handle}/status/{tweet_id}/photo/1"
        cache = ("Cache-Control", "private,max-age=300")

        def answer(rec: RecordedRequest) -> Response:
            browser = BROWSER_UA_MARK in rec.headers.get("user-agent", "")
            if mode == "html" or (mode == "auto" and browser):
                return Response(200, tco_html(location), [cache], "text/html; charset=utf-8")
            return Response(301, b"", [("Location", location), cache])

        return self.route(f"/{code}", answer)

    def _resolve(self, rec: RecordedRequest, default: Any = _NOT_FOUND) -> Any:
        with self._lock:
            candidates = [r for r in self._routes if r.path == rec.path and _query_matches(r.query, rec.query)]
        if not candidates:
            if default is not _NOT_FOUND:
                return default
            return Response(404, f"no route for {rec.method} {rec.target}".encode(), [], "text/plain; charset=utf-8")
        best = max(enumerate(candidates), key=lambda ir: (len(ir[1].query), ir[0]))[1]
        if isinstance(best.respond, Response):
            return best.respond
        fn, status, headers, ctype = best.respond
        out = fn(rec)
        if isinstance(out, Response):
            data, c = _encode_body(out.body, out.content_type, rec.path)
            return Response(out.status, data, _headers_list(out.headers), c)
        data, c = _encode_body(out, ctype, rec.path)
        return Response(status, data, list(headers), c)

    # -- faults

    def fault(
        self,
        path: str,
        kind: str,
        times: int | None | str = "default",
        *,
        query: Mapping[str, Any] | None = None,
        **opts: Any,
    ) -> Fault:
        """Misbehave on the first ``times`` requests to ``path`` ("*" = any path), then recover.

        ``times`` defaults to 1 (``None`` = forever; "latency" and "redirect_loop" default to
        forever).  Faults are consumed in registration order; "latency" adds to whatever follows.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        allowed = FAULT_KINDS[kind]
        unknown = set(opts) - set(allowed)
        if unknown:
            raise TypeError(f"fault {kind!r} takes {sorted(allowed)}, not {sorted(unknown)}")
        full = {k: opts.get(k, default) for k, default in allowed.items()}
        missing = [k for k, v in full.items() if v is _REQUIRED]
        if missing:
            raise TypeError(f"fault {kind!r} needs {missing}")
        if times == "default":
            times = None if kind in _FOREVER_BY_DEFAULT else 1
        if kind == "timeout" and full["then"] not in ("close", "respond"):
            raise ValueError("timeout then= must be 'close' or 'respond'")
        path, q = _split_target(path, query)
        f = Fault(path, kind, times, q, full)  # type: ignore[arg-type]
        new = [f]
        if kind == "redirect_loop":
            via = full["via"] or path.rstrip("/") + "/loop"
            f.opts["target"] = via
            new.append(Fault(via, kind, times, q, {**full, "target": path}))  # type: ignore[arg-type]
        with self._lock:
            self._faults.extend(new)
        return f

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_faults(self, rec: RecordedRequest) -> tuple[list[float], Fault | None]:
        delays: list[float] = []
        chosen = None
        with self._lock:
            for f in self._faults:
                if f.remaining == 0 or f.path not in ("*", rec.path) or not _query_matches(f.query, rec.query):
                    continue
                if f.kind == "latency":
                    delays.append(float(f.opts["ms"]))
                elif chosen is None:
                    chosen = f
                else:
                    continue
                f.hits += 1
                if f.remaining is not None:
                    f.remaining -= 1
        return delays, chosen

    # -- request log

    def requests_for(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def count(self, path: str | None = None) -> int:
        if path is None:
            with self._lock:
                return len(self.requests)
        return len(self.requests_for(path))

    def wait_for_requests(self, n: int, path: str | None = None, timeout: float = 2.0) -> list[RecordedRequest]:
        """Poll until at least ``n`` requests (to ``path``) were seen; returns them."""
        wait_until(lambda: self.count(path) >= n, timeout)
        return self.requests_for(path) if path else list(self.requests)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A fresh server per test, stopped (promptly, even with hanging connections) afterwards."""
    with Upstream() as up:
        yield up
    if up.errors:  # a bug in this server, not in the code under test
        raise AssertionError(f"upstream handler raised: {up.errors!r}")


@pytest.fixture
def upstream_factory() -> Iterator[Callable[[], Upstream]]:
    """Start extra servers (a second "host" for cross-origin redirects); all stopped afterwards."""
    started: list[Upstream] = []

    def make() -> Upstream:
        up = Upstream().start()
        started.append(up)
        return up

    yield make
    for up in started:
        up.stop()
    errors = [e for up in started for e in up.errors]
    if errors:
        raise AssertionError(f"upstream handler raised: {errors!r}")


# --------------------------------------------------------------------------- samples


def samples_dir() -> Path:
    """``$ARCHIVER_SAMPLES_DIR`` or ``<repo>/../shared/samples``."""
    env = os.environ.get("ARCHIVER_SAMPLES_DIR")
    return Path(env) if env else SAMPLES_DIR


def load_sample(name: str) -> bytes:
    """The bytes of a shared sample; skips the test when the samples folder is absent."""
    folder = samples_dir()
    if not folder.is_dir():
        from tests.corpus_score import shared_absent

        pytest.skip(shared_absent(folder) + " (or set ARCHIVER_SAMPLES_DIR)")
    return (folder / name).read_bytes()  # a missing file in a present folder is a real error


_SYNDICATION_NAME = re.compile(r"^syndication_.*?_(\d{5,})\.(json|ts)$")


def syndication_routes(
    up: Upstream,
    *,
    real: bool = False,
    tombstone_id: str = TOMBSTONE_ID,
    tombstone_status: int = 200,
    path: str = "/tweet-result",
    oembed: bool = True,
) -> dict[str, bytes]:
    """Serve tweets at ``/tweet-result?id=ID``, and the tombstone under ``tombstone_id``; returns {id: bytes}.

    By default the project's own stand-ins (``tests.responses.STAND_INS``), so a clone alone runs every
    capability.  ``real=True`` serves the real samples instead (skipping without ``../shared``):
    ``.json`` files byte for byte, except a ``{"data": tweet}`` wrapper, which is unwrapped (re-serialised
    compactly, key order kept); the ``.ts`` object literal converted with ``ts_literal_to_json``.
    With ``oembed=True`` the oEmbed answers are registered too (see ``oembed_routes``).
    """
    served: dict[str, bytes] = {}
    if not real:
        from tests.responses import STAND_INS, body, tombstone

        for tweet_id, data in STAND_INS.items():
            served[tweet_id] = body(data)
        served[tombstone_id] = body(tombstone())
    else:
        load_sample("README.md")  # skip early and clearly when the folder is absent
        for file in sorted(samples_dir().glob("syndication_*")):
            raw = file.read_bytes()
            if "tombstone" in file.name:
                served[tombstone_id] = raw
                continue
            m = _SYNDICATION_NAME.match(file.name)
            if not m:
                continue
            tweet_id, ext = m.groups()
            if ext == "ts":
                data = ts_literal_to_json(raw.decode("utf-8")).encode("utf-8")
            else:
                obj = json.loads(raw)
                if set(obj) == {"data"}:
                    data = json.dumps(obj["data"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                else:
                    data = raw
            served[tweet_id] = data
    for tweet_id, data in served.items():
        status = tombstone_status if tweet_id == tombstone_id else 200
        up.route(path, data, status=status, query={"id": tweet_id}, content_type=SYNDICATION_CONTENT_TYPE)
    if oembed:
        oembed_routes(up, real=real)
    return served


# provider -> (sample file, pattern the requested ?url= must contain)
OEMBED_SAMPLES = {
    "twitter": ("oembed_twitter_alley_1679189879086018562.json", r"/status(?:es)?/1679189879086018562\b"),
    "youtube": ("oembed_youtube_alley_dQw4w9WgXcQ.json", r"dQw4w9WgXcQ"),
    "tiktok": ("oembed_tiktok_alley_7348705314746699054.json", r"/video/7348705314746699054\b"),
}


def oembed_routes(up: Upstream, path: str = "/oembed", *, real: bool = False) -> dict[str, bytes]:
    """Serve oEmbed answers at ``path?url=...`` (matched on the post id in ``url``); returns {provider: bytes}.

    All three real providers use ``/oembed`` (publish.twitter.com, www.youtube.com, www.tiktok.com); point
    each provider's base URL at this server.  The project's stand-ins by default, the real samples with
    ``real=True``.
    """
    from tests.responses import body, oembed_stand_ins

    served = {}
    answers = {p: (load_sample(name), pattern) for p, (name, pattern) in OEMBED_SAMPLES.items()} if real else {
        p: (body(data), pattern) for p, (data, pattern) in oembed_stand_ins().items()}
    for provider, (data, pattern) in answers.items():
        up.route(path, data, query={"url": re.compile(pattern)}, content_type="application/json; charset=utf-8")
        served[provider] = data
    return served


def wayback_routes(up: Upstream, *, real: bool = False) -> dict[str, bytes]:
    """``/wayback/available`` (JSON) and ``/cdx/search/cdx`` (one text line), for any ``url``.

    Each answer names the URL that was asked for (a capture of another URL is not a capture of the post).
    The project's own answers by default; ``real=True`` serves the real samples (which name google.com and
    github.com) with that URL put in.
    """
    from tests.responses import body, cdx_line, wayback_available

    if real:
        available = load_sample("wayback_available_waybackpy_google.json")
        cdx = load_sample("wayback_cdx_line_waybackpy.txt")
        available_body = lambda url: available.replace(b"https://www.google.com/", url.encode())  # noqa: E731
        cdx_body = lambda url: cdx.replace(b"http://github.com", url.encode())  # noqa: E731
    else:
        available = body(wayback_available("https://www.google.com/"))
        cdx = cdx_line("http://github.com").encode()
        available_body = lambda url: body(wayback_available(url))  # noqa: E731
        cdx_body = lambda url: cdx_line(url).encode()  # noqa: E731

    def available_for(req):
        return Response(200, available_body(req.query.get("url", "https://www.google.com/")), [], "application/json")

    def cdx_for(req):
        url = req.query.get("url", "github.com")
        return Response(200, cdx_body(url if "://" in url else "https://" + url), [], "text/plain")

    up.route("/wayback/available", available_for)
    up.route("/cdx/search/cdx", cdx_for)
    return {"/wayback/available": available, "/cdx/search/cdx": cdx}


# --------------------------------------------------------------------------- TS -> JSON

_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z0-9_$]*")
_DECL = re.compile(r"^\s*(?:export\s+)?(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*(?::[^=]+)?=\s*")


def ts_literal_to_json(text: str) -> str:
    """Convert a TypeScript/JS object literal (data only) to compact JSON.

    Handles ``export const x = {...};`` / ``as const``, unquoted and numeric keys, single-quoted
    strings, ``\\'`` and ``\\xNN`` escapes, comments and trailing commas.  Anything that is not
    plain data (``undefined``, identifiers, template literals, expressions) raises ValueError.
    Key order is kept; non-ASCII is written as is.
    """
    src = _DECL.sub("", text, count=1).strip()
    src = re.sub(r"\s*(?:as\s+const\s*)?;?\s*$", "", src)
    out: list[str] = []
    i, n = 0, len(src)

    def skip_ws(j: int) -> int:
        while j < n:
            if src[j].isspace():
                j += 1
            elif src.startswith("//", j):
                j = src.find("\n", j)
                j = n if j < 0 else j
            elif src.startswith("/*", j):
                end = src.find("*/", j + 2)
                if end < 0:
                    raise ValueError("unterminated comment")
                j = end + 2
            else:
                break
        return j

    while i < n:
        c = src[i]
        if c in "\"'":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise ValueError(f"unterminated string at {i}")
                ch = src[j]
                if ch == c:
                    break
                if ch == "\\":
                    nxt = src[j + 1]
                    if nxt == "'":
                        buf.append("'")
                    elif nxt == "x":
                        buf.append("\\u00" + src[j + 2 : j + 4])
                        j += 2
                    elif nxt == "\n":
                        pass  # line continuation
                    else:
                        buf.append("\\" + nxt)
                    j += 2
                    continue
                if ch == '"':
                    buf.append('\\"')
                elif ch == "\n":
                    raise ValueError(f"newline in string at {j}")
                else:
                    buf.append(ch)
                j += 1
            out.append('"' + "".join(buf) + '"')
            i = j + 1
        elif c == "`":
            raise ValueError(f"template literal at {i} is not supported")
        elif src.startswith("//", i) or src.startswith("/*", i):
            i = skip_ws(i)
        elif _IDENT_START.match(c) or c.isdigit():
            m = _IDENT.match(src, i + 1)
            word = src[i : m.end()]
            j = skip_ws(m.end())
            if j < n and src[j] == ":":
                out.append(json.dumps(word))
            elif word in ("true", "false", "null") or c.isdigit():
                out.append(word)
            else:
                raise ValueError(f"not plain data: {word!r} at {i}")
            i = m.end()
        elif c == ",":
            j = skip_ws(i + 1)
            if j < n and src[j] in "}]":
                i = j
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    converted = "".join(out)
    try:
        obj = json.loads(converted)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not convertible to JSON: {exc}") from exc
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
