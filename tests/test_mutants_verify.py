"""``verify`` in process: every kind of damage found, named and counted, and the rest still checked.

Written for mutation testing (``bench/mutation.py``): the CLI tests run ``archiver verify`` too, but
these call ``verify_archive`` directly and say exactly what each problem reads.
"""
from __future__ import annotations

import hashlib
import sqlite3
from io import BytesIO
from pathlib import Path

import pytest
from warcio.warcwriter import WARCWriter

import archiver.evidence.verify as verify
from archiver.evidence.verify import Problem, VerifyReport, verify_archive
from archiver.fetch.warc import warc_dir
from archiver.store.db import open_db

NOW = "2024-05-01T12:00:00Z"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "archive.db"
    db = open_db(path)
    db.execute("INSERT INTO posts (id, platform, status_changed_at, first_seen_at, updated_at) "
               "VALUES (1, 'twitter', ?, ?, ?)", [NOW, NOW, NOW])
    db.conn.commit()
    yield db, path
    db.close()


def add_body(db, content: bytes, recorded: str | None = None):
    db.execute("INSERT INTO bodies (sha256, size, content, first_seen_at) VALUES (?, ?, ?, ?)",
               [recorded or sha(content), len(content), content, NOW])
    db.conn.commit()


def add_media(db, folder: Path, media_id: int, relative: str, content: bytes | None, recorded: str | None):
    if content is not None:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(content)
    db.execute("INSERT INTO media (id, post_id, url, sha256, path, fetched_at) VALUES (?, 1, ?, ?, ?, ?)",
               [media_id, f"https://pbs.example/{media_id}.jpg", recorded, relative, NOW])
    db.conn.commit()


