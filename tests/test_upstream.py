"""The fake upstream server itself, seen from a plain httpx client: routes, request log, faults."""
from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import re
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests import upstream as upstream_module
from tests.responses import (
    OEMBED_TWEET_ID,
    STAND_INS,
    TIKTOK_ID,
    VIDEO_ID,
    YOUTUBE_ID,
    oembed_stand_ins,
    tombstone,
)
from tests.responses import body as built_body
from tests.upstream import (
    TOMBSTONE_ID,
    Response,
    Upstream,
    fake_media,
    load_sample,
    oembed_routes,
    samples_dir,
    syndication_routes,
    tco_html,
    ts_literal_to_json,
    upstream,  # noqa: F401
    upstream_factory,  # noqa: F401
    wait_until,
    wayback_routes,
)

TRANSPORT_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)


def raw_exchange(up: Upstream, request: bytes, timeout: float = 2.0) -> bytes:
    """Send raw bytes, read until the server closes; what a client would see on the wire."""
    with socket.create_connection((up.host, up.port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
        return b"".join(chunks)


# --------------------------------------------------------------------------- routes & log


def test_route_serves_body_status_headers_and_records_the_request(upstream):
    url = upstream.route("/a.html", "<p>hi</p>", headers={"X-Test": "1"})
    upstream.route("/gone", b"", status=410)
    upstream.route("/data", {"k": [1, 2]})

    r = httpx.get(url, params={"q": "x y"}, headers={"User-Agent": "ua/1"})
    assert (r.status_code, r.text, r.headers["x-test"]) == (200, "<p>hi</p>", "1")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert httpx.get(upstream.url + "/gone").status_code == 410
    d = httpx.get(upstream.url + "/data")
    assert (d.json(), d.headers["content-type"]) == ({"k": [1, 2]}, "application/json")

    first = upstream.requests[0]
    assert (first.method, first.path, first.query) == ("GET", "/a.html", {"q": "x y"})
    assert first.headers["user-agent"] == "ua/1"
    assert first.target == "/a.html?q=x+y"
    assert upstream.count() == 3 and upstream.count("/gone") == 1


def test_unknown_path_is_404_naming_it(upstream):
    r = httpx.get(upstream.url + "/nope?x=1")
    assert (r.status_code, r.text) == (404, "no route for GET /nope?x=1")


def test_query_matching_picks_the_most_specific_route(upstream):
    upstream.route("/tweet-result", {"generic": True})
    upstream.route("/tweet-result", {"id": 1}, query={"id": "1"})
    upstream.route("/tweet-result?id=2", {"id": 2})
    upstream.route("/oembed", {"re": True}, query={"url": re.compile(r"/status/3$")})
    get = lambda path, **q: httpx.get(upstream.url + path, params=q).json()  # noqa: E731
    assert get("/tweet-result", id="1", lang="en", token="t") == {"id": 1}
    assert get("/tweet-result", id="2") == {"id": 2}
    assert get("/tweet-result", id="9") == {"generic": True}
    assert get("/oembed", url="https://twitter.com/a/status/3") == {"re": True}
    assert httpx.get(upstream.url + "/oembed", params={"url": "https://twitter.com/a/status/33"}).status_code == 404


def test_reregistering_a_route_replaces_it(upstream):
    upstream.route("/x", "one")
    upstream.route("/x", "two")
    assert httpx.get(upstream.url + "/x").text == "two"


def test_callable_route_sees_the_request(upstream):
    upstream.route("/echo", lambda rec: {"method": rec.method, "body": rec.body.decode()})
    upstream.route("/teapot", lambda rec: Response(418, "short and stout", [("X-Pot", "yes")]))
    r = httpx.post(upstream.url + "/echo", content=b"payload")
    assert r.json() == {"method": "POST", "body": "payload"}
    t = httpx.get(upstream.url + "/teapot")
    assert (t.status_code, t.text, t.headers["x-pot"]) == (418, "short and stout", "yes")


def test_chunked_request_body_is_read(upstream):
    upstream.route("/up", "ok")
    r = httpx.post(upstream.url + "/up", content=iter([b"ab", b"cd"]))
    assert r.text == "ok"
    assert upstream.requests[0].body == b"abcd"


def test_head_sends_length_but_no_body(upstream):
    upstream.route("/f.xml", "<urlset/>")
    r = httpx.head(upstream.url + "/f.xml")
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "9")
    assert r.headers["content-type"].startswith(("application/xml", "text/xml"))


def test_keep_alive_reuses_one_connection(upstream):
    upstream.route("/k", "k")
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(upstream.url + "/k").text == "k"
    ports = {r.client[1] for r in upstream.requests}
    assert len(upstream.requests) == 3 and len(ports) == 1


# --------------------------------------------------------------------------- faults


def test_429_with_retry_after_seconds_then_recovers(upstream):
    upstream.route("/r", "fine")
    f = upstream.fault("/r", "429", retry_after=2)
    first = httpx.get(upstream.url + "/r")
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    second = httpx.get(upstream.url + "/r")
    assert (second.status_code, second.text) == (200, "fine")
    assert (f.hits, f.remaining) == (1, 0)


def test_429_with_retry_after_http_date(upstream):
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=30)
    upstream.fault("/r", "429", retry_after=when)
    header = httpx.get(upstream.url + "/r").headers["retry-after"]
    assert header.endswith(" GMT")
    assert email.utils.parsedate_to_datetime(header) == when


