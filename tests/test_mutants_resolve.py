"""Finding a flattened tweet's id, in process and to the letter: each step's verdict, note and candidate.

Written for mutation testing (``bench/mutation.py``). ``resolve_tweet_id`` takes its ``get``; here that is
a table of answers by URL (no HTTP at all), so every request it makes, and with what, is seen exactly.
"""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

import archiver.platforms.twitter.syndication as syndication
from archiver.config import Endpoints
from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
from archiver.fetch.http import Exchange
from archiver.fetch.wayback import build_cdx_url
from archiver.platforms.twitter.resolve import (
    BROWSER_HEADERS,
    LOWERCASE_NOTE,
    MAX_HOPS,
    _code,
    _common_prefix,
    _rank,
    _same_handle,
    _tco_code,
    _transient_error,
    resolve_tweet_id,
    snowflake_time,
    tco_page_target,
    texts_match,
)
from tests.test_resolve import snowflake

EP = Endpoints(tco="https://t.co/", syndication="https://synd.test", cdx="https://cdx.test")
DAY = "2023-03-29"
TEXT = "The new renderer flattens views on iOS too, and it needs no setup at all"
GOOD = snowflake("2023-03-29T14:00:00Z")
OTHER_DAY = snowflake("2020-01-01T10:00:00Z", 7)


class Web:
    """Answers by URL (404 for anything else); records every call with its options."""

    def __init__(self):
        self.routes, self.calls, self.exchanges = {}, [], []

    def add(self, url, status=200, body=b"", headers=None, error=None):
        self.routes[url] = (status, body, headers or {}, error)

    def redirect(self, code, location, status=301):
        self.add(f"https://t.co/{code}", status, headers={"location": location})

    def tweet(self, tweet_id, handle="Bob", created_at="2023-03-29T14:00:00.000Z", text=TEXT, user=True):
        body = {"__typename": "Tweet", "id_str": tweet_id, "text": text, "created_at": created_at}
        if user:
            body["user"] = {"id_str": "42", "name": handle, "screen_name": handle}
        self.add(syndication.build_url(EP.syndication, tweet_id), body=json.dumps(body).encode())

    def cdx(self, handle, ids, host="twitter.com", originals=None):
        start, end = date(2023, 3, 27), date(2023, 3, 31)
        url = build_cdx_url(EP.cdx, f"{host}/{handle}/status/", start, end, limit=1000, match_type="prefix",
                            filters=("statuscode:200",), collapse="urlkey")
        rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]]
        for n, i in enumerate(ids):
            original = originals[n] if originals else f"https://{host}/{handle}/status/{i}"
            rows.append([f"com,twitter)/{handle.lower()}/status/{i}", "20230329150000", original, "text/html",
                         "200", "AAAA", "1234"])
        self.add(url, body=json.dumps(rows).encode())
        return url

    def __call__(self, url, *, source, follow_redirects=True, headers=None):
        self.calls.append((source, url, follow_redirects, headers))
        status, body, hdrs, error = self.routes.get(url, (404, b"", {}, None))
        if error is not None:
            raise error
        ex = Exchange(url=url, final_url=url, status=status, headers=hdrs, body=body, started_at="", elapsed=0.0)
        self.exchanges.append(ex)
        return ex

    def sources(self):
        return [c[0] for c in self.calls]


def resolve(web, handle="bob", when=DAY, text=TEXT, pics=("pic.twitter.com/AbC",), **kw):
    return resolve_tweet_id(web, EP, handle=handle, date=when, text=text, pic_links=pics, **kw)


# --------------------------------------------------------------------------- t.co


def test_a_tco_redirect_to_the_articles_handle_is_taken_as_is():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Bob/status/{GOOD}/photo/1")
    res = resolve(web, handle=" @BOB ")
    detail = f"t.co/AbC → twitter.com/Bob/status/{GOOD}/photo/1"
    assert (res.post_id, res.handle, res.method, res.detail) == (GOOD, "Bob", "tco-redirect", detail)
    assert res.candidates == ({"id": GOOD, "handle": "Bob", "via": "tco", "accepted": True,
                               "verdict": f"handle matches: {detail}"},)
    assert (res.tweet, res.tweet_exchange, res.retryable, res.failures) == (None, None, False, ())
    assert web.calls == [("tco", "https://t.co/AbC", False, None)]


