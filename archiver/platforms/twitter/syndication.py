"""Pure parsing of cdn.syndication.twimg.com/tweet-result responses (no HTTP, no database)."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.fetch.jsonbody import load_json, one_line, snippet
from archiver.platforms.twitter.token import syndication_token
from archiver.platforms.twitter.tweet import (
    Card,
    EditControl,
    Entities,
    Hashtag,
    InReplyTo,
    Link,
    Media,
    Mention,
    SyndicationResult,
    User,
    VideoVariant,
)
from archiver.platforms.twitter.urls import pic_code
from archiver.platforms.twitter.values import (
    as_bool,
    as_indices,
    as_int,
    as_list,
    as_str,
    dig,
    iso_from_millis,
    iso_from_twitter,
)

DEFAULT_BASE = "https://cdn.syndication.twimg.com"

OUTCOMES = ("archived", "unavailable", "not_found", "error")

_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.|m\.)?(?:twitter|x)\.com/"
    r"(?:i/web/|i/|(?P<handle>[A-Za-z0-9_]{1,15})/)status(?:es)?/(?P<id>[0-9]{1,25})"
    r"(?:/(?:photo|video)/[0-9]+)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PHOTO_URL = re.compile(r"^https?://pbs\.twimg\.com/media/([A-Za-z0-9_-]+)\.([A-Za-z0-9]+)(?:[?#].*)?$")
_VIDEO_THUMB_ID = re.compile(r"/(?:amplify_video_thumb|ext_tw_video_thumb|tweet_video_thumb)/([0-9]+)/")
_RESOLUTION = re.compile(r"/([0-9]{2,5})x([0-9]{2,5})/")


def build_url(base: str | None, tweet_id: str | int, lang: str = "en") -> str:
    """The tweet-result URL for one tweet (base None -> DEFAULT_BASE), with the token public clients send."""
    query = urlencode({"id": str(tweet_id).strip(), "lang": lang, "token": syndication_token(tweet_id)})
    return f"{(base or DEFAULT_BASE).rstrip('/')}/tweet-result?{query}"


def classify(status_code: int, body: bytes | str | None) -> SyndicationResult:
    """Turn one tweet-result HTTP response into a SyndicationResult; never raises."""
    try:
        return _classify(status_code, body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a crash in the daemon
        return _error(status_code, f"could not parse tweet-result: {type(exc).__name__}: {exc}")


def status_from_media_url(expanded_url: str | None) -> tuple[str | None, str] | None:
    """(handle, tweet id) from twitter.com/x.com/HANDLE/status/ID[/photo/N|/video/N]; handle None for /i/."""
    if not isinstance(expanded_url, str):
        return None
    m = _STATUS_URL.match(expanded_url.strip())
    if not m:
        return None
    return m.group("handle"), m.group("id")


def media_for_pic_link(result: SyndicationResult, pic_link: str) -> tuple[Media, ...]:
    """The media shown by a pic.twitter.com/CODE link: all items sharing that link, in order."""
    code = pic_code(pic_link)
    if not code or result is None:
        return ()
    # t.co codes are case-sensitive; pic.twitter.com and pic.x.com share them. Since 2024 pic.x.com links
    # are written in lower case, so a code in lower case that matches nothing exactly is compared without
    # case (a code with capitals is what t.co gave: another case is another link).
    exact = tuple(m for m in result.media if m.pic_code == code)
    if exact or code != code.lower():
        return exact
    return tuple(m for m in result.media if (m.pic_code or "").lower() == code)


def _classify(status_code: int, body: bytes | str | None) -> SyndicationResult:
    if status_code == 404:
        return SyndicationResult(outcome="not_found", status_code=status_code)
    if not isinstance(status_code, int) or not 200 <= status_code < 300:
        return _error(status_code, f"HTTP {status_code}{snippet(body)}")
    data, problem = load_json(body, show_start=True)
    if problem:
        return _error(status_code, problem)
    # react-tweet's API route wraps the tweet as {"data": tweet}.
    if isinstance(data, dict) and set(data) == {"data"} and isinstance(data["data"], (dict, type(None))):
        data = data["data"] or {}
    if not isinstance(data, dict):
        return _error(status_code, f"expected a JSON object, got {type(data).__name__}")
    if not data:
        return SyndicationResult(outcome="not_found", status_code=status_code)
    typename = data.get("__typename")
    if typename == "Tweet":
        return _tweet(data, status_code, depth=0)
    if typename == "TweetTombstone":
        return _tombstone(data, status_code)
    return _error(status_code, f"unexpected __typename {typename!r}" if typename else "no __typename in response")


def _tombstone(data: dict, status_code: int | None) -> SyndicationResult:
    # Deleted, suspended, protected and logged-out-hidden tweets all look alike here: never say "deleted".
    text = dig(data, "tombstone", "text", "text")
    return SyndicationResult(
        outcome="unavailable",
        status_code=status_code,
        typename="TweetTombstone",
        reason=text if isinstance(text, str) and text.strip() else None,
    )


def _tweet(data: dict, status_code: int | None, depth: int) -> SyndicationResult:
    raw_text = as_str(data.get("full_text")) or as_str(data.get("text"))
    entities = _entities(data.get("entities"))
    media = _media(data, entities)
    quoted = parent = None
    if depth == 0:
        quoted = _nested(data.get("quoted_tweet"))
        parent = _nested(data.get("parent"))
    reply = InReplyTo(
        status_id=as_str(data.get("in_reply_to_status_id_str")),
        screen_name=as_str(data.get("in_reply_to_screen_name")),
        user_id=as_str(data.get("in_reply_to_user_id_str")),
    )
    return SyndicationResult(
        outcome="archived",
        status_code=status_code,
        typename=as_str(data.get("__typename")) or "Tweet",
        tweet_id=as_str(data.get("id_str")) or as_str(data.get("id")),
        text=_expand_text(raw_text, entities) if raw_text is not None else None,
        raw_text=raw_text,
        display_text_range=tuple(i for i in as_list(data.get("display_text_range")) if isinstance(i, int)),
        created_at=iso_from_twitter(data.get("created_at")),
        lang=as_str(data.get("lang")),
        user=_user(data.get("user")),
        entities=entities,
        media=media,
        quoted_tweet=quoted,
        parent=parent,
        edit_control=_edit_control(data.get("edit_control")),
        in_reply_to=reply if (reply.status_id or reply.screen_name) else None,
        card=_card(data.get("card"), entities),
        favorite_count=as_int(data.get("favorite_count")),
        reply_count=as_int(data.get("reply_count")),
        retweet_count=as_int(data.get("retweet_count")),
        quote_count=as_int(data.get("quote_count")),
        conversation_count=as_int(data.get("conversation_count")),
        possibly_sensitive=as_bool(data.get("possibly_sensitive")),
        is_edited=as_bool(data.get("isEdited")),
        is_stale_edit=as_bool(data.get("isStaleEdit")),
        note_tweet_id=as_str(dig(data, "note_tweet", "id")),
        self_thread_id=as_str(dig(data, "self_thread", "id_str")),
    )


def _nested(data: Any) -> SyndicationResult | None:
    if not isinstance(data, dict) or not data:
        return None
    if data.get("__typename") == "TweetTombstone":
        return _tombstone(data, None)
    # Quoted tweets and parents come without __typename.
    return _tweet(data, None, depth=1)


def _user(data: Any) -> User | None:
    if not isinstance(data, dict):
        return None
    image = as_str(data.get("profile_image_url_https"))
    label = data.get("highlighted_label") if isinstance(data.get("highlighted_label"), dict) else {}
    return User(
        id=as_str(data.get("id_str")) or as_str(data.get("id")),
        screen_name=as_str(data.get("screen_name")),
        name=as_str(data.get("name")),
        verified=bool(data.get("verified")),
        is_blue_verified=bool(data.get("is_blue_verified")),
        verified_type=as_str(data.get("verified_type")),
        profile_image_url=image,
        profile_image_original=re.sub(r"_(?:normal|bigger|mini|x96|200x200|400x400)(\.[A-Za-z0-9]+)$", r"\1", image)
        if image
        else None,
        profile_image_shape=as_str(data.get("profile_image_shape")),
        affiliation=as_str(label.get("description")),
        affiliation_url=as_str(dig(label, "url", "url")),
    )


def _entities(data: Any) -> Entities:
    if not isinstance(data, dict):
        return Entities()
    return Entities(
        urls=tuple(link for link in map(_link, as_list(data.get("urls"))) if link),
        mentions=tuple(
            Mention(
                screen_name=e["screen_name"],
                id=as_str(e.get("id_str")),
                name=as_str(e.get("name")),
                indices=as_indices(e),
            )
            for e in as_list(data.get("user_mentions"))
            if isinstance(e, dict) and isinstance(e.get("screen_name"), str)
        ),
        hashtags=tuple(
            Hashtag(text=e["text"], indices=as_indices(e))
            for e in as_list(data.get("hashtags"))
            if isinstance(e, dict) and isinstance(e.get("text"), str)
        ),
        symbols=tuple(
            Hashtag(text=e["text"], indices=as_indices(e), kind="symbol")
            for e in as_list(data.get("symbols"))
            if isinstance(e, dict) and isinstance(e.get("text"), str)
        ),
        media_links=tuple(link for link in map(_link, as_list(data.get("media"))) if link),
    )


def _link(e: Any) -> Link | None:
    if not isinstance(e, dict) or not isinstance(e.get("url"), str):
        return None
    return Link(
        url=e["url"],
        expanded_url=as_str(e.get("expanded_url")),
        display_url=as_str(e.get("display_url")),
        indices=as_indices(e),
    )


def _media(data: dict, entities: Entities) -> tuple[Media, ...]:
    details = [d for d in as_list(data.get("mediaDetails")) if isinstance(d, dict)]
    if details:
        return tuple(_media_item(d) for d in details)
    return _media_fallback(data, entities)


def _media_item(d: dict) -> Media:
    kind = as_str(d.get("type")) or "photo"
    preview = as_str(d.get("media_url_https")) or as_str(d.get("media_url"))
    expanded = as_str(d.get("expanded_url"))
    source = status_from_media_url(expanded)
    width = as_int(dig(d, "original_info", "width"))
    height = as_int(dig(d, "original_info", "height"))
    variants = tuple(
        VideoVariant(url=v["url"], content_type=as_str(v.get("content_type")), bitrate=as_int(v.get("bitrate")))
        for v in as_list(dig(d, "video_info", "variants"))
        if isinstance(v, dict) and isinstance(v.get("url"), str)
    )
    best = _best_mp4(variants)
    if kind == "photo":
        url = photo_orig_url(preview)
    else:
        url = best.url if best else None
    media_id = as_str(d.get("id_str"))
    if not media_id and preview:
        m = _VIDEO_THUMB_ID.search(preview)
        media_id = m.group(1) if m else None
    return Media(
        type=kind,
        url=url,
        preview_url=preview,
        expanded_url=expanded,
        display_url=as_str(d.get("display_url")),
        tco_url=as_str(d.get("url")),
        media_key=as_str(d.get("media_key")),
        media_id=media_id,
        source_handle=source[0] if source else None,
        source_tweet_id=source[1] if source else None,
        width=width,
        height=height,
        duration_ms=as_int(dig(d, "video_info", "duration_millis")),
        bitrate=best.bitrate if best and kind != "photo" else None,
        content_type=best.content_type if best and kind != "photo" else None,
        variants=variants,
        alt_text=as_str(d.get("ext_alt_text")),
        availability=as_str(dig(d, "ext_media_availability", "status")),
        view_count=as_int(dig(d, "ext_media_stats", "view_count")),
    )


def _media_fallback(data: dict, entities: Entities) -> tuple[Media, ...]:
    # Some responses carry only the simplified `photos` / `video` objects.
    link = entities.media_links[0] if entities.media_links else None
    common = dict(
        display_url=link.display_url if link else None,
        tco_url=link.url if link else None,
    )
    items: list[Media] = []
    for p in as_list(data.get("photos")):
        if not isinstance(p, dict) or not isinstance(p.get("url"), str):
            continue
        expanded = as_str(p.get("expandedUrl")) or (link.expanded_url if link else None)
        source = status_from_media_url(expanded)
        items.append(
            Media(
                type="photo",
                url=photo_orig_url(p["url"]),
                preview_url=p["url"],
                expanded_url=expanded,
                source_handle=source[0] if source else None,
                source_tweet_id=source[1] if source else None,
                width=as_int(p.get("width")),
                height=as_int(p.get("height")),
                alt_text=as_str(p.get("accessibilityLabel")),
                **common,
            )
        )
    video = data.get("video")
    if isinstance(video, dict):
        variants = tuple(
            VideoVariant(url=v["src"], content_type=as_str(v.get("type")), bitrate=None)
            for v in as_list(video.get("variants"))
            if isinstance(v, dict) and isinstance(v.get("src"), str)
        )
        best = _largest_mp4(variants)
        expanded = link.expanded_url if link else None
        source = status_from_media_url(expanded)
        items.append(
            Media(
                type="animated_gif" if video.get("contentType") == "gif" else "video",
                url=best.url if best else None,
                preview_url=as_str(video.get("poster")),
                expanded_url=expanded,
                source_handle=source[0] if source else None,
                source_tweet_id=source[1] if source else None,
                duration_ms=as_int(video.get("durationMs")),
                content_type=best.content_type if best else None,
                variants=variants,
                view_count=as_int(video.get("viewCount")),
                **common,
            )
        )
    return tuple(items)


def photo_orig_url(media_url: str | None) -> str | None:
    """pbs.twimg.com/media/NAME.EXT -> pbs.twimg.com/media/NAME?format=EXT&name=orig (largest stored)."""
    if not media_url:
        return None
    m = _PHOTO_URL.match(media_url)
    if not m:
        return media_url
    return f"https://pbs.twimg.com/media/{m.group(1)}?format={m.group(2).lower()}&name=orig"


def _best_mp4(variants: tuple[VideoVariant, ...]) -> VideoVariant | None:
    mp4 = [v for v in variants if (v.content_type or "").lower() == "video/mp4"]
    if not mp4:
        return None
    if all(v.bitrate is None for v in mp4):
        return _largest_mp4(variants)
    return max(mp4, key=lambda v: v.bitrate if v.bitrate is not None else -1)


def _largest_mp4(variants: tuple[VideoVariant, ...]) -> VideoVariant | None:
    # Without bitrates, the WxH in the path is the only quality signal.
    mp4 = [v for v in variants if (v.content_type or "").lower() == "video/mp4"]
    if not mp4:
        return None

    def area(v: VideoVariant) -> int:
        m = _RESOLUTION.search(urlsplit(v.url).path)
        return int(m.group(1)) * int(m.group(2)) if m else -1

    return max(mp4, key=area)


def _expand_text(raw: str, entities: Entities) -> str:
    text = raw
    for link in entities.urls:
        if link.expanded_url:
            text = re.sub(re.escape(link.url) + r"(?![A-Za-z0-9])", lambda _m, u=link.expanded_url: u, text)
    for link in entities.media_links:
        if link.display_url:
            text = re.sub(re.escape(link.url) + r"(?![A-Za-z0-9])", lambda _m, u=link.display_url: u, text)
    # The API escapes only these three in text; html.unescape would also eat literal "&copy" etc.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _edit_control(data: Any) -> EditControl | None:
    if not isinstance(data, dict):
        return None
    initial = as_str(data.get("initial_tweet_id"))
    # Edits carry their history under edit_control_initial; the original carries it inline.
    inner = data.get("edit_control_initial") if isinstance(data.get("edit_control_initial"), dict) else data
    ids = tuple(str(i) for i in as_list(inner.get("edit_tweet_ids")) if isinstance(i, (str, int)))
    until = as_int(inner.get("editable_until_msecs"))
    return EditControl(
        edit_tweet_ids=ids,
        initial_tweet_id=initial,
        editable_until=iso_from_millis(until),
        is_edit_eligible=as_bool(inner.get("is_edit_eligible")),
        edits_remaining=as_int(inner.get("edits_remaining")),
    )


def _card(data: Any, entities: Entities) -> Card | None:
    if not isinstance(data, dict):
        return None
    values = data.get("binding_values") if isinstance(data.get("binding_values"), dict) else {}

    def string(key: str) -> str | None:
        return as_str(dig(values, key, "string_value"))

    def image(*keys: str) -> str | None:
        for key in keys:
            url = as_str(dig(values, key, "image_value", "url"))
            if url:
                return url
        return None

    url = as_str(data.get("url")) or string("card_url")
    expanded = next((link.expanded_url for link in entities.urls if link.url == url), None)
    return Card(
        name=as_str(data.get("name")),
        url=url,
        expanded_url=expanded,
        title=string("title"),
        description=string("description"),
        domain=string("domain") or string("vanity_url"),
        image_url=image(
            "photo_image_full_size_original",
            "summary_photo_image_original",
            "thumbnail_image_original",
            "player_image_original",
            "photo_image_full_size_large",
            "summary_photo_image_large",
            "thumbnail_image_large",
            "player_image_large",
            "thumbnail_image",
            "player_image",
        ),
    )


def _error(status_code: Any, message: str) -> SyndicationResult:
    return SyndicationResult(
        outcome="error", status_code=status_code if isinstance(status_code, int) else None, error=one_line(message)
    )
