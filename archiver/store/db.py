"""Opening the archive: connection settings, migrations applied in order, FTS and views, transactions."""
from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import sqlite_utils

from archiver.errors import StoreError
from archiver.store.migrations import MIGRATIONS
from archiver.store.views import ensure_views

FTS = {"posts": ["text", "author_name", "handle"], "articles": ["title", "site_name"]}


def open_db(path: str | Path, *, busy_timeout_ms: int = 30_000, create: bool = True) -> sqlite_utils.Database:
    """Open (and create or migrate) the archive; WAL so readers never block the writer."""
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"{path}: no such archive")
    if path.parent and not path.parent.exists():
        raise StoreError(f"{path}: folder {path.parent} does not exist")
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _use_wal(db, busy_timeout_ms / 1000)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the archive: {exc}") from None
    return db


def ensure_writable(db: sqlite_utils.Database, path: str | Path) -> None:
    """Raise StoreError unless the archive can be written: taken as a write lock, at once released."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            # A write that changes nothing: a connection SQLite could only open read-only takes the lock
            # (in WAL mode it is in the -shm file) but refuses this.
            db.conn.execute(f"PRAGMA user_version = {schema_version(db)}")
        finally:
            db.conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc) or "read-only" in str(exc):
            err = StoreError(f"{path}: the archive cannot be written (a read-only file or folder)")
            err.hint = "commands that only read, like status and verify, still work"
            raise err from None
        raise StoreError(f"{path}: cannot write to the archive: {exc}") from None


def _use_wal(db: sqlite_utils.Database, timeout: float) -> None:
    """Switch to WAL unless it already is; retried, since SQLite does not wait on the busy timeout for this
    while another connection is creating the same archive."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def schema_version(db: sqlite_utils.Database) -> int:
    """The number of migrations applied (PRAGMA user_version)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Apply every pending migration, then the FTS indexes; idempotent."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise StoreError(f"archive schema {current} is newer than this archiver ({len(MIGRATIONS)}); upgrade it")
    for number in range(current, len(MIGRATIONS)):
        with transaction(db):
            if schema_version(db) > number:
                continue  # another process applied it while we waited for the write lock
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
    for table, columns in FTS.items():
        if not db[table].detect_fts():
            with transaction(db):
                if not db[table].detect_fts():
                    db[table].enable_fts(columns, create_triggers=True, tokenize="unicode61")
    ensure_views(db)  # the views people browse, kept in step with the tables


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database):
    """BEGIN IMMEDIATE ... COMMIT: take the write lock up front so concurrent writers wait, not fail."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def put_body(db: sqlite_utils.Database, sha256: str, content: bytes, now: str) -> None:
    """Keep a body once per SHA-256."""
    db.execute("INSERT OR IGNORE INTO bodies (sha256, size, content, first_seen_at) VALUES (?, ?, ?, ?)",
               [sha256, len(content), content, now])


def dict_rows(cursor) -> list[dict]:
    """The rows of a cursor as dicts keyed by column name."""
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


