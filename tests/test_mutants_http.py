"""The HTTP policy in process, to the letter: what each refusal says, what every hop keeps, what is sent.

Written for mutation testing (``bench/mutation.py``), where a test in a child process sees no mutant.
Nothing here leaves loopback: names resolve through the resolver seam, connections go through a dialer
seam that reaches only the local server (``tests/test_network.py``'s ``LoopbackNet``), and the rest use
``httpx.MockTransport`` with literal public addresses, which are never looked up or dialled.
"""
from __future__ import annotations

import socket
import threading
import time

import httpcore
import httpx
import pytest

from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.fetch import net as netmod
from archiver.fetch.http import HOP_BODY_CAP, HttpPolicy, _origin, build_client, check_url, fetch
from archiver.fetch.net import Network, _DeadlineStream, _bounded, default_dial, request_deadline
from tests.test_network import PUBLIC, LoopbackNet
from tests.upstream import upstream  # noqa: F401  (fixture)

POLICY = HttpPolicy(allow_private=False, allowed_hosts=("*.test", "::1"), connect_timeout=2, read_timeout=3,
                    total_timeout=10)
NAMES = {"ok.test": PUBLIC, "other.test": PUBLIC, "private.test": "10.0.0.1", "scoped.test": "fe80::1%eth0"}


class Net(LoopbackNet):
    """LoopbackNet that also records what each lookup asked for and each dial was given."""

    def __init__(self, port, names=NAMES):
        super().__init__(port, dict(names))
        self.asked, self.dials = [], []

    def resolve(self, host, port, proto=0, **kw):
        self.asked.append((host, port, proto))
        return super().resolve(host, port, proto, **kw)

    def dial(self, address, port, timeout, local_address, socket_options):
        self.dials.append((address, port, timeout, local_address, socket_options))
        return super().dial(address, port, timeout, local_address, socket_options)


@pytest.fixture
def net(upstream):
    network = Net(upstream.port)
    with build_client(POLICY, resolve=network.resolve, dial=network.dial) as client:
        yield network, client, f"http://ok.test:{upstream.port}"


def refused(url, policy=POLICY, resolve=None):
    with pytest.raises(ForbiddenURLError) as caught:
        check_url(url, policy, resolve or Net(0).resolve)
    return caught.value


# --------------------------------------------------------------------------- check_url


@pytest.mark.parametrize("url, message", [
    ("ftp://ok.test/a", "scheme 'ftp' is not http(s)"),
    ("//ok.test/a", "scheme '(none)' is not http(s)"),
    ("http:///a", "no host"),
    ("http://user@ok.test/", "credentials in URLs are not allowed"),
    ("http://:secret@ok.test/", "credentials in URLs are not allowed"),
    ("http://elsewhere.example/", "host elsewhere.example is not on the allowlist"),
    ("http://private.test/", "host private.test resolves to non-public address 10.0.0.1"),
    ("http://scoped.test/", "host scoped.test resolves to non-public address fe80::1"),
    ("http://[::1]:8080/", "host ::1 resolves to non-public address ::1"),
])
def test_each_refusal_names_its_url_and_its_reason(url, message):
    exc = refused(url)
    assert (exc.url, exc.message, str(exc)) == (url, message, f"{url}: {message}")


@pytest.mark.parametrize("url", ["http://ok.test:99999/", "http://[::1/"])
def test_a_url_that_cannot_be_parsed_is_refused_not_fetched(url):
    exc = refused(url)
    assert exc.url == url and exc.message.startswith("not a valid URL: ") and len(exc.message) > 17


@pytest.mark.parametrize("url, host", [
    ("https://ok.test/a", "ok.test"),
    ("HTTPS://OK.Test./a", "ok.test"),
    ("http://ok.test:8080/a", "ok.test"),
])
def test_an_allowed_url_gives_its_host_lowercased_without_the_trailing_dot(url, host):
    assert check_url(url, POLICY, Net(0).resolve) == host


def test_the_lookup_asks_for_the_urls_port_over_tcp():
    network = Net(0)
    check_url("http://ok.test:8080/a", POLICY, network.resolve)
    check_url("https://other.test/a", POLICY, network.resolve)
    assert network.asked == [("ok.test", 8080, socket.IPPROTO_TCP), ("other.test", 443, socket.IPPROTO_TCP)]


