"""tweet-result parsing, on the project's own responses (tests/responses.py) and on real ones published in
public repositories (which skip without ../shared)."""
from __future__ import annotations

import copy
import json
import random

import pytest

from archiver.platforms.twitter.syndication import (
    OUTCOMES,
    build_url,
    classify,
    media_for_pic_link,
    photo_orig_url,
    pic_code,
    status_from_media_url,
)
from archiver.platforms.twitter.tweet import SyndicationResult
from tests.responses import (
    CARD_ID,
    PHOTO_ID,
    PHOTO_MEDIA,
    QUOTE_ID,
    REPLY_ID,
    STAND_INS,
    TEXT_ID,
    VIDEO_ID,
    VIDEO_MEDIA_ID,
    VIDEO_ORIGIN_ID,
    Photo,
    Video,
    body,
    link_card,
    tombstone,
    tweet,
)
from tests.upstream import load_sample, ts_literal_to_json


PHOTO = "syndication_photo_tweet-rsc_1641086480675225601.json"
QUOTED = "syndication_quoted_tweet-rsc_1641895049427550208.json"
CARD = "syndication_card_tweet-rsc_1629262255744503809.json"
CARD_WRAPPED = "syndication_card_reveddit_1703436713362870723.json"
TEXT_2026 = "syndication_text_emusks_2023357708301455483.json"
TOMBSTONE = "syndication_tombstone_deleted_emusks.json"
VIDEO_TS = "syndication_video_urlshare_1684218600456876032.ts"
JSON_SAMPLES = [PHOTO, QUOTED, CARD, CARD_WRAPPED, TEXT_2026, TOMBSTONE]

# The project's own answers, in the same roles (a clone without ../shared runs these).
BUILT = {
    "photo": body(STAND_INS[PHOTO_ID]),
    "quoted": body(STAND_INS[QUOTE_ID]),
    "card": body(STAND_INS[CARD_ID]),
    "reply": body(STAND_INS[REPLY_ID]),
    "wrapped": body({"data": STAND_INS[CARD_ID]}),
    "text": body(STAND_INS[TEXT_ID]),
    "video": body(STAND_INS[VIDEO_ID]),
    "tombstone": body(tombstone()),
}


def photo_body(source: str) -> bytes:
    """The one-photo tweet (pic.twitter.com/rQd6FIwZ0U in both), built or real."""
    return BUILT["photo"] if source == "built" else load_sample(PHOTO)


@pytest.fixture
def video_body() -> bytes:
    return ts_literal_to_json(load_sample(VIDEO_TS).decode("utf-8")).encode("utf-8")


# --- URL -------------------------------------------------------------------------------------------


def test_build_url_uses_the_react_tweet_token():
    assert build_url(None, "1641086480675225601") == (
        "https://cdn.syndication.twimg.com/tweet-result?id=1641086480675225601&lang=en&token=3z7miaszni8"
    )
    assert build_url("http://127.0.0.1:8080/", 1684218600456876032, lang="de") == (
        "http://127.0.0.1:8080/tweet-result?id=1684218600456876032&lang=de&token=42z4mwgp9h8"
    )


# --- built responses (tests/responses.py): every capability without ../shared ------------------------


