"""Detection spread over a Dask cluster, storing in one writer: many processes read and analyse, one commits.

Work units are WARC/ARC files (a gzipped WARC file larger than RANGE_BYTES in byte ranges cut at record
boundaries, so that one big file keeps every worker busy), and plain article files in groups: a worker reads its unit, analyses
every page and returns only what the archive keeps (articles that embed a post, without the bytes a WARC
record keeps for them; their embeds) and the file's counts. The caller's process is the only writer: it
commits the results in batches, one transaction each, as units finish. Storing is idempotent (an article
version is keyed by its bytes), so a unit Dask runs again after its worker died adds nothing twice.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

FILES_PER_UNIT = 64  # plain article files handed to a worker at once
RANGE_BYTES = 128 * 2**20  # a gzipped WARC file larger than this is read in ranges of about this size
KILL_SEAM = "ARCHIVER_TEST_KILL_WORKER_ONCE"  # tests: a path; the first worker to take it away dies mid-unit


@dataclass
class UnitResult:
    """What a worker returns for one unit: outcomes to store, and the WARC/ARC file's counts if it was one."""

    sources: list  # the unit's sources as given
    outcomes: list = field(default_factory=list)  # run.pipeline.Outcome, articles trimmed of kept-elsewhere bytes
    totals: object = None  # run.pipeline.FileTotals of a WARC/ARC file (of its byte range)
    pages: int = 0
    parts: int = 1  # how many byte ranges the file was cut into


def scan_unit(sources: list, stored_as: str | None, max_bytes: int, keep_all: bool,
              span: tuple | None = None) -> UnitResult:
    """Analyse one unit (runs on a worker): a WARC/ARC file, or the records of one that start in ``span``
    ((from, to, parts): byte positions, moved on to the next record start here, and how many ranges the
    file was cut into), or a group of article files. Never touches SQLite."""
    from archiver.read.warcs import FileScan, is_web_archive, record_start_at_or_after
    from archiver.run.pipeline import FileTotals, Outcome, process_source, process_web_archive

    _maybe_die()
    result = UnitResult(list(sources))
    if len(sources) == 1 and is_web_archive(sources[0]):
        start, end = 0, None
        result.totals = FileTotals(FileScan(stored_as or sources[0]))
        if span is not None:
            result.parts = span[2]
            try:
                start = record_start_at_or_after(sources[0], span[0])
                end = record_start_at_or_after(sources[0], span[1]) if span[1] is not None else None
            except OSError as exc:  # gone or unreadable since the run began
                result.outcomes.append(Outcome(sources[0], error=f"{sources[0]}: {exc.strerror or exc}"))
                return result
        if start is None or (end is not None and start >= end):
            return result  # no record starts in this range (one record longer than a range)
        for outcome in process_web_archive(sources[0], max_bytes=max_bytes, keep_all=keep_all,
                                           totals=result.totals, stored_as=stored_as, start=start, end=end):
            result.pages += 1
            if outcome.error or outcome.embeds or keep_all:
                result.outcomes.append(_trimmed(outcome))
        return result
    for source in sources:
        result.pages += 1
        result.outcomes.append(process_source(source, max_bytes=max_bytes))
    return result


def _trimmed(outcome):
    """An outcome without the page's bytes when its WARC record keeps them (only the size travels back)."""
    article = outcome.article
    if article is None or "record" not in (article.meta or {}):
        return outcome
    meta = {**article.meta, "size": len(article.body)}
    return replace(outcome, article=replace(article, body=b"", text="", meta=meta))


def _maybe_die() -> None:
    flag = os.environ.get(KILL_SEAM)
    if flag:
        try:
            os.unlink(flag)
        except FileNotFoundError:
            return
        os._exit(9)  # as a worker killed by the OOM killer or a lost node: no cleanup, no answer


def _folded(result: UnitResult, ranges: dict) -> UnitResult:
    """One byte range of a file folded into the counts of its ranges so far (``ranges``: file -> (counts,
    ranges still to land)); the result carries the file's counts once its last range is in, else none."""
    file = result.totals.scan.file
    so_far, left = ranges.pop(file, (None, result.parts))
    if so_far is not None:
        so_far.add(result.totals)
        result.totals = so_far
    if left > 1:
        ranges[file] = (result.totals, left - 1)
        return replace(result, sources=[], totals=None)  # the file is not done yet
    return result


