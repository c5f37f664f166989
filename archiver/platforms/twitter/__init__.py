"""Twitter/X: embed signatures in HTML and in flattened text, URLs, and snapshot sources."""
from archiver.platforms.twitter.html import SIGNATURES, URL_MARKERS, from_element
from archiver.platforms.twitter.urls import NAME, canonical_url, parse_url


def detect_text(text: str):
    """Tweets flattened into plain text."""
    from archiver.platforms.twitter.text import detect_text as _detect_text

    return _detect_text(text)


__all__ = ["NAME", "SIGNATURES", "URL_MARKERS", "from_element", "parse_url", "canonical_url", "detect_text"]


def snapshot(post: dict, ctx):
    """Resolve, then fetch syndication, oEmbed, Wayback captures and media of one tweet."""
    from archiver.platforms.twitter.sources import snapshot as _snapshot

    return _snapshot(post, ctx)
