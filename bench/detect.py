"""Detection throughput against a bare lxml parse of the same pages, measured in the same run.

    python bench/detect.py [--mb 300] [--rounds 5] [--per-page 0]

Prints, for all corpus pages, those with embeds, the hard negatives (traps) and the plain negatives, MB/s of
a bare lxml parse and of detection, and detection's time in parts of the parse (the issue's bars: 1.0x over
all pages, 1.3x over pages with embeds). Beside it, the same pages through the lxml path detection takes
when the caller already holds an lxml parse (and for pages Lexbor cannot vouch for): the code before it
parsed with Lexbor, so the two columns are an A/B of one run.

Groups of pages repeated to ``--mb`` MB, rounds alternated, best of ``--rounds``; with ``--per-page N``,
instead each page alone, the three alternated N times, the best of each summed (steadier on a machine whose
speed wanders, and warmer caches).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.detect.scan import detect, detect_html, hint_plan, parse_html  # noqa: E402
from tests.corpus_score import CORPUS, corpus_available, manifest, read_article  # noqa: E402


def load_pages():
    """(article, category) of every corpus HTML page: positive, hard_negative (traps) or negative."""
    return [(read_article(e), e["category"]) for e in manifest() if e["kind"] == "html"]


def bare(article) -> None:
    """The baseline: the decoded text parsed by lxml.html, as a tool would."""
    lxml.html.document_fromstring(article.text)


def by_lxml(article) -> None:
    """Detection as it runs given an lxml parse: the hint scan, then lxml's parse for a page with a hint."""
    plan = hint_plan(article)
    if not plan.empty:
        raw = article.body if article.encoding == "utf-8" else None
        detect_html(article.text, parse_html(article.text, raw), raw=raw, plan=plan)


FUNCTIONS = (bare, detect, by_lxml)


def timed_groups(articles, rounds: int) -> list[float]:
    """Best time of each function over the articles, the functions alternated round by round so that a
    slower spell hits all alike."""
    best = [float("inf")] * len(FUNCTIONS)
    for _ in range(rounds):
        for i, f in enumerate(FUNCTIONS):
            t0 = time.perf_counter()
            for article in articles:
                f(article)
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def timed_pages(articles, rounds: int) -> list[float]:
    """The best time of each function on each page (the functions alternated), summed over the pages."""
    total = [0.0] * len(FUNCTIONS)
    for article in articles:
        best = [float("inf")] * len(FUNCTIONS)
        for _ in range(rounds):
            for i, f in enumerate(FUNCTIONS):
                t0 = time.perf_counter()
                f(article)
                best[i] = min(best[i], time.perf_counter() - t0)
        total = [t + b for t, b in zip(total, best)]
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=300.0, help="total size of page text analysed per pass")
    ap.add_argument("--rounds", type=int, default=5, help="passes; the best one counts")
    ap.add_argument("--per-page", type=int, default=0, metavar="N", help="time each page alone, N rounds")
    args = ap.parse_args()
    if not corpus_available():
        print(f"skipped: the corpus is not at {CORPUS}", file=sys.stderr)
        return 0
    pages = load_pages()
    one_pass = sum(len(a.text.encode("utf-8")) for a, _ in pages)
    repeat = 1 if args.per_page else max(1, int(args.mb * 1e6 / one_pass))
    groups = {
        "all pages": [a for a, _ in pages] * repeat,
        "pages with embeds": [a for a, c in pages if c == "positive"] * repeat,
        "hard negatives (traps)": [a for a, c in pages if c == "hard_negative"] * repeat,
        "plain negatives": [a for a, c in pages if c == "negative"] * repeat,
    }
    how = f"each page alone, best of {args.per_page}" if args.per_page else f"repeated {repeat}x, best of {args.rounds}"
    print(f"{len(pages)} corpus pages, {one_pass / 1e6:.1f} MB, {how}")
    for name, articles in groups.items():
        size = sum(len(a.text.encode("utf-8")) for a in articles) / 1e6
        base, det, old = (timed_pages(articles, args.per_page) if args.per_page
                          else timed_groups(articles, args.rounds))
        print(f"{name:22s} {size:8.1f} MB  bare parse {size / base:7.1f} MB/s  detect {size / det:7.1f} MB/s  "
              f"ratio detect/parse = {det / base:.2f}  (lxml path {old / base:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
