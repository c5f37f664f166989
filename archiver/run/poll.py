"""Poll the configured sources for articles not yet in the archive, and archive them."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from archiver.config import Settings, Source, article_policy
from archiver.errors import ArchiverError
from archiver.clock import parse_utc, utcnow
from archiver.store.db import transaction

log = logging.getLogger("archiver.poll")


@dataclass
class PollSummary:
    """Counts of one poll of every source."""

    sources: int = 0
    failed_sources: list = field(default_factory=list)  # (name, error)
    items: int = 0
    articles_added: int = 0
    embeds: int = 0
    skipped_known: int = 0
    failed_articles: list = field(default_factory=list)  # (location, error)


def poll_sources(db, settings: Settings, db_path: Path, *, client=None, warc=None, stop=None) -> PollSummary:
    """Every source in turn; one source that fails is logged and skipped, the others go on."""
    from archiver.fetch.http import build_client

    summary = PollSummary()
    own_client = client is None
    client = client or build_client(article_policy(settings))
    try:
        for source in settings.sources:
            if stop is not None and stop.is_set():
                break
            summary.sources += 1
            _ensure_source_row(db, source)
            try:
                items = list_items(source, client, settings, stop)
            except ArchiverError as exc:
                message = str(exc).splitlines()[0]
                summary.failed_sources.append((source.name, message))
                _update_source(db, source, error=message)
                log.warning("source %s skipped: %s", source.name, message)
                continue
            added = _archive_new(db, settings, source, items, client, warc, summary, stop)
            _update_source(db, source, error=None, items=len(items), added=added)
            log.info("source %s: %d item(s), %d new article(s)", source.name, len(items), added)
    finally:
        if own_client:
            client.close()
    return summary


def list_items(source: Source, client, settings: Settings, stop=None) -> list:
    """The articles a source names now (URLs or files); raises ArchiverError when it cannot be read."""
    from archiver.read.discover import discover
    from archiver.read.lists import items_from_folder
    from archiver.read.sitemaps import crawl_sitemaps

    if source.kind == "folder":
        return list(items_from_folder(Path(source.location)))
    body, base, content_type = _read(source.location, client, settings, stop)
    found = discover(source.kind, body, base, content_type)
    if found.kind == "sitemap" and found.sitemaps:
        # An index: read its children through the same client, stopping when the daemon is asked to.
        found = crawl_sitemaps(base or source.location, lambda url: _read(url, client, settings, stop)[0],
                               first=body)
    for warning in found.warnings[:5]:
        log.info("source %s: %s", source.name, warning)
    return list(found.items)


def _read(location: str, client, settings: Settings, stop=None) -> tuple[bytes, str | None, str | None]:
    from archiver.errors import SourceError
    from archiver.fetch.http import fetch

    if stop is not None and stop.is_set():
        raise SourceError(location, "not read: the daemon is stopping")
    if not location.lower().startswith(("http://", "https://")):
        path = Path(location)
        cap = settings.http.max_bytes
        try:
            if not path.is_file():  # a FIFO would block the poll; a folder is a folder source
                raise SourceError(location, "is not a regular file")
            with open(path, "rb") as fh:
                body = fh.read(cap + 1)
        except OSError as exc:
            raise SourceError(location, f"cannot read: {exc.strerror or exc}") from None
        if len(body) > cap:  # a cut list would be read as far as it goes, as if it were whole
            raise SourceError(location, f"file is over the {cap}-byte cap ([http] max_bytes)")
        return body, None, None
    ex = fetch(client, location, article_policy(settings))
    if ex.status >= 400:
        raise SourceError(location, f"HTTP {ex.status} {ex.reason}".strip())
    return ex.body, ex.final_url, ex.content_type


def _archive_new(db, settings, source, items, client, warc, summary: PollSummary, stop) -> int:
    from archiver.run.pipeline import process_source

    added = 0
    known = _known(db, source)
    for item in items:
        if stop is not None and stop.is_set():
            break
        summary.items += 1
        if item.kind == "url" and item.location in known["urls"] and not settings.daemon.recheck_articles:
            summary.skipped_known += 1
            continue
        if item.kind == "file" and _unchanged(item, known):
            summary.skipped_known += 1
            continue
        outcome = process_source(item.location, db=db, client=client, policy=article_policy(settings), warc=warc)
        if outcome.error:
            summary.failed_articles.append((item.location, outcome.error))
            log.warning("article skipped: %s", outcome.error)
            continue
        with transaction(db):
            db.execute("UPDATE articles SET source_id = coalesce(source_id, (SELECT id FROM sources WHERE name = ?)) "
                       "WHERE id = ?", [source.name, outcome.saved.article_id])
        if outcome.saved.new_version:
            added += 1
            summary.articles_added += 1
            summary.embeds += outcome.saved.embeds_added
    return added


def _known(db, source: Source) -> dict:
    if source.kind == "folder":
        rows = db.execute("SELECT source, last_seen_at FROM articles WHERE source LIKE ?",
                          [source.location.rstrip(os.sep) + os.sep + "%"]).fetchall()
        return {"urls": set(), "files": dict(rows)}
    return {"urls": {r[0] for r in db.execute("SELECT source FROM articles WHERE source LIKE 'http%'")}, "files": {}}


def _unchanged(item, known: dict) -> bool:
    """A file already archived and not modified since it was last seen."""
    seen = known["files"].get(item.location)
    if not seen or item.mtime is None:
        return False
    seen_at = parse_utc(seen).timestamp()
    return item.mtime < seen_at - 1


def _ensure_source_row(db, source: Source) -> None:
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO sources (name, kind, location) VALUES (?, ?, ?)",
                   [source.name, source.kind, source.location])
        db.execute("UPDATE sources SET kind = ?, location = ? WHERE name = ?", [source.kind, source.location, source.name])


def _update_source(db, source: Source, *, error: str | None, items: int = 0, added: int = 0) -> None:
    now = utcnow()
    with transaction(db):
        if error:
            db.execute("UPDATE sources SET last_polled_at = ?, last_error = ? WHERE name = ?", [now, error, source.name])
        else:
            db.execute("UPDATE sources SET last_polled_at = ?, last_ok_at = ?, last_error = NULL, items_seen = ?, "
                       "articles_added = articles_added + ? WHERE name = ?", [now, now, items, added, source.name])
