"""Plain dataclasses that flow through the pipeline: source -> article -> embeds -> posts -> snapshots."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Embed:
    """One post shown by an article, as a detector saw it."""

    platform: str  # twitter, instagram, tiktok, bluesky, mastodon, threads, facebook, youtube
    markup: str  # the signature that matched, e.g. "blockquote.twitter-tweet", "flattened-signature"
    detector: str  # module that found it, e.g. "twitter.html"
    post_id: str | None = None  # status id, shortcode, video id; None when the article lost it
    url: str | None = None  # canonical URL of the post when known
    handle: str | None = None  # without "@"
    author_name: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD as displayed in the embed
    date_text: str | None = None  # the raw date as displayed
    text: str | None = None
    lang: str | None = None
    pic_links: tuple[str, ...] = ()  # pic.twitter.com/CODE, pic.x.com/CODE (no scheme)
    links: tuple[str, ...] = ()  # other links in the post: t.co, ...
    context: str = "dom"  # dom | textarea | script-json | attr:NAME | text
    position: int = 0  # character offset in the analysed text (or source line for HTML)
    raw: str = ""  # the raw markup or text that matched (capped)
    surrounding: str | None = None  # the article's paragraph just before the embed: what the page said of it

    def key(self) -> tuple:
        """Identity used to match the same post across sightings."""
        if self.post_id:
            return (self.platform, self.post_id)
        return (self.platform, (self.handle or "").lower(), self.date, self.pic_links)

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["pic_links"] = list(self.pic_links)
        d["links"] = list(self.links)
        return d


@dataclass(frozen=True)
class Article:
    """One analysed version of a source: the exact bytes, decoded text and metadata."""

    source: str  # path or URL as given
    kind: str  # html | text
    body: bytes
    text: str
    sha256: str
    encoding: str
    decoding: str | None = None  # how the text was decoded: declared, detected, stray bytes repaired
    url: str | None = None  # URL fetched from, or canonical URL
    final_url: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    published: str | None = None  # ISO date or datetime
    site_name: str | None = None
    author: str | None = None
    http_status: int | None = None
    fetched_at: str | None = None
    meta: dict = field(default_factory=dict)
    readable: str | None = None  # the article's words, without markup or scripts (capped): what search reads


POST_STATUSES = ("pending", "archived", "unavailable", "not_found", "protected", "failed")
SETTLED = ("archived", "unavailable", "not_found", "protected")  # a source said so; re-checked, not retried


@dataclass(frozen=True)
class QueuedPost:
    """A post taken from the fetch queue: what the worker needs to fetch it and the status decision to judge it."""

    id: int  # posts.id
    platform: str
    platform_post_id: str | None = None  # None while the article's embed lost the id
    handle: str | None = None
    text: str | None = None
    created_date: str | None = None
    canonical_url: str | None = None
    status: str = "pending"
    status_changed_at: str | None = None
    archived_at: str | None = None
    fetch_failures: int = 0
    pic_links: tuple[str, ...] = ()
    known_media: tuple[str, ...] = ()  # media URLs already kept: not downloaded again
    web_archive_at: str | None = None  # when the Wayback Machine last answered about it (availability, CDX)
    context_depth: int = 0  # 0: embedded in an article; n: reached through n relations from an embedded post
