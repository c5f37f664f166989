"""Upstream answers the project builds itself, in the shapes the real endpoints return.

The real responses in ``../shared/samples`` are third-party data read in place; these stand-ins let a
clone alone exercise every capability.  Each builder writes the fields the real endpoint sends (the
syndication ``tweet-result`` as the embed widget receives it, oEmbed, the Wayback availability API and
CDX lines); ``STAND_INS`` serves a few posts under the ids the tests name, modelled on public tweets
(ids, handles, dates and media names as the tests' articles quote them).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PHOTO_ID = "1641086480675225601"  # @SamuelSusla, one photo
QUOTE_ID = "1641895049427550208"  # @mattcarrollcode quoting the photo tweet
TEXT_ID = "2023357708301455483"  # @jarredsumner, text only, an affiliation label
VIDEO_ID = "1684218600456876032"  # @Rainmaker1973, a video first uploaded to @AiBreakfast's tweet
VIDEO_ORIGIN_ID = "1684020175215927296"
CARD_ID = "1629262255744503809"  # @mattcarrollcode, a link card
REPLY_ID = "1629300000000000001"  # a reply to the card tweet
PHOTO_MEDIA = "FsZNOgcWAAEQtrd"
VIDEO_MEDIA_ID = "1684020091854225408"
VIDEO_FILE = f"/amplify_video/{VIDEO_MEDIA_ID}/vid/886x546/_Mb5SBNFpaVehGMW.mp4"
AVAILABLE_AT = "20230330120000"  # the capture the availability API names
CDX_AT = "20230329150000"  # the capture the CDX line names (another one)


def body(data: Any) -> bytes:
    """Compact UTF-8 JSON, as the endpoints send it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _user(user_id: str, handle: str, name: str, label: str | None = None, *, blue: bool = False,
          shape: str | None = None, label_url: str | None = None) -> dict:
    user = {"id_str": user_id, "name": name, "screen_name": handle, "verified": False, "is_blue_verified": blue,
            "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg"}
    if shape:
        user["profile_image_shape"] = shape
    if label:
        user["highlighted_label"] = {"description": label, "user_label_type": "BusinessLabel",
                                     "badge": {"url": f"https://pbs.twimg.com/profile_images/{user_id}/badge.jpg"}}
        if label_url:
            user["highlighted_label"]["url"] = {"url": label_url, "url_type": "DeepLink"}
    return user


@dataclass(frozen=True)
class Photo:
    """A photo attached to a tweet: its t.co code, its pbs.twimg.com media name and size."""

    code: str
    media: str
    width: int = 1200
    height: int = 675


@dataclass(frozen=True)
class Video:
    """A video attached to a tweet, possibly first uploaded to another (``origin``: handle, status id).

    ``more``: further mp4 variants (bitrate, file), listed after the first mp4 and the HLS playlist;
    ``views``: the view count the endpoint reports (``ext_media_stats``, ``viewCount``).
    """

    code: str
    media_id: str
    origin: tuple[str, str] | None = None
    file: str = "vid/886x546/clip.mp4"
    duration_ms: int = 14510
    more: tuple[tuple[int, str], ...] = ()
    views: int | None = None


