"""Make the README screenshot (docs/screenshot.png) again, from a demo archive built on the spot.

    python scripts/screenshot.py [--out docs/screenshot.png] [--page article|post|index|gone] [--keep DIR]
    python scripts/screenshot.py --page index --size 1200,560 --out docs/articles.png   # the card list

The demo archive is the seed article plus a story whose posts are fetched from the local test
upstream (tests/upstream.py) serving the real samples in ../shared/samples: no network is used.
Then `archiver serve` runs on a free port and Debian's headless Chromium takes the picture.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_browse import build_archive  # noqa: E402
from tests.test_browser import CHROMIUM, FLAGS, free_port, wait_for  # noqa: E402
from tests.upstream import Upstream  # noqa: E402


def demo_png(width: int = 640, height: int = 360) -> bytes:
    """A real PNG to stand in for the photo (the test fixture's JPEG is filler that no browser draws):
    nested boxes, the subject of the demo tweet (view flattening)."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0
        for x in range(width):
            depth = min(x, y, width - 1 - x, height - 1 - y) // 28
            shade = 235 - 22 * (depth % 6)
            edge = min(x, y, width - 1 - x, height - 1 - y) % 28 < 3
            row += bytes((40, 90, 160) if edge else (shade, shade + 8 if shade < 247 else 255, 255))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def page_path(db_path: Path, page: str) -> str:
    queries = {"article": "SELECT 'article', id FROM articles WHERE title LIKE 'React Native%'",
               "post": "SELECT 'post', id FROM posts WHERE handle = 'SamuelSusla'"}
    if page == "gone":
        return "/-/archiver/gone"
    if page not in queries:
        return "/-/archiver/"
    conn = sqlite3.connect(db_path)
    try:
        kind, row_id = conn.execute(queries[page]).fetchone()
    finally:
        conn.close()
    return f"/-/archiver/{kind}/{row_id}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--page", choices=("article", "post", "index", "gone"), default="article")
    parser.add_argument("--size", default="1200,1300", help="Window size, WIDTH,HEIGHT.")
    parser.add_argument("--keep", type=Path, help="Build the demo archive in this folder and keep it.")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("error: chromium not found (hint: apt-get install -y chromium)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="archiver-shot-"))
    folder = args.keep or work / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Upstream() as upstream:
            db_path = build_archive(folder, upstream, hostile=False, photo=demo_png())
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(db_path),
                                 "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/-/archiver/", proc)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={work / 'profile'}", f"--screenshot={args.out}",
                            f"--window-size={args.size}", "--hide-scrollbars", base + page_path(db_path, args.page)],
                           check=True, capture_output=True, timeout=60)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