def units_of(sources: list[str]) -> list[tuple[list[str], tuple | None]]:
    """The work units, in the order given, as (sources, span): each WARC/ARC file alone (a gzipped WARC
    larger than RANGE_BYTES as several units, each spanning about RANGE_BYTES of it), other files in groups
    of FILES_PER_UNIT."""
    from archiver.read.warcs import SPLITTABLE, is_web_archive

    units, group, seen = [], [], set()
    for source in sources:
        if is_web_archive(source):
            if os.path.abspath(source) in seen:
                continue  # one file named twice is read once (its ranges' counts are folded by name)
            seen.add(os.path.abspath(source))
            try:
                size = os.path.getsize(source) if source.lower().endswith(SPLITTABLE) else 0
            except OSError:
                size = 0  # the worker reading it says what is wrong, as for any file
            parts = max(1, round(size / RANGE_BYTES))
            if parts == 1:
                units.append(([source], None))
            else:
                cuts = [size * k // parts for k in range(parts)] + [None]
                units.extend(([source], (cuts[k], cuts[k + 1], parts)) for k in range(parts))
        else:
            group.append(source)
            if len(group) == FILES_PER_UNIT:
                units.append((group, None))
                group = []
    if group:
        units.append((group, None))
    return units


def run_distributed(sources: list[str], db, db_path, *, workers: int | None = None, scheduler: str | None = None,
                    max_bytes: int, keep_all: bool = False, on_unit=None, batch: int = 500):
    """Analyse ``sources`` on a Dask cluster (a LocalCluster of ``workers`` processes, or the one at
    ``scheduler``) and store the results here, in batches of at most ``batch`` articles per transaction.
    ``on_unit(result, saved_outcomes)`` is called as each unit lands. Returns how many units landed; a
    unit's outcomes are let go once stored (a run holds one unit's pages at a time, not the collection's)."""
    from dask.distributed import Client, LocalCluster, as_completed

    from archiver.detect.scan import DETECTOR_VERSION
    from archiver.run.pipeline import revisits_of, web_archive_name
    from archiver.store.articles import save_article
    from archiver.store.db import transaction
    from archiver.store.web_archives import link_revisits, save_file_scan

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # Listening on loopback only, on free ports: the cluster is this machine's and nobody else's.
        # Dask's sampling profiler keeps 1,000 s of history in each worker: +13-18% memory over a 1 GB scan.
        import dask

        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   scheduler_port=0, dashboard_address="127.0.0.1:0", silence_logs=40)
        client = Client(cluster)
    done, revisits = 0, []
    try:
        futures, ranges = [], {}  # ranges: file -> (its counts so far, byte ranges still to land)
        for unit, span in units_of(sources):
            stored_as = web_archive_name(unit[0], db_path) if len(unit) == 1 else None
            # A unit whose worker dies is run again by Dask (distributed.scheduler.allowed-failures, 3 by default).
            futures.append(client.submit(scan_unit, unit, stored_as, max_bytes, keep_all, span, pure=False))
        for future in as_completed(futures):
            result = future.result()
            future.release()
            saved = []
            keep = [o for o in result.outcomes if o.error is None]
            for start in range(0, max(len(keep), 1), batch):
                with transaction(db):  # one transaction per batch; each save_article nests in it
                    for outcome in keep[start:start + batch]:
                        saved.append(replace(outcome, saved=save_article(db, outcome.article, outcome.embeds,
                                                                         DETECTOR_VERSION)))
            if result.totals is not None and result.parts > 1:
                result = _folded(result, ranges)
            if result.totals is not None:
                save_file_scan(db, result.totals.scan.file, result.totals.counts(), result.totals.scan.errors)
                revisits += revisits_of(result.totals)
            errors = [o for o in result.outcomes if o.error is not None]
            if on_unit:
                on_unit(result, saved + errors)
            done += 1
        link_revisits(db, revisits)  # once every file is stored: a revisit may repeat a page of another file
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return done