def test_5xx_for_the_first_n_requests(upstream):
    upstream.route("/s", "ok")
    upstream.fault("/s", "5xx", times=2, status=502)
    with httpx.Client() as client:
        codes = [client.get(upstream.url + "/s").status_code for _ in range(3)]
    assert codes == [502, 502, 200]


def test_fault_forever_and_on_any_path_until_cleared(upstream):
    upstream.route("/a", "a")
    upstream.fault("*", "5xx", times=None)
    assert [httpx.get(upstream.url + p).status_code for p in ("/a", "/a", "/b")] == [503, 503, 503]
    upstream.clear_faults()
    assert httpx.get(upstream.url + "/a").status_code == 200


def test_fault_can_be_narrowed_by_query(upstream):
    upstream.route("/tweet-result", "ok")
    upstream.fault("/tweet-result", "5xx", query={"id": "2"})
    assert httpx.get(upstream.url + "/tweet-result", params={"id": "1"}).status_code == 200
    assert httpx.get(upstream.url + "/tweet-result", params={"id": "2"}).status_code == 503


def test_fault_options_are_checked():
    up = Upstream()  # not started: validation needs no server
    with pytest.raises(ValueError, match="unknown fault kind"):
        up.fault("/a", "boom")
    with pytest.raises(TypeError, match="retry_after"):
        up.fault("/a", "5xx", retry_afer=1)
    with pytest.raises(TypeError, match="location"):
        up.fault("/a", "redirect")


