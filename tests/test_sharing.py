"""Sharing the archive (issue 15): no open door when `serve` leaves this machine, a login for the team."""
from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import hash_password

from archiver.browse import build_datasette, plugin
from archiver.browse.access import Access
from archiver.cli import cli
from archiver.cli.sharing import is_loopback
from archiver.config import load_settings
from archiver.errors import ConfigError
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.upstream import Upstream

PASSWORD = "correct horse battery"
FAST_HASH = hash_password(PASSWORD, iterations=1000)  # the tests' own: cheap to check, same format


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The seed archived against the stand-in upstream: articles, posts, media."""
    folder = tmp_path_factory.mktemp("sharing")
    with Upstream() as upstream:
        seed_upstream(upstream, folder)
        result = CliRunner().invoke(cli, ["archive", "--db", str(folder / "archive.db"), str(SEEDS)])
        assert result.exit_code == 0, result.output
    return folder / "archive.db"


def client_for(archive, **access):
    return build_datasette(archive, access=Access({"alice": FAST_HASH}, **access))


def fetch(ds, method: str, path: str, **kw):
    async def go():
        return await getattr(ds.client, method)(path, **kw)
    return asyncio.run(go())


def secrets_of(archive) -> list[str]:
    """What an anonymous reader must never see: the archive's handles, texts, hashes, article titles."""
    con = sqlite3.connect(archive)
    values = [t.handle for t in SEED_TWEETS] + [t.text[:30] for t in SEED_TWEETS]
    values += [r[0] for r in con.execute("SELECT sha256 FROM media WHERE sha256 IS NOT NULL")]
    values += [r[0] for r in con.execute("SELECT title FROM articles WHERE title IS NOT NULL")]
    return [v for v in values if v]


def plugin_paths(ds) -> list[str]:
    """Concrete paths for every route the archiver plugin registers: ids 1, each optional part without and
    with, each checked to match its route's pattern."""
    paths = []
    for pattern, _ in plugin.register_routes(ds):
        for optional in (False, True):
            path = re.sub(r"\(\?:(.*?)\)\?", r"\1" if optional else "", pattern.strip("^$"))
            path = re.sub(r"\(\?P<\w+>\\d\{[^}]*\}\)", "1", path)
            path = re.sub(r"\(\?P<\w+>([a-z|]+)\)", lambda m: m.group(1).split("|")[0], path)
            path = path.replace("/?", "/").replace("\\", "")
            assert re.fullmatch(pattern, path), (pattern, path)
            paths.append(path)
    return sorted(set(paths))


# --------------------------------------------------------------------------- refusing to open the door

def test_serving_beyond_this_machine_needs_passwords_or_public(archive, monkeypatch):
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.append(kw))
    for host in ("0.0.0.0", "::", "192.168.1.20", "news.example.org"):
        result = CliRunner().invoke(cli, ["serve", "--db", str(archive), "--host", host])
        assert result.exit_code == 1 and served == []
        line = result.output.strip()
        assert "\n" not in line and "archiver passwd USER" in line and "--public" in line
    result = CliRunner().invoke(cli, ["serve", "--db", str(archive), "--host", "0.0.0.0", "--public"])
    assert result.exit_code == 0 and served[-1]["host"] == "0.0.0.0"
    assert re.search(r"PUBLIC: anyone who can reach 0\.0\.0\.0:8001 reads 1 articles, 3 posts, 3 media files", result.output)
    assert "arbitrary SQL off" in result.output
    result = CliRunner().invoke(cli, ["serve", "--db", str(archive)])  # loopback: as before, no word
    assert result.exit_code == 0 and "PUBLIC" not in result.output and "login required" not in result.output


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True),
                                            ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                            ("::", False), ("10.0.0.1", False), ("127.0.0.1.nip.io", False)])
def test_loopback_is_told_apart(host, loopback):
    assert is_loopback(host) is loopback


# --------------------------------------------------------------------------- passwords

