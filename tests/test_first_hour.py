"""A newcomer's first hour (issue 11): mistakes are refused in one line and change nothing; what works says
what comes next."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.read.articles import human_size, text_title
from archiver.store.db import APPLICATION_ID, open_db, schema_version
from archiver.store.migrations import MIGRATIONS
from tests.conftest import SEEDS

SEED = SEEDS / "000_add2564ad87b768a.txt"
SEED_TITLE = ("First Lady Melania Trump has revealed that she is in contact with Vladimir Putin and has been…")


def run(*args, input=None):
    """The command in-process; every argument as a string."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def one_line(result) -> str:
    """The output of a refused command, which must be exactly one line."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def flat(text: str) -> str:
    """Text with click's line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def archive(tmp_path) -> Path:
    """The seed archived (no fetch) into its own folder, every connection closed (no -wal or -shm left)."""
    db = tmp_path / "folder" / "archive.db"
    db.parent.mkdir()
    result = run("archive", "--no-fetch", "--db", db, SEEDS)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in db.parent.iterdir()) == ["archive.db"]
    return db


@pytest.fixture
def no_server(monkeypatch):
    """uvicorn.run replaced: a test reaching it means serve started when it should have refused."""
    started = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append(kw))
    return started


@pytest.fixture
def logging_restored():
    """The root logger as it was: the daemon commands install their own handler on it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@contextlib.contextmanager
def read_only_folder(folder: Path):
    """`folder` made read-only: chmod for a user; for root, whom chmod does not stop, chattr +i (the kernel
    refuses root too). Skips when neither works here."""
    chattr = shutil.which("chattr")
    if os.geteuid() == 0:
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root without a working chattr +i: no way to make a folder read-only")
        undo = [chattr, "-i", str(folder)]
    else:
        folder.chmod(0o555)
        undo = None
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip(f"{folder} is still writable after making it read-only")
        yield folder
    finally:
        if undo:
            subprocess.run(undo, capture_output=True)
        else:
            folder.chmod(0o755)


# --------------------------------------------------------------------------- 1. serve, status, verify


def test_serve_refuses_a_text_file_in_one_line_and_serves_nothing(tmp_path, no_server):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping: milk, bread\n")
    result = run("serve", "--db", notes)
    assert result.exit_code == 1 and no_server == []
    assert one_line(result).startswith(f"Error: {notes}: cannot open the archive: it is not a SQLite database")
    assert "serving" not in result.output and "warning" not in result.output
    assert notes.read_text() == "shopping: milk, bread\n"


def test_an_archive_in_a_read_only_folder_is_read_by_status_and_verify_and_not_served(archive, no_server):
    with read_only_folder(archive.parent):
        status = run("status", "--db", archive)
        assert status.exit_code == 0, status.output
        assert f"schema {len(MIGRATIONS)}" in status.output and "articles:  1 (1 version(s))" in status.output
        verify = run("verify", "--db", archive)
        assert verify.exit_code == 0, verify.output
        assert "verified 1 bodies" in verify.output and "0 problem(s)" in verify.output
        served = run("serve", "--db", archive)
        assert served.exit_code == 1 and no_server == []
        assert one_line(served).startswith(f"Error: {archive}: cannot be served from the read-only folder")
        assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.db"]


def test_serve_still_serves_a_writable_archive(archive, no_server):
    result = run("serve", "--db", archive, "--port", 0)
    assert result.exit_code == 0, result.output
    assert len(no_server) == 1 and "serving" in result.output


# --------------------------------------------------------------------------- 2. another program's database


@pytest.fixture
def foreign(tmp_path) -> Path:
    """Another program's SQLite database (rollback journal, no application_id), alone in its folder."""
    path = tmp_path / "other" / "app.db"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("command", [["status"], ["fetch"], ["verify"], ["serve"], ["export", "--all", "-o"],
                                     ["archive", "--no-fetch"], ["run-once"]])
def test_another_programs_database_is_refused_and_left_byte_for_byte(foreign, tmp_path, command, no_server,
                                                                      logging_restored):
    before = foreign.read_bytes()
    args = list(command)
    if args[-1] == "-o":
        args.append(tmp_path / "out.wacz")
    if args[0] == "archive":
        args.append(SEED)
    result = run(*args, "--db", foreign)
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith(f"Error: {foreign}: not an archive: a SQLite database of another program "
                           "(1 table(s): notes); left unchanged"), line
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["app.db"]  # no -wal, -shm or -journal


