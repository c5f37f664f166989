"""Instagram: embed signatures in HTML (blockquote, AMP, iframe, consent placeholders) and post URLs.

Signatures, as Instagram and the pages that carry its posts publish them:

- ``<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/CODE/...">``,
  the embed code of instagram.com (older versions have no permalink attribute, only links to the post);
- ``<amp-instagram data-shortcode="CODE">``;
- ``<iframe src="https://www.instagram.com/p/CODE/embed/...">`` (also what embed.js renders the blockquote
  into), whatever attribute holds the URL (``src``, ``data-src``, ...), and embed services' iframes
  naming the post in a parameter (``cdn.embedly.com/widgets/media.html?src=...instagram.com%2Fp%2F...``);
- editors' oEmbed markup: ``<oembed url="POST_URL">`` (CKEditor 5), ``<div data-oembed-url="POST_URL">``;
- lazy or consent-gated placeholders: an element whose class names both an embed and Instagram
  (``div.js-socialembed.instagram``, ``figure.wp-block-embed-instagram``) or whose ``data-provider`` is
  Instagram, carrying the post URL in one of its attributes, in a ``<noscript>`` link, or as its only text;
  and a ``blockquote``/``div``/``figure`` whose class names Instagram holding only a link to one post and
  a placeholder image (``blockquote.ig-lazy.instagram``).

Not embeds: feed widgets (Smash Balloon, zoom, wpcom), galleries and share buttons linking posts (links are
never candidates), a ``div.instagram-media`` wrapper around blockquotes (no URL of its own), CSS.

``post_id`` is the shortcode; ``url`` is ``https://www.instagram.com/p/CODE/`` (``/reel/CODE/``,
``/tv/CODE/`` for those kinds).
"""
from __future__ import annotations

import json
import re
from urllib.parse import unquote

from archiver.platforms.dates import iso_day, parse_embed_date
from archiver.models import Embed
from archiver.platforms import PostRef
from archiver.platforms.markup import (
    NOT_EMBED, PROVIDER_ATTRS, clean_text, embed_from_ref, has_class, in_page_chrome, raw_markup, text_content,
    text_with_breaks,
)
from archiver.fetch.sources import web_archive_snapshot

NAME = "instagram"


# Where a post URL can be written: plain, JSON-escaped (script JSON), percent-encoded (embed services).
_URL_HINTS = (
    "instagram.com/p/", "instagram.com/reel", "instagram.com/tv/",
    "instagram.com\\/p\\/", "instagram.com\\/reel", "instagram.com\\/tv\\/",
    "instagram.com%2fp%2f", "instagram.com%2freel", "instagram.com%2ftv%2f",
)
# (hints, XPath): detection runs an XPath only on pages where one of its hints occurs. The XPaths stay
# cheap (element names, one attribute test); from_element does the exact checks.
SIGNATURES = (
    (("instagram-media",), f"//blockquote[{has_class('instagram-media')}]"),
    (("amp-instagram",), "//amp-instagram"),
    (_URL_HINTS, "//iframe"),
    # Editors' oEmbed markup: CKEditor 5 <oembed url>, CKEditor 4 <div data-oembed-url>.
    (("<oembed", "data-oembed-url"), "//oembed[@url] | //*/@data-oembed-url/.."),
    # Lazy / consent placeholders (class names an embed and Instagram, or data-provider says Instagram)
    # holding the URL in a <noscript> link, or as their only text (WordPress's embed block before oEmbed).
    (_URL_HINTS, "//noscript"),
    (("wp-block-embed",), "//figure[contains(@class, 'wp-block-embed')]"),
    # Lazy placeholders holding only a link to the post (and a placeholder image), class naming Instagram:
    # one step per element name (libxml2 walks a name step fast), not //*[self::a or self::b][...].
    (_URL_HINTS, " | ".join(f"//{tag}[contains(translate(@class, 'INSTAGRM', 'instagrm'), 'instagram')]"
                            for tag in ("blockquote", "div", "figure", "section", "article"))),
)
# Placeholders holding the URL in a data-* attribute (div.js-socialembed.instagram[data-feed]): detect.py
# finds the attribute from where these occur and offers the element; from_element checks its class.
URL_MARKERS = ("instagram.com/p/", "instagram.com/reel", "instagram.com/tv/", "instagram.com\\/p\\/")
HINTS = tuple(dict.fromkeys(h for hints, _ in SIGNATURES for h in hints))
# All signatures in one expression, the data-* placeholders included.
XPATH = " | ".join([xpath for _, xpath in SIGNATURES] + [
    "//*[not(self::a)][@*[starts-with(name(), 'data-') and contains(., 'instagram.com')]]",
])
_NOT_PLACEHOLDER = {"a", "area", "link", "meta", "script", "style", "img", "iframe", "blockquote", "html", "body",
                    "head", "noscript"}

