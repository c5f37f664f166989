"""Platform knowledge, one module per platform.

Each platform module exposes:

- ``NAME``: the platform name stored in ``embeds.platform`` / ``posts.platform``.
- ``SIGNATURES``: ``(hints, xpath)`` pairs. The hints are substrings; detection runs the XPath only
  on pages where one of them occurs (a page with none of any platform's is never parsed).
- optionally ``URL_MARKERS``: substrings of post URLs; a data-* attribute holding one marks a lazy
  placeholder that detection offers to ``from_element``.
- ``from_element(el, context) -> Embed | None``: read one candidate element.
- ``parse_url(url) -> PostRef | None``: recognise a URL of a single post of this platform.
- optionally ``detect_text(text) -> list[Embed]`` for posts flattened into plain text.
- ``snapshot(post, ctx) -> (resolution, source results, media results)``: how a post is fetched
  (``post`` a ``models.QueuedPost``, ``ctx`` a ``fetch.worker.FetchContext``).

Shared helpers: ``markup`` (outer markup, clean text, ancestry) and ``dates`` (dates as embeds show
them). Adding a platform is adding a module here and its name to ``PLATFORM_MODULES``. May import the
base modules, ``fetch`` (HTTP through the worker's context, the shared sources, media, Wayback) and
``read``; never ``detect``, the store or anything above (they import platforms).
"""
from __future__ import annotations

import importlib
from functools import lru_cache
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


@lru_cache(maxsize=1)
def load_platforms() -> tuple:
    """Every platform module that exists, imported once, in a fixed order."""
    mods = []
    for name in PLATFORM_MODULES:
        try:
            mods.append(importlib.import_module(f"archiver.platforms.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"archiver.platforms.{name}":
                raise
    return tuple(mods)


def platform_module(name: str):
    """The module of one platform, or None."""
    return next((m for m in load_platforms() if m.NAME == name), None)

