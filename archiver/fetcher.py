"""Fetch due posts: workers talk to the network, the calling thread writes each post's result at once."""
from __future__ import annotations

import logging
import sqlite3
import threading
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

from archiver.config import Limits, Settings
from archiver.snapshots import PostResult, SourceResult
from archiver.errors import FetchError
from archiver.store import (
    SETTLED, claim_due_posts, format_utc, parse_utc, record_post_result, release_dead_leases, release_posts, utcnow,
)

log = logging.getLogger("archiver.fetch")
MAX_FAILURES = 8  # consecutive failed fetches before a post is marked failed (it is still retried, weekly)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_interval(text: str) -> int:
    """'90s', '15m', '1h', '1d', '2w' -> seconds."""
    text = str(text).strip().lower()
    if text[:-1].isdigit() and text[-1] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    if text.isdigit():
        return int(text)
    raise ValueError(f"not an interval: {text!r} (use e.g. 30m, 1h, 1d, 7d)")


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


def decide(post: dict, result: PostResult, now: str, schedule: tuple, limits=None) -> None:
    """Set the post's new status, reason, failure count and next fetch time from what the sources said."""
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
        if status == "archived" and post.get("archived_at"):
            since = post["archived_at"]
        else:
            since = post.get("status_changed_at") if post.get("status") == status else now
        result.next_fetch_at = next_recheck(since, now, schedule)
        return
    if result.sources and set(by) <= _EVIDENCE_ONLY:
        # Only the web archives answered (a platform with no source of its own): they cannot tell
        # whether the post still exists, so its status stays; their captures are looked up again on
        # the re-check schedule, since archives keep capturing.
        found = sum(len(s.captures) for s in result.sources)
        result.status, result.failures = "pending" if post["status"] == "failed" else post["status"], 0
        result.reason = f"no source of its own yet; web archives: {found} capture{'s' if found != 1 else ''}"
        result.next_fetch_at = next_recheck(post.get("status_changed_at") or now, now, schedule)
        return
    failures = (post.get("fetch_failures") or 0) + 1
    if res is not None and not res.post_id:
        reason = f"id unresolved: {res.detail}"
    elif result.error:
        reason = f"error: {result.error}"
    elif result.sources:
        errors = [f"{s.source}: {s.error}" for s in result.sources if s.outcome == "error" and s.error]
        reason = "; ".join(errors[:3]) or "no source answered"
    else:
        reason = "no snapshot source for this platform"
        result.status, result.reason, result.failures, result.next_fetch_at = post["status"], reason, 0, None
        return
    retry_after = max((s.retry_after or 0 for s in result.sources), default=0) or None
    keep = post["status"] if post["status"] in SETTLED else None
    result.status = keep or ("failed" if failures >= MAX_FAILURES else "pending")
    result.reason, result.failures = reason, failures
    limits = limits or Limits()
    result.next_fetch_at = backoff(failures, now, retry_after, limits.requeue_base, limits.requeue_max)


@dataclass
class FetchContext:
    """What a worker needs: the request function, where evidence goes, endpoints and limits. No database."""

    requester: object  # archiver.retry.Requester
    warc: object  # archiver.warc.WarcWriter or None
    settings: Settings
    db_folder: Path
    media_root: Path
    stop: threading.Event | None = None

    @property
    def endpoints(self):
        return self.settings.endpoints

    @property
    def limits(self):
        return self.settings.limits

    def get(self, url: str, *, source: str, **kwargs):
        """One GET through the requester; its response is written to WARC before it is returned."""
        if self.stop is not None and self.stop.is_set():
            _local.interrupted = True
            raise Interrupted(url, "stopping: the daemon was asked to exit")
        ex = self.requester.get(url, source=source, **kwargs)
        if self.warc is not None:
            ex.warc = self.warc.write_exchange(ex)
        return ex


_local = threading.local()


class Interrupted(FetchError):
    """A request not made because the process is stopping."""


def _collect_attempt(attempt) -> None:
    sink = getattr(_local, "attempts", None)
    if sink is not None:
        sink.append(attempt)


def _stoppable_sleep(stop: threading.Event | None):
    """A backoff sleep that ends, and ends the request, as soon as the process is asked to stop."""
    if stop is None:
        import time

        return time.sleep

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            _local.interrupted = True
            raise Interrupted("(backoff)", "stopping: the daemon was asked to exit")
    return sleep