def test_a_chain_of_tco_links_with_relative_locations():
    web = Web()
    web.redirect("A1", "/B2", status=302)
    web.redirect("B2", "https://www.t.co/C3", status=307)
    web.redirect("C3", f"https://x.com/Bob/status/{GOOD}", status=308)
    res = resolve(web, pics=("https://t.co/A1",))
    assert res.detail == f"t.co/A1 → t.co/B2 → t.co/C3 → x.com/Bob/status/{GOOD}"
    assert res.method == "tco-redirect"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_a_tco_answer(status):
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Bob/status/{GOOD}", status=status)
    assert resolve(web).method == "tco-redirect"


def test_a_tco_loop_is_noted_once_it_comes_back():
    web = Web()
    web.redirect("A1", "https://t.co/B2")
    web.redirect("B2", "https://t.co/C3")
    web.redirect("C3", "https://t.co/B2")
    res = resolve(web, pics=("t.co/A1",), when=None)
    assert res.detail == ("t.co/A1 → t.co/B2 → t.co/C3 → t.co/B2: redirect loop; "
                          "Wayback CDX not tried (needs handle, date and text)")
    assert res.method == "unresolved" and res.retryable is False


def test_too_many_tco_hops_are_noted():
    web = Web()
    for n in range(MAX_HOPS + 1):
        web.redirect(f"H{n}", f"https://t.co/H{n + 1}")
    res = resolve(web, pics=("t.co/H0",), when=None)
    assert res.detail.startswith(" → ".join(f"t.co/H{n}" for n in range(MAX_HOPS + 1))
                                 + f": more than {MAX_HOPS} t.co hops; ")


def test_a_tco_answer_that_is_not_a_status_is_noted():
    web = Web()
    web.redirect("AbC", "https://www.example.com/story")
    res = resolve(web, when=None)
    assert res.detail.startswith("t.co/AbC → example.com/story: not a status URL; ")


@pytest.mark.parametrize("status, problem, asked", [
    (404, "HTTP 404", 1), (429, "HTTP 429", 1), (500, "HTTP 500", 1), (503, "HTTP 503", 1),
    (403, "HTTP 403", 2), (300, "HTTP 300", 2), (200, "page names no URL", 2), (301, "HTTP 301 without Location", 2),
])
def test_an_unusable_tco_answer_is_asked_again_as_a_browser_unless_it_is_final(status, problem, asked):
    web = Web()
    web.add("https://t.co/AbC", status, body=b"<html>nothing</html>")
    res = resolve(web, when=None)
    assert res.detail.startswith(f"t.co/AbC: {problem}; ")
    assert web.calls[:asked] == [("tco", "https://t.co/AbC", False, None),
                                 ("tco", "https://t.co/AbC", False, BROWSER_HEADERS)][:asked]
    assert web.sources() == ["tco"] * asked
    assert res.retryable is (status == 429 or status >= 500)


def test_a_tco_page_is_read_when_there_is_no_redirect():
    web = Web()
    web.add("https://t.co/AbC", 200,
            body=f'<meta http-equiv="refresh" content="0;URL=https://twitter.com/Bob/status/{GOOD}">'.encode())
    res = resolve(web)
    assert (res.post_id, res.method) == (GOOD, "tco-html")


def test_a_failed_tco_request_is_noted_with_its_message():
    web = Web()
    web.add("https://t.co/AbC", error=FetchError("https://t.co/AbC", "timed out (ReadTimeout)"))
    res = resolve(web, when=None)
    assert res.detail.startswith("t.co/AbC: request failed: timed out (ReadTimeout); ")
    assert res.failures == (("tco", "https://t.co/AbC", "timed out (ReadTimeout)"),) and res.retryable


