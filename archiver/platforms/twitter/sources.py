"""How a tweet is snapshotted: resolve its id if the article lost it, then syndication, oEmbed,
the Wayback Machine, and its media."""
from __future__ import annotations

from archiver.fetch.media import download
import archiver.platforms.twitter.oembed as oembed
import archiver.platforms.twitter.syndication as syndication
from archiver.platforms.twitter.context import context_links
from archiver.platforms.twitter.urls import canonical_url, names_tweet
from archiver.fetch.results import SourceResult
from archiver.fetch.sources import answered, fetch_source, jsonable, web_archive_evidence


def snapshot(post, ctx):
    """(resolution or None, source results, media results) for one tweet; never raises on network errors."""
    resolution = None
    tweet_id = post.platform_post_id
    handle = post.handle
    if not tweet_id:
        from archiver.platforms.twitter.resolve import resolve_tweet_id

        resolution = resolve_tweet_id(ctx.get, ctx.endpoints, handle=handle, date=post.created_date,
                                      text=post.text, pic_links=post.pic_links)
        if not resolution.post_id:
            return resolution, [], []
        tweet_id = resolution.post_id
        handle = handle or resolution.handle
    url = canonical_url(tweet_id, handle)
    # The tweet-result that verified a resolved id is the syndication snapshot: it is not asked for twice.
    known = (resolution.tweet_exchange, resolution.tweet) \
        if resolution is not None and resolution.tweet_exchange is not None else None
    synd, media = _syndication(ctx, tweet_id, post, known)
    results = [synd]
    # A re-check of a tweet syndication still shows needs nothing else: oEmbed is asked on the first
    # archive (its embed HTML is evidence) and whenever syndication cannot tell (a tombstone tells
    # hidden from deleted only with oEmbed's answer; an error tells nothing).
    if synd.outcome != "archived" or not post.archived_at:
        results.append(_oembed(ctx, url))
    results += web_archive_evidence(ctx, url, f"twitter.com/{handle or 'i/web'}/status/{tweet_id}",
                                    same_post=names_tweet(tweet_id, handle), post=post)
    return resolution, results, media


def _syndication(ctx, tweet_id: str, post, known=None):
    url = syndication.build_url(ctx.endpoints.syndication, tweet_id)
    if known is not None:
        ex, parsed = known
        result = answered("syndication", url, ex, parsed)
    else:
        result, parsed = fetch_source(ctx, "syndication", url, syndication.classify)
    media = []
    if parsed is None:
        return result, media
    result.parsed = jsonable(parsed)
    if parsed.outcome == "archived":
        result.text, result.created_at = parsed.text, parsed.created_at
        kept = set(post.known_media)
        for item in parsed.media:
            media += _download(ctx, item, kept)
        if post.context_depth < ctx.settings.fetch.context_depth:
            # The posts it quotes and answers: kept as posts from what this body carries, no request of
            # their own; their media on this post's first archive only (re-checks are theirs to make).
            result.context = context_links(parsed)
            for nested in (parsed.quoted_tweet, parsed.parent) if not post.archived_at else ():
                if nested is not None and nested.outcome == "archived" and nested.tweet_id:
                    for item in nested.media:
                        media += _download(ctx, item, kept, owner=nested.tweet_id)
    elif parsed.outcome == "unavailable":
        result.error = parsed.reason
    return result, media


def _download(ctx, item, kept: set, owner: str | None = None) -> list:
    """A medium not kept yet, and a video's poster (the picture perceptual hashes compare)."""
    out = []
    if item.url and item.url not in kept:
        kept.add(item.url)
        out.append(download(ctx, item.url, item.type, source_tweet_id=item.source_tweet_id, owner=owner))
    poster = item.preview_url if item.type in ("video", "animated_gif") else None
    if poster and poster not in kept:
        kept.add(poster)
        out.append(download(ctx, poster, "poster", source_tweet_id=item.source_tweet_id, owner=owner))
    return out


def _oembed(ctx, tweet_url: str) -> SourceResult:
    result, parsed = fetch_source(ctx, "oembed", oembed.build_url(ctx.endpoints.twitter_oembed, tweet_url),
                                  oembed.classify)
    if parsed is not None:
        result.parsed = jsonable(parsed)
        result.text = parsed.text
    return result
