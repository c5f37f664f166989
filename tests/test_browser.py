"""`archiver serve` in a real browser: Debian's headless Chromium reads the cards and runs nothing hostile.

Skipped, with the reason, where /usr/bin/chromium is absent (`apt-get install -y chromium`).
"""
from __future__ import annotations

import html
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_browse import HOSTILE_TEXT, PHOTO_ID, build_archive
from tests.responses import AVAILABLE_AT
from tests.upstream import Upstream, wait_until

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium); no real browser")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll until the server answers 200, with a deadline; fail at once if it exited."""

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"archiver serve exited {proc.returncode}: {proc.stderr.read().decode()}")
        try:
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(up, timeout=timeout, interval=0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    with Upstream() as upstream:
        db_path = build_archive(folder, upstream)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(db_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/-/archiver/", proc)
        yield base, db_path
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result


def dump_dom(tmp_path, url: str) -> str:
    return chromium(tmp_path, "--dump-dom", url).stdout.decode("utf-8")


def post_id(db_path: Path, handle: str) -> int:
    return sqlite3.connect(db_path).execute("SELECT id FROM posts WHERE handle = ?", [handle]).fetchone()[0]


def test_a_post_card_in_the_browser(server, tmp_path):
    base, db_path = server
    dom = dump_dom(tmp_path, f"{base}/-/archiver/post/{post_id(db_path, 'SamuelSusla')}")
    assert "<title>sammy (@SamuelSusla) on twitter · archiver</title>" in dom
    assert "If you are interested about View Flattening in React Native" in dom
    assert f'href="https://twitter.com/SamuelSusla/status/{PHOTO_ID}"' in dom
    assert re.search(r'<img src="/-/archiver/media/\d+" alt="photo 1 of @SamuelSusla"', dom)
    assert f"Wayback {AVAILABLE_AT[:4]}-{AVAILABLE_AT[4:6]}-{AVAILABLE_AT[6:8]}" in dom and "<code>archive.files/warc/" in dom


def test_the_article_page_in_the_browser(server, tmp_path):
    base, db_path = server
    article = sqlite3.connect(db_path).execute(
        "SELECT id FROM articles WHERE title LIKE 'React Native%'").fetchone()[0]
    dom = dump_dom(tmp_path, f"{base}/-/archiver/article/{article}")
    assert "<h1>React Native's new renderer, explained by the people who built it</h1>" in dom
    assert dom.count('<article class="card') == 4
    for handle in ("@SamuelSusla", "@mattcarrollcode", "@jarredsumner", "@ghost_account"):
        assert handle in dom
    assert '<span class="badge status-unavailable">unavailable</span>' in dom


def test_a_hostile_post_runs_nothing(server, tmp_path):
    base, db_path = server
    dom = dump_dom(tmp_path, f"{base}/-/archiver/post/{post_id(db_path, 'mallory')}")
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "pwned" not in title
    assert "<script" not in dom.lower()  # no element from the post: its markup is text
    assert "<img src=\"x\"" not in dom and "onerror" not in re.sub(r"&lt;.*?&gt;", "", dom)
    assert "<b onmouseover" not in dom
    assert html.escape(HOSTILE_TEXT.split(" see ")[0], quote=False) in dom  # shown as text, as archived


def test_a_screenshot(server, tmp_path):
    base, db_path = server
    article = sqlite3.connect(db_path).execute(
        "SELECT id FROM articles WHERE title LIKE 'React Native%'").fetchone()[0]
    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", "--hide-scrollbars",
             f"{base}/-/archiver/article/{article}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)
