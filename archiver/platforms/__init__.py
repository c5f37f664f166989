"""Platform knowledge, one module per platform.

Each platform module exposes:

- ``NAME``: the platform name stored in ``embeds.platform`` / ``posts.platform``.
- ``HINTS``: lowercase substrings; an HTML page containing none of them cannot hold this
  platform's embed, so detection skips the parse entirely for it.
- ``XPATH``: one XPath expression selecting the candidate elements of its embed signatures.
- ``from_element(el, context) -> Embed | None``: read one candidate element.
- ``parse_url(url) -> PostRef | None``: recognise a URL of a single post of this platform.
- optionally ``detect_text(text) -> list[Embed]`` for posts flattened into plain text.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PostRef:
    """A single post named by a URL."""

    platform: str
    post_id: str
    url: str  # canonical URL
    handle: str | None = None


PLATFORM_MODULES = (
    "twitter", "instagram", "tiktok", "bluesky", "mastodon", "threads", "facebook", "youtube",
)


def load_platforms() -> list:
    """Import every platform module that exists, in a fixed order."""
    mods = []
    for name in PLATFORM_MODULES:
        try:
            mods.append(importlib.import_module(f"archiver.platforms.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"archiver.platforms.{name}":
                raise
    return mods


def parse_post_url(url: str) -> PostRef | None:
    """The post a URL names, on any known platform."""
    for mod in load_platforms():
        ref = mod.parse_url(url)
        if ref:
            return ref
    return None
