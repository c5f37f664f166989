"""lxml against BeautifulSoup on the same pages: why detection parses with lxml.

    pip install beautifulsoup4 soupsieve      # bench only: archiver does not depend on them
    python bench/parsers.py [--rounds 5]

Each parser reads every corpus HTML page (``../shared/corpus``; without it, pages built here) and finds
the tweet embeds the way detection's first signature does (``blockquote`` elements whose class holds
``twitter-tweet``): lxml with an XPath, BeautifulSoup on lxml's tree builder with ``find_all``, and
BeautifulSoup with Python's ``html.parser``. Both answers are compared (same count per page), and each
time is printed with its ratio to lxml's, measured in the same run, best of ``--rounds``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.corpus_score import CORPUS, corpus_available, manifest  # noqa: E402

XPATH = "//blockquote[contains(concat(' ', normalize-space(@class), ' '), ' twitter-tweet ')]"


def pages() -> list[bytes]:
    """The corpus's HTML pages, or 200 built pages of prose and embeds when it is not beside the checkout."""
    if corpus_available():
        return [(CORPUS / e["file"]).read_bytes() for e in manifest() if e["kind"] == "html"]
    embed = ('<blockquote class="twitter-tweet"><p lang="en">Words of a tweet {n}</p>&mdash; Someone (@someone) '
             '<a href="https://twitter.com/someone/status/{n}">May 1, 2024</a></blockquote>')
    prose = "<p>" + "A paragraph of an article about the news of the day. " * 20 + "</p>"
    return [("<html><body>" + "".join(prose + embed.format(n=n * 10 + i) for i in range(n % 7)) +
             prose * 40 + "</body></html>").encode() for n in range(200)]


def with_lxml(page: bytes) -> int:
    return len(lxml.html.document_fromstring(page).xpath(XPATH))


def with_soup(builder: str):
    from bs4 import BeautifulSoup

    def run(page: bytes) -> int:
        soup = BeautifulSoup(page, builder)
        return len(soup.find_all("blockquote", class_="twitter-tweet"))
    return run


def best(fn, data, rounds: int) -> tuple[float, list[int]]:
    times, found = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        found = [fn(p) for p in data]
        times.append(time.perf_counter() - t0)
    return min(times), found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    try:
        import bs4  # noqa: F401
    except ImportError:
        print("needs beautifulsoup4: pip install beautifulsoup4 soupsieve (bench only)")
        return 2
    data = pages()
    size = sum(map(len, data)) / 2**20
    base, expected = best(with_lxml, data, args.rounds)
    print(f"{len(data)} pages, {size:.1f} MB, best of {args.rounds}"
          + ("" if corpus_available() else " (built pages: ../shared/corpus is not beside the checkout)"))
    print(f"lxml + XPath                    {base:7.3f} s  {size / base:6.1f} MB/s  1.0x")
    for name, builder in (("BeautifulSoup (lxml builder)", "lxml"), ("BeautifulSoup (html.parser)", "html.parser")):
        took, found = best(with_soup(builder), data, args.rounds)
        same = sum(1 for a, b in zip(found, expected) if a == b)
        print(f"{name:31s} {took:7.3f} s  {size / took:6.1f} MB/s  {took / base:4.1f}x slower; "
              f"same embeds on {same}/{len(data)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
