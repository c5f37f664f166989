"""Recording one fetch of one post: attempts, resolution, snapshots, captures, media and status, at once."""
from __future__ import annotations

import json

from archiver import __version__
from archiver.clock import utcnow
from archiver.models import SETTLED
from archiver.store.db import dict_rows, put_body, transaction
from archiver.store.posts import set_post_status
from archiver.store.relations import link_media_origins, match_media, record_context


def record_post_result(db, result, now: str | None = None) -> None:
    """Write everything one fetch of one post produced, in one transaction; snapshots are insert-only."""
    now = now or utcnow()
    with transaction(db):
        post = dict_rows(db.execute("SELECT * FROM posts WHERE id = ?", [result.post_id]))[0]
        for a in result.attempts:
            db["fetch_attempts"].insert({
                "post_id": post["id"], "source": a.source, "url": a.url, "final_url": a.final_url,
                "http_status": a.http_status, "outcome": a.outcome, "headers": json.dumps(a.headers or {}),
                "bytes": a.bytes, "duration_ms": a.duration_ms, "ip": a.ip, "error": a.error,
                "attempted_at": a.attempted_at, "attempt": a.attempt, "tool_version": __version__,
                **_span(a.warc),
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
        linked = record_context(db, target_id, result.sources, now)
        for m in result.media:
            if m.sha256:
                owner = linked.get(m.owner, target_id) if m.owner else target_id
                cursor = db.execute(
                    "INSERT OR IGNORE INTO media (post_id, snapshot_id, kind, url, sha256, path, content_type, size, "
                    "warc_file, warc_offset, fetched_at, perceptual_hash, hash_algorithm) "
                    "VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [owner, m.kind, m.url, m.sha256, m.path, m.content_type, m.size,
                     getattr(m.warc, "file", None), getattr(m.warc, "offset", None), now, m.perceptual_hash,
                     m.hash_algorithm])
                if cursor.rowcount:
                    match_media(db, cursor.lastrowid, m.perceptual_hash, m.hash_algorithm, now)
        link_media_origins(db, target_id, result.sources, now)
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


def _span(location) -> dict:
    """Where every WARC record of an attempt's exchange lies (hops, response, request), if it was written."""
    if location is None or not location.span_length:
        return {}
    return {"warc_file": location.file, "warc_offset": location.span_offset, "warc_length": location.span_length}