def test_allow_private_skips_the_lookup_but_not_the_allowlist():
    def no_lookup(*a, **kw):
        raise AssertionError("looked up")

    policy = HttpPolicy(allow_private=True, allowed_hosts=("*.test",))
    assert check_url("http://private.test/", policy, no_lookup) == "private.test"
    assert refused("http://x.example/", policy, no_lookup).message == "host x.example is not on the allowlist"


# --------------------------------------------------------------------------- build_client


def test_every_request_says_who_asks_and_wants_the_body_as_sent(upstream):
    network = Net(upstream.port)
    for contact, agent in ((None, "archiver-test/1"), ("ops@example.org", "archiver-test/1 contact:ops@example.org")):
        policy = HttpPolicy(allowed_hosts=("*.test",), user_agent="archiver-test/1", contact=contact)
        upstream.route("/ua", "ok")
        with build_client(policy, resolve=network.resolve, dial=network.dial) as client:
            ex = fetch(client, f"http://ok.test:{upstream.port}/ua", policy)
        seen = upstream.requests[-1].headers
        assert (seen["user-agent"], seen["accept-encoding"]) == (agent, "identity")
        assert (ex.request_headers["user-agent"], ex.request_headers["accept-encoding"]) == (agent, "identity")


def test_the_client_keeps_at_most_32_connections_16_idle():
    with build_client(POLICY) as client:
        pool = client._transport._pool
        assert (pool._max_connections, pool._max_keepalive_connections) == (32, 16)
        assert client.follow_redirects is False


