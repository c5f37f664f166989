"""Posts in context: the posts a fetched post quotes, answers and took media from, kept as posts of their own
and linked by typed relations; pictures alike by their perceptual hashes, linked both ways."""
from __future__ import annotations

import json

from archiver import __version__
from archiver.store.db import dict_rows

CARRIED = "-carried"  # a snapshot source's suffix: the post as another post's body carried it (same bytes)


def record_context(db, post_id: int, sources, now: str) -> dict[str, int]:
    """Write the context links of one fetch's sources; {platform id: posts.id} of the posts linked."""
    if not any(source.context for source in sources):
        return {}
    depth = db.execute("SELECT context_depth FROM posts WHERE id = ?", [post_id]).fetchone()[0] or 0
    linked: dict[str, int] = {}
    for source in sources:
        if not source.context:
            continue
        evidence = next(iter(dict_rows(db.execute(
            "SELECT * FROM snapshots WHERE post_id = ? AND source = ? ORDER BY id DESC LIMIT 1",
            [post_id, source.source]))), None)
        for link in source.context:
            other = _context_post(db, link, post_id, depth + 1, now)
            if other == post_id:
                continue
            linked[link.post_id] = other
            _relate(db, post_id, link.relation, other, link.learned_from, evidence["id"] if evidence else None, now)
            if link.carried is not None and evidence is not None:
                _carried_snapshot(db, other, link, evidence, now)
    return linked


def link_media_origins(db, post_id: int, sources, now: str) -> None:
    """A media_from link names its file: the media row learns its first poster, the relation its file."""
    for source in sources:
        for link in source.context or ():
            if link.relation != "media_from" or not link.media_url:
                continue
            origin = db.execute("SELECT id FROM posts WHERE platform = ? AND platform_post_id = ?",
                                [link.platform, link.post_id]).fetchone()
            media = db.execute("SELECT id FROM media WHERE post_id = ? AND url = ? ORDER BY id DESC LIMIT 1",
                               [post_id, link.media_url]).fetchone()
            if origin is None or media is None:
                continue
            db.execute("UPDATE media SET source_post_id = ? WHERE id = ?", [origin[0], media[0]])
            db.execute("UPDATE post_relations SET media_id = ? WHERE post_id = ? AND relation = 'media_from' "
                       "AND related_post_id = ? AND learned_from = ?", [media[0], post_id, origin[0], link.learned_from])


def match_media(db, media_id: int, perceptual_hash: str | None, algorithm: str | None, now: str) -> int:
    """Link a picture to every stored picture alike by its perceptual hash (both ways); how many it matches."""
    if not perceptual_hash or not algorithm:
        return 0
    from archiver.fetch.likeness import MAX_DISTANCE, distance

    matches = 0
    for other_id, other_hash in db.execute(
            "SELECT id, perceptual_hash FROM media WHERE perceptual_hash IS NOT NULL AND hash_algorithm = ? AND id != ?",
            [algorithm, media_id]):
        bits = distance(perceptual_hash, other_hash)
        if bits <= MAX_DISTANCE:
            for a, b in ((media_id, other_id), (other_id, media_id)):
                db.execute("INSERT OR IGNORE INTO media_matches (media_id, other_media_id, distance, hash_algorithm, "
                           "found_at) VALUES (?, ?, ?, ?, ?)", [a, b, bits, algorithm, now])
            matches += 1
    return matches


def _context_post(db, link, from_post: int, depth: int, now: str) -> int:
    """The posts row of a linked post: found (at the lesser depth) or created from what the link knows."""
    row = db.execute("SELECT id, context_depth FROM posts WHERE platform = ? AND platform_post_id = ?",
                     [link.platform, link.post_id]).fetchone()
    if row is not None:
        if (row[1] or 0) > depth:
            db.execute("UPDATE posts SET context_depth = ?, updated_at = ? WHERE id = ?", [depth, now, row[0]])
        return row[0]
    status = link.outcome if link.carried is not None and link.outcome in ("archived", "unavailable") else "pending"
    said = {"quotes": "quoted by", "replies_to": "replied to by", "media_from": "media re-posted by"}[link.relation]
    reason = (f"{said} post {from_post}: " +
              (f"carried in its {link.source} body" if status != "pending" else "named in its " + link.source + " body"))
    if status == "unavailable" and link.reason:
        reason += f": {link.reason}"
    created = link.created_at
    post_id = db["posts"].insert({
        "platform": link.platform, "platform_post_id": link.post_id, "handle": link.handle,
        "author_name": link.author_name, "text": link.text, "created_at": created,
        "created_date": created[:10] if created else None, "canonical_url": link.canonical_url,
        "status": status, "status_changed_at": now, "status_reason": reason, "next_fetch_at": link.next_fetch_at or now,
        "archived_at": now if status == "archived" else None, "first_seen_at": now, "updated_at": now,
        "resolved_via": f"{link.relation}:{link.learned_from}", "resolved_at": now, "context_depth": depth,
    }).last_pk
    db["post_status_changes"].insert({"post_id": post_id, "from_status": None, "to_status": status,
                                      "reason": reason, "changed_at": now})
    return post_id


def _relate(db, post_id: int, relation: str, other: int, learned_from: str, snapshot_id, now: str) -> None:
    db.execute(
        "INSERT INTO post_relations (post_id, relation, related_post_id, learned_from, snapshot_id, first_seen_at, "
        "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, relation, related_post_id, learned_from) "
        "DO UPDATE SET last_seen_at = excluded.last_seen_at, snapshot_id = coalesce(excluded.snapshot_id, snapshot_id)",
        [post_id, relation, other, learned_from, snapshot_id, now, now])


def _carried_snapshot(db, other: int, link, evidence: dict, now: str) -> None:
    """The linked post as the body carried it: a snapshot of its own, pointing at the same stored bytes.
    Only while the post has no answer of that source of its own (the relation names the body either way)."""
    source = link.source + CARRIED
    if db.execute("SELECT 1 FROM snapshots WHERE post_id = ? AND source = ?", [other, link.source]).fetchone():
        return
    last = db.execute("SELECT sha256 FROM snapshots WHERE post_id = ? AND source = ? ORDER BY id DESC LIMIT 1",
                      [other, source]).fetchone()
    if last and last[0] == evidence["sha256"]:
        return
    db["snapshots"].insert({
        "post_id": other, "source": source, "outcome": link.outcome or "archived", "url": evidence["url"],
        "final_url": evidence["final_url"], "http_status": evidence["http_status"], "sha256": evidence["sha256"],
        "size": evidence["size"], "text": link.text, "created_at": link.created_at,
        "parsed": json.dumps(link.carried, ensure_ascii=False, default=str),
        "warc_file": evidence["warc_file"], "warc_offset": evidence["warc_offset"],
        "warc_length": evidence["warc_length"], "fetched_at": evidence["fetched_at"], "tool_version": __version__,
    })