def test_passwd_writes_a_hash_never_the_password(tmp_path):
    db = tmp_path / "archive.db"
    config = tmp_path / "archiver.toml"
    config.write_text('[limits]\nconcurrency = 3\n')
    result = CliRunner().invoke(cli, ["passwd", "alice", "--db", str(db), "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert PASSWORD not in text and "concurrency = 3" in text
    first = load_settings(config).serve.passwords["alice"]
    assert first.startswith("pbkdf2_sha256$")
    from datasette_auth_passwords.utils import verify_password

    assert verify_password(PASSWORD, first) and not verify_password("wrong", first)
    # A second user, then alice again: one line each, alice's replaced.
    CliRunner().invoke(cli, ["passwd", "bob", "--db", str(db), "--password-stdin"], input="another secret\n")
    CliRunner().invoke(cli, ["passwd", "alice", "--db", str(db), "--password-stdin"], input="a new secret\n")
    passwords = load_settings(config).serve.passwords
    assert set(passwords) == {"alice", "bob"} and passwords["alice"] != first
    assert config.read_text().count("[serve.passwords]") == 1
    short = CliRunner().invoke(cli, ["passwd", "carol", "--db", str(db), "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_a_password_in_plain_text_is_refused_in_one_line(tmp_path):
    config = tmp_path / "archiver.toml"
    config.write_text('[serve.passwords]\nalice = "hunter22"\n')
    with pytest.raises(ConfigError, match="not a PBKDF2 hash.*archiver passwd alice"):
        load_settings(config)
    env = {"ARCHIVER_SERVE_PASSWORDS": f"alice:{FAST_HASH};bob:{FAST_HASH}"}
    assert set(load_settings(None, env=env).serve.passwords) == {"alice", "bob"}


# --------------------------------------------------------------------------- nothing for anonymous readers

def test_anonymous_readers_get_no_data_from_any_page(archive):
    ds = client_for(archive)
    con = sqlite3.connect(archive)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                        "AND name NOT LIKE 'sqlite_%'")]
    sha = con.execute("SELECT sha256 FROM media WHERE sha256 IS NOT NULL").fetchone()[0]
    paths = ["/", "/archive", "/archive.json", "/-/metadata.json", "/-/databases.json", "/archive?sql=select+1",
             f"/archive/media.json?sha256={sha}", *plugin_paths(ds)]
    paths += [p for t in tables for p in (f"/archive/{t}", f"/archive/{t}.json", f"/archive/{t}/1.json")]
    secrets = secrets_of(archive)
    assert len(plugin_paths(ds)) >= 10 and "/-/archiver/media/1" in plugin_paths(ds)
    for path in paths:
        response = fetch(ds, "get", path)
        assert response.status_code in (401, 403), (path, response.status_code)
        leaked = [s for s in secrets if s in response.text]
        assert leaked == [], (path, leaked)
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert 'href="/-/login"' in fetch(ds, "get", "/-/archiver/").text


def test_without_passwords_the_same_pages_answer(archive):
    ds = build_datasette(archive)  # loopback, no share: the journalist's own machine
    for path in ("/-/archiver/", "/-/archiver/post/1", "/archive/posts.json", "/-/archiver/media/1"):
        assert fetch(ds, "get", path).status_code == 200, path


def test_robots_are_told_to_stay_out(archive):
    ds = client_for(archive)
    robots = fetch(ds, "get", "/robots.txt")
    assert robots.status_code == 200 and "Disallow: /" in robots.text


# --------------------------------------------------------------------------- logging in

def login(ds, password: str):
    form = fetch(ds, "get", "/-/login")
    token = form.cookies.get("ds_csrftoken")
    return fetch(ds, "post", "/-/login", data={"username": "alice", "password": password, "csrftoken": token},
                 cookies={"ds_csrftoken": token})


def test_the_right_password_opens_the_cards_and_sql_stays_off(archive):
    ds = client_for(archive)
    assert login(ds, "not it").status_code == 200  # the form again, with an error
    ok = login(ds, PASSWORD)
    assert ok.status_code == 302 and "ds_actor" in ok.cookies
    cookies = {"ds_actor": ok.cookies["ds_actor"]}
    cards = fetch(ds, "get", "/-/archiver/", cookies=cookies)
    assert cards.status_code == 200 and "/-/archiver/article/1" in cards.text
    post = fetch(ds, "get", "/-/archiver/post/1", cookies=cookies)
    assert post.status_code == 200 and any(t.handle in post.text for t in SEED_TWEETS)
    assert fetch(ds, "get", "/-/archiver/media/1", cookies=cookies).status_code == 200
    assert fetch(ds, "get", "/archive/posts.json", cookies=cookies).status_code == 200
    assert fetch(ds, "get", "/archive?sql=select+1", cookies=cookies).status_code == 403  # least privilege
    with_sql = client_for(archive, allow_sql=True)
    cookies = {"ds_actor": login(with_sql, PASSWORD).cookies["ds_actor"]}
    assert fetch(with_sql, "get", "/archive.json?sql=select+1", cookies=cookies).status_code == 200


def test_repeated_failures_from_one_client_are_refused_by_count(archive):
    ds = client_for(archive, login_failures=3)
    assert [login(ds, f"guess {n}").status_code for n in range(3)] == [200, 200, 200]
    refused = login(ds, PASSWORD)  # even the right one, once refused
    assert refused.status_code == 429 and "ds_actor" not in refused.cookies
    other = client_for(archive, login_failures=3)  # another run's count starts afresh
    assert login(other, PASSWORD).status_code == 302


def test_a_shared_archive_queries_within_a_second(archive):
    assert client_for(archive).setting("sql_time_limit_ms") == 1000
    assert Access.from_settings(load_settings(None, env={"ARCHIVER_SERVE_SQL_TIME_LIMIT_MS": "5000"}).serve) \
        .sql_time_limit_ms == 1000


# --------------------------------------------------------------------------- in a real browser

def test_in_a_browser_anonymous_readers_meet_the_login_and_the_team_reads_cards(archive, tmp_path):
    import shutil

    from tests.test_browse_evidence import _playwright
    from tests.test_browser import CHROMIUM, free_port, wait_for

    if CHROMIUM is None or _playwright() is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium) and playwright (the test extra)")
    db = tmp_path / "archive.db"
    shutil.copy(archive, db)
    shutil.copytree(archive.parent / "archive.files", tmp_path / "archive.files")
    assert CliRunner().invoke(cli, ["passwd", "alice", "--db", str(db), "--password-stdin"],
                              input=PASSWORD + "\n").exit_code == 0
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    secrets = secrets_of(db)
    try:
        wait_for(base + "/robots.txt", proc)
        with _playwright()() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(base + "/-/archiver/post/1")
                assert [s for s in secrets if s in page.content()] == []
                page.click("text=Log in")
                page.fill("input[name=username]", "alice")
                page.fill("input[name=password]", "not the password")
                page.click("input[type=submit]")
                assert "Invalid username or password" in page.content()
                page.fill("input[name=username]", "alice")
                page.fill("input[name=password]", PASSWORD)
                page.click("input[type=submit]")
                page.wait_for_load_state()
                page.goto(base + "/-/archiver/post/1")
                assert any(t.handle in page.content() for t in SEED_TWEETS)
                page.goto(base + "/-/archiver/")
                assert page.locator("a[href='/-/archiver/article/1']").count() >= 1
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