def test_a_lowercased_code_that_tco_does_not_know_is_worth_retrying():
    web = Web()
    res = resolve(web, pics=("pic.x.com/abcdef",), when=None)
    assert res.detail == (f"t.co/abcdef: HTTP 404 ({LOWERCASE_NOTE}); Wayback CDX not tried (needs handle, date "
                          "and text) (some requests failed; worth retrying)")
    assert res.retryable is True


def test_a_lowercased_code_lost_further_down_the_chain_is_not():
    web = Web()
    web.redirect("abcdef", "https://t.co/Next1")
    res = resolve(web, pics=("pic.x.com/abcdef",), when=None)
    assert res.detail.startswith("t.co/abcdef → t.co/Next1: HTTP 404; ") and res.retryable is False


def test_a_lowercased_code_must_prove_itself_even_with_the_right_handle():
    web = Web()
    web.redirect("abcdef", f"https://twitter.com/Bob/status/{GOOD}")
    web.tweet(GOOD)
    res = resolve(web, pics=("pic.x.com/abcdef",))
    assert res.method == "tco-candidate-verified"
    assert res.detail == (f"t.co/abcdef → twitter.com/Bob/status/{GOOD} ({LOWERCASE_NOTE}); tweet-result by @Bob: "
                          "author and date and text match")


# --------------------------------------------------------------------------- checking a candidate


def test_another_handles_status_is_taken_when_its_tweet_result_is_this_tweet():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/i/web/status/{GOOD}")
    web.tweet(GOOD, handle="Bob")
    res = resolve(web)
    chain = f"t.co/AbC → twitter.com/i/web/status/{GOOD}"
    assert (res.post_id, res.handle, res.method) == (GOOD, "Bob", "tco-candidate-verified")
    assert res.detail == f"{chain}; tweet-result by @Bob: author and date and text match"
    assert res.candidates == ({"id": GOOD, "handle": None, "via": "tco", "accepted": True,
                               "verdict": "author and date and text match"},)
    url = syndication.build_url(EP.syndication, GOOD)
    assert res.tweet.tweet_id == GOOD and res.tweet_exchange is web.exchanges[-1] and res.tweet_exchange.url == url


def test_the_tweet_exchange_is_the_accepted_tweets_own():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.tweet(GOOD, handle="Bob")
    web.add("https://t.co/Zz9")  # asked after: the exchange kept must still be the tweet-result
    res = resolve(web, pics=("pic.twitter.com/AbC",))
    assert res.tweet_exchange.url == syndication.build_url(EP.syndication, GOOD)
    assert res.candidates[0]["handle"] == "Else"


@pytest.mark.parametrize("handle, when, text, verdict", [
    ("bob", DAY, TEXT, "author and date and text match"),
    (None, DAY, TEXT, "date and text match"),
    (None, None, TEXT, "text matches"),
    ("bob", None, None, "no date or text to compare with"),
    (None, DAY, None, "date matches"),
])
def test_what_a_candidate_is_compared_on(handle, when, text, verdict):
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.tweet(GOOD, handle="Bob")
    res = resolve(web, handle=handle, when=when, text=text)
    assert res.candidates[0]["verdict"] == verdict
    assert res.candidates[0]["accepted"] is (verdict != "no date or text to compare with")


@pytest.mark.parametrize("tweet, verdict", [
    (dict(handle="Else"), "author @Else is not @bob"),
    (dict(user=False), "author @None is not @bob"),
    (dict(created_at="2023-03-25T10:00:00.000Z"), "posted 2023-03-25T10:00:00Z, not 2023-03-29 ±1 day"),
    (dict(text="Something else entirely, about another subject and day"), "text differs"),
])
def test_a_candidate_that_is_not_this_tweet_is_refused_with_why(tweet, verdict):
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.tweet(GOOD, **tweet)
    res = resolve(web, when=DAY)
    assert res.candidates[0]["accepted"] is False and res.candidates[0]["verdict"] == verdict
    assert res.method == "unresolved"
    assert f"t.co/AbC → twitter.com/Else/status/{GOOD}: {res.candidates[0]['verdict']}" in res.detail


