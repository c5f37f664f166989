"""The evidence commands: export packages, verify archives and packages, request timestamps."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from archiver.cli.options import (
    config_option, db_option, fail, open_archive, require_archive, settings_for, silent_option,
)
from archiver.errors import ArchiverError


def report_stamp(stamped) -> None:
    """One line on what a timestamping pass did, and one per TSA that failed."""
    click.echo(f"timestamps: {stamped.lists} new evidence list(s) naming {stamped.items} item(s); "
               f"{stamped.granted} token(s) granted, {len(stamped.errors)} failed", err=True)
    for url, why in stamped.errors:
        click.echo(f"timestamps: {url}: {why}", err=True)


@click.command()
@db_option(uses="existing")
@config_option
@click.argument("package", required=False, type=click.Path(dir_okay=False))
@click.option("--tsa-root", "tsa_roots", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="A PEM root certificate trusted for timestamps (default: [timestamps] roots); repeatable.")
def verify(db_path, config_path, package, tsa_roots):
    """Re-hash every stored body, media file, WARC record and timestamp (or of PACKAGE.wacz); exit 1 on any mismatch."""
    from archiver.evidence.timestamps import TimestampError, load_roots

    roots_from = list(tsa_roots)
    if not roots_from and not package:
        settings = settings_for(config_path, db_path)
        base = Path(settings.path).parent if settings.path else Path(".")
        roots_from = [p if Path(p).is_absolute() else base / p for p in settings.timestamps.roots]
    try:
        roots = load_roots(roots_from)
    except TimestampError as exc:
        fail(exc)
    if package:
        from archiver.evidence.package import verify_package

        try:
            report = verify_package(package, roots)
        except ArchiverError as exc:
            fail(exc)
        counts = (f"verified {package}: {report.files} files, {report.records} WARC records, "
                  f"{report.tokens} timestamp(s)")
    else:
        from archiver.evidence.verify import verify_archive

        require_archive(db_path)
        db = open_archive(db_path)
        try:
            report = verify_archive(db, db_path, roots)
        finally:
            db.close()
        read_again = f"{report.references} record(s) read again from web archives, " if report.references else ""
        counts = (f"verified {report.bodies} bodies, {read_again}{report.media} media files, "
                  f"{report.warc_files} WARC files, {report.tokens} timestamp(s)")
    for problem in report.problems:
        click.echo(f"MISMATCH {problem}")
    click.echo(f"{counts}: {len(report.problems)} problem(s)", err=True)
    if report.problems:
        sys.exit(1)


@click.command()
@db_option(uses="existing")
@config_option
def timestamp(db_path, config_path):
    """Ask the configured Time-Stamp Authorities to stamp every item not yet covered (fetch runs do it too)."""
    from archiver.evidence.timestamps import stamp
    from archiver.fetch.http import build_client
    from archiver.fetch.retry import Requester

    require_archive(db_path)
    settings = settings_for(config_path, db_path)
    if not settings.timestamps.tsa_urls:
        fail(ArchiverError("no Time-Stamp Authority configured (hint: set [timestamps] tsa_urls in archiver.toml)"))
    db = open_archive(db_path, write=True)
    client = build_client(settings.http)
    try:
        stamped = stamp(db, db_path, settings.timestamps.tsa_urls, Requester(client, settings.http, settings.limits))
    finally:
        client.close()
        db.close()
    report_stamp(stamped)
    if stamped.errors:
        sys.exit(1)


@click.command()
@db_option(uses="existing")
@silent_option
@click.option("--post", "post_ids", type=int, multiple=True, help="Export this post (posts.id); repeatable.")
@click.option("--article", "article_ids", type=int, multiple=True,
              help="Export this article (articles.id): its captures and all its posts; repeatable.")
@click.option("--all", "all_", is_flag=True, help="Export every post and article of the archive.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The .wacz file to write.")
@click.option("--title", help="The package's title (default: what it holds).")
def export(db_path, silent, post_ids, article_ids, all_, output, title):
    """Write a WACZ package of posts or articles: their WARC records, pages, and archiver.json explaining them."""
    from archiver.evidence.export import export_wacz

    if not (post_ids or article_ids or all_):
        raise click.UsageError("say what to export: --post ID, --article ID or --all")
    if all_ and (post_ids or article_ids):
        raise click.UsageError("--all exports everything; give it alone")
    if not output.endswith(".wacz"):
        raise click.UsageError(f"{output}: the package's name must end in .wacz")
    out_dir = Path(output).resolve().parent
    if not out_dir.is_dir():
        fail(ArchiverError(f"{output}: folder {out_dir} does not exist"))
    require_archive(db_path)
    db = open_archive(db_path)
    try:
        summary = export_wacz(db, db_path, output, post_ids=post_ids, article_ids=article_ids, all_=all_,
                              title=title)
    except ArchiverError as exc:
        fail(exc)
    finally:
        db.close()
    click.echo(json.dumps({"output": str(summary.path), "posts": summary.posts, "articles": summary.articles,
                           "records": summary.records, "resources": summary.resources, "bytes": summary.bytes,
                           "missing": summary.missing}))
    for missing in summary.missing:
        click.echo(f"warning: not in the package, unreadable in the archive: {missing}", err=True)
    if not silent:
        click.echo(f"export: {summary.posts} post(s), {summary.articles} article(s), {summary.records} WARC record "
                   f"range(s), {summary.resources} resource record(s) -> {summary.path} ({summary.bytes} bytes)",
                   err=True)
    if summary.missing:
        sys.exit(1)
