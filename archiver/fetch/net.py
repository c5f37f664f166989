"""The one place connections are opened: names resolved here, forbidden addresses refused before a byte
is sent, the address that passed is the one connected to (pinned), and no read or write outlives the
deadline of the request it serves.

It is httpcore's network backend for the client ``http.build_client`` makes. Two seams make it testable
without a network: ``resolve`` (``socket.getaddrinfo``'s signature) names the addresses of a host, and
``dial`` opens a TCP stream to one address; tests point both at loopback, and a ``dial`` that refuses
anything else turns a broken check into a refusal, never into traffic.
"""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from contextvars import ContextVar
from typing import Callable

import httpcore

from archiver.config import HttpPolicy
from archiver.errors import FetchError, ForbiddenURLError

# The monotonic time the request being served must end by (set by fetch around each hop).
_DEADLINE: ContextVar[float | None] = ContextVar("archiver_request_deadline", default=None)


@contextlib.contextmanager
def request_deadline(at: float):
    """Within this block, every read, write and connect ends by the monotonic time `at`."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None) -> float | None:
    at = _DEADLINE.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("total timeout exceeded")
    return left if timeout is None else min(timeout, left)


def is_public(addr) -> bool:
    """Whether an address may be reached without allow_private: global, not multicast."""
    return addr.is_global and not addr.is_multicast


def default_dial(address: str, port: int, timeout: float | None, local_address: str | None,
                 socket_options) -> httpcore.NetworkStream:
    """A TCP connection to exactly this address."""
    return httpcore.SyncBackend().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                              socket_options=socket_options)


class Network(httpcore.NetworkBackend):
    """Resolves, checks and pins every connection the client opens; bounds every read by the request's deadline."""

    def __init__(self, policy: HttpPolicy, resolve: Callable = socket.getaddrinfo, dial: Callable = default_dial):
        self.policy = policy
        self.resolve = resolve
        self.dial = dial

    def addresses(self, host: str, port: int | None) -> list:
        """The addresses a host name (or literal address) stands for."""
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        try:
            infos = self.resolve(host, port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise FetchError(f"http://{host}/", f"cannot resolve {host}: {exc}") from exc
        found = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
        if not found:
            raise FetchError(f"http://{host}/", f"cannot resolve {host}: no address")
        return found

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        addrs = self.addresses(host, port)
        allowed = addrs if self.policy.allow_private else [a for a in addrs if is_public(a)]
        if not allowed:
            raise ForbiddenURLError(f"http://{host}:{port}/", f"host {host} resolves to non-public address {addrs[0]}")
        error: Exception | None = None
        for addr in allowed:
            try:
                return _DeadlineStream(self.dial(str(addr), port, _bounded(timeout), local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise ForbiddenURLError(path, "unix sockets are not reached")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose every read and write waits no longer than what is left of the request's time."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)
