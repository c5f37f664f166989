"""Shared by the source readers: Item, Items, Discovery, DiscoverError, clean_url, body sniffing, titles."""
from __future__ import annotations

import calendar
import codecs
import html
import re
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from archiver.errors import ArchiverError

MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024  # a gzipped body may not grow past this (zip bombs)
MAX_WARNINGS = 50  # warnings kept per call; the rest are counted
MAX_TITLE_CHARS = 1000

_GZIP_MAGIC = b"\x1f\x8b"


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


def _iso(struct: time.struct_time | None, raw: str | None) -> str | None:
    """feedparser's UTC struct_time as ISO 8601 text; a bare date stays a bare date."""
    if struct is None:
        return None
    if raw and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", raw):
        return raw.strip()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(struct)))


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


def opened(body: bytes, what: str) -> tuple[bytes, str, str | None]:
    """The body decompressed, its head as text and its root element's name; empty or binary raises."""
    body = _decompress(body)
    if not body.strip():
        raise DiscoverError(f"{what}: empty body")
    if _is_binary(body):
        raise DiscoverError(f"{what}: binary data")
    head = _head_text(body)
    return body, head, _root_name(head)
