"""Threads: embedded posts in HTML and post URLs.

Signatures:

- ``<blockquote class="text-post-media" data-text-post-permalink="https://www.threads.net/@USER/post/CODE">``,
  the embed code of threads.net / threads.com (it links to the post and says "View on Threads");
- ``<iframe src="https://www.threads.net/@USER/post/CODE/embed">`` (what embed.js renders), whatever
  attribute holds the URL;
- lazy or consent placeholders holding a post URL in a ``data-*`` attribute, WordPress embed blocks
  holding it as their only text and editors' ``<oembed url>`` (``placeholders``).

Not embeds: profile links and follow buttons (``threads.net/@USER``), links to posts in prose, share intents.

``post_id`` is the post's shortcode; ``url`` is ``https://www.threads.com/@USER/post/CODE`` (threads.net
URLs redirect there), or ``https://www.threads.com/t/CODE`` when the author is unknown.
"""
from __future__ import annotations

import re

from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import embed_from_ref, has_class
from archiver.platforms.placeholders import placeholder_embed
from archiver.fetch.sources import web_archive_snapshot

NAME = "threads"



# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs.
SIGNATURES = (
    (("text-post-media", "data-text-post-permalink"),
     f"//blockquote[{has_class('text-post-media')} or @data-text-post-permalink]"),
    (("threads.net/@", "threads.com/@", "threads.net\\/@", "threads.com\\/@", "threads.net/t/", "threads.com/t/"),
     "//iframe[@*[(contains(., 'threads.net/') or contains(., 'threads.com/')) and contains(., '/embed')]]"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
    (("<oembed",), "//oembed[@url]"),
)
# Placeholders holding a post URL in a data-* attribute: detection finds the attribute from where these occur.
URL_MARKERS = ("threads.net/@", "threads.com/@", "threads.net/t/", "threads.com/t/", "threads.net\\/@",
               "threads.com\\/@")
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
XPATH = " | ".join([xpath for _, xpath in SIGNATURES] + [
    "//*[not(self::a)][@*[starts-with(name(), 'data-') and (contains(., 'threads.net/') or contains(., 'threads.com/'))]]",
])

_POST_URL = re.compile(
    r"^(?:https?:)?(?://)?(?:www\.)?threads\.(?:net|com)/(?:@(?P<handle>[A-Za-z0-9._]{1,30})/post|t)"
    r"/(?P<code>[A-Za-z0-9_-]{5,64})(?P<embed>/embed)?(?=[/?#\"']|$)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"(?:https?:)?//(?:www\.)?threads\.(?:net|com)/[^\s\"'<>]+", re.IGNORECASE)


def canonical_url(code: str, handle: str | None = None) -> str:
    """The threads.com URL of a post."""
    return f"https://www.threads.com/@{handle}/post/{code}" if handle else f"https://www.threads.com/t/{code}"


def parse_url(url: str | None) -> PostRef | None:
    """The post a threads.net / threads.com URL names; None for profiles and feeds."""
    if not url:
        return None
    m = _POST_URL.match(url.strip())
    if not m:
        return None
    handle, code = m.group("handle"), m.group("code")
    return PostRef(NAME, code, canonical_url(code, handle), handle)


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one post."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "iframe":
        for name, value in el.attrib.items():
            for m in _URL_IN_TEXT.finditer(value.replace("\\/", "/")) if "threads." in value else ():
                match = _POST_URL.match(m.group(0))
                if match and match.group("embed"):
                    ref = parse_url(m.group(0))
                    return embed_from_ref(el, context, "iframe" if name == "src" else f"iframe[{name}]", ref)
        return None
    if tag == "blockquote":
        ref = parse_url(el.get("data-text-post-permalink"))
        if ref is None:
            ref = next((r for r in (parse_url(a.get("href")) for a in el.iter("a")) if r), None)
        if ref is None:
            return None
        return embed_from_ref(el, context, "blockquote.text-post-media", ref)
    return placeholder_embed(el, context, ("threads",), parse_url)



__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url", "canonical_url"]


# How a post is snapshotted: no key-less source of its own yet, so what the Wayback Machine holds of it.
snapshot = web_archive_snapshot
