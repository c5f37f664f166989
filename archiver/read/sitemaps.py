"""Sitemaps, Google News sitemaps and sitemap indexes, read with lxml, and crawl_sitemaps over an index."""
from __future__ import annotations

import io
import re
from collections import deque
from functools import lru_cache
from typing import Callable

from lxml import etree

from archiver.errors import ArchiverError
from archiver.read.discovered import (DiscoverError, Discovery, Item, Items, _Warnings, _clean_title, _iso, _one_line,
                                      clean_url, opened)

MAX_SITEMAP_DEPTH = 3  # index -> index -> ... levels crawl_sitemaps follows
MAX_SITEMAPS = 200  # child sitemaps crawl_sitemaps fetches at most

# XML is read under a parser that never resolves entities, never touches the network, never loads a
# DTD and keeps libxml2's size limits; documents that declare entities are refused.
_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
             dtd_validation=False, attribute_defaults=False, remove_comments=True, remove_pis=True)


def _declares_entities(head: str) -> bool:
    doctype = re.search(r"<!DOCTYPE(?:[^\[>]|\[.*?\])*>?", head, re.S | re.I)
    return bool(doctype and "<!ENTITY" in doctype.group(0).upper())


def _tree_declares_entities(el) -> bool:
    dtd = el.getroottree().docinfo.internalDTD
    return bool(dtd is not None and next(iter(dtd.iterentities()), None) is not None)


def _qname(el) -> tuple[str | None, str]:
    tag = el.tag
    if not isinstance(tag, str):
        return None, ""
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def _text(el) -> str:
    if el is None:
        return ""
    if not len(el):
        return (el.text or "").strip()
    return "".join(el.itertext()).strip()


def _date(raw: str | None) -> str | None:
    """Any date feedparser reads (RFC 822, W3C-DTF, ISO 8601, ...) as ISO 8601 UTC text."""
    if not raw or not raw.strip():
        return None
    return _parse_cached(raw)


@lru_cache(maxsize=4096)
def _parse_cached(raw: str) -> str | None:
    from feedparser.datetimes import _parse_date

    try:
        return _iso(_parse_date(raw.strip()), raw)
    except (ValueError, OverflowError, TypeError):
        return None


