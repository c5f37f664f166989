"""Faults that once hung a run, lost a source quietly or escaped as a traceback (issue 10), one test each."""
from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.upstream import upstream  # noqa: F401  (fixture)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def finishes(fn, timeout: float = 10.0):
    """Run fn in a thread; its result, or an AssertionError naming the hang (the thread is left blocked)."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", fn()), daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"still running after {timeout} s: a hang"
    return box["r"]


def unblock(fifo):
    """Open the FIFO for writing once, so a reader stuck on it (a bug) is let go after the assertion."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


# 3. A FIFO given as a source, or inside a folder, is skipped with a message, never read

def test_a_fifo_given_as_a_source_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    try:
        result = finishes(lambda: run("archive", "--db", tmp_path / "a.db", "--no-fetch", fifo))
    finally:
        unblock(fifo)
    assert result.exit_code == 1
    assert f"error: {fifo}: is not a regular file (a named pipe): skipped" in result.output


def test_a_fifo_inside_a_folder_is_skipped_and_the_other_files_are_read(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text((SEEDS / "000_add2564ad87b768a.txt").read_text(encoding="utf-8"))
    os.mkfifo(folder / "b.html")
    try:
        result = finishes(lambda: run("detect", folder))
    finally:
        unblock(folder / "b.html")
    assert result.exit_code == 1
    assert "b.html: is not a regular file (a named pipe): skipped" in result.output
    assert result.stdout.count('"platform": "twitter"') == 3


# 5. An unreadable folder is named, and the run exits 1

def test_an_unreadable_subfolder_is_named_and_the_run_fails(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.txt").write_text((SEEDS / "000_add2564ad87b768a.txt").read_text(encoding="utf-8"))
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):  # as an unreadable folder answers; root reads every folder
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run("detect", folder)
    assert result.exit_code == 1
    assert f"error: {folder / 'locked'}: folder cannot be read: permission denied" in result.output
    assert result.stdout.count('"platform": "twitter"') == 3


# 8. verify on a damaged database reports it, as MISMATCH lines

def test_verify_reports_a_corrupted_database_page(tmp_path):
    db = tmp_path / "archive.db"
    big = tmp_path / "big.txt"
    big.write_text("nothing embedded here. " * 20000)
    assert run("archive", "--db", db, "--no-fetch", big).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    # An overflow page of the stored text: past its 4-byte link to the next one, nothing but the text (not a
    # page open_db reads). Found by its content: where the rows land depends on how they were written.
    filler = set(b"nothing embedded here. ")
    page = next(n for n in range(pages - 1, 0, -1) if set(data[n * page_size + 4:(n + 1) * page_size]) <= filler)
    start = page * page_size
    data[start:start + page_size] = b"\xa5" * page_size
    db.write_bytes(bytes(data))
    result = run("verify", "--db", db)
    assert result.exit_code == 1, result.output
    mismatches = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    assert mismatches and all(line.startswith("MISMATCH database archive.db: ") for line in mismatches)
    assert any("page" in line for line in mismatches)  # SQLite's own words on where the damage is
    assert result.exception is None or isinstance(result.exception, SystemExit)


# 10. One daemon per database, whatever name it is reached by

@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_the_daemon_lock_holds_through_links(tmp_path, link):
    from archiver.run.daemon import DaemonLock, DaemonLockedError
    from archiver.store.db import open_db

    db = tmp_path / "archive.db"
    open_db(db).close()
    other = tmp_path / "elsewhere" / "same.db"
    other.parent.mkdir()
    (os.symlink if link == "symlink" else os.link)(db, other)
    first = DaemonLock(db)
    first.acquire()
    try:
        with pytest.raises(DaemonLockedError):
            DaemonLock(other).acquire()
    finally:
        first.release()
    second = DaemonLock(other)
    second.acquire()  # free again once the first is released
    second.release()


# 1. Response headers trickled one byte at a time: every request ends within total_timeout

@pytest.fixture
def trickle():
    """A server that accepts, reads the request, sends a status line, then one header byte every 0.3 s."""
    import socket as socketlib

    stop = threading.Event()
    server = socketlib.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.3):
                    try:
                        conn.sendall(b"X")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/x"
    stop.set()
    thread.join(5)
    server.close()


def test_trickled_headers_end_at_the_total_timeout(trickle):
    import time

    from archiver.errors import FetchError
    from archiver.fetch.http import HttpPolicy, build_client, fetch

    policy = HttpPolicy(allow_private=True, allowed_hosts=("127.0.0.1",), connect_timeout=1, read_timeout=5,
                        total_timeout=1.5)
    start = time.monotonic()

    def go():
        with build_client(policy) as client:
            try:
                fetch(client, trickle, policy)
            except FetchError as exc:
                return exc
        return None

    error = finishes(go, timeout=8)
    assert isinstance(error, FetchError) and "timed out" in str(error)
    assert time.monotonic() - start < 5  # the read timeout alone would never fire: a byte comes every 0.3 s


