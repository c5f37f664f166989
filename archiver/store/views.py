"""The SQL views people browse most, declared once and created (or updated) idempotently.

``ensure_views(db)`` runs after the migrations (``store.open_db`` calls it): a view whose SQL is
already the declared one is left alone, so a database that is up to date is never written to.
Nothing here imports Datasette: the store imports this module.
"""
from __future__ import annotations

import sqlite3

# Statuses that mean "the platform no longer shows this post" (failed only means we could not tell).
GONE_STATUSES = ("unavailable", "not_found", "protected")
GONE_SQL = "(" + ", ".join(f"'{s}'" for s in GONE_STATUSES) + ")"  # for `status IN ...` in view SQL

# Snapshot outcomes that are listings of third-party captures, not the platform's own answer.
_LISTINGS = "('captures', 'none')"

VIEWS: dict[str, str] = {
    # One row per post (merged duplicates left out): what it said, where it stands, what evidence backs it.
    # latest_snapshot_*: the newest answer of the platform itself that agrees with the current status.
    "posts_overview": f"""
SELECT
    p.id AS post_id,
    p.platform,
    p.handle,
    p.author_name,
    p.text,
    p.created_date,
    p.status,
    p.status_changed_at,
    p.status_reason,
    p.archived_at,
    p.last_fetched_at,
    latest.id AS latest_snapshot_id,
    latest.source AS latest_snapshot_source,
    latest.outcome AS latest_snapshot_outcome,
    latest.fetched_at AS latest_snapshot_at,
    latest.sha256 AS latest_snapshot_sha256,
    (SELECT max(s.id) FROM snapshots s WHERE s.post_id = p.id AND s.outcome = 'archived')
        AS latest_archived_snapshot_id,
    (SELECT count(*) FROM snapshots s WHERE s.post_id = p.id) AS snapshots,
    (SELECT count(*) FROM media m WHERE m.post_id = p.id) AS media,
    (SELECT count(*) FROM captures c WHERE c.post_id = p.id) AS captures,
    (SELECT count(DISTINCT e.article_id) FROM embeds e WHERE e.post_id = p.id) AS articles,
    (SELECT group_concat(label, ' | ') FROM (
        SELECT DISTINCT coalesce(a.title, a.canonical_url, a.url, a.source) AS label
        FROM embeds e JOIN articles a ON a.id = e.article_id
        WHERE e.post_id = p.id ORDER BY a.id)) AS article_titles,
    p.platform_post_id,
    p.canonical_url,
    p.first_seen_at
FROM posts p
LEFT JOIN snapshots latest ON latest.id = coalesce(
    (SELECT max(s.id) FROM snapshots s WHERE s.post_id = p.id AND s.outcome = p.status),
    (SELECT max(s.id) FROM snapshots s WHERE s.post_id = p.id AND s.outcome NOT IN {_LISTINGS}))
WHERE p.merged_into_id IS NULL""",
    # One row per article: how many of the posts it embeds (in any version) are in each status.
    "articles_overview": f"""
SELECT
    a.id AS article_id,
    a.title,
    a.site_name,
    a.author,
    a.published_at,
    coalesce(a.canonical_url, a.url, a.source) AS location,
    a.versions,
    count(p.id) AS posts,
    count(CASE WHEN p.status = 'archived' THEN 1 END) AS archived,
    count(CASE WHEN p.status = 'pending' THEN 1 END) AS pending,
    count(CASE WHEN p.status = 'unavailable' THEN 1 END) AS unavailable,
    count(CASE WHEN p.status = 'not_found' THEN 1 END) AS not_found,
    count(CASE WHEN p.status = 'protected' THEN 1 END) AS protected,
    count(CASE WHEN p.status = 'failed' THEN 1 END) AS failed,
    count(CASE WHEN p.status IN {GONE_SQL} THEN 1 END) AS gone,
    a.first_seen_at,
    a.last_seen_at
FROM articles a
LEFT JOIN (SELECT DISTINCT article_id, post_id FROM embeds) ap ON ap.article_id = a.id
LEFT JOIN posts p ON p.id = ap.post_id
GROUP BY a.id""",
    # Every time a post went from visible (or unknown) to gone, with when and why, and what we kept of it.
    "posts_gone": f"""
SELECT
    c.post_id,
    p.platform,
    p.handle,
    p.author_name,
    c.from_status,
    c.to_status,
    c.changed_at AS gone_at,
    c.reason,
    p.status AS status_now,
    p.archived_at,
    (SELECT max(s.id) FROM snapshots s WHERE s.post_id = p.id AND s.outcome = 'archived')
        AS last_archived_snapshot_id,
    p.text,
    (SELECT count(DISTINCT e.article_id) FROM embeds e WHERE e.post_id = p.id) AS articles,
    p.canonical_url,
    c.id AS change_id
FROM post_status_changes c
JOIN posts p ON p.id = c.post_id
WHERE c.to_status IN {GONE_SQL}""",
    # The fetch queue: every post with a next attempt, soonest first; due = its time has come.
    "fetch_queue": """
SELECT
    p.id AS post_id,
    p.platform,
    p.handle,
    p.status,
    p.next_fetch_at,
    CASE WHEN p.next_fetch_at <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now') THEN 1 ELSE 0 END AS due,
    p.fetch_failures,
    p.checks,
    p.last_fetched_at,
    p.status_reason,
    (SELECT count(*) FROM fetch_attempts f WHERE f.post_id = p.id) AS attempts,
    (SELECT max(f.attempted_at) FROM fetch_attempts f WHERE f.post_id = p.id) AS last_attempt_at
FROM posts p
WHERE p.next_fetch_at IS NOT NULL AND p.merged_into_id IS NULL""",
    # Requests that did not come back "ok", by host, source, outcome and HTTP status.
    "fetch_errors": """
WITH rest AS (
    SELECT f.*, substr(f.url, instr(f.url, '://') + 3) AS tail FROM fetch_attempts f WHERE f.outcome <> 'ok'
), authority AS (
    SELECT r.*, CASE WHEN instr(r.tail, '/') > 0 THEN substr(r.tail, 1, instr(r.tail, '/') - 1) ELSE r.tail END
        AS hostport FROM rest r
), hosts AS (
    SELECT a.*, lower(CASE WHEN instr(a.hostport, '?') > 0 THEN substr(a.hostport, 1, instr(a.hostport, '?') - 1)
        ELSE a.hostport END) AS host FROM authority a
), tagged AS (
    SELECT h.*, row_number() OVER (PARTITION BY h.host, h.source, h.outcome, h.http_status
                                   ORDER BY h.attempted_at DESC, h.id DESC) AS recency
    FROM hosts h
)
SELECT
    t.host,
    t.source,
    t.outcome,
    t.http_status,
    count(*) AS attempts,
    count(DISTINCT t.post_id) AS posts,
    min(t.attempted_at) AS first_at,
    max(t.attempted_at) AS last_at,
    max(CASE WHEN t.recency = 1 THEN t.error END) AS last_error,
    max(CASE WHEN t.recency = 1 THEN t.url END) AS last_url
FROM tagged t
GROUP BY t.host, t.source, t.outcome, t.http_status""",
    # The daemon's jobs (archiver.run.schedule: status running, ok, interrupted or error): runs, last run, last error.
    "job_health": """
SELECT
    j.job,
    count(*) AS runs,
    count(CASE WHEN j.status = 'ok' THEN 1 END) AS ok_runs,
    count(CASE WHEN j.status = 'error' THEN 1 END) AS failed_runs,
    count(CASE WHEN j.status = 'interrupted' THEN 1 END) AS interrupted_runs,
    count(CASE WHEN j.status = 'running' THEN 1 END) AS running,
    (SELECT l.status FROM job_runs l WHERE l.job = j.job ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
        AS last_status,
    max(j.started_at) AS last_started_at,
    (SELECT l.finished_at FROM job_runs l WHERE l.job = j.job ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
        AS last_finished_at,
    (SELECT max(l.finished_at) FROM job_runs l WHERE l.job = j.job AND l.status = 'ok') AS last_ok_at,
    (SELECT l.error FROM job_runs l WHERE l.job = j.job AND l.error IS NOT NULL
     ORDER BY l.started_at DESC, l.id DESC LIMIT 1) AS last_error,
    round(avg(CASE WHEN j.finished_at IS NOT NULL
                   THEN (julianday(j.finished_at) - julianday(j.started_at)) * 86400 END), 1) AS avg_seconds
FROM job_runs j
GROUP BY j.job""",
    # Posts in context: each relation with both posts, how it was learned, and the file a media_from is about.
    "post_context": """
SELECT
    r.post_id,
    p.platform,
    p.handle,
    r.relation,
    r.related_post_id,
    o.handle AS related_handle,
    o.status AS related_status,
    o.created_at AS related_created_at,
    o.text AS related_text,
    r.learned_from,
    r.snapshot_id,
    r.media_id,
    r.first_seen_at,
    r.last_seen_at,
    p.context_depth AS depth,
    o.context_depth AS related_depth
FROM post_relations r
JOIN posts p ON p.id = r.post_id
JOIN posts o ON o.id = r.related_post_id""",
}


def view_sql(name: str) -> str:
    """The CREATE VIEW statement of a declared view, exactly as it is stored in sqlite_master."""
    return f"CREATE VIEW {name} AS{VIEWS[name]}"


def ensure_views(db) -> list[str]:
    """Create or update the declared views; returns the names written (empty when all were current).

    ``db`` is a ``sqlite_utils.Database`` or a ``sqlite3.Connection``. Runs in one transaction
    (``BEGIN IMMEDIATE``), or inside the caller's when one is open.
    """
    conn: sqlite3.Connection = getattr(db, "conn", db)
    stored = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall())
    stale = [name for name in VIEWS if (stored.get(name) or "").strip() != view_sql(name)]
    if not stale:
        return []
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        for name in stale:
            conn.execute(f"DROP VIEW IF EXISTS {name}")
            conn.execute(view_sql(name))
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")
    return stale
