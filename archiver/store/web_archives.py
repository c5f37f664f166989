"""What each WARC or ARC file read as a source held, counted: one row per file, kept up to date."""
from __future__ import annotations

import json

from archiver.clock import utcnow
from archiver.store.db import transaction

_COUNTS = ("size", "records", "html", "with_embeds", "without_embeds", "non_html", "revisits", "other", "too_large")


def save_file_scan(db, file: str, counts: dict, errors: list, now: str | None = None) -> None:
    """Record (or replace) the counts of one scanned file and its first unreadable records (offset, reason)."""
    now = now or utcnow()
    row = {"file": file, **{k: int(counts.get(k) or 0) for k in _COUNTS}, "errors": int(counts.get("errors") or 0),
           "error_detail": json.dumps(errors) if errors else None, "scanned_at": now}
    with transaction(db):
        db["web_archive_files"].upsert(row, pk="file")


def link_revisits(db, refs: list, now: str | None = None) -> int:
    """Link each revisit record to the stored article version whose payload it repeats (by payload digest,
    then target URI); revisits of content not stored (a page without embeds) stay counted only. How many linked."""
    now = now or utcnow()
    linked = 0
    with transaction(db):
        for ref in refs:
            if not ref.payload_digest:
                continue
            row = db.execute(
                "SELECT v.id FROM article_versions v JOIN articles a ON a.id = v.article_id "
                "WHERE v.source_payload_digest = ? ORDER BY (a.source = ?) DESC, v.id LIMIT 1",
                [ref.payload_digest, ref.target_uri]).fetchone()
            if row is None:
                continue
            cursor = db.execute(
                "INSERT OR IGNORE INTO article_revisits (article_version_id, source_file, source_offset, record_id, "
                "target_uri, warc_date, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [row[0], ref.file, ref.offset, ref.record_id, ref.target_uri, ref.date, now])
            linked += cursor.rowcount
    return linked
