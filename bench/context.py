"""Requests per post of each kind, with quoted and replied-to posts kept as posts (issue 14) and without.

    python bench/context.py [--articles 40]

Each article embeds one tweet whose syndication body carries the tweet it quotes and the tweet it
answers (as the real endpoint does), each with a photo. The same archive is built at ``[fetch]
context_depth = 0`` (before: only embedded posts) and ``= 1`` (after), against a local server; then every
post is made due and re-checked once. Prints requests per embedded post by kind for the first archive,
and per post (context posts included) for the re-check.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.cli import cli  # noqa: E402
from archiver.store.db import open_db, transaction  # noqa: E402
from tests.built import write_config  # noqa: E402
from tests.responses import Photo, body, tweet  # noqa: E402
from tests.upstream import Upstream, fake_media  # noqa: E402

KINDS = ("/tweet-result", "/oembed", "/wayback/available", "/cdx/search/cdx", "/media/")


def _kind(path: str) -> str:
    return next((k.strip("/") for k in KINDS if path.startswith(k)), path)


def build(upstream: Upstream, folder: Path, articles: int) -> None:
    for i in range(articles):
        base = 1_900_000_000_000_000_000 + i * 10
        quoted = tweet(str(base + 1), f"quoted{i}", "Quoted", f"Quoted {i}", "2024-04-30T09:00:00.000Z",
                       photos=(Photo(f"q{i}", f"Q{i}"),))
        parent = tweet(str(base + 2), f"parent{i}", "Parent", f"Parent {i}", "2024-04-30T08:00:00.000Z",
                       photos=(Photo(f"p{i}", f"P{i}"),))
        main = tweet(str(base), f"author{i}", "Author", f"Post {i}", "2024-05-01T10:00:00.000Z", quoted=quoted,
                     parent=parent, photos=(Photo(f"m{i}", f"M{i}"),))
        for t in (main, quoted, parent):
            upstream.route("/tweet-result", body(t), query={"id": t["id_str"]}, content_type="application/json")
        for name in (f"M{i}", f"Q{i}", f"P{i}"):
            upstream.route(f"/media/{name}", fake_media(f"{name}.jpg", 2_000), content_type="image/jpeg")
        (folder / f"a{i}.html").write_text(
            f'<blockquote class="twitter-tweet"><p>Post {i}</p>&mdash; A (@author{i}) '
            f'<a href="https://twitter.com/author{i}/status/{base}">May 1, 2024</a></blockquote>')
    upstream.route("/oembed", "", status=404)
    upstream.route("/wayback/available", {"archived_snapshots": {}}, content_type="application/json")
    upstream.route("/cdx/search/cdx", "", content_type="text/plain")


def run(depth: int, articles: int) -> tuple[Counter, int, Counter, int]:
    """(requests by kind, posts) of the first archive, then of one re-check of every post."""
    with tempfile.TemporaryDirectory() as tmp, Upstream() as upstream:
        folder = Path(tmp)
        build(upstream, folder, articles)
        write_config(folder, upstream, f"[fetch]\ncontext_depth = {depth}\n", concurrency=8)
        db_path = folder / "archive.db"
        pages = sorted(str(p) for p in folder.glob("a*.html"))
        result = CliRunner().invoke(cli, ["archive", "--silent", "--db", str(db_path), *pages])
        assert result.exit_code == 0, result.output
        first = Counter(_kind(r.path) for r in upstream.requests)
        db = open_db(db_path)
        posts = db["posts"].count
        with transaction(db):
            db.execute("UPDATE posts SET next_fetch_at = '2000-01-01T00:00:00Z'")
        db.close()
        seen = len(upstream.requests)
        result = CliRunner().invoke(cli, ["fetch", "--silent", "--db", str(db_path)])
        assert result.exit_code == 0, result.output
        again = Counter(_kind(r.path) for r in upstream.requests[seen:])
        return first, articles, again, posts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=40)
    args = ap.parse_args()
    rows = []
    for depth in (0, 1):
        first, embedded, again, posts = run(depth, args.articles)
        rows.append((depth, first, embedded, again, posts))
    kinds = [k.strip("/") for k in KINDS]
    print(f"{args.articles} articles, each embedding one tweet that quotes one and answers one (each with a photo)")
    print("| context_depth | posts kept | first archive: " + " | ".join(kinds) + " (per embedded post) | "
          "re-check: " + " | ".join(kinds) + " (per post) |")
    print("|" + "---|" * (3 + 2 * len(kinds)))
    for depth, first, embedded, again, posts in rows:
        a = " | ".join(f"{first[k] / embedded:.2f}" for k in kinds)
        b = " | ".join(f"{again[k] / posts:.2f}" for k in kinds)
        print(f"| {depth} | {posts} | {a} | {b} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