def test_an_id_from_another_day_is_refused_without_asking():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{OTHER_DAY}")
    res = resolve(web)
    assert res.candidates[0]["verdict"] == "id dates from 2020-01-01, not 2023-03-29 ±1 day"
    assert res.candidates[0]["accepted"] is False and "syndication" not in web.sources()


@pytest.mark.parametrize("answer, verdict", [
    (dict(status=404), "tweet-result not_found"),
    (dict(status=200, body=json.dumps({"__typename": "TweetTombstone",
                                       "tombstone": {"text": {"text": "This Post is unavailable."}}}).encode()),
     "tweet-result unavailable: This Post is unavailable."),
    (dict(status=200, body=json.dumps({"__typename": "TweetTombstone"}).encode()), "tweet-result unavailable"),
    (dict(error=FetchError("u", "HTTP 503 after 4 attempts; retry after 2s", status=503)),
     "tweet-result failed: HTTP 503 after 4 attempts; retry after 2s"),
])
def test_a_tweet_result_that_is_no_tweet_says_so(answer, verdict):
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.add(syndication.build_url(EP.syndication, GOOD), **answer)
    res = resolve(web, when=None)
    assert res.candidates[0]["verdict"] == verdict and res.candidates[0]["accepted"] is False


def test_a_candidate_is_checked_once():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.redirect("DeF", f"https://twitter.com/Else/status/{GOOD}/photo/2")
    web.tweet(GOOD, handle="Else")
    res = resolve(web, pics=("pic.twitter.com/AbC", "pic.twitter.com/DeF"), when=None)
    assert web.sources().count("syndication") == 1 and len(res.candidates) == 2


# --------------------------------------------------------------------------- Wayback CDX


def test_wayback_needs_a_handle_a_date_and_text():
    for handle, when, text in ((None, DAY, TEXT), ("bob", None, TEXT), ("bob", DAY, "  ...  ")):
        web = Web()
        res = resolve(web, handle=handle, when=when, text=text, pics=())
        assert res.detail == "no pic link; Wayback CDX not tried (needs handle, date and text)"
        assert "wayback-cdx" not in web.sources()


def test_wayback_finds_the_tweet_among_the_authors_statuses_that_day():
    web = Web()
    near, far = snowflake("2023-03-29T20:00:00Z", 1), snowflake("2023-03-29T01:00:00Z", 2)
    cdx = web.cdx("bob", [OTHER_DAY, far, "12345", near])
    web.tweet(near, created_at="2023-03-29T20:00:00.000Z", text="Not this one, it is about something else")
    web.tweet(far, created_at="2023-03-29T01:00:00.000Z")
    res = resolve(web, pics=())
    assert (res.post_id, res.handle, res.method) == (far, "Bob", "wayback-cdx")
    assert res.detail == ("no pic link; Wayback CDX twitter.com/bob/status/* 2023-03-27..2023-03-31: 4 ids, "
                          f"{far}: author and date and text match")
    assert [c["id"] for c in res.candidates] == [near, far]  # nearest noon first; the other day never asked
    assert [c["via"] for c in res.candidates] == ["wayback-cdx", "wayback-cdx"]
    assert [c["handle"] for c in res.candidates] == ["bob", "bob"]
    assert parse_qs(urlsplit(cdx).query)["limit"] == ["1000"] and web.calls[0][1] == cdx


def test_wayback_reads_captures_without_a_scheme_and_other_handles_not_at_all():
    web = Web()
    web.cdx("bob", [GOOD, "777"], originals=[f"twitter.com:443/Bob/status/{GOOD}?s=20",
                                             "https://twitter.com/alice/status/777"])
    web.tweet(GOOD)
    res = resolve(web, pics=())
    assert res.post_id == GOOD and res.detail.startswith("no pic link; Wayback CDX twitter.com/bob/status/* "
                                                         "2023-03-27..2023-03-31: 1 ids, ")


