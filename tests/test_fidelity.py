"""Issue 10, fidelity (items 15-19): server-side tweet cards, lazy Instagram placeholders, lowercased
pic.x.com codes, canonical URLs that keep what identifies a post. Every page here is written by hand
(no copy of a real page), each with traps that must not match."""
from __future__ import annotations

import pytest

from archiver.detect.scan import detect_html
from archiver.platforms import load_platforms, platform_module
from archiver.platforms.twitter.syndication import classify, media_for_pic_link
from archiver.platforms.twitter.resolve import resolve_tweet_id
from tests.test_resolve import cdx_json, ends, get, serve_tweet, snowflake, tweet  # noqa: F401
from tests.upstream import upstream  # noqa: F401


def found(page: str, platform: str | None = None) -> list:
    return [e for e in detect_html(page) if platform is None or e.platform == platform]


# --------------------------------------------------------------------------- 15. server-side tweet cards

AVATAR = '<img class="{cls}" src="/img/avatars/{h}.jpg" alt="">'

# Three sites' own card markup, each named differently; none uses Twitter's blockquote or widgets.js.
CARDS = f"""<!doctype html><html><body><main><article class="story">
<p>The minister answered within the hour.</p>
<div class="tweet-card" data-component="social">
  <div class="tweet-card__header">{AVATAR.format(cls='tweet-card__avatar', h='minister')}
    <span class="tweet-card__name">Jane Minister</span>
    <a class="tweet-card__handle" href="https://twitter.com/JaneMinister">@JaneMinister</a></div>
  <div class="tweet-card__body"><p>We will publish the full report on Monday. No delays, no redactions.</p></div>
  <div class="tweet-card__footer"><a href="https://twitter.com/JaneMinister/status/1600000000000000001">
    <time datetime="2022-12-06T09:15:00Z">9:15 AM · Dec 6, 2022</time></a>
    <a href="https://twitter.com/intent/like?tweet_id=1600000000000000001">Like</a></div>
</div>
<p>Critics were not convinced.</p>
<article class="EmbeddedTweet">
  <header><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/av/critic.png" class="avatar">
    <strong>A. Critic</strong> <span>@acritic</span></header>
  <div class="EmbeddedTweet-text">Monday? They said the same in <a href="https://twitter.com/JaneMinister/status/1500000000000000009">March</a>.
    Believe it when we see it.</div>
  <a class="EmbeddedTweet-date" href="https://x.com/acritic/status/1600000000000000002">December 6, 2022</a>
</article>
<figure class="c-social c-tweet">
  <div><img src="/a/party.jpg" alt="Party avatar"> Party Press Office <a href="https://x.com/partypress">@PartyPress</a></div>
  <blockquote class="c-tweet__content">Statement on today's announcement: a thread.</blockquote>
  <a href="https://x.com/PartyPress/status/1600000000000000003?s=20">
    <time datetime="2022-12-07">7 Dec 2022</time></a>
</figure>
<p>As <a href="https://twitter.com/someone/status/1600000000000000004">she tweeted</a> on Tuesday, the
  story is not over; <a href="https://twitter.com/someone">@someone</a> has more.</p>
<div class="share-tweet"><a href="https://twitter.com/intent/tweet?url=https://example.org/story">Tweet this</a></div>
</article></main>
<aside class="sidebar"><div class="widget latest-tweets">
  <div class="tweet"><a href="https://twitter.com/examplenews">Example News <span>@examplenews</span></a>
    <a href="https://twitter.com/examplenews/status/1600000000000000005">6 Dec</a>
    <div class="tweet-content">Read our coverage of the report.</div></div>
</div></aside>
<footer><ul class="tweet-feed"><li class="tweet"><img src="/logo.png">
  <a href="https://twitter.com/examplenews">@examplenews</a>
  <a href="https://twitter.com/examplenews/status/1600000000000000006">5 Dec</a>
  <div class="tweet-text">Yesterday's front page.</div></li></ul></footer>
</body></html>"""