def test_a_database_marked_by_another_program_is_named_by_its_application_id(tmp_path):
    path = tmp_path / "map.gpkg"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0x47504B47")  # GeoPackage
    conn.execute("CREATE TABLE gpkg_contents (table_name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    result = run("status", "--db", path)
    assert result.exit_code == 1 and "(application_id 0x47504B47); left unchanged" in one_line(result)
    assert path.read_bytes() == before


def test_archives_are_marked_as_ours_when_created(archive):
    assert APPLICATION_ID == 0x41524356  # "ARCV"
    conn = sqlite3.connect(archive)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert archive.read_bytes()[68:72] == b"ARCV"  # in the file's header, where `file` looks


def test_a_new_archive_is_marked_by_its_first_migration(tmp_path, monkeypatch):
    import archiver.store.db as store

    # Marked in the same transaction as its first tables: another process opening it meanwhile never
    # sees tables without the mark and takes it for another program's database.
    monkeypatch.setattr(store, "MIGRATIONS", MIGRATIONS[:1])
    db = open_db(tmp_path / "new.db")
    assert schema_version(db) == 1 and db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


def test_an_archive_from_before_the_mark_gets_it_from_migration_8(tmp_path, monkeypatch):
    import archiver.store.db as store

    path = tmp_path / "old.db"
    monkeypatch.setattr(store, "MIGRATIONS", MIGRATIONS[:7])
    db = open_db(path)
    db.execute("PRAGMA application_id = 0")  # as archives made before schema 8 are
    db.close()
    monkeypatch.undo()
    assert len(MIGRATIONS) >= 8
    assert f"PRAGMA application_id = {APPLICATION_ID}" in MIGRATIONS[7]
    result = run("status", "--db", path)
    assert result.exit_code == 0, result.output
    db = open_db(path)
    assert schema_version(db) == len(MIGRATIONS) and db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


SWITCH_TO_DELETE = """import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0)
try:
    print(conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0])
except sqlite3.OperationalError as exc:
    print(exc)
"""


def test_telling_what_a_file_is_keeps_the_locks_this_process_holds(archive):
    # POSIX locks belong to the process: closing any descriptor of the file (a raw read of its header)
    # drops the shared lock the daemon's other connections hold, and another process may then take the
    # archive out of WAL under them. A subprocess, since only another process sees the lock.
    holder = open_db(archive)
    try:
        open_db(archive).close()
        other = subprocess.run([sys.executable, "-c", SWITCH_TO_DELETE, str(archive)], capture_output=True,
                               text=True, timeout=60)
        assert other.stdout.strip() == "database is locked", other.stdout + other.stderr
    finally:
        holder.close()


def test_an_empty_file_is_a_new_archive(tmp_path):
    path = tmp_path / "new.db"
    path.touch()
    result = run("archive", "--no-fetch", "--db", path, SEED)
    assert result.exit_code == 0, result.output
    assert schema_version(open_db(path)) == len(MIGRATIONS)


# --------------------------------------------------------------------------- 3. mistakes that said nothing


@pytest.mark.parametrize("command", [["archive", "--no-fetch"], ["detect"]])
def test_an_empty_folder_is_an_error_not_zero_sources(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden").write_text("skipped")
    result = run(*command, "--db", tmp_path / "a.db", empty) if command[0] == "archive" else run(*command, empty)
    assert result.exit_code == 1
    assert f"error: {empty}: is a folder with no file to read (names starting with . are skipped)" in result.stderr
    assert "0 source(s)" not in result.stderr


def test_fetch_of_a_post_that_is_not_there_says_so_and_fetches_nothing(archive):
    result = run("fetch", "--db", archive, "--post", 999)
    assert result.exit_code == 1
    assert one_line(result).startswith(f"Error: no post 999 in {archive} (hint: ids are posts.id")
    conn = sqlite3.connect(archive)
    conn.execute("UPDATE posts SET merged_into_id = 1 WHERE id = 2")
    conn.commit()
    conn.close()
    result = run("fetch", "--db", archive, "--post", 2)
    assert result.exit_code == 1
    assert one_line(result).startswith("Error: post 2 was merged into post 1 (fetch --post 1)")
    assert sqlite3.connect(archive).execute("SELECT count(*) FROM fetch_attempts").fetchone()[0] == 0


@pytest.fixture
def daemons(monkeypatch):
    """run_daemon replaced, so that a daemon that should have been refused returns instead of running on."""
    started = []
    monkeypatch.setattr("archiver.run.daemon.run_daemon", lambda settings, db_path: started.append(db_path) or 0)
    return started


@pytest.mark.parametrize("command", ["run-once", "daemon"])
def test_no_sources_and_no_posts_is_nothing_to_do(tmp_path, command, logging_restored, daemons):
    db = tmp_path / "archive.db"
    result = run(command, "--db", db)
    assert result.exit_code == 1 and daemons == []
    assert one_line(result).startswith(f"Error: nothing to do: no [[sources]] in the settings (no archiver.toml "
                                       f"found) and no post in {db} to fetch or re-check")
    assert not db.exists()


@pytest.mark.parametrize("command", ["run-once", "daemon"])
def test_no_sources_but_posts_only_fetches_and_rechecks_and_says_so(archive, command, logging_restored, daemons):
    conn = sqlite3.connect(archive)
    conn.execute("UPDATE posts SET next_fetch_at = NULL")  # nothing due: the run asks no server anything
    conn.commit()
    conn.close()
    result = run(command, "--db", archive)
    assert result.exit_code == 0, result.output
    assert f"no [[sources]] to poll: only fetching and re-checking the 3 post(s) in {archive}" in result.stderr
    assert daemons == ([str(archive)] if command == "daemon" else [])


# --------------------------------------------------------------------------- 4. ports, sizes, folders


def test_serve_on_a_port_in_use_says_so_before_serving(archive, no_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--db", archive, "--port", port)
    assert result.exit_code == 1 and no_server == []
    assert one_line(result) == (f"Error: cannot serve on 127.0.0.1:{port}: the port is in use "
                                "(hint: --port another one, or stop what listens there)")


def test_sizes_over_the_cap_are_in_human_units(tmp_path):
    result = run("archive", "--no-fetch", "--db", tmp_path / "a.db", "--max-bytes", 10, SEED)
    assert result.exit_code == 1
    assert f"error: {SEED}: file is 3.3 KiB, over the 10-byte cap (hint: raise it with --max-bytes)" in result.stderr
    result = run("detect", "--max-bytes", 100, "-", input="x" * 2000)
    assert result.exit_code == 1
    assert "error: -: stdin is over the 100-byte cap (hint: raise it with --max-bytes)" in result.stderr
    assert [human_size(n) for n in (1, 1000, 1024, 1536, 20 * 2**20, 64 * 2**20 + 2**19)] == [
        "1 byte", "1000 bytes", "1 KiB", "1.5 KiB", "20 MiB", "64.5 MiB"]


def test_a_command_that_writes_says_the_folder_is_not_writable(archive):
    with read_only_folder(archive.parent):
        into_it = run("archive", "--no-fetch", "--db", archive, SEED)
        assert into_it.exit_code == 1
        assert one_line(into_it) == (
            f"Error: {archive}: the archive cannot be written: folder {archive.parent} is not writable (SQLite "
            "keeps its -wal and -shm files beside the archive) (hint: commands that only read, like status and "
            "verify, still work)")
        new = archive.parent / "new.db"
        created = run("archive", "--no-fetch", "--db", new, SEED)
        assert created.exit_code == 1
        assert one_line(created).endswith(
            f"folder {archive.parent} is not writable (SQLite keeps its -wal and -shm files beside the archive) "
            "(hint: give --db a path in a folder you can write)")
        assert sorted(p.name for p in archive.parent.iterdir()) == ["archive.db"]


# --------------------------------------------------------------------------- 6. help that tells the truth


@pytest.mark.parametrize("command", [["status"], ["verify"], ["fetch"], ["serve"], ["timestamp"],
                                     ["export", "--all", "-o", "x.wacz"]])
def test_commands_that_need_an_archive_say_so_in_their_help(tmp_path, command):
    help_text = flat(run(command[0], "--help").output)
    assert "created if missing" not in help_text
    assert "SQLite archive; it must exist (`archiver archive` creates it)." in help_text
    missing = tmp_path / "missing.db"
    result = run(*command, "--db", missing)
    assert result.exit_code == 1 and "no such archive" in one_line(result) and not missing.exists()


@pytest.mark.parametrize("command", ["archive", "daemon", "run-once"])
def test_commands_that_create_the_archive_say_so(command):
    assert "SQLite archive (created if missing)." in flat(run(command, "--help").output)


def test_passwd_help_says_the_archive_only_locates_the_settings():
    help_text = flat(run("passwd", "--help").output)
    assert "created if missing" not in help_text and "archiver.toml beside it" in help_text


def test_no_stray_progress_label_off_a_terminal(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(SEED, folder / "a.txt")
    (folder / "b.txt").write_text("nothing embedded here\n")
    result = run("archive", "--no-fetch", "--db", tmp_path / "a.db", folder)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].startswith("2 source(s): 2 article(s) read")
    assert "archiving" not in result.stderr


# --------------------------------------------------------------------------- 9. what comes next


def test_the_first_archive_points_to_the_next_step_and_only_the_first(tmp_path):
    db = tmp_path / "archive.db"
    first = run("archive", "--no-fetch", "--db", db, SEED)
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines()[-1] == (f"next: `archiver serve --db {db}` to look at what was archived, "
                                             f"`archiver status --db {db}` for the counts")
    again = run("archive", "--no-fetch", "--db", db, SEED)
    assert again.exit_code == 0 and "next:" not in again.stderr
    silent = run("archive", "--no-fetch", "--silent", "--db", tmp_path / "quiet.db", SEED)
    assert silent.exit_code == 0 and silent.stderr == ""


def test_text_articles_are_titled_by_their_first_line(archive, tmp_path):
    conn = sqlite3.connect(archive)
    assert conn.execute("SELECT title FROM articles").fetchall() == [(SEED_TITLE,)]
    conn.close()
    note = tmp_path / "note.txt"
    note.write_text("\n\n  Short   headline  \nThe body follows.\n")
    db = tmp_path / "b.db"
    assert run("archive", "--no-fetch", "--db", db, note).exit_code == 0
    assert sqlite3.connect(db).execute("SELECT title FROM articles").fetchone()[0] == "Short headline"
    assert text_title("word " * 40).endswith("word…") and len(text_title("word " * 40)) <= 101
    assert text_title(" \n \n") is None
