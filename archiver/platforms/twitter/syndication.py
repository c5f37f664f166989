"""Pure parsing of cdn.syndication.twimg.com/tweet-result responses (no HTTP, no database)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.jsonbody import load_json, one_line, snippet
from archiver.platforms.twitter.token import syndication_token

DEFAULT_BASE = "https://cdn.syndication.twimg.com"

OUTCOMES = ("archived", "unavailable", "not_found", "error")

_STATUS_URL = re.compile(
    r"^https?://(?:www\.|mobile\.|m\.)?(?:twitter|x)\.com/"
    r"(?:i/web/|i/|(?P<handle>[A-Za-z0-9_]{1,15})/)status(?:es)?/(?P<id>[0-9]{1,25})"
    r"(?:/(?:photo|video)/[0-9]+)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PIC_LINK = re.compile(r"^(?:https?://)?(?:www\.)?pic\.(?:twitter|x)\.com/([A-Za-z0-9]+)/?$", re.IGNORECASE)
_PHOTO_URL = re.compile(r"^https?://pbs\.twimg\.com/media/([A-Za-z0-9_-]+)\.([A-Za-z0-9]+)(?:[?#].*)?$")
_VIDEO_THUMB_ID = re.compile(r"/(?:amplify_video_thumb|ext_tw_video_thumb|tweet_video_thumb)/([0-9]+)/")
_RESOLUTION = re.compile(r"/([0-9]{2,5})x([0-9]{2,5})/")


@dataclass(frozen=True)
class User:
    """The author of a tweet as the syndication endpoint shows it to logged-out readers."""

    id: str | None
    screen_name: str | None
    name: str | None
    verified: bool = False  # legacy (pre-2023) verification
    is_blue_verified: bool = False
    verified_type: str | None = None  # Business, Government, ... when present
    profile_image_url: str | None = None  # as given (usually the 48px "_normal" variant)
    profile_image_original: str | None = None  # same image without the size suffix
    profile_image_shape: str | None = None  # Circle, Square (organisations), Hexagon
    affiliation: str | None = None  # highlighted_label description, e.g. the employer's name
    affiliation_url: str | None = None


@dataclass(frozen=True)
class Link:
    """A t.co link in the text: what it points at and how it was displayed."""

    url: str  # the t.co URL as it appears in the raw text
    expanded_url: str | None
    display_url: str | None
    indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Mention:
    """An @mention in the text."""

    screen_name: str
    id: str | None = None
    name: str | None = None
    indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Hashtag:
    """A #hashtag (or, with kind="symbol", a $cashtag) in the text."""

    text: str
    indices: tuple[int, ...] = ()
    kind: str = "hashtag"


@dataclass(frozen=True)
class Entities:
    """The entities of a tweet's text."""

    urls: tuple[Link, ...] = ()
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    symbols: tuple[Hashtag, ...] = ()
    media_links: tuple[Link, ...] = ()  # the pic.twitter.com/pic.x.com link(s) of the media


@dataclass(frozen=True)
class VideoVariant:
    """One encoding of a video."""

    url: str
    content_type: str | None
    bitrate: int | None


@dataclass(frozen=True)
class Media:
    """One photo, video or GIF attached to (or shown by) a tweet."""

    type: str  # photo | video | animated_gif
    url: str | None  # best-quality download: photo at name=orig, or the highest-bitrate mp4
    preview_url: str | None  # media_url_https: the photo itself or the video's poster frame
    expanded_url: str | None  # twitter.com/HANDLE/status/ID/photo/1 - ID may be ANOTHER tweet
    display_url: str | None  # pic.twitter.com/CODE or pic.x.com/CODE
    tco_url: str | None  # https://t.co/CODE as in the raw text
    media_key: str | None = None
    media_id: str | None = None  # id_str, or the id in a video poster URL
    source_handle: str | None = None  # from expanded_url: whose tweet the media was uploaded to
    source_tweet_id: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    bitrate: int | None = None  # of `url`, for videos
    content_type: str | None = None  # of `url`, for videos
    variants: tuple[VideoVariant, ...] = ()
    alt_text: str | None = None
    availability: str | None = None  # ext_media_availability.status, e.g. Available
    view_count: int | None = None

    @property
    def pic_code(self) -> str | None:
        """The CODE of pic.twitter.com/CODE."""
        return pic_code(self.display_url or "")