def tweet(tweet_id: str, handle: str, name: str, text: str, created_at: str, *, user_id: str = "42",
          photos: tuple[Photo, ...] = (), video: Video | None = None, quoted: dict | None = None,
          parent: dict | None = None, card: dict | None = None, urls: tuple[tuple[str, str], ...] = (),
          label: str | None = None, favorites: int = 7, mentions: tuple[tuple[str, str, str], ...] = (),
          hashtags: tuple[str, ...] = (), replies: int | None = None, retweets: int | None = None,
          thread: str | None = None, blue: bool = False, shape: str | None = None,
          label_url: str | None = None) -> dict:
    """A syndication ``tweet-result`` body (as a dict); ``urls`` are (t.co link, expanded URL) in the text.

    ``mentions`` are (handle, user id, name) and ``hashtags`` tag texts, both found in ``text``; ``replies``
    and ``retweets`` the counts a quoted tweet carries; ``thread`` the ``self_thread`` id; ``blue``,
    ``shape`` and ``label_url`` the author's blue check, avatar shape and affiliation link.
    """
    media_entities, details, photo_list = [], [], []
    shown = text  # the text keeps its t.co links, and gains one per attached medium, as the endpoint sends it
    for i, p in enumerate(photos, 1):
        status = f"https://twitter.com/{handle}/status/{tweet_id}/photo/{i}"
        shown += f" https://t.co/{p.code}"
        entity = {"display_url": f"pic.twitter.com/{p.code}", "expanded_url": status,
                  "indices": [len(shown) - 23, len(shown)], "url": f"https://t.co/{p.code}"}
        media_entities.append(entity)
        details.append({**entity, "ext_media_availability": {"status": "Available"}, "type": "photo",
                        "media_url_https": f"https://pbs.twimg.com/media/{p.media}.jpg",
                        "original_info": {"height": p.height, "width": p.width},
                        "sizes": {"large": {"h": p.height, "resize": "fit", "w": p.width}}})
        photo_list.append({"expandedUrl": status, "url": f"https://pbs.twimg.com/media/{p.media}.jpg",
                           "width": p.width, "height": p.height})
    data: dict[str, Any] = {"__typename": "Tweet", "lang": "en", "favorite_count": favorites,
                            "possibly_sensitive": False, "created_at": created_at}
    if video:
        owner, owner_id = video.origin or (handle, tweet_id)
        shown += f" https://t.co/{video.code}"
        entity = {"display_url": f"pic.twitter.com/{video.code}", "indices": [len(shown) - 23, len(shown)],
                  "expanded_url": f"https://twitter.com/{owner}/status/{owner_id}/video/1",
                  "url": f"https://t.co/{video.code}"}
        media_entities.append(entity)
        base = f"https://video.twimg.com/amplify_video/{video.media_id}"
        poster = f"https://pbs.twimg.com/amplify_video_thumb/{video.media_id}/img/poster.jpg"
        variants = [{"bitrate": 2176000, "content_type": "video/mp4", "url": f"{base}/{video.file}?tag=14"},
                    {"content_type": "application/x-mpegURL", "url": f"{base}/pl/list.m3u8?tag=14"}]
        variants += [{"bitrate": rate, "content_type": "video/mp4", "url": f"{base}/{file}?tag=14"}
                     for rate, file in video.more]
        details.append({**entity, "type": "video", "media_url_https": poster,
                        "ext_media_availability": {"status": "Available"},
                        "original_info": {"height": 546, "width": 886},
                        "video_info": {"aspect_ratio": [443, 273], "duration_millis": video.duration_ms,
                                       "variants": variants}})
        if video.views is not None:
            details[-1]["ext_media_stats"] = {"view_count": video.views}
        data["video"] = {"aspectRatio": [443, 273], "contentType": "media_entity", "durationMs": video.duration_ms,
                         "poster": poster, "variants": [{"type": v["content_type"], "src": v["url"]} for v in variants],
                         "videoId": {"type": "tweet", "id": tweet_id}}
        if video.views is not None:
            data["video"]["viewCount"] = video.views
    if replies is not None:
        data["reply_count"] = replies
    if retweets is not None:
        data["retweet_count"] = retweets
    if thread is not None:
        data["self_thread"] = {"id_str": thread}
    data.update({
        "display_text_range": [0, len(text)],
        "entities": {"hashtags": [{"indices": [text.find(f"#{tag}"), text.find(f"#{tag}") + len(tag) + 1], "text": tag}
                                  for tag in hashtags],
                     "user_mentions": [{"id_str": uid, "indices": [text.find(f"@{h}"), text.find(f"@{h}") + len(h) + 1],
                                        "name": n, "screen_name": h} for h, uid, n in mentions],
                     "symbols": [],
                     "urls": [{"display_url": expanded.split("://", 1)[-1][:26], "expanded_url": expanded,
                               "indices": [text.find(link), text.find(link) + len(link)], "url": link}
                              for link, expanded in urls],
                     **({"media": media_entities} if media_entities else {})},
        "id_str": tweet_id, "text": shown,
        "user": _user(user_id, handle, name, label, blue=blue, shape=shape, label_url=label_url),
        "edit_control": {"edit_tweet_ids": [tweet_id], "is_edit_eligible": False, "edits_remaining": "5"},
        "conversation_count": 1, "news_action_type": "conversation", "isEdited": False, "isStaleEdit": False,
    })
    if details:
        data["mediaDetails"] = details
    if photos:
        data["photos"] = photo_list
    if quoted is not None:
        data["quoted_tweet"] = {k: v for k, v in quoted.items() if k != "__typename"}
    if parent is not None:
        data["in_reply_to_status_id_str"] = parent["id_str"]
        data["in_reply_to_screen_name"] = parent["user"]["screen_name"]
        data["in_reply_to_user_id_str"] = parent["user"]["id_str"]
        data["parent"] = {k: v for k, v in parent.items() if k != "__typename"}
    if card is not None:
        data["card"] = card
    return data


