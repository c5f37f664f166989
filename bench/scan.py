"""Scanning 1 GB of web archives: `archiver archive` serially and on 1 and 2 Dask workers, against the reader alone.

    python bench/scan.py [--mb 1000] [--files 16] [--dir DIR] [--keep] [--runs reader,serial,1,2] [--seed N]

1. Builds ``--files`` gzipped WARC files of ``--mb`` MB in all (compressed, MB = 10**6 bytes) with
   bench/warc_read.py's ``build_warc``: the corpus HTML pages (../shared/corpus; without it, pages built
   there), each copy made unique (a comment and a paragraph after ``<body>``; its URL names the file and
   the copy), among requests, redirects, images, metadata, revisits and warcinfo records, as CC-NEWS is
   written. No page repeats another's bytes, so no deduplication hides the writer's work. Several files,
   because Dask's unit of work is a whole file (CC-NEWS ships thousands); built in parallel, once: with
   ``--dir DIR --keep`` the files stay in DIR and a later run with the same --mb, --files and --seed reuses
   them. Without --keep everything built is removed at the end.
2. The reader alone: ``read_web_archive`` over every file in this process (decompression, WARC and HTTP
   headers, decoding each page): HTML pages/s, the most one process could scan.
3. ``archiver archive --no-fetch --silent`` over all the files in a child process: serially, then with
   ``--workers 1`` and ``--workers 2`` (a LocalCluster: the child holds the scheduler and the one writer,
   the workers are its children). The child runs the real command with timers around the store
   (transactions, save_article, each file's counts and revisit links), Dask's gathering of each result
   and the command's per-unit reporting; it samples its own resident memory and its children's after
   every file and every 0.5 s. Each run writes a new archive; their counts must agree.

Before each measurement it waits (``--quiet``) until other processes leave the cores idle, and it prints how
many cores they kept busy during it. Prints the machine, a table of pages/s with the ratios to the reader
alone and to one worker, the CPU ceiling of 2 workers (their CPU seconds and the archiving process's over
the cores), the writer's share of each run, resident memory at 10, 50 and 100 % of the files (goal: within
10 %), and the archive's bytes per million scanned pages, per thousand embeds and per stored article.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.warc_read import build_warc, load_pages

MB = 1_000_000
MANIFEST = "scan-warcs.json"
GOAL_SPEEDUP = 1.5  # 2 workers against 1
GOAL_RSS = 0.10  # resident memory from 10 % to 100 % of the files


# --------------------------------------------------------------------------------------------- build

_PAGES: list | None = None


def _build_one(job: tuple) -> dict:
    """One WARC file (runs in a pool process): the corpus pages, their URLs marked with the file's number."""
    global _PAGES
    index, path, target, seed = job
    if _PAGES is None:
        _PAGES = load_pages()
    pages = [(f"{url}{'&' if '?' in url else '?'}warc={index}", page, charset) for url, page, charset in _PAGES]
    part = Path(str(path) + ".part")
    truth = build_warc(part, target, pages, seed)
    part.rename(path)
    return {"file": Path(path).name, "size": Path(path).stat().st_size, "records": len(truth),
            "responses": sum(1 for t in truth if t[2] == "response")}


def warc_files(folder: Path, mb: float, files: int, seed: int) -> tuple[list[Path], float]:
    """The WARC files in ``folder``: reused when its manifest matches, else built; (paths, seconds building)."""
    import multiprocessing

    from tests.corpus_score import corpus_available

    want = {"mb": mb, "files": files, "seed": seed, "corpus": corpus_available()}
    manifest = folder / MANIFEST
    if manifest.is_file():
        have = json.loads(manifest.read_text())
        paths = [folder / f["file"] for f in have.get("built", [])]
        if {k: have.get(k) for k in want} == want and paths and all(
                p.is_file() and p.stat().st_size == f["size"] for p, f in zip(paths, have["built"])):
            print(f"reusing {len(paths)} WARC files in {folder} (built by an earlier --keep run)")
            return paths, 0.0
    for old in folder.glob("scan-*.warc.gz*"):
        old.unlink()
    manifest.unlink(missing_ok=True)
    target = int(mb * MB / files)
    jobs = [(i, folder / f"scan-{i:02d}.warc.gz", target, seed + 7919 * i) for i in range(files)]
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(min(files, os.cpu_count() or 1)) as pool:
        built = pool.map(_build_one, jobs, chunksize=1)
    seconds = time.perf_counter() - t0
    manifest.write_text(json.dumps({**want, "built": built}, indent=1))
    return [folder / b["file"] for b in built], seconds