def test_built_photo_tweet():
    r = classify(200, BUILT["photo"])
    assert r.outcome == "archived"
    assert r.tweet_id == PHOTO_ID
    assert r.created_at == "2023-03-29T14:34:41Z"
    assert r.lang == "en"
    assert (r.user.screen_name, r.user.id, r.user.name) == ("SamuelSusla", "469266133", "sammy")
    assert r.user.profile_image_url == "https://pbs.twimg.com/profile_images/469266133/avatar_normal.jpg"
    assert r.user.profile_image_original == "https://pbs.twimg.com/profile_images/469266133/avatar.jpg"
    assert r.raw_text.endswith("Let me know what you think! https://t.co/rQd6FIwZ0U")
    # t.co links become their expanded URL, the media link its pic.twitter.com display URL
    assert r.text == (
        "If you are interested about View Flattening in React Native, I wrote a short post about it: "
        "https://github.com/reactwg/react-native-new-architecture/discussions/110\n\n"
        "Let me know what you think! pic.twitter.com/rQd6FIwZ0U"
    )
    assert r.entities.urls[0].url == "https://t.co/4G6RAMfrHy"
    assert r.entities.urls[0].indices == (92, 115)
    assert r.favorite_count == 226
    assert r.possibly_sensitive is False
    assert r.edit_control.edit_tweet_ids == (PHOTO_ID,)
    assert r.edit_control.edits_remaining == 5
    assert r.in_reply_to is None and r.quoted_tweet is None and r.card is None
    (m,) = r.media
    assert m.type == "photo"
    assert m.url == f"https://pbs.twimg.com/media/{PHOTO_MEDIA}?format=jpg&name=orig"
    assert m.preview_url == f"https://pbs.twimg.com/media/{PHOTO_MEDIA}.jpg"
    assert m.display_url == "pic.twitter.com/rQd6FIwZ0U"
    assert m.tco_url == "https://t.co/rQd6FIwZ0U"
    assert m.expanded_url == f"https://twitter.com/SamuelSusla/status/{PHOTO_ID}/photo/1"
    assert (m.source_handle, m.source_tweet_id) == ("SamuelSusla", PHOTO_ID)
    assert (m.width, m.height) == (1995, 896)
    assert m.availability == "Available"


def test_built_photos_without_media_details_use_the_photos_list():
    data = tweet("5", "someone", "Some One", "Two pictures", "2023-03-29T14:34:41.000Z",
                 photos=(Photo("AAAAAAAAA1", "FirstPic", 800, 600), Photo("AAAAAAAAA2", "SecondPic")))
    del data["mediaDetails"]  # some answers carry only the simplified `photos`
    first, second = classify(200, body(data)).media
    assert first.url == "https://pbs.twimg.com/media/FirstPic?format=jpg&name=orig"
    assert (first.width, first.height) == (800, 600)
    assert (first.source_handle, first.source_tweet_id) == ("someone", "5")
    assert second.expanded_url == "https://twitter.com/someone/status/5/photo/2"


def test_built_quoted_tweet_is_parsed_one_level_deep():
    r = classify(200, BUILT["quoted"])
    assert r.outcome == "archived"
    assert r.tweet_id == QUOTE_ID
    assert r.user.screen_name == "mattcarrollcode"
    assert r.media == ()
    q = r.quoted_tweet
    assert isinstance(q, SyndicationResult)
    assert q.outcome == "archived"
    assert (q.tweet_id, q.user.screen_name, q.favorite_count) == (PHOTO_ID, "SamuelSusla", 226)
    assert q.created_at == "2023-03-29T14:34:41Z"
    assert q.text.endswith("Let me know what you think! pic.twitter.com/rQd6FIwZ0U")
    assert q.media[0].url == f"https://pbs.twimg.com/media/{PHOTO_MEDIA}?format=jpg&name=orig"
    assert q.quoted_tweet is None

    # A quote of that quote: the nested one is read, its own quoted tweet is not (one level deep).
    outer = tweet("1642000000000000000", "someone", "Some One", "Look at this #ReactNative thread",
                  "2023-04-01T10:00:00.000Z", hashtags=("ReactNative",),
                  quoted=tweet(QUOTE_ID, "mattcarrollcode", "Matt Carroll", "View flattening", "2023-03-31T20:07:39.000Z",
                               replies=1, retweets=42, favorites=4, quoted=STAND_INS[PHOTO_ID]))
    r = classify(200, body(outer))
    assert r.entities.hashtags[0].text == "ReactNative"
    assert r.entities.hashtags[0].indices == (13, 25)
    q = r.quoted_tweet
    assert (q.tweet_id, q.user.screen_name) == (QUOTE_ID, "mattcarrollcode")
    assert (q.reply_count, q.retweet_count, q.favorite_count) == (1, 42, 4)
    assert q.quoted_tweet is None