def link_card(link: str, domain: str, title: str, description: str, image: str) -> dict:
    """A ``summary_large_image`` card as the syndication body carries it (binding values by name)."""
    def image_value(size: str, w: int, h: int) -> dict:
        return {"image_value": {"height": h, "width": w, "url": f"{image}?format=png&name={size}"}, "type": "IMAGE"}

    return {"name": "summary_large_image", "url": link, "binding_values": {
        "title": {"string_value": title, "type": "STRING"},
        "description": {"string_value": description, "type": "STRING"},
        "domain": {"string_value": domain, "type": "STRING"},
        "vanity_url": {"string_value": domain, "type": "STRING", "scribe_key": "vanity_url"},
        "card_url": {"string_value": link, "type": "STRING", "scribe_key": "card_url"},
        "thumbnail_image": image_value("280x150", 280, 147),
        "photo_image_full_size_large": image_value("800x419", 800, 419),
        "thumbnail_image_original": image_value("orig", 1080, 567),
    }}


def tombstone(text: str = "This Post was deleted by the Post author. Learn more") -> dict:
    """The ``TweetTombstone`` the endpoint returns for a deleted (or withheld) post."""
    return {"__typename": "TweetTombstone", "tombstone": {"text": {"text": text, "rtl": False, "entities": [
        {"from_index": len(text) - 10, "to_index": len(text), "ref": {
            "__typename": "TimelineUrl", "url": "https://help.twitter.com/rules-and-policies/notices-on-twitter",
            "url_type": "ExternalUrl"}}]}}}


def oembed_tweet(url: str, handle: str, name: str, text: str, date: str) -> dict:
    """publish.twitter.com's oEmbed answer for a tweet URL (the blockquote it would have pasted)."""
    return {"url": url, "author_name": name, "author_url": f"https://twitter.com/{handle}",
            "html": (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {name} (@{handle}) '
                     f'<a href="{url}?ref_src=twsrc%5Etfw">{date}</a></blockquote>\n'
                     '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n\n'),
            "width": 550, "height": None, "type": "rich", "cache_age": "3153600000",
            "provider_name": "Twitter", "provider_url": "https://twitter.com", "version": "1.0"}


def oembed_video(provider: str, url: str, title: str, author: str, author_url: str, thumbnail: str,
                 html: str | None = None) -> dict:
    """A video provider's oEmbed answer (YouTube's and TikTok's share these fields); ``html`` defaults to an iframe."""
    return {"type": "video", "version": "1.0", "title": title, "author_name": author, "author_url": author_url,
            "provider_name": provider, "provider_url": f"https://www.{provider.lower()}.com/",
            "thumbnail_url": thumbnail, "thumbnail_width": 480, "thumbnail_height": 360,
            "width": 200, "height": 113,
            "html": html or f'<iframe width="200" height="113" src="{url}"></iframe>'}


YOUTUBE_ID = "dQw4w9WgXcQ"
TIKTOK_ID = "7348705314746699054"
OEMBED_TWEET_ID = "1679189879086018562"


def oembed_stand_ins() -> dict[str, tuple[dict, str]]:
    """provider -> (oEmbed answer, pattern the asked ``url=`` must match), for Twitter, YouTube, TikTok."""
    status = f"https://twitter.com/alleyco/status/{OEMBED_TWEET_ID}"
    return {
        "twitter": (oembed_tweet(status, "alleyco", "Alley", "We are hiring engineers who like news.",
                                 "July 12, 2023"), rf"/status(?:es)?/{OEMBED_TWEET_ID}\b"),
        "youtube": (oembed_video("YouTube", f"https://www.youtube.com/embed/{YOUTUBE_ID}?feature=oembed",
                                 "A music video, as its uploader titled it", "Uploader",
                                 "https://www.youtube.com/@uploader", f"https://i.ytimg.com/vi/{YOUTUBE_ID}/hqdefault.jpg"),
                    YOUTUBE_ID),
        "tiktok": (oembed_video("TikTok", f"https://www.tiktok.com/embed/v2/{TIKTOK_ID}",
                                "A short clip with a caption #news", "Creator", "https://www.tiktok.com/@creator",
                                f"https://p16-sign.tiktokcdn.com/obj/{TIKTOK_ID}.jpeg",
                                f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@creator/video/{TIKTOK_ID}" '
                                f'data-video-id="{TIKTOK_ID}" style="max-width: 605px;min-width: 325px;"><section>'
                                '<a target="_blank" href="https://www.tiktok.com/@creator">@creator</a> A short clip '
                                'with a caption</section></blockquote> '
                                '<script async src="https://www.tiktok.com/embed.js"></script>'),
                   rf"/video/{TIKTOK_ID}\b"),
    }


