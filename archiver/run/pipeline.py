"""source -> article -> embeds -> store: the detection half of archiving, shared by the CLI and the daemon."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from archiver.read.articles import DEFAULT_MAX_BYTES, read_source, with_metadata
from archiver.detect.scan import DETECTOR_VERSION, detect, hint_plan, parse_html
from archiver.errors import ArchiverError, SourceError
from archiver.models import Article, Embed
from archiver.store.articles import SaveResult, save_article
from archiver.store.db import WriteBatch


@dataclass
class Outcome:
    """What happened to one source."""

    source: str
    article: Article | None = None
    embeds: list[Embed] = field(default_factory=list)
    saved: SaveResult | None = None
    error: str | None = None
    hint: str | None = None


def analyse(article: Article, plan=None) -> tuple[Article, list[Embed]]:
    """Metadata and embeds of an article, parsing its HTML once (``plan``: its hint_plan, if known)."""
    page = None
    if article.kind == "html":
        # Metadata needs the tree anyway; detection reuses it (and still skips a page with no hint).
        article, page = _with_page_metadata(article)
    return article, detect(article, page, plan)


def _with_page_metadata(article: Article):
    """The article with its metadata read from an lxml parse of it, and that parse."""
    raw = article.body if article.encoding == "utf-8" else article.text.encode("utf-8", "surrogatepass")
    page = parse_html(article.text, raw)
    return with_metadata(article, page.root if page else None), page


def process_source(source: str, *, db=None, client=None, policy=None, stdin=None,
                   max_bytes: int = DEFAULT_MAX_BYTES, reader=read_source, warc=None) -> Outcome:
    """Read, analyse and (when a db is given) store one source; errors are caught into the outcome."""
    try:
        article = reader(source, client=client, policy=policy, stdin=stdin, max_bytes=max_bytes)
        exchange = (article.meta or {}).get("exchange")
        if exchange is not None and warc is not None:
            # The article's own HTTP exchange sits in the same WARC files as its posts' evidence.
            loc = warc.write_exchange(exchange)
            article = replace(article, meta={**article.meta, "warc_file": loc.file, "warc_offset": loc.offset,
                                             "warc_length": loc.length, "warc_span_offset": loc.span_offset,
                                             "warc_span_length": loc.span_length,
                                             "content_type": exchange.content_type})
        article, embeds = analyse(article)
        saved = save_article(db, article, embeds, DETECTOR_VERSION) if db is not None else None
        return Outcome(source, article, embeds, saved)
    except SourceError as exc:
        return Outcome(source, error=str(exc), hint=exc.hint)
    except ArchiverError as exc:
        return Outcome(source, error=f"{source}: {exc}", hint=exc.hint)
    except (RecursionError, MemoryError) as exc:
        return Outcome(source, error=f"{source}: page too deeply nested or too large to analyse ({type(exc).__name__})")
    except (ValueError, TypeError, OSError, UnicodeError) as exc:
        # A bug on one odd input must not stop the other sources; the line says which one.
        return Outcome(source, error=f"{source}: could not be analysed: {type(exc).__name__}: {exc}".splitlines()[0])



@dataclass
class FileTotals:
    """What one WARC/ARC file gave: its scan (records by kind, unreadable ones) and pages with and without embeds."""

    scan: object  # read.warcs.FileScan
    with_embeds: int = 0
    without_embeds: int = 0

    def add(self, other: "FileTotals") -> None:
        """Fold in what another byte range of the same file gave."""
        self.scan.merge(other.scan)
        self.with_embeds += other.with_embeds
        self.without_embeds += other.without_embeds

    def counts(self) -> dict:
        """The counts web_archive_files keeps."""
        s = self.scan
        return {"size": s.size, "records": s.records, "html": s.html, "with_embeds": self.with_embeds,
                "without_embeds": self.without_embeds, "non_html": s.non_html, "revisits": s.revisits,
                "other": s.other, "too_large": s.too_large, "errors": s.error_count}


def process_web_archive(path: str, *, db=None, max_bytes: int = DEFAULT_MAX_BYTES, keep_all: bool = False,
                        totals: FileTotals | None = None, stored_as: str | None = None, link: bool = True,
                        start: int = 0, end: int | None = None):
    """Each HTML response record of a WARC/ARC file analysed (and stored when it embeds a post, or with
    ``keep_all``), as Outcomes; the file's counts go to ``web_archive_files``. ``stored_as`` is the name the
    archive keeps for the file (by default the path as given). Its revisits are linked at the end unless
    ``link`` is False: a run over many files links them once all are stored (``revisits_of``), since a
    revisit in one file may repeat a page another file holds. ``start`` and ``end`` limit it to the records
    that start in that byte range (read.warcs.record_start_at_or_after)."""
    from archiver.read.warcs import FileScan, read_web_archive

    totals = totals or FileTotals(FileScan(stored_as or path))
    totals.scan.file = stored_as or totals.scan.file
    reader = read_web_archive(path, totals.scan, max_bytes, start, end)
    batch = WriteBatch(db) if db is not None else None
    try:
        for article in reader:
            if stored_as:
                record = replace(article.meta["record"], file=stored_as)
                article = replace(article, meta={**article.meta, "record": record})
            outcome = _analysed(article, batch, keep_all)
            if outcome.error is None:
                if outcome.embeds:
                    totals.with_embeds += 1
                else:
                    totals.without_embeds += 1
            yield outcome
    except OSError as exc:
        yield Outcome(path, error=f"{path}: {exc.strerror or exc}")
    finally:
        if db is not None:
            from archiver.store.web_archives import link_revisits, save_file_scan

            try:
                save_file_scan(db, totals.scan.file, totals.counts(), totals.scan.errors)
                if link:
                    link_revisits(db, revisits_of(totals))
            finally:
                batch.close()  # the file's last articles with its counts, in one commit


def revisits_of(totals: FileTotals) -> list:
    """A scanned file's revisit records, named as the archive names the file."""
    return [replace(r, file=totals.scan.file) for r in totals.scan.revisit_refs]


