"""Fetch throughput against the bound the configured concurrency allows, measured in the same run.

    python bench/fetch.py [--posts 2000] [--latency-ms 50] [--concurrency 32]

A local server answers every upstream with LATENCY of injected delay. The bound is
concurrency / (requests per post x one request's measured time); the goal is >= 85% of it, with
memory flat (peak RSS after a quarter of the posts against after all of them).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.config import Endpoints, Limits, Settings  # noqa: E402
from archiver.run.fetching import run_fetch  # noqa: E402
from archiver.fetch.http import HttpPolicy  # noqa: E402
from archiver.models import Embed  # noqa: E402
from archiver.read.articles import article_from_bytes  # noqa: E402
from archiver.store.articles import save_article  # noqa: E402
from archiver.store.db import open_db  # noqa: E402
from tests.upstream import Upstream  # noqa: E402

TWEET = {"__typename": "Tweet", "id_str": "0", "text": "hello world", "created_at": "2023-03-29T14:34:41.000Z",
         "lang": "en", "user": {"id_str": "1", "screen_name": "bench", "name": "Bench"}, "entities": {}}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(conn, latency_ms: float) -> None:
    """The stand-in upstream, in its own process so that it does not share our interpreter lock."""
    with Upstream() as up:
        up.route("/tweet-result", lambda req: dict(TWEET, id_str=req.query.get("id", "0")),
                 content_type="application/json")
        up.route("/oembed", "{}", status=404)
        up.route("/wayback/available", {"url": "x", "archived_snapshots": {}}, content_type="application/json")
        up.route("/cdx/search/cdx", [], content_type="application/json")
        up.fault("*", "latency", ms=latency_ms)
        conn.send(up.url)
        conn.recv()  # until the bench is done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--concurrency", type=int, default=Limits().concurrency,
                    help="global concurrency (default: the configured default); the per-host bounds are set to "
                         "the same, since every endpoint is this one local server")
    args = ap.parse_args()
    import multiprocessing

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, args.latency_ms), daemon=True)
    server.start()

    class up:  # noqa: N801 - stands for the server process
        url = parent.recv()

    try:
        return _run(args, up)
    finally:
        parent.send("done")
        server.join(5)


def _run(args, up) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "archive.db"
        db = open_db(db_path)
        embeds = [Embed(platform="twitter", markup="bench", detector="bench", post_id=str(10**15 + i),
                        handle="bench", raw="") for i in range(args.posts)]
        save_article(db, article_from_bytes("bench.html", b"<html>bench</html>"), embeds, "bench")
        settings = Settings(
            http=HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",)),
            endpoints=Endpoints(**{f.name: up.url for f in fields(Endpoints) if f.name != "mastodon_oembed"}),
            limits=Limits(concurrency=args.concurrency, per_host_concurrency=args.concurrency, per_host_rate=0,
                          fetch_batch=args.posts),
            rates={},  # the local server has no limits: measure our own bound, not the politeness defaults
        )
        # One request's real time (injected latency plus loopback and server overhead), same run.
        with httpx.Client() as client:
            t0 = time.perf_counter()
            for _ in range(10):
                client.get(up.url + "/oembed")
            one = (time.perf_counter() - t0) / 10
        requests_per_post = 4  # syndication, oEmbed, Wayback availability, CDX
        bound = args.concurrency / (requests_per_post * one)
        quarter = {"rss": None, "n": 0}

        def on_result(_):
            quarter["n"] += 1
            if quarter["n"] == args.posts // 4:
                quarter["rss"] = rss_mb()

        t0 = time.perf_counter()
        summary = run_fetch(db, settings, db_path, on_result=on_result)
        elapsed = time.perf_counter() - t0
        rate = summary.posts / elapsed
        print(json.dumps({"posts": summary.posts, "by_status": summary.by_status, "requests": summary.attempts}))
        print(f"one request {one * 1000:.1f} ms; bound {bound:.1f} posts/s "
              f"(concurrency {args.concurrency} / ({requests_per_post} requests x {one * 1000:.1f} ms))")
        print(f"measured {rate:.1f} posts/s in {elapsed:.1f} s = {rate / bound:.0%} of the bound (goal >= 85%)")
        print(f"peak RSS after {args.posts // 4} posts {quarter['rss']:.0f} MB, after {summary.posts}: "
              f"{rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
