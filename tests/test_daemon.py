"""The daemon as a real subprocess against the local upstream, checked by polling the database."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

import pytest

from archiver.config import DEFAULT_RATES, Endpoints, load_settings
from archiver.errors import ConfigError
from archiver.run.schedule import JobRunner, build_scheduler, parse_cron
from tests.corpus_score import shared_absent
from tests.upstream import Response, Upstream, syndication_routes, wayback_routes

PHOTO_ID = "1641086480675225601"
CORPUS_PAGE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "html" / \
    "trafilatura__cache-basicthinking.de.tweets.html"
TWEET = {"__typename": "Tweet", "text": "hello", "created_at": "2023-03-29T14:34:41.000Z", "lang": "en",
         "user": {"id_str": "1", "screen_name": "someone", "name": "Someone"}, "entities": {}}


def blockquote(tweet_id, handle="someone"):
    return (f'<blockquote class="twitter-tweet"><p>t {tweet_id}</p>&mdash; S (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tweet_id}">March 29, 2023</a></blockquote>')


def write_config(folder: Path, base_url: str, sources=(), **extra) -> Path:
    limits = {"backoff_base": 0.01, "retry_wait_max": 1, "per_host_rate": 0, "retries": 1, "concurrency": 4,
              "per_host_concurrency": 4, "requeue_base": 1, "requeue_max": 2}
    limits.update(extra.pop("limits", {}))
    lines = ['db = "archive.db"', 'recheck_after = ["1h"]', "", "[schedules]",
             'poll = "* * * * * *"', 'fetch = "* * * * * *"', 'recheck = "* * * * * *"', "",
             "[http]", "allow_private = true", 'allowed_hosts = ["127.0.0.1"]', "read_timeout = 2",
             "connect_timeout = 1", "total_timeout = 10", "", "[daemon]", "stop_grace = 2", "misfire_grace_time = 5"]
    lines += [f"{k} = {v}" for k, v in extra.pop("daemon", {}).items()]
    lines += ["", "[limits]"] + [f"{k} = {v}" for k, v in limits.items()]
    lines += ["", "[endpoints]"] + [f'{f.name} = "{base_url}"' for f in fields(Endpoints) if f.name != "mastodon_oembed"]
    lines += ["", "[rates]"] + [f'"{name}" = 0' for name in DEFAULT_RATES]  # the local server has no limits
    for name, kind, location in sources:
        lines += ["", "[[sources]]", f'name = "{name}"', f'kind = "{kind}"', f'location = "{location}"']
    path = folder / "archiver.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class Daemon:
    """`archiver daemon` in a subprocess, its stderr in a file."""

    def __init__(self, config: Path):
        self.log = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "archiver", "daemon", "--config", str(config)],
                                     stderr=open(self.log, "wb"), stdout=subprocess.DEVNULL)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def query(db_path: Path, sql: str, params=()):
    if not db_path.exists():
        return []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def count(db_path: Path, sql: str) -> int:
    """A count(*) query's answer, or -1 while the database is not there or not readable yet."""
    rows = query(db_path, sql)
    return rows[0][0] if rows else -1


