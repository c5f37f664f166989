"""Finding a flattened tweet's id: t.co (301 and HTML), re-used media, syndication checks, Wayback CDX."""
from __future__ import annotations

import json
import socket
from datetime import date, datetime, timezone

import pytest

from archiver.config import Endpoints
from archiver.fetch.http import HttpPolicy, build_client, fetch
from archiver.platforms.twitter.resolve import (
    METHODS,
    Resolution,
    normalize_text,
    resolve_tweet_id,
    snowflake_time,
    tco_page_target,
    texts_match,
)
from tests.responses import STAND_INS, Video, body
from tests.responses import tweet as built_tweet
from tests.upstream import Response, syndication_routes, tco_html, upstream  # noqa: F401

POLICY = HttpPolicy(allow_private=True, connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0)

# The re-used-media case (the shared sample, and the project's stand-in after it): Rainmaker1973's tweet
# shows a video uploaded with AiBreakfast's tweet, so its pic link leads to AiBreakfast's status.
VIDEO_ID = "1684218600456876032"
VIDEO_PIC = "pic.twitter.com/1N4ogvaMPA"
VIDEO_SOURCE = "https://twitter.com/AiBreakfast/status/1684020175215927296/video/1"
VIDEO_TEXT = (  # as an article shows it: display URLs, no scheme
    "For the first time in the world, researchers succeeded in synthesizing a room-temperature "
    "superconductor (Tc≥400 K, 127°C) working at ambient pressure with a modified lead-apatite (LK-99) "
    "structure\n\n[full paper: buff.ly/450N0Px]\npic.twitter.com/1N4ogvaMPA"
)
BUILT_VIDEO_TEXT = (  # the stand-in's shorter text (tests/responses.py), as an article shows it
    "For the first time in the world, researchers succeeded in synthesizing a room-temperature "
    "superconductor\npic.twitter.com/1N4ogvaMPA"
)
PHOTO_ID = "1641086480675225601"
PHOTO_TEXT = (
    "If you are interested about View Flattening in React Native, I wrote a short post about it: "
    "github.com/reactwg/react-n…\n\nLet me know what you think! pic.twitter.com/rQd6FIwZ0U"
)


def snowflake(iso: str, seq: int = 4242) -> str:
    """A tweet id made at this UTC time."""
    ms = int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    return str(((ms - 1288834974657) << 22) | seq)


def tweet(tweet_id: str, handle: str, created_at: str, text: str) -> dict:
    """A minimal tweet-result body."""
    return {"__typename": "Tweet", "id_str": tweet_id, "text": text, "created_at": created_at,
            "user": {"id_str": "42", "name": handle, "screen_name": handle}}


def serve_tweet(up, body: dict) -> None:
    up.json("/tweet-result", body, query={"id": body["id_str"]})


def cdx_json(handle: str, ids: list[str], host: str = "twitter.com") -> list:
    rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]]
    suffixes = ["", "?s=20", "/photo/1", ""]
    for n, i in enumerate(ids):
        rows.append([f"com,twitter)/{handle.lower()}/status/{i}", "20230329150000",
                     f"https://{host}/{handle}/status/{i}{suffixes[n % len(suffixes)]}",
                     "text/html", "200", "AAAA", "1234"])
    return rows


def serve_cdx(up, handle: str, ids: list[str]) -> None:
    up.json("/cdx/search/cdx", cdx_json(handle, ids), query={"url": f"twitter.com/{handle}/status/"})


def synd_ids(up) -> list[str]:
    return [r.query.get("id") for r in up.requests_for("/tweet-result")]


@pytest.fixture
def get():
    with build_client(POLICY) as client:
        calls: list = []

        def get(url, *, source, follow_redirects=True, headers=None):
            calls.append((source, url))
            return fetch(client, url, POLICY, follow_redirects=follow_redirects, headers=headers)

        get.calls = calls
        yield get


def ends(up) -> Endpoints:
    return Endpoints(tco=up.url, syndication=up.url, cdx=up.url)