def test_built_reply_carries_its_parent():
    r = classify(200, body(STAND_INS[REPLY_ID]))
    assert (r.tweet_id, r.user.screen_name) == (REPLY_ID, "reader")
    assert (r.in_reply_to.status_id, r.in_reply_to.screen_name, r.in_reply_to.user_id) == (
        CARD_ID, "mattcarrollcode", "378380992")
    assert (r.parent.tweet_id, r.parent.user.screen_name, r.parent.card.domain) == (CARD_ID, "mattcarrollcode",
                                                                                   "react.dev")
    assert r.parent.parent is None


def _check_react_card(c, title: str) -> None:
    assert c.name == "summary_large_image"
    assert c.url == "https://t.co/fI2B6TT8rL"
    assert c.expanded_url == "https://beta.reactjs.org/learn/tutorial-tic-tac-toe"
    assert c.title == title
    assert c.description == "The library for web and native user interfaces"
    assert c.domain == "react.dev"
    assert c.image_url == "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=orig"


def test_built_card_tweet():
    r = classify(200, BUILT["card"])
    assert r.tweet_id == CARD_ID
    assert r.text.endswith("in the React tutorial? https://beta.reactjs.org/learn/tutorial-tic-tac-toe")
    # the original size is preferred over the 800x419 and 280x150 ones the card also names
    _check_react_card(r.card, "React")
    assert r.conversation_count == 1

    text = "I recently joined @reactjs! Porting @sophiebits's tutorial https://t.co/AbCdEf1234"
    r = classify(200, body(tweet("1629262255744503810", "mattcarrollcode", "Matt Carroll", text,
                                 "2023-02-24T23:29:26.000Z", thread="1629262255744503809",
                                 mentions=(("reactjs", "1566463268", "React"), ("sophiebits", "5697222", "sophie")),
                                 urls=(("https://t.co/AbCdEf1234", "https://react.dev/learn"),),
                                 card=link_card("https://t.co/AbCdEf1234", "react.dev", "Quick Start",
                                                "Learn React", "https://pbs.twimg.com/card_img/9/abc"))))
    assert r.self_thread_id == "1629262255744503809"
    assert [(m.screen_name, m.id, m.indices) for m in r.entities.mentions] == [
        ("reactjs", "1566463268", (18, 26)), ("sophiebits", "5697222", (36, 47))]
    assert (r.card.title, r.card.expanded_url) == ("Quick Start", "https://react.dev/learn")
    assert r.card.image_url == "https://pbs.twimg.com/card_img/9/abc?format=png&name=orig"


def test_built_data_wrapped_response():
    text = "Senator @RonWyden on the record https://t.co/WrApPeD123"
    data = tweet("1703436713362870723", "rhaksw", "Rob", text, "2023-09-17T15:52:15.000Z", shape="Circle",
                 mentions=(("RonWyden", "250188760", "Ron Wyden"),),
                 urls=(("https://t.co/WrApPeD123", "https://reddit.com/r/technology/comments/16jlhj7/"),),
                 card=link_card("https://t.co/WrApPeD123", "reddit.com", "From the technology community on Reddit",
                                "Explore this post", "https://pbs.twimg.com/card_img/17/xyz"))
    r = classify(200, body({"data": data}))  # react-tweet's API route wraps the tweet
    assert r.outcome == "archived"
    assert r.tweet_id == "1703436713362870723"
    assert r.created_at == "2023-09-17T15:52:15Z"
    assert r.user.screen_name == "rhaksw"
    assert r.user.profile_image_shape == "Circle"
    assert r.entities.mentions[0].id == "250188760"
    assert "https://reddit.com/r/technology/comments/16jlhj7/" in r.text
    assert "https://t.co/" not in r.text
    assert r.card.title.startswith("From the technology community on Reddit")
    assert classify(200, BUILT["wrapped"]).card.title == "React"


