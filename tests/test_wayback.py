"""Wayback availability and CDX parsing, on the project's own answers (tests/responses.py) and on real ones
published in a public repository (which skip without ../shared)."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from archiver.fetch.wayback import (
    OUTCOMES,
    build_available_url,
    build_cdx_url,
    parse_available,
    parse_cdx,
    replay_url,
    timestamp_to_iso,
)
from tests.responses import AVAILABLE_AT, CDX_AT, body, cdx_line, wayback_available
from tests.upstream import load_sample

AVAILABLE = "wayback_available_waybackpy_google.json"
CDX_LINE = "wayback_cdx_line_waybackpy.txt"
HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
STATUS = "https://twitter.com/SamuelSusla/status/1641086480675225601"


@pytest.fixture(params=["built", "real"])
def cdx_text(request) -> bytes:
    """One CDX text line for http://github.com (length 1415): the project's own, or the real sample."""
    return cdx_line("http://github.com").encode() if request.param == "built" else load_sample(CDX_LINE)


# --- URLs ------------------------------------------------------------------------------------------


def test_build_available_url():
    assert build_available_url(None, "https://twitter.com/a/status/1?s=20") == (
        "https://archive.org/wayback/available?url=https%3A%2F%2Ftwitter.com%2Fa%2Fstatus%2F1%3Fs%3D20"
    )
    assert build_available_url("http://127.0.0.1:9/", "x.com/a", "20230726") == (
        "http://127.0.0.1:9/wayback/available?url=x.com%2Fa&timestamp=20230726"
    )
    assert build_available_url(None, "u", datetime(2023, 7, 26, 17, 6, 20, tzinfo=timezone.utc)).endswith(
        "&timestamp=20230726170620"
    )


def test_build_cdx_url():
    assert build_cdx_url(None, "twitter.com/a/status/1") == (
        "https://web.archive.org/cdx/search/cdx?url=twitter.com%2Fa%2Fstatus%2F1&output=json&limit=1000"
    )
    assert build_cdx_url(
        "http://127.0.0.1:9",
        "twitter.com/a/status/1*",
        from_=date(2023, 1, 2),
        to="2024-01-01T00:00:00Z",
        limit=5,
        filters=("statuscode:200",),
        collapse="digest",
        match_type="prefix",
    ) == (
        "http://127.0.0.1:9/cdx/search/cdx?url=twitter.com%2Fa%2Fstatus%2F1%2A&output=json&matchType=prefix"
        "&from=20230102&to=20240101000000&filter=statuscode%3A200&collapse=digest&limit=5"
    )
    assert "limit" not in build_cdx_url(None, "u", limit=None)


