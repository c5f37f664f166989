"""The archive: schema, idempotent writes, merging sightings of one post, atomic articles."""
from __future__ import annotations

import sqlite3

import pytest

from archiver.read.articles import article_from_bytes
from archiver.models import Embed
from archiver.store.articles import save_article
from archiver.store.db import open_db, schema_version
from archiver.store.migrations import MIGRATIONS
from archiver.store.posts import set_post_status

FLAT = Embed(platform="twitter", markup="flattened-signature", detector="twitter.text", handle="janedoe",
             author_name="Jane Doe", date="2021-03-05", text="Big news today pic.twitter.com/XyZ987abc",
             pic_links=("pic.twitter.com/XyZ987abc",), context="text", position=10, raw="...")
WITH_ID = Embed(platform="twitter", markup="blockquote.twitter-tweet", detector="twitter.html",
                post_id="1234567890123456789", url="https://twitter.com/janedoe/status/1234567890123456789",
                handle="JaneDoe", date="2021-03-06", text="Big news today https://t.co/x pic.twitter.com/XyZ987abc",
                pic_links=("pic.twitter.com/XyZ987abc",), lang="en", raw="<blockquote>")


def _article(source="a.txt", body=b"some article text"):
    return article_from_bytes(source, body)


def rows(db, sql, params=()):
    return db.execute(sql, params).fetchall()


def test_schema_is_complete_and_versioned(db_path):
    db = open_db(db_path)
    assert schema_version(db) == len(MIGRATIONS)
    tables = set(db.table_names())
    for t in ("articles", "article_versions", "bodies", "embeds", "posts", "post_status_changes",
              "fetch_attempts", "snapshots", "media", "posts_fts", "articles_fts"):
        assert t in tables
    assert rows(db, "PRAGMA journal_mode")[0][0] == "wal"
    fks = {(fk.table, fk.column, fk.other_table) for fk in db["embeds"].foreign_keys}
    assert ("embeds", "post_id", "posts") in fks and ("embeds", "article_id", "articles") in fks
    db.close()
    assert schema_version(open_db(db_path)) == len(MIGRATIONS)  # reopening migrates nothing


def test_same_input_twice_adds_nothing(db_path):
    db = open_db(db_path)
    first = save_article(db, _article(), [FLAT], "1")
    counts = {t: db[t].count for t in ("articles", "article_versions", "embeds", "posts", "bodies",
                                      "post_status_changes")}
    second = save_article(db, _article(), [FLAT], "1")
    assert (first.new_version, second.new_version) == (True, False)
    assert {t: db[t].count for t in counts} == counts


def test_new_bytes_are_a_new_version_of_the_same_article(db_path):
    db = open_db(db_path)
    save_article(db, _article(body=b"v1 text"), [FLAT], "1")
    save_article(db, _article(body=b"v2 text"), [FLAT], "1")
    assert db["articles"].count == 1 and db["article_versions"].count == 2
    assert db["posts"].count == 1 and db["embeds"].count == 2
    assert rows(db, "SELECT versions FROM articles")[0][0] == 2


def test_flattened_then_with_id_become_one_post(db_path):
    db = open_db(db_path)
    save_article(db, _article("a.txt"), [FLAT], "1")
    save_article(db, _article("b.html", b"<html>other</html>"), [WITH_ID], "1")
    [post] = rows(db, "SELECT platform_post_id, handle, author_name, lang, resolved_via FROM posts")
    assert post == ("1234567890123456789", "janedoe", "Jane Doe", "en", "embed:blockquote.twitter-tweet")
    assert rows(db, "SELECT count(DISTINCT post_id) FROM embeds")[0][0] == 1


def test_with_id_then_flattened_become_one_post(db_path):
    db = open_db(db_path)
    save_article(db, _article("b.html", b"<html>other</html>"), [WITH_ID], "1")
    save_article(db, _article("a.txt"), [FLAT], "1")
    assert db["posts"].count == 1


def test_different_posts_of_one_author_stay_apart(db_path):
    db = open_db(db_path)
    other = Embed(platform="twitter", markup="flattened-signature", detector="twitter.text", handle="janedoe",
                  date="2021-03-05", text="A completely different tweet about the weather today", raw="")
    save_article(db, _article(), [FLAT, other], "1")
    assert db["posts"].count == 2


def test_an_article_is_written_whole_or_not_at_all(db_path, monkeypatch):
    import archiver.store.articles as store

    db = open_db(db_path)
    calls = {"n": 0}
    real = store.upsert_post

    def failing(db_, embed, now):
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("disk I/O error (simulated)")
        return real(db_, embed, now)

    monkeypatch.setattr(store, "upsert_post", failing)
    second = Embed(platform="youtube", markup="iframe", detector="youtube.html", post_id="abc", raw="")
    with pytest.raises(sqlite3.OperationalError):
        save_article(db, _article(), [FLAT, second], "1")
    for table in ("articles", "article_versions", "embeds", "posts", "bodies"):
        assert db[table].count == 0, table