def test_built_text_tweet_with_affiliation_and_object_entities():
    r = classify(200, BUILT["text"])
    assert r.outcome == "archived"
    assert r.tweet_id == TEXT_ID
    assert r.text == r.raw_text
    assert r.text.startswith("Underdocumented: `bun build --compile`")
    assert r.created_at == "2026-02-16T11:24:04Z"
    assert r.user.affiliation == "Bun"
    assert r.media == () and r.card is None

    data = tweet(TEXT_ID, "jarredsumner", "Jarred Sumner", "Underdocumented: `bun build --compile`",
                 "2026-02-16T11:24:04.000Z", label="Bun", label_url="https://twitter.com/bunjavascript", blue=True)
    data["entities"] = {"hashtags": {}, "urls": {}, "user_mentions": {}, "symbols": {}}  # as some docs render them
    r = classify(200, body(data))
    assert r.user.is_blue_verified is True and r.user.verified is False
    assert (r.user.affiliation, r.user.affiliation_url) == ("Bun", "https://twitter.com/bunjavascript")
    # empty entity lists rendered as {} must read as empty, not crash
    assert r.entities.urls == () and r.entities.hashtags == () and r.entities.mentions == ()
    assert r.text == "Underdocumented: `bun build --compile`"


def test_built_video_tweet_media_comes_from_another_tweet():
    r = classify(200, BUILT["video"])
    assert r.outcome == "archived"
    assert r.tweet_id == VIDEO_ID
    assert r.user.screen_name == "Rainmaker1973"
    (m,) = r.media
    assert m.type == "video"
    assert m.url == f"https://video.twimg.com/amplify_video/{VIDEO_MEDIA_ID}/vid/886x546/_Mb5SBNFpaVehGMW.mp4?tag=14"
    assert (m.bitrate, m.content_type) == (2176000, "video/mp4")
    assert [v.content_type for v in m.variants] == ["video/mp4", "application/x-mpegURL"]
    assert m.preview_url == f"https://pbs.twimg.com/amplify_video_thumb/{VIDEO_MEDIA_ID}/img/poster.jpg"
    assert m.media_id == VIDEO_MEDIA_ID  # read from the thumbnail's path
    assert m.duration_ms == 14510
    assert (m.width, m.height) == (886, 546)
    assert m.display_url == "pic.twitter.com/1N4ogvaMPA"
    assert m.expanded_url == f"https://twitter.com/AiBreakfast/status/{VIDEO_ORIGIN_ID}/video/1"
    assert (m.source_handle, m.source_tweet_id) == ("AiBreakfast", VIDEO_ORIGIN_ID)
    assert m.source_tweet_id != r.tweet_id
    assert status_from_media_url(m.expanded_url) == ("AiBreakfast", VIDEO_ORIGIN_ID)
    assert media_for_pic_link(r, "pic.twitter.com/1N4ogvaMPA") == (m,)
    assert r.text.endswith("room-temperature superconductor pic.twitter.com/1N4ogvaMPA")

    # several mp4s: the highest bitrate wins wherever it is listed; the view count is kept
    video = Video("VvVvVvVvV1", "1700000000000000000", views=2655454,
                  more=((288000, "vid/438x270/low.mp4"), (4096000, "vid/1280x720/high.mp4")))
    (m,) = classify(200, body(tweet("1700000000000000001", "someone", "Some One", "a clip",
                                    "2023-07-26T15:06:20.000Z", video=video))).media
    assert m.url == "https://video.twimg.com/amplify_video/1700000000000000000/vid/1280x720/high.mp4?tag=14"
    assert (m.bitrate, len(m.variants), m.view_count) == (4096000, 4, 2655454)
    assert (m.source_handle, m.source_tweet_id) == ("someone", "1700000000000000001")  # its own upload


def test_built_tombstone_is_unavailable_not_deleted():
    r = classify(200, BUILT["tombstone"])
    assert r.outcome == "unavailable"
    assert r.unavailable
    assert r.reason == "This Post was deleted by the Post author. Learn more"
    assert r.typename == "TweetTombstone"
    assert r.tweet_id is None and r.media == ()
    other = classify(200, body(tombstone("This Post is from a suspended account. Learn more")))
    assert (other.outcome, other.reason) == ("unavailable", "This Post is from a suspended account. Learn more")


# --- real samples ----------------------------------------------------------------------------------