def write_warc(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
    path.write_bytes(buf.getvalue())


def test_a_sound_archive_has_no_problems_and_counts_what_it_checked(archive):
    db, path = archive
    add_body(db, b"one")
    add_body(db, b"two")
    big = bytes(range(256)) * 5000  # over one read of 1 MiB
    add_media(db, path.parent, 1, "archive.files/media/1.jpg", big, sha(big))
    add_media(db, path.parent, 2, "archive.files/media/2.jpg", None, None)  # not downloaded: not checked
    write_warc(warc_dir(path) / "a.warc.gz")
    write_warc(warc_dir(path) / "b.warc.gz")
    (warc_dir(path) / "notes.txt").write_text("not a WARC")
    report = verify_archive(db, path)
    assert (report.bodies, report.media, report.warc_files, report.tokens, report.problems) == (2, 1, 2, 0, [])


def test_a_changed_body_is_named_by_its_hash(archive):
    db, path = archive
    add_body(db, b"kept")
    recorded = sha(b"original")
    add_body(db, b"tampered", recorded)
    report = verify_archive(db, path)
    assert report.bodies == 2
    assert report.problems == [Problem("body", recorded[:16], "content does not match its SHA-256")]
    assert str(report.problems[0]) == f"body {recorded[:16]}: content does not match its SHA-256"


def test_missing_and_changed_media_files_are_named(archive):
    db, path = archive
    add_media(db, path.parent, 7, "archive.files/media/7.jpg", None, sha(b"gone"))
    add_media(db, path.parent, 8, "archive.files/media/8.jpg", b"changed", sha(b"original"))
    add_media(db, path.parent, 9, "archive.files/media/9.jpg", b"fine", sha(b"fine"))
    report = verify_archive(db, path)
    assert report.media == 3
    assert report.problems == [
        Problem("media", "#7 archive.files/media/7.jpg", "file is missing"),
        Problem("media", "#8 archive.files/media/8.jpg", "file does not match its SHA-256"),
    ]


def test_a_media_path_that_is_a_folder_is_missing(archive):
    db, path = archive
    (path.parent / "archive.files/media/dir.jpg").mkdir(parents=True)
    add_media(db, path.parent, 3, "archive.files/media/dir.jpg", None, sha(b"x"))
    assert verify_archive(db, path).problems == [Problem("media", "#3 archive.files/media/dir.jpg", "file is missing")]


def test_every_table_that_names_a_warc_file_is_checked_for_it(archive):
    db, path = archive
    write_warc(path.parent / "archive.files/warc/there.warc.gz")
    add_body(db, b"x")
    db.execute("INSERT INTO snapshots (post_id, source, outcome, url, sha256, size, fetched_at, tool_version, "
               "warc_file) VALUES (1, 's', 'archived', 'u', ?, 1, ?, 't', 'archive.files/warc/s.warc.gz')", [sha(b"x"), NOW])
    db.execute("INSERT INTO media (post_id, url, fetched_at, warc_file) VALUES "
               "(1, 'u', ?, 'archive.files/warc/m.warc.gz')", [NOW])
    db.execute("INSERT INTO fetch_attempts (source, url, outcome, attempted_at, tool_version, warc_file) VALUES "
               "('s', 'u', 'ok', ?, 't', 'archive.files/warc/f.warc.gz')", [NOW])
    db.execute("INSERT INTO fetch_attempts (source, url, outcome, attempted_at, tool_version, warc_file) VALUES "
               "('s', 'u', 'ok', ?, 't', 'archive.files/warc/there.warc.gz')", [NOW])
    db.execute("INSERT INTO articles (id, source, first_seen_at, last_seen_at) VALUES (1, 'file', ?, ?)", [NOW, NOW])
    db.execute("INSERT INTO article_versions (article_id, sha256, kind, size, detector_version, tool_version, "
               "embed_count, first_seen_at, warc_file) VALUES (1, ?, 'html', 1, 'd', 't', 0, ?, "
               "'archive.files/warc/a.warc.gz')", [sha(b"x"), NOW])
    db.conn.commit()
    report = verify_archive(db, path)
    missing = "file referenced by the archive is missing"
    assert report.problems == [Problem("warc", f"archive.files/warc/{n}.warc.gz", missing) for n in "afms"]
    assert report.warc_files == 1


def test_a_damaged_warc_is_named_with_its_offset(archive):
    db, path = archive
    (warc_dir(path)).mkdir(parents=True)
    (warc_dir(path) / "bad.warc.gz").write_bytes(b"")
    report = verify_archive(db, path)
    assert report.warc_files == 1
    [problem] = report.problems
    assert (problem.kind, problem.where) == ("warc", f"{warc_dir(path) / 'bad.warc.gz'}@0")
    assert problem.message.startswith("empty file")


def test_a_granted_token_whose_files_are_gone_is_a_timestamp_problem(archive):
    db, path = archive
    db.execute("INSERT INTO evidence_lists (id, path, sha256, items, created_at) VALUES "
               "(1, 'archive.files/timestamps/1.list', 'x', 0, ?)", [NOW])
    db.execute("INSERT INTO timestamps (id, list_id, tsa_url, status, token_path, requested_at) VALUES "
               "(4, 1, 'http://tsa.example/', 'granted', 'archive.files/timestamps/1.tsr', ?)", [NOW])
    db.conn.commit()
    report = verify_archive(db, path)
    assert report.tokens == 1
    [problem] = report.problems
    assert (problem.kind, problem.where) == ("timestamp", "timestamp #4 (http://tsa.example/)")
    assert problem.message.startswith("file missing: ")


def test_the_trust_roots_reach_the_token_check(archive, monkeypatch):
    db, path = archive
    seen = []

    def check(db_, db_path, roots, granted):
        seen.append((db_, db_path, roots, granted))
        return [("timestamp #1 (t)", "bad")]

    monkeypatch.setattr(verify, "verify_timestamps", check)
    report = verify_archive(db, str(path), roots=("root.pem",))
    assert seen == [(db, path.resolve(), ["root.pem"], [])]
    assert report.problems == [Problem("timestamp", "timestamp #1 (t)", "bad")]


class Damaged:
    """An archive whose named tables cannot be read; everything else answers as the real one does."""

    def __init__(self, db, broken=(), integrity=None):
        self.db, self.broken, self.integrity = db, broken, integrity

    def execute(self, sql, params=()):
        if self.integrity is not None and sql.startswith("PRAGMA integrity_check"):
            return self.db.conn.execute("SELECT ?", [self.integrity])
        if any(f"FROM {t}" in sql for t in self.broken):
            raise sqlite3.DatabaseError("database disk image is malformed")
        return self.db.execute(sql, params)


def test_a_part_the_damaged_database_cannot_give_is_reported_and_the_rest_still_run(archive):
    db, path = archive
    add_body(db, b"one")
    add_media(db, path.parent, 1, "archive.files/media/1.jpg", b"m", sha(b"m"))
    report = verify_archive(Damaged(db, broken=("bodies", "snapshots")), path)
    assert report.problems == [
        Problem("database", "archive.db", "bodies cannot be read: database disk image is malformed"),
        Problem("database", "archive.db", "warcs cannot be read: database disk image is malformed"),
    ]
    assert (report.bodies, report.media) == (0, 1)


def test_sqlites_own_check_is_reported_line_by_line(archive):
    db, path = archive
    answer = "*** in database main ***\nrow 3 missing from index ix_posts\n  \nok\nwrong # of entries in index x "
    report = verify_archive(Damaged(db, integrity=answer), path)
    assert report.problems == [Problem("database", "archive.db", "row 3 missing from index ix_posts"),
                               Problem("database", "archive.db", "wrong # of entries in index x")]
    assert verify_archive(Damaged(db, integrity="ok"), path).problems == []


def test_an_empty_report():
    report = VerifyReport()
    assert (report.bodies, report.media, report.warc_files, report.tokens, report.problems) == (0, 0, 0, 0, [])
    assert VerifyReport().problems is not report.problems
