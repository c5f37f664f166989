"""Article URLs (or files) named by a source: RSS/Atom feeds, sitemaps, URL lists, watched folders.

Pure functions over bytes: the caller fetches through the one hardened client and passes the body
in.  Nothing here opens a URL or a file named by a body.  XML is read with lxml under a parser that
never resolves entities, never touches the network, never loads a DTD and keeps libxml2's size limits;
documents that declare entities are refused (sitemaps) or handed to feedparser, which drops unsafe
declarations (feeds).

Feeds are read by feedparser (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, broken markup included), from a
BytesIO so it never opens anything a body names, after the body is checked: decompressed under a
cap, not binary, a feed's root element, at most ``FEED_MAX_BYTES``.
"""
from __future__ import annotations

import calendar
import codecs
import html
import io
import os
import re
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

from archiver.errors import ArchiverError

MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024  # a gzipped body may not grow past this (zip bombs)
FEED_MAX_BYTES = 10 * 1024 * 1024  # a feed larger than this is refused (real feeds are far smaller)
MAX_WARNINGS = 50  # warnings kept per call; the rest are counted
MAX_TITLE_CHARS = 1000
MAX_SITEMAP_DEPTH = 3  # index -> index -> ... levels crawl_sitemaps follows
MAX_SITEMAPS = 200  # child sitemaps crawl_sitemaps fetches at most

_GZIP_MAGIC = b"\x1f\x8b"
_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
             dtd_validation=False, attribute_defaults=False, remove_comments=True, remove_pis=True)


class DiscoverError(ArchiverError):
    """A source body could not be read as the kind of source it was taken for."""

    def __init__(self, message: str, hint: str | None = None):
        message = _one_line(message)
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Item:
    """One article a source names: a URL to fetch, or a file to read."""

    location: str  # absolute http(s) URL without fragment, or a file path
    kind: str  # "url" | "file"
    title: str | None
    published: str | None  # ISO 8601: UTC "YYYY-MM-DDTHH:MM:SSZ", or "YYYY-MM-DD" when only a date is given
    source_kind: str  # "feed" | "sitemap" | "urls" | "folder"
    mtime: float | None = None  # files: st_mtime, to tell changed files
    size: int | None = None  # files: st_size
    updated: str | None = None  # feed <updated>/dc:date, sitemap <lastmod>; same format as published


class Items(list):
    """A list of Items that also carries the warnings met while reading them (for the caller's log)."""

    def __init__(self, items=(), warnings=None):
        super().__init__(items)
        self.warnings: list[str] = list(warnings or [])


@dataclass
class Discovery:
    """What ``discover`` read from one body."""

    kind: str  # feed | sitemap | urls
    items: list = field(default_factory=list)  # [Item]
    sitemaps: list = field(default_factory=list)  # child sitemap URLs (sitemap indexes)
    warnings: list = field(default_factory=list)


# --------------------------------------------------------------------------- shared helpers


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Warnings(list):
    """At most MAX_WARNINGS messages, then one line counting the rest."""

    def __init__(self):
        super().__init__()
        self.dropped = 0

    def add(self, message: str) -> None:
        if len(self) < MAX_WARNINGS:
            self.append(_one_line(message))
        else:
            self.dropped += 1

    def done(self) -> list[str]:
        return list(self) + ([f"... and {self.dropped} more warnings"] if self.dropped else [])


_BAD_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_ABSOLUTE_HTTP = re.compile(r"https?://[^/?#]", re.I)


def _http_base(base_url: str | None) -> str | None:
    if base_url and urlsplit(base_url).scheme.lower() in ("http", "https"):
        return base_url
    return None


def clean_url(raw: str | None, base_url: str | None = None) -> tuple[str | None, str | None]:
    """(absolute http(s) URL without fragment, None) or (None, why not) for one link as written."""
    if raw is None:
        return None, "no URL"
    value = raw.strip()
    if not value:
        return None, "empty URL"
    if _BAD_URL_CHARS.search(value):
        return None, f"not a URL (contains spaces or control characters): {value[:120]!r}"
    base = None if _ABSOLUTE_HTTP.match(value) else _http_base(base_url)
    try:
        if base:
            value = urljoin(base, value)
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return None, f"not a URL ({exc}): {value[:120]!r}"
    if scheme not in ("http", "https"):
        if not scheme:
            return None, f"relative URL with no http(s) base: {value[:120]!r}"
        return None, f"not an http(s) URL: {value[:120]!r}"
    if not host:
        return None, f"no host: {value[:120]!r}"
    if parts.username is not None or parts.password is not None:
        return None, f"credentials in URL: {scheme}://{host}/..."
    return urldefrag(value)[0], None