def test_photo_tweet():
    r = classify(200, load_sample(PHOTO))
    assert r.outcome == "archived"
    assert r.tweet_id == "1641086480675225601"
    assert r.created_at == "2023-03-29T14:34:41Z"
    assert r.lang == "en"
    assert r.user.screen_name == "SamuelSusla"
    assert r.user.id == "469266133"
    assert r.user.profile_image_original == "https://pbs.twimg.com/profile_images/1042172116911697920/JkIt3onc.jpg"
    assert r.raw_text.endswith("Let me know what you think! https://t.co/rQd6FIwZ0U")
    assert r.text == (
        "If you are interested about View Flattening in React Native, I wrote a short post about it: "
        "https://github.com/reactwg/react-native-new-architecture/discussions/110\n\n"
        "Let me know what you think! pic.twitter.com/rQd6FIwZ0U"
    )
    assert r.entities.urls[0].url == "https://t.co/4G6RAMfrHy"
    assert r.favorite_count == 226
    assert r.possibly_sensitive is False
    assert r.edit_control.edit_tweet_ids == ("1641086480675225601",)
    assert r.edit_control.editable_until == "2023-03-29T15:04:41Z"
    assert r.edit_control.edits_remaining == 5
    assert r.in_reply_to is None and r.quoted_tweet is None and r.card is None
    (m,) = r.media
    assert m.type == "photo"
    assert m.url == "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"
    assert m.preview_url == "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg"
    assert m.display_url == "pic.twitter.com/rQd6FIwZ0U"
    assert m.tco_url == "https://t.co/rQd6FIwZ0U"
    assert m.expanded_url == "https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1"
    assert (m.source_handle, m.source_tweet_id) == ("SamuelSusla", r.tweet_id)
    assert (m.width, m.height) == (1995, 896)
    assert m.availability == "Available"


@pytest.mark.parametrize("source", ["built", "real"])
@pytest.mark.parametrize(
    "link", ["pic.twitter.com/rQd6FIwZ0U", "https://pic.twitter.com/rQd6FIwZ0U", "pic.x.com/rQd6FIwZ0U", "rQd6FIwZ0U"]
)
def test_media_for_pic_link(link, source):
    r = classify(200, photo_body(source))
    assert len(r.media) == 1
    assert media_for_pic_link(r, link) == r.media


@pytest.mark.parametrize("link", ["pic.twitter.com/RQD6FIWZ0U", "pic.twitter.com/rQd6FIwZ0u", "pic.twitter.com/other123",
                                  "", "https://t.co/rQd6FIwZ0U/x"])
@pytest.mark.parametrize("source", ["built", "real"])
def test_media_for_pic_link_misses(link, source):
    # t.co codes are case-sensitive: a code with capitals in another case is another link (a code in lower
    # case is how pic.x.com writes any code: see test_fidelity).
    r = classify(200, photo_body(source))
    assert r.media and media_for_pic_link(r, link) == ()


def test_quoted_tweet_is_parsed_one_level_deep():
    r = classify(200, load_sample(QUOTED))
    assert r.outcome == "archived"
    assert r.tweet_id == "1641895049427550208"
    assert r.user.screen_name == "mattcarrollcode"
    assert r.entities.hashtags[0].text == "ReactNative"
    assert r.media == ()
    q = r.quoted_tweet
    assert isinstance(q, SyndicationResult)
    assert q.outcome == "archived"
    assert q.tweet_id == "1641086480675225601"
    assert q.user.screen_name == "SamuelSusla"
    assert (q.reply_count, q.retweet_count, q.favorite_count) == (1, 42, 226)
    assert q.media[0].url == "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"
    assert q.quoted_tweet is None


def test_card_tweet():
    r = classify(200, load_sample(CARD))
    assert r.tweet_id == "1629262255744503809"
    assert r.self_thread_id == "1629262255744503809"
    assert [m.screen_name for m in r.entities.mentions] == ["reactjs", "sophiebits"]
    assert r.text.endswith("in the React tutorial? https://beta.reactjs.org/learn/tutorial-tic-tac-toe")
    _check_react_card(r.card, "Tutorial: Tic-Tac-Toe – React")
    assert r.conversation_count == 11


