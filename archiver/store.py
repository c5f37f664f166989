"""The one module that talks to SQLite: schema, migrations, idempotent writes, the fetch queue."""
from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlite_utils

from archiver import __version__
from archiver.errors import StoreError
from archiver.models import Article, Embed

# The whole shape of the archive, declared once. Each entry is one migration; never edit a shipped one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE bodies (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content BLOB NOT NULL,
        first_seen_at TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL UNIQUE,
        url TEXT,
        canonical_url TEXT,
        title TEXT,
        site_name TEXT,
        author TEXT,
        published_at TEXT,
        kind TEXT,
        latest_sha256 TEXT,
        versions INTEGER NOT NULL DEFAULT 0,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        next_check_at TEXT
    );
    CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        sha256 TEXT NOT NULL REFERENCES bodies(sha256),
        kind TEXT NOT NULL,
        encoding TEXT,
        size INTEGER NOT NULL,
        url TEXT,
        final_url TEXT,
        http_status INTEGER,
        content_type TEXT,
        title TEXT,
        canonical_url TEXT,
        published_at TEXT,
        site_name TEXT,
        author TEXT,
        fetched_at TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        detector_version TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        embed_count INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        UNIQUE (article_id, sha256)
    );
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_post_id TEXT,
        handle TEXT,
        author_name TEXT,
        text TEXT,
        lang TEXT,
        created_date TEXT,
        created_at TEXT,
        canonical_url TEXT,
        pic_links TEXT NOT NULL DEFAULT '[]',
        links TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'pending',
        status_changed_at TEXT NOT NULL,
        next_fetch_at TEXT,
        fetch_failures INTEGER NOT NULL DEFAULT 0,
        last_fetched_at TEXT,
        archived_at TEXT,
        resolved_via TEXT,
        resolved_at TEXT,
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (platform, platform_post_id)
    );
    CREATE INDEX posts_match ON posts (platform, lower(handle), created_date);
    CREATE INDEX posts_due ON posts (next_fetch_at) WHERE next_fetch_at IS NOT NULL;
    CREATE INDEX posts_status ON posts (status);
    CREATE TABLE embeds (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        article_version_id INTEGER NOT NULL REFERENCES article_versions(id),
        post_id INTEGER NOT NULL REFERENCES posts(id),
        ordinal INTEGER NOT NULL,
        platform TEXT NOT NULL,
        markup TEXT NOT NULL,
        context TEXT NOT NULL,
        position INTEGER NOT NULL,
        embed_url TEXT,
        handle TEXT,
        author_name TEXT,
        date TEXT,
        date_text TEXT,
        text TEXT,
        lang TEXT,
        pic_links TEXT NOT NULL DEFAULT '[]',
        links TEXT NOT NULL DEFAULT '[]',
        raw TEXT NOT NULL,
        detector TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        detected_at TEXT NOT NULL,
        UNIQUE (article_version_id, ordinal)
    );
    CREATE TABLE post_status_changes (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        from_status TEXT,
        to_status TEXT NOT NULL,
        reason TEXT,
        changed_at TEXT NOT NULL
    );
    CREATE TABLE fetch_attempts (
        id INTEGER PRIMARY KEY,
        post_id INTEGER REFERENCES posts(id),
        article_id INTEGER REFERENCES articles(id),
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        final_url TEXT,
        http_status INTEGER,
        outcome TEXT NOT NULL,
        headers TEXT,
        bytes INTEGER,
        duration_ms INTEGER,
        ip TEXT,
        error TEXT,
        attempted_at TEXT NOT NULL,
        tool_version TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        fetch_attempt_id INTEGER REFERENCES fetch_attempts(id),
        source TEXT NOT NULL,
        outcome TEXT NOT NULL,
        url TEXT NOT NULL,
        final_url TEXT,
        http_status INTEGER,
        sha256 TEXT NOT NULL REFERENCES bodies(sha256),
        size INTEGER NOT NULL,
        text TEXT,
        created_at TEXT,
        parsed TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        warc_length INTEGER,
        fetched_at TEXT NOT NULL,
        tool_version TEXT NOT NULL
    );
    CREATE TABLE media (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        snapshot_id INTEGER REFERENCES snapshots(id),
        kind TEXT,
        url TEXT NOT NULL,
        sha256 TEXT,
        path TEXT,
        content_type TEXT,
        size INTEGER,
        warc_file TEXT,
        warc_offset INTEGER,
        fetched_at TEXT NOT NULL,
        UNIQUE (post_id, url, sha256)
    );
    """,
    """
    ALTER TABLE posts ADD COLUMN merged_into_id INTEGER REFERENCES posts(id);
    ALTER TABLE posts ADD COLUMN status_reason TEXT;
    ALTER TABLE posts ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE fetch_attempts ADD COLUMN attempt INTEGER;
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        source TEXT NOT NULL,
        captured_at TEXT NOT NULL,
        original TEXT NOT NULL,
        replay_url TEXT NOT NULL,
        http_status INTEGER,
        mimetype TEXT,
        digest TEXT,
        first_seen_at TEXT NOT NULL,
        UNIQUE (post_id, captured_at, original)
    );
    CREATE TABLE resolutions (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        method TEXT NOT NULL,
        resolved_post_id TEXT,
        detail TEXT,
        candidates TEXT,
        resolved_at TEXT NOT NULL
    );
    CREATE INDEX fetch_attempts_post ON fetch_attempts (post_id);
    CREATE INDEX snapshots_post_source ON snapshots (post_id, source, id);
    CREATE INDEX media_post ON media (post_id);
    CREATE INDEX captures_post ON captures (post_id);
    CREATE INDEX resolutions_post ON resolutions (post_id);
    CREATE INDEX embeds_post ON embeds (post_id);
    CREATE INDEX embeds_article ON embeds (article_id);
    CREATE INDEX embeds_version ON embeds (article_version_id);
    CREATE INDEX article_versions_article ON article_versions (article_id);
    CREATE INDEX post_status_changes_post ON post_status_changes (post_id);
    """,
    """
    CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        counts TEXT,
        error TEXT,
        pid INTEGER,
        host TEXT
    );
    CREATE INDEX job_runs_job ON job_runs (job, started_at);
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        last_polled_at TEXT,
        last_ok_at TEXT,
        last_error TEXT,
        items_seen INTEGER NOT NULL DEFAULT 0,
        articles_added INTEGER NOT NULL DEFAULT 0
    );
    ALTER TABLE articles ADD COLUMN source_id INTEGER REFERENCES sources(id);
    CREATE INDEX articles_source ON articles (source_id);
    """,
    """
    ALTER TABLE posts ADD COLUMN leased_by TEXT;
    CREATE INDEX posts_leased ON posts (leased_by) WHERE leased_by IS NOT NULL;
    """,
    # Posts of platforms that had no snapshot source were parked with no next fetch; the web archives
    # are now a source for every platform, so they are due again.
    """
    UPDATE posts SET next_fetch_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE next_fetch_at IS NULL AND merged_into_id IS NULL
      AND status_reason = 'no snapshot source for this platform';
    """,
]

FTS = {"posts": ["text", "author_name", "handle"], "articles": ["title", "site_name"]}
POST_STATUSES = ("pending", "archived", "unavailable", "not_found", "protected", "failed")
SETTLED = ("archived", "unavailable", "not_found", "protected")  # a source said so; re-checked, not retried


def utcnow() -> str:
    """Now in UTC, ISO-8601 with a Z."""
    return format_utc(datetime.now(timezone.utc))


def format_utc(t: datetime) -> str:
    """A moment as the archive writes times: ISO-8601 in UTC, to the second, with a Z."""
    return t.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """A time the archive wrote (ISO-8601 with a Z) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the archive: {exc}") from None
    return db


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
    from archiver.browse.views import ensure_views  # the views people browse, kept in step with the tables

    ensure_views(db)


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