def test_server_side_tweet_cards_are_embeds():
    embeds = {e.post_id: e for e in found(CARDS, "twitter")}
    assert set(embeds) == {"1600000000000000001", "1600000000000000002", "1600000000000000003"}
    first, second, third = (embeds[f"160000000000000000{n}"] for n in (1, 2, 3))
    assert (first.handle, first.date, first.author_name) == ("JaneMinister", "2022-12-06", "Jane Minister")
    assert first.text == "We will publish the full report on Monday. No delays, no redactions."
    assert first.url == "https://twitter.com/JaneMinister/status/1600000000000000001"
    # The card's own status is the one its date links to, not a status its text links to.
    assert (second.handle, second.date) == ("acritic", "2022-12-06")
    assert second.text.startswith("Monday? They said the same in March.")
    assert (third.handle, third.date, third.text) == (
        "PartyPress", "2022-12-07", "Statement on today's announcement: a thread.")
    assert {e.markup.split("[")[0] for e in embeds.values()} >= {"div.tweet-card", "article.embeddedtweet"}


# --------------------------------------------------------------------------- 16. lazy Instagram placeholders

PLACEHOLDERS = """<!doctype html><html><body><article>
<blockquote class="ig-lazy instagram" data-loaded="false">
  <a href="https://www.instagram.com/p/CxAbCdEfGh1/?utm_source=ig_embed"><img src="/img/ig-placeholder.svg" alt="Instagram"></a>
</blockquote>
<div class="social-instagram lazyload"><a href="https://instagram.com/reel/CyReel12345/"><img src="/ph.png"></a></div>
<div class="instagram-post"><a href="https://www.instagram.com/tv/CzTv1234567">View this post on Instagram</a>
  <img src="/ph.png" alt=""></div>
<div class="instagram-feed"><a href="https://www.instagram.com/p/FeedItem001/"><img src="/f1.jpg"></a>
  <a href="https://www.instagram.com/p/FeedItem002/"><img src="/f2.jpg"></a></div>
<div class="instagram-follow"><a href="https://www.instagram.com/examplenews/"><img src="/ig.svg"> Follow us</a></div>
<div class="instagram-note"><p>The singer announced the tour in <a href="https://www.instagram.com/p/ProseLink01/">an
  Instagram post</a> on Friday, and tickets sold out within the hour, her agent said on Saturday.</p></div>
</article>
<div class="instagram-block"><div class="gallery-slideshow"><a href="https://www.instagram.com/p/GalleryOne1/"><img
  src="/g.jpg"></a></div></div>
<aside><div class="instagram-latest"><a href="https://www.instagram.com/p/AsideItem01/"><img src="/a.jpg"></a></div></aside>
</body></html>"""


def test_lazy_instagram_placeholders_are_embeds():
    embeds = {e.post_id: e for e in found(PLACEHOLDERS, "instagram")}
    assert set(embeds) == {"CxAbCdEfGh1", "CyReel12345", "CzTv1234567"}
    assert embeds["CyReel12345"].url == "https://www.instagram.com/reel/CyReel12345/"
    assert embeds["CzTv1234567"].url == "https://www.instagram.com/tv/CzTv1234567/"
    assert embeds["CxAbCdEfGh1"].markup.startswith("blockquote.ig-lazy.instagram")


# --------------------------------------------------------------------------- 17. lowercased pic.x.com codes

LOWER_DAY = "2024-06-11"


def _media_result(code: str):
    body = {"__typename": "Tweet", "id_str": "1800000000000000000", "text": f"Look https://t.co/{code}",
            "created_at": "2024-06-11T10:00:00.000Z", "user": {"screen_name": "someone", "name": "S"},
            "mediaDetails": [{"type": "photo", "media_url_https": "https://pbs.twimg.com/media/AAA.jpg",
                              "display_url": f"pic.x.com/{code}", "url": f"https://t.co/{code}",
                              "expanded_url": "https://x.com/someone/status/1800000000000000000/photo/1"}]}
    import json
    return classify(200, json.dumps(body).encode())


def test_lowercased_pic_code_matches_its_media():
    result = _media_result("B2nhkd9yWc")
    assert [m.url for m in media_for_pic_link(result, "pic.x.com/b2nhkd9ywc")] == [result.media[0].url]
    assert media_for_pic_link(result, "pic.x.com/B2nhkd9yWc")  # the exact code still matches
    assert media_for_pic_link(result, "pic.x.com/c2nhkd9ywc") == ()  # another code does not
    assert media_for_pic_link(result, "pic.x.com/B2NHKD9YWC") == ()  # capitals are what t.co gave