def test_data_wrapped_response():
    r = classify(200, load_sample(CARD_WRAPPED))
    assert r.outcome == "archived"
    assert r.tweet_id == "1703436713362870723"
    assert r.created_at == "2023-09-17T15:52:15Z"
    assert r.user.screen_name == "rhaksw"
    assert r.user.profile_image_shape == "Circle"
    assert r.entities.mentions[0].id == "250188760"
    assert "https://reddit.com/r/technology/comments/16jlhj7/" in r.text
    assert "https://t.co/" not in r.text
    assert r.card.title.startswith("From the technology community on Reddit")
    assert r.card.image_url.endswith("?format=jpg&name=orig")


def test_text_tweet_2026_with_affiliation_and_object_entities():
    r = classify(200, load_sample(TEXT_2026))
    assert r.outcome == "archived"
    assert r.tweet_id == "2023357708301455483"
    assert r.text == r.raw_text
    assert r.text.startswith("Underdocumented: `bun build --compile`")
    assert r.created_at == "2026-02-16T11:24:04Z"
    assert r.user.is_blue_verified is True and r.user.verified is False
    assert r.user.affiliation == "Bun"
    assert r.user.affiliation_url == "https://twitter.com/bunjavascript"
    # The doc renders empty entity lists as {}: they must read as empty, not crash.
    assert r.entities.urls == () and r.entities.hashtags == ()
    assert r.media == ()


def test_video_tweet_media_comes_from_another_tweet(video_body):
    r = classify(200, video_body)
    assert r.outcome == "archived"
    assert r.tweet_id == "1684218600456876032"
    assert r.user.screen_name == "Rainmaker1973"
    assert r.conversation_count == 744
    (m,) = r.media
    assert m.type == "video"
    assert m.url == "https://video.twimg.com/amplify_video/1684020091854225408/vid/886x546/_Mb5SBNFpaVehGMW.mp4?tag=14"
    assert (m.bitrate, m.content_type) == (2176000, "video/mp4")
    assert len(m.variants) == 4
    assert m.preview_url == "https://pbs.twimg.com/amplify_video_thumb/1684020091854225408/img/xtWb477NwDzZ1VvG.jpg"
    assert m.media_id == "1684020091854225408"
    assert m.duration_ms == 14510
    assert m.view_count == 2655454
    assert m.display_url == "pic.twitter.com/1N4ogvaMPA"
    assert m.expanded_url == "https://twitter.com/AiBreakfast/status/1684020175215927296/video/1"
    assert (m.source_handle, m.source_tweet_id) == ("AiBreakfast", "1684020175215927296")
    assert m.source_tweet_id != r.tweet_id
    assert status_from_media_url(m.expanded_url) == ("AiBreakfast", "1684020175215927296")
    assert media_for_pic_link(r, "pic.twitter.com/1N4ogvaMPA") == (m,)
    assert r.text.endswith("[full paper: https://buff.ly/450N0Px]\npic.twitter.com/1N4ogvaMPA")


def test_tombstone_is_unavailable_not_deleted():
    r = classify(200, load_sample(TOMBSTONE))
    assert r.outcome == "unavailable"
    assert r.unavailable
    assert r.reason == "This Post was deleted by the Post author. Learn more"
    assert r.typename == "TweetTombstone"
    assert r.tweet_id is None and r.media == ()


@pytest.mark.parametrize(
    "body",
    [
        b'{"__typename":"TweetTombstone"}',
        b'{"__typename":"TweetTombstone","tombstone":{}}',
        b'{"data":{"__typename":"TweetTombstone"}}',
    ],
)
def test_bare_tombstones(body):
    r = classify(200, body)
    assert (r.outcome, r.reason) == ("unavailable", None)


@pytest.mark.parametrize("source", ["built", "real"])
def test_every_sample_is_classified(source):
    bodies = BUILT if source == "built" else {name: load_sample(name) for name in JSON_SAMPLES}
    for name, raw in bodies.items():
        r = classify(200, raw)
        assert r.outcome == ("unavailable" if name in ("tombstone", TOMBSTONE) else "archived"), name


