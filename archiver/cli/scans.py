"""WARC/ARC files read by the archive command: counts per file, the pace, and runs on a Dask cluster."""
from __future__ import annotations

import time

import click

from archiver.cli.options import fail
from archiver.cli.reporting import tally
from archiver.errors import ArchiverError


def archive_distributed(sources, db, db_path, totals, scans, progress, **options) -> None:
    """Files and WARC/ARC files detected on a Dask cluster, stored here as each unit lands."""
    from archiver.run.distributed import run_distributed

    started = time.monotonic()

    def on_unit(result, outcomes):
        for outcome in outcomes:
            tally(outcome, totals, progress)
        if result.totals is not None:
            scan = Scan(result.sources[0])
            scan.totals, scan.seconds = result.totals, 0.0
            scans.append(scan)
        for _ in result.sources:
            progress.step(pace(scans, time.monotonic() - started) if scans else None)

    try:
        run_distributed(sources, db, db_path, on_unit=on_unit, **options)
    except OSError as exc:
        fail(ArchiverError(f"the Dask cluster could not be reached or started: {exc}"))
    except Exception as exc:  # noqa: BLE001 - Dask's own errors (KilledWorker, a lost scheduler): one line
        fail(ArchiverError(f"detection on the Dask cluster stopped: {type(exc).__name__}: {str(exc)[:200]} "
                           "(what landed before is stored; run the same command again to finish)"))
    if scans:
        scans[-1].seconds = time.monotonic() - started  # the pace of the whole run, not of one file


class Scan:
    """One WARC/ARC file being read: its counts and how long it took."""

    def __init__(self, path: str):
        from archiver.read.warcs import FileScan
        from archiver.run.pipeline import FileTotals

        self.path, self.started, self.totals = path, time.monotonic(), FileTotals(FileScan(path))

    def done(self):
        """The file is read: how long it took is kept."""
        self.seconds = time.monotonic() - self.started
        return self


def pace(scans: list, seconds: float | None = None) -> str:
    """Web archives read so far: files, records, MB and HTML pages per second."""
    records = sum(sc.totals.scan.records for sc in scans)
    html = sum(sc.totals.scan.html for sc in scans)
    size = sum(sc.totals.scan.size for sc in scans) / 2**20
    seconds = seconds if seconds is not None else sum(sc.seconds for sc in scans)
    return f"{len(scans)} file(s), {records} records, {size:.0f} MB, {html / max(seconds, 1e-6):.0f} pages/s"


def report_scans(scans: list) -> None:
    """For WARC/ARC sources: what each file held, its unreadable records (file@offset), and the pace."""
    from archiver.read.articles import human_size

    for scan in scans:
        s = scan.totals.scan
        for offset, reason in s.errors:
            click.echo(f"error: {scan.path}@{offset}: {reason}", err=True)
        if s.error_count > len(s.errors):
            click.echo(f"error: {scan.path}: {s.error_count - len(s.errors)} more unreadable record(s)", err=True)
    if scans:
        records = sum(sc.totals.scan.records for sc in scans)
        html = sum(sc.totals.scan.html for sc in scans)
        size = sum(sc.totals.scan.size for sc in scans)
        seconds = max(sum(sc.seconds for sc in scans), 1e-6)
        t = [sc.totals for sc in scans]
        click.echo(
            f"web archives: {len(scans)} file(s), {human_size(size)}, {records} record(s): {html} HTML page(s) "
            f"({sum(x.with_embeds for x in t)} with embeds, {sum(x.without_embeds for x in t)} without, counted), "
            f"{sum(x.scan.non_html for x in t)} other response(s), {sum(x.scan.revisits for x in t)} revisit(s), "
            f"{sum(x.scan.error_count for x in t)} unreadable; {html / seconds:.0f} pages/s", err=True)
