"""publish.twitter.com/oembed parsing against a real response published in a public repository."""
from __future__ import annotations

import json
import random

import pytest

from archiver.platforms.twitter.oembed import OUTCOMES, build_url, classify, english_date, parse_blockquote
from tests.upstream import load_sample

TWITTER = "oembed_twitter_alley_1679189879086018562.json"
YOUTUBE = "oembed_youtube_alley_dQw4w9WgXcQ.json"
TIKTOK = "oembed_tiktok_alley_7348705314746699054.json"


def tweet_json(html: str, **extra) -> bytes:
    return json.dumps({"html": html, **extra}).encode()


def test_build_url():
    assert build_url(None, "https://twitter.com/alleyco/status/1679189879086018562") == (
        "https://publish.twitter.com/oembed?url=https%3A%2F%2Ftwitter.com%2Falleyco%2Fstatus%2F1679189879086018562"
        "&omit_script=1&dnt=true"
    )
    assert build_url("https://publish.x.com/", "https://x.com/a/status/1?s=20").startswith(
        "https://publish.x.com/oembed?url=https%3A%2F%2Fx.com%2Fa%2Fstatus%2F1%3Fs%3D20&"
    )


def test_twitter_sample():
    r = classify(200, load_sample(TWITTER))
    assert r.outcome == "archived"
    assert r.status_code == 200
    assert r.author_name == "Alley"
    assert r.author_url == "https://twitter.com/alleyco"
    assert r.handle == "alleyco"
    assert r.url == "https://twitter.com/alleyco/status/1679189879086018562"
    assert r.tweet_id == "1679189879086018562"
    assert r.lang == "en"
    assert r.text == (
        "We’re a full-service digital agency with the foresight, perspective, and grit to power your brightest ideas "
        "and build solutions for your most evasive problems. Learn more about our services here:https://t.co/8zZ5zP1Oyc"
    )
    assert r.links == ("https://t.co/8zZ5zP1Oyc",)
    assert r.date_text == "July 12, 2023"
    assert r.date == "2023-07-12"
    assert r.status_url == "https://twitter.com/alleyco/status/1679189879086018562"
    assert r.html.startswith('<blockquote class="twitter-tweet">')
    assert r.provider_name == "Twitter"
    assert r.cache_age == "3153600000"


@pytest.mark.parametrize("name", [YOUTUBE, TIKTOK])
def test_other_providers_are_not_tweets(name):
    r = classify(200, load_sample(name))
    assert r.outcome == "error"
    assert r.error == "oEmbed html has no tweet blockquote"


def test_multiline_text_non_english_date_and_x_links():
    html = (
        '<blockquote class="twitter-tweet" data-dnt="true"><p lang="fr" dir="ltr">Bonjour<br>le monde '
        '<a href="https://twitter.com/hashtag/test?src=hash">#test</a> <a href="https://t.co/abc">pic.twitter.com/abc</a></p>'
        "&mdash; Nom Complet (@some_one) "
        '<a href="https://x.com/some_one/status/1700000000000000000?ref_src=twsrc%5Etfw">12 juillet 2023</a></blockquote>'
    )
    r = classify(200, tweet_json(html))
    assert r.outcome == "archived"
    assert r.text == "Bonjour\nle monde #test pic.twitter.com/abc"
    assert r.lang == "fr"
    assert r.links == ("https://twitter.com/hashtag/test?src=hash", "https://t.co/abc")
    assert (r.author_name, r.handle, r.tweet_id) == ("Nom Complet", "some_one", "1700000000000000000")
    assert r.date_text == "12 juillet 2023"
    assert r.date is None
    assert r.status_url == "https://x.com/some_one/status/1700000000000000000"


@pytest.mark.parametrize(
    "text,iso",
    [("July 12, 2023", "2023-07-12"), ("Sep 1, 2021", "2021-09-01"), ("12 juillet 2023", None), ("", None), (None, None)],
)
def test_english_date(text, iso):
    assert english_date(text) == iso


def test_not_found_and_protected():
    assert classify(404, b"").outcome == "not_found"
    r = classify(403, b'{"error":"Sorry, you are not authorized to see this status.","request":"/oembed"}')
    assert r.outcome == "protected"
    assert r.error == "Sorry, you are not authorized to see this status."
    assert classify(403, b"\x00\xff").outcome == "protected"


@pytest.mark.parametrize(
    "status,body,fragment",
    [
        (500, b"", "HTTP 500"),
        (429, b"{}", "HTTP 429"),
        (None, b"{}", "HTTP None"),
        (200, b"", "empty body"),
        (200, None, "empty body"),
        (200, b"\xff\xfe\x00binary", "not UTF-8"),
        (200, b"<html><body>oops</body></html>", "not JSON"),
        (200, b"null", "expected a JSON object"),
        (200, b"[]", "expected a JSON object"),
        (200, b"{}", "no html"),
        (200, b'{"html": 5}', "no html"),
        (200, b'{"html": "   "}', "no html"),
        (200, b'{"error": "Could not find\\nstatus"}', "oEmbed error: Could not find status"),
        (200, b'{"html": "<p>no quote here</p>"}', "no tweet blockquote"),
        (200, b'{"html": "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?><blockquote>"}', "no tweet blockquote"),
    ],
)
def test_errors_are_one_line(status, body, fragment):
    r = classify(status, body)
    assert r.outcome == "error"
    assert fragment in r.error
    assert "\n" not in r.error


def test_truncated_and_mangled_sample_never_raises():
    body = load_sample(TWITTER)
    html = json.loads(body)["html"]
    rng = random.Random(1679189879086018562)
    for _ in range(400):
        cut = rng.randrange(len(html))
        mangled = html[:cut] + rng.choice(["", "<", "</p>", "<a href=", "&", "\x00", "]]>"]) + html[cut + rng.randrange(0, 20) :]
        assert classify(200, tweet_json(mangled)).outcome in OUTCOMES
        assert classify(200, body[: rng.randrange(len(body))]).outcome in OUTCOMES


def test_parse_blockquote_needs_a_twitter_blockquote():
    assert parse_blockquote("") == {}
    assert parse_blockquote("<blockquote class='instagram-media'><p>x</p></blockquote>") == {}
    assert parse_blockquote("<blockquote class='twitter-tweet'><p>x</p></blockquote>")["text"] == "x"