# --------------------------------------------------------------------------------------------- reader alone

def reader_alone(paths: list[Path]) -> dict:
    """read_web_archive over every file in this process: HTML pages, records, wall and CPU seconds."""
    if not paths:
        return {"wall": 0.0, "cpu": 0.0, "pages": 0, "records": 0}
    from archiver.read.articles import DEFAULT_MAX_BYTES
    from archiver.read.warcs import FileScan, read_web_archive

    pages = records = 0
    c0, t0 = time.process_time(), time.perf_counter()
    for path in paths:
        scan = FileScan(str(path))
        for _ in read_web_archive(str(path), scan, DEFAULT_MAX_BYTES):
            pages += 1
        records += scan.records
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "pages": pages, "records": records}


def reader_processes(paths: list[Path], n: int) -> dict:
    """The reader alone in ``n`` processes at once, the files dealt out in turn: what the machine allows."""
    import multiprocessing

    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(n) as pool:
        parts = pool.map(reader_alone, [paths[i::n] for i in range(n)], chunksize=1)
    return {"wall": time.perf_counter() - t0, "cpu": sum(p["cpu"] for p in parts),
            "pages": sum(p["pages"] for p in parts), "records": sum(p["records"] for p in parts)}


def wait_quiet(cores: float, most: float) -> str:
    """Wait (at most ``most`` seconds) until other processes keep fewer than ``cores`` cores busy over 5 s."""
    import psutil

    t0 = time.perf_counter()
    while True:
        busy = psutil.cpu_percent(interval=5) / 100 * (os.cpu_count() or 1)
        waited = time.perf_counter() - t0
        if busy < cores:
            return f"quiet after {waited:.0f} s ({busy:.2f} cores busy)"
        if waited >= most:
            return f"still {busy:.2f} cores busy after waiting {waited:.0f} s: measured anyway"


class OtherLoad:
    """CPU seconds the whole machine spent during a measurement, less what this process and its children spent."""

    def __enter__(self):
        import resource

        import psutil

        self.machine = sum(psutil.cpu_times()[:3])  # user, nice, system
        self.ours = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        import resource

        import psutil

        wall = time.perf_counter() - self.t0
        machine = sum(psutil.cpu_times()[:3]) - self.machine
        now = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(now, self.ours))
        self.other = max(machine - ours, 0.0)
        self.cores = self.other / wall if wall else 0.0
        return False


# --------------------------------------------------------------------------------------------- the child