def test_reset_is_an_rst_and_the_next_request_succeeds(upstream):
    upstream.route("/x", "ok")
    upstream.fault("/x", "reset")
    with pytest.raises(TRANSPORT_ERRORS):
        httpx.get(upstream.url + "/x")
    assert httpx.get(upstream.url + "/x").text == "ok"
    assert upstream.count("/x") == 2  # the reset request was read and recorded first

    upstream.fault("/x", "reset")
    with pytest.raises(ConnectionResetError):  # RST, not an orderly FIN (which would read b"")
        raw_exchange(upstream, b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")


def test_reset_mid_response_after_partial_bytes(upstream):
    upstream.fault("/x", "reset", send=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
    with pytest.raises(TRANSPORT_ERRORS):
        httpx.get(upstream.url + "/x")


def test_timeout_holds_the_connection_without_answering(upstream):
    upstream.route("/slow", "late")
    upstream.fault("/slow", "timeout", seconds=30)
    start = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(upstream.url + "/slow", timeout=0.2)
    assert time.monotonic() - start < 10  # the client's 0.2 s, not the server's 30 s
    assert httpx.get(upstream.url + "/slow").text == "late"


def test_timeout_then_respond_is_a_one_off_delay(upstream):
    upstream.route("/slow", "late")
    upstream.fault("/slow", "timeout", seconds=0.3, then="respond")
    start = time.monotonic()
    assert httpx.get(upstream.url + "/slow", timeout=2).text == "late"
    assert time.monotonic() - start >= 0.3


def test_stop_is_prompt_with_a_hanging_connection():
    up = Upstream().start()
    up.fault("/hang", "timeout", seconds=60)
    outcome: dict[str, object] = {}

    def client() -> None:
        try:
            outcome["response"] = httpx.get(up.url + "/hang", timeout=10)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    t = threading.Thread(target=client)
    t.start()
    up.wait_for_requests(1, "/hang")
    # an idle keep-alive connection must not hold shutdown either
    idle = httpx.Client()
    up.route("/idle", "i")
    assert idle.get(up.url + "/idle").text == "i"

    start = time.monotonic()
    up.stop()
    assert time.monotonic() - start < 10  # not the hanging request's 60 s
    t.join(5)
    idle.close()
    assert not t.is_alive()
    assert isinstance(outcome.get("error"), TRANSPORT_ERRORS)  # closed without an answer
    with pytest.raises(httpx.ConnectError):
        httpx.get(up.url + "/idle", timeout=1)


def test_truncated_body_raises_on_read(upstream):
    body = upstream.media("t.jpg", 10_000)
    upstream.fault("/media/t.jpg", "truncated")
    with httpx.Client() as client:
        with client.stream("GET", upstream.url + "/media/t.jpg") as r:
            assert r.headers["content-length"] == "10000"
            with pytest.raises(httpx.RemoteProtocolError):
                r.read()
        assert client.get(upstream.url + "/media/t.jpg").content == body

    upstream.fault("/media/t.jpg", "truncated", send=100, content_length=5000)
    wire = raw_exchange(upstream, b"GET /media/t.jpg HTTP/1.1\r\nHost: t\r\n\r\n")
    head, _, got = wire.partition(b"\r\n\r\n")
    assert b"Content-Length: 5000" in head and got == body[:100]


def test_oversized_streams_n_bytes_chunked_without_length(upstream):
    upstream.route("/big.html", "<html>")
    upstream.fault("/big.html", "oversized", size=3_000_000)
    with httpx.Client() as client:
        with client.stream("GET", upstream.url + "/big.html") as r:
            assert "content-length" not in r.headers
            assert r.headers["transfer-encoding"] == "chunked"
            data = r.read()
        assert len(data) == 3_000_000 and data.startswith(b"<html>")
        # a client giving up early does not break the server
        upstream.fault("/big.html", "oversized", size=50_000_000)
        with client.stream("GET", upstream.url + "/big.html") as r:
            next(r.iter_bytes())
        assert client.get(upstream.url + "/big.html").text == "<html>"
    assert upstream.errors == []


def test_redirect_loop_a_b_a(upstream):
    upstream.fault("/a", "redirect_loop", via="/b")
    with httpx.Client(follow_redirects=False) as client:
        r1 = client.get(upstream.url + "/a?x=1")
        r2 = client.get(r1.headers["location"])
        r3 = client.get(r2.headers["location"])
    assert r1.status_code == 302
    assert [r1.headers["location"], r2.headers["location"], r3.headers["location"]] == [
        upstream.url + "/b?x=1",
        upstream.url + "/a?x=1",
        upstream.url + "/b?x=1",
    ]
    upstream.clear_requests()
    with httpx.Client(follow_redirects=True, max_redirects=5) as client:
        with pytest.raises(httpx.TooManyRedirects):
            client.get(upstream.url + "/a")
    assert [r.path for r in upstream.requests] == ["/a", "/b"] * 3


def test_redirect_to_a_forbidden_host_once(upstream):
    upstream.route("/r", "here")
    upstream.fault("/r", "redirect", location="http://169.254.169.254/latest/meta-data/", status=301)
    r = httpx.get(upstream.url + "/r")
    assert (r.status_code, r.headers["location"]) == (301, "http://169.254.169.254/latest/meta-data/")
    assert httpx.get(upstream.url + "/r").text == "here"


def test_latency_delays_each_response_but_serves_many_at_once(upstream):
    upstream.route("/lat", "ok")
    upstream.fault("*", "latency", ms=200)

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=50)) as client:
            return await asyncio.gather(*(client.get(upstream.url + "/lat") for _ in range(30)))

    start = time.monotonic()
    responses = asyncio.run(burst())
    elapsed = time.monotonic() - start
    assert all(r.text == "ok" for r in responses)
    assert 0.2 <= elapsed < 4.0  # 30 x 200 ms serially would be 6 s
    assert len({r.client[1] for r in upstream.requests}) > 1


# --------------------------------------------------------------------------- t.co, media


