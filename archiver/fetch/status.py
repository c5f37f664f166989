"""What a fetch means for a post: its new status, reason and next fetch time, decided from the sources' answers."""
from __future__ import annotations

from datetime import timedelta

from archiver.clock import format_utc, parse_interval, parse_utc
from archiver.config import Limits
from archiver.fetch.results import PostResult
from archiver.models import SETTLED, QueuedPost

MAX_FAILURES = 8  # consecutive failed fetches before a post is marked failed (it is still retried, weekly)


def next_recheck(since: str, now: str, schedule: tuple) -> str:
    """The next check of a settled post: since + each interval of the schedule, then every last interval."""
    base, current = parse_utc(since), parse_utc(now)
    offsets = [parse_interval(s) for s in schedule] or [30 * 86400]
    for offset in offsets:
        at = base + timedelta(seconds=offset)
        if at > current:
            return format_utc(at)
    step = offsets[-1]
    at = base + timedelta(seconds=offsets[-1])
    while at <= current:
        at += timedelta(seconds=step)
    return format_utc(at)


def backoff(failures: int, now: str, retry_after: float | None = None, base: float = 300.0,
            cap: float = 7 * 86400.0) -> str:
    """When a post whose fetch failed `failures` times in a row is tried again: base, 2x base, ... cap."""
    wait_s = min(base * 2 ** min(max(0, failures - 1), 60), cap)
    if retry_after:
        wait_s = min(max(wait_s, retry_after), cap)  # an upstream cannot park a post past the cap
    return format_utc(parse_utc(now) + timedelta(seconds=wait_s))


_EVIDENCE_ONLY = {"captures", "none", "requested"}  # outcomes that say nothing of the post's own state
WEB_ARCHIVE_SOURCES = frozenset({"wayback-available", "wayback-cdx", "wayback-save"})


def schedule_context(result: PostResult, now: str, schedule: tuple) -> None:
    """When the posts a fetch links to are first due: one the body carried whole is re-checked on the
    schedule like any archived post (its first snapshot came with the body); one only named, now."""
    for source in result.sources:
        for link in source.context:
            link.next_fetch_at = next_recheck(now, now, schedule) if link.carried is not None else now


def decide(post: QueuedPost, result: PostResult, now: str, schedule: tuple, limits=None) -> None:
    """Set the post's new status, reason, failure count and next fetch time from what the sources said."""
    limits = limits or Limits()
    by = {}
    for s in result.sources:
        by.setdefault(s.outcome, []).append(s.source)
    res = result.resolution
    status = None
    if "archived" in by:
        status, reason = "archived", "archived by " + ", ".join(by["archived"])
    elif "unavailable" in by:
        said = next((s.error for s in result.sources if s.outcome == "unavailable" and s.error), None)
        status, reason = "unavailable", "tombstone from " + ", ".join(by["unavailable"]) + (f": {said}" if said else "")
    elif "protected" in by:
        status, reason = "protected", "protected per " + ", ".join(by["protected"])
    elif "not_found" in by and not any(s.outcome == "error" and s.source not in WEB_ARCHIVE_SOURCES
                                       for s in result.sources):
        # A web archive's error says nothing of the post; an error of one of its own sources might.
        status, reason = "not_found", "not found by " + ", ".join(by["not_found"])
    if status is not None:
        result.status, result.reason, result.failures = status, reason, 0
        if status == "archived" and post.archived_at:
            since = post.archived_at
        else:
            since = post.status_changed_at if post.status == status else now
        result.next_fetch_at = next_recheck(since, now, schedule)
        return
    if result.sources and set(by) <= _EVIDENCE_ONLY:
        # Only the web archives answered (a platform with no source of its own): they cannot tell
        # whether the post still exists, so its status stays; their captures are looked up again on
        # the re-check schedule, since archives keep capturing.
        found = sum(len(s.captures) for s in result.sources)
        result.status, result.failures = "pending" if post.status == "failed" else post.status, 0
        result.reason = f"no source of its own yet; web archives: {found} capture{'s' if found != 1 else ''}"
        result.next_fetch_at = next_recheck(post.status_changed_at or now, now, schedule)
        week = format_utc(parse_utc(now) + timedelta(seconds=limits.web_archive_every))
        result.next_fetch_at = max(result.next_fetch_at, week)  # Wayback lookups: at most once per interval
        return
    failures = (post.fetch_failures or 0) + 1
    if res is not None and not res.post_id:
        reason = f"id unresolved: {res.detail}"
    elif result.error:
        reason = f"error: {result.error}"
    elif result.sources:
        errors = [f"{s.source}: {s.error}" for s in result.sources if s.outcome == "error" and s.error]
        reason = "; ".join(errors[:3]) or "no source answered"
    else:
        reason = "no snapshot source for this platform"
        result.status, result.reason, result.failures, result.next_fetch_at = post.status, reason, 0, None
        return
    retry_after = max((s.retry_after or 0 for s in result.sources), default=0) or None
    keep = post.status if post.status in SETTLED else None
    result.status = keep or ("failed" if failures >= MAX_FAILURES else "pending")
    result.reason, result.failures = reason, failures
    result.next_fetch_at = backoff(failures, now, retry_after, limits.requeue_base, limits.requeue_max)