def test_a_client_on_a_given_transport_has_no_network_of_its_own():
    with build_client(POLICY, transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        assert client.network is None


def test_an_httpx_whose_pool_cannot_take_the_network_is_refused(monkeypatch):
    class Pool:  # has the attribute, but is not httpcore's pool: the backend would not be used
        _network_backend = None

    class Transport(httpx.BaseTransport):
        def __init__(self, **kw):
            self._pool = Pool()

    monkeypatch.setattr(httpx, "HTTPTransport", Transport)
    with pytest.raises(RuntimeError) as caught:
        build_client(POLICY)
    assert str(caught.value) == "this httpx/httpcore cannot take archiver's network backend; pin httpx<0.29"


# --------------------------------------------------------------------------- fetch: redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed_hop_by_hop(net, upstream, status):
    network, client, base = net
    upstream.route("/from", "moved", status=status, headers={"Location": "/to"})
    upstream.route("/to", "here")
    ex = fetch(client, base + "/from", POLICY)
    assert (ex.url, ex.final_url, ex.status, ex.body) == (base + "/from", base + "/to", 200, b"here")
    [hop] = ex.hops
    assert (hop.url, hop.status, hop.body, hop.headers["location"], hop.truncated) == (
        base + "/from", status, b"moved", "/to", False)
    assert hop.started_at.endswith("Z") and ex.started_at <= hop.started_at  # ISO times: the first hop's


@pytest.mark.parametrize("status", [200, 304, 300])
def test_a_location_on_another_status_is_not_followed(net, upstream, status):
    network, client, base = net
    upstream.route("/a", "body", status=status, headers={"Location": "/b"})
    ex = fetch(client, base + "/a", POLICY)
    assert ex.status == status and ex.hops == [] and upstream.count("/b") == 0


def test_without_follow_redirects_the_redirect_itself_is_returned(net, upstream):
    network, client, base = net
    upstream.route("/a", "", status=302, headers={"Location": "/b"})
    ex = fetch(client, base + "/a", POLICY, follow_redirects=False)
    assert (ex.status, ex.hops, upstream.count("/b")) == (302, [], 0)


def test_a_redirect_to_a_public_host_off_the_allowlist_is_refused_before_it_is_asked(upstream):
    network = Net(upstream.port)
    policy = HttpPolicy(allowed_hosts=("ok.test",), connect_timeout=2, read_timeout=3, total_timeout=10)
    upstream.route("/a", "", status=302, headers={"Location": f"http://other.test:{upstream.port}/b"})
    with build_client(policy, resolve=network.resolve, dial=network.dial) as client:
        with pytest.raises(ForbiddenURLError) as caught:
            fetch(client, f"http://ok.test:{upstream.port}/a", policy)
    assert caught.value.message == "host other.test is not on the allowlist"
    assert upstream.count("/b") == 0


def test_a_post_is_never_redirected_and_sends_its_body_once(net, upstream):
    network, client, base = net
    upstream.route("/tsa", "", status=302, headers={"Location": "/elsewhere"})
    ex = fetch(client, base + "/tsa", POLICY, method="POST", content=b"query")
    assert ex.status == 302 and upstream.count("/elsewhere") == 0
    [req] = upstream.requests_for("/tsa")
    assert (req.method, req.body) == ("POST", b"query")


def test_a_relative_location_is_taken_against_the_hop_that_sent_it(net, upstream):
    network, client, base = net
    upstream.route("/dir/a", "", status=302, headers={"Location": "b?x=1"})
    upstream.route("/dir/b", "ok")
    assert fetch(client, base + "/dir/a", POLICY).final_url == base + "/dir/b?x=1"


@pytest.mark.parametrize("size, truncated", [(HOP_BODY_CAP, False), (HOP_BODY_CAP + 1, True)])
def test_a_long_redirect_body_is_cut_at_the_hop_cap(net, upstream, size, truncated):
    network, client, base = net
    upstream.route("/a", b"r" * size, status=302, headers={"Location": "/b"})
    upstream.route("/b", "ok")
    [hop] = fetch(client, base + "/a", POLICY).hops
    assert (len(hop.body), hop.truncated) == (HOP_BODY_CAP, truncated)


def test_the_redirect_limit_counts_hops(net, upstream):
    network, client, base = net
    policy = HttpPolicy(allowed_hosts=("*.test",), max_redirects=2)
    for a, b in (("/1", "/2"), ("/2", "/3"), ("/3", "/4")):
        upstream.route(a, "", status=307, headers={"Location": b})
    upstream.route("/4", "end")
    assert len(fetch(client, base + "/2", policy).hops) == 2
    with pytest.raises(FetchError) as caught:
        fetch(client, base + "/1", policy)
    assert (caught.value.url, caught.value.status, caught.value.message) == (
        base + "/1", 307, f"redirect loop or too many redirects (3) at {base}/4")
    assert not isinstance(caught.value, ForbiddenURLError)


def test_a_loop_is_stopped_the_first_time_a_hop_comes_back(net, upstream):
    network, client, base = net
    for a, b in (("/a", "/b"), ("/b", "/c"), ("/c", "/b")):
        upstream.route(a, "", status=302, headers={"Location": b})
    with pytest.raises(FetchError) as caught:
        fetch(client, base + "/a", POLICY)
    assert (caught.value.message, caught.value.status) == (f"redirect loop or too many redirects (3) at {base}/b", 302)
    assert upstream.count("/b") == 1


def test_credentials_stay_on_their_origin(net, upstream):
    network, client, base = net
    secrets = {"Authorization": "Bearer k", "Cookie": "c=1", "Proxy-Authorization": "Basic p", "X-Keep": "k"}
    upstream.route("/same", "", status=302, headers={"Location": "/same2"})
    upstream.route("/same2", "ok")
    upstream.route("/away", "", status=302, headers={"Location": f"http://other.test:{upstream.port}/there"})
    upstream.route("/there", "ok")
    ex = fetch(client, base + "/same", POLICY, headers=secrets)
    seen = upstream.requests_for("/same2")[0].headers
    assert (seen["authorization"], seen["cookie"], seen["proxy-authorization"], seen["x-keep"]) == (
        "Bearer k", "c=1", "Basic p", "k")
    assert ex.request_headers["authorization"] == "[redacted]" and ex.request_headers["cookie"] == "[redacted]"
    assert ex.request_headers["proxy-authorization"] == "[redacted]" and ex.request_headers["x-keep"] == "k"
    fetch(client, base + "/away", POLICY, headers=secrets)
    seen = upstream.requests_for("/there")[0].headers
    assert seen["x-keep"] == "k" and not {"authorization", "cookie", "proxy-authorization"} & set(seen)


def test_the_default_port_is_the_same_origin(net, upstream):
    network, client, base = net
    upstream.route("/a", "", status=302, headers={"Location": "http://OK.test:80/b"})
    upstream.route("/b", "ok")
    fetch(client, "http://ok.test/a", POLICY, headers={"Authorization": "k"})
    assert upstream.requests_for("/b")[0].headers["authorization"] == "k"


def test_origins():
    assert _origin("https://A.test/x") == ("https", "a.test", 443)
    assert _origin("http://a.test/x") == ("http", "a.test", 80)
    assert _origin("http://a.test:8080/x") == ("http", "a.test", 8080)
    assert _origin("/x") == ("", "", 80)


def test_each_hop_goes_through_the_guard(net, upstream):
    network, client, base = net
    upstream.route("/a", "", status=302, headers={"Location": "/b"})
    upstream.route("/b", "ok")
    seen = []

    class Guard:
        def __init__(self, url):
            seen.append(url)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    fetch(client, base + "/a", POLICY, guard=Guard)
    assert seen == [base + "/a", base + "/b"]


def test_the_request_headers_reach_the_server(net, upstream):
    network, client, base = net
    upstream.route("/a", "ok")
    fetch(client, base + "/a", POLICY, headers={"X-Asked": "yes"})
    assert upstream.requests_for("/a")[0].headers["x-asked"] == "yes"


# --------------------------------------------------------------------------- fetch: what an exchange keeps


def test_an_exchange_keeps_what_provenance_needs(net, upstream):
    network, client, base = net
    upstream.route("/a", "hello", headers={"X-Custom": "Value", "ETag": '"1"'})
    t0 = time.monotonic()
    ex = fetch(client, base + "/a", POLICY)
    assert (ex.url, ex.final_url, ex.status, ex.body, ex.ip) == (base + "/a", base + "/a", 200, b"hello", PUBLIC)
    assert (ex.http_version, ex.reason, ex.truncated, ex.hops) == ("HTTP/1.1", "OK", False, [])
    assert ex.headers["x-custom"] == "Value" and ex.content_type.startswith("text/plain")
    assert ("X-Custom", "Value") in ex.raw_headers and all(isinstance(k, str) for k, _ in ex.raw_headers)
    assert isinstance(ex.started_at, str) and ex.started_at.endswith("Z")
    assert 0 <= ex.elapsed <= time.monotonic() - t0


def mock(handler, policy=None):
    """A plain httpx client on a MockTransport: nothing is dialled, nothing looked up (literal addresses)."""
    return httpx.Client(transport=httpx.MockTransport(handler))


OPEN = HttpPolicy(allowed_hosts=("*",), connect_timeout=2, read_timeout=3, total_timeout=10, max_bytes=10)
URL = f"http://{PUBLIC}/a"


def test_a_body_in_chunks_is_joined_as_sent():
    with mock(lambda r: httpx.Response(200, content=iter([b"ab", b"cd", b"ef"]))) as client:
        ex = fetch(client, URL, OPEN)
    assert ex.body == b"abcdef" and ex.ip is None and ex.url == URL


@pytest.mark.parametrize("chunks, ok", [([b"1234567890"], True), ([b"1234", b"5678", b"90"], True),
                                        ([b"1234", b"5678", b"901"], False), ([b"12345678901"], False)])
def test_a_streamed_body_is_capped_by_its_total_size(chunks, ok):
    with mock(lambda r: httpx.Response(201, content=iter(chunks))) as client:
        if ok:
            assert fetch(client, URL, OPEN).body == b"".join(chunks)
            return
        with pytest.raises(TooLargeError) as caught:
            fetch(client, URL, OPEN)
    assert (caught.value.url, caught.value.status, caught.value.message) == (URL, 201, "body over the 10-byte cap")


@pytest.mark.parametrize("size, ok", [(10, True), (11, False)])
def test_a_declared_length_over_the_cap_is_refused_before_reading(size, ok):
    read = []

    def body():
        read.append(1)
        yield b"x" * size

    def handler(request):
        return httpx.Response(202, headers={"Content-Length": str(size)}, content=body())

    with mock(handler) as client:
        if ok:
            assert fetch(client, URL, OPEN).body == b"x" * size
            return
        with pytest.raises(TooLargeError) as caught:
            fetch(client, URL, OPEN)
    assert (caught.value.url, caught.value.status, caught.value.message) == (
        URL, 202, "body of 11 bytes is over the 10-byte cap")
    assert read == []


def test_max_bytes_overrides_the_policys_cap():
    with mock(lambda r: httpx.Response(200, content=b"y" * 20)) as client:
        assert len(fetch(client, URL, OPEN, max_bytes=20).body) == 20
        with pytest.raises(TooLargeError, match="over the 5-byte cap"):
            fetch(client, URL, HttpPolicy(allowed_hosts=("*",), max_bytes=100), max_bytes=5)


def test_a_body_that_outlasts_the_total_timeout_is_cut():
    def slow():
        for _ in range(20):
            time.sleep(0.05)
            yield b"."

    policy = HttpPolicy(allowed_hosts=("*",), total_timeout=0.2)
    with mock(lambda r: httpx.Response(203, content=slow())) as client:
        t0 = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, URL, policy)
    assert time.monotonic() - t0 < 0.6
    assert (caught.value.url, caught.value.status, caught.value.message) == (
        URL, 203, "total timeout exceeded while reading the body")
    assert isinstance(caught.value.__cause__, TimeoutError)


