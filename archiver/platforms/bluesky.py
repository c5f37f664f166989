"""Bluesky: embedded posts in HTML (the embed.bsky.app blockquote and iframe) and post URLs.

Signatures:

- ``<blockquote class="bluesky-embed" data-bluesky-uri="at://DID/app.bsky.feed.post/RKEY"
  data-bluesky-cid="CID">``, the embed code of bsky.app: a ``<p>`` with the text, then
  ``&mdash; Name (<a href=".../profile/DID">@handle</a>) <a href=".../profile/DID/post/RKEY">date</a>``;
- ``<iframe src="https://embed.bsky.app/embed/DID/app.bsky.feed.post/RKEY">`` (what embed.js renders),
  whatever attribute holds the URL;
- lazy or consent placeholders holding a post URL (or AT URI) in a ``data-*`` attribute, any element with
  ``data-bluesky-uri`` among them (embed.js renders every one), WordPress embed blocks holding the URL
  as their only text and editors' ``<oembed url>`` (``placeholders``).

Not embeds: links to profiles or posts in prose, follow buttons, share intents, feeds and starter packs.

``post_id`` is the AT URI ``at://AUTHORITY/app.bsky.feed.post/RKEY`` with the authority as the page gives
it (a DID in embed codes; a handle when only a bsky.app URL with a handle is known); ``url`` is
``https://bsky.app/profile/AUTHORITY/post/RKEY``.
"""
from __future__ import annotations

import re

from archiver.platforms.dates import parse_embed_date
from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import clean_text, has_class, inside, raw_markup, text_content, text_with_breaks
from archiver.platforms.placeholders import placeholder_embed
from archiver.fetch.sources import oembed_snapshot

NAME = "bluesky"



# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs.
SIGNATURES = (
    (("bluesky-embed", "data-bluesky-uri"), f"//blockquote[{has_class('bluesky-embed')} or @data-bluesky-uri]"),
    (("embed.bsky.app", "data-bluesky-uri"), "//iframe[@data-bluesky-uri or @*[contains(., 'embed.bsky.app/embed/')]]"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
    (("<oembed",), "//oembed[@url]"),
)
# Placeholders holding a post URL in a data-* attribute: detection finds the attribute from where these occur.
URL_MARKERS = ("bsky.app/profile/", "app.bsky.feed.post", "bsky.app\\/profile\\/")
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
XPATH = " | ".join([xpath for _, xpath in SIGNATURES] + [
    "//*[not(self::a)][@*[starts-with(name(), 'data-') and (contains(., 'bsky.app/') or contains(., 'app.bsky.feed.post'))]]",
])

_ACTOR = r"(?P<actor>did:[a-z]+:[A-Za-z0-9._:%-]{1,200}|[A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,63})"
_RKEY = r"(?P<rkey>[A-Za-z0-9._~:-]{1,512})"
_WEB_URL = re.compile(
    r"^(?:https?:)?//(?:www\.|staging\.)?bsky\.app/profile/" + _ACTOR + r"/post/" + _RKEY + r"(?=[/?#]|$)",
    re.IGNORECASE,
)
_AT_URI = re.compile(r"^at://" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY + r"(?=[/?#]|$)")
_EMBED_URL = re.compile(
    r"(?:https?:)?//embed\.bsky\.app/embed/" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY + r"(?=[/?#&\"']|$)",
)
_HANDLE_IN_TEXT = re.compile(r"\(\s*@([A-Za-z0-9][A-Za-z0-9.-]{0,252})\s*\)")


def _ref(actor: str, rkey: str) -> PostRef:
    handle = None if actor.lower().startswith("did:") else actor.lower()
    return PostRef(NAME, f"at://{actor}/app.bsky.feed.post/{rkey}",
                   f"https://bsky.app/profile/{actor}/post/{rkey}", handle)


def parse_url(url: str | None) -> PostRef | None:
    """The post a bsky.app URL, an AT URI or an embed.bsky.app URL names; None for profiles and feeds."""
    if not url:
        return None
    url = url.strip()
    for regex in (_WEB_URL, _AT_URI, _EMBED_URL):
        m = regex.match(url)
        if m:
            return _ref(m.group("actor"), m.group("rkey"))
    return None


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it does not show one post."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "blockquote":
        return _from_blockquote(el, context)
    if tag == "iframe":
        ref = parse_url(el.get("data-bluesky-uri"))
        name = "data-bluesky-uri"
        if ref is None:
            for name, value in el.attrib.items():
                m = _EMBED_URL.search(value) if "bsky" in value else None
                if m:
                    ref = _ref(m.group("actor"), m.group("rkey"))
                    break
        if ref is None:
            return None
        return Embed(
            platform=NAME, markup="iframe" if name == "src" else f"iframe[{name}]", detector=f"{NAME}.html",
            post_id=ref.post_id, url=ref.url, handle=ref.handle, context=context,
            position=el.sourceline or 0, raw=raw_markup(el),
        )
    return placeholder_embed(el, context, ("bluesky", "bsky"), parse_url)


def _from_blockquote(bq, context: str) -> Embed | None:
    ref = parse_url(bq.get("data-bluesky-uri"))
    links = [a for a in bq.iter("a") if a.get("href")]
    post_links = [(a, parse_url(a.get("href"))) for a in links]
    post_links = [(a, r) for a, r in post_links if r]
    if ref is None and post_links:
        ref = post_links[-1][1]  # the footer's date link comes last
    if ref is None:
        return None
    paragraphs = [p for p in bq.iter("p")]
    text = clean_text(" ".join(text_with_breaks(p) for p in paragraphs)) if paragraphs else None
    footer = clean_text("".join(_footer_parts(bq))) or ""
    m = _HANDLE_IN_TEXT.search(footer)
    handle = m.group(1).lower() if m else ref.handle
    author = None
    if m:
        author = clean_text(footer[: m.start()].lstrip("\u2014\u2013- "))
    date_link = next((a for a, r in reversed(post_links) if not inside(a, paragraphs)), None)
    date_text = clean_text(text_content(date_link)) if date_link is not None else None
    return Embed(
        platform=NAME, markup="blockquote.bluesky-embed", detector=f"{NAME}.html",
        post_id=ref.post_id, url=ref.url, handle=handle, author_name=author,
        date=parse_embed_date(date_text) if date_text else None, date_text=date_text, text=text,
        lang=next((p.get("lang") for p in paragraphs if p.get("lang")), None),
        links=tuple(dict.fromkeys(a.get("href") for a in links if inside(a, paragraphs))),
        context=context, position=bq.sourceline or 0, raw=raw_markup(bq),
    )


def _footer_parts(bq):
    """Text of the blockquote outside its paragraphs: '— Name (@handle) date'."""
    yield bq.text or ""
    for child in bq:
        if isinstance(child.tag, str) and child.tag != "p":
            yield text_content(child)
        yield child.tail or ""


__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url"]


# How a post is snapshotted: the platform's key-less oEmbed endpoint, then the Wayback Machine.
snapshot = oembed_snapshot("bluesky-oembed", lambda ctx, url: (ctx.endpoints.bluesky_oembed.rstrip("/") + "/oembed", ()))