def test_lowercased_pic_code_falls_back_to_the_handle_date_text_search(upstream, get):
    text = "Polls close at 8. Queue times are short this year pic.x.com/b2nhkd9ywc"
    real = snowflake(f"{LOWER_DAY}T15:00:00Z")
    stranger = snowflake(f"{LOWER_DAY}T09:00:00Z", seq=7)
    # t.co/b2nhkd9ywc (the lowercased code) is another link altogether: a status of the same author on
    # the same day, with other text. Taking it on the handle alone would link the wrong tweet.
    upstream.tco("b2nhkd9ywc", handle="CountyClerk", tweet_id=stranger)
    serve_tweet(upstream, tweet(stranger, "CountyClerk", f"{LOWER_DAY}T09:00:00.000Z", "Office closed for lunch"))
    serve_tweet(upstream, tweet(real, "CountyClerk", f"{LOWER_DAY}T15:00:00.000Z",
                                "Polls close at 8. Queue times are short this year https://t.co/B2nhkd9yWc"))
    upstream.json("/cdx/search/cdx", cdx_json("CountyClerk", [stranger, real]),
                  query={"url": "twitter.com/CountyClerk/status/"})
    res = resolve_tweet_id(get, ends(upstream), handle="CountyClerk", date=LOWER_DAY, text=text,
                           pic_links=("pic.x.com/b2nhkd9ywc",))
    assert (res.post_id, res.method) == (real, "wayback-cdx")
    assert any(c["id"] == stranger and not c["accepted"] for c in res.candidates)


def test_lowercased_pic_code_404_is_not_the_end(upstream, get):
    real = snowflake(f"{LOWER_DAY}T15:00:00Z")
    upstream.route("/b2nhkd9ywc", "not found", status=404)
    serve_tweet(upstream, tweet(real, "CountyClerk", f"{LOWER_DAY}T15:00:00.000Z",
                                "Polls close at 8. Queue times are short this year https://t.co/B2nhkd9yWc"))
    upstream.json("/cdx/search/cdx", cdx_json("CountyClerk", [real]), query={"url": "twitter.com/CountyClerk/status/"})
    res = resolve_tweet_id(get, ends(upstream), handle="CountyClerk", date=LOWER_DAY,
                           text="Polls close at 8. Queue times are short this year pic.x.com/b2nhkd9ywc",
                           pic_links=("pic.x.com/b2nhkd9ywc",))
    assert (res.post_id, res.method) == (real, "wayback-cdx")
    assert "lowercased" in res.detail or "lower case" in res.detail
    # Without a match elsewhere, the same 404 leaves the post unresolved and worth trying again.
    upstream.json("/cdx/search/cdx", [], query={"url": "twitter.com/Nobody/status/"})
    res = resolve_tweet_id(get, ends(upstream), handle="Nobody", date=LOWER_DAY, text="Nothing here at all",
                           pic_links=("pic.x.com/b2nhkd9ywc",))
    assert res.post_id is None and "lower case" in res.detail and res.retryable


# --------------------------------------------------------------------------- 18. canonical URLs

TRACKING = ("utm_source=ig_web_copy_link&utm_medium=social&fbclid=IwAR0abc&ref=share&igshid=MzRlODBi&s=20"
            "&t=AbCdEf&si=XyZ123&feature=share&mibextid=Nif5oz&__tn__=%2CO&__cft__[0]=AZX&is_from_webapp=1"
            "&sender_device=pc&_r=1&rdid=r1&share_url=x")