def test_no_time_left_before_a_hop_is_a_timeout_with_nothing_sent():
    sent = []
    policy = HttpPolicy(allowed_hosts=("*",), total_timeout=0)
    with mock(lambda r: sent.append(r) or httpx.Response(200)) as client, pytest.raises(FetchError) as caught:
        fetch(client, URL, policy)
    assert (caught.value.url, caught.value.message) == (URL, f"total timeout of 0s exceeded before {URL}")
    assert isinstance(caught.value.__cause__, TimeoutError) and sent == []


def test_any_httpx_client_is_checked_with_the_system_resolver(monkeypatch):
    asked = []

    def resolver(host, port, *a, **kw):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with mock(lambda r: httpx.Response(200)) as client, pytest.raises(ForbiddenURLError) as caught:
        fetch(client, "http://named.example/a", HttpPolicy(allowed_hosts=("*",)))
    assert asked == ["named.example"] and caught.value.message.endswith("non-public address 10.1.2.3")


class Stream:
    """A network stream that reports the address it is connected to."""

    def __init__(self, addr):
        self.addr = addr

    def get_extra_info(self, info):
        return self.addr if info == "server_addr" else None


@pytest.mark.parametrize("addr, refused_ip", [(("10.0.0.7", 80), "10.0.0.7"), (("fe80::1%eth0", 80, 0, 2), "fe80::1%eth0"),
                                              ((PUBLIC, 80), None), (("proxy-name", 80), None)])