@dataclass
class SaveResult:
    """What saving one article changed."""

    article_id: int
    version_id: int
    new_version: bool
    embeds_added: int
    posts_added: int


def save_article(db: sqlite_utils.Database, article: Article, embeds: list[Embed],
                 detector_version: str, now: str | None = None) -> SaveResult:
    """Store an article version and its embeds in one transaction; the same bytes twice add nothing."""
    now = now or utcnow()
    with transaction(db):
        put_body(db, article.sha256, article.body, now)
        row = db.execute("SELECT id FROM articles WHERE source = ?", [article.source]).fetchone()
        meta = {
            "url": article.final_url or article.url, "canonical_url": article.canonical_url,
            "title": article.title, "site_name": article.site_name, "author": article.author,
            "published_at": article.published, "kind": article.kind,
        }
        if row is None:
            article_id = db["articles"].insert(
                {"source": article.source, **meta, "first_seen_at": now, "last_seen_at": now}).last_pk
        else:
            article_id = row[0]
        version = db.execute("SELECT id FROM article_versions WHERE article_id = ? AND sha256 = ?",
                             [article_id, article.sha256]).fetchone()
        if version is not None:
            db.execute("UPDATE articles SET last_seen_at = ? WHERE id = ?", [now, article_id])
            return SaveResult(article_id, version[0], False, 0, 0)
        version_id = db["article_versions"].insert({
            "article_id": article_id, "sha256": article.sha256, "kind": article.kind,
            "encoding": article.encoding, "size": len(article.body), "url": article.url,
            "final_url": article.final_url, "http_status": article.http_status,
            "content_type": (article.meta or {}).get("content_type"),
            "title": article.title, "canonical_url": article.canonical_url, "published_at": article.published,
            "site_name": article.site_name, "author": article.author, "fetched_at": article.fetched_at,
            "warc_file": (article.meta or {}).get("warc_file"), "warc_offset": (article.meta or {}).get("warc_offset"),
            "detector_version": detector_version, "tool_version": __version__,
            "embed_count": len(embeds), "first_seen_at": now,
        }).last_pk
        db.execute(
            "UPDATE articles SET " + ", ".join(f"{k} = coalesce(?, {k})" for k in meta)
            + ", latest_sha256 = ?, versions = versions + 1, last_seen_at = ? WHERE id = ?",
            [*meta.values(), article.sha256, now, article_id])
        posts_added = 0
        for ordinal, embed in enumerate(embeds):
            post_id, created = upsert_post(db, embed, now)
            posts_added += created
            db["embeds"].insert({
                "article_id": article_id, "article_version_id": version_id, "post_id": post_id,
                "ordinal": ordinal, "platform": embed.platform, "markup": embed.markup, "context": embed.context,
                "position": embed.position, "embed_url": embed.url, "handle": embed.handle,
                "author_name": embed.author_name, "date": embed.date, "date_text": embed.date_text,
                "text": embed.text, "lang": embed.lang, "pic_links": json.dumps(list(embed.pic_links)),
                "links": json.dumps(list(embed.links)), "raw": embed.raw, "detector": embed.detector,
                "detector_version": detector_version, "detected_at": now,
            })
        return SaveResult(article_id, version_id, True, len(embeds), posts_added)


