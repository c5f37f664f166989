"""The daemon process: one per database (a lock file beside it), logs to stderr, clean exit on a signal."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from archiver.config import Settings
from archiver.errors import ArchiverError
from archiver.clock import utcnow


class DaemonLockedError(ArchiverError):
    """Another daemon already runs on this database."""


def lock_path(db_path: str | Path) -> Path:
    """archive.db -> archive.db.lock, beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


class DaemonLock:
    """An exclusive flock on the database file itself, so that every name of it (a symlink, a hard link)
    meets the same lock; the kernel drops it when the process dies, even by kill -9. The lock file beside
    the database only says who holds it.

    flock and SQLite's own fcntl locks are independent on Linux's local filesystems, and the descriptor
    stays open as long as the lock is held, so SQLite's locks on the same file are never disturbed.
    """

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self.path = lock_path(Path(os.path.realpath(db_path)))
        self.fd = None

    def acquire(self) -> None:
        """Take the lock or raise DaemonLockedError naming the holder."""
        fd = os.open(self.db_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            try:
                holder = self.path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                holder = ""
            raise DaemonLockedError(f"{self.db_path}: a daemon already runs on it ({holder or 'another process'})"
                                    ) from None
        try:
            self.path.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {utcnow()}\n", encoding="utf-8")
        except OSError:
            pass  # only informative; the lock is the flock
        self.fd = fd

    def release(self) -> None:
        """Drop the lock (the file beside it stays, emptied)."""
        if self.fd is not None:
            try:
                self.path.write_text("", encoding="utf-8")
            except OSError:
                pass
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": utcnow(), "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        for key in ("job", "event", "counts", "error"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(as_json: bool = False, level: int = logging.INFO) -> None:
    """One line per event on stderr, plain or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(_JsonFormatter())
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        formatter.converter = __import__("time").gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def take_archive(settings: Settings, db_path: str | Path) -> DaemonLock:
    """Create or migrate the archive, then hold its daemon lock (DaemonLockedError when another has it)."""
    from archiver.store.db import open_db

    open_db(db_path, busy_timeout_ms=settings.daemon.busy_timeout_ms).close()
    lock = DaemonLock(db_path)
    lock.acquire()
    return lock


def run_daemon(settings: Settings, db_path: str | Path) -> int:
    """Run the scheduler until SIGTERM or SIGINT; finish the write in hand and return 0."""
    from archiver.run.schedule import JobRunner, build_scheduler

    log = logging.getLogger("archiver.daemon")
    lock = take_archive(settings, db_path)
    stop = threading.Event()
    runner = JobRunner(settings, db_path, stop)
    scheduler = build_scheduler(runner, settings)

    def on_signal(signum, _frame):
        if stop.is_set():
            return  # a second Ctrl-C: already stopping
        log.info("signal %s: finishing the work in hand, then exiting", signal.Signals(signum).name,
                 extra={"event": "stopping"})
        stop.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("daemon started on %s (pid %d); jobs: %s", db_path, os.getpid(),
             ", ".join(f"{j.id} [{settings.schedules[j.id]}]" for j in scheduler.get_jobs()),
             extra={"event": "started"})
    try:
        scheduler.start()
    finally:
        # Jobs still running saw `stop`: they skip what is left and commit what is done. The grace is
        # the whole wait: the log must not say 5 s when the exit takes 15.
        waited_from = time.monotonic()
        idle = runner.wait_idle(settings.daemon.stop_grace)
    if not idle:
        # A request still hangs past the grace time. Everything committed is whole (one transaction per
        # article or post); the posts in hand are given back by the next run, as after a crash.
        log.warning("a job is still running after %.1f s; exiting without it", time.monotonic() - waited_from,
                    extra={"event": "stopped"})
        for handler in logging.getLogger().handlers:
            handler.flush()
        lock.release()
        os._exit(0)
    lock.release()
    log.info("daemon stopped", extra={"event": "stopped"})
    return 0