def test_the_address_actually_connected_to_is_checked_and_kept(addr, refused_ip):
    def handler(request):
        return httpx.Response(200, content=b"ok", extensions={"network_stream": Stream(addr)})

    with mock(handler) as client:
        if refused_ip is None:
            assert fetch(client, URL, OPEN).ip == addr[0]
            return
        with pytest.raises(ForbiddenURLError) as caught:
            fetch(client, URL, OPEN)
        assert (caught.value.url, caught.value.message) == (URL, f"connected to non-public address {refused_ip}")
        assert fetch(client, URL, HttpPolicy(allowed_hosts=("*",), allow_private=True)).ip == refused_ip


class Broken:
    def get_extra_info(self, info):
        raise RuntimeError("no such info")


def test_a_stream_that_cannot_say_its_address_gives_no_ip():
    with mock(lambda r: httpx.Response(200, extensions={"network_stream": Broken()})) as client:
        assert fetch(client, URL, OPEN).ip is None


@pytest.mark.parametrize("error, message", [
    (httpx.ReadTimeout("slow"), "timed out (ReadTimeout)"),
    (httpx.ConnectTimeout("slow"), "timed out (ConnectTimeout)"),
    (httpx.ConnectError("refused here"), "ConnectError: refused here"),
    (httpx.ConnectError(""), "ConnectError: connection failed"),
    (httpx.RemoteProtocolError("bad line"), "RemoteProtocolError: bad line"),
    (httpx.DecodingError("bad gzip"), "DecodingError: bad gzip"),
    (httpx.InvalidURL("bad url"), "InvalidURL: bad url"),
])
def test_transport_failures_become_fetch_errors_that_say_what_failed(error, message):
    def handler(request):
        raise error

    with mock(handler) as client, pytest.raises(FetchError) as caught:
        fetch(client, URL, OPEN)
    exc = caught.value
    assert (type(exc), exc.url, exc.message, exc.status, exc.__cause__) == (FetchError, URL, message, None, error)


# --------------------------------------------------------------------------- timeouts on the wire


class Trickle:
    """A server on 127.0.0.1 that sends its headers at once, then one byte every `every` seconds."""

    def __init__(self, every: float, length: int = 50):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.every, self.length, self.stop = every, length, threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.length)
            for _ in range(self.length):
                if self.stop.wait(self.every):
                    return
                try:
                    conn.sendall(b".")
                except OSError:
                    return

    def close(self):
        self.stop.set()
        self.sock.close()


