"""Detection on hostile pages of unclosed embeds: time per KB as the page grows (linear: the ratios stay ~1).

    python bench/detect_nested.py

Pages of N unclosed nested tweet blockquotes (each swallows the rest of the page, past libxml2's depth
limit from about 2,000 on) and of N closed siblings, for N = 1,000 to 16,000. Prints seconds and the
time per KB relative to the smallest page of the same shape, measured in the same run.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.detect.scan import detect_html  # noqa: E402

ONE = '<blockquote class="twitter-tweet"><p>tweet</p>&mdash; A (@someone) March 29, 2023'


def main() -> None:
    for shape in ("nested", "sibling"):
        base = None
        for n in (1000, 2000, 4000, 8000, 16000):
            page = "<html><body>" + (ONE if shape == "nested" else ONE + "</blockquote>") * n + "</body></html>"
            start = time.perf_counter()
            found = detect_html(page)
            seconds = time.perf_counter() - start
            per_kb = seconds / (len(page) / 1024)
            base = base or per_kb
            print(json.dumps({"shape": shape, "embeds_in_page": n, "kb": round(len(page) / 1024), "found": len(found),
                              "seconds": round(seconds, 2), "per_kb_vs_smallest": round(per_kb / base, 2)}),
                  flush=True)


if __name__ == "__main__":
    main()