def check_shape(res: Resolution) -> None:
    assert res.method in METHODS
    assert "\n" not in res.detail
    json.dumps(list(res.candidates))  # the store keeps them as JSON
    assert (res.post_id is None) == (res.method == "unresolved")


# --------------------------------------------------------------------------- t.co


def test_tco_301_form_with_matching_handle(upstream, get):
    upstream.tco("ZYDJBBA77P", handle="FirstLadyOffice", tweet_id="1641086480675225601")
    res = resolve_tweet_id(get, ends(upstream), handle="@firstladyoffice", date="2023-03-29", text="hello",
                           pic_links=("pic.twitter.com/ZYDJBBA77P",))
    check_shape(res)
    assert (res.post_id, res.handle, res.method) == ("1641086480675225601", "FirstLadyOffice", "tco-redirect")
    assert res.detail == "t.co/ZYDJBBA77P → twitter.com/FirstLadyOffice/status/1641086480675225601/photo/1"
    assert [ex.status for ex in res.exchanges] == [301]
    assert get.calls == [("tco", upstream.url + "/ZYDJBBA77P")]
    # The client's own User-Agent, not a browser's; no syndication check when the handle matches.
    assert "Mozilla/" not in upstream.requests_for("/ZYDJBBA77P")[0].headers["user-agent"]
    assert upstream.count("/tweet-result") == 0
    assert not res.retryable


def test_tco_html_form_meta_refresh(upstream, get):
    upstream.tco("HtmlCode1", handle="SamuelSusla", tweet_id=PHOTO_ID, mode="html")
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("pic.twitter.com/HtmlCode1",))
    check_shape(res)
    assert (res.post_id, res.method) == (PHOTO_ID, "tco-html")
    assert res.detail.endswith("twitter.com/SamuelSusla/status/1641086480675225601/photo/1")
    assert upstream.count("/HtmlCode1") == 1


def test_tco_asks_as_a_browser_only_when_the_plain_answer_is_unusable(upstream, get):
    target = f"https://twitter.com/SamuelSusla/status/{PHOTO_ID}/photo/1"

    def answer(rec):
        if "Mozilla/" in rec.headers.get("user-agent", ""):
            return Response(200, tco_html(target), [], "text/html; charset=utf-8")
        return Response(403, "blocked", [], "text/plain")

    upstream.route("/Blocked1", answer)
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("pic.twitter.com/Blocked1",))
    assert (res.post_id, res.method) == (PHOTO_ID, "tco-html")
    uas = [r.headers["user-agent"] for r in upstream.requests_for("/Blocked1")]
    assert len(uas) == 2 and "Mozilla/" not in uas[0] and "Mozilla/" in uas[1]


@pytest.mark.parametrize("page, expected", [
    (tco_html("https://twitter.com/a/status/1/photo/1"), "https://twitter.com/a/status/1/photo/1"),
    # attributes in the other order, single quotes, upper case
    ("<META CONTENT='0; url=https://x.com/b/status/2/video/1' HTTP-EQUIV='Refresh'>",
     "https://x.com/b/status/2/video/1"),
    # title only (entities unescaped)
    ("<head><title>https://twitter.com/c/status/3?a=1&amp;b=2</title></head>",
     "https://twitter.com/c/status/3?a=1&b=2"),
    # script only
    ('<script>location.replace("https:\\/\\/twitter.com\\/d\\/status\\/4\\/photo\\/1")</script>',
     "https://twitter.com/d/status/4/photo/1"),
    ("<html><title>Twitter / Error</title><body>Something went wrong</body></html>", None),
    ('<meta http-equiv="refresh" content="0;URL=javascript:alert(1)">', None),
    (b"\xff\xfe\x00garbage", None),
    (b"", None),
])
def test_tco_page_target(page, expected):
    assert tco_page_target(page.encode() if isinstance(page, str) else page) == expected