@pytest.mark.parametrize(
    "ts,iso",
    [
        ("20210109155628", "2021-01-09T15:56:28Z"),
        ("20080126045828", "2008-01-26T04:58:28Z"),
        ("2021", "2021-01-01T00:00:00Z"),
        ("202102", "2021-02-01T00:00:00Z"),
        ("20211301000000", None),
        ("2021010915562", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_timestamp_to_iso(ts, iso):
    assert timestamp_to_iso(ts) == iso


def test_replay_url():
    ts = "20210109155628"
    assert replay_url(ts, "https://www.google.com/") == "https://web.archive.org/web/20210109155628/https://www.google.com/"
    assert replay_url(ts, "https://x.com/", flag="id_") == "https://web.archive.org/web/20210109155628id_/https://x.com/"


# --- availability ----------------------------------------------------------------------------------


def test_available_sample():
    r = parse_available(200, load_sample(AVAILABLE))
    assert r.outcome == "archived"
    assert r.url == "https://www.google.com/"
    c = r.capture
    assert c.timestamp == "2021-01-09T15:56:28Z"
    assert c.wayback_timestamp == "20210109155628"
    assert c.original == "https://www.google.com/"
    assert c.status == 200
    assert c.replay_url == "https://web.archive.org/web/20210109155628/https://www.google.com/"
    assert c.raw_url == "https://web.archive.org/web/20210109155628id_/https://www.google.com/"


def test_built_available_answer():
    r = parse_available(200, body(wayback_available(STATUS)))
    assert r.outcome == "archived"
    assert r.url == STATUS
    c = r.capture
    assert c.timestamp == "2023-03-30T12:00:00Z"
    assert c.wayback_timestamp == AVAILABLE_AT
    assert c.original == STATUS
    assert c.status == 200
    # the answer names http://web.archive.org; replays are asked over https
    assert c.replay_url == f"https://web.archive.org/web/{AVAILABLE_AT}/{STATUS}"
    assert c.raw_url == f"https://web.archive.org/web/{AVAILABLE_AT}id_/{STATUS}"
    other = parse_available(200, body(wayback_available(STATUS, "20240101000000"))).capture
    assert other.timestamp == "2024-01-01T00:00:00Z"


def test_available_original_comes_from_the_capture_not_the_echo():
    body = {
        "url": "twitter.com/a/status/1",
        "archived_snapshots": {
            "closest": {"available": True, "status": "301", "timestamp": "20230101010101",
                        "url": "http://web.archive.org/web/20230101010101/https://twitter.com/a/status/1"}
        },
    }
    c = parse_available(200, json.dumps(body)).capture
    assert c.original == "https://twitter.com/a/status/1"
    assert c.status == 301


@pytest.mark.parametrize(
    "body",
    [
        b'{"url": "example.com/nothing", "archived_snapshots": {}}',
        b'{"archived_snapshots": {"closest": {"available": false}}}',
        b'{"archived_snapshots": {"closest": null}}',
    ],
)
def test_available_not_found(body):
    r = parse_available(200, body)
    assert r.outcome == "not_found" and r.capture is None


@pytest.mark.parametrize(
    "status,body,fragment",
    [
        (503, b"", "HTTP 503"),
        (None, b"{}", "HTTP None"),
        (200, b"", "empty body"),
        (200, None, "empty body"),
        (200, b"\x1f\x8b\x08\x00\x00\x00\x00", "not UTF-8"),
        (200, b"GIF89a\x00\x00", "binary"),
        (200, b"<html>error</html>", "not JSON"),
        (200, b"[]", "no archived_snapshots"),
        (200, b"{}", "no archived_snapshots"),
        (200, b'{"archived_snapshots": []}', "no archived_snapshots"),
        (200, b'{"archived_snapshots": {"closest": "x"}}', "not an object"),
        (200, b'{"archived_snapshots": {"closest": {"available": true, "timestamp": "nope", "url": "x"}}}', "lacks"),
        (200, b'{"archived_snapshots": {"closest": {"available": true}}}', "lacks"),
    ],
)
def test_available_errors(status, body, fragment):
    r = parse_available(status, body)
    assert r.outcome == "error"
    assert fragment in r.error
    assert "\n" not in r.error


# --- CDX -------------------------------------------------------------------------------------------


def test_cdx_text_sample():
    r = parse_cdx(200, load_sample(CDX_LINE))
    assert r.outcome == "archived"
    (c,) = r.captures
    assert c.urlkey == "org,archive)/"
    assert c.timestamp == "2008-01-26T04:58:28Z"
    assert c.wayback_timestamp == "20080126045828"
    assert c.original == "http://github.com"
    assert c.mimetype == "text/html"
    assert c.status == 200
    assert c.digest == "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY"
    assert c.length == 1415
    assert c.replay_url == "https://web.archive.org/web/20080126045828/http://github.com"


def test_built_cdx_text_line():
    r = parse_cdx(200, cdx_line(STATUS + "?s=20").encode())
    assert r.outcome == "archived"
    (c,) = r.captures
    assert c.urlkey == "com,twitter)/samuelsusla/status/1641086480675225601?s=20"
    assert c.timestamp == "2023-03-29T15:00:00Z"
    assert c.wayback_timestamp == CDX_AT
    assert c.original == STATUS + "?s=20"
    assert c.mimetype == "text/html"
    assert c.status == 200
    assert c.digest == "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY"
    assert c.length == 1415
    assert c.replay_url == f"https://web.archive.org/web/{CDX_AT}/{STATUS}?s=20"
    two = parse_cdx(200, (cdx_line(STATUS, "20230101000000", "DIGESTONE", 900) + cdx_line(STATUS)).encode())
    assert [(c.wayback_timestamp, c.digest, c.length) for c in two.captures] == [
        ("20230101000000", "DIGESTONE", 900), (CDX_AT, "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY", 1415)]


def test_cdx_json_matches_text(cdx_text):
    fields = cdx_text.decode().split()
    as_json = json.dumps([HEADER, fields]).encode()
    captures = parse_cdx(200, cdx_text).captures
    assert len(captures) == 1 and captures[0].original == "http://github.com"
    assert parse_cdx(200, as_json).captures == captures


def test_cdx_json_uses_its_header_order(cdx_text):
    fields = dict(zip(HEADER, cdx_text.decode().split()))
    order = ["timestamp", "original", "statuscode", "digest", "length", "mimetype", "urlkey"]
    r = parse_cdx(200, json.dumps([order, [fields[k] for k in order]]))
    assert r.captures[0].original == "http://github.com"
    assert r.captures[0].length == 1415


def test_cdx_dashes_resume_key_and_skipped_rows():
    rows = [
        HEADER,
        ["com,twitter)/a/status/1", "20230101000000", "https://twitter.com/a/status/1", "warc/revisit", "-", "ABC", "-"],
        ["too", "short"],
        ["com,twitter)/a/status/1", "2023XX01000000", "https://twitter.com/a/status/1", "text/html", "200", "D", "9"],
        [],
        ["com%2Ctwitter%29%2Fa 20230101000000"],
    ]
    r = parse_cdx(200, json.dumps(rows))
    assert r.outcome == "archived"
    (c,) = r.captures
    assert (c.status, c.length, c.mimetype) == (None, None, "warc/revisit")
    assert r.skipped == 2
    assert r.resume_key == "com%2Ctwitter%29%2Fa 20230101000000"


def test_cdx_text_with_resume_key_and_bad_lines(cdx_text):
    line = cdx_text.decode().strip()
    text = f"{line}\nnot a cdx line\n{line}\n\nresumekey123\n"
    r = parse_cdx(200, text.encode())
    assert len(r.captures) == 2
    assert r.skipped == 1
    assert r.resume_key == "resumekey123"


@pytest.mark.parametrize("body", [b"", b"\n", b"[]", None, b"[]\n"])
def test_cdx_not_found(body):
    assert parse_cdx(200, body).outcome == "not_found"


@pytest.mark.parametrize(
    "status,body,fragment",
    [
        (502, b"", "HTTP 502"),
        (403, b"Blocked Site Error", "HTTP 403"),
        (200, b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        (200, b"\x00\x00\x00\x00", "binary"),
        (200, b"<html><body>error</body></html>", "not a CDX response"),
        (200, b'{"error": "x"}', "not a CDX response"),
        (200, b"[[1, 2], [3", "not JSON"),
        (200, b'[["a", "b"], ["c", "d"]]', "no readable CDX rows"),
        (200, b"one two three\nfour five\n", "no readable CDX rows"),
        (200, b"[" * 100_000, "not JSON"),
        (200, 12345, "unsupported body type"),
    ],
)
def test_cdx_errors(status, body, fragment):
    r = parse_cdx(status, body)
    assert r.outcome == "error"
    assert fragment in r.error
    assert "\n" not in r.error
    assert r.outcome in OUTCOMES
