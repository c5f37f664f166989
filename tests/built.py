"""Responses the project builds itself (no third-party samples): the seed's three tweets behind a local upstream.

``seed_upstream(upstream, folder)`` serves, for each flattened tweet of ``seeds/``, its t.co short link
(301 to the status URL), a syndication ``tweet-result`` in the shape the real endpoint returns, and one
photo; it writes an ``archiver.toml`` pointing every endpoint at the server.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from archiver.config import DEFAULT_RATES, Endpoints
from tests.upstream import fake_media



@dataclass(frozen=True)
class SeedTweet:
    code: str  # the pic.twitter.com code the article kept
    handle: str
    name: str
    tweet_id: str
    created_at: str
    text: str
    photo: str  # pbs.twimg.com/media/<photo>


SEED_TWEETS = (
    SeedTweet("ZYDJBBA77P", "FirstLadyOffice", "Office of the First Lady", "2019191919191919191",
              "2026-02-04T17:02:11.000Z", ".@FLOTUS Melania Trump engaged in a private meeting", "GSeedPhotoAAA1"),
    SeedTweet("gNjuDfhHxL", "cherylbeantx", "Cheryl Bean for Texas", "1956956956956956956",
              "2025-08-17T12:00:00.000Z", "First Lady Melania Trump's letter to President Vladimir Putin.",
              "GSeedPhotoBBB2"),
    SeedTweet("YsdskiYfqv", "atrupar", "Aaron Rupar", "2019292929292929292",
              "2026-02-04T20:30:00.000Z", "Q: Has President Putin agreed to release more Ukrainian children?",
              "GSeedPhotoCCC3"),
)


def tweet_json(t: SeedTweet) -> bytes:
    """A syndication tweet-result body for `t`, with one photo."""
    return json.dumps({
        "__typename": "Tweet", "id_str": t.tweet_id, "lang": "en", "created_at": t.created_at, "text": t.text,
        "display_text_range": [0, len(t.text)], "favorite_count": 7, "conversation_count": 1,
        "user": {"id_str": "42", "name": t.name, "screen_name": t.handle,
                 "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/a_normal.jpg"},
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": [],
                     "media": [{"display_url": f"pic.twitter.com/{t.code}", "expanded_url":
                                f"https://twitter.com/{t.handle}/status/{t.tweet_id}/photo/1",
                                "indices": [0, 1], "url": f"https://t.co/{t.code}"}]},
        "mediaDetails": [{"type": "photo", "display_url": f"pic.twitter.com/{t.code}",
                          "expanded_url": f"https://twitter.com/{t.handle}/status/{t.tweet_id}/photo/1",
                          "media_url_https": f"https://pbs.twimg.com/media/{t.photo}.jpg",
                          "original_info": {"width": 640, "height": 480}, "url": f"https://t.co/{t.code}"}],
        "photos": [{"url": f"https://pbs.twimg.com/media/{t.photo}.jpg", "width": 640, "height": 480}],
    }, separators=(",", ":")).encode("utf-8")


def write_config(folder: Path, upstream, extra: str = "", rates: dict | None = None, **limits) -> Path:
    """archiver.toml beside the archive: every endpoint on the local upstream, fast retries, no endpoint
    rates (`rates` sets some, per minute); `limits` override the [limits] given here, `extra` is appended
    (more sections)."""
    lines = ["[http]", "allow_private = true", 'allowed_hosts = ["127.0.0.1"]', "read_timeout = 3",
             "connect_timeout = 2", "total_timeout = 15", "", "[endpoints]"]
    lines += [f'{f.name} = "{upstream.url}"' for f in fields(Endpoints)]
    limits = {"backoff_base": 0.01, "retry_wait_max": 2, "per_host_rate": 0, "retries": 2, "concurrency": 4,
              "per_host_concurrency": 4, **limits}
    lines += ["", "[limits]"] + [f"{k} = {v}" for k, v in limits.items()]
    rates = {name: 0 for name in DEFAULT_RATES} | (rates or {})
    lines += ["", "[rates]"] + [f'"{k}" = {v}' for k, v in rates.items()]
    path = folder / "archiver.toml"
    path.write_text("\n".join(lines) + "\n" + (f"\n{extra}" if extra else ""))
    return path


def seed_upstream(upstream, folder: Path, extra_config: str = "", rates: dict | None = None) -> dict:
    """Serve the seed's tweets (t.co, syndication, photos); returns {tweet_id: (json bytes, photo bytes)}."""
    served = {}
    for t in SEED_TWEETS:
        upstream.tco(t.code, handle=t.handle, tweet_id=t.tweet_id, mode="redirect")
        body = tweet_json(t)
        upstream.route("/tweet-result", body, query={"id": t.tweet_id}, content_type="application/json")
        photo = fake_media(f"{t.photo}.jpg", 20_000)
        upstream.route(f"/media/{t.photo}", photo, content_type="image/jpeg")
        served[t.tweet_id] = (body, photo)
    write_config(folder, upstream, extra_config, rates, retries=1)
    return served