def test_tco_chain_through_tco_again(upstream, get):
    # The second hop names real t.co; it must be asked of the configured t.co, never of t.co itself.
    upstream.tco("First1", location=upstream.url + "/Second2")
    upstream.tco("Second2", location="https://t.co/Third3", mode="html")
    upstream.tco("Third3", location=f"https://x.com/SamuelSusla/status/{PHOTO_ID}/video/1")
    res = resolve_tweet_id(get, ends(upstream), handle="samuelsusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("https://pic.twitter.com/First1",))
    check_shape(res)
    assert (res.post_id, res.method) == (PHOTO_ID, "tco-redirect")
    assert res.detail == f"t.co/First1 → t.co/Second2 → t.co/Third3 → x.com/SamuelSusla/status/{PHOTO_ID}/video/1"
    assert [url for _, url in get.calls] == [upstream.url + p for p in ("/First1", "/Second2", "/Third3")]


def test_tco_loop_and_too_many_hops_give_up(upstream, get):
    upstream.tco("LoopA", location=upstream.url + "/LoopB")
    upstream.tco("LoopB", location="https://t.co/LoopA")
    for n in range(8):
        upstream.tco(f"Hop{n}", location=f"https://t.co/Hop{n + 1}")
    res = resolve_tweet_id(get, ends(upstream), handle="someone", date=None, text=None,
                           pic_links=("pic.twitter.com/LoopA", "pic.twitter.com/Hop0"))
    check_shape(res)
    assert res.method == "unresolved" and not res.retryable
    assert "redirect loop" in res.detail and "more than 5 t.co hops" in res.detail
    assert upstream.count("/LoopA") == 1 and upstream.count("/LoopB") == 1
    assert sum(upstream.count(f"/Hop{n}") for n in range(8)) == 5


def test_pic_x_com_and_tco_links(upstream, get):
    upstream.tco("XCode123", location=f"https://x.com/SamuelSusla/status/{PHOTO_ID}/photo/1")
    for link in ("pic.x.com/XCode123", "https://t.co/XCode123", "XCode123"):
        res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text="",
                               pic_links=(link,))
        assert (res.post_id, res.method) == (PHOTO_ID, "tco-redirect"), link
        assert res.detail.startswith("t.co/XCode123 → x.com/SamuelSusla/status/")


# --------------------------------------------------------------------------- re-used media


def test_other_handle_verified_by_syndication(upstream, get):
    # The account was renamed: t.co still names the old handle; the tweet-result says who it is now.
    tid = snowflake("2023-03-29T21:00:00Z")
    upstream.tco("Renamed1", handle="OldName", tweet_id=tid)
    serve_tweet(upstream, tweet(tid, "NewName", "2023-03-29T21:00:00.000Z",
                                "Let me know what you think! https://t.co/Renamed1"))
    res = resolve_tweet_id(get, ends(upstream), handle="newname", date="2023-03-30",  # reader a day ahead
                           text="Let me know what you think!\npic.twitter.com/Renamed1",
                           pic_links=("pic.twitter.com/Renamed1",))
    check_shape(res)
    assert (res.post_id, res.handle, res.method) == (tid, "NewName", "tco-candidate-verified")
    assert res.detail.startswith(f"t.co/Renamed1 → twitter.com/OldName/status/{tid}/photo/1; ")
    assert res.tweet is not None and res.tweet.tweet_id == tid
    assert [s for s, _ in get.calls] == ["tco", "syndication"]
    assert res.candidates[-1]["accepted"] is True


@pytest.mark.parametrize("created_at, text, verdict", [
    ("2023-03-29T21:00:00.000Z", "Something else entirely, about another thing", "text differs"),
    ("2023-03-25T21:00:00.000Z", "Let me know what you think!", "not 2023-03-29 ±1 day"),
])
def test_other_handle_rejected_when_date_or_text_differ(upstream, get, created_at, text, verdict):
    tid = "12345"  # a pre-snowflake id: its time is unknown, so the tweet-result must decide
    upstream.tco("Other1", handle="OldName", tweet_id=tid, mode="redirect")
    serve_tweet(upstream, tweet(tid, "NewName", created_at, text))
    res = resolve_tweet_id(get, ends(upstream), handle="NewName", date="2023-03-29",
                           text="Let me know what you think!", pic_links=("pic.twitter.com/Other1",))
    check_shape(res)
    assert res.method == "unresolved" and res.post_id is None and not res.retryable
    assert (res.candidates[0]["id"], res.candidates[0]["accepted"]) == (tid, False)
    assert verdict in res.candidates[0]["verdict"]
    assert upstream.count("/cdx/search/cdx") == 2  # Wayback (twitter.com, x.com) was asked after the candidate failed


