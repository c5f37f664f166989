"""Private addresses refused on every hop, before a byte is sent, the checked address pinned; no test traffic
leaves loopback even when a check is broken: the resolver and dialer seams stand in for DNS and the network.

In this test network ``PUBLIC`` is a public address that the dialer routes to the local upstream server;
every other address the dialer refuses, so a broken check ends in a refusal here, never in a connection.
"""
from __future__ import annotations

import socket

import httpcore
import pytest

from archiver.errors import FetchError, ForbiddenURLError
from archiver.fetch.http import HttpPolicy, build_client, fetch
from tests.upstream import upstream  # noqa: F401  (fixture)

PUBLIC = "93.184.216.34"
POLICY = HttpPolicy(allow_private=False, allowed_hosts=("*.test", "169.254.169.254", "10.0.0.1"),
                    connect_timeout=2, read_timeout=3, total_timeout=10)


class LoopbackNet:
    """DNS answers by name, a dialer that reaches only PUBLIC (as the local server), and what was dialled."""

    def __init__(self, port: int, names: dict):
        self.port, self.names, self.dialled, self.resolved = port, names, [], []

    def resolve(self, host, port, proto=0, **kw):
        self.resolved.append(host)
        answer = self.names[host]
        address = answer.pop(0) if isinstance(answer, list) else answer
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, proto, "", (address, port))]

    def dial(self, address, port, timeout, local_address, socket_options):
        self.dialled.append(address)
        if address != PUBLIC:
            raise httpcore.ConnectError(f"test network: {address} is not reachable here")
        stream = httpcore.SyncBackend().connect_tcp("127.0.0.1", self.port, timeout=timeout)
        return _Seen(stream, (PUBLIC, port))


class _Seen(httpcore.NetworkStream):
    """The loopback stream, reporting the public address it stands for."""

    def __init__(self, inner, addr):
        self._inner, self._addr = inner, addr

    def read(self, max_bytes, timeout=None):
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer, timeout=None):
        self._inner.write(buffer, timeout)

    def close(self):
        self._inner.close()

    def start_tls(self, *a, **kw):
        return self._inner.start_tls(*a, **kw)

    def get_extra_info(self, info):
        return self._addr if info == "server_addr" else self._inner.get_extra_info(info)


@pytest.fixture
def net(upstream):
    port = upstream.port
    names = {"ok.test": PUBLIC, "meta.test": "169.254.169.254", "private.test": "10.0.0.1",
             "v6.test": "fe80::1", "local6.test": "::1", "rebind.test": [PUBLIC, "10.0.0.1"]}
    network = LoopbackNet(port, names)
    with build_client(POLICY, resolve=network.resolve, dial=network.dial) as client:
        yield network, client, port


def test_a_public_host_is_reached_through_the_address_that_was_checked(net, upstream):
    network, client, port = net
    upstream.route("/a", "hello")
    ex = fetch(client, f"http://ok.test:{port}/a", POLICY)
    assert (ex.status, ex.body, ex.ip) == (200, b"hello", PUBLIC)
    assert network.dialled == [PUBLIC]


@pytest.mark.parametrize("target, address", [
    ("http://meta.test/latest/meta-data/", "169.254.169.254"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://private.test/", "10.0.0.1"),
    ("http://v6.test/", "fe80::1"),
    ("http://local6.test/", "::1"),
])
def test_a_redirect_to_a_private_address_is_refused_on_that_hop(net, upstream, target, address):
    network, client, port = net
    upstream.route("/start", "", status=302, headers={"Location": target})
    with pytest.raises(ForbiddenURLError) as caught:
        fetch(client, f"http://ok.test:{port}/start", POLICY)
    assert f"non-public address {address}" in str(caught.value)
    assert network.dialled == [PUBLIC]  # the private address was never dialled
    assert upstream.count("/start") == 1


def test_a_name_that_rebinds_to_a_private_address_after_the_check_is_refused_at_connect(net, upstream):
    network, client, port = net
    with pytest.raises(ForbiddenURLError) as caught:
        fetch(client, f"http://rebind.test:{port}/a", POLICY)
    assert "resolves to non-public address 10.0.0.1" in str(caught.value)
    assert network.resolved == ["rebind.test", "rebind.test"] and network.dialled == []


def test_a_private_first_url_is_refused_before_any_connection(net):
    network, client, port = net
    with pytest.raises(ForbiddenURLError):
        fetch(client, "http://meta.test/", POLICY)
    assert network.dialled == []


def test_allow_private_lets_a_private_address_through_to_the_dialer(upstream):
    port = upstream.port
    network = LoopbackNet(port, {"private.test": "10.0.0.1"})
    policy = HttpPolicy(allow_private=True, allowed_hosts=("*.test",), connect_timeout=2, read_timeout=3,
                        total_timeout=10)
    with build_client(policy, resolve=network.resolve, dial=network.dial) as client, pytest.raises(FetchError):
        fetch(client, "http://private.test/", policy)
    assert network.dialled == ["10.0.0.1"]  # allowed by policy; the test network refuses it, not the check


def test_the_client_opens_connections_through_archivers_network():
    """Guards the one private attribute used: a newer httpx must not silently bypass the checks."""
    client = build_client(POLICY)
    try:
        assert client.network is not None
        assert client._transport._pool._network_backend is client.network
    finally:
        client.close()