def test_archive_of_a_trickling_url_ends(trickle, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVER_HTTP_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ARCHIVER_HTTP_TOTAL_TIMEOUT", "1.5")
    result = finishes(lambda: run("archive", "--db", tmp_path / "a.db", "--no-fetch", trickle), timeout=8)
    assert result.exit_code == 1 and "timed out" in result.output


# 4. One stray non-UTF-8 byte in a UTF-8 text article: the text stays UTF-8, no embed is lost

def _seed_with_a_stray_byte() -> bytes:
    body = (SEEDS / "000_add2564ad87b768a.txt").read_bytes()
    at = body.index(b"Keith Siegel")
    return body[:at] + b"\xe9" + body[at:]  # a Latin-1 e-acute dropped into UTF-8 text


def test_a_stray_byte_does_not_turn_a_utf8_article_into_cp1252(tmp_path):
    import json

    page = tmp_path / "story.txt"
    page.write_bytes(_seed_with_a_stray_byte())
    result = run("detect", page)
    assert result.exit_code == 0
    embeds = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(embeds) == 3 and {e["handle"] for e in embeds} == {"FirstLadyOffice", "cherylbeantx", "atrupar"}
    assert all(e["encoding"] == "utf-8" for e in embeds)
    assert "1 byte not UTF-8" in embeds[0]["decoding"]
    db = tmp_path / "archive.db"
    assert run("archive", "--db", db, "--no-fetch", page).exit_code == 0
    row = sqlite3.connect(db).execute("SELECT encoding, decoding FROM article_versions").fetchone()
    assert row[0] == "utf-8" and "1 byte not UTF-8" in row[1]


def test_the_stray_byte_is_read_as_windows_1252_in_place():
    from archiver.read.decode import decode_noting

    text, encoding, note = decode_noting(b"caf\xe9 \xe2\x80\x94 na\xc3\xafve", is_html=False)
    assert (text, encoding) == ("café — naïve", "utf-8")
    assert note == "utf-8; 1 byte not UTF-8 read as windows-1252"


# 6. A local sitemap over the size cap is an error naming the cap, not a truncated list

def test_a_local_sitemap_over_the_cap_is_refused_naming_the_cap(tmp_path):
    from dataclasses import replace

    from archiver.config import Settings, Source
    from archiver.errors import ArchiverError
    from archiver.run.poll import list_items

    urls = "".join(f"<url><loc>https://news.example.org/a/{i}</loc></url>" for i in range(2000))
    sitemap = tmp_path / "sitemap.xml"
    sitemap.write_text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                       f"{urls}</urlset>")
    settings = Settings()
    settings = replace(settings, http=replace(settings.http, max_bytes=sitemap.stat().st_size - 100))
    with pytest.raises(ArchiverError) as caught:
        list_items(Source("local", "sitemap", str(sitemap)), None, settings)
    assert f"over the {settings.http.max_bytes}-byte cap" in str(caught.value)
    whole = replace(settings, http=replace(settings.http, max_bytes=sitemap.stat().st_size))
    assert len(list_items(Source("local", "sitemap", str(sitemap)), None, whole)) == 2000


# 7. A stray NUL is not binary data, wherever it is; a gzip file says it is gzip

def _page_with_embeds(n: int) -> bytes:
    quotes = "".join(f'<blockquote class="twitter-tweet"><p>tweet {i}</p>&mdash; A (@someone) <a href="https://'
                     f'twitter.com/someone/status/{10**17 + i}">March 29, 2023</a></blockquote>' for i in range(n))
    return f"<html><body>{quotes}</body></html>".encode()


@pytest.mark.parametrize("where", [100, 9000])
def test_one_stray_nul_does_not_make_a_page_binary_wherever_it_is(tmp_path, where):
    body = _page_with_embeds(11) + b" " * 9000
    page = tmp_path / "page.html"
    page.write_bytes(body[:where] + b"\x00" + body[where:])
    result = run("detect", page)
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 11


def test_a_gzip_file_named_html_says_it_is_gzip(tmp_path):
    import gzip

    page = tmp_path / "page.html"
    page.write_bytes(gzip.compress(_page_with_embeds(2)))
    result = run("detect", page)
    assert result.exit_code == 1 and f"error: {page}: not an article: gzip-compressed data" in result.output


# 9. archive into a database that cannot be written: one clear error before starting

