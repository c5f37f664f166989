"""Mastodon (and compatible servers): embedded posts in HTML and post URLs.

Signatures:

- ``<iframe src="https://INSTANCE/@USER/ID/embed" class="mastodon-embed">``, the embed code of Mastodon
  up to 4.2 (the class is optional: the ``/@USER/ID/embed`` path is the signature);
- ``<blockquote class="mastodon-embed" data-embed-url="https://INSTANCE/@USER/ID/embed">``, the embed
  code of Mastodon 4.3+, which links to ``https://INSTANCE/@USER/ID``;
- the iframe on the longer route ``https://INSTANCE/users/USER/statuses/ID/embed``;
- lazy or consent placeholders holding a post URL in a ``data-*`` attribute, WordPress embed blocks
  holding it as their only text and editors' ``<oembed url>`` (``placeholders``).

Not embeds: links to posts or profiles, follow buttons, ``rel="me"`` links, share buttons.

``post_id`` is ``INSTANCE/ID`` (host lowercased, without ``www.``): a status id is only unique on the
server that issued it, and the embed always names the author's own server. ``url`` is
``https://INSTANCE/@USER/ID``; ``handle`` is ``USER@INSTANCE``.

``parse_url`` recognises the Mastodon URL shapes on any host (``/@USER/ID``, ``/users/USER/statuses/ID``,
``/web/@USER/ID``, ``/web/statuses/ID``), so it can claim a look-alike URL of another service; hosts of
the other known platforms are excluded.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import embed_from_ref, has_class
from archiver.platforms.placeholders import placeholder_embed
from archiver.fetch.sources import oembed_snapshot

NAME = "mastodon"



# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs. An iframe's src
# ends in "/embed" followed by the attribute's closing quote, on any server's name.
SIGNATURES = (
    (("mastodon-embed", "/embed\"", "/embed'", "/embed\\\""),
     f"//iframe[{has_class('mastodon-embed')} or @*[(contains(., '/@') or contains(., '/statuses/'))"
     " and contains(., '/embed')]]"),
    (("mastodon-embed", "data-embed-url"), f"//blockquote[{has_class('mastodon-embed')} or @data-embed-url]"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
    (("<oembed",), "//oembed[@url]"),
)
# Placeholders holding a post URL in a data-* attribute: detection finds the attribute from where these occur.
URL_MARKERS = ("/@", "/statuses/")
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
XPATH = " | ".join([xpath for _, xpath in SIGNATURES] + [
    "//*[not(self::a)][@*[starts-with(name(), 'data-') and (contains(., '/@') or contains(., '/statuses/'))]]",
])

_PATH = re.compile(
    r"^/(?:web/)?(?:@(?P<user>[A-Za-z0-9_.-]{1,64})(?:@(?P<remote>[A-Za-z0-9.-]+))?/(?P<id>\d{1,20})"
    r"|users/(?P<user2>[A-Za-z0-9_.-]{1,64})/statuses/(?P<id2>\d{1,20})"
    r"|web/statuses/(?P<id3>\d{1,20}))"
    r"(?P<embed>/embed)?/?$"
)
# Hosts whose URLs look like Mastodon's but are not.
_OTHER_HOSTS = re.compile(
    r"(?:^|\.)(?:tiktok\.com|threads\.net|threads\.com|instagram\.com|medium\.com|youtube\.com|twitter\.com|"
    r"x\.com|bsky\.app|facebook\.com|substack\.com|vimeo\.com|dailymotion\.com|soundcloud\.com)$",
    re.IGNORECASE,
)


def _parse(url: str | None) -> tuple[PostRef, bool] | None:
    if not url:
        return None
    url = url.strip().replace("&amp;", "&")
    if url.startswith("//"):
        url = "https:" + url
    if not url.lower().startswith(("http:", "https:")):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if not host or "." not in host or _OTHER_HOSTS.search(host):
        return None
    m = _PATH.match(parts.path)
    if not m:
        return None
    user = m.group("user") or m.group("user2")
    status_id = m.group("id") or m.group("id2") or m.group("id3")
    remote = m.group("remote")
    if remote:
        # /@user@other.server/ID is this server's copy of a remote post.
        handle = f"{user}@{remote}"
        url_path = f"/@{user}@{remote}/{status_id}"
    elif user:
        handle = f"{user}@{host}"
        url_path = f"/@{user}/{status_id}"
    else:
        handle = None
        url_path = f"/web/statuses/{status_id}"
    ref = PostRef(NAME, f"{host}/{status_id}", f"https://{host}{url_path}", handle)
    return ref, bool(m.group("embed"))


def parse_url(url: str | None) -> PostRef | None:
    """The post a Mastodon status URL names (embed URLs included); None for profiles and timelines."""
    parsed = _parse(url)
    return parsed[0] if parsed else None


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one post."""
    tag = el.tag if isinstance(el.tag, str) else ""
    classes = (el.get("class") or "").split()
    if tag == "iframe":
        for name, value in el.attrib.items():
            parsed = _parse(value) if "/embed" in value else None
            if parsed and parsed[1]:
                return embed_from_ref(el, context, "iframe.mastodon-embed" if "mastodon-embed" in classes else "iframe",
                              parsed[0])
        return None
    if tag == "blockquote":
        parsed = _parse(el.get("data-embed-url"))
        ref = parsed[0] if parsed else None
        if ref is None and "mastodon-embed" in classes:
            ref = next((r for r in (parse_url(a.get("href")) for a in el.iter("a")) if r), None)
        return embed_from_ref(el, context, "blockquote.mastodon-embed", ref) if ref else None
    return placeholder_embed(el, context, ("mastodon", "fediverse"), parse_url)



__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url"]


def _oembed_endpoint(ctx, url: str):
    """The instance's own /api/oembed (allowed for this request only), or a configured stand-in."""
    if ctx.endpoints.mastodon_oembed:
        return ctx.endpoints.mastodon_oembed.rstrip("/") + "/api/oembed", ()
    host = urlsplit(url).hostname or ""
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", host):
        host = "invalid.invalid"  # never an allowlist pattern: a name with * or [ would match other hosts
    return f"https://{host}/api/oembed", (host,)


# How a post is snapshotted: its instance's oEmbed endpoint, which needs no key, then the Wayback Machine.
snapshot = oembed_snapshot("mastodon-oembed", _oembed_endpoint)
