"""The one HTTP client: host policy on every hop, timeouts, size caps, manual redirects."""
from __future__ import annotations

import ipaddress
import socket
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from fnmatch import fnmatch
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from archiver.config import HttpPolicy
from archiver.clock import utcnow_ms
from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.fetch.net import Network, default_dial, is_public, request_deadline

HOP_BODY_CAP = 64 * 1024  # bytes of a redirect response's body kept
@dataclass
class Exchange:
    """One completed request/response, with what provenance needs."""

    url: str
    final_url: str
    status: int
    headers: dict
    body: bytes
    started_at: str
    elapsed: float
    ip: str | None = None
    request_headers: dict = field(default_factory=dict)
    http_version: str = "HTTP/1.1"
    reason: str = ""
    raw_headers: list = field(default_factory=list)  # [(name, value)] as sent, in order
    hops: list = field(default_factory=list)  # the redirect responses before this one, each an Exchange
    truncated: bool = False  # body cut short on purpose (a redirect's body past HOP_BODY_CAP)
    warc: object = None  # archiver.fetch.warc.WarcLocation of the response record, once written

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def check_url(url: str, policy: HttpPolicy, resolve=socket.getaddrinfo) -> str:
    """Raise ForbiddenURLError unless the URL's scheme, host and addresses are allowed; return the host.

    The connection itself is checked again, and pinned to an address that passed, by ``net.Network``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ForbiddenURLError(url, f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ForbiddenURLError(url, f"scheme {parts.scheme or '(none)'!r} is not http(s)")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise ForbiddenURLError(url, "no host")
    if parts.username or parts.password:
        raise ForbiddenURLError(url, "credentials in URLs are not allowed")
    if not any(fnmatch(host, pat) for pat in policy.allowed_hosts):
        raise ForbiddenURLError(url, f"host {host} is not on the allowlist")
    if not policy.allow_private:
        for addr in Network(policy, resolve).addresses(host, port):
            if not is_public(addr):
                raise ForbiddenURLError(url, f"host {host} resolves to non-public address {addr}")
    return host


class GuardedClient(httpx.Client):
    """The httpx client, carrying the ``Network`` that opens its connections (its resolver is the URL check's)."""

    network: Network | None = None


def build_client(policy: HttpPolicy, transport: httpx.BaseTransport | None = None, *,
                 resolve=socket.getaddrinfo, dial=default_dial) -> httpx.Client:
    """The httpx client every request goes through; connections opened by a ``Network`` for `policy`."""
    ua = policy.user_agent + (f" contact:{policy.contact}" if policy.contact else "")
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    network = None
    if transport is None:
        network = Network(policy, resolve, dial)
        transport = httpx.HTTPTransport(limits=limits)
        pool = getattr(transport, "_pool", None)
        if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
            raise RuntimeError("this httpx/httpcore cannot take archiver's network backend; pin httpx<0.29")
        pool._network_backend = network  # httpx has no public way to give its pool a network backend
    client = GuardedClient(
        transport=transport,
        # identity: the body we hash and keep is the body as sent, not a decompressed copy.
        headers={"User-Agent": ua, "Accept-Encoding": "identity"},
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        follow_redirects=False,
        limits=limits,
    )
    client.network = network
    return client


def fetch(client: httpx.Client, url: str, policy: HttpPolicy, *, max_bytes: int | None = None,
          follow_redirects: bool = True, headers: dict | None = None, guard=None, method: str = "GET",
          content: bytes | None = None) -> Exchange:
    """GET a URL hop by hop, checking every hop, streaming the body under a size cap.

    Every hop gets the policy's connect/read timeouts, never more than what is left of
    ``policy.total_timeout`` (counted from when the first hop starts).  ``guard``, if given, is
    called with each hop's URL and must return a context manager; the hop (its host check and its
    request) runs inside it, which is where per-host limits and circuit breakers plug in.  Credentials (Authorization, Cookie) given in
    ``headers`` are not forwarded to a redirect target on another origin. ``method``/``content``: a POST
    (a timestamp query) sends its body to the first hop only; a redirect is then never followed.
    """
    cap = policy.max_bytes if max_bytes is None else max_bytes
    current = url
    deadline = None  # starts when the first hop is let through the guard: queueing is not fetching
    seen = {url}
    hop_headers = headers
    hops: list[Exchange] = []
    while True:
        with guard(current) if guard is not None else nullcontext():
            if deadline is None:
                deadline = time.monotonic() + policy.total_timeout
                started_at, t0 = utcnow_ms(), time.monotonic()
            check_url(current, policy, getattr(getattr(client, "network", None), "resolve", socket.getaddrinfo))
            if time.monotonic() >= deadline:
                raise FetchError(url, f"total timeout of {policy.total_timeout:g}s exceeded before {current}") \
                    from TimeoutError("total timeout")
            exchange = _get_once(client, current, cap, deadline, hop_headers, policy, method, content)
        if method == "GET" and follow_redirects and exchange.status in (301, 302, 303, 307, 308) and "location" in exchange.headers:
            target = urljoin(current, exchange.headers["location"])
            # Kept for the WARC, which holds every hop as a crawler's would; a redirect's body is
            # only a courtesy page, so a long one is cut (recorded as truncated) rather than held.
            if len(exchange.body) > HOP_BODY_CAP:
                exchange.body, exchange.truncated = exchange.body[:HOP_BODY_CAP], True
            hops.append(exchange)
            if len(hops) > policy.max_redirects or target in seen:
                raise FetchError(url, f"redirect loop or too many redirects ({len(hops)}) at {target}",
                                 status=exchange.status)
            seen.add(target)
            if hop_headers and _origin(target) != _origin(current):
                hop_headers = {k: v for k, v in hop_headers.items() if k.lower() not in _SECRET_HEADERS}
            current = target
            continue
        exchange.url = url
        exchange.hops = hops
        exchange.started_at = started_at
        exchange.elapsed = time.monotonic() - t0
        return exchange


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


def _get_once(client: httpx.Client, url: str, cap: int, deadline: float, headers: dict | None,
              policy: HttpPolicy, method: str = "GET", content: bytes | None = None) -> Exchange:
    started = utcnow_ms()
    t0 = time.monotonic()
    left = max(deadline - t0, 0.001)
    timeout = httpx.Timeout(min(policy.read_timeout, left), connect=min(policy.connect_timeout, left))
    try:
        with request_deadline(deadline), client.stream(method, url, headers=headers, timeout=timeout,
                                                       content=content) as resp:
            peer = _peer_ip(resp)
            if peer and not policy.allow_private and not _is_public_ip(peer):
                # The name resolved to a public address when checked, and to this one when connecting.
                raise ForbiddenURLError(url, f"connected to non-public address {peer}")
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise TooLargeError(url, f"body of {int(declared)} bytes is over the {cap}-byte cap",
                                    status=resp.status_code)
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise TooLargeError(url, f"body over the {cap}-byte cap", status=resp.status_code)
                if time.monotonic() > deadline:
                    raise FetchError(url, "total timeout exceeded while reading the body",
                                     status=resp.status_code) from TimeoutError("total timeout")
                chunks.append(chunk)
            ip = _peer_ip(resp)
            return Exchange(
                url=url, final_url=str(resp.url), status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()}, body=b"".join(chunks),
                started_at=started, elapsed=time.monotonic() - t0, ip=ip,
                request_headers=_redacted(resp.request.headers), http_version=resp.http_version,
                reason=resp.reason_phrase, raw_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                                                       for k, v in resp.headers.raw],
            )
    except httpx.TimeoutException as exc:
        raise FetchError(url, f"timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise FetchError(url, f"{type(exc).__name__}: {str(exc) or 'connection failed'}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # DecodingError, bad URL: not transient
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc


def _is_public_ip(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return True  # not an IP (a transport that gives no address): nothing to refuse
    return is_public(addr)


_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie"}


def _redacted(headers) -> dict:
    """Request headers as kept in evidence: credentials (Save Page Now keys, cookies) never leave the client."""
    return {k: ("[redacted]" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def _peer_ip(resp: httpx.Response) -> str | None:
    stream = resp.extensions.get("network_stream")
    try:
        addr = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:  # noqa: BLE001 - transports differ; the IP is optional provenance
        addr = None
    return addr[0] if addr else None