_WORDS = re.compile(r"https?://\S+|pic\.(?:twitter|x)\.com/\S+|[^\w]+", re.UNICODE)


def _norm_text(text: str | None) -> str:
    return _WORDS.sub(" ", (text or "").lower()).strip()


def _same_text(a: str | None, b: str | None) -> bool:
    a, b = _norm_text(a), _norm_text(b)
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 20 and long_.startswith(short[: max(20, len(short) - 3)])


def _near_dates(d: str | None) -> list[str]:
    """The date and its neighbours: an embed shows the day in the reader's zone, not UTC."""
    if not d:
        return []
    try:
        day = date.fromisoformat(d)
    except ValueError:
        return [d]
    return [(day + timedelta(days=k)).isoformat() for k in (0, -1, 1)]


def _candidates(db, embed: Embed, unresolved_only: bool):
    if not embed.handle and not embed.pic_links and not embed.text:
        return []
    sql = "SELECT * FROM posts WHERE platform = ? AND merged_into_id IS NULL"
    params: list = [embed.platform]
    if embed.handle:
        sql += " AND lower(handle) = lower(?)"
        params.append(embed.handle)
    elif not embed.pic_links:
        sql += " AND handle IS NULL"
    dates = _near_dates(embed.date)
    if dates:
        sql += f" AND (created_date IS NULL OR created_date IN ({', '.join('?' * len(dates))}))"
        params += dates
    if unresolved_only:
        sql += " AND platform_post_id IS NULL"
    sql += " ORDER BY id"
    return _dicts(db.execute(sql, params))


def _same_post(row: dict, embed: Embed) -> bool:
    """Two sightings of one post: a shared pic link, or the same text from the same (or no) handle."""
    pics = {p.lower() for p in json.loads(row["pic_links"] or "[]")}
    if pics & {p.lower() for p in embed.pic_links}:
        return True
    if not embed.handle and row["handle"]:
        return False
    return _same_text(row["text"], embed.text)