# https://www.instagram.com/p/CODE/, /reel/CODE/, /tv/CODE/, /USER/p/CODE/ (newer share form), instagr.am/p/CODE
_POST_URL = re.compile(
    r"^(?:https?:)?(?://)?(?:(?:www|m|about)\.)?(?:instagram\.com|instagr\.am)"
    r"/(?:(?P<handle>[A-Za-z0-9._]{1,30})/)?(?P<kind>p|reels?|tv)/(?P<code>[A-Za-z0-9_-]{5,64})(?=[/?#&\"']|$)",
    re.IGNORECASE,
)
_PROFILE_URL = re.compile(
    r"^(?:https?:)?//(?:www\.|m\.)?instagram\.com/(?P<handle>[A-Za-z0-9._]{1,30})/?(?:[?#]|$)", re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"(?:https?:)?//(?:www\.|m\.)?(?:instagram\.com|instagr\.am)/[^\s\"'<>]+", re.IGNORECASE)
_NOT_HANDLES = {
    "p", "reel", "reels", "tv", "explore", "stories", "accounts", "share", "direct", "about", "developer",
    "legal", "web", "embed", "oauth", "challenge", "s", "ar", "lite", "static", "tags", "locations",
}
_HANDLE_IN_TEXT = re.compile(r"\(\s*@([A-Za-z0-9._]{1,30})\s*\)")
_SHORTCODE = re.compile(r"^[A-Za-z0-9_-]{5,64}$")
# "A post shared by NAME (@handle)" in the languages Instagram renders its embed footer in.
_SHARED_BY = re.compile(
    r"^(?:a post shared by|ein beitrag geteilt von|une publication partagée par|"
    r"una publicación compartida por|una publicación compartida de|un post condiviso da|"
    r"uma publicação compartilhada por|uma publicação partilhada por|een bericht gedeeld door|"
    r"ett inlägg delat av|et innlegg delt av|et opslag delt af|post udostępniony przez|"
    r"bir gönderi paylaştı|a video shared by|ein video geteilt von|a reel shared by)\s*",
    re.IGNORECASE,
)


def canonical_url(code: str, kind: str = "p") -> str:
    """The instagram.com URL of a post."""
    kind = {"reels": "reel"}.get(kind.lower(), kind.lower())
    return f"https://www.instagram.com/{kind}/{code}/"


def parse_url(url: str | None) -> PostRef | None:
    """The post an instagram.com URL names: /p/, /reel/, /tv/ (also /USER/p/CODE/); None for the rest."""
    if not url:
        return None
    url = url.strip()
    if "%2f" in url.lower()[:40]:
        url = unquote(url)
    m = _POST_URL.match(url)
    if not m:
        return None
    handle = m.group("handle")
    if handle and handle.lower() in _NOT_HANDLES:
        return None  # /share/p/..., /stories/..., /explore/p/...: not a post URL
    code = m.group("code")
    return PostRef(NAME, code, canonical_url(code, m.group("kind")), handle)


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it is not an Instagram embed."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "blockquote":
        return _from_blockquote(el, context) or _lazy_placeholder(el, context)
    if tag == "amp-instagram":
        code = (el.get("data-shortcode") or "").strip()
        if _SHORTCODE.match(code):
            return embed_from_ref(el, context, "amp-instagram", PostRef(NAME, code, canonical_url(code)))
        ref = _ref_in_attributes(el)
        return embed_from_ref(el, context, "amp-instagram", ref) if ref else None
    if tag == "iframe":
        ref = _ref_in_attributes(el)
        return embed_from_ref(el, context, "iframe", ref) if ref else None
    if tag == "oembed" or el.get("data-oembed-url"):
        attr = "url" if tag == "oembed" else "data-oembed-url"
        ref = parse_url(el.get(attr))
        if ref:
            return embed_from_ref(el, context, f"{tag}[{attr}]", ref)
    if tag == "noscript":
        # A placeholder's <noscript> fallback: the placeholder is its parent or grandparent.
        parent = el.getparent()
        grandparent = parent.getparent() if parent is not None else None
        el = next((h for h in (parent, grandparent) if h is not None and _is_placeholder(h)), None)
        if el is None:
            return None
        tag = el.tag
    if tag in _NOT_PLACEHOLDER or not _is_placeholder(el):
        return _lazy_placeholder(el, context)
    ref, where = _placeholder_ref(el)
    if ref:
        classes = "".join("." + c.lower() for c in (el.get("class") or "").split()[:3])
        return embed_from_ref(el, context, f"{tag}{classes}[{where}]", ref)
    return None