def snapshot_post(post: dict, ctx: FetchContext) -> PostResult:
    """Fetch one post from every source its platform has; runs in a worker thread."""
    from archiver.platforms import platform_module

    result = PostResult(post_id=post["id"])
    _local.attempts = result.attempts
    _local.interrupted = False
    try:
        mod = platform_module(post["platform"])
        snap = getattr(mod, "snapshot", None) if mod else None
        if snap is None:
            return result
        result.resolution, result.sources, result.media = snap(post, ctx)
    except Exception as exc:  # noqa: BLE001 - one post's bug must not stop the batch; it is recorded
        result.error = f"{type(exc).__name__}: {exc}"
        result.sources.append(SourceResult("archiver", "error", error=traceback.format_exc(limit=3)[-500:]))
    finally:
        _local.attempts = None
        result.interrupted = _local.interrupted
    return result


@dataclass
class FetchSummary:
    """Counts of one fetch run."""

    posts: int = 0
    by_status: dict = field(default_factory=dict)
    snapshots: int = 0
    media: int = 0
    attempts: int = 0
    errors: list = field(default_factory=list)
    next_attempts: list = field(default_factory=list)  # (post id, next_fetch_at, reason) for posts left pending
    unreachable: list = field(default_factory=list)  # host:port that never answered during the run
    interrupted: list = field(default_factory=list)  # post ids given back to the queue unfinished


def run_fetch(db, settings: Settings, db_path: Path, *, limit: int | None = None, post_ids=None,
              requester=None, warc=None, now: Callable[[], str] = utcnow,
              on_result: Callable[[PostResult], None] | None = None, stop: threading.Event | None = None,
              statuses: tuple | None = None) -> FetchSummary:
    """Fetch the due posts (or post_ids) with bounded concurrency; each result is committed as it lands.

    When `stop` is set, no new post is started, requests not yet made are skipped, and the posts
    whose fetch was cut short go back to the queue unrecorded; everything finished is committed.
    """
    from archiver.http import build_client
    from archiver.media import media_dir
    from archiver.retry import Requester
    from archiver.warc import WarcWriter

    summary = FetchSummary()
    release_dead_leases(db, now())
    posts = claim_due_posts(db, now(), limit=limit or settings.limits.fetch_batch, post_ids=post_ids,
                            statuses=statuses)
    if not posts:
        return summary
    db_path = Path(db_path)
    client = None
    if requester is None:
        client = build_client(settings.http)
        requester = Requester(client, settings.http, settings.limits, on_attempt=_collect_attempt,
                              sleep=_stoppable_sleep(stop))
    own_warc = warc is None
    warc = warc or WarcWriter.for_db(db_path)
    ctx = FetchContext(requester, warc, settings, db_path.resolve().parent, media_dir(db_path.resolve()), stop)
    by_id = {p["id"]: p for p in posts}
    workers = max(1, settings.limits.concurrency)
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            pending = set()
            queue = list(posts)
            while queue or pending:
                while queue and len(pending) < workers * 2 and not (stop and stop.is_set()):
                    pending.add(pool.submit(snapshot_post, queue.pop(0), ctx))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    if result.interrupted:
                        summary.interrupted.append(result.post_id)
                        continue
                    post = by_id[result.post_id]
                    stamp = now()
                    try:
                        decide(post, result, stamp, settings.recheck_after, settings.limits)
                        record_post_result(db, result, stamp)
                    except (sqlite3.OperationalError, sqlite3.IntegrityError, OSError):
                        raise  # the database itself (locked, full): the run fails, nothing half-written
                    except Exception as exc:  # noqa: BLE001 - one odd result must not sink the batch
                        log.error("post %s: result not recorded: %s: %s", result.post_id, type(exc).__name__, exc)
                        summary.errors.append((result.post_id, f"{type(exc).__name__}: {exc}"))
                        summary.interrupted.append(result.post_id)
                        continue
                    _count(summary, result)
                    if on_result:
                        on_result(result)
            # Interrupted or never started: back to the queue now rather than after the lease.
            summary.interrupted += [p["id"] for p in queue]
            release_posts(db, summary.interrupted, now())
        breaker = getattr(requester, "breaker", None)
        summary.unreachable = list(breaker.open_hosts()) if breaker is not None else []
    finally:
        if own_warc:
            warc.close()
        if client is not None:
            client.close()
    return summary


def _count(summary: FetchSummary, result: PostResult) -> None:
    summary.posts += 1
    summary.by_status[result.status] = summary.by_status.get(result.status, 0) + 1
    summary.snapshots += sum(1 for s in result.sources if s.exchange is not None)
    summary.media += sum(1 for m in result.media if m.sha256)
    summary.attempts += len(result.attempts)
    if result.error:
        summary.errors.append((result.post_id, result.error))
    if result.status not in SETTLED and result.next_fetch_at:
        summary.next_attempts.append((result.post_id, result.next_fetch_at, result.reason))