def upsert_post(db, embed: Embed, now: str) -> tuple[int, bool]:
    """The posts row for an embed, created or merged with an earlier sighting; (id, created)."""
    row = None
    if embed.post_id:
        row = next(iter(_dicts(db.execute("SELECT * FROM posts WHERE platform = ? AND platform_post_id = ?",
                                          [embed.platform, embed.post_id]))), None)
        if row is None:
            row = next((c for c in _candidates(db, embed, True) if _same_post(c, embed)), None)
            if row is not None:
                db.execute("UPDATE posts SET platform_post_id = ?, canonical_url = ?, resolved_via = ?, "
                           "resolved_at = ? WHERE id = ?",
                           [embed.post_id, embed.url, f"embed:{embed.markup}", now, row["id"]])
    else:
        row = next((c for c in _candidates(db, embed, False) if _same_post(c, embed)), None)
    if row is not None:
        _fill_post(db, row, embed, now)
        return row["id"], False
    post_id = db["posts"].insert({
        "platform": embed.platform, "platform_post_id": embed.post_id, "handle": embed.handle,
        "author_name": embed.author_name, "text": embed.text, "lang": embed.lang, "created_date": embed.date,
        "canonical_url": embed.url, "pic_links": json.dumps(list(embed.pic_links)),
        "links": json.dumps(list(embed.links)), "status": "pending", "status_changed_at": now,
        "next_fetch_at": now, "first_seen_at": now, "updated_at": now,
        "resolved_via": f"embed:{embed.markup}" if embed.post_id else None,
        "resolved_at": now if embed.post_id else None,
    }).last_pk
    db["post_status_changes"].insert({"post_id": post_id, "from_status": None, "to_status": "pending",
                                      "reason": "detected", "changed_at": now})
    return post_id, True


def _fill_post(db, row: dict, embed: Embed, now: str) -> None:
    """Fill what an earlier sighting lacked; never overwrite what is known."""
    updates = {}
    for column, value in (("handle", embed.handle), ("author_name", embed.author_name), ("text", embed.text),
                          ("lang", embed.lang), ("created_date", embed.date), ("canonical_url", embed.url)):
        if value and not row.get(column):
            updates[column] = value
    pics = json.loads(row["pic_links"] or "[]")
    merged = list(dict.fromkeys(pics + list(embed.pic_links)))
    if merged != pics:
        updates["pic_links"] = json.dumps(merged)
    if updates:
        updates["updated_at"] = now
        db["posts"].update(row["id"], updates)


def set_post_status(db, post_id: int, status: str, now: str, reason: str | None = None, **fields) -> None:
    """Change a post's status and record the change; an unchanged status records nothing."""
    if status not in POST_STATUSES:
        raise ValueError(f"unknown post status {status!r}")
    old = db.execute("SELECT status FROM posts WHERE id = ?", [post_id]).fetchone()[0]
    updates = dict(fields)
    if old != status:
        updates.update(status=status, status_changed_at=now)
        db["post_status_changes"].insert({"post_id": post_id, "from_status": old, "to_status": status,
                                          "reason": reason, "changed_at": now})
    if updates:
        updates["updated_at"] = now
        db["posts"].update(post_id, updates)


def status_summary(db) -> dict:
    """Counts of what the archive holds: articles, versions, embeds, posts by platform and status."""
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    posts = {}
    for platform, status, n in db.execute(
            "SELECT platform, status, count(*) FROM posts GROUP BY platform, status ORDER BY platform, status"):
        posts.setdefault(platform, {})[status] = n
    return {
        "schema_version": schema_version(db),
        "articles": one("SELECT count(*) FROM articles"),
        "article_versions": one("SELECT count(*) FROM article_versions"),
        "embeds": one("SELECT count(*) FROM embeds"),
        "posts": one("SELECT count(*) FROM posts"),
        "posts_unresolved": one("SELECT count(*) FROM posts WHERE platform_post_id IS NULL"),
        "posts_by_platform_status": posts,
        "snapshots": one("SELECT count(*) FROM snapshots"),
        "fetch_attempts": one("SELECT count(*) FROM fetch_attempts"),
        "posts_due": db.execute("SELECT count(*) FROM posts WHERE next_fetch_at <= ?", [utcnow()]).fetchone()[0],
    }


# --- the fetch queue -------------------------------------------------------------------------------

LEASE_SECONDS = 600  # a claimed post is invisible to other fetchers this long; a crash just delays it


def _plus(now: str, seconds: float) -> str:
    return format_utc(parse_utc(now) + timedelta(seconds=seconds))


def lease_owner() -> str:
    """Who holds a lease: this process, on this host."""
    import os
    import socket

    return f"{os.getpid()}@{socket.gethostname()}"


