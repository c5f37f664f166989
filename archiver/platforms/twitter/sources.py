"""How a tweet is snapshotted: resolve its id if the article lost it, then syndication, oEmbed,
the Wayback Machine, and its media."""
from __future__ import annotations

from archiver.media import download
from archiver.platforms.twitter import oembed, syndication
from archiver.platforms.twitter.urls import canonical_url
from archiver.snapshots import SourceResult
from archiver.sources import fetch_source, jsonable, save_page_now, wayback_captures


def snapshot(post: dict, ctx):
    """(resolution or None, source results, media results) for one tweet; never raises on network errors."""
    resolution = None
    tweet_id = post.get("platform_post_id")
    handle = post.get("handle")
    if not tweet_id:
        from archiver.platforms.twitter.resolve import resolve_tweet_id

        resolution = resolve_tweet_id(ctx.get, ctx.endpoints, handle=handle, date=post.get("created_date"),
                                      text=post.get("text"), pic_links=tuple(post.get("pic_links") or ()))
        if not resolution.post_id:
            return resolution, [], []
        tweet_id = resolution.post_id
        handle = handle or resolution.handle
    url = canonical_url(tweet_id, handle)
    synd, media = _syndication(ctx, tweet_id, post)
    results = [synd, _oembed(ctx, url)]
    results += wayback_captures(ctx, url, f"twitter.com/{handle or 'i/web'}/status/{tweet_id}")
    saved = save_page_now(ctx, url)
    if saved is not None:
        results.append(saved)
    return resolution, results, media


def _syndication(ctx, tweet_id: str, post: dict):
    result, parsed = fetch_source(ctx, "syndication", syndication.build_url(ctx.endpoints.syndication, tweet_id),
                                  syndication.classify)
    media = []
    if parsed is None:
        return result, media
    result.parsed = jsonable(parsed)
    if parsed.outcome == "archived":
        result.text, result.created_at = parsed.text, parsed.created_at
        known = set(post.get("known_media") or ())
        for item in parsed.media:
            if item.url and item.url not in known:
                media.append(download(ctx, item.url, item.type, source_tweet_id=item.source_tweet_id))
    elif parsed.outcome == "unavailable":
        result.error = parsed.reason
    return result, media


def _oembed(ctx, tweet_url: str) -> SourceResult:
    result, parsed = fetch_source(ctx, "oembed", oembed.build_url(ctx.endpoints.twitter_oembed, tweet_url),
                                  oembed.classify)
    if parsed is not None:
        result.parsed = jsonable(parsed)
        result.text = parsed.text
    return result
