"""TikTok: embedded videos in HTML (blockquote, iframe, AMP) and video URLs.

Signatures:

- ``<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@USER/video/ID" data-video-id="ID">``,
  the embed code of tiktok.com (its ``<section>`` holds the author link and the caption);
- ``<iframe src="https://www.tiktok.com/embed/v2/ID">`` (what embed.js renders), ``/embed/ID`` and the
  player ``https://www.tiktok.com/player/v1/ID``, whatever attribute holds the URL;
- ``<amp-tiktok data-src="ID or URL">``;
- lazy or consent placeholders holding a video URL in a ``data-*`` attribute, WordPress embed blocks
  holding it as their only text and editors' ``<oembed url>`` (``placeholders``).

Not embeds: profile links and follow buttons (``tiktok.com/@USER``), share links (``vm.tiktok.com/...``),
creator embeds (a blockquote naming a profile), iframes of other hosts whose name ends in "tiktok.com".

``post_id`` is the numeric video id; ``url`` is ``https://www.tiktok.com/@USER/video/ID`` when the author
is known, else the embed URL ``https://www.tiktok.com/embed/v2/ID``.
"""
from __future__ import annotations

import re

from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import clean_text, has_class, raw_markup, text_content
from archiver.platforms.placeholders import placeholder_embed
from archiver.fetch.sources import oembed_snapshot

NAME = "tiktok"



# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs.
SIGNATURES = (
    (("tiktok-embed",), f"//blockquote[{has_class('tiktok-embed')}]"),
    (("tiktok.com/embed", "tiktok.com/player", "tiktok.com\\/embed", "tiktok.com\\/player"),
     "//iframe[@*[contains(., 'tiktok.com/embed') or contains(., 'tiktok.com/player/')]]"),
    (("amp-tiktok",), "//amp-tiktok"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
    (("<oembed",), "//oembed[@url]"),
)
# Placeholders holding a video URL in a data-* attribute: detection finds the attribute from where these occur.
URL_MARKERS = ("tiktok.com/@", "tiktok.com/embed", "tiktok.com/player", "tiktok.com\\/@")
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
XPATH = " | ".join([xpath for _, xpath in SIGNATURES]
                   + ["//*[not(self::a)][@*[starts-with(name(), 'data-') and contains(., 'tiktok.com')]]"])

# Nothing of a host name before it: www.notatiktok.com is another site.
_HOST = r"(?<![\w.-])(?:https?:)?(?://)?(?:(?:www|m|vt|us)\.)?tiktok\.com"
_VIDEO_URL = re.compile(
    _HOST + r"/(?:@(?P<handle>[A-Za-z0-9._]{1,40})/(?:video|photo)/|embed/(?:v\d/)?|player/v\d/|v/|share/video/)"
    r"(?P<id>\d{6,25})(?=[/?#&.\"']|$)",
    re.IGNORECASE,
)
_ID = re.compile(r"^\d{6,25}$")


def canonical_url(video_id: str, handle: str | None = None) -> str:
    """The tiktok.com URL of a video (its embed URL when the author is unknown)."""
    if handle:
        return f"https://www.tiktok.com/@{handle}/video/{video_id}"
    return f"https://www.tiktok.com/embed/v2/{video_id}"


def parse_url(url: str | None) -> PostRef | None:
    """The video a tiktok.com URL names; None for profiles, tags, music pages and vm.tiktok.com short links."""
    if not url:
        return None
    m = _VIDEO_URL.match(url.strip())
    if not m:
        return None
    handle = m.group("handle")
    return PostRef(NAME, m.group("id"), canonical_url(m.group("id"), handle), handle)


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one video."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "blockquote" and "tiktok-embed" in (el.get("class") or "").split():
        return _from_blockquote(el, context)
    if tag == "iframe":
        for name, value in el.attrib.items():
            if "tiktok.com" not in value:
                continue
            for m in _VIDEO_URL.finditer(value.replace("\\/", "/")):
                if "/embed" in m.group(0) or "/player/" in m.group(0):
                    return _embed(el, context, "iframe" if name == "src" else f"iframe[{name}]", m.group("id"))
        return None
    if tag == "amp-tiktok":
        src = (el.get("data-src") or "").strip()
        if _ID.match(src):
            return _embed(el, context, "amp-tiktok", src)
        ref = parse_url(src)
        return _embed(el, context, "amp-tiktok", ref.post_id, ref.handle) if ref else None
    return placeholder_embed(el, context, ("tiktok",), parse_url)


def _from_blockquote(bq, context: str) -> Embed | None:
    ref = parse_url(bq.get("cite"))
    video_id = (bq.get("data-video-id") or "").strip()
    if not _ID.match(video_id):
        video_id = ref.post_id if ref else ""
    links = [a for a in bq.iter("a") if a.get("href")]
    if not video_id:
        ref = next((r for r in (parse_url(a.get("href")) for a in links) if r), None)
        video_id = ref.post_id if ref else ""
    if not video_id:
        return None  # a creator (profile) embed, or a blockquote that names no video
    handle = ref.handle if ref else None
    if handle is None:
        for a in links:
            m = re.match(_HOST + r"/@([A-Za-z0-9._]{1,40})(?:[/?#]|$)", a.get("href").strip(), re.IGNORECASE)
            if m:
                handle = m.group(1)
                break
    section = bq.find(".//section")
    text = clean_text(text_content(section if section is not None else bq))
    if text and handle and text.startswith("@" + handle):
        text = text[len(handle) + 1:].strip() or None
    return Embed(
        platform=NAME, markup="blockquote.tiktok-embed", detector=f"{NAME}.html", post_id=video_id,
        url=canonical_url(video_id, handle), handle=handle, text=text, context=context,
        position=bq.sourceline or 0, raw=raw_markup(bq),
    )


def _embed(el, context: str, markup: str, video_id: str, handle: str | None = None) -> Embed:
    return Embed(
        platform=NAME, markup=markup, detector=f"{NAME}.html", post_id=video_id,
        url=canonical_url(video_id, handle), handle=handle, context=context, position=el.sourceline or 0,
        raw=raw_markup(el),
    )


__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url", "canonical_url"]


# How a post is snapshotted: the platform's key-less oEmbed endpoint, then the Wayback Machine.
snapshot = oembed_snapshot("tiktok-oembed", lambda ctx, url: (ctx.endpoints.tiktok_oembed.rstrip("/") + "/oembed", ()))
