"""Facebook: embedded posts and videos in HTML (the Embedded Posts / Embedded Video plugins), post URLs.

Signatures:

- ``<div class="fb-post" data-href="POST_URL">`` and ``<div class="fb-video" data-href="VIDEO_URL">``, the
  JavaScript SDK embed codes (also ``<fb:post href>`` / ``<fb:video href>`` XFBML tags and
  ``<amp-facebook data-href>``);
- ``<iframe src="https://www.facebook.com/plugins/post.php?href=POST_URL">`` and ``plugins/video.php``
  (what the SDK renders, or the iframe embed code), whatever attribute holds the URL; the ``href``
  parameter is URL-decoded.

Not embeds: the like, share, follow, comments and page (timeline) plugins, which name no single post, and
the ``blockquote`` fallback inside ``div.fb-post`` (the div is the embed).

``post_id`` is the post URL normalised as ``https://www.facebook.com`` + the path as the page gives it
(trailing slash kept, as the corpus labels it) + the query keys that name the post (``story_fbid``,
``fbid``, ``v``, ``id``; ``set`` for an album); ``url`` is the same URL. A plugin given a URL of a shape
``parse_url`` does not claim (``/share/p/CODE/``, a new path form) still counts, with that URL normalised
the same way as its id, keeping every query parameter but tracking ones (``fbclid``, ``__tn__``, ...).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import embed_from_ref, has_class
from archiver.fetch.sources import web_archive_snapshot

NAME = "facebook"



# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs; from_element does
# the exact checks (class tokens, plugin path, URL shape).
SIGNATURES = (
    (("fb-post", "fb-video"), "//*/@class[contains(., 'fb-post') or contains(., 'fb-video')]/.."),
    (("fb:post", "fb:video"), "//*[name()='fb:post' or name()='fb:video']"),
    (("amp-facebook",), "//amp-facebook"),
    (("plugins/post.php", "plugins/video.php", "plugins\\/post.php", "plugins\\/video.php", "plugins%2fpost.php",
      "plugins%2fvideo.php"), "//iframe"),
)
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
XPATH = " | ".join((
    f"//*[not(self::a)][{has_class('fb-post')} or {has_class('fb-video')}]",
    "//*[name()='fb:post' or name()='fb:video']",
    "//amp-facebook",
    "//iframe[@*[contains(., 'facebook.com') and (contains(., 'plugins/post.php') or contains(., 'plugins/video.php')"
    " or contains(., 'plugins%2Fpost.php') or contains(., 'plugins%2Fvideo.php'))]]",
))

_HOST = re.compile(r"^(?:(?:www|m|web|mobile|mbasic|touch|business|[a-z]{2}-[a-z]{2})\.)?facebook\.com$", re.I)
_ID = r"(?:\d{1,25}|pfbid[A-Za-z0-9]{10,80})"
# Path shapes of a single post, video, photo or reel (after /PAGE or /groups/GROUP).
_POST_PATH = re.compile(
    r"^/(?:"
    rf"(?P<page>[A-Za-z0-9.\-]{{1,80}})/(?:posts|videos(?:/[^/?#]+)?|photos(?:/[^/?#]+)?|activity)/{_ID}/?"
    rf"|groups/[^/?#]+/(?:posts|permalink)/{_ID}/?"
    rf"|reel/\d{{1,25}}/?"
    rf"|watch/?"
    rf"|(?:photo|video|permalink|story)\.php"
    rf"|photo/?"
    rf"|notes/[^/?#]+/[^/?#]+/\d{{1,25}}/?"
    rf"|media/set/?"
    r")$"
)
_QUERY_KEYS = ("story_fbid", "fbid", "v", "id")
_QUERY_NEEDS = {"watch": "v", "photo.php": "fbid", "photo": "fbid", "video.php": "v", "permalink.php": "story_fbid",
                "story.php": "story_fbid", "set": "set"}
# Parameters that say who shared a link or how it was reached, never which post it is.
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|mibextid|rdid|ref|refsrc|refid|fref|hc_ref|hc_location|__tn__|__cft__.*"
                       r"|__xts__.*|_rdr|_rdc|paipv|eav|sfnsn|extid|share_url|comment_id|notif_id|notif_t"
                       r"|acontext|locale|type|theater|app|sk|s|igshid|source|from)$", re.I)
_NOT_PAGES = {"groups", "watch", "reel", "photo", "plugins", "sharer", "sharer.php", "share", "dialog", "events",
              "login", "hashtag", "search", "pages", "help", "policies", "notes"}


def parse_url(url: str | None) -> PostRef | None:
    """The post a facebook.com URL names; None for pages, profiles, groups, share links and plugins."""
    if not url:
        return None
    url = url.strip().replace("&amp;", "&")
    if url.lower().startswith(("https%3a", "http%3a")):
        url = unquote(url)
    if url.startswith("//"):
        url = "https:" + url
    elif not url.lower().startswith(("http:", "https:")):
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not _HOST.match(parts.hostname or ""):
        return None
    path = parts.path
    m = _POST_PATH.match(path)
    if not m:
        return None
    page = m.group("page")
    if page and page.lower() in _NOT_PAGES:
        return None
    query = parse_qs(parts.query)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    need = _QUERY_NEEDS.get(last)
    if need and not (query.get(need) or [""])[0].strip():
        return None
    # The keys that name the post, in a fixed order (an album is named by its set= alone).
    keys = ("set",) if need == "set" else _QUERY_KEYS
    kept = [(k, query[k][0]) for k in keys if need and query.get(k)]
    canonical = "https://www.facebook.com" + path + ("?" + urlencode(kept) if kept else "")
    handle = page if page and not page.isdigit() else None
    return PostRef(NAME, canonical, canonical, handle)


def _embedded_ref(url: str | None) -> PostRef | None:
    """The post an embed plugin is given: a post URL, else any facebook.com URL deep enough to name one.

    The plugins also accept shapes ``parse_url`` does not claim (``/share/p/CODE/``, new path forms); the
    page chose to embed it as a post, so its normalised URL stands as the id.
    """
    ref = parse_url(url)
    if ref or not url:
        return ref
    url = url.strip().replace("&amp;", "&")
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not _HOST.match(parts.hostname or "") or len(segments) < 2 or segments[0].lower() in _NOT_EMBEDDABLE:
        return None
    # A shape we do not know: every parameter but tracking may name the post, so all of those stay.
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=False) if not _TRACKING.match(k)]
    canonical = "https://www.facebook.com" + parts.path + ("?" + urlencode(kept) if kept else "")
    return PostRef(NAME, canonical, canonical)


_NOT_EMBEDDABLE = {"plugins", "sharer", "sharer.php", "dialog", "login", "help", "policies", "privacy", "legal",
                   "events", "hashtag", "search", "pages", "business", "ads", "gaming"}


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one post."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "iframe":
        for name, value in el.attrib.items():
            ref = _plugin_ref(value) if "facebook.com" in value else None
            if ref:
                return embed_from_ref(el, context, "iframe" if name == "src" else f"iframe[{name}]", ref)
        return None
    if tag in ("fb:post", "fb:video"):
        ref = _embedded_ref(el.get("href") or el.get("data-href"))
        return embed_from_ref(el, context, tag, ref) if ref else None
    if tag == "amp-facebook":
        if (el.get("data-embed-as") or "post").lower() not in ("post", "video"):
            return None
        ref = _embedded_ref(el.get("data-href"))
        return embed_from_ref(el, context, "amp-facebook", ref) if ref else None
    if tag == "a":
        return None
    classes = (el.get("class") or "").split()
    kind = "fb-post" if "fb-post" in classes else "fb-video" if "fb-video" in classes else None
    if kind is None:
        return None
    ref = _embedded_ref(el.get("data-href") or el.get("href"))
    if ref is None:
        # A rendered plugin keeps the post URL in its iframe.
        for sub in el.iter("iframe"):
            ref = _plugin_ref(sub.get("src") or sub.get("data-src") or "")
            if ref:
                break
    return embed_from_ref(el, context, f"{tag}.{kind}", ref) if ref else None


def _plugin_ref(src: str) -> PostRef | None:
    """The post of a plugins/post.php or plugins/video.php iframe URL (its href parameter)."""
    src = src.strip().replace("&amp;", "&")
    if "%2fplugins%2f" in src.lower():
        src = unquote(src)
    if src.startswith("//"):
        src = "https:" + src
    try:
        parts = urlsplit(src)
    except ValueError:
        return None
    if not _HOST.match(parts.hostname or "") or not re.search(r"/plugins/(?:post|video)\.php$", parts.path):
        return None
    href = (parse_qs(parts.query).get("href") or [""])[0]
    return _embedded_ref(href)



__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "from_element", "parse_url"]


# How a post is snapshotted: no key-less source of its own yet, so what the Wayback Machine holds of it.
snapshot = web_archive_snapshot