# Every URL form the detectors accept, per platform, with its canonical URL; tracking is added to each.
FORMS = {
    "twitter": [("https://twitter.com/Jack/status/20", "https://twitter.com/Jack/status/20"),
                ("https://x.com/jack/status/20/photo/1", "https://twitter.com/jack/status/20"),
                ("https://mobile.twitter.com/jack/status/21", "https://twitter.com/jack/status/21"),
                ("https://twitter.com/i/web/status/22", "https://twitter.com/i/web/status/22")],
    "instagram": [("https://www.instagram.com/p/CaBcD12345/", "https://www.instagram.com/p/CaBcD12345/"),
                  ("https://instagram.com/reel/CaBcD12346", "https://www.instagram.com/reel/CaBcD12346/"),
                  ("https://www.instagram.com/tv/CaBcD12347/", "https://www.instagram.com/tv/CaBcD12347/"),
                  ("https://www.instagram.com/someone/p/CaBcD12348/", "https://www.instagram.com/p/CaBcD12348/"),
                  ("https://instagr.am/p/CaBcD12349/", "https://www.instagram.com/p/CaBcD12349/")],
    "tiktok": [("https://www.tiktok.com/@scout2015/video/6718335390845095173",
                "https://www.tiktok.com/@scout2015/video/6718335390845095173"),
               ("https://www.tiktok.com/embed/v2/6718335390845095174",
                "https://www.tiktok.com/embed/v2/6718335390845095174")],
    "bluesky": [("https://bsky.app/profile/jay.bsky.team/post/3juflvhnkq42m",
                 "https://bsky.app/profile/jay.bsky.team/post/3juflvhnkq42m")],
    "mastodon": [("https://mastodon.social/@Gargron/109452145366633286",
                  "https://mastodon.social/@Gargron/109452145366633286"),
                 ("https://mastodon.social/users/Gargron/statuses/109452145366633287",
                  "https://mastodon.social/@Gargron/109452145366633287")],
    "threads": [("https://www.threads.net/@zuck/post/CuP48CiS5sx", "https://www.threads.com/@zuck/post/CuP48CiS5sx"),
                ("https://threads.net/t/CuP48CiS5sy", "https://www.threads.com/t/CuP48CiS5sy")],
    "youtube": [("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
                ("https://youtu.be/dQw4w9WgXcR", "https://www.youtube.com/watch?v=dQw4w9WgXcR"),
                ("https://www.youtube.com/shorts/dQw4w9WgXcS", "https://www.youtube.com/watch?v=dQw4w9WgXcS")],
    "facebook": [
        ("https://www.facebook.com/nasa/posts/10158911234567890", "https://www.facebook.com/nasa/posts/10158911234567890"),
        ("https://www.facebook.com/permalink.php?story_fbid=123&id=456",
         "https://www.facebook.com/permalink.php?story_fbid=123&id=456"),
        ("https://m.facebook.com/story.php?story_fbid=666&id=777", "https://www.facebook.com/story.php?story_fbid=666&id=777"),
        ("https://www.facebook.com/photo.php?fbid=789", "https://www.facebook.com/photo.php?fbid=789"),
        ("https://www.facebook.com/watch/?v=111", "https://www.facebook.com/watch/?v=111"),
        ("https://www.facebook.com/media/set/?set=a.222&type=3", "https://www.facebook.com/media/set/?set=a.222"),
        ("https://www.facebook.com/media/set/?set=a.223&type=1", "https://www.facebook.com/media/set/?set=a.223"),
        ("https://www.facebook.com/groups/abc/posts/333/", "https://www.facebook.com/groups/abc/posts/333/"),
        ("https://www.facebook.com/reel/444", "https://www.facebook.com/reel/444"),
    ],
}


@pytest.mark.parametrize("platform", sorted(FORMS))
def test_canonical_urls_keep_what_identifies_the_post_and_drop_tracking(platform):
    mod = platform_module(platform)
    canon = []
    for url, expected in FORMS[platform]:
        ref = mod.parse_url(url)
        assert ref is not None and ref.url == expected, url
        tracked = mod.parse_url(url + ("&" if "?" in url else "?") + TRACKING)
        assert tracked == ref, url
        canon.append(ref.url)
    assert len(set(canon)) == len(canon)  # distinct posts stay distinct


def test_facebook_album_and_unknown_shape_embeds_stay_distinct():
    page = "<html><body>" + "".join(
        f'<div class="fb-post" data-href="https://www.facebook.com/{path}"></div>' for path in (
            "media/set/?set=a.10150&type=3", "media/set/?set=a.10151&type=3&fbclid=IwAR9",
            "permalink.php?story_fbid=pfbid02abc&id=100064", "permalink.php?story_fbid=pfbid02abd&id=100064",
            "share/p/AbCdEf/?mibextid=Nif5oz", "share/p/AbCdEg/",
            "somepage/posts/pfbid0Zx9?__cft__[0]=AZX&__tn__=%2CO-R",
        )) + "</body></html>"
    urls = [e.url for e in found(page, "facebook")]
    assert urls == [
        "https://www.facebook.com/media/set/?set=a.10150", "https://www.facebook.com/media/set/?set=a.10151",
        "https://www.facebook.com/permalink.php?story_fbid=pfbid02abc&id=100064",
        "https://www.facebook.com/permalink.php?story_fbid=pfbid02abd&id=100064",
        "https://www.facebook.com/share/p/AbCdEf/", "https://www.facebook.com/share/p/AbCdEg/",
        "https://www.facebook.com/somepage/posts/pfbid0Zx9",
    ]


def test_every_platform_has_url_forms_here():
    assert {m.NAME for m in load_platforms()} == set(FORMS)
