"""The command line: a thin click layer over the library; errors become one-line messages."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from archiver import __version__
from archiver.errors import ArchiverError

from archiver.cli.evidence import export, report_stamp, timestamp, verify
from archiver.cli.reporting import Progress, report, tally
from archiver.cli.scans import Scan, archive_distributed, pace, report_scans
from archiver.cli.sharing import passwd, serve
from archiver.cli.options import (
    DEFAULT_DB, config_option, db_option, fail, max_bytes_option, open_archive, require_archive, settings_for,
    silent_option,
)

@click.group()
@click.version_option(__version__, prog_name="archiver")
def cli():
    """Preserve social posts embedded in news articles, with provenance, in SQLite."""


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@db_option
@config_option
@silent_option
@max_bytes_option
@click.option("--no-fetch", is_flag=True, help="Only detect and store; do not fetch snapshots.")
@click.option("--keep-all", is_flag=True,
              help="Store every page of a WARC/ARC file, not only those that embed a post (others are counted).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Detect in this many processes on this machine (a Dask LocalCluster); one writer stores.")
@click.option("--scheduler", envvar="ARCHIVER_DASK_SCHEDULER", default=None, metavar="tcp://HOST:8786",
              help="Detect on this existing Dask cluster instead (its workers need archiver installed).")
def archive(sources, db_path, config_path, silent, max_bytes, no_fetch, keep_all, workers, scheduler):
    """Detect the posts embedded in SOURCES, store them, and fetch their snapshots.

    SOURCES are files, folders (read recursively), - for stdin, http(s) URLs, or WARC/ARC files (.warc,
    .warc.gz, .arc, .arc.gz), each HTML response in them one article kept by reference to its record.
    """
    from archiver.read.articles import expand_sources
    from archiver.read.warcs import is_web_archive
    from archiver.config import article_policy
    from archiver.fetch.http import build_client
    from archiver.run.pipeline import process_source, process_web_archive, revisits_of, web_archive_name
    from archiver.store.web_archives import link_revisits

    from archiver.fetch.warc import WarcWriter

    settings = settings_for(config_path, db_path)
    first = not Path(db_path).exists()
    db = open_archive(db_path, write=True)
    client = build_client(settings.http)
    warc = WarcWriter.for_db(db_path) if any(s.lower().startswith(("http://", "https://")) for s in sources) else None
    todo = list(expand_sources(sources))
    progress = Progress(len(todo), silent, "archiving")
    totals = dict(articles=0, new_versions=0, embeds=0, posts_added=0, failed=0)
    scans = []
    try:
        if workers or scheduler:
            local = [t for t in todo if t != "-" and not t.lower().startswith(("http://", "https://"))]
            archive_distributed(local, db, db_path, totals, scans, progress, workers=workers, scheduler=scheduler,
                                 max_bytes=max_bytes, keep_all=keep_all)
            handed = set(local)
            todo_here = [t for t in todo if t not in handed]
        else:
            todo_here = todo
        revisits: list = []
        for source in todo_here:
            if is_web_archive(source):
                scan = Scan(source)
                for outcome in process_web_archive(source, db=db, max_bytes=max_bytes, keep_all=keep_all,
                                                   stored_as=web_archive_name(source, db_path), totals=scan.totals,
                                                   link=False):
                    if outcome.error or outcome.saved:
                        tally(outcome, totals, progress)
                scans.append(scan.done())
                revisits += revisits_of(scan.totals)
                progress.step(pace(scans))
                continue
            tally(process_source(source, db=db, client=client, policy=article_policy(settings),
                                  max_bytes=max_bytes, warc=warc), totals, progress)
            progress.step()
        link_revisits(db, revisits)  # once every file is stored: a revisit may repeat a page of another file
    finally:
        progress.close()
        client.close()
        db.close()
        if warc is not None:
            warc.close()
    if not silent:
        report_scans(scans)
        click.echo(
            f"{len(todo)} source(s): {totals['articles']} article(s) read, {totals['new_versions']} new version(s), "
            f"{totals['embeds']} embed(s) stored, {totals['posts_added']} new post(s), {totals['failed']} failed "
            f"-> {db_path}", err=True)
    if not no_fetch:
        _fetch(db_path, settings, silent=silent, quiet_stdout=True)
    if first and totals["articles"] and not silent:
        db_arg = "" if db_path == DEFAULT_DB else f" --db {db_path}"
        click.echo(f"next: `archiver serve{db_arg}` to look at what was archived, `archiver status{db_arg}` "
                   "for the counts", err=True)
    if totals["failed"] or any(sc.totals.scan.error_count for sc in scans):
        sys.exit(1)


def _fetch(db_path, settings, *, limit=None, post_ids=None, silent=False, quiet_stdout=False):
    """Run one fetch pass and report it: JSON lines per post on stdout, a summary on stderr."""
    from archiver.run.fetching import run_fetch

    db = open_archive(db_path, write=True)
    if post_ids:
        _check_posts(db, db_path, post_ids)

    def on_result(result):
        if not quiet_stdout:
            click.echo(json.dumps({
                "post_id": result.post_id, "status": result.status, "reason": result.reason,
                "next_fetch_at": result.next_fetch_at,
                "snapshots": sum(1 for s in result.sources if s.exchange is not None),
                "media": sum(1 for m in result.media if m.sha256),
                "resolved": getattr(result.resolution, "post_id", None),
            }, ensure_ascii=False))

    try:
        summary = run_fetch(db, settings, db_path, limit=limit, post_ids=post_ids, on_result=on_result)
    except ArchiverError as exc:
        fail(exc)
    finally:
        db.close()
    if silent:
        return summary
    if not summary.posts:
        click.echo("fetch: no post is due", err=True)
        return summary
    states = ", ".join(f"{n} {status}" for status, n in sorted(summary.by_status.items()))
    click.echo(f"fetch: {summary.posts} post(s): {states}; {summary.attempts} request(s), "
               f"{summary.snapshots} response(s) kept, {summary.media} media file(s)", err=True)
    if summary.next_attempts:
        soonest = min(t for _, t, _ in summary.next_attempts)
        if summary.unreachable:
            why = "no answer from " + ", ".join(summary.unreachable)
        else:
            why = "; ".join(sorted({r[:120] for _, _, r in summary.next_attempts})[:3])
        click.echo(f"fetch: {len(summary.next_attempts)} post(s) still pending ({why}); "
                   f"next attempt at {soonest} (run `archiver fetch` or the daemon)", err=True)
    if summary.timestamps is not None:
        report_stamp(summary.timestamps)
    return summary


def _check_posts(db, db_path, post_ids) -> None:
    """Refuse, fetching nothing, --post ids that name no post or a post merged into another."""
    from archiver.store.queue import known_posts

    known = known_posts(db, post_ids)
    missing = [str(i) for i in post_ids if i not in known]
    merged = [f"post {i} was merged into post {known[i]} (fetch --post {known[i]})" for i in post_ids if known.get(i)]
    if missing or merged:
        db.close()
        what = [f"no post {', '.join(missing)} in {db_path}"] if missing else []
        raise click.ClickException("; ".join(what + merged) + " (hint: ids are posts.id, as `archiver serve` "
                                   "shows them; nothing fetched)")


@cli.command()
@db_option(uses="existing")
@config_option
@silent_option
@click.option("--limit", type=click.IntRange(1), help="At most this many posts.")
@click.option("--post", "post_ids", type=int, multiple=True, help="Fetch this post (posts.id) now; repeatable.")
def fetch(db_path, config_path, silent, limit, post_ids):
    """Fetch snapshots of the posts that are due (or of --post IDs)."""
    require_archive(db_path)
    settings = settings_for(config_path, db_path)
    _fetch(db_path, settings, limit=limit, post_ids=list(post_ids) or None, silent=silent)


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@config_option
@max_bytes_option
def detect(sources, config_path, max_bytes):
    """Print one JSON object per embed found in SOURCES (no database); WARC/ARC files are read record by record."""
    from archiver.read.articles import expand_sources
    from archiver.read.warcs import is_web_archive
    from archiver.config import article_policy
    from archiver.run.pipeline import process_source, process_web_archive

    settings = settings_for(config_path, DEFAULT_DB)
    failed = 0
    for source in expand_sources(sources):
        if is_web_archive(source):
            scan = Scan(source)
            outcomes = process_web_archive(source, max_bytes=max_bytes, totals=scan.totals)
        else:
            scan, outcomes = None, [process_source(source, policy=article_policy(settings), max_bytes=max_bytes)]
        for outcome in outcomes:
            if outcome.error:
                failed += 1
                report(outcome)
                continue
            article = outcome.article
            record = (article.meta or {}).get("record")
            where = {"record": f"{record.file}@{record.offset}"} if record is not None else {}
            for embed in outcome.embeds:
                click.echo(json.dumps({"source": outcome.source, **where, "encoding": article.encoding,
                                       "decoding": article.decoding, **embed.to_dict()}, ensure_ascii=False))
        if scan is not None:
            for offset, reason in scan.totals.scan.errors:
                click.echo(f"error: {source}@{offset}: {reason}", err=True)
            failed += scan.totals.scan.error_count
    if failed:
        sys.exit(1)


@cli.command()
@db_option(uses="existing")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
def status(db_path, as_json):
    """Print what the archive holds: articles, embeds, posts by platform and status."""
    from archiver.store.posts import status_summary

    require_archive(db_path)
    db = open_archive(db_path)
    try:
        summary = status_summary(db)
    finally:
        db.close()
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"archive:   {db_path} (schema {summary['schema_version']})")
    click.echo(f"articles:  {summary['articles']} ({summary['article_versions']} version(s))")
    click.echo(f"embeds:    {summary['embeds']}")
    click.echo(f"posts:     {summary['posts']} ({summary['posts_unresolved']} without id yet, "
               f"{summary['posts_due']} due for fetching)")
    for platform, statuses in summary["posts_by_platform_status"].items():
        parts = ", ".join(f"{status} {n}" for status, n in statuses.items())
        click.echo(f"  {platform:10s} {parts}")
    click.echo(f"snapshots: {summary['snapshots']}, fetch attempts: {summary['fetch_attempts']}")


def _daemon_settings(ctx, config_path, db_path):
    """Settings for the daemon and run-once: --db wins, else `db` in the config file (relative to it)."""

    from click.core import ParameterSource

    db_given = ctx.get_parameter_source("db_path") not in (ParameterSource.DEFAULT, None)
    if config_path and not db_given:
        from archiver.config import load_settings

        try:
            settings = load_settings(config_path, required=True)
        except ArchiverError as exc:
            fail(exc)
        db = Path(settings.db)
        db_path = str(db if db.is_absolute() else Path(config_path).resolve().parent / db)
        return replace(settings, db=db_path), db_path  # the file read once
    return settings_for(config_path, db_path), db_path


def _check_work(settings, db_path) -> int | None:
    """Refuse a daemon or run-once with no [[sources]] and no post to fetch or re-check; else the posts
    it will only fetch and re-check when there are no sources (None when there are)."""
    if settings.sources:
        return None
    posts = 0
    if Path(db_path).exists():
        db = open_archive(db_path)
        try:
            posts = db.execute("SELECT count(*) FROM posts").fetchone()[0]
        finally:
            db.close()
    if not posts:
        where = settings.path or "the settings (no archiver.toml found)"
        raise click.ClickException(
            f"nothing to do: no [[sources]] in {where} and no post in {db_path} to fetch or re-check "
            "(hint: add [[sources]] to poll, `archiver init-config` shows how, or `archiver archive SOURCE` first)")
    return posts


def _only_recheck(posts: int | None, db_path) -> None:
    """Say, as a log line, that with no [[sources]] the jobs only fetch and re-check the posts there are."""
    if posts is not None:
        import logging

        logging.getLogger("archiver.daemon").warning(
            "no [[sources]] to poll: only fetching and re-checking the %d post(s) in %s", posts, db_path,
            extra={"event": "no_sources"})


def log_json_option(fn):
    """--log-json: one JSON object per log line."""
    return click.option("--log-json", is_flag=True, help="Log one JSON object per line.")(fn)


@cli.command()
@db_option
@config_option
@log_json_option
@click.pass_context
def daemon(ctx, db_path, config_path, log_json):
    """Run the scheduled jobs (poll sources, fetch due posts, re-check archived ones) until stopped.

    One daemon per database; SIGTERM or SIGINT finishes the write in hand and exits 0.
    """
    from archiver.run.daemon import run_daemon, setup_logging

    settings, db_path = _daemon_settings(ctx, config_path, db_path)
    posts = _check_work(settings, db_path)
    setup_logging(log_json)
    _only_recheck(posts, db_path)
    try:
        sys.exit(run_daemon(settings, db_path))
    except ArchiverError as exc:
        fail(exc)


@cli.command("run-once")
@db_option
@config_option
@log_json_option
@click.pass_context
def run_once_command(ctx, db_path, config_path, log_json):
    """One pass of every job (poll, fetch, recheck), for the system's cron; JSON counts on stdout."""
    from archiver.run.daemon import setup_logging, take_archive
    from archiver.run.schedule import JobRunner, run_once

    settings, db_path = _daemon_settings(ctx, config_path, db_path)
    posts = _check_work(settings, db_path)
    setup_logging(log_json)
    _only_recheck(posts, db_path)
    try:
        lock = take_archive(settings, db_path)
    except ArchiverError as exc:
        fail(exc)
    try:
        counts = run_once(JobRunner(settings, db_path))
    finally:
        lock.release()
    click.echo(json.dumps(counts))
    if any(v is None for v in counts.values()):
        sys.exit(1)


@cli.command("init-config")
@click.argument("path", default="archiver.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_config(path, force):
    """Write a commented example archiver.toml."""

    from archiver.settings_doc import example_config

    target = Path(path)
    if target.exists() and not force:
        raise click.ClickException(f"{path} exists (hint: --force to overwrite)")
    target.write_text(example_config(), encoding="utf-8")
    click.echo(f"wrote {path}", err=True)


for _command in (verify, timestamp, export, serve, passwd):
    cli.add_command(_command)


def main():
    """Entry point of the console script."""
    cli(prog_name="archiver")


if __name__ == "__main__":
    main()
