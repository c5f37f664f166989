"""Evidence lists and their timestamps: which stored items a list names, which tokens cover which list."""
from __future__ import annotations

from archiver import __version__
from archiver.store.db import dict_rows, transaction

def uncovered_items(db) -> list[tuple[str, str, str | None]]:
    """(kind, ref, sha256) of every stored item no list names yet; a WARC range's sha256 is None (read it)."""
    items: list[tuple[str, str, str | None]] = []
    items += [("body", sha, sha) for (sha,) in db.execute(
        "SELECT sha256 FROM bodies b WHERE NOT EXISTS "
        "(SELECT 1 FROM evidence_items e WHERE e.kind = 'body' AND e.ref = b.sha256) ORDER BY first_seen_at, sha256")]
    items += [("media", path, sha) for path, sha in db.execute(
        "SELECT path, min(sha256) FROM media m WHERE sha256 IS NOT NULL AND path IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM evidence_items e WHERE e.kind = 'media' AND e.ref = m.path) GROUP BY path ORDER BY path")]
    uncovered = "NOT EXISTS (SELECT 1 FROM evidence_items e WHERE e.kind = 'warc' AND e.ref = {})"
    ranges = db.execute(
        "SELECT warc_file, warc_offset, warc_length FROM fetch_attempts WHERE warc_file IS NOT NULL AND "
        + uncovered.format(warc_ref_sql("warc_file", "warc_offset", "warc_length")) + " UNION "
        "SELECT warc_file, warc_span_offset, warc_span_length FROM article_versions WHERE warc_span_length AND "
        + uncovered.format(warc_ref_sql("warc_file", "warc_span_offset", "warc_span_length")) + " ORDER BY 1, 2")
    items += [("warc", warc_ref(f, o, n), None) for f, o, n in ranges]
    return items


def warc_ref(file: str, offset: int, length: int) -> str:
    """How a list names a WARC range: ``file@offset+length``."""
    return f"{file}@{offset}+{length}"


def warc_ref_sql(file: str, offset: str, length: str) -> str:
    """The SQL expression that builds ``warc_ref`` from three columns."""
    return f"{file} || '@' || {offset} || '+' || {length}"


def save_list(db, path: str, sha256: str, items: list[tuple[str, str, str]], now: str) -> int:
    """Record a written list and the items it names, in one transaction; the list's id."""
    with transaction(db):
        list_id = db["evidence_lists"].insert(
            {"path": path, "sha256": sha256, "items": len(items), "created_at": now}).last_pk
        db.conn.executemany("INSERT OR IGNORE INTO evidence_items (list_id, kind, ref, sha256) VALUES (?, ?, ?, ?)",
                            [(list_id, kind, ref, sha) for kind, ref, sha in items])
    return list_id


def lists_to_stamp(db, tsa_url: str) -> list[dict]:
    """The lists with no granted token from this TSA yet."""
    return dict_rows(db.execute(
        "SELECT * FROM evidence_lists l WHERE NOT EXISTS (SELECT 1 FROM timestamps t WHERE t.list_id = l.id "
        "AND t.tsa_url = ? AND t.status = 'granted') ORDER BY id", [tsa_url]))


def save_timestamp(db, list_id: int, tsa_url: str, status: str, now: str, **fields) -> int:
    """Record one answer of a TSA (a granted token, or why not); insert-only."""
    with transaction(db):
        return db["timestamps"].insert({"list_id": list_id, "tsa_url": tsa_url, "status": status,
                                        "requested_at": now, "tool_version": __version__, **fields}).last_pk


def granted_timestamps(db) -> list[dict]:
    """Every granted token with its list."""
    return dict_rows(db.execute(
        "SELECT t.*, l.path AS list_path, l.sha256 AS list_sha256 FROM timestamps t "
        "JOIN evidence_lists l ON l.id = t.list_id WHERE t.status = 'granted' ORDER BY t.id"))


def lists_covering(db, kind: str, refs: list[str]) -> list[int]:
    """The ids of the lists that name any of these items."""
    if not refs:
        return []
    found: set[int] = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        found |= {r[0] for r in db.execute(
            f"SELECT DISTINCT list_id FROM evidence_items WHERE kind = ? AND ref IN ({', '.join('?' * len(chunk))})",
            [kind, *chunk])}
    return sorted(found)