def test_other_handle_rejected_when_the_author_differs(upstream, get):
    tid = "12345"
    upstream.tco("Other2", handle="OldName", tweet_id=tid, mode="redirect")
    serve_tweet(upstream, tweet(tid, "NewName", "2023-03-29T21:00:00.000Z", "Let me know what you think!"))
    res = resolve_tweet_id(get, ends(upstream), handle="ThirdName", date="2023-03-29",
                           text="Let me know what you think!", pic_links=("pic.twitter.com/Other2",))
    assert res.method == "unresolved"
    assert res.candidates[0]["verdict"] == "author @NewName is not @ThirdName"
    assert "t.co/Other2 → twitter.com/OldName/status/12345/photo/1: author @NewName" in res.detail


def test_other_handle_with_nothing_to_compare_is_not_fetched(upstream, get):
    upstream.tco("Bare1", handle="Someone", tweet_id="99999")
    res = resolve_tweet_id(get, ends(upstream), handle="Other", date=None, text="  ",
                           pic_links=("pic.twitter.com/Bare1",))
    assert res.method == "unresolved"
    assert res.candidates[0]["verdict"] == "no date or text to compare with"
    assert upstream.count("/tweet-result") == 0 and upstream.count("/cdx/search/cdx") == 0


def test_reused_video_resolved_through_wayback(upstream, get):
    check_reused_video_resolved_through_wayback(upstream, get, real=False, text=BUILT_VIDEO_TEXT)


def test_real_reused_video_resolved_through_wayback(upstream, get):
    check_reused_video_resolved_through_wayback(upstream, get, real=True, text=VIDEO_TEXT)


def check_reused_video_resolved_through_wayback(upstream, get, *, real: bool, text: str) -> None:
    syndication_routes(upstream, real=real)
    upstream.tco("1N4ogvaMPA", location=VIDEO_SOURCE)
    # AiBreakfast's own tweet, as the tweet-result would show it (not in the samples).
    serve_tweet(upstream, tweet("1684020175215927296", "AiBreakfast", "2023-07-26T01:57:52.000Z",
                                "Researchers claim a room-temperature superconductor https://t.co/1N4ogvaMPA"))
    same_day = [snowflake("2023-07-26T09:00:00Z"), snowflake("2023-07-25T18:30:00Z")]
    for n, i in enumerate(same_day):
        serve_tweet(upstream, tweet(i, "Rainmaker1973", "2023-07-26T09:00:00.000Z", f"Another fact number {n}, "
                                    "about the biggest waterfall on Earth"))
    other_day = snowflake("2023-07-10T12:00:00Z")
    serve_cdx(upstream, "Rainmaker1973", [other_day, same_day[0], VIDEO_ID, same_day[1], same_day[0]])

    res = resolve_tweet_id(get, ends(upstream), handle="Rainmaker1973", date=date(2023, 7, 26), text=text,
                           pic_links=(VIDEO_PIC,))
    check_shape(res)
    assert (res.post_id, res.handle, res.method) == (VIDEO_ID, "Rainmaker1973", "wayback-cdx")
    first = res.candidates[0]
    assert (first["id"], first["via"], first["accepted"]) == ("1684020175215927296", "tco", False)
    assert first["verdict"] == "author @AiBreakfast is not @Rainmaker1973"
    assert res.candidates[-1]["id"] == VIDEO_ID and res.candidates[-1]["accepted"]
    # The media really belongs to the other tweet; the resolved tweet-result says so too.
    assert res.tweet.media[0].source_tweet_id == "1684020175215927296"
    assert other_day not in synd_ids(upstream)  # ruled out by the time in its id, without a request
    assert synd_ids(upstream).count(same_day[0]) <= 1
    cdx = upstream.requests_for("/cdx/search/cdx")[0].query
    assert cdx["url"] == "twitter.com/Rainmaker1973/status/" and cdx["matchType"] == "prefix"
    assert (cdx["from"], cdx["to"]) == ("20230724", "20230728")
    assert cdx["filter"] == "statuscode:200" and cdx["collapse"] == "urlkey"
    assert {s for s, _ in get.calls} == {"tco", "syndication", "wayback-cdx"}
    assert len(res.exchanges) == len(get.calls)