def wait_for(predicate, timeout=30.0, what="condition", daemon: Daemon | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if daemon is not None and daemon.proc.poll() is not None:
            pytest.fail(f"daemon exited with {daemon.proc.returncode} while waiting for {what}:\n{daemon.stderr()}")
        time.sleep(0.05)  # polling interval, not a wait for something to happen
    pytest.fail(f"timed out waiting for {what}" + (f"\n{daemon.stderr()}" if daemon else ""))


@pytest.fixture
def daemons():
    started = []

    def start(config):
        d = Daemon(config)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(5)


def test_scheduler_configuration_without_starting_it(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    config = write_config(tmp_path, "http://127.0.0.1:9")
    settings = load_settings(config, required=True)
    scheduler = build_scheduler(JobRunner(settings, tmp_path / "archive.db"), settings, BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"poll", "fetch", "recheck"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 5)
        assert str(job.trigger) == str(parse_cron("* * * * * *"))
    default = build_scheduler(JobRunner(load_settings(None), tmp_path / "x.db"), load_settings(None), BackgroundScheduler)
    assert str(default.get_job("fetch").trigger) == "cron[month='*', day='*', day_of_week='*', hour='*', minute='*/5']"


@pytest.mark.parametrize("text,message", [
    ('[schedules]\nfetch = "*/5 * * *"\n', ":2: [schedules] fetch: bad cron expression '*/5 * * *'"),
    ('[schedules]\nfetch = "61 * * * *"\n', ":2: [schedules] fetch: bad cron expression '61 * * * *'"),
    ('[schedules]\nsweep = "* * * * *"\n', ":2: [schedules] sweep: unknown job"),
    ('[daemon]\nmisfire = 3\n', ":2: [daemon] unknown key 'misfire'"),
    ('[[sources]]\nkind = "folder"\nlocation = "/no/such/folder"\n', ":3: [[sources]]: folder /no/such/folder does not exist"),
    ('[[sources]]\nkind = "gopher"\nlocation = "https://x.example/feed"\n', ":3: [[sources]]: kind 'gopher' is not one of"),
])
def test_config_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "archiver.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, required=True)
    assert str(info.value).startswith(str(path) + message)


def test_daemon_archives_a_feed_then_exits_cleanly_on_sigterm(tmp_path, upstream, daemons):
    syndication_routes(upstream)
    wayback_routes(upstream)
    upstream.route("/one.html", f"<html><body>{blockquote(PHOTO_ID, 'SamuelSusla')}</body></html>",
                   content_type="text/html")
    upstream.route("/two.html", f"<html><body>{blockquote('222')}</body></html>", content_type="text/html")
    upstream.route("/feed.xml", f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>One</title><link>{upstream.url}/one.html</link></item>
        <item><title>Two</title><link>{upstream.url}/two.html</link></item></channel></rss>""",
                   content_type="application/rss+xml")
    upstream.route("/broken.xml", "<rss><channel><item><link>", content_type="application/rss+xml")
    upstream.route("/down.xml", "oops", status=500)
    upstream.route("/empty.xml", "", content_type="application/rss+xml")
    huge_item = f"<item><link>{upstream.url}/x.html</link><description>{'y' * 10_000}</description></item>"
    upstream.route("/huge.xml", "<rss version='2.0'><channel>" + huge_item * 1_200 + "</channel></rss>",
                   content_type="application/rss+xml")
    config = write_config(tmp_path, upstream.url, sources=[
        ("down", "feed", upstream.url + "/down.xml"), ("broken", "feed", upstream.url + "/broken.xml"),
        ("empty", "feed", upstream.url + "/empty.xml"), ("huge", "feed", upstream.url + "/huge.xml"),
        ("news", "feed", upstream.url + "/feed.xml")])
    db_path = tmp_path / "archive.db"
    daemon = daemons(config)
    wait_for(lambda: query(db_path, "SELECT count(*) FROM posts WHERE status != 'pending'") == [(2,)],
             what="both posts fetched", daemon=daemon)
    statuses = dict(query(db_path, "SELECT platform_post_id, status FROM posts"))
    assert statuses == {PHOTO_ID: "archived", "222": "not_found"}
    errors = dict(query(db_path, "SELECT name, last_error FROM sources"))
    assert errors["news"] is None and "HTTP 500" in errors["down"] and errors["broken"]
    assert "empty body" in errors["empty"] and "over the 10 MB cap" in errors["huge"]
    assert "source huge skipped" in daemon.stderr()
    # a second daemon on the same database refuses, naming the holder
    second = subprocess.run([sys.executable, "-m", "archiver", "daemon", "--config", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"a daemon already runs on it (pid {daemon.proc.pid} on" in second.stderr
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 10
    jobs = {row[0] for row in query(db_path, "SELECT job FROM job_runs WHERE status = 'ok'")}
    assert jobs == {"poll", "fetch", "recheck"}
    assert query(db_path, "SELECT count(*) FROM articles") == [(2,)]
    assert "daemon stopped" in daemon.stderr()
    assert query(db_path, "SELECT count(*) FROM job_runs WHERE status = 'running'") == [(0,)]


def test_kill_9_mid_batch_loses_and_duplicates_nothing(tmp_path, upstream, daemons):
    ids = [str(10**17 + i) for i in range(40)]
    # Ten tweets are answered; the eleventh request on waits until the kill has landed, so the batch is
    # cut in the middle by an order of events, whatever the machine's speed.
    answered, gate, lock = [], threading.Event(), threading.Lock()

    def tweet(req):
        with lock:
            answered.append(req.query.get("id"))
            held = len(answered) > 10
        if held:
            gate.wait(30)
        return Response(200, dict(TWEET, id_str=req.query.get("id")), [], "application/json")

    upstream.route("/tweet-result", tweet)
    upstream.route("/oembed", "{}", status=404)
    wayback_routes(upstream)
    page = tmp_path / "pages"
    page.mkdir()
    (page / "many.html").write_text("<html><body>" + "".join(blockquote(i) for i in ids) + "</body></html>")
    config = write_config(tmp_path, upstream.url, sources=[("saved", "folder", str(page))])
    db_path = tmp_path / "archive.db"
    first = daemons(config)
    wait_for(lambda: len(answered) > 10 and count(db_path, "SELECT count(*) FROM posts WHERE status = 'archived'") >= 8,
             what="ten posts archived and the next requests held", daemon=first)
    first.proc.kill()
    first.proc.wait(5)
    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]
    before = set(query(db_path, "SELECT id, post_id, source, sha256 FROM snapshots"))
    archived_before = query(db_path, "SELECT count(*) FROM posts WHERE status = 'archived'")[0][0]
    assert 0 < archived_before < len(ids), "the kill should land mid-batch"
    gate.set()  # the next daemon's requests are answered at once
    second = daemons(config)
    wait_for(lambda: query(db_path, "SELECT count(*) FROM posts WHERE status = 'archived'") == [(len(ids),)],
             timeout=60, what="every post archived after the restart", daemon=second)
    assert second.stop() == 0
    after = set(query(db_path, "SELECT id, post_id, source, sha256 FROM snapshots"))
    assert before <= after  # nothing lost
    dupes = query(db_path, "SELECT post_id, source, count(*) FROM snapshots GROUP BY post_id, source, sha256 "
                           "HAVING count(*) > 1")
    assert dupes == []  # nothing written twice
    assert query(db_path, "SELECT count(*) FROM articles") == [(1,)]
    assert query(db_path, "SELECT count(*) FROM embeds") == [(len(ids),)]
    attempt_dupes = query(db_path, "SELECT count(*) FROM fetch_attempts GROUP BY post_id, source, attempted_at, "
                                   "attempt HAVING count(*) > 1")
    assert attempt_dupes == []


def test_sigint_stops_the_daemon_as_sigterm_does(tmp_path, upstream, daemons):
    upstream.route("/feed.xml", """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        </channel></rss>""", content_type="application/rss+xml")
    config = write_config(tmp_path, upstream.url, sources=[("news", "feed", upstream.url + "/feed.xml")])
    daemon = daemons(config)
    wait_for(lambda: count(tmp_path / "archive.db", "SELECT count(*) FROM job_runs WHERE status = 'ok'") > 0,
             what="a finished job", daemon=daemon)
    assert daemon.stop(signal.SIGINT) == 0  # not a KeyboardInterrupt traceback
    log = daemon.stderr()
    assert "signal SIGINT: finishing the work in hand" in log and "daemon stopped" in log
    assert "Traceback" not in log


def test_network_gone_then_back(tmp_path, daemons):
    server = Upstream().start()
    port = server.port
    server.stop()  # nothing listens: connection refused, like a network that is gone
    page = tmp_path / "pages"
    page.mkdir()
    (page / "a.html").write_text(f"<html><body>{blockquote(PHOTO_ID, 'SamuelSusla')}</body></html>")
    config = write_config(tmp_path, f"http://127.0.0.1:{port}", sources=[("saved", "folder", str(page))])
    db_path = tmp_path / "archive.db"
    daemon = daemons(config)
    wait_for(lambda: query(db_path, "SELECT count(*) FROM posts WHERE fetch_failures >= 1") == [(1,)],
             what="a failed fetch", daemon=daemon)
    [(status, next_at, last)] = query(db_path, "SELECT status, next_fetch_at, last_fetched_at FROM posts")
    assert status == "pending" and next_at > last
    back = Upstream(port=port).start()
    try:
        syndication_routes(back)
        wayback_routes(back)
        wait_for(lambda: query(db_path, "SELECT status FROM posts") == [("archived",)], timeout=30,
                 what="the post archived once the network is back", daemon=daemon)
        assert daemon.proc.poll() is None
        assert daemon.stop() == 0
    finally:
        back.stop()


def test_a_locked_database_fails_the_job_clearly_and_the_daemon_goes_on(tmp_path, upstream, daemons):
    upstream.route("/feed.xml", "<rss version='2.0'><channel></channel></rss>", content_type="application/rss+xml")
    config = write_config(tmp_path, upstream.url, sources=[("news", "feed", upstream.url + "/feed.xml")],
                          daemon={"busy_timeout_ms": 300})
    db_path = tmp_path / "archive.db"
    daemon = daemons(config)
    ok_runs = "SELECT count(*) FROM job_runs WHERE status = 'ok'"
    wait_for(lambda: count(db_path, ok_runs) > 0, what="a first run", daemon=daemon)
    blocker = sqlite3.connect(db_path, timeout=5)
    blocker.execute("BEGIN EXCLUSIVE")
    wait_for(lambda: "database is locked" in daemon.stderr(), what="a locked-database error", daemon=daemon)
    blocker.rollback()
    blocker.close()
    ok_before = count(db_path, ok_runs)
    assert ok_before >= 1
    wait_for(lambda: count(db_path, ok_runs) > ok_before + 2,
             what="jobs succeeding again", daemon=daemon)
    assert daemon.stop() == 0
    assert "job" in daemon.stderr() and "failed: OperationalError: database is locked" in daemon.stderr()


def test_a_full_disk_fails_the_job_without_partial_rows(tmp_path, monkeypatch):
    """SQLITE_FULL, as a full disk gives it, in the middle of a job: the job fails, nothing half-written."""
    import archiver.store.db as store
    from archiver.run.schedule import JobRunner

    page = tmp_path / "pages"
    page.mkdir()
    (page / "a.html").write_text("<html><body>" + "".join(blockquote(str(10**17 + i)) for i in range(50)) +
                                 "</body></html>")
    config = write_config(tmp_path, "http://127.0.0.1:9", sources=[("saved", "folder", str(page))])
    settings = load_settings(config, required=True)
    db_path = tmp_path / "archive.db"
    store.open_db(db_path).close()
    real_open = store.open_db

    def full_open(path, **kw):
        db = real_open(path, **kw)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for the job_runs row, not for the article
        return db

    monkeypatch.setattr("archiver.run.schedule.open_db", full_open)
    assert JobRunner(settings, db_path).run("poll") is None
    assert query(db_path, "SELECT count(*) FROM articles") == [(0,)]
    assert query(db_path, "SELECT count(*) FROM posts") == [(0,)]
    assert query(db_path, "SELECT count(*) FROM bodies") == [(0,)]
    monkeypatch.setattr("archiver.run.schedule.open_db", real_open)
    counts = JobRunner(settings, db_path).run("poll")
    assert counts["articles_added"] == 1
    assert query(db_path, "SELECT count(*) FROM posts") == [(50,)]


# A page the project wrote: embeds in an article among the page chrome a newsroom's CMS adds.
BUILT_PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reactions, in posts</title>"
              "<meta property='og:site_name' content='The Daily Build'></head><body><nav><a href='/'>Home</a></nav>"
              "<article><h1>Reactions, in posts</h1><p>Readers answered.</p>"
              + "".join(f"<p>Paragraph {i}.</p>{blockquote(str(10**17 + i), f'reader{i}')}" for i in range(5))
              + "<iframe src='https://www.youtube.com/embed/dQw4w9WgXcQ'></iframe></article>"
              "<footer><a href='https://twitter.com/dailybuild'>Follow us</a></footer></body></html>")


@pytest.mark.parametrize("page,embeds", [("built", 6), ("corpus", 12)])
def test_run_once_archives_a_page_from_a_sitemap(tmp_path, upstream, page, embeds):
    if page == "corpus" and not CORPUS_PAGE.exists():
        pytest.skip(shared_absent(CORPUS_PAGE.parent.parent))
    body = BUILT_PAGE.encode() if page == "built" else CORPUS_PAGE.read_bytes()
    upstream.route("/article.html", body, content_type="text/html")
    upstream.route("/sitemap.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{upstream.url}/article.html</loc></url></urlset>""",
                   content_type="application/xml")
    upstream.route("/tweet-result", "", status=404)
    upstream.route("/oembed", "", status=404)
    wayback_routes(upstream)
    config = write_config(tmp_path, upstream.url, sources=[("map", "sitemap", upstream.url + "/sitemap.xml")])
    out = subprocess.run([sys.executable, "-m", "archiver", "run-once", "--log-json", "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import json

    events = [json.loads(line) for line in out.stderr.splitlines()]  # every log line is one JSON object
    assert [(e["job"], e["event"]) for e in events if e.get("event") == "finished"] == [
        ("poll", "finished"), ("fetch", "finished"), ("recheck", "finished")]
    counts = json.loads(out.stdout)
    assert counts["poll"]["articles_added"] == 1 and counts["poll"]["embeds"] == embeds
    assert counts["fetch"]["by_status"] == {"not_found": embeds}


def test_the_cli_archives_into_the_database_the_daemon_is_using(tmp_path, upstream, daemons):
    upstream.route("/tweet-result", lambda req: dict(TWEET, id_str=req.query.get("id")),
                   content_type="application/json")
    upstream.route("/oembed", "{}", status=404)
    wayback_routes(upstream)
    upstream.fault("*", "latency", ms=20)
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "a.html").write_text("<html><body>" + "".join(blockquote(str(10**17 + i)) for i in range(20)) +
                                    "</body></html>")
    config = write_config(tmp_path, upstream.url, sources=[("watched", "folder", str(watched))])
    db_path = tmp_path / "archive.db"
    daemon = daemons(config)
    wait_for(lambda: query(db_path, "SELECT count(*) FROM posts") == [(20,)], what="the daemon's posts", daemon=daemon)
    other = tmp_path / "other"
    other.mkdir()
    (other / "b.html").write_text("<html><body>" + "".join(blockquote(str(10**17 + i)) for i in range(10, 30)) +
                                  "</body></html>")
    runs = [subprocess.run([sys.executable, "-m", "archiver", "archive", "--config", str(config), "--db",
                            str(db_path), str(other), str(watched)], capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    wait_for(lambda: query(db_path, "SELECT count(*) FROM posts WHERE status = 'archived'") == [(30,)],
             timeout=60, what="every post archived", daemon=daemon)
    assert daemon.stop() == 0
    assert query(db_path, "SELECT count(*) FROM articles") == [(2,)]
    assert query(db_path, "SELECT count(*) FROM embeds") == [(40,)]
    dupes = query(db_path, "SELECT post_id, source, count(*) FROM snapshots GROUP BY post_id, source, sha256 "
                           "HAVING count(*) > 1")
    assert dupes == []
