"""Twitter/X URL shapes: status URLs, pic links, t.co links, canonical form."""
from __future__ import annotations

import re

from archiver.platforms import PostRef

NAME = "twitter"
_HOSTS = r"(?:(?:www\.|mobile\.|m\.)?(?:twitter|x)\.com)"
# /HANDLE/status/ID, /HANDLE/statuses/ID, /#!/HANDLE/status/ID, /i/web/status/ID, /i/status/ID
STATUS_URL = re.compile(
    r"(?:https?:)?//" + _HOSTS + r"/(?:#!/)?(?:(?P<handle>[A-Za-z0-9_]{1,15})|i/web|i)/status(?:es)?/(?P<id>\d{1,20})(?!\d)",
    re.IGNORECASE,
)
PIC_LINK = re.compile(r"\bpic\.(?:twitter|x)\.com/[A-Za-z0-9]{4,16}", re.IGNORECASE)
# One whole pic link (scheme optional), for its CODE.
_PIC_CODE = re.compile(r"^(?:https?://)?(?:www\.)?pic\.(?:twitter|x)\.com/([A-Za-z0-9]+)/?$", re.IGNORECASE)
TCO_LINK = re.compile(r"https?://t\.co/[A-Za-z0-9]{4,16}", re.IGNORECASE)
_NOT_HANDLES = {"i", "intent", "share", "home", "search", "hashtag", "settings", "explore"}


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """The twitter.com URL of a status."""
    return f"https://twitter.com/{handle or 'i/web'}/status/{post_id}"


def parse_url(url: str | None) -> PostRef | None:
    """The status a twitter.com / x.com URL names (query and ?ref_src ignored)."""
    if not url:
        return None
    m = STATUS_URL.search(url.strip())
    if not m:
        return None
    handle = m.group("handle")
    if handle and handle.lower() in _NOT_HANDLES:
        handle = None
    post_id = m.group("id")
    return PostRef(NAME, post_id, canonical_url(post_id, handle), handle)


def names_tweet(tweet_id: str, handle: str | None = None):
    """A test of whether a URL names this status: the id decides; a handle, where both have one, must be
    the same up to case (never a prefix or a substring)."""
    def same(url: str | None) -> bool:
        ref = parse_url(url)
        if ref is None or ref.post_id != str(tweet_id):
            return False
        return not (handle and ref.handle) or ref.handle.lower() == handle.lower()
    return same


def pic_links(text: str) -> tuple[str, ...]:
    """Every pic.twitter.com / pic.x.com link in the text, without scheme, in order, once each."""
    return tuple(dict.fromkeys(m.group(0) for m in PIC_LINK.finditer(text)))


def pic_code(pic_link: str) -> str | None:
    """CODE from pic.twitter.com/CODE, pic.x.com/CODE (scheme optional), or a bare CODE."""
    if not isinstance(pic_link, str):
        return None
    link = pic_link.strip()
    m = _PIC_CODE.match(link)
    if m:
        return m.group(1)
    return link if re.fullmatch(r"[A-Za-z0-9]{4,}", link) else None