def _drop(el) -> None:
    """Free an element once read, so that a huge sitemap does not stay in memory whole."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def items_from_sitemap(body: bytes, base_url: str | None) -> tuple[Items, list[str]]:
    """(article Items, child sitemap URLs) from a <urlset>, a Google News sitemap or a <sitemapindex>.

    Gzipped bodies are inflated (at most MAX_DECOMPRESSED_BYTES).  A document that declares entities
    is refused (XXE, billion laughs).  Locations are resolved against base_url, http(s) only,
    de-duplicated in order.  Items take news:title as title, news:publication_date (else lastmod) as
    published and lastmod as updated.
    """
    warnings = _Warnings()
    body, head, root = opened(body, "not a sitemap")
    if root is None:
        raise DiscoverError("not a sitemap: no XML markup")
    if root and root not in _SITEMAP_ROOTS:
        raise DiscoverError(f"not a sitemap: root element <{root}>")
    if _declares_entities(head):
        raise DiscoverError("not a sitemap: declares XML entities (refused: XXE / entity expansion)")
    try:
        urls, children = _sitemap_lxml(body, recover=False)
    except etree.XMLSyntaxError as exc:
        reason = _one_line(str(exc), 160)
        if "entit" in reason.lower() or "amplification" in reason.lower():
            raise DiscoverError(f"not a sitemap: {reason}") from None
        try:
            urls, children = _sitemap_lxml(body, recover=True)
        except etree.XMLSyntaxError:
            urls, children = [], []
        if not any(u[0] for u in urls) and not any(children):
            raise DiscoverError(f"not a sitemap: {reason}") from None
        warnings.add(f"malformed sitemap, read what parsed: {reason}")
    items, seen = [], set()
    for n, (loc, title, published, lastmod) in enumerate(urls, 1):
        url, why = clean_url(loc, base_url)
        if url is None:
            warnings.add(f"url {n}: {why}")
        elif url not in seen:
            seen.add(url)
            items.append(Item(location=url, kind="url", title=title, published=published or lastmod,
                              source_kind="sitemap", updated=lastmod))
    sitemaps, seen = [], set()
    for n, loc in enumerate(children, 1):
        url, why = clean_url(loc, base_url)
        if url is None:
            warnings.add(f"sitemap {n}: {why}")
        elif url not in seen:
            seen.add(url)
            sitemaps.append(url)
    return Items(items, warnings.done()), sitemaps


_SITEMAP_ROOTS = ("urlset", "sitemapindex")


def _check_sitemap_tree(el) -> None:
    if _tree_declares_entities(el):
        raise DiscoverError("not a sitemap: declares XML entities (refused: XXE / entity expansion)")
    local = _qname(el.getroottree().getroot())[1]
    if local not in _SITEMAP_ROOTS:
        raise DiscoverError(f"not a sitemap: root element <{local}>")


def _sitemap_lxml(body: bytes, *, recover: bool) -> tuple[list, list]:
    urls, children = [], []
    checked = False
    for _event, el in etree.iterparse(io.BytesIO(body), events=("end",), recover=recover, **_SAFE):
        if not checked:
            checked = True
            _check_sitemap_tree(el)
        _ns, local = _qname(el)
        if local not in ("url", "sitemap"):
            continue
        parent = el.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # only children of the root
        loc = lastmod = title = published = None
        for child in el:
            _cns, clocal = _qname(child)
            if clocal == "loc":
                loc = _text(child)
            elif clocal == "lastmod":
                lastmod = _date(_text(child))
            elif clocal == "news" and local == "url":
                for part in child:
                    plocal = _qname(part)[1]
                    if plocal == "title":
                        title = _clean_title(_text(part))
                    elif plocal == "publication_date":
                        published = _date(_text(part))
        if local == "url" and _qname(parent)[1] == "urlset":
            urls.append((loc, title, published, lastmod))
        elif local == "sitemap" and _qname(parent)[1] == "sitemapindex":
            children.append(loc)
        _drop(el)
    return urls, children


def crawl_sitemaps(url: str, get: Callable[[str], bytes], *, max_depth: int = MAX_SITEMAP_DEPTH,
                   max_sitemaps: int = MAX_SITEMAPS, first: bytes | None = None) -> Discovery:
    """Every article a sitemap (index) names, following child sitemaps at most max_depth levels down.

    ``get(url) -> bytes`` does the fetching (through the hardened client); ``first``, when given, is
    the body of ``url`` already read, so it is not fetched again.  The first sitemap's errors
    propagate; a child that ``get`` fails on (any ArchiverError) or that does not parse becomes a
    warning.  Each sitemap is read once, at most max_sitemaps in all, breadth first.
    """
    result = Discovery(kind="sitemap")
    warnings = _Warnings()
    seen_items: set[str] = set()
    listed: set[str] = {url}
    queue = deque([(url, 0)])
    read = 0
    while queue:
        if read >= max_sitemaps:
            warnings.add(f"stopped after {max_sitemaps} sitemaps; {len(queue)} more not read")
            break
        current, depth = queue.popleft()
        read += 1
        try:
            body = first if current == url and first is not None else get(current)
            items, children = items_from_sitemap(body, current)
        except ArchiverError as exc:
            if current == url:
                raise
            warnings.add(f"{current}: {getattr(exc, 'message', exc)}")
            continue
        for warning in items.warnings:
            warnings.add(f"{current}: {warning}")
        for item in items:
            if item.location not in seen_items:
                seen_items.add(item.location)
                result.items.append(item)
        for child in children:
            if child in listed:
                continue
            listed.add(child)
            result.sitemaps.append(child)
            if depth + 1 > max_depth:
                warnings.add(f"{child}: not read, deeper than {max_depth} sitemap levels")
            else:
                queue.append((child, depth + 1))
    result.warnings = warnings.done()
    return result