def _decompress(body: bytes, cap: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """The body, gunzipped (every member) when it starts with the gzip magic, never more than cap bytes."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    out, total, data = [], 0, body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while data:
            chunk = inflater.decompress(data, cap - total + 1)
            total += len(chunk)
            if total > cap:
                raise DiscoverError(f"gzip body inflates past the {cap // (1024 * 1024)} MB cap")
            out.append(chunk)
            if inflater.eof:
                data = inflater.unused_data
                if not data.startswith(_GZIP_MAGIC):
                    break  # trailing zeros or junk after the last member: ignore, as gzip(1) does
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = inflater.unconsumed_tail
        if not inflater.eof:
            raise DiscoverError("gzip body is truncated")
    except zlib.error as exc:
        raise DiscoverError(f"bad gzip data: {exc}") from None
    return b"".join(out)


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _head_text(body: bytes, size: int = 65536) -> str:
    head = body[:size]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, "replace")
    if head[:4] in (b"<\x00?\x00", b"<\x00\x00\x00"):
        return head.decode("utf-16-le", "replace")
    if head[:4] in (b"\x00<\x00?", b"\x00\x00\x00<"):
        return head.decode("utf-16-be", "replace")
    return head.decode("utf-8", "replace")


def _is_binary(body: bytes) -> bool:
    head = body[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)) or head[:4] in (
            b"<\x00?\x00", b"\x00<\x00?", b"<\x00\x00\x00", b"\x00\x00\x00<"):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and controls / len(head) > 0.05


_PROLOG_JUNK = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S | re.I)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")


def _root_name(head: str) -> str | None:
    """Local name of the first element in a document head (prolog skipped), lower-cased.

    None when the head holds no element; "" when its prolog (comments, DOCTYPE) runs past the head,
    so only a parser can tell.
    """
    pos = 0
    while True:
        m = _PROLOG_JUNK.match(head, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    if head.startswith(("<!--", "<?", "<!DOCTYPE", "<!doctype"), pos):
        return ""
    m = _FIRST_TAG.match(head, pos)
    if not m:
        return None
    return m.group(1).rsplit(":", 1)[-1].lower()


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


def _iso(struct: time.struct_time | None, raw: str | None) -> str | None:
    """feedparser's UTC struct_time as ISO 8601 text; a bare date stays a bare date."""
    if struct is None:
        return None
    if raw and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", raw):
        return raw.strip()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(struct)))


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


_HTML_TAG = re.compile(r"</?(?:a|abbr|b|big|br|cite|code|del|dfn|div|em|font|i|img|ins|kbd|mark|p|q|s|samp|"
                       r"small|span|strike|strong|sub|sup|time|tt|u|var)\b[^<>]*>", re.I)
_ANY_TAG = re.compile(r"<[^<>]*>")


def _clean_title(text: str | None, is_html: bool = False) -> str | None:
    """Plain one-line text: markup stripped (and then its entities decoded), spaces collapsed.

    A title declared HTML loses every tag; any other title only the common HTML tags, so that
    "Wetter-Warnung für <Sachsen>" keeps its words.
    """
    if not text:
        return None
    if is_html:
        text = html.unescape(_ANY_TAG.sub("", text))
    elif _HTML_TAG.search(text):
        text = html.unescape(_HTML_TAG.sub("", text))
    text = " ".join(text.split())
    return text[:MAX_TITLE_CHARS] or None


# --------------------------------------------------------------------------- feeds


@dataclass
class _Entry:
    """The parts of one feed entry that choose its article link, in feedparser's terms."""

    link: str | None = None  # entries[i].link as feedparser sets it
    link_from_guid: bool = False  # feedparser copied a permalink <guid> into link
    links: list = field(default_factory=list)  # [(rel, type, href)]
    id: str | None = None
    title: str | None = None
    published: str | None = None
    updated: str | None = None


def items_from_feed(body: bytes, base_url: str | None) -> Items:
    """Article links of an RSS 0.9x/1.0/2.0 or Atom feed, resolved against base_url, de-duplicated in order.

    Each entry gives its ``link``, else its first ``rel="alternate"`` link, else its id when that is an
    absolute http(s) URL.  A broken feed gives the entries that could be read, with a warning; a body
    with none raises DiscoverError("not a feed: ...").  A feed with no entries gives [].
    """
    entries, warnings = _feed_entries(body)
    return _feed_items(entries, base_url, warnings)


_FEED_ROOTS = {"rss", "rdf", "feed", "channel"}


