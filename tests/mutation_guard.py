"""A pytest plugin for mutation runs (``bench/mutation.py`` loads it with ``-p tests.mutation_guard``): no
test traffic leaves loopback, whatever a mutant does.

A mutant may break exactly the checks that keep a test on 127.0.0.1 (the allowlist, the private-address
refusal, the pinning). The tests chosen for mutation runs already stand on the resolver and dialer seams
(``tests/test_network.py``) or on loopback URLs; this is the second wall: looking up any name but
localhost, or connecting a TCP socket to any address but a loopback one, raises here, in the test
process, so a broken check ends in a refusal, never in a DNS query or a packet elsewhere.
"""
from __future__ import annotations

import ipaddress
import socket

_REAL_GETADDRINFO = socket.getaddrinfo
_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host) -> bool:
    """Whether a host name or address stays on this machine (None: a wildcard, as servers bind)."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%")[0].lower().rstrip(".")
    if name in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _getaddrinfo(host, port, *args, **kwargs):
    if not is_loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"mutation guard: {host!r} is not looked up in tests")
    return _REAL_GETADDRINFO(host, port, *args, **kwargs)


def _check(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        raise ConnectionRefusedError(f"mutation guard: {address[0]} is not reached from tests")


def _connect(self, address):
    _check(self, address)
    return _REAL_CONNECT(self, address)


def _connect_ex(self, address):
    _check(self, address)
    return _REAL_CONNECT_EX(self, address)


def install() -> None:
    """Refuse, process-wide, every lookup and TCP connection that would leave loopback (idempotent)."""
    socket.getaddrinfo = _getaddrinfo
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex


install()  # at import: before archiver's modules bind socket.getaddrinfo as a default argument