def release_dead_leases(db, now: str) -> int:
    """Give back the posts leased by processes of this host that are gone (killed mid-batch)."""
    import os
    import socket

    host = socket.gethostname()
    dead = []
    for (owner,) in db.execute("SELECT DISTINCT leased_by FROM posts WHERE leased_by IS NOT NULL").fetchall():
        pid, _, owner_host = owner.partition("@")
        if owner_host != host or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            dead.append(owner)
        except PermissionError:
            pass  # alive, someone else's
    if not dead:
        return 0
    with transaction(db):
        marks = ", ".join("?" * len(dead))
        cur = db.execute(f"UPDATE posts SET next_fetch_at = ?, leased_by = NULL WHERE leased_by IN ({marks})",
                         [now, *dead])
        return cur.rowcount


def claim_due_posts(db, now: str, *, limit: int | None = None, post_ids: list[int] | None = None,
                    statuses: tuple | None = None) -> list[dict]:
    """Posts due for fetching (or the given ids), leased so that another fetcher does not take them too."""
    with transaction(db):
        if post_ids:
            marks = ", ".join("?" * len(post_ids))
            rows = _dicts(db.execute(f"SELECT * FROM posts WHERE id IN ({marks}) AND merged_into_id IS NULL "
                                     "ORDER BY id", list(post_ids)))
        else:
            sql = ("SELECT * FROM posts WHERE next_fetch_at IS NOT NULL AND next_fetch_at <= ? "
                   "AND merged_into_id IS NULL")
            params: list = [now]
            if statuses:
                sql += f" AND status IN ({', '.join('?' * len(statuses))})"
                params += list(statuses)
            sql += " ORDER BY next_fetch_at, id"
            if limit:
                sql += " LIMIT ?"
                params.append(int(limit))
            rows = _dicts(db.execute(sql, params))
        if rows:
            marks = ", ".join("?" * len(rows))
            db.execute(f"UPDATE posts SET next_fetch_at = ?, leased_by = ? WHERE id IN ({marks})",
                       [_plus(now, LEASE_SECONDS), lease_owner(), *[r["id"] for r in rows]])
        for row in rows:
            row["pic_links"] = json.loads(row["pic_links"] or "[]")
            row["known_media"] = [r[0] for r in db.execute(
                "SELECT url FROM media WHERE post_id = ? AND sha256 IS NOT NULL", [row["id"]])]
    return rows


def _dicts(cursor) -> list[dict]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def record_post_result(db, result, now: str | None = None) -> None:
    """Write everything one fetch of one post produced, in one transaction; snapshots are insert-only."""
    now = now or utcnow()
    with transaction(db):
        post = _dicts(db.execute("SELECT * FROM posts WHERE id = ?", [result.post_id]))[0]
        for a in result.attempts:
            db["fetch_attempts"].insert({
                "post_id": post["id"], "source": a.source, "url": a.url, "final_url": a.final_url,
                "http_status": a.http_status, "outcome": a.outcome, "headers": json.dumps(a.headers or {}),
                "bytes": a.bytes, "duration_ms": a.duration_ms, "ip": a.ip, "error": a.error,
                "attempted_at": a.attempted_at, "attempt": a.attempt, "tool_version": __version__,
            })
        target_id = post["id"]
        res = result.resolution
        if res is not None:
            db["resolutions"].insert({
                "post_id": post["id"], "method": res.method, "resolved_post_id": res.post_id,
                "detail": res.detail, "candidates": json.dumps(list(res.candidates or ())), "resolved_at": now})
            if res.post_id and not post["platform_post_id"]:
                target_id = _attach_id(db, post, res, now)
        if target_id != post["id"]:
            _keep_settled(db, target_id, result)
        for source in result.sources:
            _record_source(db, target_id, source, now)
        for m in result.media:
            if m.sha256:
                db.execute(
                    "INSERT OR IGNORE INTO media (post_id, snapshot_id, kind, url, sha256, path, content_type, size, "
                    "warc_file, warc_offset, fetched_at) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [target_id, m.kind, m.url, m.sha256, m.path, m.content_type, m.size,
                     getattr(m.warc, "file", None), getattr(m.warc, "offset", None), now])
        _fill_from_snapshot(db, target_id, result, now)
        fields = {"next_fetch_at": result.next_fetch_at, "fetch_failures": result.failures,
                  "last_fetched_at": now, "status_reason": result.reason, "leased_by": None}
        if result.status == "archived":
            row = db.execute("SELECT archived_at, checks FROM posts WHERE id = ?", [target_id]).fetchone()
            fields["checks"] = (row[1] or 0) + 1
            if not row[0]:
                fields["archived_at"] = now
        set_post_status(db, target_id, result.status, now, reason=result.reason, **fields)