def test_wayback_picks_the_right_id_among_several(upstream, get):
    syndication_routes(upstream)
    upstream.route("/Gone1", "not found", status=404)
    decoys = [snowflake(f"2023-03-{d}T{h:02d}:00:00Z") for d, h in ((29, 10), (28, 23), (30, 2))]
    for n, i in enumerate(decoys):
        serve_tweet(upstream, tweet(i, "SamuelSusla", "2023-03-29T10:00:00.000Z",
                                    f"If you are interested in something else, try number {n}"))
    serve_cdx(upstream, "SamuelSusla", [*decoys, PHOTO_ID, "not-an-id"])
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("pic.twitter.com/Gone1",))
    check_shape(res)
    assert (res.post_id, res.method) == (PHOTO_ID, "wayback-cdx")
    assert upstream.count("/Gone1") == 1  # a 404 is not asked again as a browser
    rejected = [c for c in res.candidates if not c["accepted"]]
    assert {c["verdict"] for c in rejected} == {"text differs"}
    assert res.tweet.user.screen_name == "SamuelSusla"


def test_wayback_candidates_are_capped(upstream, get):
    ids = [snowflake("2023-03-29T12:00:00Z", seq=n) for n in range(25)]
    serve_cdx(upstream, "Busy", ids)
    res = resolve_tweet_id(get, ends(upstream), handle="Busy", date="2023-03-29", text="a tweet nobody archived",
                           pic_links=())
    check_shape(res)
    assert res.method == "unresolved" and not res.retryable
    assert upstream.count("/tweet-result") == 20
    assert "stopped after 20 candidates" in res.detail
    assert upstream.count("/cdx/search/cdx") == 1  # the cap also stops the x.com query


def test_wayback_tries_x_com_captures_too(upstream, get):
    syndication_routes(upstream)
    upstream.json("/cdx/search/cdx", cdx_json("SamuelSusla", [PHOTO_ID], host="x.com"),
                  query={"url": "x.com/SamuelSusla/status/"})
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-28", text=PHOTO_TEXT,
                           pic_links=())
    assert (res.post_id, res.method) == (PHOTO_ID, "wayback-cdx")
    assert "x.com/SamuelSusla/status/*" in res.detail


# --------------------------------------------------------------------------- failures


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_network_failure_is_unresolved_and_retryable(get):
    base = closed_port()
    res = resolve_tweet_id(get, Endpoints(tco=base, syndication=base, cdx=base), handle="SamuelSusla",
                           date="2023-03-29", text=PHOTO_TEXT, pic_links=("pic.twitter.com/rQd6FIwZ0U",))
    check_shape(res)
    assert res.method == "unresolved" and res.retryable
    assert res.exchanges == ()
    assert [f[0] for f in res.failures] == ["tco", "wayback-cdx", "wayback-cdx"]
    assert "request failed" in res.detail and "worth retrying" in res.detail


def test_upstream_errors_are_retryable(upstream, get):
    upstream.route("/Busy503", "overloaded", status=503)
    upstream.route("/cdx/search/cdx", "Internal Server Error", status=502)
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("pic.twitter.com/Busy503",))
    assert res.method == "unresolved" and res.retryable
    assert upstream.count("/Busy503") == 1


def test_a_failed_step_moves_on_to_the_next(upstream, get):
    # t.co down for good (the connection is reset), the Wayback index still finds the tweet.
    syndication_routes(upstream)
    upstream.fault("/rQd6FIwZ0U", "reset", times=None)
    serve_cdx(upstream, "SamuelSusla", [PHOTO_ID])
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date="2023-03-29", text=PHOTO_TEXT,
                           pic_links=("pic.twitter.com/rQd6FIwZ0U",))
    assert (res.post_id, res.method) == (PHOTO_ID, "wayback-cdx")
    assert res.failures[0][0] == "tco" and not res.retryable


