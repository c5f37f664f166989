"""Detection throughput against a bare lxml parse of the same pages, measured in the same run.

    python bench/detect.py [--mb 300]

Prints MB/s for both and the ratio (goal: detection <= 1.5x the bare parse; pages with no embed far less).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.detect.scan import detect  # noqa: E402
from tests.corpus_score import CORPUS, corpus_available, manifest, read_article  # noqa: E402


def load_pages():
    """(article, category) of every corpus HTML page: positive, hard_negative (traps) or negative."""
    return [(read_article(e), e["category"]) for e in manifest() if e["kind"] == "html"]


def timed_pair(base_fn, fn, texts, rounds):
    """Best time of each, the two alternated round by round so that a slower spell hits both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, f in enumerate((base_fn, fn)):
            t0 = time.perf_counter()
            for text in texts:
                f(text)
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=300.0, help="total size of page text analysed per pass")
    ap.add_argument("--rounds", type=int, default=5, help="passes; the best one counts")
    args = ap.parse_args()
    if not corpus_available():
        print(f"skipped: the corpus is not at {CORPUS}", file=sys.stderr)
        return 0
    pages = load_pages()
    one_pass = sum(len(a.text.encode("utf-8")) for a, _ in pages)
    repeat = max(1, int(args.mb * 1e6 / one_pass))
    groups = {
        "all pages": [t for t, _ in pages] * repeat,
        "pages with embeds": [t for t, c in pages if c == "positive"] * repeat,
        "hard negatives (traps)": [t for t, c in pages if c == "hard_negative"] * repeat,
        "plain negatives": [t for t, c in pages if c == "negative"] * repeat,
    }
    print(f"{len(pages)} corpus pages, {one_pass / 1e6:.1f} MB, repeated {repeat}x; best of {args.rounds}")
    for name, texts in groups.items():
        size = sum(len(a.text.encode("utf-8")) for a in texts) / 1e6
        # The baseline parses the decoded text, as detection does; detection gets the Article the
        # archiver hands it (text and the bytes they were decoded from).
        base, det = timed_pair(lambda a: lxml.html.document_fromstring(a.text), detect, texts, args.rounds)
        print(f"{name:22s} {size:8.1f} MB  bare parse {size / base:7.1f} MB/s  detect {size / det:7.1f} MB/s  "
              f"ratio detect/parse = {det / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