def as_archiver(report: str, argv: list[str]) -> int:
    """Run ``archiver ARGV`` in this process with timers and memory samples; write them to ``report``."""
    import functools

    import psutil

    import archiver.run.distributed as run_distributed_mod
    import archiver.store.articles as store_articles
    import archiver.store.db as store_db
    import archiver.store.web_archives as store_web_archives
    from archiver.cli import cli
    from archiver.run import pipeline

    t_zero = time.perf_counter()
    now = lambda: time.perf_counter() - t_zero
    me = psutil.Process()
    st = {"store_s": 0.0, "store_calls": 0, "gather_s": 0.0, "report_s": 0.0, "files": 0, "samples": [],
          "peak": {}, "units": [], "ready": {}, "pickle": None, "run_start": None, "run_end": None,
          "first_submit": None, "last_unit": None, "gc_s": 0.0, "gc_full": 0, "per_unit": []}
    depth = [0]

    def outermost(fn):
        """Time a store call unless it runs inside another timed one (save_article inside a transaction)."""
        @functools.wraps(fn)
        def wrapper(*a, **k):
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    st["store_s"] += time.perf_counter() - t0
                    st["store_calls"] += 1
        return wrapper

    original_tx = store_db.transaction

    @contextlib.contextmanager
    def transaction(db):
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            with original_tx(db) as d:
                yield d
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                st["store_s"] += time.perf_counter() - t0
                st["store_calls"] += 1

    store_db.transaction = transaction  # run_distributed imports it when called: its batch transactions
    saving = outermost(store_articles.save_article)
    store_articles.save_article = saving  # run_distributed
    pipeline.save_article = saving  # the serial path
    for name in ("save_file_scan", "link_revisits"):
        if hasattr(store_web_archives, name):
            setattr(store_web_archives, name, outermost(getattr(store_web_archives, name)))

    def children() -> list[dict]:
        out = []
        for c in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                cmd = " ".join(c.cmdline())
                if "resource_tracker" in cmd:
                    continue
                t = c.cpu_times()
                out.append({"pid": c.pid, "rss": c.memory_info().rss, "cpu": t.user + t.system})
        return out

    gc_started = [0.0]

    def gc_timer(phase: str, info: dict) -> None:
        """Time the cyclic garbage collector in this process (the writer's thread triggers most of it)."""
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            st["gc_s"] += time.perf_counter() - gc_started[0]
            st["gc_full"] += info.get("generation") == 2

    gc.callbacks.append(gc_timer)
    stored_before = [0.0]

    def per_unit(articles: int) -> None:
        """The store's seconds for this file's articles, and how many it stored."""
        st["per_unit"].append({"store": st["store_s"] - stored_before[0], "articles": articles})
        stored_before[0] = st["store_s"]

    def sample(done: int, total: int) -> None:
        t = me.cpu_times()
        st["samples"].append({"t": now(), "done": done, "of": total, "rss": me.memory_info().rss,
                              "cpu": t.user + t.system, "children": children()})

    stop = threading.Event()

    def sampler() -> None:
        while not stop.wait(0.5):
            with contextlib.suppress(psutil.Error):
                peak = st["peak"]
                peak["main"] = max(peak.get("main", 0), me.memory_info().rss)
                for c in children():
                    peak[str(c["pid"])] = max(peak.get(str(c["pid"]), 0), c["rss"])

    threading.Thread(target=sampler, daemon=True).start()

    # the serial path: a sample after each WARC file
    original_pwa = pipeline.process_web_archive
    n_sources = sum(1 for a in argv if a.endswith((".warc.gz", ".warc", ".arc", ".arc.gz")))

    def process_web_archive(*a, **k):
        if st["run_start"] is None:
            st["run_start"] = now()
        saved = 0
        for outcome in original_pwa(*a, **k):
            saved += outcome.saved is not None
            yield outcome
        per_unit(saved)
        st["files"] += 1
        sample(st["files"], n_sources)
        st["run_end"] = st["last_unit"] = now()

    pipeline.process_web_archive = process_web_archive

    # the distributed path: when each unit is ready on its worker, gathered, stored and reported
    try:
        import distributed
    except ImportError:
        distributed = None
    if distributed is not None:
        original_submit, original_result = distributed.Client.submit, distributed.Future.result

        def submit(self, *a, **k):
            if st["first_submit"] is None:
                st["first_submit"] = now()
            future = original_submit(self, *a, **k)
            future.add_done_callback(lambda f, key=future.key: st["ready"].setdefault(str(key), now()))
            return future

        def result(self, *a, **k):
            t0 = now()
            try:
                return original_result(self, *a, **k)
            finally:
                t1 = now()
                st["gather_s"] += t1 - t0
                st["units"].append({"key": str(self.key), "gather": t0, "gathered": t1})

        distributed.Client.submit, distributed.Future.result = submit, result

    original_rd = run_distributed_mod.run_distributed

    def run_distributed(sources, db, db_path, *, on_unit=None, **kw):
        total = len(run_distributed_mod.units_of(sources))

        def unit_done(result, outcomes):
            t0 = time.perf_counter()
            if st["pickle"] is None:  # what one unit's result weighs on the way back (once)
                p0 = time.perf_counter()
                blob = pickle.dumps(result, protocol=5)
                p1 = time.perf_counter()
                pickle.loads(blob)
                st["pickle"] = {"bytes": len(blob), "pages": result.pages, "outcomes": len(result.outcomes),
                                "dumps_s": p1 - p0, "loads_s": time.perf_counter() - p1}
            if on_unit:
                on_unit(result, outcomes)
            st["report_s"] += time.perf_counter() - t0
            per_unit(sum(1 for o in outcomes if o.error is None))
            st["files"] += 1
            if st["units"]:
                st["units"][-1]["stored"] = now()
                st["units"][-1]["pages"] = result.pages
            sample(st["files"], total)
            st["last_unit"] = now()

        st["run_start"] = now()
        try:
            return original_rd(sources, db, db_path, on_unit=unit_done, **kw)
        finally:
            st["run_end"] = now()

    run_distributed_mod.run_distributed = run_distributed

    code = 0
    try:
        cli.main(args=argv, prog_name="archiver", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        stop.set()
        t = me.cpu_times()
        threads = {th.id: th.user_time + th.system_time for th in me.threads()}
        st["cpu"] = t.user + t.system
        st["cpu_main_thread"] = threads.get(threading.get_native_id(), 0.0)
        st["wall"] = now()
        Path(report).write_text(json.dumps(st))
    return code


# --------------------------------------------------------------------------------------------- runs

def archive_run(name: str, paths: list[Path], folder: Path, workers: int | None) -> dict:
    """``archiver archive --no-fetch --silent`` over ``paths`` into a new archive, in a child process."""
    import resource

    db = folder / name / "archive.db"
    db.parent.mkdir(parents=True)
    report = folder / name / "report.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--as-archiver", str(report),
           "archive", "--no-fetch", "--silent", "--db", str(db), *map(str, paths)]
    if workers:
        at = cmd.index("--db")
        cmd[at:at] = ["--workers", str(workers)]
    load = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with OtherLoad() as other, open(folder / name / "stderr.txt", "wb") as err:
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, check=False).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = (folder / name / "stderr.txt").read_text(errors="replace")[-2000:]
        print(f"  {name}: exit status {code}; stderr ends:\n{tail}")
    out = {"name": name, "wall": wall, "load": load, "code": code, "other": other.cores,
           "cpu_all": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
           "report": json.loads(report.read_text()) if report.is_file() else {}}
    out["db"] = archive_stats(db)
    return out


