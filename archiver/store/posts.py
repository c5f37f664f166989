"""Posts: one per platform post, a flattened-text embed matched to its twin, status changes recorded."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

from archiver.clock import utcnow
from archiver.models import POST_STATUSES, Embed
from archiver.store.db import dict_rows, insert_row, schema_version, update_row


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
    return dict_rows(db.execute(sql, params))


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
        row = next(iter(dict_rows(db.execute("SELECT * FROM posts WHERE platform = ? AND platform_post_id = ?",
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
    post_id = insert_row(db, "posts", {
        "platform": embed.platform, "platform_post_id": embed.post_id, "handle": embed.handle,
        "author_name": embed.author_name, "text": embed.text, "lang": embed.lang, "created_date": embed.date,
        "canonical_url": embed.url, "pic_links": json.dumps(list(embed.pic_links)),
        "links": json.dumps(list(embed.links)), "status": "pending", "status_changed_at": now,
        "next_fetch_at": now, "first_seen_at": now, "updated_at": now,
        "resolved_via": f"embed:{embed.markup}" if embed.post_id else None,
        "resolved_at": now if embed.post_id else None,
    })
    insert_row(db, "post_status_changes", {"post_id": post_id, "from_status": None, "to_status": "pending",
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
    if row.get("context_depth"):
        updates["context_depth"] = 0  # a context post an article embeds: one post, now embedded itself
    if updates:
        updates["updated_at"] = now
        update_row(db, "posts", row["id"], updates)


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


