"""The command line, through click's CliRunner: exit codes, messages, what lands in the archive."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.store.db import open_db
from tests.conftest import SEEDS

SEED_ANSWER = [
    ("FirstLadyOffice", "Office of the First Lady", "2026-02-04", ["pic.twitter.com/ZYDJBBA77P"]),
    ("cherylbeantx", "Cheryl Bean for Texas", "2025-08-17", ["pic.twitter.com/gNjuDfhHxL"]),
    ("atrupar", "Aaron Rupar", "2026-02-04", ["pic.twitter.com/YsdskiYfqv"]),
]


@pytest.fixture
def runner():
    return CliRunner()


def test_detect_seed_prints_exactly_three_tweets(runner):
    result = runner.invoke(cli, ["detect", str(SEEDS)])
    assert result.exit_code == 0, result.output
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["handle"], e["author_name"], e["date"], e["pic_links"]) for e in found] == SEED_ANSWER
    assert found[0]["text"].startswith(".@FLOTUS Melania Trump engaged in a private meeting")
    assert found[0]["text"].endswith("led to Keith’s liberation from Hamas. pic.twitter.com/ZYDJBBA77P")
    assert found[2]["text"] == ("Q: Has President Putin agreed to release more Ukrainian children? "
                                "MELANIA TRUMP: I’m working on it pic.twitter.com/YsdskiYfqv")


def test_archive_seed_then_again_adds_nothing(runner, db_path):
    first = runner.invoke(cli, ["archive", "--no-fetch", "--db", str(db_path), str(SEEDS)])
    assert first.exit_code == 0, first.output
    assert "1 source(s): 1 article(s) read, 1 new version(s), 3 embed(s) stored, 3 new post(s), 0 failed" in first.stderr
    second = runner.invoke(cli, ["archive", "--no-fetch", "--db", str(db_path), str(SEEDS)])
    assert "0 new version(s), 0 embed(s) stored, 0 new post(s)" in second.stderr
    db = open_db(db_path)
    assert [(r["handle"], r["created_date"], r["status"]) for r in db["posts"].rows_where(order_by="id")] == [
        (h, d, "pending") for h, _, d, _ in SEED_ANSWER]
    [article] = db["articles"].rows
    assert article["published_at"] == "2026-02-05" and article["kind"] == "text"


def test_status_reports_counts(runner, db_path):
    runner.invoke(cli, ["archive", "--no-fetch", "--db", str(db_path), str(SEEDS)])
    result = runner.invoke(cli, ["status", "--db", str(db_path)])
    assert result.exit_code == 0
    assert "articles:  1 (1 version(s))" in result.output
    assert "posts:     3 (3 without id yet, 3 due for fetching)" in result.output
    assert "twitter    pending 3" in result.output
    as_json = json.loads(runner.invoke(cli, ["status", "--db", str(db_path), "--json"]).output)
    assert as_json["posts_by_platform_status"] == {"twitter": {"pending": 3}}


def test_status_of_a_missing_archive_is_one_line(runner, tmp_path):
    result = runner.invoke(cli, ["status", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'none.db'}: no such archive (hint: run `archiver archive SOURCE` first)"]


def test_bad_sources_are_named_and_the_rest_still_processed(runner, db_path, tmp_path):
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 10)
    missing = tmp_path / "missing.html"
    result = runner.invoke(cli, ["archive", "--no-fetch", "--silent", "--db", str(db_path), str(missing), str(binary), str(SEEDS)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {missing}: no such file or folder",
                      f"error: {binary}: not an article: binary data (NUL bytes)"]
    assert open_db(db_path)["posts"].count == 3


def test_stdin_source(runner, db_path):
    text = (SEEDS / "000_add2564ad87b768a.txt").read_bytes()
    result = runner.invoke(cli, ["archive", "--no-fetch", "--db", str(db_path), "-"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["embeds"] == 3


def test_a_broken_existing_database_is_not_touched(runner, tmp_path):
    db_path = tmp_path / "archive.db"
    db_path.write_bytes(b"garbage" * 1000)
    result = runner.invoke(cli, ["archive", "--no-fetch", "--db", str(db_path), str(SEEDS)])
    assert result.exit_code == 1
    assert "cannot open the archive" in result.output
    assert db_path.read_bytes() == b"garbage" * 1000


def test_article_by_url_through_the_local_server(runner, db_path, upstream, tmp_path, monkeypatch):
    page = (SEEDS / "000_add2564ad87b768a.txt").read_bytes()
    upstream.route("/story", page, content_type="text/plain; charset=utf-8")
    upstream.fault("/old", "redirect", location=upstream.url + "/story", times=None)
    upstream.route("/gone", "nope", status=404)
    monkeypatch.setenv("ARCHIVER_HTTP_ALLOW_PRIVATE", "true")
    result = runner.invoke(cli, ["archive", "--no-fetch", "--silent", "--db", str(db_path),
                                 upstream.url + "/old", upstream.url + "/gone"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {upstream.url}/gone: HTTP 404 Not Found"
    [article] = open_db(db_path)["articles"].rows
    assert article["source"] == upstream.url + "/old" and article["url"] == upstream.url + "/story"
    assert open_db(db_path)["posts"].count == 3


def test_private_addresses_are_refused_by_default(runner, db_path, upstream):
    upstream.route("/story", "hello")
    result = runner.invoke(cli, ["archive", "--no-fetch", "--silent", "--db", str(db_path), upstream.url + "/story"])
    assert result.exit_code == 1
    assert "resolves to non-public address 127.0.0.1" in result.stderr


def _huge_page(path, tweet_id="777"):
    with path.open("w") as fh:
        fh.write("<html><body>")
        for _ in range(50):
            fh.write("<p>" + "word twitter-tweet " * 50_000 + "</p>\n")
        fh.write(f'<blockquote class="twitter-tweet"><p>end</p>&mdash; E (@ee) '
                 f'<a href="https://twitter.com/ee/status/{tweet_id}">May 1, 2020</a></blockquote></body></html>')


def test_pages_over_the_cap_are_refused_in_one_line(runner, db_path, tmp_path):
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>")
    huge = tmp_path / "huge.html"
    _huge_page(huge)
    result = runner.invoke(cli, ["archive", "--no-fetch", "--silent", "--db", str(db_path), "--max-bytes", "20000000",
                                 str(deep), str(huge)])
    assert result.exit_code == 1
    size_mib = f"{huge.stat().st_size / 2**20:.1f}".removesuffix(".0")
    assert result.stderr.strip() == f"error: {huge}: file is {size_mib} MiB, over the 19.1 MiB cap (hint: raise it with --max-bytes)"
    assert open_db(db_path)["articles"].count == 1


def test_a_50_mb_page_is_archived_in_bounded_memory(tmp_path):
    import resource
    import subprocess
    import sys

    huge = tmp_path / "huge.html"
    _huge_page(huge)
    db_path = tmp_path / "archive.db"
    out = subprocess.run([sys.executable, "-m", "archiver", "archive", "--no-fetch", "--silent", "--db", str(db_path), str(huge)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["embeds"] == 1
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mb < 1500, f"peak memory {peak_mb:.0f} MB for a 50 MB page"


def test_every_command_is_documented_in_the_readme():
    readme = (SEEDS.parent / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"archiver {name}" in readme, f"command {name} is not in README.md"


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "archiver", "detect", str(SEEDS)], capture_output=True, text=True,
                         check=True)
    assert len(out.stdout.splitlines()) == 3


def test_odd_inputs_are_one_line_errors_and_the_rest_go_on(runner, tmp_path):
    nested = tmp_path / "nested.html"
    nested.write_text('<blockquote class="twitter-tweet"><blockquote class="twitter-tweet"></blockquote></blockquote>')
    result = runner.invoke(cli, ["detect", str(nested), "http://example.com:99999/", str(SEEDS)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: http://example.com:99999/: not a valid URL: Port out of range 0-65535"]
    assert len(result.stdout.splitlines()) == 3  # the seed's three tweets; the empty shells name no post
