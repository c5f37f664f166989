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
