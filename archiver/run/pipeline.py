"""source -> article -> embeds -> store: the detection half of archiving, shared by the CLI and the daemon."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from archiver.read.articles import DEFAULT_MAX_BYTES, read_source, with_metadata
from archiver.detect.scan import DETECTOR_VERSION, detect, parse_html
from archiver.errors import ArchiverError, SourceError
from archiver.models import Article, Embed
from archiver.store.articles import SaveResult, save_article


@dataclass
class Outcome:
    """What happened to one source."""

    source: str
    article: Article | None = None
    embeds: list[Embed] = field(default_factory=list)
    saved: SaveResult | None = None
    error: str | None = None
    hint: str | None = None


def analyse(article: Article) -> tuple[Article, list[Embed]]:
    """Metadata and embeds of an article, parsing its HTML once."""
    page = None
    if article.kind == "html":
        # Metadata needs the tree anyway; detection reuses it (and still skips a page with no hint).
        page = parse_html(article.text)
        article = with_metadata(article, page.root if page else None)
    return article, detect(article, page)


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

