"""Writing an article: its version (once per distinct content), its body, its embeds and their posts."""
from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from archiver import __version__
from archiver.clock import iso_published, utcnow
from archiver.read.metadata import READABLE_MAX
from archiver.models import Article, Embed
from archiver.store.db import insert_row, put_body, transaction
from archiver.store.posts import upsert_post


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
    record = (article.meta or {}).get("record")  # read from a WARC/ARC record: kept by reference, not copied
    with transaction(db):
        if record is None:
            put_body(db, article.sha256, article.body, now)
        else:
            db.execute("INSERT OR IGNORE INTO bodies (sha256, size, content, first_seen_at, by_reference) "
                       "VALUES (?, ?, x'', ?, 1)", [article.sha256, (article.meta or {}).get("size") or len(article.body),
                                                  now])
        row = db.execute("SELECT id FROM articles WHERE source = ?", [article.source]).fetchone()
        meta = {
            "url": article.final_url or article.url, "canonical_url": article.canonical_url,
            "title": article.title, "site_name": article.site_name, "author": article.author,
            # ISO 8601 for facets and filters; the text as the page wrote it beside it
            "published_at": iso_published(article.published), "published_text": article.published,
            "kind": article.kind,
            # what search reads: an HTML page's words (read with its metadata), a text as it is
            "readable_text": article.readable or (article.text[:READABLE_MAX] if article.kind == "text" else None),
        }
        created = row is None
        if created:
            # Written whole at once: a later UPDATE of the row re-indexes its full text (the FTS trigger).
            article_id = insert_row(db, "articles", {
                "source": article.source, **meta, "latest_sha256": article.sha256, "versions": 1,
                "first_seen_at": now, "last_seen_at": now})
        else:
            article_id = row[0]
        version = db.execute("SELECT id FROM article_versions WHERE article_id = ? AND sha256 = ?",
                             [article_id, article.sha256]).fetchone()
        if version is not None:
            db.execute("UPDATE articles SET last_seen_at = ? WHERE id = ?", [now, article_id])
            return SaveResult(article_id, version[0], False, 0, 0)
        version_id = insert_row(db, "article_versions", {
            "article_id": article_id, "sha256": article.sha256, "kind": article.kind,
            "encoding": article.encoding, "decoding": article.decoding,
            "size": (article.meta or {}).get("size") or len(article.body), "url": article.url,
            "final_url": article.final_url, "http_status": article.http_status,
            "content_type": (article.meta or {}).get("content_type"),
            "title": article.title, "canonical_url": article.canonical_url,
            "published_at": article.published,  # a version keeps what its page said, as written
            "site_name": article.site_name, "author": article.author, "fetched_at": article.fetched_at,
            **{k: (article.meta or {}).get(k) for k in ("warc_file", "warc_offset", "warc_length", "warc_span_offset",
                                                        "warc_span_length")},
            "detector_version": detector_version, "tool_version": __version__,
            "embed_count": len(embeds), "first_seen_at": now,
            **({"source_file": record.file, "source_offset": record.offset, "source_length": record.length,
                "source_record_id": record.record_id,
                "source_payload_digest": record.payload_digest} if record is not None else {}),
        })
        if not created:
            db.execute(
                "UPDATE articles SET " + ", ".join(f"{k} = coalesce(?, {k})" for k in meta)
                + ", latest_sha256 = ?, versions = versions + 1, last_seen_at = ? WHERE id = ?",
                [*meta.values(), article.sha256, now, article_id])
        posts_added = 0
        for ordinal, embed in enumerate(embeds):
            post_id, created = upsert_post(db, embed, now)
            posts_added += created
            insert_row(db, "embeds", {
                "article_id": article_id, "article_version_id": version_id, "post_id": post_id,
                "ordinal": ordinal, "platform": embed.platform, "markup": embed.markup, "context": embed.context,
                "position": embed.position, "embed_url": embed.url, "handle": embed.handle,
                "author_name": embed.author_name, "date": embed.date, "date_text": embed.date_text,
                "text": embed.text, "lang": embed.lang, "pic_links": json.dumps(list(embed.pic_links)),
                "links": json.dumps(list(embed.links)), "raw": embed.raw, "detector": embed.detector,
                "surrounding": embed.surrounding,
                "detector_version": detector_version, "detected_at": now,
            })
        return SaveResult(article_id, version_id, True, len(embeds), posts_added)