def _analysed(article: Article, batch: WriteBatch | None, keep_all: bool) -> Outcome:
    """One record's article analysed, and, given a batch (store.db.WriteBatch), stored in its store and
    transaction when it embeds a post (or when every page is kept)."""
    if batch is not None:
        batch.tick()  # a batch is never held open over many pages with nothing to store
    try:
        plan = hint_plan(article)
        if plan is not None and plan.empty and not keep_all:
            # No signature hint: nothing to find and nothing to store, so the page is counted, never parsed
            # (most pages of a news crawl; their metadata would only be thrown away).
            return Outcome(article.source, article, [])
        if keep_all or article.kind != "html":
            article, embeds = analyse(article, plan)
        else:
            # Detection parses the page itself (with Lexbor, detect.located); the metadata, which needs
            # lxml's parse, is read only for a page with embeds: the only ones stored.
            embeds = detect(article, None, plan)
            if embeds:
                article = _with_page_metadata(article)[0]
        saved = None
        if batch is not None and (embeds or keep_all):
            with batch.write() as db:
                saved = save_article(db, article, embeds, DETECTOR_VERSION)
        return Outcome(article.source, article, embeds, saved)
    except (RecursionError, MemoryError) as exc:
        return Outcome(article.source, error=f"{article.source}: page too deeply nested or too large to analyse "
                                             f"({type(exc).__name__})")
    except (ValueError, TypeError, UnicodeError, ArchiverError) as exc:
        return Outcome(article.source,
                       error=f"{article.source}: could not be analysed: {type(exc).__name__}: {exc}".splitlines()[0])


def web_archive_name(path: str, db_path) -> str:
    """How the archive names a WARC/ARC file it read: relative to the database's folder when inside it, else
    absolute (so verify finds it again from anywhere)."""
    import os

    full = os.path.abspath(path)
    folder = os.path.dirname(os.path.abspath(db_path))
    return os.path.relpath(full, folder) if full.startswith(folder + os.sep) else full
