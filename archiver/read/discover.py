"""What a source body names: sniff its kind (feed, sitemap, URL list) and dispatch to its reader."""
from __future__ import annotations

from archiver.read.discovered import _BOMS, DiscoverError, Discovery, _decompress, _is_binary, opened
from archiver.read.feeds import items_from_feed
from archiver.read.lists import items_from_url_list
from archiver.read.sitemaps import _SITEMAP_ROOTS, items_from_sitemap

# Pure functions over bytes: the caller fetches through the one hardened client and passes the body
# in.  Nothing here opens a URL or a file named by a body.


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")


def sniff_source_kind(body: bytes, content_type: str | None = None) -> str:
    """'feed', 'sitemap' or 'urls' for a source configured without a kind; DiscoverError when none fits."""
    body, head, root = opened(body, "cannot tell the source kind")
    ctype = (content_type or "").split(";")[0].strip().lower()
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
