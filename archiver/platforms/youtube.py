"""YouTube: embedded videos (and playlists) in HTML, and video URLs.

Signatures:

- ``<iframe src="https://www.youtube.com/embed/ID">`` and ``youtube-nocookie.com/embed/ID``, whatever
  attribute holds the URL (``src``, ``data-src``, ``data-lazy-src``, consent tools' ``data-*-src``);
  ``embed/videoseries?list=LIST`` (and ``embed?list=LIST``) for a playlist;
- embed services' iframes naming the video in a parameter (``cdn.embedly.com/widgets/media.html?src=...``);
- the Flash-era ``<embed src="https://www.youtube.com/v/ID">`` / ``<object data=...>``;
- editors' oEmbed markup ``<oembed url="VIDEO_URL">`` (CKEditor 5);
- ``<lite-youtube videoid="ID">`` and ``<amp-youtube data-videoid="ID">``;
- lazy or consent-gated placeholders: any non-link element with a ``data-*`` attribute holding an
  embed URL (``div.rll-youtube-player[data-src]``); an element whose class speaks of a video, player,
  embed or YouTube with a ``data-*`` attribute holding a watch URL (``div.elementor-widget-video
  [data-settings]``); an element whose class names both an embed and YouTube (``div.embedInner.Youtube``,
  ``figure.wp-block-embed-youtube``) or whose ``data-provider`` is YouTube, carrying a video URL in an
  attribute, in a ``<noscript>`` child, or as its only text.

Not embeds: links (in prose, buttons opening a lightbox), ``<link>`` / ``<meta>`` tags, URLs in JavaScript,
channel subscribe buttons and channel / uploads / search embeds, which name no single video.

``post_id`` is the 11-character video id, or ``list=LIST`` for a playlist embed; ``url`` is
``https://www.youtube.com/watch?v=ID`` or ``https://www.youtube.com/playlist?list=LIST``.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import clean_text, embed_from_ref, text_content
from archiver.fetch.sources import oembed_snapshot

NAME = "youtube"

# Where a video URL can be written: plain, JSON-escaped (script JSON), percent-encoded (embed services).
_URL_HINTS = (
    "youtube.com/embed", "youtube-nocookie.com/embed", "youtube.com\\/embed", "youtube-nocookie.com\\/embed",
    "youtube.com%2fembed", "youtube-nocookie.com%2fembed", "youtube.com/v/", "youtube.com\\/v\\/",
    "youtube.com/watch", "youtube.com\\/watch", "youtube.com%2fwatch", "youtu.be/", "youtu.be\\/", "youtu.be%2f",
    "youtube.com/shorts", "youtube.com\\/shorts",
)
# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs. The XPaths stay
# cheap (element names, one attribute test); from_element does the exact checks.
SIGNATURES = (
    (_URL_HINTS, "//iframe | //embed | //object"),
    (("lite-youtube",), "//lite-youtube"),
    (("amp-youtube",), "//amp-youtube"),
    # Editors' oEmbed markup: CKEditor 5 <oembed url>.
    (("<oembed",), "//oembed[@url]"),
    # Placeholders whose class or data-provider names YouTube, holding the URL in a <noscript> fallback or
    # as their only text (WordPress's embed block before oEmbed).
    (_URL_HINTS, "//noscript"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
)
# Placeholders holding the URL in a data-* attribute (div.embedInner.Youtube[data-resourceurl],
# div.rll-youtube-player[data-src], Elementor's data-settings): detection finds the attribute from where
# these occur and offers the element; from_element checks it is a video placeholder.
URL_MARKERS = (
    "youtube.com/embed/", "youtube-nocookie.com/embed/", "youtube.com\\/embed\\/", "youtube.com/watch",
    "youtube.com\\/watch", "youtu.be/", "youtube.com/shorts/",
)
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
# All signatures in one expression, the data-* placeholders included.
XPATH = " | ".join([xpath for _, xpath in SIGNATURES] + [
    "//*[not(self::a)][@*[starts-with(name(), 'data-') and (contains(., 'youtube.com') or contains(., 'youtu.be')"
    " or contains(., 'youtube-nocookie.com'))]]",
])
_NOT_PLACEHOLDER = {"a", "area", "link", "meta", "script", "style", "img", "iframe", "embed", "object", "param",
                    "source", "lite-youtube", "amp-youtube", "oembed", "html", "head", "body", "noscript"}

_HOST = re.compile(
    r"^(?:(?:www|m|music|gaming)\.)?(?:youtube\.com|youtube-nocookie\.com|youtube\.googleapis\.com)$|^youtu\.be$",
    re.IGNORECASE,
)
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_LIST_ID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
_PATH_ID = re.compile(r"^/(?:embed|v|e|shorts|live)/([A-Za-z0-9_-]{11})(?:[/?#&;]|$)")
_URL_IN_TEXT = re.compile(
    r"(?:https?:)?//(?:[a-z]+\.)?(?:youtube\.com|youtube-nocookie\.com|youtu\.be)/[^\s\"'<>]+", re.IGNORECASE,
)


def canonical_url(post_id: str) -> str:
    """The youtube.com URL of a video (or of a playlist, for ``list=...`` ids)."""
    if post_id.startswith("list="):
        return f"https://www.youtube.com/playlist?{post_id}"
    return f"https://www.youtube.com/watch?v={post_id}"


def _ref(post_id: str) -> PostRef:
    return PostRef(NAME, post_id, canonical_url(post_id))


def parse_url(url: str | None) -> PostRef | None:
    """The video (or playlist) a YouTube URL names; None for channels, users, search, feeds."""
    if not url:
        return None
    url = url.strip().replace("&amp;", "&")
    if url.lower().startswith(("https%3a", "http%3a", "%2f%2f")):
        url = unquote(url)
    if url.startswith("//"):
        url = "https:" + url
    elif not url.lower().startswith(("http:", "https:")):
        if not _HOST.match(url.split("/", 1)[0]):
            return None
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not _HOST.match(host):
        return None
    query = parse_qs(parts.query)
    path = parts.path or "/"
    if host == "youtu.be":
        vid = path.strip("/").split("/")[0]
        return _ref(vid) if _VIDEO_ID.match(vid) else None
    m = _PATH_ID.match(path)
    if m and m.group(1) not in ("videoseries", "live_stream"):
        return _ref(m.group(1))
    if path.rstrip("/") in ("/watch", "/watch_popup") or path.startswith("/watch/"):
        vid = (query.get("v") or [""])[0] or path[len("/watch/"):].strip("/")
        return _ref(vid) if _VIDEO_ID.match(vid) else None
    if path.rstrip("/") in ("/embed/videoseries", "/playlist", "/embed", "/view_play_list"):
        kind = (query.get("listType") or ["playlist"])[0]
        lst = (query.get("list") or query.get("p") or [""])[0]
        if kind == "playlist" and _LIST_ID.match(lst):
            return _ref(f"list={lst}")
    return None


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one video."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in ("iframe", "embed", "object"):
        for name, value in el.attrib.items():
            if name in _NOT_URL_ATTRS or "youtu" not in value:
                continue
            ref = _frame_ref(value)
            if ref:
                return embed_from_ref(el, context, tag if name in ("src", "data") else f"{tag}[{name}]", ref)
        return None
    if tag == "lite-youtube":
        vid = (el.get("videoid") or el.get("data-videoid") or "").strip()
        if _VIDEO_ID.match(vid):
            return embed_from_ref(el, context, "lite-youtube", _ref(vid))
        lst = (el.get("playlistid") or "").strip()
        return embed_from_ref(el, context, "lite-youtube", _ref(f"list={lst}")) if _LIST_ID.match(lst) else None
    if tag == "amp-youtube":
        vid = (el.get("data-videoid") or "").strip()
        return embed_from_ref(el, context, "amp-youtube", _ref(vid)) if _VIDEO_ID.match(vid) else None
    if tag == "oembed":
        ref = parse_url(el.get("url"))
        return embed_from_ref(el, context, "oembed[url]", ref) if ref else None
    if tag == "noscript":
        # A placeholder's <noscript> fallback: the placeholder is its parent or grandparent.
        parent = el.getparent()
        grandparent = parent.getparent() if parent is not None else None
        el = next((h for h in (parent, grandparent) if h is not None and _is_provider(h)), None)
        if el is None:
            return None
        tag = el.tag
    if tag in _NOT_PLACEHOLDER:
        return None
    ref, where = _placeholder_ref(el)
    if ref:
        classes = "".join("." + c.lower() for c in (el.get("class") or "").split()[:3])
        return embed_from_ref(el, context, f"{tag}{classes}[{where}]", ref)
    return None


_NOT_URL_ATTRS = ("href", "style", "class", "id", "title", "alt", "name")


def _urls(value: str):
    """YouTube URLs in an attribute value (plain, percent-encoded or JSON-escaped)."""
    value = value.strip().replace("\\/", "/").replace("&amp;", "&")
    if "%2f" in value.lower():
        value = unquote(value)
    return [m.group(0) for m in _URL_IN_TEXT.finditer(value)]


def _frame_ref(value: str) -> PostRef | None:
    """The video an iframe / embed / object URL shows: its own URL, or one an embed service names."""
    ref = parse_url(value.strip())
    if ref:
        return ref
    try:
        host = urlsplit(_abs(value)).hostname or ""
    except ValueError:
        return None
    if value.lower().lstrip().startswith(("http", "//")) and not _HOST.match(host):
        # An embed service (embedly, iframely, a consent proxy) naming the video in a parameter.
        for url in _urls(value):
            ref = parse_url(url)
            if ref:
                return ref
    return None


def _abs(url: str) -> str:
    url = url.strip()
    return "https:" + url if url.startswith("//") else url


_PLACEHOLDER_WORDS = ("youtube", "video", "embed", "player")


def _placeholder_ref(el) -> tuple[PostRef | None, str]:
    """The video a lazy / consent placeholder carries: own attribute, <noscript> child, or bare URL text."""
    provider = _is_provider(el)
    cls = (el.get("class") or "").lower()
    videoish = provider or any(w in cls for w in _PLACEHOLDER_WORDS)
    for name, value in el.attrib.items():
        if name in _NOT_URL_ATTRS or "youtu" not in value or "<" in value:
            continue  # markup held in an attribute is read as a fragment of its own
        if not (name.startswith("data-") or provider):
            continue
        for url in _urls(value):
            # An embed-endpoint URL is an embed wherever it is; a watch URL only on a video placeholder.
            if videoish or re.search(r"/(?:embed|v)/", url):
                ref = parse_url(url)
                if ref:
                    return ref, name
    if not provider:
        return None, ""
    for noscript in el.iter("noscript"):
        for sub in noscript.iter("iframe", "a", "embed"):
            ref = parse_url(sub.get("src") or sub.get("href"))
            if ref:
                return ref, "noscript"
    if not any(isinstance(c.tag, str) and c.tag in ("iframe", "embed", "object", "a") for c in el.iter()):
        text = clean_text(text_content(el))
        if text and " " not in text:
            ref = parse_url(text)
            if ref:
                return ref, "text"
    return None, ""


def _is_provider(el) -> bool:
    cls = (el.get("class") or "").lower()
    if "youtube" in cls and "embed" in cls:
        return True
    return any((el.get(a) or "").strip().lower() == "youtube"
               for a in ("data-provider", "data-platform", "data-embed-provider", "data-service"))



__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url", "canonical_url"]


# How a post is snapshotted: the platform's key-less oEmbed endpoint, then the Wayback Machine.
snapshot = oembed_snapshot("youtube-oembed", lambda ctx, url: (ctx.endpoints.youtube_oembed.rstrip("/") + "/oembed", ()))
