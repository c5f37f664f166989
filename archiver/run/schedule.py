"""The daemon's jobs on APScheduler 3.x: fixed ids, cron triggers, one run of each at a time."""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.blocking import BlockingScheduler

from archiver.clock import parse_cron, utcnow
from archiver.config import JOBS, Settings
from archiver.models import SETTLED
from archiver.store.db import open_db, transaction

log = logging.getLogger("archiver.daemon")


class JobRunner:
    """Runs one job on its own connection and records it in job_runs; never lets an error escape."""

    def __init__(self, settings: Settings, db_path: str | Path, stop: threading.Event | None = None):
        self.settings = settings
        self.db_path = Path(db_path)
        self.stop = stop or threading.Event()
        self._active = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job is running; False if one still runs after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def run(self, job: str) -> dict | None:
        """One run of `job` (poll, fetch or recheck); returns its counts, or None when it failed."""
        if self.stop.is_set():
            return None
        with self._idle:
            self._active += 1
        try:
            return self._run(job)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _run(self, job: str) -> dict | None:
        db = None
        run_id = None
        try:
            db = open_db(self.db_path, busy_timeout_ms=self.settings.daemon.busy_timeout_ms)
            with transaction(db):
                run_id = db["job_runs"].insert({"job": job, "started_at": utcnow(), "status": "running",
                                                "pid": os.getpid(), "host": socket.gethostname()}).last_pk
            log.info("job %s started", job, extra={"job": job, "event": "started"})
            counts = getattr(self, f"_{job}")(db)
            status = "interrupted" if self.stop.is_set() else "ok"
            with transaction(db):
                db["job_runs"].update(run_id, {"finished_at": utcnow(), "status": status,
                                               "counts": json.dumps(counts)})
            log.info("job %s %s: %s", job, status, json.dumps(counts),
                     extra={"job": job, "event": "finished", "counts": counts})
            return counts
        except Exception as exc:  # noqa: BLE001 - a failing job is recorded and logged; the daemon goes on
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
            log.error("job %s failed: %s", job, message, extra={"job": job, "event": "failed", "error": message})
            log.debug("%s", traceback.format_exc())
            self._record_failure(db, run_id, job, message)
            return None
        finally:
            if db is not None:
                db.close()

    def _record_failure(self, db, run_id, job: str, message: str) -> None:
        if db is None:
            return
        try:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            with transaction(db):
                if run_id is None:
                    db["job_runs"].insert({"job": job, "started_at": utcnow(), "finished_at": utcnow(),
                                           "status": "error", "error": message, "pid": os.getpid(),
                                           "host": socket.gethostname()})
                else:
                    db["job_runs"].update(run_id, {"finished_at": utcnow(), "status": "error", "error": message})
        except Exception as exc:  # noqa: BLE001 - the database itself may be what failed (locked, full)
            log.error("job %s: could not record the failure either: %s", job, exc)

    def _poll(self, db) -> dict:
        from archiver.run.poll import poll_sources
        from archiver.fetch.warc import WarcWriter

        with WarcWriter.for_db(self.db_path) as warc:
            s = poll_sources(db, self.settings, self.db_path, warc=warc, stop=self.stop)
        return {"sources": s.sources, "failed_sources": len(s.failed_sources), "items": s.items,
                "articles_added": s.articles_added, "embeds": s.embeds, "failed_articles": len(s.failed_articles),
                "errors": [f"{n}: {e}" for n, e in s.failed_sources][:10]}

    def _fetch(self, db) -> dict:
        return self._fetch_statuses(db, ("pending", "failed"))

    def _recheck(self, db) -> dict:
        return self._fetch_statuses(db, SETTLED)

    def _fetch_statuses(self, db, statuses) -> dict:
        from archiver.run.fetching import run_fetch

        s = run_fetch(db, self.settings, self.db_path, stop=self.stop, statuses=statuses)
        return {"posts": s.posts, "by_status": s.by_status, "requests": s.attempts, "snapshots": s.snapshots,
                "media": s.media, "requeued": len(s.interrupted), "unreachable": s.unreachable}


def build_scheduler(runner: JobRunner, settings: Settings, scheduler_cls=BlockingScheduler):
    """The scheduler with one job per name in JOBS, configured but not started."""
    scheduler = scheduler_cls(timezone="UTC")
    for job in JOBS:
        scheduler.add_job(runner.run, trigger=parse_cron(settings.schedules[job]), args=[job], id=job,
                          name=f"archiver {job}", replace_existing=True, coalesce=True, max_instances=1,
                          misfire_grace_time=settings.daemon.misfire_grace_time)
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def _on_event(event) -> None:
    if getattr(event, "exception", None) is not None:
        log.error("job %s raised: %s", event.job_id, event.exception, extra={"job": event.job_id, "event": "error"})
    else:
        log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time,
                    extra={"job": event.job_id, "event": "missed"})


def run_once(runner: JobRunner) -> dict:
    """One pass of every job, in order, for people who prefer the system's cron."""
    return {job: runner.run(job) for job in JOBS}