def test_a_trickling_body_ends_at_the_total_timeout_on_the_wire():
    server = Trickle(every=0.2)
    try:
        network = Net(server.port)
        policy = HttpPolicy(allowed_hosts=("*.test",), connect_timeout=2, read_timeout=5, total_timeout=0.5)
        with build_client(policy, resolve=network.resolve, dial=network.dial) as client:
            t0 = time.monotonic()
            with pytest.raises(FetchError) as caught:
                fetch(client, f"http://ok.test:{server.port}/a", policy)
            assert time.monotonic() - t0 < 1.0
        assert caught.value.message == "timed out (ReadTimeout)"
    finally:
        server.close()


def test_a_stalled_read_ends_at_the_read_timeout_not_the_total(upstream):
    upstream.route("/slow", "late")
    upstream.fault("/slow", "latency", ms=1500)
    network = Net(upstream.port)
    policy = HttpPolicy(allowed_hosts=("*.test",), connect_timeout=0.5, read_timeout=0.3, total_timeout=5)
    with build_client(policy, resolve=network.resolve, dial=network.dial) as client:
        t0 = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch(client, f"http://ok.test:{upstream.port}/slow", policy)
        assert time.monotonic() - t0 < 1.0
    assert caught.value.message == "timed out (ReadTimeout)"
    [(address, port, timeout, local, options)] = network.dials
    assert (address, port) == (PUBLIC, upstream.port) and 0.4 < timeout <= 0.5  # the connect timeout, not the read


# --------------------------------------------------------------------------- net: the network backend


def test_bounded_is_the_timeout_outside_a_request_and_what_is_left_inside_one():
    assert (_bounded(3.0), _bounded(None)) == (3.0, None)
    with request_deadline(time.monotonic() + 0.5):
        assert 0.4 < _bounded(None) <= 0.5
        assert 0.4 < _bounded(7.0) <= 0.5
        assert _bounded(0.1) == 0.1
    with request_deadline(time.monotonic() - 0.01), pytest.raises(httpcore.ReadTimeout):
        _bounded(3.0)
    assert _bounded(3.0) == 3.0  # the deadline ends with its block


class Inner:
    """A network stream that records what it was asked."""

    def __init__(self):
        self.calls = []

    def read(self, max_bytes, timeout=None):
        self.calls.append(("read", max_bytes, timeout))
        return b"data"

    def write(self, buffer, timeout=None):
        self.calls.append(("write", buffer, timeout))

    def close(self):
        self.calls.append(("close",))

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.calls.append(("start_tls", ssl_context, server_hostname, timeout))
        return Inner()

    def get_extra_info(self, info):
        return ("1.2.3.4", 443) if info == "server_addr" else None


def test_the_deadline_stream_passes_everything_through_bounded():
    inner = Inner()
    stream = _DeadlineStream(inner)
    assert stream.read(10, 2.0) == b"data"
    stream.write(b"x", 3.0)
    tls = stream.start_tls("ctx", "host.test", 4.0)
    assert isinstance(tls, _DeadlineStream) and isinstance(tls._inner, Inner)
    assert stream.get_extra_info("server_addr") == ("1.2.3.4", 443)
    stream.close()
    assert inner.calls == [("read", 10, 2.0), ("write", b"x", 3.0), ("start_tls", "ctx", "host.test", 4.0), ("close",)]
    with request_deadline(time.monotonic() + 0.5):
        stream.read(10, 9.0)
        stream.write(b"y", None)
        stream.start_tls("ctx", "host.test", 9.0)
    assert all(0.4 < call[-1] <= 0.5 for call in inner.calls[4:])


def test_the_network_resolves_checks_and_dials_with_what_it_was_given(upstream):
    network = Net(upstream.port)
    backend = Network(POLICY, network.resolve, network.dial)
    stream = backend.connect_tcp("ok.test", 8080, timeout=1.5, local_address="127.0.0.1",
                                 socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])
    stream.close()
    assert isinstance(stream, _DeadlineStream)
    assert network.asked == [("ok.test", 8080, socket.IPPROTO_TCP)]
    assert network.dials == [(PUBLIC, 8080, 1.5, "127.0.0.1", [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])]


