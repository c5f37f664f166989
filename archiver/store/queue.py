"""The fetch queue: posts due by next_fetch_at, leased to one fetcher at a time, given back when it dies."""
from __future__ import annotations

import json
import os
import socket
from datetime import timedelta

from archiver.clock import format_utc, parse_utc
from archiver.models import QueuedPost
from archiver.store.db import dict_rows, transaction


LEASE_SECONDS = 600  # a claimed post is invisible to other fetchers this long; a crash just delays it


def _plus(now: str, seconds: float) -> str:
    return format_utc(parse_utc(now) + timedelta(seconds=seconds))


def lease_owner() -> str:
    """Who holds a lease: this process, on this host."""
    return f"{os.getpid()}@{socket.gethostname()}"


def release_dead_leases(db, now: str) -> int:
    """Give back the posts leased by processes of this host that are gone (killed mid-batch)."""
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


def known_posts(db, post_ids) -> dict[int, int | None]:
    """Which of `post_ids` are posts: each one's merged_into_id (None for a post of its own)."""
    ids = list(post_ids)
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return dict(db.execute(f"SELECT id, merged_into_id FROM posts WHERE id IN ({marks})", ids).fetchall())


def claim_due_posts(db, now: str, *, limit: int | None = None, post_ids: list[int] | None = None,
                    statuses: tuple | None = None) -> list[QueuedPost]:
    """Posts due for fetching (or the given ids), leased so that another fetcher does not take them too."""
    with transaction(db):
        if post_ids:
            marks = ", ".join("?" * len(post_ids))
            rows = dict_rows(db.execute(f"SELECT * FROM posts WHERE id IN ({marks}) AND merged_into_id IS NULL "
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
            # the lookup for the batch only, not for every due post the sort looks at
            rows = dict_rows(db.execute(f"SELECT p.*, {_WEB_ARCHIVE_AT} FROM ({sql}) p ORDER BY next_fetch_at, id",
                                        params))
        if rows:
            marks = ", ".join("?" * len(rows))
            db.execute(f"UPDATE posts SET next_fetch_at = ?, leased_by = ? WHERE id IN ({marks})",
                       [_plus(now, LEASE_SECONDS), lease_owner(), *[r["id"] for r in rows]])
        return [_queued(db, row) for row in rows]


# When the Wayback Machine last answered about a post; an error is no answer. Read for due posts only:
# a post asked for by id (on demand) has the Wayback Machine asked too, however recently it answered.
_WEB_ARCHIVE_AT = ("(SELECT max(s.fetched_at) FROM snapshots s WHERE s.post_id = p.id AND s.source IN "
                   "('wayback-available', 'wayback-cdx') AND s.outcome != 'error') AS web_archive_at")


def _queued(db, row: dict) -> QueuedPost:
    known = tuple(r[0] for r in db.execute("SELECT url FROM media WHERE post_id = ? AND sha256 IS NOT NULL",
                                           [row["id"]]))
    return QueuedPost(
        id=row["id"], platform=row["platform"], platform_post_id=row["platform_post_id"], handle=row["handle"],
        text=row["text"], created_date=row["created_date"], canonical_url=row["canonical_url"],
        status=row["status"], status_changed_at=row["status_changed_at"], archived_at=row["archived_at"],
        fetch_failures=row["fetch_failures"] or 0, pic_links=tuple(json.loads(row["pic_links"] or "[]")),
        known_media=known, web_archive_at=row.get("web_archive_at"), context_depth=row.get("context_depth") or 0)


def release_posts(db, ids: list[int], now: str) -> None:
    """Give leased posts back to the queue at once (their fetch was interrupted before it finished)."""
    if not ids:
        return
    with transaction(db):
        marks = ", ".join("?" * len(ids))
        db.execute(f"UPDATE posts SET next_fetch_at = ?, leased_by = NULL WHERE id IN ({marks})", [now, *ids])