def test_wayback_notes_each_host_it_tried():
    web = Web()
    second = snowflake("2023-03-29T09:00:00Z", 5)
    web.cdx("bob", [OTHER_DAY, GOOD, second])
    web.cdx("bob", [], host="x.com")
    web.tweet(GOOD, handle="Else")
    web.tweet(second, handle="Else")
    res = resolve(web, pics=())
    assert res.detail == ("no pic link; Wayback CDX twitter.com/bob/status/: 3 ids, 1 from other days, 2 checked, "
                          "none matched; Wayback CDX x.com/bob/status/: no captures")


def test_wayback_stops_after_the_candidate_cap():
    web = Web()
    ids = [snowflake("2023-03-29T12:00:00Z", n) for n in range(1, 4)]
    web.cdx("bob", ids)
    res = resolve(web, pics=(), max_candidates=2)
    assert len(res.candidates) == 2 and res.detail.endswith("; stopped after 2 candidates")
    assert "x.com" not in " ".join(c[1] for c in web.calls)


def test_a_failed_cdx_request_is_noted():
    web = Web()
    url = web.cdx("bob", [])
    web.add(url, error=FetchError(url, "timed out (ReadTimeout)"))
    res = resolve(web, pics=())
    assert "Wayback CDX twitter.com/bob/status/: request failed: timed out (ReadTimeout)" in res.detail


# --------------------------------------------------------------------------- the pieces


@pytest.mark.parametrize("exc, transient", [
    (ForbiddenURLError("u", "no"), False), (TooLargeError("u", "big", status=200), False),
    (FetchError("u", "HTTP 429", status=429), True), (FetchError("u", "HTTP 500", status=500), True),
    (FetchError("u", "HTTP 404", status=404), False), (FetchError("u", "loop", status=302), False),
    (FetchError("u", "skipped"), True),
])
def test_which_failures_might_not_happen_next_time(exc, transient):
    assert _transient_error(exc) is transient


@pytest.mark.parametrize("link, code", [
    ("https://t.co/AbC9", ("AbC9", False)), ("HTTPS://WWW.T.CO/AbC", ("AbC", False)), ("t.co/abc/", ("abc", False)),
    ("pic.twitter.com/abc123", ("abc123", True)), ("pic.x.com/12345", ("12345", False)),
    ("pic.twitter.com/AbC", ("AbC", False)), (None, (None, False)), (7, (None, False)),
])
def test_codes_of_links(link, code):
    assert _code(link) == code


@pytest.mark.parametrize("url, base, code", [
    ("https://t.co/AbC", "https://t.co", "AbC"), ("https://www.t.co/AbC/", "https://t.co", "AbC"),
    ("http://Mirror.Test/tco/B2", "http://mirror.test/tco", "B2"), ("http://mirror.test/tcox/B2", "http://mirror.test/tco", None),
    ("http://mirror.test/tco/B2", "http://Mirror.Test/tco/", "B2"), ("https://t.co/a/b", "https://t.co", None),
    ("https://t.co/AbC", "http://mirror.test/tco", "AbC"), ("https://example.com/AbC", "https://t.co", None),
    ("http://mirror.test/tcoX/B2", "http://mirror.test/tcoX", "B2"),
])
def test_tco_codes_of_urls(url, base, code):
    assert _tco_code(url, base) == code


@pytest.mark.parametrize("body, target", [
    ('<meta http-equiv="refresh" content="0;URL=https://a.test/x">', "https://a.test/x"),
    ("<meta http-equiv='Refresh' content='0; url=https://a.test/y'>", "https://a.test/y"),
    ("<META HTTP-EQUIV=refresh CONTENT=0;url=https://a.test/z>", "https://a.test/z"),
    ('<meta http-equiv="refresh" content="0;URL=HTTPS://a.test/X">', "HTTPS://a.test/X"),
    ('<meta http-equiv="refresh"><title>https://a.test/t</title>', "https://a.test/t"),
    ("<title>hello</title>", None),
    ("<title>https://a.test/x y</title>", None),
    ('<script>location.replace("https:\\/\\/a.test\\/j")</script>', "https://a.test/j"),
    ('<script>location.replace("javascript:x")</script>', None),
    ("", None),
])
def test_what_a_tco_page_sends_to(body, target):
    assert tco_page_target(body) == target
    assert tco_page_target(body.encode()) == target


