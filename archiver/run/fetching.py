"""Fetching the due posts: the queue hands posts to worker threads, each result is committed as it lands."""
from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from archiver.clock import utcnow
from archiver.config import Settings
from archiver.errors import ArchiverError
from archiver.evidence.timestamps import StampSummary
from archiver.evidence.timestamps import stamp as stamp_evidence
from archiver.fetch.http import build_client
from archiver.fetch.media import media_dir
from archiver.fetch.results import PostResult
from archiver.fetch.retry import Requester
from archiver.fetch.status import decide, schedule_context
from archiver.fetch.warc import WarcWriter
from archiver.fetch.worker import FetchContext, snapshot_post, stoppable_sleep
from archiver.models import SETTLED
from archiver.platforms import platform_module
from archiver.store.endpoints import load_endpoint_limits, save_endpoint_limits
from archiver.store.queue import claim_due_posts, release_dead_leases, release_posts
from archiver.store.results import record_post_result

log = logging.getLogger("archiver.fetch")


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
    timestamps: object = None  # evidence.timestamps.StampSummary, when TSAs are configured


def run_fetch(db, settings: Settings, db_path: Path, *, limit: int | None = None, post_ids=None,
              requester=None, warc=None, now: Callable[[], str] = utcnow,
              on_result: Callable[[PostResult], None] | None = None, stop: threading.Event | None = None,
              statuses: tuple | None = None) -> FetchSummary:
    """Fetch the due posts (or post_ids) with bounded concurrency; each result is committed as it lands.

    When `stop` is set, no new post is started, requests not yet made are skipped, and the posts
    whose fetch was cut short go back to the queue unrecorded; everything finished is committed.
    """
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
        requester = Requester.for_settings(client, settings, sleep=stoppable_sleep(stop))
    rates = getattr(requester, "rates", None)
    if rates is not None:
        rates.load(load_endpoint_limits(db))  # an endpoint that said 429 in an earlier run is still slowed
    own_warc = warc is None
    warc = warc or WarcWriter.for_db(db_path)
    ctx = FetchContext(requester, warc, settings, db_path.resolve().parent, media_dir(db_path.resolve()), stop)
    by_id = {p.id: p for p in posts}
    workers = max(1, settings.limits.concurrency)
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            pending = set()
            queue = list(posts)
            while queue or pending:
                while queue and len(pending) < workers * 2 and not (stop and stop.is_set()):
                    pending.add(pool.submit(_snapshot, queue.pop(0), ctx))
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
                        schedule_context(result, stamp, settings.recheck_after)
                        record_post_result(db, result, stamp)
                    except (sqlite3.OperationalError, sqlite3.IntegrityError, OSError):
                        raise  # the database itself (locked, full): the run fails, nothing half-written
                    except Exception as exc:  # noqa: BLE001 - one odd result must not sink the batch
                        log.error("post %s: result not recorded: %s: %s", result.post_id, type(exc).__name__, exc)
                        summary.errors.append((result.post_id, f"{type(exc).__name__}: {exc}"))
                        summary.interrupted.append(result.post_id)
                        continue
                    _count(summary, result)
                    if rates is not None and rates.dirty:  # a 429: kept at once, so a crash does not forget it
                        save_endpoint_limits(db, rates.export())
                    if on_result:
                        on_result(result)
            # Interrupted or never started: back to the queue now rather than after the lease.
            summary.interrupted += [p.id for p in queue]
            release_posts(db, summary.interrupted, now())
            if rates is not None and rates.dirty:
                save_endpoint_limits(db, rates.export())
        if settings.timestamps.tsa_urls and not (stop and stop.is_set()):
            # The new evidence of this run (and anything not yet named) in one list, stamped by every TSA.
            try:
                summary.timestamps = stamp_evidence(db, db_path, settings.timestamps.tsa_urls, requester, now)
            except (ArchiverError, OSError) as exc:  # the run's results are committed; stamping waits for the next
                summary.timestamps = StampSummary(errors=[("timestamps", f"{type(exc).__name__}: {exc}")])
        breaker = getattr(requester, "breaker", None)
        summary.unreachable = list(breaker.open_hosts()) if breaker is not None else []
    finally:
        if own_warc:
            warc.close()
        if client is not None:
            client.close()
    return summary


def _snapshot(post, ctx: FetchContext) -> PostResult:
    """One post through its platform's snapshot(), in a worker thread."""
    mod = platform_module(post.platform)
    return snapshot_post(post, getattr(mod, "snapshot", None) if mod else None, ctx)


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