def wayback_available(url: str, timestamp: str = AVAILABLE_AT) -> dict:
    """The Wayback availability API's answer naming the closest capture of ``url``."""
    return {"url": url, "archived_snapshots": {"closest": {
        "status": "200", "available": True, "timestamp": timestamp,
        "url": f"http://web.archive.org/web/{timestamp}/{url}"}}}


def cdx_line(url: str, timestamp: str = CDX_AT, digest: str = "Q4YULN754FHV2U6Q5JUT6Q2P57WEWNNY",
             length: int = 1415) -> str:
    """One line of the CDX server's plain-text output (urlkey timestamp original mimetype status digest length)."""
    host, _, path = url.split("://", 1)[-1].partition("/")
    key = ",".join(reversed(host.lower().removeprefix("www.").split("."))) + ")/" + path.lower()
    return f"{key} {timestamp} {url} text/html 200 {digest} {length}\n"


def _stand_ins() -> dict[str, dict]:
    photo = tweet(PHOTO_ID, "SamuelSusla", "sammy",
                  "If you are interested about View Flattening in React Native, I wrote a short post about it: "
                  "https://t.co/4G6RAMfrHy\n\nLet me know what you think!", "2023-03-29T14:34:41.000Z",
                  user_id="469266133", photos=(Photo("rQd6FIwZ0U", PHOTO_MEDIA, 1995, 896),),
                  urls=(("https://t.co/4G6RAMfrHy",
                         "https://github.com/reactwg/react-native-new-architecture/discussions/110"),),
                  favorites=226)
    card = tweet(CARD_ID, "mattcarrollcode", "Matt Carroll",
                 "I recently joined @reactjs! What would you like to see next in the React tutorial? "
                 "https://t.co/fI2B6TT8rL", "2023-02-24T23:29:26.000Z", user_id="378380992",
                 urls=(("https://t.co/fI2B6TT8rL", "https://beta.reactjs.org/learn/tutorial-tic-tac-toe"),),
                 card=link_card("https://t.co/fI2B6TT8rL", "react.dev", "React",
                                "The library for web and native user interfaces",
                                "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm"))
    return {
        PHOTO_ID: photo,
        QUOTE_ID: tweet(QUOTE_ID, "mattcarrollcode", "Matt Carroll",
                        "#ReactNative's new architecture renderer brings view flattening, previously an Android-only "
                        "optimization, to iOS. View flattening reduces the depth of view hierarchies, lowers memory "
                        "usage, and speeds up drawing times\u2014all without extra setup!", "2023-03-31T20:07:39.000Z",
                        user_id="378380992", quoted=photo),
        TEXT_ID: tweet(TEXT_ID, "jarredsumner", "Jarred Sumner",
                       "Underdocumented: `bun build --compile` supports `--splitting \u2014format=esm` Lazy load code "
                       "embedded in your single-file executable to improve CLI start time", "2026-02-16T11:24:04.000Z",
                       user_id="2489440172", label="Bun", favorites=14),
        VIDEO_ID: tweet(VIDEO_ID, "Rainmaker1973", "Massimo",
                        "For the first time in the world, researchers succeeded in synthesizing a room-temperature "
                        "superconductor", "2023-07-26T15:06:20.000Z", user_id="177101260",
                        video=Video("1N4ogvaMPA", VIDEO_MEDIA_ID, ("AiBreakfast", VIDEO_ORIGIN_ID),
                                    file="vid/886x546/_Mb5SBNFpaVehGMW.mp4")),
        CARD_ID: card,
        REPLY_ID: tweet(REPLY_ID, "reader", "A Reader", "@mattcarrollcode Hooks, please.", "2023-02-25T08:00:00.000Z",
                        user_id="77", parent=card),
    }


STAND_INS: dict[str, dict] = _stand_ins()