def test_tco_redirects_plain_clients_and_serves_html_to_browsers(upstream):
    short = upstream.tco("AbCdEf1234", handle="jack", tweet_id="20")
    target = "https://twitter.com/jack/status/20/photo/1"
    r = httpx.get(short)
    assert (r.status_code, r.headers["location"], r.content) == (301, target, b"")

    page = httpx.get(short, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"})
    assert page.status_code == 200 and "location" not in page.headers
    assert page.text == tco_html(target)
    assert f'<META http-equiv="refresh" content="0;URL={target}">' in page.text
    assert f"<title>{target}</title>" in page.text

    forced = httpx.get(upstream.tco("Zz", "https://x.com/a/status/1", mode="html"))
    assert forced.status_code == 200 and "URL=https://x.com/a/status/1" in forced.text
    browser_ua = {"User-Agent": "Mozilla/5.0"}
    assert httpx.get(upstream.tco("Yy", "https://x.com/", mode="redirect"), headers=browser_ua).status_code == 301


@pytest.mark.parametrize(
    ("name", "magic_at", "magic"),
    [("p.jpg", 0, b"\xff\xd8\xff\xe0"), ("v.mp4", 4, b"ftypisom")],
)
def test_media_has_real_magic_and_exact_size(upstream, name, magic_at, magic):
    data = upstream.media(name, 4096)
    r = httpx.get(f"{upstream.url}/media/{name}")
    assert r.content == data and len(data) == 4096
    assert r.content[magic_at : magic_at + len(magic)] == magic
    expected_type = "image/jpeg" if name.endswith(".jpg") else "video/mp4"
    assert r.headers["content-type"] == expected_type
    if name.endswith(".jpg"):
        assert data.endswith(b"\xff\xd9")
    else:
        assert data[32:40] == (4096 - 32).to_bytes(4, "big") + b"mdat"


def test_media_twenty_megabytes_streams_intact(upstream):
    size = 20 * 1024 * 1024
    data = upstream.media("huge.mp4", size)
    digest = hashlib.sha256()
    with httpx.stream("GET", upstream.url + "/media/huge.mp4") as r:
        assert r.headers["content-length"] == str(size)
        for chunk in r.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_fake_media_differs_by_name_and_refuses_tiny_sizes():
    assert fake_media("a.jpg", 100) != fake_media("b.jpg", 100)
    with pytest.raises(ValueError):
        fake_media("a.mp4", 10)


# --------------------------------------------------------------------------- samples


def test_syndication_stand_ins_served_by_id(upstream, upstream_factory):
    served = syndication_routes(upstream)
    assert set(served) == {*STAND_INS, TOMBSTONE_ID}
    assert len(served) >= 7
    with httpx.Client() as client:
        for tweet_id, data in served.items():
            expected = built_body(tombstone()) if tweet_id == TOMBSTONE_ID else built_body(STAND_INS[tweet_id])
            assert data == expected
            params = {"id": tweet_id, "lang": "en", "token": "4c2mmul6mnh"}
            r = client.get(upstream.url + "/tweet-result", params=params)
            assert (r.status_code, r.content) == (200, expected)
            assert r.headers["content-type"] == "application/json;charset=utf-8"
            if tweet_id != TOMBSTONE_ID:
                assert r.json()["id_str"] == tweet_id
        assert client.get(upstream.url + "/tweet-result", params={"id": "1"}).status_code == 404
    assert json.loads(served[TOMBSTONE_ID])["__typename"] == "TweetTombstone"
    video = json.loads(served[VIDEO_ID])
    assert video["mediaDetails"][0]["expanded_url"] == "https://twitter.com/AiBreakfast/status/1684020175215927296/video/1"
    assert video["text"].endswith(" https://t.co/1N4ogvaMPA")

    # another tombstone id and status, on another path, without oEmbed
    other = upstream_factory()
    syndication_routes(other, tombstone_id="5", tombstone_status=404, path="/other", oembed=False)
    assert httpx.get(other.url + "/other", params={"id": "5"}).status_code == 404
    assert httpx.get(other.url + "/other", params={"id": VIDEO_ID}).json()["id_str"] == VIDEO_ID
    assert httpx.get(other.url + "/oembed", params={"url": f"https://twitter.com/a/status/{OEMBED_TWEET_ID}"}
                     ).status_code == 404


def test_syndication_samples_served_byte_for_byte(upstream):
    served = syndication_routes(upstream, real=True)
    folder = samples_dir()
    expected_ids = {
        "1641086480675225601",
        "1641895049427550208",
        "1629262255744503809",
        "1703436713362870723",
        "1684218600456876032",
        "2023357708301455483",
        TOMBSTONE_ID,
    }
    assert set(served) == expected_ids
    with httpx.Client() as client:
        for tweet_id, body in served.items():
            params = {"id": tweet_id, "lang": "en", "token": "4c2mmul6mnh"}
            r = client.get(upstream.url + "/tweet-result", params=params)
            assert r.status_code == 200 and r.content == body
            if tweet_id != TOMBSTONE_ID:
                assert r.json()["id_str"] == tweet_id
        assert client.get(upstream.url + "/tweet-result", params={"id": "1"}).status_code == 404

    verbatim = folder / "syndication_photo_tweet-rsc_1641086480675225601.json"
    assert served["1641086480675225601"] == verbatim.read_bytes()
    wrapped = json.loads(load_sample("syndication_card_reveddit_1703436713362870723.json"))
    assert json.loads(served["1703436713362870723"]) == wrapped["data"]
    assert json.loads(served[TOMBSTONE_ID])["__typename"] == "TweetTombstone"
    video = json.loads(served["1684218600456876032"])
    variants = video["mediaDetails"][0]["video_info"]["variants"]
    assert [v.get("bitrate") for v in variants] == [2176000, 288000, None, 832000]
    assert video["text"].endswith("(LK-99) structure\n\n[full paper: https://t.co/1kNB4GT8ut]\nhttps://t.co/1N4ogvaMPA")


def test_oembed_stand_ins_matched_by_post_url(upstream):
    served = syndication_routes(upstream)
    answers = {p: built_body(data) for p, (data, _) in oembed_stand_ins().items()}
    cases = {
        f"https://twitter.com/alleyco/status/{OEMBED_TWEET_ID}": "twitter",
        f"https://x.com/alleyco/status/{OEMBED_TWEET_ID}?s=20": "twitter",
        f"https://www.youtube.com/watch?v={YOUTUBE_ID}": "youtube",
        f"https://www.tiktok.com/@creator/video/{TIKTOK_ID}": "tiktok",
    }
    for url, provider in cases.items():
        r = httpx.get(upstream.url + "/oembed", params={"url": url, "dnt": "1", "format": "json"})
        assert (r.status_code, r.content) == (200, answers[provider])
    assert httpx.get(upstream.url + "/oembed", params={"url": "https://twitter.com/a/status/5"}).status_code == 404
    assert httpx.get(upstream.url + "/oembed",  # an id that merely starts like the served one is another post
                     params={"url": f"https://twitter.com/a/status/{OEMBED_TWEET_ID}9"}).status_code == 404
    assert VIDEO_ID in served
    assert oembed_routes(upstream, "/other-oembed") == answers


def test_oembed_samples_matched_by_post_url(upstream):
    syndication_routes(upstream, real=True)
    cases = {
        "https://twitter.com/alleyco/status/1679189879086018562": "oembed_twitter_alley_1679189879086018562.json",
        "https://x.com/alleyco/status/1679189879086018562?s=20": "oembed_twitter_alley_1679189879086018562.json",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ": "oembed_youtube_alley_dQw4w9WgXcQ.json",
        "https://www.tiktok.com/@atribecalledval/video/7348705314746699054": (
            "oembed_tiktok_alley_7348705314746699054.json"
        ),
    }
    for url, name in cases.items():
        r = httpx.get(upstream.url + "/oembed", params={"url": url, "dnt": "1", "format": "json"})
        assert (r.status_code, r.content) == (200, load_sample(name))
    assert httpx.get(upstream.url + "/oembed", params={"url": "https://twitter.com/a/status/5"}).status_code == 404


def test_wayback_stand_ins_name_the_asked_url(upstream):
    wayback_routes(upstream)
    status = "https://twitter.com/SamuelSusla/status/1641086480675225601"
    avail = httpx.get(upstream.url + "/wayback/available", params={"url": status}).json()
    closest = avail["archived_snapshots"]["closest"]
    assert avail["url"] == status
    assert (closest["available"], closest["timestamp"]) == (True, "20230330120000")
    assert closest["url"] == f"http://web.archive.org/web/20230330120000/{status}"
    cdx = httpx.get(upstream.url + "/cdx/search/cdx", params={"url": "twitter.com/SamuelSusla/status/1641086480675225601"})
    assert cdx.headers["content-type"].startswith("text/plain")
    assert cdx.text.split() == ["com,twitter)/samuelsusla/status/1641086480675225601", "20230329150000",
                                "https://twitter.com/SamuelSusla/status/1641086480675225601", "text/html", "200",
                                "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY", "1415"]


def test_wayback_samples(upstream):
    wayback_routes(upstream, real=True)
    avail = httpx.get(upstream.url + "/wayback/available", params={"url": "google.com"})
    assert avail.json()["archived_snapshots"]["closest"]["available"] is True
    cdx = httpx.get(upstream.url + "/cdx/search/cdx", params={"url": "github.com"})
    assert cdx.text.split()[1] == "20080126045828"


def test_load_sample_skips_clearly_when_the_folder_is_absent(monkeypatch, tmp_path):
    monkeypatch.setattr(upstream_module, "SAMPLES_DIR", tmp_path / "absent")
    monkeypatch.delenv("ARCHIVER_SAMPLES_DIR", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"third-party test data not beside the checkout \(.*absent\)"):
        load_sample("anything.json")


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("export const x = { a: 1, 'b': 'it\\'s', \"c\": [1, 2,], };", {"a": 1, "b": "it's", "c": [1, 2]}),
        (
            "const y: Foo = {\n  // note\n  s: \"a, }\", /* block */ n: -1.5e3, t: true, z: null,\n} as const;",
            {"s": "a, }", "n": -1500.0, "t": True, "z": None},
        ),
        ("{ 1: 'say \"hi\"', k: '\\x41' }", {"1": 'say "hi"', "k": "A"}),
    ],
)
def test_ts_literal_to_json(ts, expected):
    assert json.loads(ts_literal_to_json(ts)) == expected


