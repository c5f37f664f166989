"""Opening the archive: connection settings, migrations applied in order, FTS and views, transactions."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import urllib.parse
from pathlib import Path

import sqlite_utils

from archiver.clock import iso_published
from archiver.errors import StoreError
from archiver.store.migrations import MIGRATIONS
from archiver.store.views import ensure_views

FTS = {"posts": ["text", "author_name", "handle"],
       "articles": ["title", "site_name", "url", "canonical_url", "source", "readable_text"]}

# PRAGMA application_id of every archive: "ARCV" in ASCII (0x41524356), set when an archive is created
# and by migration 0008 on older ones. `file archive.db` shows it; any other non-empty database is refused.
APPLICATION_ID = 0x41524356
# The tables of migration 0001: a database with no application_id but these is an archive from before 0008.
CORE_TABLES = {"bodies", "articles", "article_versions", "posts", "embeds", "snapshots"}
READ_ONLY_HINT = "commands that only read, like status and verify, still work"


def _error(message: str, hint: str | None = None) -> StoreError:
    err = StoreError(message)
    err.hint = hint
    return err


def open_db(path: str | Path, *, busy_timeout_ms: int = 30_000, create: bool = True,
            read_only: bool = False) -> sqlite_utils.Database:
    """Open (and create or migrate) the archive; WAL so readers never block the writer.

    Anything but an archive or an empty file is refused before SQLite writes a byte. With `read_only`,
    an archive that cannot be written (a read-only file or folder) is opened for reading as it is.
    """
    path = Path(path)
    if not create and not path.exists():
        raise StoreError(f"{path}: no such archive")
    if path.parent and not path.parent.exists():
        raise StoreError(f"{path}: folder {path.parent} does not exist")
    if path.exists():
        check_archive(path, busy_timeout_ms / 1000)
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _use_wal(db, busy_timeout_ms / 1000)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        ensure_schema(db)
    except sqlite3.OperationalError as exc:
        if _writable(path):
            raise StoreError(f"{path}: cannot open the archive: {exc}") from None
        if read_only and path.exists():
            return _open_for_reading(path, busy_timeout_ms / 1000)
        raise _not_writable(path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the archive: {exc}") from None
    return db


def check_archive(path: str | Path, timeout: float = 5.0) -> None:
    """Raise StoreError unless `path` is an archive, an empty file, or one being created; reads only."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return  # an empty file: a new archive
    except OSError as exc:
        raise StoreError(f"{path}: cannot open the archive: {exc.strerror or exc}") from None
    hint = "give --db the archive `archiver archive` made, or a new file name"
    # Read through SQLite only: closing a descriptor of our own on the file would drop the locks this
    # process's other connections hold on it. immutable=1 never creates -wal or -shm files beside another
    # program's database; as it skips locking, a "not ours" is confirmed by a locked read before refusing.
    found = failure = None
    for mode in ("immutable=1", "mode=ro"):
        try:
            app_id, version, tables = _peek(path, mode, timeout)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
                raise _error(f"{path}: cannot open the archive: it is not a SQLite database", hint) from None
            failure = failure or exc
            continue
        if app_id == APPLICATION_ID or (not app_id and (not tables or (version >= 1 and CORE_TABLES <= tables))):
            return  # ours, being created, or an archive from before application_id
        found = app_id, tables
    if found is None:
        raise StoreError(f"{path}: cannot open the archive: {failure}")
    app_id, tables = found
    if app_id:
        what = f"application_id 0x{app_id:08X}"
    else:
        what = f"{len(tables)} table(s): " + ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise _error(f"{path}: not an archive: a SQLite database of another program ({what}); left unchanged", hint)


def _uri(path: Path, mode: str) -> str:
    return f"file:{urllib.parse.quote(str(path.resolve()))}?{mode}"


def _peek(path: Path, mode: str, timeout: float) -> tuple[int, int, set]:
    conn = sqlite3.connect(_uri(path, mode), uri=True, timeout=timeout)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return (conn.execute("PRAGMA application_id").fetchone()[0], conn.execute("PRAGMA user_version").fetchone()[0],
                tables)
    finally:
        conn.close()


def _can_write(path: Path) -> bool:
    access = dict(effective_ids=True) if os.access in os.supports_effective_ids else {}
    return os.access(path, os.W_OK, **access)


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _writable(path: Path) -> bool:
    return _can_write(_folder(path)) and (not path.exists() or _can_write(path))


def _not_writable(path: Path) -> StoreError:
    hint = READ_ONLY_HINT if path.exists() else "give --db a path in a folder you can write"
    if path.exists() and _can_write(_folder(path)):
        return _error(f"{path}: the archive cannot be written (a read-only file or folder)", hint)
    return _error(f"{path}: the archive cannot be written: folder {_folder(path)} is not writable "
                  "(SQLite keeps its -wal and -shm files beside the archive)", hint)


def _open_for_reading(path: Path, timeout: float) -> sqlite_utils.Database:
    """The archive opened read-only, as it is: no migration, no view updated, no file created."""
    for mode in ("mode=ro", "immutable=1"):
        # mode=ro needs the -shm file, which a read-only folder keeps only while a writer has it open;
        # with none there, nothing can change the file meanwhile and immutable=1 reads it as it is.
        conn = sqlite3.connect(_uri(path, mode), uri=True, timeout=timeout)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            break
        except sqlite3.OperationalError as exc:
            conn.close()
            if mode == "immutable=1":
                raise StoreError(f"{path}: cannot open the archive: {exc}") from None
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA query_only = ON")
    version = schema_version(db)
    if version != len(MIGRATIONS):
        db.close()
        if version > len(MIGRATIONS):
            raise StoreError(f"archive schema {version} is newer than this archiver ({len(MIGRATIONS)}); upgrade it")
        raise _error(f"{path}: the archive (schema {version}) needs upgrading to schema {len(MIGRATIONS)}, "
                     "and it cannot be written", "run any command on it once where it can be written")
    return db


