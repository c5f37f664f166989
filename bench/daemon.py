"""The daemon's re-check pass: throughput against the fetch bound, and memory over many passes.

    python bench/daemon.py [--posts 10000] [--passes 50] [--latency-ms 50] [--concurrency 8]

Builds an archive of POSTS archived posts all due for re-check, runs the daemon's `recheck` job
(JobRunner, the code the scheduler calls) against a local server with injected latency, and prints
posts per second against the bound concurrency / (requests per post x one request's time) measured in
the same run. Then runs PASSES-1 more passes, each over a slice of posts made due again, and prints
the requests per re-checked post (pass 1 includes each post's weekly Wayback lookups; later passes
fall within that week) and the resident memory after pass 1 and after the last (goal: flat, within 10%).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.read.articles import article_from_bytes  # noqa: E402
from archiver.config import Daemon, Endpoints, Limits, Settings  # noqa: E402
from archiver.fetch.http import HttpPolicy  # noqa: E402
from archiver.models import Embed  # noqa: E402
from archiver.run.schedule import JobRunner  # noqa: E402
from archiver.store.articles import save_article  # noqa: E402
from archiver.store.db import open_db, transaction  # noqa: E402
from bench.fetch import serve  # noqa: E402


def rss_mb() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_due(db, limit: int | None = None) -> None:
    with transaction(db):
        sql = "UPDATE posts SET next_fetch_at = '2000-01-01T00:00:00Z'"
        if limit:
            sql += f" WHERE id IN (SELECT id FROM posts ORDER BY random() LIMIT {int(limit)})"
        db.execute(sql)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--passes", type=int, default=50)
    ap.add_argument("--slice", type=int, default=200, help="posts made due again for each pass after the first")
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--concurrency", type=int, default=Limits().concurrency)
    args = ap.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, args.latency_ms), daemon=True)
    server.start()
    url = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run(args, url, Path(tmp) / "archive.db")
    finally:
        parent.send("done")
        server.join(5)


def run(args, url: str, db_path: Path) -> int:
    db = open_db(db_path)
    embeds = [Embed(platform="twitter", markup="bench", detector="bench", post_id=str(10**15 + i),
                    handle="bench", raw="") for i in range(args.posts)]
    save_article(db, article_from_bytes("bench.html", b"<html>bench</html>"), embeds, "bench")
    with transaction(db):
        db.execute("UPDATE posts SET status = 'archived', archived_at = '2026-01-01T00:00:00Z'")
    make_due(db)
    settings = Settings(
        http=HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",)),
        endpoints=Endpoints(**{f.name: url for f in fields(Endpoints) if f.name != "mastodon_oembed"}),
        limits=Limits(concurrency=args.concurrency, per_host_concurrency=args.concurrency, per_host_rate=0,
                      fetch_batch=args.posts),
        rates={},  # the local server has no limits: measure our own bound, not the politeness defaults
        daemon=Daemon(),
    )
    with httpx.Client() as client:
        t0 = time.perf_counter()
        for _ in range(10):
            client.get(url + "/oembed")
        one = (time.perf_counter() - t0) / 10
    runner = JobRunner(settings, db_path)
    t0 = time.perf_counter()
    counts = runner.run("recheck")
    elapsed = time.perf_counter() - t0
    after_one = rss_mb()
    rate = counts["posts"] / elapsed
    per_post = counts["requests"] / counts["posts"]
    bound = args.concurrency / (per_post * one)
    print(json.dumps(counts))
    print(f"pass 1: {counts['posts']} posts in {elapsed:.1f} s = {rate:.1f} posts/s; bound {bound:.1f} posts/s "
          f"(concurrency {args.concurrency} / ({per_post:.2f} requests x {one * 1000:.1f} ms)) "
          f"-> {rate / bound:.0%} of the bound")
    later = [0, 0]  # posts, requests of the passes within the week (no Wayback lookups due)
    for _ in range(args.passes - 1):
        make_due(db, args.slice)
        c = runner.run("recheck")
        later[0] += c["posts"]
        later[1] += c["requests"]
    print(f"requests per re-checked post: pass 1 {per_post:.2f} (syndication, and the weekly Wayback availability "
          f"and CDX lookups, first due); passes 2-{args.passes} {later[1] / max(later[0], 1):.2f} "
          f"(was 4: syndication, oEmbed, availability, CDX on every re-check)")
    after_all = rss_mb()
    snapshots = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    print(f"resident memory after pass 1: {after_one:.0f} MB; after pass {args.passes}: {after_all:.0f} MB "
          f"({(after_all - after_one) / after_one:+.1%}; goal within 10%)")
    print(f"snapshots stored: {snapshots} (unchanged bodies are not stored again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