def _keep_settled(db, target_id: int, result) -> None:
    """A sighting folded into a post that is already settled: its failed fetch changes nothing there."""
    status, failures, next_at = db.execute(
        "SELECT status, fetch_failures, next_fetch_at FROM posts WHERE id = ?", [target_id]).fetchone()
    if status in SETTLED and result.status not in SETTLED:
        result.status, result.failures, result.next_fetch_at = status, failures, next_at
        result.reason = f"kept {status}: {result.reason}"


def _attach_id(db, post: dict, res, now: str) -> int:
    """Give an unresolved post its id, or fold it into the post that already has that id."""
    existing = db.execute("SELECT id FROM posts WHERE platform = ? AND platform_post_id = ?",
                          [post["platform"], res.post_id]).fetchone()
    if existing:
        db.execute("UPDATE embeds SET post_id = ? WHERE post_id = ?", [existing[0], post["id"]])
        db.execute("UPDATE posts SET merged_into_id = ?, next_fetch_at = NULL, updated_at = ? WHERE id = ?",
                   [existing[0], now, post["id"]])
        return existing[0]
    from archiver.platforms.twitter.urls import canonical_url

    db.execute("UPDATE posts SET platform_post_id = ?, canonical_url = ?, handle = coalesce(handle, ?), "
               "resolved_via = ?, resolved_at = ?, updated_at = ? WHERE id = ?",
               [res.post_id, canonical_url(res.post_id, post["handle"] or res.handle), res.handle,
                f"{res.method}: {res.detail}"[:500], now, now, post["id"]])
    return post["id"]


def _record_source(db, post_id: int, source, now: str) -> None:
    for capture in source.captures or ():
        db.execute(
            "INSERT OR IGNORE INTO captures (post_id, source, captured_at, original, replay_url, http_status, "
            "mimetype, digest, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [post_id, source.source, capture.timestamp, capture.original, capture.replay_url, capture.status,
             capture.mimetype, capture.digest, now])
    ex = source.exchange
    if ex is None:
        return
    import hashlib

    sha = hashlib.sha256(ex.body).hexdigest()
    last = db.execute("SELECT sha256 FROM snapshots WHERE post_id = ? AND source = ? ORDER BY id DESC LIMIT 1",
                      [post_id, source.source]).fetchone()
    if last and last[0] == sha:
        return  # the same body as last time: nothing new to keep
    put_body(db, sha, ex.body, now)
    db["snapshots"].insert({
        "post_id": post_id, "source": source.source, "outcome": source.outcome, "url": source.url or ex.url,
        "final_url": ex.final_url, "http_status": ex.status, "sha256": sha, "size": len(ex.body),
        "text": source.text, "created_at": source.created_at,
        "parsed": json.dumps(source.parsed, ensure_ascii=False, default=str) if source.parsed is not None else None,
        "warc_file": getattr(source.warc, "file", None), "warc_offset": getattr(source.warc, "offset", None),
        "warc_length": getattr(source.warc, "length", None), "fetched_at": ex.started_at or now,
        "tool_version": __version__,
    })


def _fill_from_snapshot(db, post_id: int, result, now: str) -> None:
    """What the platform itself says fills what the article did not show (text, date, author)."""
    for source in result.sources:
        if source.outcome != "archived" or not source.parsed:
            continue
        p = source.parsed
        user = p.get("user") or {}
        created = source.created_at
        db.execute(
            "UPDATE posts SET text = coalesce(text, ?), created_at = coalesce(created_at, ?), "
            "created_date = coalesce(created_date, ?), author_name = coalesce(author_name, ?), "
            "handle = coalesce(handle, ?), lang = coalesce(lang, ?), updated_at = ? WHERE id = ?",
            [source.text, created, created[:10] if created else None, user.get("name") or p.get("author_name"),
             user.get("screen_name"), p.get("lang"), now, post_id])


def release_posts(db, ids: list[int], now: str) -> None:
    """Give leased posts back to the queue at once (their fetch was interrupted before it finished)."""
    if not ids:
        return
    with transaction(db):
        marks = ", ".join("?" * len(ids))
        db.execute(f"UPDATE posts SET next_fetch_at = ?, leased_by = NULL WHERE id IN ({marks})", [now, *ids])