def archive_stats(db: Path) -> dict:
    """Bytes on disk (before this connection opens it) and what the archive holds."""
    size = sum(p.stat().st_size for p in (db, Path(str(db) + "-wal")) if p.exists())
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        one = lambda sql: con.execute(sql).fetchone()[0] or 0
        stats = {"bytes": size, "articles": one("SELECT count(*) FROM articles"),
                 "versions": one("SELECT count(*) FROM article_versions"), "embeds": one("SELECT count(*) FROM embeds"),
                 "posts": one("SELECT count(*) FROM posts"), "files": one("SELECT count(*) FROM web_archive_files"),
                 "html": one("SELECT sum(html) FROM web_archive_files"),
                 "with_embeds": one("SELECT sum(with_embeds) FROM web_archive_files"),
                 "records": one("SELECT sum(records) FROM web_archive_files")}
        with contextlib.suppress(sqlite3.Error):
            stats["revisit_links"] = one("SELECT count(*) FROM article_revisits")
        with contextlib.suppress(sqlite3.Error):  # dbstat is compiled into most SQLite builds
            rows = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
            stats["by_table"] = rows
        return stats
    finally:
        con.close()


# --------------------------------------------------------------------------------------------- report

def at_fractions(samples: list[dict]) -> dict:
    """The first sample at or past 10 % and 50 % of the files, and the last (100 %)."""
    out = {}
    for frac in (0.1, 0.5):
        hit = next((s for s in samples if s["done"] / s["of"] >= frac - 1e-9), None)
        if hit:
            out[frac] = hit
    if samples:
        out[1.0] = samples[-1]
    return out