_LAZY_TAGS = {"blockquote", "div", "figure", "section", "article"}
_LAZY_TEXT = 120  # characters a placeholder may say ("View this post on Instagram"); prose says more


def _lazy_placeholder(el, context: str) -> Embed | None:
    """A container whose class names Instagram holding only a link to one post (and a placeholder image).

    Lazy-loading scripts swap such a container for the embed; a feed, a gallery or a paragraph linking a
    post is not one (more than one post, a widget's class, or more text than a placeholder's label).
    """
    tag = el.tag if isinstance(el.tag, str) else ""
    cls = (el.get("class") or "").lower()
    if tag not in _LAZY_TAGS or not ("instagram" in cls or "instgrm" in cls) or NOT_EMBED.search(cls):
        return None
    refs = []
    for a in el.iter("a"):
        ref = parse_url(a.get("href"))
        if ref is None:
            return None  # a link elsewhere: more than a placeholder
        refs.append(ref)
    if not refs or len({r.post_id for r in refs}) != 1 or len(clean_text(text_content(el)) or "") > _LAZY_TEXT:
        return None
    # What a widget holds and where the container sits, asked once it does name one post.
    if any(NOT_EMBED.search((d.get("class") or "").lower()) for d in el.iterdescendants() if isinstance(d.tag, str)) \
            or in_page_chrome(el):
        return None
    classes = "".join("." + c for c in cls.split()[:3])
    return embed_from_ref(el, context, f"{tag}{classes}[link]", refs[0])


def _ref_in_attributes(el) -> PostRef | None:
    """A post URL held by one of the element's attributes (src, data-src, an embed service's ?url=...)."""
    for name, value in el.attrib.items():
        if name in ("href", "style", "class", "id") or "instagr" not in value.lower():
            continue
        for candidate in _urls_in(value):
            ref = parse_url(candidate)
            if ref:
                return ref
    return None


def _urls_in(value: str):
    value = value.strip()
    if "%2f" in value.lower():
        value = unquote(value)
    if value.startswith(("{", "[")):
        try:
            value = json.dumps(json.loads(value))  # normalise escaped slashes in JSON configs
        except ValueError:
            pass
    value = value.replace("\\/", "/")
    if _POST_URL.match(value):
        yield value
    for m in _URL_IN_TEXT.finditer(value):
        yield m.group(0)


def _is_placeholder(el) -> bool:
    """Whether the element presents itself as an Instagram embed (class or provider attribute)."""
    cls = (el.get("class") or "").lower()
    if "instagram" in cls and "embed" in cls:
        return True
    return any((el.get(a) or "").strip().lower() == "instagram" for a in PROVIDER_ATTRS)