def test_the_network_refuses_a_private_name_with_its_url():
    backend = Network(POLICY, Net(0).resolve, lambda *a: pytest.fail("dialled"))
    with pytest.raises(ForbiddenURLError) as caught:
        backend.connect_tcp("private.test", 8080)
    assert (caught.value.url, caught.value.message) == (
        "http://private.test:8080/", "host private.test resolves to non-public address 10.0.0.1")


def test_when_every_address_fails_the_last_error_is_raised():
    def resolve(host, port, proto=0, **kw):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("10.0.0.1", "10.0.0.2")]

    tried = []

    def dial(address, *a):
        tried.append(address)
        raise httpcore.ConnectError(f"no {address}")

    backend = Network(HttpPolicy(allow_private=True), resolve, dial)
    with pytest.raises(httpcore.ConnectError, match="no 10.0.0.2"):
        backend.connect_tcp("two.test", 80)
    assert tried == ["10.0.0.1", "10.0.0.2"]


def test_addresses_of_literals_names_and_failures():
    def no_lookup(*a, **kw):
        raise AssertionError("looked up")

    assert Network(POLICY, no_lookup).addresses("[::1]", 80) == [netmod.ipaddress.ip_address("::1")]
    assert Network(POLICY, no_lookup).addresses("10.0.0.1", None) == [netmod.ipaddress.ip_address("10.0.0.1")]
    network = Net(0)
    assert Network(POLICY, network.resolve).addresses("scoped.test", None) == [netmod.ipaddress.ip_address("fe80::1")]
    assert network.asked == [("scoped.test", 443, socket.IPPROTO_TCP)]

    def fails(host, port, proto=0, **kw):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchError) as caught:
        Network(POLICY, fails).addresses("gone.test", 80)
    assert (caught.value.url, caught.value.message) == (
        "http://gone.test/", "cannot resolve gone.test: [Errno -2] Name or service not known")
    with pytest.raises(FetchError) as caught:
        Network(POLICY, lambda *a, **kw: []).addresses("empty.test", 80)
    assert (caught.value.url, caught.value.message) == ("http://empty.test/", "cannot resolve empty.test: no address")


def test_unix_sockets_are_never_reached():
    with pytest.raises(ForbiddenURLError) as caught:
        Network(POLICY).connect_unix_socket("/run/docker.sock")
    assert (caught.value.url, caught.value.message) == ("/run/docker.sock", "unix sockets are not reached")


def test_the_network_sleeps_as_asked():
    t0 = time.monotonic()
    assert Network(POLICY).sleep(0.01) is None
    assert time.monotonic() - t0 >= 0.01


def test_the_default_dial_connects_to_exactly_the_address_with_its_options(upstream):
    upstream.route("/a", "ok")
    stream = default_dial("127.0.0.1", upstream.port, 0.75, "127.0.0.2",
                          [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)])
    try:
        sock = stream.get_extra_info("socket")
        assert sock.getpeername() == ("127.0.0.1", upstream.port) and sock.getsockname()[0] == "127.0.0.2"
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1 and sock.gettimeout() == 0.75
        stream.write(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1.0)
        assert stream.read(4096, 1.0).startswith(b"HTTP/1.1 200")
    finally:
        stream.close()


def test_the_http_version_is_the_servers():
    with mock(lambda r: httpx.Response(200, extensions={"http_version": b"HTTP/1.0"})) as client:
        assert fetch(client, URL, OPEN).http_version == "HTTP/1.0"


def test_every_hop_keeps_how_long_it_took(net, upstream):
    network, client, base = net
    upstream.route("/a", "", status=302, headers={"Location": "/b"})
    upstream.route("/b", "ok")
    t0 = time.monotonic()
    ex = fetch(client, base + "/a", POLICY)
    assert 0 <= ex.hops[0].elapsed <= ex.elapsed <= time.monotonic() - t0


def test_an_httpx_without_a_pool_is_refused(monkeypatch):
    class Transport(httpx.BaseTransport):
        def __init__(self, **kw):
            pass

    monkeypatch.setattr(httpx, "HTTPTransport", Transport)
    with pytest.raises(RuntimeError, match="pin httpx<0.29"):
        build_client(POLICY)


def test_the_default_dial_reaches_the_address_it_is_given_not_localhost():
    server = socket.create_server(("127.0.0.2", 0))
    try:
        port = server.getsockname()[1]
        stream = default_dial("127.0.0.2", port, 1.0, None, None)
        assert stream.get_extra_info("socket").getpeername() == ("127.0.0.2", port)
        stream.close()
    finally:
        server.close()
