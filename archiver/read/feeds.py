"""RSS 0.9x/1.0/2.0 and Atom feeds read by feedparser: the article links of a feed body."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from archiver.read.discovered import (DiscoverError, Item, Items, _Warnings, _clean_title, _iso, _one_line, clean_url,
                                      opened)

# Feeds are read by feedparser (broken markup included), from a BytesIO so it never opens anything a
# body names, after the body is checked: decompressed under a cap, not binary, a feed's root element,
# at most FEED_MAX_BYTES.  feedparser drops unsafe entity declarations.

FEED_MAX_BYTES = 10 * 1024 * 1024  # a feed larger than this is refused (real feeds are far smaller)


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


def _feed_entries(body: bytes) -> tuple[list[_Entry], _Warnings]:
    warnings = _Warnings()
    body, head, root = opened(body, "not a feed")
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