def _placeholder_ref(el) -> tuple[PostRef | None, str]:
    """The post a lazy / consent placeholder carries: own attribute, <noscript> link, or bare URL text."""
    for name, value in el.attrib.items():
        if name in ("href", "style", "class", "id") or "instagr" not in value.lower():
            continue
        for candidate in _urls_in(value):
            ref = parse_url(candidate)
            if ref:
                return ref, name
    for noscript in el.iter("noscript"):
        for sub in noscript.iter("a", "iframe", "blockquote"):
            for attr in ("href", "src", "data-instgrm-permalink"):
                ref = parse_url(sub.get(attr))
                if ref:
                    return ref, "noscript"
        ref = parse_url(clean_text(text_content(noscript)))
        if ref:
            return ref, "noscript"
    if not any(isinstance(c.tag, str) and c.tag in ("blockquote", "iframe") for c in el.iter()):
        text = clean_text(text_content(el))
        if text and " " not in text:
            ref = parse_url(text)
            if ref:
                return ref, "text"
    return None, ""


def _from_blockquote(bq, context: str) -> Embed | None:
    classes = (bq.get("class") or "").split()
    if "instagram-media" not in classes:
        return None
    permalink = (bq.get("data-instgrm-permalink") or "").strip()
    ref = parse_url(permalink)
    links = [a for a in bq.iter("a") if a.get("href")]
    if ref is None:
        ref = next((r for r in (parse_url(a.get("href")) for a in links) if r), None)
    if ref is None and (permalink or any(_profile_handle(a.get("href")) for a in links)):
        return None  # a profile embed (the permalink or the only links name an account): not a post
    paragraphs = [p for p in bq.iter("p") if clean_text(text_content(p))]
    footer = next((p for p in reversed(paragraphs) if _HANDLE_IN_TEXT.search(text_content(p))
                   or p.find(".//time") is not None), None)
    handle = author = date = date_text = text = None
    if footer is not None:
        footer_text = clean_text(text_content(footer)) or ""
        m = _HANDLE_IN_TEXT.search(footer_text)
        if m:
            handle = m.group(1)
        profile = next((a for a in footer.iter("a") if _profile_handle(a.get("href"))), None)
        if profile is not None:
            author = clean_text(text_content(profile))
            handle = handle or _profile_handle(profile.get("href"))
        elif m:
            author = clean_text(_SHARED_BY.sub("", footer_text[: m.start()]))
        time_el = footer.find(".//time")
        if time_el is not None:
            date_text = clean_text(text_content(time_el))
            date = parse_date(date_text) or iso_day(time_el.get("datetime"))
        elif m:
            tail = footer_text[m.end():]
            found = _DATE_SNIPPET.search(tail)
            date = parse_date(tail[found.start():]) if found else None
            date_text = clean_text(tail[found.start():]) if date else None
        caption = [p for p in paragraphs if p is not footer]
        text = clean_text(" ".join(text_with_breaks(p) for p in caption)) if caption else None
    if handle is None:
        handle = next((h for h in (_profile_handle(a.get("href")) for a in links) if h), None)
    if ref is None:
        return Embed(
            platform=NAME, markup="blockquote.instagram-media", detector=f"{NAME}.html", handle=handle,
            author_name=author, date=date, date_text=date_text, text=text, context=context,
            position=bq.sourceline or 0, raw=raw_markup(bq),
        )
    return embed_from_ref(bq, context, "blockquote.instagram-media", ref, handle=handle, author_name=author, date=date,
                  date_text=date_text, text=text)


def _profile_handle(href: str | None) -> str | None:
    m = _PROFILE_URL.match((href or "").strip())
    if m and m.group("handle").lower() not in _NOT_HANDLES:
        return m.group("handle")
    return None


_DATE_SNIPPET = re.compile(
    r"\d{1,2}\.?\s+(?:de\s+)?[^\W\d_]{3,12}\.?,?\s+(?:de\s+)?\d{4}|[^\W\d_]{3,12}\.?\s+\d{1,2},?\s+\d{4}"
)


def parse_date(text: str | None) -> str | None:
    """ISO YYYY-MM-DD of the date in a footer: 'Jun 16, 2019 at 7:30am PDT', '23. Okt 2017 um 0:31 Uhr'."""
    if not text:
        return None
    m = _DATE_SNIPPET.search(text)
    return (parse_embed_date(m.group(0)) if m else None) or parse_embed_date(text)


__all__ = ["NAME", "HINTS", "XPATH", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url", "canonical_url",
           "parse_date"]


# How a post is snapshotted: no key-less source of its own yet, so what the Wayback Machine holds of it.
snapshot = web_archive_snapshot