@pytest.mark.parametrize("answer, why", [
    ({"status": 200, "body": "<html><body>Something went wrong</body></html>"}, "t.co/Junk1: page names no URL"),
    ({"status": 200, "body": b"\x00\xff\x10binary"}, "t.co/Junk1: page names no URL"),
    ({"status": 301, "headers": {"Location": "javascript:alert(1)"}}, "t.co/Junk1: request failed"),
    ({"status": 301, "headers": {"Location": "https://example.com/some/article"}},
     "t.co/Junk1 → example.com/some/article: not a status URL"),
    ({"status": 302, "headers": {"Location": "https://twitter.com/SamuelSusla"}},  # a profile, not a status
     "t.co/Junk1 → twitter.com/SamuelSusla: not a status URL"),
    ({"status": 301}, "t.co/Junk1: HTTP 301 without Location"),
    ({"status": 418, "body": "teapot"}, "t.co/Junk1: HTTP 418"),
])
def test_garbage_from_tco_is_unresolved_not_a_crash(upstream, get, answer, why):
    upstream.route("/Junk1", answer.get("body", b""), status=answer["status"], headers=answer.get("headers"),
                   content_type="text/html")
    res = resolve_tweet_id(get, ends(upstream), handle="SamuelSusla", date=None, text="",
                           pic_links=("pic.twitter.com/Junk1",))
    check_shape(res)
    assert res.method == "unresolved" and not res.retryable
    assert res.detail.startswith(why)
    assert upstream.count("/Junk1") in (1, 2)  # at most one more try, as a browser
    assert {s for s, _ in get.calls} == {"tco"}  # nothing else was requested, twitter.com least of all


def test_requester_errors_are_classified():
    """The caller's Requester raises instead of returning 429/5xx (with the response) or skips a host."""
    from archiver.errors import FetchError
    from archiver.fetch.http import Exchange

    busy = Exchange(url="u", final_url="u", status=503, headers={}, body=b"", started_at="", elapsed=0.0)

    def raise_503(url, *, source, follow_redirects=True, headers=None):
        exc = FetchError(url, "HTTP 503 after 4 attempts; retry after 2s", status=503, retry_after=2.0)
        exc.exchange = busy
        raise exc

    res = resolve_tweet_id(raise_503, Endpoints(), handle="a", date="2023-01-01", text="some text",
                           pic_links=("pic.twitter.com/AbCd",))
    assert res.method == "unresolved" and res.retryable
    assert res.exchanges == (busy, busy, busy)  # t.co, CDX twitter.com, CDX x.com: kept for WARC
    assert [f[0] for f in res.failures] == ["tco", "wayback-cdx", "wayback-cdx"]

    def skipped(url, *, source, follow_redirects=True, headers=None):
        raise FetchError(url, "host skipped for this run: 3 connection failures")  # no status, no cause

    assert resolve_tweet_id(skipped, Endpoints(), handle="a", date="2023-01-01", text="some text",
                            pic_links=("pic.twitter.com/AbCd",)).retryable

    def not_found(url, *, source, follow_redirects=True, headers=None):
        raise FetchError(url, "HTTP 404", status=404)

    assert not resolve_tweet_id(not_found, Endpoints(), handle="a", date="2023-01-01", text="some text",
                                pic_links=("pic.twitter.com/AbCd",)).retryable