def ensure_served(path: str | Path) -> None:
    """Raise StoreError unless the archive opens as Datasette opens it (?mode=ro, locking, WAL included)."""
    path = Path(path)
    try:
        conn = sqlite3.connect(_uri(path, "mode=ro"), uri=True, timeout=5)
        try:
            conn.execute("SELECT count(*) FROM articles").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if not _writable(path):
            raise _error(f"{path}: cannot be served from the read-only folder {_folder(path)}: Datasette's "
                         f"SQLite would need to create {path.name}-shm there",
                         f"serve a copy in a folder you can write; {READ_ONLY_HINT} here") from None
        raise StoreError(f"{path}: cannot be served: {exc}") from None


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
            raise _not_writable(Path(path)) from None
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
            if number == 0:
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # a new archive: marked as ours
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            if number + 1 in DATA_STEPS:
                DATA_STEPS[number + 1](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
    for table, columns in FTS.items():
        if not db[table].detect_fts():
            with transaction(db):
                if not db[table].detect_fts():
                    db[table].enable_fts(columns, create_triggers=True, tokenize="unicode61")
    _narrow_fts_triggers(db)
    ensure_views(db)  # the views people browse, kept in step with the tables


def _narrow_fts_triggers(db: sqlite_utils.Database) -> None:
    """sqlite-utils re-indexes a row's full text on any UPDATE of it; ours only when an indexed column
    changes, so that a status change or a last-seen time does not re-index an article's words. Replaced
    once per archive (idempotent, like the views)."""
    for table, columns in FTS.items():
        name = f"{table}_au"
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [name]).fetchone()
        if row is None or f'AFTER UPDATE ON "{table}"' not in row[0]:
            continue
        narrowed = row[0].replace(f'AFTER UPDATE ON "{table}"',
                                  f'AFTER UPDATE OF {", ".join(chr(34) + c + chr(34) for c in columns)} ON "{table}"')
        with transaction(db):
            db.execute(f'DROP TRIGGER "{name}"')
            db.execute(narrowed)


def _published_in_iso(db: sqlite_utils.Database) -> None:
    """Migration 9's rows: published_at as written moves to published_text, and becomes ISO 8601 (NULL
    when it is no date), so the date facet and filters see every dated article."""
    rows = db.execute("SELECT id, published_at FROM articles WHERE published_at IS NOT NULL").fetchall()
    for article_id, written in rows:
        db.execute("UPDATE articles SET published_text = ?, published_at = ? WHERE id = ?",
                   [written, iso_published(written), article_id])


# Migrations whose rows need Python after their SQL, in the same transaction: number -> step.
DATA_STEPS = {9: _published_in_iso}


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


class WriteBatch:
    """Saves grouped into transactions of at most ``size`` saves, none held open past ``seconds``: one
    commit for many articles (each save nests in it as a savepoint, so one that fails rolls back alone),
    and another writer (the daemon) waits at most about that long for the lock."""

    def __init__(self, db: sqlite_utils.Database, size: int = 500, seconds: float = 1.0):
        self.db, self.size, self.seconds = db, size, seconds
        self.count, self.began, self.mine = 0, 0.0, False

    @contextlib.contextmanager
    def write(self):
        """Around a save: a transaction open (this batch's, begun now if none is); the batch committed once
        full after it."""
        if not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN IMMEDIATE")
            self.count, self.began, self.mine = 0, time.monotonic(), True
        yield self.db
        self.count += 1
        self.tick()

    def tick(self) -> None:
        """Between saves: the batch committed once it is full or has been open ``seconds``."""
        if self.mine and (self.count >= self.size or time.monotonic() - self.began >= self.seconds):
            self.close()

    def close(self) -> None:
        """Commit what the batch holds."""
        if self.mine and self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")
        self.mine = False


def put_body(db: sqlite_utils.Database, sha256: str, content: bytes, now: str) -> None:
    """Keep a body once per SHA-256; bytes that were only a reference to a WARC/ARC record until now are kept."""
    db.execute("INSERT OR IGNORE INTO bodies (sha256, size, content, first_seen_at) VALUES (?, ?, ?, ?)",
               [sha256, len(content), content, now])
    db.execute("UPDATE bodies SET content = ?, size = ?, by_reference = 0 WHERE sha256 = ? AND by_reference = 1",
               [content, len(content), sha256])


def insert_row(db: sqlite_utils.Database, table: str, row: dict) -> int:
    """INSERT one row whose column names the code gives (never input); returns its rowid."""
    # sqlite-utils' insert queries sqlite_master and rebuilds its statement on every call: a third of the
    # writer's time when a scan stores thousands of articles.
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" * len(row))
    return db.conn.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(row.values())).lastrowid


def update_row(db: sqlite_utils.Database, table: str, row_id: int, values: dict) -> None:
    """UPDATE the columns the code names (never input) of one row, by id."""
    columns = ", ".join(f'"{c}" = ?' for c in values)
    db.conn.execute(f'UPDATE "{table}" SET {columns} WHERE id = ?', [*values.values(), row_id])


def dict_rows(cursor) -> list[dict]:
    """The rows of a cursor as dicts keyed by column name."""
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


