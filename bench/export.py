"""Export speed and memory: `archiver export --all` against a plain copy of the same bytes, in the same run.

    python bench/export.py [--posts 10000] [--small-mb 100] [--large-mb 1000]

Builds synthetic archives with real WARC records (the WARC writer's own), posts and fetch attempts:
one of --posts posts with small bodies (the count that matters for the index and archiver.json), and
two of a few hundred posts carrying --small-mb and --large-mb of media. Each export runs in a child
process so its peak RSS is its own. Prints seconds, MB/s, the ratio to copying the archive's WARC
files, and the peak RSS of the large export minus the small one (the goal: under 50 MB).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.fetch.http import Exchange  # noqa: E402
from archiver.fetch.warc import WarcWriter, warc_dir  # noqa: E402
from archiver.store.db import open_db, transaction  # noqa: E402

NOW = "2026-12-01T00:00:00Z"


def build(folder: Path, posts: int, body_bytes: int) -> Path:
    """An archive of `posts` archived tweets, each with one exchange of `body_bytes` in its WARC."""
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "archive.db"
    db = open_db(db_path)
    writer = WarcWriter.for_db(db_path, max_bytes=256 * 2**20)
    chunk = os.urandom(min(body_bytes, 1 << 20))
    body = (chunk * (body_bytes // len(chunk) + 1))[:body_bytes]
    with transaction(db):
        for i in range(posts):
            url = f"https://pbs.twimg.com/media/bench{i}.jpg"
            ex = Exchange(url=url, final_url=url, status=200, headers={"content-type": "image/jpeg"}, body=body,
                          started_at="2026-12-01T00:00:00.000Z", elapsed=0.0)
            loc = writer.write_exchange(ex)
            pid = db["posts"].insert({
                "platform": "twitter", "platform_post_id": str(10**18 + i), "handle": "bench", "text": f"post {i}",
                "canonical_url": f"https://twitter.com/bench/status/{10**18 + i}", "status": "archived",
                "status_changed_at": NOW, "first_seen_at": NOW, "updated_at": NOW}).last_pk
            db["fetch_attempts"].insert({
                "post_id": pid, "source": "media", "url": ex.url, "final_url": ex.url, "http_status": 200,
                "outcome": "ok", "headers": "{}", "bytes": len(body), "attempted_at": NOW, "attempt": 1, "tool_version": "bench",
                "warc_file": loc.file, "warc_offset": loc.span_offset, "warc_length": loc.span_length})
    writer.close()
    db.close()
    return db_path


def warc_bytes(db_path: Path) -> int:
    return sum(p.stat().st_size for p in warc_dir(db_path).iterdir())


def timed_copy(db_path: Path, out: Path) -> float:
    """The baseline: copying the archive's WARC files, as any export must at least read and write them."""
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    for p in warc_dir(db_path).iterdir():
        shutil.copyfile(p, out / p.name)
    return time.perf_counter() - start


def timed_export(db_path: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `archiver export --all` in a child process."""
    code = ("import resource, sys, time; from archiver.cli import cli; t = time.perf_counter();\n"
            "try: cli(sys.argv[1:])\nexcept SystemExit as e: assert not e.code, e\n"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", code, "export", "--db", str(db_path), "--all", "-o", str(out),
                           "--silent"], capture_output=True, text=True, cwd=ROOT, check=True)
    seconds, rss = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(rss)


def measure(name: str, db_path: Path, work: Path) -> dict:
    size = warc_bytes(db_path)
    copy_s = timed_copy(db_path, work / f"{name}-copy")
    export_s, rss = timed_export(db_path, work / f"{name}.wacz")
    row = {"archive": name, "warc_mb": round(size / 2**20, 1), "export_s": round(export_s, 2),
           "mb_per_s": round(size / 2**20 / export_s, 1), "copy_s": round(copy_s, 2),
           "ratio_to_copy": round(export_s / copy_s, 1), "peak_rss_mb": round(rss, 1)}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--small-mb", type=int, default=100)
    parser.add_argument("--large-mb", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-export-"))
    try:
        many = measure(f"{args.posts}-posts", build(work / "many", args.posts, 2_000), work)
        media_posts = 200
        small = measure(f"{args.small_mb}MB", build(work / "small", media_posts, args.small_mb * 2**20 // media_posts),
                        work)
        large = measure(f"{args.large_mb}MB", build(work / "large", media_posts, args.large_mb * 2**20 // media_posts),
                        work)
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        print(json.dumps({"posts_per_s": round(args.posts / many["export_s"], 1),
                          "rss_growth_mb_small_to_large": round(growth, 1), "goal_mb": 50,
                          "ok": growth < 50}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