def test_status_changes_are_recorded_once(db_path):
    db = open_db(db_path)
    save_article(db, _article(), [FLAT], "1")
    set_post_status(db, 1, "archived", "2026-01-01T00:00:00Z", reason="syndication")
    set_post_status(db, 1, "archived", "2026-01-02T00:00:00Z")
    assert rows(db, "SELECT from_status, to_status FROM post_status_changes ORDER BY id") == [
        (None, "pending"), ("pending", "archived")]
    with pytest.raises(ValueError):
        set_post_status(db, 1, "deleted", "2026-01-03T00:00:00Z")


def test_full_text_search_on_posts_and_articles(db_path):
    db = open_db(db_path)
    article = _article()
    from dataclasses import replace

    save_article(db, replace(article, title="Melania letter to Putin"), [FLAT], "1")
    assert [r["handle"] for r in db["posts"].search("news")] == ["janedoe"]
    assert db["articles"].search("Putin") and not list(db["articles"].search("weather"))


def test_a_newer_schema_is_refused(db_path):
    db = open_db(db_path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    from archiver.errors import StoreError

    with pytest.raises(StoreError, match="newer than this archiver"):
        open_db(db_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    from archiver.errors import StoreError

    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the archive"):
        open_db(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_concurrent_first_opens_migrate_once(tmp_path):
    import threading

    errors = []

    def opener():
        try:
            open_db(tmp_path / "race.db").close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert schema_version(open_db(tmp_path / "race.db")) == len(MIGRATIONS)


def test_the_same_photo_stored_by_many_threads_at_once(tmp_path):
    import threading

    from archiver.fetch.media import store_file

    body = b"\xff\xd8\xff" + bytes(range(256)) * 100
    results, errors = [], []

    def store():
        try:
            results.append(store_file(tmp_path, body, "jpg"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=store) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len({path for _, path in results}) == 1
    assert results[0][1].read_bytes() == body
    assert [p.name for p in results[0][1].parent.iterdir()] == [results[0][1].name]  # no temp files left


def test_posts_parked_without_a_source_are_due_again_after_the_upgrade(db_path, monkeypatch):
    import archiver.store.db as store

    # An archive at schema 4, as the archiver before web-archive sources for every platform left it.
    monkeypatch.setattr(store, "MIGRATIONS", MIGRATIONS[:4])
    db = open_db(db_path)
    now = "2026-11-01T00:00:00Z"
    for n, (reason, next_at) in enumerate([("no snapshot source for this platform", None),
                                           ("archived by syndication", "2026-12-01T00:00:00Z"),
                                           (None, None)], start=1):
        db["posts"].insert({"id": n, "platform": "instagram", "status": "pending", "status_changed_at": now,
                            "first_seen_at": now, "updated_at": now, "status_reason": reason,
                            "next_fetch_at": next_at})
    db.close()
    monkeypatch.undo()
    db = open_db(db_path)
    assert schema_version(db) == len(MIGRATIONS)
    due = dict(rows(db, "SELECT id, next_fetch_at FROM posts"))
    assert due[1] is not None and due[1] > now  # parked: due again
    assert due[2] == "2026-12-01T00:00:00Z" and due[3] is None  # others untouched


def test_full_text_is_reindexed_only_when_an_indexed_column_changes(tmp_path):
    """The FTS triggers fire on the indexed columns only: a last-seen time or a status does not re-index
    an article's words (sqlite-utils' own trigger re-indexed on any update), and a title change still does."""
    db = open_db(tmp_path / "a.db")
    for name in ("articles_au", "posts_au"):
        [(sql,)] = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchall()
        assert "AFTER UPDATE OF" in sql, sql
    db["articles"].insert({"source": "s", "title": "Old words", "first_seen_at": "t", "last_seen_at": "t"})
    changes = db.execute("SELECT total_changes()").fetchone()[0]
    db.execute("UPDATE articles SET last_seen_at = 'later' WHERE source = 's'")
    assert db.execute("SELECT total_changes()").fetchone()[0] - changes == 1  # the row alone, no FTS rows
    db.execute("UPDATE articles SET title = 'New words' WHERE source = 's'")
    match = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
    assert db.execute(match, ["new"]).fetchone() == (1,) and db.execute(match, ["old"]).fetchone() == (0,)
    db.close()
    assert "AFTER UPDATE OF" in open_db(tmp_path / "a.db").execute(
        "SELECT sql FROM sqlite_master WHERE name = 'articles_au'").fetchone()[0]  # kept on the next open
