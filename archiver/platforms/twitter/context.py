"""The posts a tweet points at, read from its syndication body: the tweet it quotes, the tweet it answers,
the tweets its media was first uploaded to. No request is made here: what the body carries is kept as it
came; what it only names is left for the queue to fetch."""
from __future__ import annotations

from archiver.fetch.results import ContextLink
from archiver.fetch.sources import jsonable
from archiver.platforms.twitter.urls import canonical_url


def context_links(tweet, source: str = "syndication") -> list[ContextLink]:
    """The ContextLinks of an archived tweet-result (a SyndicationResult): quotes, replies_to, media_from."""
    links: list[ContextLink] = []
    if tweet.quoted_tweet is not None and tweet.quoted_tweet.tweet_id:
        links.append(_carried("quotes", tweet.quoted_tweet, source))
    reply = tweet.in_reply_to
    parent = tweet.parent
    if parent is not None and (parent.tweet_id or (reply and reply.status_id)):
        link = _carried("replies_to", parent, source)
        if not link.post_id:  # a tombstone carries no id: the reply names it
            link.post_id = reply.status_id
            link.handle = reply.screen_name
            link.canonical_url = canonical_url(reply.status_id, reply.screen_name)
        links.append(link)
    elif reply is not None and reply.status_id:
        links.append(ContextLink("replies_to", "twitter", reply.status_id, "syndication", source,
                                 handle=reply.screen_name, canonical_url=canonical_url(reply.status_id, reply.screen_name)))
    for item in tweet.media:
        origin = item.source_tweet_id
        if origin and origin != tweet.tweet_id:
            links.append(ContextLink("media_from", "twitter", origin, "syndication", source, handle=item.source_handle,
                                     canonical_url=canonical_url(origin, item.source_handle), media_url=item.url))
    return links


def _carried(relation: str, nested, source: str) -> ContextLink:
    """A link to a post the body carries whole (or as a tombstone): kept as that post's first snapshot."""
    user = nested.user
    handle = user.screen_name if user else None
    return ContextLink(
        relation, "twitter", nested.tweet_id, "syndication", source, handle=handle,
        author_name=user.name if user else None, text=nested.text, created_at=nested.created_at,
        canonical_url=canonical_url(nested.tweet_id, handle) if nested.tweet_id else None,
        carried=jsonable(nested), outcome=nested.outcome, reason=nested.reason)
