"""publish.twitter.com/oembed parsing, on the project's own answers (tests/responses.py) and on real ones
published in a public repository (which skip without ../shared)."""
from __future__ import annotations

import json
import random

import pytest

from archiver.platforms.twitter.oembed import OUTCOMES, build_url, classify, english_date, parse_blockquote
from tests.responses import OEMBED_TWEET_ID, body, oembed_stand_ins, oembed_tweet
from tests.upstream import load_sample

TWITTER = "oembed_twitter_alley_1679189879086018562.json"
YOUTUBE = "oembed_youtube_alley_dQw4w9WgXcQ.json"
TIKTOK = "oembed_tiktok_alley_7348705314746699054.json"


def tweet_json(html: str, **extra) -> bytes:
    return json.dumps({"html": html, **extra}).encode()


def answer(source: str, provider: str) -> bytes:
    """One provider's oEmbed answer: the project's own (built) or the real sample."""
    if source == "built":
        return body(oembed_stand_ins()[provider][0])
    return load_sample({"twitter": TWITTER, "youtube": YOUTUBE, "tiktok": TIKTOK}[provider])


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


def test_built_twitter_answer():
    r = classify(200, answer("built", "twitter"))
    assert r.outcome == "archived"
    assert r.status_code == 200
    assert (r.author_name, r.author_url, r.handle) == ("Alley", "https://twitter.com/alleyco", "alleyco")
    assert r.url == f"https://twitter.com/alleyco/status/{OEMBED_TWEET_ID}"
    assert r.tweet_id == OEMBED_TWEET_ID
    assert r.lang == "en"
    assert r.text == "We are hiring engineers who like news."
    assert r.links == ()
    assert (r.date_text, r.date) == ("July 12, 2023", "2023-07-12")
    assert r.status_url == f"https://twitter.com/alleyco/status/{OEMBED_TWEET_ID}"  # without ?ref_src
    assert r.html.startswith('<blockquote class="twitter-tweet">')
    assert r.provider_name == "Twitter"
    assert r.cache_age == "3153600000"


def test_built_answer_with_links_on_x_com():
    # The id and handle come from the blockquote's date link, not from the URL the API echoes.
    status = "https://x.com/someone_else/status/1700000000000000042"
    text = ("We’re hiring. Learn more here:<a href=\"https://t.co/8zZ5zP1Oyc\">https://t.co/8zZ5zP1Oyc</a> "
            "<a href=\"https://twitter.com/hashtag/jobs?src=hash\">#jobs</a>")
    data = oembed_tweet(status, "someone_else", "Some One", text, "Sep 1, 2021")
    data["url"] = "https://twitter.com/i/status/1700000000000000042"
    r = classify(200, body(data))
    assert r.outcome == "archived"
    assert r.text == "We’re hiring. Learn more here:https://t.co/8zZ5zP1Oyc #jobs"
    assert r.links == ("https://t.co/8zZ5zP1Oyc", "https://twitter.com/hashtag/jobs?src=hash")
    assert (r.author_name, r.handle, r.tweet_id) == ("Some One", "someone_else", "1700000000000000042")
    assert (r.date_text, r.date) == ("Sep 1, 2021", "2021-09-01")
    assert r.status_url == status


@pytest.mark.parametrize("source", ["built", "real"])
@pytest.mark.parametrize("provider", ["youtube", "tiktok"])
def test_other_providers_are_not_tweets(provider, source):
    raw = answer(source, provider)
    assert json.loads(raw)["html"]  # a real embed, just not a tweet's
    r = classify(200, raw)
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


@pytest.mark.parametrize("source", ["built", "real"])
def test_truncated_and_mangled_sample_never_raises(source):
    raw = answer(source, "twitter")
    assert classify(200, raw).outcome == "archived"
    html = json.loads(raw)["html"]
    rng = random.Random(1679189879086018562)
    for _ in range(400):
        cut = rng.randrange(len(html))
        mangled = html[:cut] + rng.choice(["", "<", "</p>", "<a href=", "&", "\x00", "]]>"]) + html[cut + rng.randrange(0, 20) :]
        assert classify(200, tweet_json(mangled)).outcome in OUTCOMES
        assert classify(200, raw[: rng.randrange(len(raw))]).outcome in OUTCOMES


def test_parse_blockquote_needs_a_twitter_blockquote():
    assert parse_blockquote("") == {}
    assert parse_blockquote("<blockquote class='instagram-media'><p>x</p></blockquote>") == {}
    assert parse_blockquote("<blockquote class='twitter-tweet'><p>x</p></blockquote>")["text"] == "x"