def fmt_mb(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def print_results(args, reader: dict | None, readers: dict | None, runs: list[dict], paths: list[Path],
                  build_s: float) -> None:
    size = sum(p.stat().st_size for p in paths)
    pages = reader["pages"] if reader else (runs[0]["db"]["html"] if runs else 0)
    print(f"\n## bench/scan.py --mb {args.mb:g} --files {args.files}: {len(paths)} WARC files, {size / MB:,.0f} MB "
          f"gzipped, {pages:,} HTML pages" + (f", {reader['records']:,} records" if reader else "")
          + (f" (built in {build_s:.0f} s)" if build_s else ""))
    print(f"machine: {os.cpu_count()} cores ({_cpu_model()}), load average (1 min) before each run and the cores "
          "other processes kept busy during it in the table; Python "
          f"{sys.version.split()[0]}, dask {_version('dask')}, warcio {_version('warcio')}\n")
    one = next((r for r in runs if r["name"] == "workers-1"), None)
    print("| run | load avg before | other processes, cores busy | wall s | CPU s (all processes) | HTML pages/s "
          "| x reader alone | x 1 worker |")
    print("|---|---|---|---|---|---|---|---|")
    base = reader["pages"] / reader["wall"] if reader else None
    for label, r in (("reader alone (read_web_archive, 1 process)", reader),
                     ("reader alone, 2 processes (half the files each)", readers)):
        if r:
            print(f"| {label} | {r['load'][0]:.2f} | {r['other']:.2f} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                  f"{r['pages'] / r['wall']:,.0f} | {r['pages'] / r['wall'] / base:.2f} | |")
    labels = {"serial": "archive --no-fetch (serial)", "workers-1": "archive --no-fetch --workers 1",
              "workers-2": "archive --no-fetch --workers 2"}
    for r in runs:
        rate = r["db"]["html"] / r["wall"]
        x1 = f"{rate / (one['db']['html'] / one['wall']):.2f}" if one else ""
        xr = f"{rate / base:.3f}" if base else ""
        print(f"| {labels[r['name']]} | {r['load'][0]:.2f} | {r['other']:.2f} | {r['wall']:.1f} | {r['cpu_all']:.1f} "
              f"| {rate:,.0f} | {xr} | {x1} |")
    two = next((r for r in runs if r["name"] == "workers-2"), None)
    if one and two:
        ratio = one["wall"] / two["wall"]
        print(f"\n2 workers / 1 worker: {ratio:.2f}x (goal >= {GOAL_SPEEDUP}x on {os.cpu_count()} cores): "
              f"{'met' if ratio >= GOAL_SPEEDUP else 'NOT met'}")
        if one["report"].get("samples") and two["report"].get("samples"):
            w1 = sum(c["cpu"] for c in one["report"]["samples"][-1]["children"])
            w2 = sum(c["cpu"] for c in two["report"]["samples"][-1]["children"])
            m2 = two["report"]["cpu"]
            floor = (w2 + m2) / (os.cpu_count() or 1)
            print(f"CPU ceiling: 2 workers took {w2:.0f} CPU s ({w1:.0f} s as one worker) and the archiving process "
                  f"(writer, scheduler, client) {m2:.0f} s; on {os.cpu_count()} otherwise idle cores that is at "
                  f"least {floor:.0f} s, so at most {one['wall'] / floor:.2f}x this 1-worker run "
                  f"({w1 / floor:.2f}x its worker's CPU time)")

    print("\nwriter (the archiving process, which also holds the Dask scheduler and client):")
    print("| run | store s | store ms per article, first / last quarter of the files | GC s (full collections) "
          "| gather s | report s | writer busy, % of detection | main process CPU s (main thread / other threads) "
          "| workers CPU s | unit waited for the writer, mean / max s | cluster start / stop s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        rep = r["report"]
        if not rep:
            continue
        span = (rep.get("run_end") or rep["wall"]) - (rep.get("run_start") or 0)
        start = (rep["first_submit"] - rep["run_start"]) if rep.get("first_submit") else 0.0
        stop = (rep["run_end"] - rep["last_unit"]) if rep.get("last_unit") and rep.get("run_end") else 0.0
        detect = max(span - start - stop, 1e-9)
        busy = rep["store_s"] + rep["gather_s"] + rep["report_s"]
        workers_cpu = sum(c["cpu"] for c in rep["samples"][-1]["children"]) if rep["samples"] else 0.0
        waits = [u["gather"] - rep["ready"][u["key"]] for u in rep["units"] if u["key"] in rep["ready"]]
        wait = f"{sum(waits) / len(waits):.2f} / {max(waits):.2f}" if waits else "-"
        cluster = f"{start:.1f} / {stop:.1f}" if r["name"] != "serial" else "-"
        units = rep.get("per_unit", [])
        q = max(len(units) // 4, 1)
        ms = [1000 * sum(u["store"] for u in part) / max(sum(u["articles"] for u in part), 1)
              for part in (units[:q], units[-q:])]
        print(f"| {r['name']} | {rep['store_s']:.1f} | {ms[0]:.1f} / {ms[1]:.1f} | {rep.get('gc_s', 0):.1f} "
              f"({rep.get('gc_full', 0)}) | {rep['gather_s']:.1f} | {rep['report_s']:.1f} | "
              f"{busy / detect:.0%} of {detect:.0f} s | {rep['cpu']:.1f} ({rep['cpu_main_thread']:.1f} / "
              f"{rep['cpu'] - rep['cpu_main_thread']:.1f}) | {workers_cpu:.1f} | {wait} | {cluster} |")
    for r in runs:
        rep = r["report"]
        if rep.get("pickle"):
            p = rep["pickle"]
            print(f"  {r['name']}: one unit's result pickled: {p['bytes'] / MB:.2f} MB for {p['pages']} pages "
                  f"({p['outcomes']} outcomes kept), dumps {p['dumps_s']:.2f} s, loads {p['loads_s']:.2f} s")
        if rep.get("units") and rep.get("ready"):
            ready = sorted(rep["ready"].values())
            t0 = rep.get("first_submit") or 0
            print(f"  {r['name']}: units ready on workers at (s after submit): "
                  + ", ".join(f"{t - t0:.0f}" for t in ready))
        if rep.get("samples") and rep["samples"][-1]["children"]:
            print(f"  {r['name']}: CPU s per worker process: "
                  + ", ".join(f"{c['cpu']:.1f}" for c in rep["samples"][-1]["children"]))

    print("\nresident memory, MB, after the file that reaches 10 %, 50 % and 100 % of the files "
          f"(goal: within {GOAL_RSS:.0%} from 10 % to 100 %):")
    print("| run | process | 10 % | 50 % | 100 % | peak (0.5 s samples) | 10 % -> 100 % |")
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        rep = r["report"]
        pts = at_fractions(rep.get("samples", []))
        if 0.1 not in pts:
            continue
        a, m, z = pts[0.1], pts.get(0.5, pts[1.0]), pts[1.0]
        change = (z["rss"] - a["rss"]) / a["rss"]
        verdict = "flat" if abs(change) <= GOAL_RSS else "NOT flat"
        print(f"| {r['name']} | archiving (writer) | {fmt_mb(a['rss'])} ({a['done']}/{a['of']}) | {fmt_mb(m['rss'])} | "
              f"{fmt_mb(z['rss'])} | {fmt_mb(rep['peak'].get('main', 0))} | {change:+.1%} {verdict} |")
        kids_a = {c["pid"]: c["rss"] for c in a["children"]}
        kids_m = {c["pid"]: c["rss"] for c in m["children"]}
        for c in z["children"]:
            if c["pid"] in kids_a:
                ch = (c["rss"] - kids_a[c["pid"]]) / kids_a[c["pid"]]
                print(f"| {r['name']} | worker pid {c['pid']} | {fmt_mb(kids_a[c['pid']])} | "
                      f"{fmt_mb(kids_m.get(c['pid'], 0))} | {fmt_mb(c['rss'])} | "
                      f"{fmt_mb(rep['peak'].get(str(c['pid']), 0))} | {ch:+.1%} "
                      f"{'flat' if abs(ch) <= GOAL_RSS else 'NOT flat'} |")

    print("\nthe archive (SQLite file + WAL after the command exits):")
    counts = None
    for r in runs:
        d = r["db"]
        key = (d["articles"], d["versions"], d["embeds"], d["posts"], d["html"], d["with_embeds"])
        counts = counts or key
        per_m = d["bytes"] / max(d["html"], 1) * 1e6
        per_k = d["bytes"] / max(d["embeds"], 1) * 1e3
        print(f"  {r['name']}: {d['bytes'] / MB:,.1f} MB; {d['html']:,} HTML pages scanned in {d['files']} files, "
              f"{d['with_embeds']:,} with embeds stored ({d['versions']:,} versions of {d['articles']:,} articles), "
              f"{d['embeds']:,} embeds of {d['posts']:,} posts"
              + (f", {d['revisit_links']:,} revisits linked" if "revisit_links" in d else "")
              + f": {per_m / MB:,.0f} MB per million scanned pages, {per_k / MB:.2f} MB per thousand embeds, "
              f"{d['bytes'] / max(d['versions'], 1) / 1000:.1f} KB per stored article"
              + ("" if key == counts else "  <- DIFFERS from the first run"))
    last = runs[-1]["db"] if runs else {}
    if last.get("by_table"):
        total = sum(b for _, b in last["by_table"]) or 1
        print(f"  by table and index ({runs[-1]['name']}): " + ", ".join(
            f"{n} {b / MB:.1f} MB ({b / total:.0%})" for n, b in last["by_table"][:8]))


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


# --------------------------------------------------------------------------------------------- main

def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--as-archiver":
        return as_archiver(sys.argv[2], sys.argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=1000, help="compressed size of all the WARC files, MB (default 1000)")
    ap.add_argument("--files", type=int, default=16, help="how many WARC files (default 16)")
    ap.add_argument("--dir", default=None, help="where the WARC files are built (and reused with --keep); "
                                                "default a temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the WARC files (and the archives) after the run")
    ap.add_argument("--runs", default="reader,serial,1,2",
                    help="which to measure, in order: reader, serial, 1, 2 (workers); default all")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--quiet", type=float, default=0.25,
                    help="before each measurement wait until other processes keep fewer cores than this busy "
                         "(default 0.25; 0: do not wait)")
    ap.add_argument("--quiet-wait", type=float, default=120, help="wait at most this many seconds (default 120)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    wanted = [w.strip() for w in args.runs.split(",") if w.strip()]

    created = args.dir is None or not Path(args.dir).exists()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="scan-"))
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    need = int(args.mb * MB * 1.1) + int(args.mb * MB) + 200 * MB  # the files, and one archive at a time
    print(f"{folder}: {free / MB:,.0f} MB free; {os.cpu_count()} cores; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if free < need:
        print(f"{folder}: {need / MB:,.0f} MB needed for --mb {args.mb:g}", file=sys.stderr)
        return 2
    archives = Path(tempfile.mkdtemp(prefix="archives-", dir=folder))
    t_all = time.perf_counter()
    try:
        paths, build_s = warc_files(folder, args.mb, args.files, args.seed)
        if build_s:
            print(f"built {len(paths)} WARC files, {sum(p.stat().st_size for p in paths) / MB:,.0f} MB, "
                  f"in {build_s:.0f} s")
        for p in paths:  # into the page cache, so the first run does not pay for the disk
            with open(p, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        reader = readers = None
        runs = []
        for w in wanted:
            if args.quiet > 0:
                print(f"before {w}: {wait_quiet(args.quiet, args.quiet_wait)}")
            if w == "reader":
                load = os.getloadavg()
                with OtherLoad() as other:
                    reader = {**reader_alone(paths), "load": load}
                reader["other"] = other.cores
                print(f"reader alone: {reader['pages']:,} HTML pages in {reader['wall']:.1f} s "
                      f"({reader['pages'] / reader['wall']:,.0f} pages/s)")
                load = os.getloadavg()
                with OtherLoad() as other:
                    readers = {**reader_processes(paths, 2), "load": load}
                readers["other"] = other.cores
                print(f"reader alone in 2 processes: {readers['pages']:,} HTML pages in {readers['wall']:.1f} s "
                      f"({readers['pages'] / readers['wall']:,.0f} pages/s)")
                continue
            name = "serial" if w == "serial" else f"workers-{int(w)}"
            r = archive_run(name, paths, archives, None if w == "serial" else int(w))
            print(f"{name}: {r['db']['html']:,} HTML pages in {r['wall']:.1f} s "
                  f"({r['db']['html'] / r['wall']:,.0f} pages/s), exit status {r['code']}")
            runs.append(r)
            if not args.keep:
                shutil.rmtree(archives / name, ignore_errors=True)
        print_results(args, reader, readers, runs, paths, build_s)
        print(f"\nwhole bench: {time.perf_counter() - t_all:.0f} s; load average after: "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        if args.keep:
            print(f"kept: the WARC files in {folder}, the archives in {archives}")
    finally:
        if not args.keep:
            shutil.rmtree(archives, ignore_errors=True)
            if created:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for p in folder.glob("scan-*.warc.gz*"):
                    p.unlink()
                (folder / MANIFEST).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