def _drop(el) -> None:
    """Free an element once read, so that a huge sitemap does not stay in memory whole."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _feed_entries(body: bytes) -> tuple[list[_Entry], _Warnings]:
    warnings = _Warnings()
    body = _decompress(body)
    if not body.strip():
        raise DiscoverError("not a feed: empty body")
    if _is_binary(body):
        raise DiscoverError("not a feed: binary data")
    head = _head_text(body)
    root = _root_name(head)
    if root is None:
        stripped = head.lstrip()
        what = "JSON (JSON Feed is not supported)" if stripped.startswith(("{", "[")) else "no XML markup"
        raise DiscoverError(f"not a feed: {what}")
    if root == "html":
        raise DiscoverError("not a feed: got an HTML page", hint="look for <link rel=\"alternate\"> in the page")
    if root in ("urlset", "sitemapindex"):
        raise DiscoverError(f"not a feed: got a sitemap (<{root}>)", hint="configure the source as kind = \"sitemap\"")
    if root and root not in _FEED_ROOTS:
        raise DiscoverError(f"not a feed: root element <{root}>")
    if len(body) > FEED_MAX_BYTES:
        raise DiscoverError(f"feed is {len(body) / 2**20:.0f} MB, over the {FEED_MAX_BYTES // 2**20} MB cap")
    return _entries_feedparser(body, warnings), warnings


def _entries_feedparser(body: bytes, warnings: _Warnings) -> list[_Entry]:
    import feedparser

    # A BytesIO, never the bytes themselves: feedparser opens a str/bytes that names a file or URL.
    # No Content-Location: relative links are resolved below, against the caller's base URL.
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/xml"},
                              sanitize_html=False, resolve_relative_uris=False)
    reason = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        reason = _one_line(f"{type(exc).__name__}: {exc}" if exc else "malformed", 160)
    raw_entries = parsed.get("entries") or []
    if not raw_entries:
        if reason:
            raise DiscoverError(f"not a feed: {reason}")
        if not parsed.get("version"):
            raise DiscoverError("not a feed: no RSS or Atom elements")
        return []
    if reason and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        warnings.add(f"malformed feed, read what parsed: {reason}")
    entries = []
    for raw in raw_entries:
        entry = _Entry()
        entry.link = (raw.get("link") or "").strip() or None
        entry.id = (dict.get(raw, "id") or "").strip() or None
        # feedparser copies a permalink <guid> (or an Atom <id>) into link when there is no <link>
        entry.link_from_guid = bool(dict.get(raw, "guidislink")) and entry.link == entry.id
        entry.links = [((ln.get("rel") or "alternate"), (ln.get("type") or "").lower(), (ln.get("href") or "").strip())
                       for ln in raw.get("links") or [] if ln.get("href")]
        detail = dict.get(raw, "title_detail") or {}
        entry.title = _clean_title(dict.get(raw, "title"),
                                   is_html=detail.get("type") in ("text/html", "application/xhtml+xml"))
        entry.published = _iso(dict.get(raw, "published_parsed"), dict.get(raw, "published"))
        entry.updated = _iso(dict.get(raw, "updated_parsed"), dict.get(raw, "updated"))
        entries.append(entry)
    if reason and not any(e.link or e.links or e.id for e in entries):
        # Broken and nothing usable in it: a malformed feed, not an empty one.
        raise DiscoverError(f"not a feed: {reason}")
    return entries


def _feed_items(entries: list[_Entry], base_url: str | None, warnings: _Warnings) -> Items:
    items, seen = [], set()
    for n, entry in enumerate(entries, 1):
        url, why = _entry_url(entry, base_url)
        if url is None:
            warnings.add(f"entry {n}: {why}")
            continue
        if url in seen:
            continue
        seen.add(url)
        items.append(Item(location=url, kind="url", title=entry.title, published=entry.published or entry.updated,
                          source_kind="feed", updated=entry.updated))
    return Items(items, warnings.done())


def _entry_url(entry: _Entry, base_url: str | None) -> tuple[str | None, str]:
    """The article URL of an entry: link, else an alternate link, else an http(s) id."""
    why = "no link"
    if entry.link and not entry.link_from_guid:
        url, why = clean_url(entry.link, base_url)
        if url:
            return url, ""
    for rel, _type, href in entry.links:
        if rel == "alternate" and href and href != entry.link:
            url, why = clean_url(href, base_url)
            if url:
                return url, ""
    if entry.id:
        url, why_id = clean_url(entry.id)  # an id is a link only when it is already an absolute URL
        if url:
            return url, ""
        has_link = (entry.link and not entry.link_from_guid) or entry.links
        why = why if has_link else f"no link, and the id is not one ({why_id})"
    return None, why


# --------------------------------------------------------------------------- sitemaps


def items_from_sitemap(body: bytes, base_url: str | None) -> tuple[Items, list[str]]:
    """(article Items, child sitemap URLs) from a <urlset>, a Google News sitemap or a <sitemapindex>.

    Gzipped bodies are inflated (at most MAX_DECOMPRESSED_BYTES).  A document that declares entities
    is refused (XXE, billion laughs).  Locations are resolved against base_url, http(s) only,
    de-duplicated in order.  Items take news:title as title, news:publication_date (else lastmod) as
    published and lastmod as updated.
    """
    warnings = _Warnings()
    body = _decompress(body)
    if not body.strip():
        raise DiscoverError("not a sitemap: empty body")
    if _is_binary(body):
        raise DiscoverError("not a sitemap: binary data")
    head = _head_text(body)
    root = _root_name(head)
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


# --------------------------------------------------------------------------- URL lists and folders


def items_from_url_list(text: str, base_url: str | None = None) -> Items:
    """One URL per line; blank lines and '#' comments skipped; bad lines become warnings on the result.

    A trailing " # comment" after a URL is allowed.  Relative URLs need an http(s) base_url.
    """
    warnings = _Warnings()
    items, seen = [], set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        value, *rest = line.split(None, 1)
        if rest and not rest[0].startswith("#"):
            warnings.add(f"line {n}: not one URL: {line[:120]!r}")
            continue
        url, why = clean_url(value, base_url)
        if url is None:
            warnings.add(f"line {n}: {why}")
        elif url not in seen:
            seen.add(url)
            items.append(Item(location=url, kind="url", title=None, published=None, source_kind="urls"))
    return Items(items, warnings.done())


def items_from_folder(path: Path | str, *, suffixes=(".html", ".htm", ".txt")) -> Items:
    """Files under a watched folder (recursive, sorted, hidden files and folders skipped) with mtime and size."""
    root = Path(path)
    if not root.is_dir():
        raise DiscoverError(f"{root}: no such folder")
    wanted = tuple(s.lower() for s in suffixes)
    warnings = _Warnings()
    items = []

    def onerror(exc: OSError) -> None:
        warnings.add(f"{exc.filename}: cannot read folder: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(wanted):
                continue
            file = os.path.join(dirpath, name)
            try:
                st = os.stat(file)
            except OSError as exc:
                warnings.add(f"{file}: {exc.strerror or exc}")
                continue
            if not os.path.isfile(file):
                continue
            items.append(Item(location=file, kind="file", title=None, published=None, source_kind="folder",
                              mtime=st.st_mtime, size=st.st_size))
    return Items(items, warnings.done())


# --------------------------------------------------------------------------- dispatch


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


def sniff_source_kind(body: bytes, content_type: str | None = None) -> str:
    """'feed', 'sitemap' or 'urls' for a source configured without a kind; DiscoverError when none fits."""
    body = _decompress(body)
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not body.strip():
        raise DiscoverError("cannot tell the source kind: empty body")
    if _is_binary(body):
        raise DiscoverError("cannot tell the source kind: binary data")
    head = _head_text(body)
    root = _root_name(head)
    if root in ("rss", "rdf", "feed", "channel"):
        return "feed"
    if root in _SITEMAP_ROOTS:
        return "sitemap"
    if root == "":
        if ctype in _FEED_TYPES:
            return "feed"
        raise DiscoverError("cannot tell the source kind: the XML prolog is too long to sniff",
                            hint="set kind in the configuration")
    if root == "html":
        raise DiscoverError("cannot tell the source kind: got an HTML page",
                            hint="give the feed or sitemap URL, or set kind in the configuration")
    if root is not None:
        if ctype in _FEED_TYPES:
            return "feed"
        raise DiscoverError(f"cannot tell the source kind: XML root <{root}> is neither a feed nor a sitemap")
    first = next((ln.strip() for ln in head.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    if first.lower().startswith(("http://", "https://", "/")) or ctype == "text/plain":
        return "urls"
    raise DiscoverError("cannot tell the source kind: not XML and not a list of URLs")


def _text_of(body: bytes) -> str:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", "replace")


def discover(kind: str, body: bytes, base_url: str | None, content_type: str | None = None) -> Discovery:
    """What one source body names, read as kind ('feed', 'sitemap', 'urls' or 'auto' to sniff)."""
    if kind == "auto":
        kind = sniff_source_kind(body, content_type)
    if kind == "feed":
        items = items_from_feed(body, base_url)
        return Discovery(kind, list(items), [], items.warnings)
    if kind == "sitemap":
        items, children = items_from_sitemap(body, base_url)
        return Discovery(kind, list(items), children, items.warnings)
    if kind == "urls":
        body = _decompress(body)
        if _is_binary(body):
            raise DiscoverError("not a URL list: binary data")
        items = items_from_url_list(_text_of(body), base_url)
        return Discovery(kind, list(items), [], items.warnings)
    raise DiscoverError(f"unknown source kind {kind!r} (known: feed, sitemap, urls, auto; folders are read with "
                        "items_from_folder)")
