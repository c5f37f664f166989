"""What fetching one post produces: plain results a worker hands to the store, never touching SQLite."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceResult:
    """What one snapshot source said about a post."""

    source: str  # syndication | oembed | wayback-available | wayback-cdx | tiktok-oembed | ...
    outcome: str  # archived | unavailable | not_found | protected | captures | error | skipped
    url: str | None = None
    exchange: Any = None  # archiver.http.Exchange, when a response came back
    warc: Any = None  # archiver.warc.WarcLocation of that response
    parsed: dict | None = None  # the fields read from the body, JSON-ready
    text: str | None = None
    created_at: str | None = None
    error: str | None = None
    retry_after: float | None = None  # the upstream asked us to come back later (seconds)
    captures: list = field(default_factory=list)  # Wayback captures found
    context: list = field(default_factory=list)  # ContextLink: the posts its body quotes, answers, took media from


@dataclass
class MediaResult:
    """One media file of a post: downloaded and kept, or why not."""

    url: str
    kind: str | None = None  # photo | video | animated_gif
    sha256: str | None = None
    path: str | None = None  # relative to the database's folder
    content_type: str | None = None
    size: int | None = None
    warc: Any = None
    error: str | None = None
    source_tweet_id: str | None = None  # the tweet the media was uploaded to, if another one
    owner: str | None = None  # the platform id of the context post it belongs to; None: the fetched post's
    perceptual_hash: str | None = None  # of a picture (a photo, a video's poster), fetch.likeness
    hash_algorithm: str | None = None


@dataclass
class ContextLink:
    """Another post the fetched one points at: the post it quotes, the post it answers, the post its media
    was first uploaded to; with the other post as the body carried it, when it did."""

    relation: str  # quotes | replies_to | media_from
    platform: str
    post_id: str  # the other post's platform id
    learned_from: str  # syndication | oembed | article
    source: str  # the snapshot source whose body says so (its latest snapshot is the evidence)
    handle: str | None = None
    author_name: str | None = None
    text: str | None = None
    created_at: str | None = None
    canonical_url: str | None = None
    carried: dict | None = None  # the other post as the body carried it (parsed), or None: it must be fetched
    outcome: str | None = None  # what the carried post says of itself: archived | unavailable
    reason: str | None = None  # a carried tombstone's text
    media_url: str | None = None  # media_from: the file
    next_fetch_at: str | None = None  # when a post created from this link is first due (fetch.status)


@dataclass
class PostResult:
    """Everything one fetch of one post produced, written to the store in one transaction."""

    post_id: int  # posts.id
    resolution: Any = None  # platforms.twitter.resolve.Resolution, when an id had to be found
    sources: list[SourceResult] = field(default_factory=list)
    media: list[MediaResult] = field(default_factory=list)
    context: list[ContextLink] = field(default_factory=list)  # other posts it points at, within context_depth
    attempts: list = field(default_factory=list)  # retry.AttemptRecord, every request made
    status: str = "pending"
    reason: str = ""
    next_fetch_at: str | None = None
    failures: int = 0
    error: str | None = None  # a bug or an unexpected error while fetching this post
    interrupted: bool = False  # cut short by a stop request: not recorded, the post is requeued