@pytest.mark.parametrize("ts", ["{ a: undefined }", "{ a: someVar }", "{ a: `tpl` }", "{ a: 0x1F }"])
def test_ts_literal_to_json_refuses_non_data(ts):
    with pytest.raises(ValueError):
        ts_literal_to_json(ts)


def ts_literal(value) -> str:
    """A JSON value written as a TypeScript object literal: bare keys, single quotes, comments, trailing commas."""
    if isinstance(value, dict):
        items = [f"{k if re.fullmatch(r'[A-Za-z_$][A-Za-z0-9_$]*', k) else repr(k)}: {ts_literal(v)}"
                 for k, v in value.items()]
        return "{ // a comment\n" + "".join(f"  {item},\n" for item in items) + "/* and a block */}"
    if isinstance(value, list):
        return "[" + ", ".join(ts_literal(v) for v in value) + (",]" if value else "]")
    if isinstance(value, str):
        return "'" + json.dumps(value, ensure_ascii=False)[1:-1].replace("'", "\\'") + "'"
    return json.dumps(value)


@pytest.mark.parametrize("tweet_id", sorted(STAND_INS))
def test_ts_conversion_of_a_built_tweet_keeps_every_value(tweet_id):
    data = STAND_INS[tweet_id]
    literal = f"export const tweet: Tweet = {ts_literal(data)} as const;\n"
    assert "'" in literal and "// a comment" in literal and ",]" in literal and ",\n/*" in literal
    converted = ts_literal_to_json(literal)
    assert json.loads(converted) == data
    assert converted == json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # key order kept, compact


def test_ts_sample_conversion_keeps_every_string(upstream):
    """Every double-quoted string in the .ts file survives the conversion unchanged."""
    raw = load_sample("syndication_video_urlshare_1684218600456876032.ts").decode()
    converted = ts_literal_to_json(raw)
    strings_in = re.findall(r'"((?:[^"\\]|\\.)*)"', raw)
    assert strings_in and all(json.dumps(json.loads(f'"{s}"'), ensure_ascii=False) in converted for s in strings_in)


def test_fixture_factory_gives_independent_servers(upstream_factory):
    a, b = upstream_factory(), upstream_factory()
    a.route("/x", "a")
    b.fault("/x", "redirect", location=a.url + "/x")
    r = httpx.get(b.url + "/x", follow_redirects=True)
    assert r.text == "a" and a.port != b.port
    assert wait_until(lambda: a.count("/x") == 1 and b.count("/x") == 1)