# --- not found and errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,body",
    [(200, b"{}"), (200, b" {} \n"), (200, b'{"data":{}}'), (404, b""), (404, b"<html>Not Found</html>"), (404, None)],
)
def test_not_found(status, body):
    r = classify(status, body)
    assert r.outcome == "not_found"
    assert r.status_code == status


@pytest.mark.parametrize(
    "status,body,fragment",
    [
        (500, b"", "HTTP 500"),
        (503, b"<html>\n<body>Service Unavailable</body>\n</html>", "HTTP 503"),
        (429, b'{"errors":[{"code":88}]}', "HTTP 429"),
        (200, b"", "empty body"),
        (200, None, "empty body"),
        (200, b"   \n", "empty body"),
        (200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (200, b"<!DOCTYPE html><html><body>blocked</body></html>", "not JSON"),
        (200, b'{"__typename": "Tweet", "id_str": "1"', "not JSON"),
        (200, b"[1, 2, 3]", "expected a JSON object"),
        (200, b"null", "expected a JSON object"),
        (200, b'"Tweet"', "expected a JSON object"),
        (200, b'{"__typename": "User", "id_str": "1"}', "unexpected __typename 'User'"),
        (200, b'{"id_str": "1", "text": "hi"}', "no __typename"),
        (200, b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (None, b"{}", "HTTP None"),
    ],
)
def test_errors_are_one_line(status, body, fragment):
    r = classify(status, body)
    assert r.outcome == "error"
    assert fragment in r.error
    assert "\n" not in r.error


@pytest.mark.parametrize("source", ["built", "real"])
def test_truncated_sample_is_an_error(source):
    body = photo_body(source)
    r = classify(200, body[: len(body) // 2])
    assert r.outcome == "error" and r.error.startswith("not JSON")


def test_wrong_types_inside_a_tweet_do_not_raise():
    body = json.dumps(
        {
            "__typename": "Tweet",
            "id_str": 123,
            "text": ["not", "text"],
            "user": "bob",
            "entities": {"urls": [{"url": 5}, "x", None], "media": {}},
            "mediaDetails": [{"type": "video", "video_info": {"variants": "x"}}, 7],
            "edit_control": [],
            "card": "x",
            "quoted_tweet": [],
            "created_at": "garbage",
            "favorite_count": "12",
            "display_text_range": "0,5",
        }
    ).encode()
    r = classify(200, body)
    assert r.outcome == "archived"
    assert r.tweet_id == "123"
    assert r.text is None and r.user is None and r.created_at is None
    assert r.favorite_count == 12
    assert [m.type for m in r.media] == ["video"]
    assert r.media[0].url is None


def _random_value(rng: random.Random):
    return rng.choice([None, 0, -1, 1.5, "", "x", True, [], {}, [None], {"a": None}, "2023-13-45T99:99:99Z"])


def _mutate(node, rng: random.Random):
    """Replace one random subtree (not the root) with a random value."""
    while True:
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            return
        child = node[key]
        if not isinstance(child, (dict, list)) or not child or rng.random() < 0.3:
            node[key] = _random_value(rng)
            return
        node = child


@pytest.mark.parametrize("name", [*(f"built:{key}" for key in BUILT), PHOTO, QUOTED, CARD, CARD_WRAPPED, TEXT_2026,
                                  TOMBSTONE])
def test_mutated_samples_never_raise(name):
    built = name.startswith("built:")
    original = json.loads(BUILT[name[len("built:"):]] if built else load_sample(name))
    rng = random.Random(name)
    for _ in range(300):
        data = copy.deepcopy(original)
        for _ in range(rng.randrange(1, 6)):
            _mutate(data, rng)
        raw = json.dumps(data).encode()
        r = classify(200, raw)
        assert r.outcome in OUTCOMES
        assert r.error is None or "\n" not in r.error
        cut = classify(200, raw[: rng.randrange(len(raw))])
        assert cut.outcome in OUTCOMES


# --- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1", ("SamuelSusla", "1641086480675225601")),
        ("https://twitter.com/AiBreakfast/status/1684020175215927296/video/1", ("AiBreakfast", "1684020175215927296")),
        ("https://x.com/ExtremeBlitz__/status/2023205364368351634/video/1", ("ExtremeBlitz__", "2023205364368351634")),
        ("https://mobile.twitter.com/jack/status/20", ("jack", "20")),
        ("http://www.x.com/jack/statuses/20/photo/2?s=20#frag", ("jack", "20")),
        ("https://twitter.com/i/web/status/1684020175215927296", (None, "1684020175215927296")),
        ("https://twitter.com/jack", None),
        ("https://nottwitter.com/jack/status/20/photo/1", None),
        ("https://twitter.com/jack/status/abc/photo/1", None),
        ("https://twitter.com/jack/status/20/likes", None),
        ("", None),
        (None, None),
    ],
)
def test_status_from_media_url(url, expected):
    assert status_from_media_url(url) == expected


@pytest.mark.parametrize(
    "link,code",
    [
        ("pic.twitter.com/rQd6FIwZ0U", "rQd6FIwZ0U"),
        ("https://pic.x.com/5xrYfslWJc", "5xrYfslWJc"),
        ("rQd6FIwZ0U", "rQd6FIwZ0U"),
        ("pic.twitter.com/", None),
        ("twitter.com/x", None),
    ],
)
def test_pic_code(link, code):
    assert pic_code(link) == code


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg", "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"),
        ("https://pbs.twimg.com/media/Ab-c_D.png", "https://pbs.twimg.com/media/Ab-c_D?format=png&name=orig"),
        ("https://pbs.twimg.com/tweet_video_thumb/Abc.jpg", "https://pbs.twimg.com/tweet_video_thumb/Abc.jpg"),
        (None, None),
    ],
)
def test_photo_orig_url(url, expected):
    assert photo_orig_url(url) == expected