@pytest.fixture
def immutable(tmp_path):
    """An archive whose file the kernel refuses to change (chattr +i), even for root."""
    import shutil
    import subprocess

    db = tmp_path / "archive.db"
    assert run("archive", "--db", db, "--no-fetch", SEEDS).exit_code == 0
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here: no way to make a file read-only for root")
    yield db
    subprocess.run([chattr, "-i", str(db)], capture_output=True)


def test_archive_into_a_read_only_database_says_so_before_starting(immutable, tmp_path):
    other = tmp_path / "b.txt"
    other.write_text((SEEDS / "000_add2564ad87b768a.txt").read_text(encoding="utf-8") + "\nmore\n")
    result = run("archive", "--db", immutable, "--no-fetch", other, SEEDS)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {immutable}: the archive cannot be written (a read-only file or folder) "
        "(hint: commands that only read, like status and verify, still work)")
    assert result.exception is None or isinstance(result.exception, SystemExit)


# 2. Unclosed nested embeds: detection stays linear in the page's size (bench/detect_nested.py measures it)

@pytest.mark.parametrize("shape", ["nested", "sibling"])
def test_ten_thousand_unclosed_embeds_are_read_in_seconds_not_hours(shape):
    from archiver.detect.scan import detect_html

    one = '<blockquote class="twitter-tweet"><p>tweet</p>&mdash; A (@someone) March 29, 2023'
    page = "<html><body>" + (one if shape == "nested" else one + "</blockquote>") * 10_000 + "</body></html>"
    found = finishes(lambda: detect_html(page), timeout=60)  # a hang guard far from the ~3 s it takes
    assert found and all(e.handle == "someone" for e in found)


# 14. A Wayback capture is linked to a post only if its URL names that post

def test_captures_of_other_statuses_are_not_linked_to_a_post(upstream, tmp_path):
    t = SEED_TWEETS[2]
    other_id, longer_id = str(int(t.tweet_id) + 1), t.tweet_id + "7"
    header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    rows = [header] + [[f"com,twitter)/{t.handle.lower()}/status/{i}", ts, f"https://twitter.com/{h}/status/{i}",
                        "text/html", "200", "DIGEST" + ts, "1000"]
                       for h, i, ts in ((t.handle, t.tweet_id, "20260204210000"),  # the post itself
                                        (t.handle.upper(), t.tweet_id, "20260205210000"),  # its handle, other case
                                        (t.handle, other_id, "20260204220000"),  # the next status
                                        (t.handle, longer_id, "20260204230000"),  # an id it is a prefix of
                                        ("someoneelse", t.tweet_id, "20260206210000"))]  # another account
    seed_upstream(upstream, tmp_path)
    upstream.json("/cdx/search/cdx", rows)
    db = tmp_path / "archive.db"
    assert run("archive", "--db", db, SEEDS).exit_code == 0
    pid = sqlite3.connect(db).execute("SELECT id FROM posts WHERE platform_post_id = ?", [t.tweet_id]).fetchone()[0]
    kept = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT original FROM captures WHERE post_id = ? AND source = 'wayback-cdx' ORDER BY captured_at", [pid])]
    assert kept == [f"https://twitter.com/{t.handle}/status/{t.tweet_id}",
                    f"https://twitter.com/{t.handle.upper()}/status/{t.tweet_id}"]


# 1. (daemon) SIGTERM during a poll stuck on a trickling source: the exit takes the grace the log names

def test_sigterm_with_a_stuck_job_exits_after_the_grace_it_logs(trickle, tmp_path):
    import re
    import signal
    import subprocess
    import sys
    import time

    from tests.test_daemon import wait_for

    (tmp_path / "archiver.toml").write_text(
        'db = "archive.db"\n[schedules]\npoll = "* * * * * *"\nfetch = "0 0 1 1 *"\nrecheck = "0 0 1 1 *"\n'
        "[http]\nallow_private = true\nconnect_timeout = 10\nread_timeout = 30\ntotal_timeout = 60\n"
        f'[daemon]\nstop_grace = 1\n[[sources]]\nname = "slow"\nkind = "urls"\nlocation = "{trickle}"\n')
    log = tmp_path / "daemon.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "archiver", "daemon", "--config", str(tmp_path / "archiver.toml")],
                                stderr=err, stdout=subprocess.DEVNULL)
        try:
            # The next second's poll is skipped: this one is stuck in the trickling request.
            wait_for(lambda: "maximum number of running instances" in log.read_text(errors="replace"),
                     what="the poll to be stuck")
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
            took = time.monotonic() - started
        finally:
            proc.kill()
    said = re.search(r"a job is still running after ([\d.]+) s", log.read_text(errors="replace"))
    assert said, log.read_text()
    assert took < 1 + 3  # the grace, and the interpreter's exit: not grace + connect_timeout (11 s)
    assert abs(float(said.group(1)) - 1) < 0.5  # what the log says is what happened
