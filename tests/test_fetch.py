"""Fetching snapshots end to end: the CLI against the local upstream serving the project's built responses."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.clock import format_utc, parse_utc
from archiver.store.db import open_db
from archiver.evidence.warcs import read_record
from archiver.models import QueuedPost
from archiver.fetch.warc import WarcLocation
from tests.built import write_config
from tests.responses import body, tombstone
from tests.upstream import fake_media, oembed_routes, syndication_routes, wayback_routes

PHOTO_ID = "1641086480675225601"  # @SamuelSusla, one photo
VIDEO_ID = "1684218600456876032"  # @Rainmaker1973, a video uploaded to @AiBreakfast's tweet
PHOTO_PATH = "/media/FsZNOgcWAAEQtrd"
VIDEO_PATH = "/amplify_video/1684020091854225408/vid/886x546/_Mb5SBNFpaVehGMW.mp4"


def blockquote(handle, tweet_id, text="A tweet", date="March 29, 2023"):
    return (f'<blockquote class="twitter-tweet"><p lang="en">{text}</p>&mdash; Someone (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tweet_id}?ref_src=twsrc%5Etfw">{date}</a></blockquote>')


@pytest.fixture
def served(request, upstream, tmp_path):
    """The upstream serving syndication, oEmbed and Wayback answers, the photo, and a config pointing at it.

    The project's built answers; the real samples where a test asks for them (``indirect`` parameter True).
    """
    real = getattr(request, "param", False)
    tweets = syndication_routes(upstream, oembed=False, real=real)
    oembed = oembed_routes(upstream, real=real)
    wayback_routes(upstream, real=real)
    photo = fake_media("photo.jpg", 50_000)
    upstream.route(PHOTO_PATH, photo, content_type="image/jpeg")
    write_config(tmp_path, upstream)
    return {"photo": photo, "tweets": tweets, "oembed": oembed}


def archive(tmp_path, *names_and_bodies, extra=()):
    for name, body in names_and_bodies:
        (tmp_path / name).write_text(body, encoding="utf-8")
    db_path = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["archive", "--db", str(db_path), *[str(tmp_path / n) for n, _ in names_and_bodies],
                                      *extra])
    return result, db_path


def one(db, sql, params=()):
    return db.execute(sql, params).fetchone()


@pytest.mark.parametrize("served", [False, True], ids=["built", "real-samples"], indirect=True)
def test_a_tweet_embed_is_archived_with_its_evidence(served, upstream, tmp_path):
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    post = db["posts"].get(1)
    assert (post["status"], post["platform_post_id"], post["fetch_failures"]) == ("archived", PHOTO_ID, 0)
    assert post["created_at"] == "2023-03-29T14:34:41Z" and post["archived_at"]
    # the syndication body, byte for byte, with its hash, and its WARC record
    snap = dict(zip(*[[c[0] for c in db.execute("SELECT * FROM snapshots WHERE source='syndication'").description],
                      one(db, "SELECT * FROM snapshots WHERE source='syndication'")]))
    body = one(db, "SELECT content FROM bodies WHERE sha256 = ?", [snap["sha256"]])[0]
    assert body == served["tweets"][PHOTO_ID]
    record = read_record(db_path.parent, WarcLocation(snap["warc_file"], snap["warc_offset"], snap["warc_length"]))
    assert record.payload == body and record.http_status == 200
    assert record.warc_headers["WARC-Target-URI"].startswith(upstream.url + "/tweet-result?id=" + PHOTO_ID)
    # oEmbed has no route for this id (404: its own snapshot), Wayback captures recorded
    outcomes = dict(db.execute("SELECT source, outcome FROM snapshots"))
    assert outcomes["oembed"] == "not_found" and outcomes["wayback-available"] == "captures"
    assert db["captures"].count >= 1
    # the photo at original size, kept by SHA-256 beside the database
    media = db["media"].get(1)
    assert (db_path.parent / media["path"]).read_bytes() == served["photo"]
    assert media["url"] == "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=orig"
    assert media["path"].startswith("archive.files/media/")
    # every request is a fetch_attempts row
    assert db["fetch_attempts"].count == upstream.count()
    warcs = list((db_path.parent / "archive.files" / "warc").glob("*.warc.gz"))
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, warcs)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("mode,method", [("redirect", "tco-redirect"), ("html", "tco-html")])
def test_a_flattened_tweet_gets_its_id_from_tco(served, upstream, tmp_path, mode, method):
    upstream.tco("rQd6FIwZ0U", handle="SamuelSusla", tweet_id=PHOTO_ID, mode=mode)
    text = ("If you are interested about View Flattening in React Native, I wrote a short post "
            "pic.twitter.com/rQd6FIwZ0U — Samuel Susla (@SamuelSusla) March 29, 2023\n")
    result, db_path = archive(tmp_path, ("a.txt", text))
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    post = db["posts"].get(1)
    assert (post["platform_post_id"], post["status"]) == (PHOTO_ID, "archived"), post["status_reason"]
    assert post["resolved_via"].startswith(method)
    [(got_method, got_id)] = db.execute("SELECT method, resolved_post_id FROM resolutions").fetchall()
    assert (got_method, got_id) == (method, PHOTO_ID)


def test_reused_media_is_not_taken_for_the_post_and_oversized_video_is_refused(served, upstream, tmp_path):
    # t.co points at the tweet the video was first uploaded to; the CDX index knows the right one.
    upstream.tco("1N4ogvaMPA", "https://twitter.com/AiBreakfast/status/1684020175215927296/video/1", mode="redirect")
    cdx = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
           ["com,twitter)/rainmaker1973/status/1684000000000000000", "20230726160000",
            "https://twitter.com/Rainmaker1973/status/1684000000000000000", "text/html", "200", "AAA", "100"],
           ["com,twitter)/rainmaker1973/status/" + VIDEO_ID, "20230726160100",
            f"https://twitter.com/Rainmaker1973/status/{VIDEO_ID}", "text/html", "200", "BBB", "100"]]
    import re

    upstream.json("/cdx/search/cdx", cdx, query={"url": re.compile("Rainmaker1973")})
    upstream.route(VIDEO_PATH, fake_media("v.mp4", 20 * 2**20), content_type="video/mp4")
    text = ("For the first time in the world, researchers succeeded in synthesizing a room-temperature "
            "superconductor pic.twitter.com/1N4ogvaMPA — Massimo (@Rainmaker1973) July 26, 2023\n")
    result, db_path = archive(tmp_path, ("a.txt", text))
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    post = db["posts"].get(1)
    assert (post["platform_post_id"], post["status"]) == (VIDEO_ID, "archived")
    assert post["resolved_via"].startswith("wayback-cdx")
    assert db["media"].count == 0  # the 20 MB video is over the 10 MB cap: not kept (its poster has no route)
    attempts = dict(db.execute("SELECT url, outcome FROM fetch_attempts WHERE source = 'media'").fetchall())
    [(outcome, error)] = db.execute("SELECT outcome, error FROM fetch_attempts WHERE source = 'media' "
                                    "AND url LIKE '%.mp4%'").fetchall()
    assert outcome == "too_large" and "cap" in error
    assert len(attempts) == 2 and any("amplify_video_thumb" in u for u in attempts)  # and the poster was asked


def test_a_tombstone_later_keeps_every_earlier_snapshot(served, upstream, tmp_path):
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    db = open_db(db_path)
    before = db["snapshots"].count
    upstream.route("/tweet-result", body(tombstone()),
                   query={"id": PHOTO_ID}, content_type="application/json")
    rerun = CliRunner().invoke(cli, ["fetch", "--db", str(db_path), "--post", "1"])
    assert rerun.exit_code == 0, rerun.output
    db = open_db(db_path)
    post = db["posts"].get(1)
    assert post["status"] == "unavailable" and "deleted" in post["status_reason"]
    assert db["snapshots"].count == before + 1  # only the new tombstone body; unchanged bodies are not kept twice
    assert [r[0] for r in db.execute("SELECT to_status FROM post_status_changes ORDER BY id")] == [
        "pending", "archived", "unavailable"]
    assert one(db, "SELECT count(*) FROM snapshots WHERE source='syndication' AND outcome='archived'")[0] == 1
    assert db["media"].count == 1


def test_not_found_protected_and_errors(served, upstream, tmp_path):
    upstream.json("/tweet-result", {}, query={"id": "111"})
    upstream.route("/tweet-result", "nope", status=404, query={"id": "222"})
    upstream.json("/oembed", {"error": "Sorry, you are not authorized to see this status."}, status=403,
                  query={"url": __import__("re").compile("/222")})
    upstream.route("/tweet-result", "<html>oops</html>", status=500, query={"id": "333"})
    page = blockquote("aa", "111") + blockquote("bb", "222") + blockquote("cc", "333")
    result, db_path = archive(tmp_path, ("a.html", page))
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    statuses = dict(db.execute("SELECT platform_post_id, status FROM posts"))
    assert statuses == {"111": "not_found", "222": "protected", "333": "pending"}
    retried = one(db, "SELECT count(*) FROM fetch_attempts WHERE url LIKE '%id=333%'")[0]
    assert retried == 3  # the first try and two retries, then the post waits for its next_fetch_at
    assert one(db, "SELECT next_fetch_at > last_fetched_at FROM posts WHERE platform_post_id = '333'")[0] == 1


def test_rate_limits_are_honoured(served, upstream, tmp_path):
    upstream.fault("/tweet-result", "429", times=1, retry_after=1)
    t0 = time.monotonic()
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    assert time.monotonic() - t0 >= 1.0
    db = open_db(db_path)
    assert db["posts"].get(1)["status"] == "archived"
    assert [r[0] for r in db.execute("SELECT outcome FROM fetch_attempts WHERE source='syndication'")] == ["retry", "ok"]


def test_a_long_retry_after_reschedules_instead_of_waiting(served, upstream, tmp_path):
    upstream.fault("/tweet-result", "429", times=None, retry_after=3600)
    t0 = time.monotonic()
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    assert time.monotonic() - t0 < 10
    db = open_db(db_path)
    post = db["posts"].get(1)
    assert post["status"] == "pending"
    from datetime import datetime, timedelta

    due = datetime.fromisoformat(post["next_fetch_at"].replace("Z", "+00:00"))
    assert due - datetime.fromisoformat(post["last_fetched_at"].replace("Z", "+00:00")) >= timedelta(seconds=3590)


def test_a_redirect_to_a_forbidden_host_is_refused(served, upstream, tmp_path):
    upstream.fault("/tweet-result", "redirect", times=None, location="http://169.254.169.254/latest/meta-data/")
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    db = open_db(db_path)
    [(outcome, error)] = db.execute("SELECT outcome, error FROM fetch_attempts WHERE source='syndication'").fetchall()
    assert outcome == "forbidden" and "169.254.169.254" in error
    post = db["posts"].get(1)
    assert post["status"] == "pending" and "169.254.169.254" in post["status_reason"]


def test_no_network_finishes_fast_and_says_when_it_retries(tmp_path):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connection refused

    class Dead:
        url = f"http://127.0.0.1:{port}"

    write_config(tmp_path, Dead)
    shutil_seed = (Path(__file__).resolve().parents[1] / "seeds" / "000_add2564ad87b768a.txt").read_text()
    t0 = time.monotonic()
    result, db_path = archive(tmp_path, ("seed.txt", shutil_seed))
    elapsed = time.monotonic() - t0
    assert result.exit_code == 0, result.output
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert "3 post(s) still pending" in result.stderr and "next attempt at 20" in result.stderr
    db = open_db(db_path)
    assert {r[0] for r in db.execute("SELECT status FROM posts")} == {"pending"}
    assert one(db, "SELECT count(*) FROM posts WHERE next_fetch_at > last_fetched_at")[0] == 3


def test_verify_finds_tampering(served, upstream, tmp_path):
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    ok = CliRunner().invoke(cli, ["verify", "--db", str(db_path)])
    assert ok.exit_code == 0, ok.output
    assert "0 problem(s)" in ok.stderr
    db = open_db(db_path)
    path = db_path.parent / db["media"].get(1)["path"]
    path.write_bytes(b"\xff\xd8\xff" + b"tampered")
    bad = CliRunner().invoke(cli, ["verify", "--db", str(db_path)])
    assert bad.exit_code == 1
    assert [line for line in bad.stdout.splitlines() if line.startswith("MISMATCH")] == [
        f"MISMATCH media #1 {db['media'].get(1)['path']}: file does not match its SHA-256"]


def test_article_by_url_is_kept_in_the_warc_too(served, upstream, tmp_path):
    upstream.route("/story.html", "<html><body>" + blockquote("SamuelSusla", PHOTO_ID) + "</body></html>",
                   content_type="text/html; charset=utf-8")
    db_path = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["archive", "--db", str(db_path), upstream.url + "/story.html"])
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    version = db["article_versions"].get(1)
    record = read_record(db_path.parent, WarcLocation(version["warc_file"], version["warc_offset"], 0))
    assert b"twitter-tweet" in record.payload
    assert db["posts"].get(1)["status"] == "archived"


def test_other_platforms_through_their_oembed_endpoints(served, upstream, tmp_path):
    oembed = served["oembed"]
    tiktok = oembed["tiktok"]
    page = ('<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>'
            + json.loads(tiktok)["html"]
            + '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/Cy6H6RGR4aK/">'
              '</blockquote>')
    result, db_path = archive(tmp_path, ("a.html", f"<html><body>{page}</body></html>"))
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    rows = {r[0]: r[1:] for r in db.execute("SELECT platform, status, status_reason, next_fetch_at FROM posts")}
    assert rows["youtube"][0] == "archived" and rows["tiktok"][0] == "archived"
    # Instagram has no key-less source: it waits, with what the Wayback Machine holds as evidence,
    # looked up again on the re-check schedule, but not before a week (Wayback lookups are weekly).
    status, reason, next_at = rows["instagram"]
    assert (status, reason) == ("pending", "no source of its own yet; web archives: 2 captures")
    [(fetched,)] = db.execute("SELECT last_fetched_at FROM posts WHERE platform = 'instagram'").fetchall()
    assert next_at == format_utc(parse_utc(fetched) + timedelta(days=7))
    cdx_asked = {r.query.get("url") for r in upstream.requests if r.path == "/cdx/search/cdx"}
    assert "www.instagram.com/p/Cy6H6RGR4aK/" in cdx_asked
    by_platform = {}
    for platform, source, outcome in db.execute(
            "SELECT p.platform, s.source, s.outcome FROM snapshots s JOIN posts p ON p.id = s.post_id"):
        by_platform.setdefault(platform, set()).add((source, outcome))
    for platform in ("instagram", "tiktok", "youtube"):
        assert {("wayback-available", "captures"), ("wayback-cdx", "captures")} <= by_platform[platform], platform
    texts = dict(db.execute("SELECT source, text FROM snapshots WHERE outcome = 'archived'"))
    assert texts["youtube-oembed"] == json.loads(oembed["youtube"])["title"]
    assert "tiktok-oembed" in texts


def test_a_bad_config_is_one_clear_line(tmp_path):
    (tmp_path / "archiver.toml").write_text("[limits]\nconcurrency = 4\nspeed = 9\n")
    result = CliRunner().invoke(cli, ["fetch", "--db", str(tmp_path / "archive.db")])
    assert result.exit_code == 1
    result = CliRunner().invoke(cli, ["archive", "--no-fetch", "--db", str(tmp_path / "archive.db"), "-"], input="x")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith(
        f"Error: {tmp_path / 'archiver.toml'}:3: [limits] unknown key 'speed'")


def test_save_page_now_only_with_keys(served, upstream, tmp_path):
    import re

    upstream.route("/save/https://twitter.com/SamuelSusla/status/" + PHOTO_ID, "", status=302,
                   headers={"Location": "https://web.archive.org/web/20261128000000/https://twitter.com/x"})
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    assert not [r for r in upstream.requests if r.path.startswith("/save/")]
    config = tmp_path / "archiver.toml"
    config.write_text('save_page_now_keys = "ACCESS:SECRET"\n' + config.read_text())
    rerun = CliRunner().invoke(cli, ["fetch", "--db", str(db_path), "--post", "1"])
    assert rerun.exit_code == 0, rerun.output
    [save] = [r for r in upstream.requests if r.path.startswith("/save/")]
    assert save.headers["authorization"] == "LOW ACCESS:SECRET"
    db = open_db(db_path)
    [(outcome, parsed)] = db.execute("SELECT outcome, parsed FROM snapshots WHERE source = 'wayback-save'").fetchall()
    assert outcome == "requested" and re.search(r"web/20261128000000", parsed)
    warc_bytes = b"".join(p.read_bytes() for p in (tmp_path / "archive.files" / "warc").glob("*.warc.gz"))
    import gzip

    assert b"ACCESS:SECRET" not in gzip.decompress(warc_bytes)  # the keys never reach the evidence


def test_a_flattened_twin_that_fails_never_unsettles_the_archived_post(served, upstream, tmp_path):
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    upstream.tco("rQd6FIwZ0U", handle="SamuelSusla", tweet_id=PHOTO_ID, mode="redirect")
    upstream.fault("/tweet-result", "5xx", times=None, status=503)
    text = ("If you are interested about View Flattening in React Native, I wrote a short post "
            "pic.twitter.com/rQd6FIwZ0U — Samuel Susla (@SamuelSusla) March 29, 2023\n")
    for name in ("b.txt", "c.txt"):
        result, _ = archive(tmp_path, (name, text + name))
        assert result.exit_code == 0, result.output
    db = open_db(db_path)
    archived = one(db, "SELECT id, status FROM posts WHERE platform_post_id = ?", [PHOTO_ID])
    assert archived[1] == "archived"
    assert [r[0] for r in db.execute("SELECT to_status FROM post_status_changes WHERE post_id = ?", [archived[0]])] \
        == ["pending", "archived"]
    # every embed of the tweet points at the one live post, none at the folded twin
    assert {r[0] for r in db.execute("SELECT post_id FROM embeds")} == {archived[0]}


def test_an_absurd_retry_after_is_capped_not_a_crash(served, upstream, tmp_path):
    upstream.fault("/tweet-result", "429", times=None, retry_after=10**12)
    result, db_path = archive(tmp_path, ("a.html", blockquote("SamuelSusla", PHOTO_ID)))
    assert result.exit_code == 0, result.output
    post = open_db(db_path)["posts"].get(1)
    assert post["status"] == "pending" and post["next_fetch_at"] < "2027"


def test_web_archive_answers_alone_keep_the_status_and_errors_still_back_off():
    from archiver.fetch.results import PostResult, SourceResult
    from archiver.fetch.status import decide

    now = "2026-11-28T06:00:00Z"
    post = QueuedPost(1, "instagram", status="failed", fetch_failures=8, status_changed_at="2026-11-01T00:00:00Z")
    result = PostResult(1, sources=[SourceResult("wayback-available", "captures", captures=[{"t": 1}]),
                                    SourceResult("wayback-cdx", "none")])
    decide(post, result, now, ("1h", "30d"))
    assert (result.status, result.failures) == ("pending", 0)
    assert result.reason == "no source of its own yet; web archives: 1 capture"
    # On the re-check schedule (2026-12-01), not a retry, but a week on: the Wayback's answers are weekly.
    assert result.next_fetch_at == "2026-12-05T06:00:00Z"
    failing = PostResult(1, sources=[SourceResult("wayback-available", "captures"),
                                     SourceResult("wayback-cdx", "error", error="HTTP 503")])
    decide(QueuedPost(1, "instagram", status="pending", fetch_failures=0), failing, now, ("1h",))
    assert (failing.status, failing.failures) == ("pending", 1) and "HTTP 503" in failing.reason


def test_a_web_archive_error_does_not_keep_a_post_from_being_found_gone():
    from archiver.fetch.results import PostResult, SourceResult
    from archiver.fetch.status import decide

    now = "2026-11-28T06:00:00Z"
    result = PostResult(1, sources=[SourceResult("tiktok-oembed", "not_found"),
                                    SourceResult("wayback-cdx", "error", error="HTTP 503")])
    decide(QueuedPost(1, "instagram", status="pending", fetch_failures=7, status_changed_at=now), result, now, ("1h",))
    assert result.status == "not_found" and result.failures == 0
    own_error = PostResult(1, sources=[SourceResult("syndication", "not_found"), SourceResult("oembed", "error")])
    decide(QueuedPost(1, "instagram", status="pending", fetch_failures=0, status_changed_at=now), own_error, now, ("1h",))
    assert own_error.status == "pending" and own_error.failures == 1
