"""Read articles from files, folders, stdin or URLs: exact bytes, decoded text, kind and metadata."""
from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from archiver.read.decode import decode_noting
from archiver.errors import ArchiverError, SourceError
from archiver.models import Article

HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx"}
TEXT_SUFFIXES = {".txt", ".text", ".md"}
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_SEED_DATE = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b")
_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|div|p|article|blockquote|script)[\s>]", re.I)


def expand_sources(sources: list[str]) -> Iterator[str]:
    """Each source as given, with folders replaced by the files under them (sorted, recursive).

    A folder that cannot be listed, or that holds no file, is yielded itself, so that reading it names
    the problem.
    """
    for source in sources:
        if source != "-" and not _is_url(source) and os.path.isdir(source):
            unreadable: list[OSError] = []
            found = False
            for dirpath, dirnames, filenames in os.walk(source, onerror=unreadable.append):
                for err in unreadable:
                    if err.filename:
                        found = True
                        yield err.filename
                unreadable.clear()
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        found = True
                        yield os.path.join(dirpath, name)
            yield from (err.filename for err in unreadable if err.filename)
            if not found and not unreadable:
                yield source
        else:
            yield source


def read_source(source: str, *, client=None, policy=None, stdin=None,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """One source (path, '-' or URL) as an Article; raises SourceError with a one-line reason."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        body = stream.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise SourceError("-", f"stdin is over the {cap_size(max_bytes)} cap", hint="raise it with --max-bytes")
        if not body.strip():
            raise SourceError("-", "is empty")
        # Two different texts piped in are two articles, not two versions of one called "-".
        return article_from_bytes(f"stdin:{hashlib.sha256(body).hexdigest()}", body)
    if _is_url(source):
        return _read_url(source, client, policy, max_bytes)
    return _read_file(source, max_bytes)


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _read_file(path: str, max_bytes: int) -> Article:
    p = Path(path)
    try:
        info = p.stat()
        size = info.st_size
        if stat.S_ISDIR(info.st_mode):
            with os.scandir(p):
                pass  # an unreadable folder raises here
            raise SourceError(path, "is a folder with no file to read (names starting with . are skipped)")
        if not stat.S_ISREG(info.st_mode):
            # Opening a FIFO blocks until something writes to it; a device or socket is no article either.
            raise SourceError(path, f"is not a regular file ({_file_type(info.st_mode)}): skipped")
        if size > max_bytes:
            raise SourceError(path, f"file is {over_cap(size, max_bytes)}", hint="raise it with --max-bytes")
        with p.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(path, "no such file or folder") from None
    except PermissionError:
        if p.is_dir():
            raise SourceError(path, "folder cannot be read: permission denied") from None
        raise SourceError(path, "permission denied") from None
    except IsADirectoryError:
        raise SourceError(path, "is a folder") from None
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    kind = "html" if p.suffix.lower() in HTML_SUFFIXES else "text" if p.suffix.lower() in TEXT_SUFFIXES else None
    try:
        return article_from_bytes(file_key(path), body, kind=kind)
    except SourceError as exc:
        raise SourceError(path, exc.message, exc.hint) from None


def human_size(n: int) -> str:
    """A size as people read it: bytes, KiB or MiB, with one decimal where it matters (1.5 MiB)."""
    if n < 1024:
        return f"{n} byte" + ("" if n == 1 else "s")
    unit, value = ("KiB", n / 1024) if n < 1024 * 1024 else ("MiB", n / (1024 * 1024))
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def cap_size(cap: int) -> str:
    """A cap as it reads before "cap": 10-byte, 1.5 KiB, 64 MiB."""
    return f"{cap}-byte" if cap < 1024 else human_size(cap)


def over_cap(size: int, cap: int) -> str:
    """'SIZE, over the CAP cap', in exact bytes when the two would read the same rounded."""
    if human_size(size) == human_size(cap):
        return f"{size:,} bytes, over the {cap:,}-byte cap"
    return f"{human_size(size)}, over the {cap_size(cap)} cap"


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a file"


def file_key(path: str) -> str:
    """How a file is known in the archive: its absolute path, so seeds/ and ./seeds/ are one article.

    A name that is not valid UTF-8 keeps its odd bytes as \\xNN escapes, so it can be stored and shown.
    """
    absolute = os.path.abspath(path)
    return absolute.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _read_url(url: str, client, policy, max_bytes: int) -> Article:
    from archiver.fetch.http import HttpPolicy, build_client, fetch

    policy = policy or HttpPolicy()
    own = client is None
    client = client or build_client(policy)
    try:
        ex = fetch(client, url, policy, max_bytes=max_bytes,
                   headers={"Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"})
    except ArchiverError as exc:
        raise SourceError(url, getattr(exc, "message", str(exc))) from None
    finally:
        if own:
            client.close()
    if ex.status >= 400:
        raise SourceError(url, f"HTTP {ex.status} {ex.reason}".strip())
    ctype = (ex.content_type or "").lower()
    kind = "text" if ctype.startswith("text/plain") else "html" if "html" in ctype else None
    article = article_from_bytes(url, ex.body, kind=kind, content_type=ex.content_type)
    return replace(article, url=url, final_url=ex.final_url, http_status=ex.status, fetched_at=ex.started_at,
                   meta={**article.meta, "exchange": ex})


_COMPRESSED = ((b"\x1f\x8b", "gzip-compressed data (decompress it first: gunzip)"),
               (b"PK\x03\x04", "a zip archive (unpack it first)"), (b"BZh", "bzip2-compressed data"),
               (b"\xfd7zXZ\x00", "xz-compressed data"), (b"(\xb5/\xfd", "zstd-compressed data"))
MAX_STRAY_NULS = 4  # NUL bytes a text may hold (a stray one in a page) before it counts as binary


def sniff_kind(body: bytes) -> str:
    """'html' or 'text' from the content; raises ValueError for binary or compressed data."""
    head = body[:8192]
    for magic, what in _COMPRESSED:
        if head.startswith(magic):
            raise ValueError(what)
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    # Counted over the whole body, so where a NUL sits does not decide (bytes.count runs in C).
    if not utf16 and body.count(b"\x00") > max(MAX_STRAY_NULS, len(body) // 1000):
        raise ValueError("binary data (NUL bytes)")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32) if not utf16 else 0
    if head and controls / len(head) > 0.05:
        raise ValueError("binary data (control bytes)")
    return "html" if _HTML_SNIFF.search(head[:2048]) else "text"


def article_from_bytes(source: str, body: bytes, *, kind: str | None = None,
                       content_type: str | None = None) -> Article:
    """An Article from exact bytes: kind sniffed when not given, text decoded, seed date read."""
    if not body.strip():
        raise SourceError(source, "is empty")
    try:
        sniffed = sniff_kind(body)
    except ValueError as exc:
        raise SourceError(source, f"not an article: {exc}") from None
    kind = kind or sniffed
    text, encoding, decoding = decode_noting(body, content_type, is_html=kind == "html")
    published = title = None
    if kind == "text":
        m = _SEED_DATE.match(text)
        published = m.group(1) if m else None
        title = text_title(text[m.end():] if m else text)
    return Article(source=source, kind=kind, body=body, text=text, sha256=hashlib.sha256(body).hexdigest(),
                   encoding=encoding, decoding=decoding, published=published, title=title)


TITLE_CHARS = 100  # a longer first line (a whole paragraph) is cut at a word before this


def text_title(text: str) -> str | None:
    """A text article's title: its first non-blank line, cut at a word boundary when long."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if len(line) <= TITLE_CHARS:
        return line or None
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


def with_metadata(article: Article, root) -> Article:
    """The article with title, canonical URL, dates, site, author and words read from its parsed HTML."""
    if article.kind != "html" or root is None:
        return article
    from archiver.read.metadata import READABLE_MAX, RECORD_READABLE_MAX, extract_metadata, readable_text

    meta = extract_metadata(root)
    limit = RECORD_READABLE_MAX if "record" in (article.meta or {}) else READABLE_MAX
    return replace(article, title=meta.get("title"), canonical_url=meta.get("canonical_url"),
                   published=meta.get("published") or article.published, site_name=meta.get("site_name"),
                   author=meta.get("author"), readable=readable_text(root, limit))
