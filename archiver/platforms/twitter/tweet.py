"""The shape of a tweet as cdn.syndication.twimg.com/tweet-result describes it: frozen, typed results."""
from __future__ import annotations

from dataclasses import dataclass

from archiver.platforms.twitter.urls import pic_code


@dataclass(frozen=True)
class User:
    """The author of a tweet as the syndication endpoint shows it to logged-out readers."""

    id: str | None
    screen_name: str | None
    name: str | None
    verified: bool = False  # legacy (pre-2023) verification
    is_blue_verified: bool = False
    verified_type: str | None = None  # Business, Government, ... when present
    profile_image_url: str | None = None  # as given (usually the 48px "_normal" variant)
    profile_image_original: str | None = None  # same image without the size suffix
    profile_image_shape: str | None = None  # Circle, Square (organisations), Hexagon
    affiliation: str | None = None  # highlighted_label description, e.g. the employer's name
    affiliation_url: str | None = None


@dataclass(frozen=True)
class Link:
    """A t.co link in the text: what it points at and how it was displayed."""

    url: str  # the t.co URL as it appears in the raw text
    expanded_url: str | None
    display_url: str | None
    indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Mention:
    """An @mention in the text."""

    screen_name: str
    id: str | None = None
    name: str | None = None
    indices: tuple[int, ...] = ()


@dataclass(frozen=True)
class Hashtag:
    """A #hashtag (or, with kind="symbol", a $cashtag) in the text."""

    text: str
    indices: tuple[int, ...] = ()
    kind: str = "hashtag"


@dataclass(frozen=True)
class Entities:
    """The entities of a tweet's text."""

    urls: tuple[Link, ...] = ()
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    symbols: tuple[Hashtag, ...] = ()
    media_links: tuple[Link, ...] = ()  # the pic.twitter.com/pic.x.com link(s) of the media


@dataclass(frozen=True)
class VideoVariant:
    """One encoding of a video."""

    url: str
    content_type: str | None
    bitrate: int | None


@dataclass(frozen=True)
class Media:
    """One photo, video or GIF attached to (or shown by) a tweet."""

    type: str  # photo | video | animated_gif
    url: str | None  # best-quality download: photo at name=orig, or the highest-bitrate mp4
    preview_url: str | None  # media_url_https: the photo itself or the video's poster frame
    expanded_url: str | None  # twitter.com/HANDLE/status/ID/photo/1 - ID may be ANOTHER tweet
    display_url: str | None  # pic.twitter.com/CODE or pic.x.com/CODE
    tco_url: str | None  # https://t.co/CODE as in the raw text
    media_key: str | None = None
    media_id: str | None = None  # id_str, or the id in a video poster URL
    source_handle: str | None = None  # from expanded_url: whose tweet the media was uploaded to
    source_tweet_id: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    bitrate: int | None = None  # of `url`, for videos
    content_type: str | None = None  # of `url`, for videos
    variants: tuple[VideoVariant, ...] = ()
    alt_text: str | None = None
    availability: str | None = None  # ext_media_availability.status, e.g. Available
    view_count: int | None = None

    @property
    def pic_code(self) -> str | None:
        """The CODE of pic.twitter.com/CODE."""
        return pic_code(self.display_url or "")


@dataclass(frozen=True)
class EditControl:
    """Edit history pointers of a tweet."""

    edit_tweet_ids: tuple[str, ...] = ()
    initial_tweet_id: str | None = None  # set when this tweet is an edit of an earlier one
    editable_until: str | None = None  # ISO-8601 UTC
    is_edit_eligible: bool | None = None
    edits_remaining: int | None = None


@dataclass(frozen=True)
class InReplyTo:
    """The tweet this one answers."""

    status_id: str | None
    screen_name: str | None
    user_id: str | None


@dataclass(frozen=True)
class Card:
    """A link preview card, summarised."""

    name: str | None  # summary, summary_large_image, player, ...
    url: str | None  # usually the t.co URL
    expanded_url: str | None  # url resolved through the tweet's own url entities
    title: str | None = None
    description: str | None = None
    domain: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class SyndicationResult:
    """What one tweet-result response says: an archived tweet, a tombstone, nothing, or an error."""

    outcome: str  # archived | unavailable | not_found | error
    status_code: int | None = None
    error: str | None = None  # one line, for outcome == "error"
    reason: str | None = None  # tombstone text, for outcome == "unavailable"
    typename: str | None = None
    tweet_id: str | None = None
    text: str | None = None  # t.co links expanded, media links as pic.twitter.com/CODE, HTML unescaped
    raw_text: str | None = None  # exactly as returned
    display_text_range: tuple[int, ...] = ()
    created_at: str | None = None  # ISO-8601 UTC
    lang: str | None = None
    user: User | None = None
    entities: Entities | None = None
    media: tuple[Media, ...] = ()
    quoted_tweet: SyndicationResult | None = None  # one level deep
    parent: SyndicationResult | None = None  # the tweet replied to, when included (one level)
    edit_control: EditControl | None = None
    in_reply_to: InReplyTo | None = None
    card: Card | None = None
    favorite_count: int | None = None
    reply_count: int | None = None
    retweet_count: int | None = None
    quote_count: int | None = None
    conversation_count: int | None = None
    possibly_sensitive: bool | None = None
    is_edited: bool | None = None
    is_stale_edit: bool | None = None
    note_tweet_id: str | None = None  # long post: `text` is only its first part
    self_thread_id: str | None = None

    @property
    def unavailable(self) -> bool:
        """True for a tombstone: deleted, suspended, protected or hidden from logged-out readers."""
        return self.outcome == "unavailable"
