"""Article metadata from HTML: title, canonical URL, publication date, site name, author."""
from __future__ import annotations

import json
import re

from lxml import etree

_META = etree.XPath("//meta[@content]")
_LINK_CANONICAL = etree.XPath("//link[@rel][@href]")
_TITLE = etree.XPath("//title")
_JSONLD = etree.XPath("//script[@type='application/ld+json']")
_TIME = etree.XPath("//time[@datetime]")
_TEXT = etree.XPath("string()", smart_strings=False)  # lxml.html's text_content(), for any element
_WS = re.compile(r"\s+")

_KEYS = {
    "title": ("og:title", "twitter:title", "dc.title", "headline"),
    "canonical_url": ("og:url",),
    "published": ("article:published_time", "og:article:published_time", "datepublished", "date",
                  "dc.date", "dc.date.issued", "pubdate", "publishdate", "sailthru.date", "parsely-pub-date"),
    "site_name": ("og:site_name", "application-name", "publisher"),
    "author": ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author"),
}
_ARTICLE_TYPES = {"article", "newsarticle", "blogposting", "reportagenewsarticle", "webpage", "liveblogposting"}


def extract_metadata(root) -> dict:
    """Metadata of a parsed page; JSON-LD first, then meta tags, then plain HTML."""
    found: dict = {}
    _from_jsonld(root, found)
    metas = {}
    for m in _META(root):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key and key not in metas:
            metas[key] = _clean(m.get("content"))
    for field, keys in _KEYS.items():
        if not found.get(field):
            found[field] = next((metas[k] for k in keys if metas.get(k)), None)
    for link in _LINK_CANONICAL(root):
        if "canonical" in (link.get("rel") or "").lower().split():
            found["canonical_url"] = _clean(link.get("href")) or found.get("canonical_url")
            break
    if not found.get("title"):
        titles = _TITLE(root)
        found["title"] = _clean(_TEXT(titles[0])) if titles else None
    if not found.get("published"):
        times = _TIME(root)
        found["published"] = _clean(times[0].get("datetime")) if times else None
    return {k: v for k, v in found.items() if v}


READABLE_MAX = 200_000  # characters of an article's words kept for search
# An article read from a WARC/ARC record keeps its opening words only: the record holds the rest, and the
# full text with its search index was three quarters of an archive built from a crawl.
RECORD_READABLE_MAX = 1_000


def readable_text(root, limit: int = READABLE_MAX) -> str | None:
    """The words of a parsed page's body (at most ``limit`` characters), scripts, styles and templates left
    out, whitespace collapsed."""
    body = root.find("body") if root is not None else None
    if body is None:
        return None
    parts, size, check_at = [], 0, 2 * limit + 256
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript", "template", "textarea"):
            if el.tail:
                parts.append(el.tail)
                size += len(el.tail)
            continue
        if el.text and (el.getparent() is None or el.getparent().tag not in ("script", "style")):
            parts.append(el.text)
            size += len(el.text)
        if el.tail and el is not body:
            parts.append(el.tail)
            size += len(el.tail)
        if size > check_at:  # enough raw text collected? (collapsing whitespace shrinks it by an unknown amount)
            if len(" ".join(" ".join(parts).split())) > limit:
                break
            check_at *= 2
    text = " ".join(" ".join(parts).split())
    return text[:limit] or None


def _from_jsonld(root, found: dict) -> None:
    for script in _JSONLD(root):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in _items(data):
            types = item.get("@type")
            types = {t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
            if not types & _ARTICLE_TYPES:
                continue
            found.setdefault("title", _clean(item.get("headline") or item.get("name")))
            found.setdefault("published", _clean(item.get("datePublished")))
            found.setdefault("author", _name(item.get("author")))
            found.setdefault("site_name", _name(item.get("publisher")))
            url = item.get("mainEntityOfPage")
            url = url.get("@id") if isinstance(url, dict) else url
            found.setdefault("canonical_url", _clean(url if isinstance(url, str) else item.get("url")))
            if "webpage" not in types:
                return


def _items(data):
    if isinstance(data, list):
        for d in data:
            yield from _items(d)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _items(data["@graph"])


def _name(value) -> str | None:
    if isinstance(value, list):
        names = [_name(v) for v in value]
        return ", ".join(n for n in names if n) or None
    if isinstance(value, dict):
        return _clean(value.get("name"))
    return _clean(value) if isinstance(value, str) else None


def _clean(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = _WS.sub(" ", value).strip()
    return value or None