@dataclass(frozen=True)
class EditControl:
    """Edit history pointers of a tweet."""

    edit_tweet_ids: tuple[str, ...] = ()
    initial_tweet_id: str | None = None  # set when this tweet is an edit of an earlier one
    editable_until: str | None = None  # ISO-8601 UTC
    is_edit_eligible: bool | None = None
    edits_remaining: int | None = None


@dataclass(frozen=True)
class InReplyTo:
    """The tweet this one answers."""

    status_id: str | None
    screen_name: str | None
    user_id: str | None


@dataclass(frozen=True)
class Card:
    """A link preview card, summarised."""

    name: str | None  # summary, summary_large_image, player, ...
    url: str | None  # usually the t.co URL
    expanded_url: str | None  # url resolved through the tweet's own url entities
    title: str | None = None
    description: str | None = None
    domain: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class SyndicationResult:
    """What one tweet-result response says: an archived tweet, a tombstone, nothing, or an error."""

    outcome: str  # archived | unavailable | not_found | error
    status_code: int | None = None
    error: str | None = None  # one line, for outcome == "error"
    reason: str | None = None  # tombstone text, for outcome == "unavailable"
    typename: str | None = None
    tweet_id: str | None = None
    text: str | None = None  # t.co links expanded, media links as pic.twitter.com/CODE, HTML unescaped
    raw_text: str | None = None  # exactly as returned
    display_text_range: tuple[int, ...] = ()
    created_at: str | None = None  # ISO-8601 UTC
    lang: str | None = None
    user: User | None = None
    entities: Entities | None = None
    media: tuple[Media, ...] = ()
    quoted_tweet: SyndicationResult | None = None  # one level deep
    parent: SyndicationResult | None = None  # the tweet replied to, when included (one level)
    edit_control: EditControl | None = None
    in_reply_to: InReplyTo | None = None
    card: Card | None = None
    favorite_count: int | None = None
    reply_count: int | None = None
    retweet_count: int | None = None
    quote_count: int | None = None
    conversation_count: int | None = None
    possibly_sensitive: bool | None = None
    is_edited: bool | None = None
    is_stale_edit: bool | None = None
    note_tweet_id: str | None = None  # long post: `text` is only its first part
    self_thread_id: str | None = None

    @property
    def unavailable(self) -> bool:
        """True for a tombstone: deleted, suspended, protected or hidden from logged-out readers."""
        return self.outcome == "unavailable"


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


def pic_code(pic_link: str) -> str | None:
    """CODE from pic.twitter.com/CODE, pic.x.com/CODE (scheme optional), or a bare CODE."""
    if not isinstance(pic_link, str):
        return None
    link = pic_link.strip()
    m = _PIC_LINK.match(link)
    if m:
        return m.group(1)
    return link if re.fullmatch(r"[A-Za-z0-9]{4,}", link) else None


def media_for_pic_link(result: SyndicationResult, pic_link: str) -> tuple[Media, ...]:
    """The media shown by a pic.twitter.com/CODE link: all items sharing that link, in order."""
    code = pic_code(pic_link)
    if not code or result is None:
        return ()
    # t.co codes are case-sensitive; pic.twitter.com and pic.x.com share them.
    return tuple(m for m in result.media if m.pic_code == code)


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
    text = _get(data, "tombstone", "text", "text")
    return SyndicationResult(
        outcome="unavailable",
        status_code=status_code,
        typename="TweetTombstone",
        reason=text if isinstance(text, str) and text.strip() else None,
    )


