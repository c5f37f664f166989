"""Snapshot sources shared by every platform: a JSON endpoint fetch, oEmbed, the Wayback Machine."""
from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlencode, urlsplit

from archiver.clock import parse_utc, utcnow
from archiver.fetch import wayback
from archiver.errors import FetchError
from archiver.fetch.jsonbody import load_json
from archiver.fetch.results import SourceResult


def jsonable(obj):
    """A dataclass tree as plain JSON-ready data."""
    if dataclasses.is_dataclass(obj):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    return obj


def fetch_source(ctx, source: str, url: str, classify, **get_kwargs) -> tuple[SourceResult, object]:
    """GET url as `source` and classify(status, body) it; network errors become an error result."""
    try:
        ex = ctx.get(url, source=source, **get_kwargs)
    except FetchError as exc:
        return SourceResult(source, "error", url=url, error=exc.message, retry_after=exc.retry_after), None
    parsed = classify(ex.status, ex.body)
    return answered(source, url, ex, parsed), parsed


def answered(source: str, url: str, ex, parsed) -> SourceResult:
    """The result of a source that answered: its exchange, where the WARC holds it, what it said."""
    return SourceResult(source, parsed.outcome, url=url, exchange=ex, warc=ex.warc, error=getattr(parsed, "error", None))


def oembed(ctx, source: str, endpoint: str, post_url: str, extra_hosts=(), **params) -> SourceResult:
    """A generic oEmbed lookup: 200 JSON archived, 404 not found, 401/403 protected, else error."""
    url = f"{endpoint}?{urlencode({'url': post_url, 'format': 'json', **params})}"
    kwargs = {"extra_hosts": extra_hosts} if extra_hosts else {}
    result, data = fetch_source(ctx, source, url, _classify_oembed, **kwargs)
    if data is not None and data.outcome == "archived":
        result.parsed = data.fields
        result.text = data.fields.get("title")
    return result


@dataclasses.dataclass
class _OEmbed:
    outcome: str
    fields: dict
    error: str | None = None


def _classify_oembed(status: int, body: bytes) -> _OEmbed:
    if status in (404, 410):
        return _OEmbed("not_found", {})
    if status in (401, 403):
        return _OEmbed("protected", {}, f"HTTP {status}")
    if status != 200:
        return _OEmbed("error", {}, f"HTTP {status}")
    data, problem = load_json(body)
    if problem:
        return _OEmbed("error", {}, "oEmbed body is not JSON")
    if not isinstance(data, dict) or not (data.get("html") or data.get("title") or data.get("author_name")):
        return _OEmbed("error", {}, "oEmbed JSON has no html, title or author")
    keep = ("type", "title", "author_name", "author_url", "provider_name", "html", "thumbnail_url", "url",
            "version", "width", "height")
    return _OEmbed("archived", {k: data[k] for k in keep if k in data})