def test_gif_and_bitrate_less_variants_and_edit_history():
    body = json.dumps(
        {
            "__typename": "Tweet",
            "id_str": "5",
            "text": "a &amp; b &lt;3 https://t.co/AAAA https://t.co/AAAAB",
            "entities": {
                "urls": [
                    {"url": "https://t.co/AAAA", "expanded_url": "https://example.com/1"},
                    {"url": "https://t.co/AAAAB", "expanded_url": "https://example.com/2"},
                ]
            },
            "in_reply_to_status_id_str": "4",
            "in_reply_to_screen_name": "jack",
            "edit_control": {
                "initial_tweet_id": "3",
                "edit_control_initial": {
                    "edit_tweet_ids": ["3", "5"],
                    "editable_until_msecs": "1690387580500",
                    "edits_remaining": "4",
                },
            },
            "mediaDetails": [
                {
                    "type": "animated_gif",
                    "media_url_https": "https://pbs.twimg.com/tweet_video_thumb/Fz.jpg",
                    "video_info": {
                        "variants": [
                            {"bitrate": 0, "content_type": "video/mp4", "url": "https://video.twimg.com/tweet_video/Fz.mp4"}
                        ]
                    },
                },
                {
                    "type": "video",
                    "video_info": {
                        "variants": [
                            {"content_type": "video/mp4", "url": "https://video.twimg.com/ext_tw_video/1/pu/vid/320x180/a.mp4"},
                            {"content_type": "video/mp4", "url": "https://video.twimg.com/ext_tw_video/1/pu/vid/1280x720/b.mp4"},
                            {
                                "content_type": "application/x-mpegURL",
                                "url": "https://video.twimg.com/ext_tw_video/1/pu/pl/c.m3u8",
                            },
                        ]
                    },
                },
            ],
        }
    ).encode()
    r = classify(200, body)
    assert r.text == "a & b <3 https://example.com/1 https://example.com/2"
    assert r.in_reply_to.status_id == "4" and r.in_reply_to.screen_name == "jack"
    assert r.edit_control.initial_tweet_id == "3"
    assert r.edit_control.edit_tweet_ids == ("3", "5")
    assert r.edit_control.editable_until == "2023-07-26T16:06:20.500Z"
    gif, video = r.media
    assert gif.type == "animated_gif" and gif.url == "https://video.twimg.com/tweet_video/Fz.mp4"
    assert video.url.endswith("/1280x720/b.mp4")