def _tweet(data: dict, status_code: int | None, depth: int) -> SyndicationResult:
    raw_text = _str(data.get("full_text")) or _str(data.get("text"))
    entities = _entities(data.get("entities"))
    media = _media(data, entities)
    quoted = parent = None
    if depth == 0:
        quoted = _nested(data.get("quoted_tweet"))
        parent = _nested(data.get("parent"))
    reply = InReplyTo(
        status_id=_str(data.get("in_reply_to_status_id_str")),
        screen_name=_str(data.get("in_reply_to_screen_name")),
        user_id=_str(data.get("in_reply_to_user_id_str")),
    )
    return SyndicationResult(
        outcome="archived",
        status_code=status_code,
        typename=_str(data.get("__typename")) or "Tweet",
        tweet_id=_str(data.get("id_str")) or _str(data.get("id")),
        text=_expand_text(raw_text, entities) if raw_text is not None else None,
        raw_text=raw_text,
        display_text_range=tuple(i for i in _list(data.get("display_text_range")) if isinstance(i, int)),
        created_at=_iso_from_twitter(data.get("created_at")),
        lang=_str(data.get("lang")),
        user=_user(data.get("user")),
        entities=entities,
        media=media,
        quoted_tweet=quoted,
        parent=parent,
        edit_control=_edit_control(data.get("edit_control")),
        in_reply_to=reply if (reply.status_id or reply.screen_name) else None,
        card=_card(data.get("card"), entities),
        favorite_count=_int(data.get("favorite_count")),
        reply_count=_int(data.get("reply_count")),
        retweet_count=_int(data.get("retweet_count")),
        quote_count=_int(data.get("quote_count")),
        conversation_count=_int(data.get("conversation_count")),
        possibly_sensitive=_bool(data.get("possibly_sensitive")),
        is_edited=_bool(data.get("isEdited")),
        is_stale_edit=_bool(data.get("isStaleEdit")),
        note_tweet_id=_str(_get(data, "note_tweet", "id")),
        self_thread_id=_str(_get(data, "self_thread", "id_str")),
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
    image = _str(data.get("profile_image_url_https"))
    label = data.get("highlighted_label") if isinstance(data.get("highlighted_label"), dict) else {}
    return User(
        id=_str(data.get("id_str")) or _str(data.get("id")),
        screen_name=_str(data.get("screen_name")),
        name=_str(data.get("name")),
        verified=bool(data.get("verified")),
        is_blue_verified=bool(data.get("is_blue_verified")),
        verified_type=_str(data.get("verified_type")),
        profile_image_url=image,
        profile_image_original=re.sub(r"_(?:normal|bigger|mini|x96|200x200|400x400)(\.[A-Za-z0-9]+)$", r"\1", image)
        if image
        else None,
        profile_image_shape=_str(data.get("profile_image_shape")),
        affiliation=_str(label.get("description")),
        affiliation_url=_str(_get(label, "url", "url")),
    )


def _entities(data: Any) -> Entities:
    if not isinstance(data, dict):
        return Entities()
    return Entities(
        urls=tuple(link for link in map(_link, _list(data.get("urls"))) if link),
        mentions=tuple(
            Mention(
                screen_name=e["screen_name"],
                id=_str(e.get("id_str")),
                name=_str(e.get("name")),
                indices=_indices(e),
            )
            for e in _list(data.get("user_mentions"))
            if isinstance(e, dict) and isinstance(e.get("screen_name"), str)
        ),
        hashtags=tuple(
            Hashtag(text=e["text"], indices=_indices(e))
            for e in _list(data.get("hashtags"))
            if isinstance(e, dict) and isinstance(e.get("text"), str)
        ),
        symbols=tuple(
            Hashtag(text=e["text"], indices=_indices(e), kind="symbol")
            for e in _list(data.get("symbols"))
            if isinstance(e, dict) and isinstance(e.get("text"), str)
        ),
        media_links=tuple(link for link in map(_link, _list(data.get("media"))) if link),
    )


def _link(e: Any) -> Link | None:
    if not isinstance(e, dict) or not isinstance(e.get("url"), str):
        return None
    return Link(
        url=e["url"],
        expanded_url=_str(e.get("expanded_url")),
        display_url=_str(e.get("display_url")),
        indices=_indices(e),
    )


def _media(data: dict, entities: Entities) -> tuple[Media, ...]:
    details = [d for d in _list(data.get("mediaDetails")) if isinstance(d, dict)]
    if details:
        return tuple(_media_item(d) for d in details)
    return _media_fallback(data, entities)


def _media_item(d: dict) -> Media:
    kind = _str(d.get("type")) or "photo"
    preview = _str(d.get("media_url_https")) or _str(d.get("media_url"))
    expanded = _str(d.get("expanded_url"))
    source = status_from_media_url(expanded)
    width = _int(_get(d, "original_info", "width"))
    height = _int(_get(d, "original_info", "height"))
    variants = tuple(
        VideoVariant(url=v["url"], content_type=_str(v.get("content_type")), bitrate=_int(v.get("bitrate")))
        for v in _list(_get(d, "video_info", "variants"))
        if isinstance(v, dict) and isinstance(v.get("url"), str)
    )
    best = _best_mp4(variants)
    if kind == "photo":
        url = photo_orig_url(preview)
    else:
        url = best.url if best else None
    media_id = _str(d.get("id_str"))
    if not media_id and preview:
        m = _VIDEO_THUMB_ID.search(preview)
        media_id = m.group(1) if m else None
    return Media(
        type=kind,
        url=url,
        preview_url=preview,
        expanded_url=expanded,
        display_url=_str(d.get("display_url")),
        tco_url=_str(d.get("url")),
        media_key=_str(d.get("media_key")),
        media_id=media_id,
        source_handle=source[0] if source else None,
        source_tweet_id=source[1] if source else None,
        width=width,
        height=height,
        duration_ms=_int(_get(d, "video_info", "duration_millis")),
        bitrate=best.bitrate if best and kind != "photo" else None,
        content_type=best.content_type if best and kind != "photo" else None,
        variants=variants,
        alt_text=_str(d.get("ext_alt_text")),
        availability=_str(_get(d, "ext_media_availability", "status")),
        view_count=_int(_get(d, "ext_media_stats", "view_count")),
    )


def _media_fallback(data: dict, entities: Entities) -> tuple[Media, ...]:
    # Some responses carry only the simplified `photos` / `video` objects.
    link = entities.media_links[0] if entities.media_links else None
    common = dict(
        display_url=link.display_url if link else None,
        tco_url=link.url if link else None,
    )
    items: list[Media] = []
    for p in _list(data.get("photos")):
        if not isinstance(p, dict) or not isinstance(p.get("url"), str):
            continue
        expanded = _str(p.get("expandedUrl")) or (link.expanded_url if link else None)
        source = status_from_media_url(expanded)
        items.append(
            Media(
                type="photo",
                url=photo_orig_url(p["url"]),
                preview_url=p["url"],
                expanded_url=expanded,
                source_handle=source[0] if source else None,
                source_tweet_id=source[1] if source else None,
                width=_int(p.get("width")),
                height=_int(p.get("height")),
                alt_text=_str(p.get("accessibilityLabel")),
                **common,
            )
        )
    video = data.get("video")
    if isinstance(video, dict):
        variants = tuple(
            VideoVariant(url=v["src"], content_type=_str(v.get("type")), bitrate=None)
            for v in _list(video.get("variants"))
            if isinstance(v, dict) and isinstance(v.get("src"), str)
        )
        best = _largest_mp4(variants)
        expanded = link.expanded_url if link else None
        source = status_from_media_url(expanded)
        items.append(
            Media(
                type="animated_gif" if video.get("contentType") == "gif" else "video",
                url=best.url if best else None,
                preview_url=_str(video.get("poster")),
                expanded_url=expanded,
                source_handle=source[0] if source else None,
                source_tweet_id=source[1] if source else None,
                duration_ms=_int(video.get("durationMs")),
                content_type=best.content_type if best else None,
                variants=variants,
                view_count=_int(video.get("viewCount")),
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
    initial = _str(data.get("initial_tweet_id"))
    # Edits carry their history under edit_control_initial; the original carries it inline.
    inner = data.get("edit_control_initial") if isinstance(data.get("edit_control_initial"), dict) else data
    ids = tuple(str(i) for i in _list(inner.get("edit_tweet_ids")) if isinstance(i, (str, int)))
    until = _int(inner.get("editable_until_msecs"))
    return EditControl(
        edit_tweet_ids=ids,
        initial_tweet_id=initial,
        editable_until=_iso_from_millis(until),
        is_edit_eligible=_bool(inner.get("is_edit_eligible")),
        edits_remaining=_int(inner.get("edits_remaining")),
    )


def _card(data: Any, entities: Entities) -> Card | None:
    if not isinstance(data, dict):
        return None
    values = data.get("binding_values") if isinstance(data.get("binding_values"), dict) else {}

    def string(key: str) -> str | None:
        return _str(_get(values, key, "string_value"))

    def image(*keys: str) -> str | None:
        for key in keys:
            url = _str(_get(values, key, "image_value", "url"))
            if url:
                return url
        return None

    url = _str(data.get("url")) or string("card_url")
    expanded = next((link.expanded_url for link in entities.urls if link.url == url), None)
    return Card(
        name=_str(data.get("name")),
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


def _iso_from_twitter(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    for parse in (
        lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        lambda v: datetime.strptime(v, "%a %b %d %H:%M:%S %z %Y"),  # API v1.1 style
    ):
        try:
            dt = parse(value)
        except ValueError:
            continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return _iso(dt)
    return None


def _iso_from_millis(ms: int | None) -> str | None:
    if ms is None:
        return None
    try:
        return _iso(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None


def _iso(dt: datetime) -> str:
    dt = dt.astimezone(timezone.utc)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value: Any) -> list:
    # emusks' doc renders empty entity lists as {}; treat any non-list as empty.
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value != "" else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,20}\s*", value):
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _indices(e: dict) -> tuple[int, ...]:
    return tuple(i for i in _list(e.get("indices")) if isinstance(i, int) and not isinstance(i, bool))