def same_url(post_url: str):
    """A test of whether a capture's original URL is this URL: scheme, a www./m./mobile. host prefix and a
    trailing slash aside, the same host, path and query, or the path followed by more of it (/photo/1)."""
    def norm(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        host = re.sub(r"^(?:www\.|m\.|mobile\.)", "", (parts.hostname or "").lower())
        return host, parts.path.rstrip("/"), parts.query

    want = norm(post_url)

    def same(original: str | None) -> bool:
        if not original:
            return False
        host, path, query = norm(original if "://" in original else "http://" + original)
        return host == want[0] and query == want[2] and (path == want[1] or path.startswith(want[1] + "/"))
    return same


def wayback_captures(ctx, post_url: str, url_key: str, same_post=None) -> list[SourceResult]:
    """Existing Wayback captures of a post: the availability API and the CDX index.

    Only captures whose original URL names this post are kept (``same_post``, by default ``same_url``):
    an index searched by prefix or by handle also lists other posts.
    """
    same_post = same_post or same_url(post_url)
    results = []
    available, parsed = fetch_source(ctx, "wayback-available",
                                     wayback.build_available_url(ctx.endpoints.wayback, post_url),
                                     wayback.parse_available)
    if parsed is not None and parsed.outcome != "error":
        capture = getattr(parsed, "capture", None)
        capture = capture if capture is not None and same_post(capture.original) else None
        available.outcome = "captures" if capture else "none"
        available.captures = [capture] if capture else []
        available.parsed = jsonable(parsed)
    results.append(available)
    cdx, parsed = fetch_source(ctx, "wayback-cdx", wayback.build_cdx_url(ctx.endpoints.cdx, url_key, limit=200),
                               wayback.parse_cdx)
    if parsed is not None and parsed.outcome != "error":
        cdx.captures = [c for c in parsed.captures if same_post(c.original)]
        cdx.outcome = "captures" if cdx.captures else "none"
        cdx.parsed = {"captures": len(cdx.captures), "of_other_posts": len(parsed.captures) - len(cdx.captures)}
    results.append(cdx)
    return results


def web_archive_evidence(ctx, post_url: str, url_key: str | None = None, same_post=None,
                         post=None) -> list[SourceResult]:
    """The Wayback Machine's captures of a post URL, and a Save Page Now request when keys are set.

    ``url_key`` is what the CDX index is asked for; by default the URL without its scheme. ``same_post``
    tells a capture of this post (a platform that knows its URL shapes passes its own). Given the queued
    ``post``, nothing is asked when the Wayback Machine answered about it within ``web_archive_every``.
    """
    if post is not None and web_archive_recent(post, ctx.limits):
        return []
    results = wayback_captures(ctx, post_url, url_key or re.sub(r"^https?://", "", post_url), same_post)
    saved = save_page_now(ctx, post_url)
    if saved is not None:
        results.append(saved)
    return results


def web_archive_recent(post, limits) -> bool:
    """Whether the Wayback Machine answered about this post less than ``limits.web_archive_every`` ago."""
    if not post.web_archive_at:
        return False
    age = (parse_utc(utcnow()) - parse_utc(post.web_archive_at)).total_seconds()
    return age < limits.web_archive_every


def oembed_snapshot(source: str, endpoint_of):
    """A platform's snapshot(): a key-less oEmbed lookup of the post's canonical URL, then the Wayback Machine."""
    def snapshot(post, ctx):
        """(None, [oEmbed result, Wayback results...], []) for one post."""
        url = post.canonical_url
        if not url:
            return None, [SourceResult(source, "error", error="no canonical URL to look up")], []
        endpoint, extra_hosts = endpoint_of(ctx, url)
        return None, [oembed(ctx, source, endpoint, url, extra_hosts=extra_hosts)] + \
            web_archive_evidence(ctx, url, post=post), []
    return snapshot


def web_archive_snapshot(post, ctx):
    """snapshot() of a platform with no key-less source of its own: what the Wayback Machine holds.

    The post's own state stays unknown (it waits for a source); its existing captures are evidence.
    """
    url = post.canonical_url
    if not url:
        return None, [SourceResult("wayback-available", "error", error="no canonical URL to look up")], []
    return None, web_archive_evidence(ctx, url), []


def save_page_now(ctx, post_url: str) -> SourceResult | None:
    """Ask the Wayback Machine to capture the post now; only when the user configured keys (SPN needs them)."""
    keys = ctx.settings.save_page_now_keys
    if not keys:
        return None
    url = f"{ctx.endpoints.save_page_now.rstrip('/')}/save/{post_url}"
    headers = {"Authorization": f"LOW {keys}", "Accept": "application/json"}
    try:
        ex = ctx.get(url, source="wayback-save", headers=headers, follow_redirects=False)
    except FetchError as exc:
        return SourceResult("wayback-save", "error", url=url, error=exc.message, retry_after=exc.retry_after)
    result = SourceResult("wayback-save", "requested" if ex.status < 400 else "error", url=url, exchange=ex,
                          warc=ex.warc, error=None if ex.status < 400 else f"HTTP {ex.status}")
    result.parsed = {"status": ex.status, "location": ex.headers.get("location"),
                     "content_location": ex.headers.get("content-location")}
    return result
