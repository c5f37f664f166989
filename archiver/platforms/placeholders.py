"""Elements standing in for an embed, for the platforms that name a post by URL (TikTok, Bluesky, Mastodon,
Threads): lazy and consent placeholders, and WordPress embed blocks whose oEmbed never rendered.

- a lazy or consent placeholder keeps the post URL in a ``data-*`` attribute until it is swapped for the
  embed (``div[data-provider=bluesky][data-post-url=...]``, ``div.lazy[data-src=".../embed/..."]``); it
  counts when it names the platform (class, provider attribute or the attribute's own name, as in
  ``div[data-bluesky-uri]``, which Bluesky's embed.js renders), when the attribute's name speaks of an
  embed (``data-embed-url``, ``data-oembed-url``), or when the URL is the platform's embed endpoint;
- ``<figure class="wp-block-embed ...">`` holding the post URL as its only text (or as its only link),
  its ``<figcaption>`` aside;
- editors' oEmbed markup: ``<oembed url="POST_URL">`` (CKEditor 5), ``<div data-oembed-url="POST_URL">``
  (CKEditor 4).

Not placeholders: links, feeds, galleries, follow and share widgets (by class), the page's chrome (a
sidebar or footer showing the site's own posts), URLs naming a profile rather than a post.
"""
from __future__ import annotations

import re

from archiver.models import Embed
from archiver.platforms.markup import NOT_EMBED, PROVIDER_ATTRS, clean_text, embed_from_ref, in_page_chrome, text_content

_NOT_PLACEHOLDER = {"a", "area", "link", "meta", "script", "style", "img", "iframe", "blockquote", "html", "head",
                    "body", "noscript", "textarea", "template", "input", "button", "form"}
_URL = re.compile(r"(?:https?:)?//[^\s\"'<>\\,]+|at://[^\s\"'<>\\,]+", re.IGNORECASE)
_EMBED_ENDPOINT = re.compile(r"/(?:embed|player)(?:/|\?|$)", re.IGNORECASE)


def placeholder_embed(el, context: str, words: tuple[str, ...], parse_url) -> Embed | None:
    """The post a placeholder or an unrendered embed block names, read with the platform's parse_url.

    ``words`` are how a class, a provider attribute or an attribute's name names the platform
    (``("bluesky", "bsky")``).
    """
    tag = el.tag if isinstance(el.tag, str) else ""
    cls = (el.get("class") or "").lower()
    if not tag or tag in _NOT_PLACEHOLDER or NOT_EMBED.search(cls):
        return None
    # The page's chrome is asked last, once a post is found: the ancestor walk is the dearest test.
    if tag == "oembed":
        ref = parse_url(el.get("url"))
        return embed_from_ref(el, context, "oembed[url]", ref) if ref and not in_page_chrome(el) else None
    named = any(w in cls for w in words) or any((el.get(a) or "").strip().lower() in words for a in PROVIDER_ATTRS)
    ref, where = _ref_in_attributes(el, named, words, parse_url)
    if ref is None and tag == "figure" and "wp-block-embed" in cls:
        ref, where = _ref_as_text(el, parse_url), "text"
    if ref is None or in_page_chrome(el):
        return None
    classes = "".join("." + c for c in cls.split()[:3])
    return embed_from_ref(el, context, f"{tag}{classes}[{where}]", ref)


def _ref_in_attributes(el, named: bool, words: tuple[str, ...], parse_url):
    """(post, attribute name) from a data-* attribute of a placeholder, or (None, "")."""
    for name, value in el.attrib.items():
        if not name.startswith("data-") or "<" in value:
            continue  # markup held in an attribute is read as a fragment of its own
        named_here = named or "embed" in name or any(w in name for w in words)
        for url in _URL.findall(value.replace("\\/", "/").replace("&amp;", "&")):
            if named_here or _EMBED_ENDPOINT.search(url):
                ref = parse_url(url)
                if ref is not None:
                    return ref, name
    return None, ""


def _ref_as_text(figure, parse_url):
    """The post an embed block names as its only text, each of its links (if any) naming the same post."""
    body = [c for c in figure if isinstance(c.tag, str) and c.tag != "figcaption"]
    if any(d.tag in ("iframe", "blockquote", "img", "video") for c in body for d in c.iter() if isinstance(d.tag, str)):
        return None
    text = clean_text(" ".join([figure.text or ""] + [text_content(c) for c in body]))
    if not text or " " in text:
        return None
    ref = parse_url(text)
    if ref is None:
        return None
    for a in (a for c in body for a in c.iter("a")):
        linked = parse_url(a.get("href"))
        if linked is None or linked.post_id != ref.post_id:
            return None
    return ref