def test_nothing_to_go_on():
    def get(url, **kw):  # pragma: no cover - must not be called
        raise AssertionError(url)

    res = resolve_tweet_id(get, Endpoints(), handle=None, date=None, text=None, pic_links=())
    assert res.method == "unresolved" and not res.retryable
    assert "no pic link" in res.detail


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize("a, b", [
    ("Let me know what you think!", "let me know what you think"),
    ("Hello   world — again…", "hello world again"),
    # display URL in the article, expanded URL (or t.co) in the tweet-result; pic links dropped
    ("I wrote a short post: github.com/reactwg/react-n… Let me know! pic.twitter.com/rQd6FIwZ0U",
     "I wrote a short post: https://github.com/reactwg/react-native-new-architecture/discussions/110 Let me know!"),
    ("Read it https://t.co/4G6RAMfrHy now pic.x.com/AbCd1234", "read it www.example.org/x now"),
    ("Tom &amp; Jerry are back", "Tom & Jerry are back"),
    ("Ｆｕｌｌｗｉｄｔｈ text here", "fullwidth text here"),
    # one is the start of the other (a long post cut short, an article that truncated it)
    ("The first part of a long post that goes on and on about superconductors",
     "The first part of a long post that goes on and on about superconductors and then much more"),
    ("The first part of a long post that goes on and on about supercond",
     "The first part of a long post that goes on and on about superconductors"),
])
def test_texts_match(a, b):
    assert texts_match(a, b) and texts_match(b, a)


@pytest.mark.parametrize("a, b", [
    ("Good morning", "Good morning everyone, today we are launching the thing"),  # short prefix
    ("The first part of a long post that goes on", "The first part of a long post that went elsewhere entirely"),
    ("Another fact number 0, about the biggest waterfall", "Another fact number 1, about the biggest waterfall"),
    ("", ""),
    (None, "text"),
    ("https://t.co/abc pic.twitter.com/abcd", "https://t.co/abc pic.twitter.com/abcd"),  # nothing but links
])
def test_texts_do_not_match(a, b):
    assert not texts_match(a, b)


def test_texts_match_on_built_tweet_texts():
    from archiver.platforms.twitter.syndication import classify

    # The article shows display URLs (cut short with …) where the tweet-result has t.co links and their
    # expanded URLs, and no scheme; the pic link is dropped on both sides.
    video = built_tweet(VIDEO_ID, "Rainmaker1973", "Massimo",
                        "For the first time in the world, researchers succeeded in synthesizing a room-temperature "
                        "superconductor (Tc≥400 K, 127°C) working at ambient pressure with a modified lead-apatite "
                        "(LK-99) structure\n\n[full paper: https://t.co/1kNB4GT8ut]", "2023-07-26T15:06:20.000Z",
                        urls=(("https://t.co/1kNB4GT8ut", "https://buff.ly/450N0Px"),),
                        video=Video("1N4ogvaMPA", "1684020091854225408", ("AiBreakfast", "1684020175215927296")))
    result = classify(200, body(video))
    assert result.text.endswith("[full paper: https://buff.ly/450N0Px] pic.twitter.com/1N4ogvaMPA")
    assert result.raw_text.endswith("[full paper: https://t.co/1kNB4GT8ut] https://t.co/1N4ogvaMPA")
    assert texts_match(result.text, VIDEO_TEXT)
    assert texts_match(result.raw_text, VIDEO_TEXT)
    assert not texts_match(result.text, VIDEO_TEXT.replace("lead-apatite", "copper-oxide"))

    photo = classify(200, body(STAND_INS[PHOTO_ID]))
    assert "https://github.com/reactwg/react-native-new-architecture/discussions/110" in photo.text
    assert texts_match(photo.text, PHOTO_TEXT) and texts_match(photo.raw_text, PHOTO_TEXT)
    assert not texts_match(photo.text, VIDEO_TEXT)


def test_texts_match_on_the_real_sample_text(upstream):
    served = syndication_routes(upstream, real=True)
    from archiver.platforms.twitter.syndication import classify

    result = classify(200, served[VIDEO_ID])
    assert texts_match(result.text, VIDEO_TEXT)
    assert texts_match(result.raw_text, VIDEO_TEXT)
    assert normalize_text(VIDEO_TEXT).endswith("lead apatite lk 99 structure full paper")


def test_snowflake_time():
    assert snowflake_time(VIDEO_ID) == datetime(2023, 7, 26, 15, 6, 20, 274000, tzinfo=timezone.utc)
    assert snowflake_time(snowflake("2023-03-29T12:00:00Z")) == datetime(2023, 3, 29, 12, tzinfo=timezone.utc)
    assert snowflake_time("20") is None and snowflake_time("abc") is None