def test_a_tco_page_is_read_up_to_100000_characters():
    meta = '<meta http-equiv="refresh" content="0;url=https://a.test/late">'
    assert tco_page_target("x" * (100_000 - len(meta)) + meta) == "https://a.test/late"
    assert tco_page_target("x" * (100_001 - len(meta)) + meta) is None


def test_texts_match_at_the_prefix_bounds():
    assert texts_match("a" * 24, "a" * 24 + "b" * 10) is True
    assert texts_match("a" * 23, "a" * 23 + "b" * 10) is False
    assert texts_match("a" * 27 + "bcd", "a" * 27 + "xyz") is True  # 27 of 30: exactly 90 %
    assert texts_match("a" * 26 + "bcd", "a" * 26 + "xyz") is False
    assert texts_match("", "a") is False and texts_match("a", "") is False
    assert _common_prefix("abc", "xbc") == 0 and _common_prefix("abc", "abd") == 2


def test_snowflake_bounds():
    assert snowflake_time(10**14 - 1) is None and snowflake_time(10**14) is not None
    assert snowflake_time((1 << 63) - 1) is not None and snowflake_time(1 << 63) is None
    assert snowflake_time("x") is None


def test_same_handle():
    assert _same_handle("Bob", "bob") and not _same_handle(None, "bob") and not _same_handle("", "bob")
    assert not _same_handle("bob", None)


def test_ids_are_ranked_by_their_distance_from_noon_and_timeless_ones_last():
    day = date(2023, 3, 29)
    early, late = snowflake("2023-03-29T01:00:00Z", 1), snowflake("2023-03-29T20:00:00Z", 2)
    assert _rank(["999", "12345", early, late], day) == [late, early, "999", "12345"]
    assert _rank(["999", early], day) == [early, "999"]


def test_a_tco_answer_that_is_not_a_status_is_noted_with_its_chain():
    web = Web()
    web.redirect("AbC", "https://t.co/DeF")
    web.redirect("DeF", "https://www.example.com/story")
    res = resolve(web, when=None)
    assert res.detail.startswith("t.co/AbC → t.co/DeF → example.com/story: not a status URL; ")


def test_a_handle_is_only_stripped_of_its_at_sign():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Xavier/status/{GOOD}")
    res = resolve(web, handle="@Xavier")
    assert (res.method, res.handle) == ("tco-redirect", "Xavier")


def test_a_tco_stand_in_keeps_its_path():
    web = Web()
    ep = Endpoints(tco="https://mirror.test/linX/", syndication="https://synd.test", cdx="https://cdx.test")
    web.add("https://mirror.test/linX/AbC", 301, headers={"location": f"https://twitter.com/Bob/status/{GOOD}"})
    res = resolve_tweet_id(web, ep, handle="bob", date=DAY, text=TEXT, pic_links=("pic.twitter.com/AbC",))
    assert res.method == "tco-redirect" and web.calls[0][1] == "https://mirror.test/linX/AbC"


def test_a_candidate_without_an_author_keeps_the_handle_of_its_url():
    web = Web()
    web.redirect("AbC", f"https://twitter.com/Else/status/{GOOD}")
    web.tweet(GOOD, user=False)
    res = resolve(web, handle=None)
    assert (res.method, res.handle, res.post_id) == ("tco-candidate-verified", "Else", GOOD)


def test_dates_are_taken_in_utc_whatever_the_local_zone(monkeypatch):
    from datetime import datetime, timedelta, timezone
    import time

    from archiver.platforms.twitter.resolve import _as_date

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert _as_date(datetime(2023, 3, 30, 2, 0, tzinfo=timezone(timedelta(hours=5)))) == date(2023, 3, 29)
        assert _as_date(datetime(2023, 3, 30, 2, 0, tzinfo=timezone.utc)) == date(2023, 3, 30)
        assert _as_date(datetime(2023, 3, 29, 23, 30)) == date(2023, 3, 29)  # naive: already the day meant
    finally:
        monkeypatch.undo()
        time.tzset()
