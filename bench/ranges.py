"""One big WARC file on 2 workers: byte ranges cut at record boundaries, against one worker and a serial run.

    python bench/ranges.py [--mb 250] [--dir DIR] [--keep] [--seed N]

Builds one gzipped WARC file of ``--mb`` MB (compressed, MB = 10**6 bytes) of corpus pages with
bench/warc_read.py's ``build_warc`` (each copy unique; built pages without ../shared), then runs
``archiver archive --no-fetch --silent`` on it in a child process: serially, with ``--workers 1`` and with
``--workers 2`` (a file of 192 MiB or more is cut into ranges of about 128 MiB; with fewer, the file is
one task). Prints wall seconds, HTML pages/s, the ratio of 2 workers to 1 (goal: well above 1.0, as for
many files) and checks that the three archives hold the same rows. ``--ranges off`` runs the 2 workers
with the file as one task (RANGE_BYTES raised past its size), for the before/after comparison.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.warc_read import MB, build_warc, load_pages  # noqa: E402

# A child that runs the command with RANGE_BYTES as the bench asks (the option is not part of the CLI).
CHILD = """
import sys
import archiver.run.distributed as d
if sys.argv[1] != "default":
    d.RANGE_BYTES = int(sys.argv[1])
from archiver.cli import cli
cli.main(sys.argv[2:], prog_name="archiver")
"""
ROWS = ("SELECT records, html, with_embeds, without_embeds, non_html, revisits, other, errors FROM web_archive_files",
        "SELECT count(*) FROM articles", "SELECT count(*) FROM embeds", "SELECT count(*) FROM article_revisits")


def run(folder: Path, warc: Path, name: str, workers: int | None, range_bytes: str) -> tuple[float, tuple]:
    """Wall seconds of one archive run in a child process, and the archive's counts."""
    db = folder / f"{name}.db"
    args = [sys.executable, "-c", CHILD, range_bytes, "archive", "--no-fetch", "--silent", "--db", str(db), str(warc)]
    if workers:
        args[6:6] = ["--workers", str(workers)]
    t0 = time.perf_counter()
    subprocess.run(args, check=True, cwd=folder, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    with sqlite3.connect(db) as c:
        rows = tuple(tuple(c.execute(q).fetchall()) for q in ROWS)
    return seconds, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=250, help="compressed size of the WARC file, MB (default 250)")
    ap.add_argument("--dir", default=None, help="where the file is built (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the file and the archives")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--ranges", choices=("on", "off"), default="on",
                    help="off: the 2-worker run reads the file as one task (before byte ranges)")
    args = ap.parse_args()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="archiver-ranges-"))
    folder.mkdir(parents=True, exist_ok=True)
    warc = folder / f"one-{args.mb:g}mb-{args.seed}.warc.gz"
    if not warc.is_file():
        t0 = time.perf_counter()
        build_warc(warc, int(args.mb * MB), load_pages(), args.seed)
        print(f"built {warc.name}: {warc.stat().st_size / MB:.0f} MB in {time.perf_counter() - t0:.0f} s")
    for db in folder.glob("*.db*"):
        db.unlink()
    two = "default" if args.ranges == "on" else str(warc.stat().st_size + 1)
    results = {}
    for name, workers, range_bytes in (("serial", None, "default"), ("workers-1", 1, "default"),
                                       ("workers-2", 2, two)):
        results[name] = run(folder, warc, name, workers, range_bytes)
    html = results["serial"][1][0][0][1]
    print(f"\n## bench/ranges.py --mb {args.mb:g}: one file, {warc.stat().st_size / MB:.0f} MB, {html:,} HTML pages; "
          f"2 workers {'in byte ranges' if args.ranges == 'on' else 'with the file as one task'}; "
          f"{os.cpu_count()} cores\n")
    print("| run | wall s | HTML pages/s | x 1 worker |\n|---|---|---|---|")
    for name, (seconds, _) in results.items():
        print(f"| {name} | {seconds:.1f} | {html / seconds:.0f} | {results['workers-1'][0] / seconds:.2f} |")
    same = len({rows for _, rows in results.values()}) == 1
    print(f"\nthe same rows from all three: {'yes' if same else 'NO'}")
    if not args.keep and not args.dir:
        shutil.rmtree(folder)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
