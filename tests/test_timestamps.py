"""RFC 3161 timestamps against a real local TSA (openssl ts), and `archiver verify` of archives and packages."""
from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.store.db import open_db
from tests.built import SEED_TWEETS, seed_upstream
from tests.conftest import SEEDS
from tests.tsa import OPENSSL
from tests.upstream import upstream  # noqa: F401  (fixture)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def stamped(upstream, tsa, tmp_path):
    """The seed archived against the local upstream with the local TSA configured."""
    seed_upstream(upstream, tmp_path, extra_config=f'[timestamps]\ntsa_urls = ["{tsa.url}"]\n')
    db_path = tmp_path / "archive.db"
    result = run("archive", "--db", db_path, SEEDS)
    assert result.exit_code == 0, result.output
    return {"db": db_path, "tmp": tmp_path, "output": result.output, "tsa": tsa}


def rows(db_path, sql, params=()):
    return open_db(db_path).execute(sql, params).fetchall()


def test_a_fetch_run_names_its_new_evidence_in_a_list_and_gets_it_stamped(stamped):
    db = stamped["db"]
    assert "timestamps: 1 new evidence list(s) naming" in stamped["output"]
    assert "1 token(s) granted, 0 failed" in stamped["output"]
    (path, sha, items), = rows(db, "SELECT path, sha256, items FROM evidence_lists")
    data = (db.parent / path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    kinds = {line.split("  ", 1)[1].split(":", 1)[0] for line in data.decode().splitlines()[1:]}
    assert kinds == {"body", "media", "warc"} and len(data.decode().splitlines()) == items + 1
    # every stored body, media file and fetch-attempt WARC range is named
    assert rows(db, "SELECT count(*) FROM bodies")[0][0] == rows(
        db, "SELECT count(*) FROM evidence_items WHERE kind = 'body'")[0][0]
    assert rows(db, "SELECT count(*) FROM fetch_attempts WHERE warc_file IS NOT NULL")[0][0] == rows(
        db, "SELECT count(*) FROM evidence_items WHERE kind = 'warc'")[0][0]
    (status, token_path, imprint), = rows(db, "SELECT status, token_path, message_imprint FROM timestamps")
    assert status == "granted" and imprint == sha
    # a third party checks it with openssl alone
    check = subprocess.run([OPENSSL, "ts", "-verify", "-data", str(db.parent / path), "-in",
                            str(db.parent / token_path), "-CAfile", str(stamped["tsa"].root)],
                           capture_output=True, text=True, timeout=60)
    assert "Verification: OK" in check.stdout, check.stdout + check.stderr


def test_a_second_run_lists_only_what_is_new(stamped, upstream):
    db = stamped["db"]
    before = rows(db, "SELECT count(*) FROM evidence_items")[0][0]
    page = stamped["tmp"] / "b.html"
    t = SEED_TWEETS[0]
    page.write_text(f'<blockquote class="twitter-tweet"><p>x</p>&mdash; X (@{t.handle}) '
                    f'<a href="https://twitter.com/{t.handle}/status/{t.tweet_id}">February 4, 2026</a></blockquote>')
    assert run("archive", "--db", db, page).exit_code == 0
    assert run("fetch", "--db", db, "--post", 1).exit_code == 0
    lists = rows(db, "SELECT id, items FROM evidence_lists ORDER BY id")
    assert len(lists) >= 2 and sum(n for _, n in lists) == rows(db, "SELECT count(*) FROM evidence_items")[0][0]
    assert rows(db, "SELECT count(*) FROM evidence_items")[0][0] > before
    assert rows(db, "SELECT count(*) FROM timestamps WHERE status = 'granted'")[0][0] == len(lists)


def test_verify_holds_with_the_right_root_and_fails_with_a_wrong_one_or_none(stamped):
    db, tsa_ = stamped["db"], stamped["tsa"]
    ok = run("verify", "--db", db, "--tsa-root", tsa_.root)
    assert ok.exit_code == 0 and "1 timestamp(s): 0 problem(s)" in ok.output, ok.output
    wrong = run("verify", "--db", db, "--tsa-root", tsa_.other_root)
    assert wrong.exit_code == 1 and "MISMATCH timestamp timestamp #1" in wrong.output
    none = run("verify", "--db", db)
    assert none.exit_code == 1 and "no trusted root given" in none.output


def test_a_root_in_the_settings_is_used_relative_to_the_file(stamped):
    db, tsa_ = stamped["db"], stamped["tsa"]
    (db.parent / "roots").mkdir()
    (db.parent / "roots" / "tsa-root.pem").write_bytes(tsa_.root.read_bytes())
    with open(db.parent / "archiver.toml", "a") as fh:
        fh.write('roots = ["roots/tsa-root.pem"]\n')
    assert run("verify", "--db", db).exit_code == 0


def test_a_changed_byte_in_a_stamped_warc_range_fails_verify(stamped):
    db = stamped["db"]
    (ref,) = rows(db, "SELECT ref FROM evidence_items WHERE kind = 'warc' ORDER BY id LIMIT 1")[0]
    file, _, span = ref.rpartition("@")
    offset = int(span.split("+")[0])
    path = db.parent / file
    data = bytearray(path.read_bytes())
    data[offset + 40] ^= 0x01
    path.write_bytes(bytes(data))
    result = run("verify", "--db", db, "--tsa-root", stamped["tsa"].root)
    assert result.exit_code == 1
    assert f"MISMATCH timestamp {ref}: WARC range named in" in result.output


def test_a_token_for_another_digest_fails_verify(stamped):
    from rfc3161_client import TimestampRequestBuilder

    db, tsa_ = stamped["db"], stamped["tsa"]
    (token_path,) = rows(db, "SELECT token_path FROM timestamps")[0]
    other = tsa_.reply(TimestampRequestBuilder().data(b"some other list").build().as_bytes())
    (db.parent / token_path).write_bytes(other)
    with open_db(db) as conn:
        conn.execute("UPDATE timestamps SET token_sha256 = ?", [hashlib.sha256(other).hexdigest()])
        conn.conn.commit()
    result = run("verify", "--db", db, "--tsa-root", tsa_.root)
    assert result.exit_code == 1 and "Mismatch between messages" in result.output


def test_a_tsa_that_fails_once_is_retried_and_one_that_never_answers_leaves_the_list_for_later(upstream, tsa, tmp_path):
    seed_upstream(upstream, tmp_path, extra_config=f'[timestamps]\ntsa_urls = ["{tsa.url}", "http://127.0.0.1:9/tsr"]\n')
    db = tmp_path / "archive.db"
    tsa.fail_next, asked = 1, tsa.requests
    first = run("archive", "--db", db, SEEDS)
    assert first.exit_code == 0
    assert "1 token(s) granted, 1 failed" in first.output
    statuses = rows(db, "SELECT tsa_url, status FROM timestamps ORDER BY id")
    assert (tsa.url, "granted") in statuses and ("http://127.0.0.1:9/tsr", "error") in statuses
    assert tsa.requests - asked == 2  # the 503, then the retry that was granted
    again = run("timestamp", "--db", db)
    assert again.exit_code == 1 and "0 new evidence list(s)" in again.output  # the dead TSA is asked again
    assert rows(db, "SELECT count(*) FROM timestamps WHERE tsa_url = 'http://127.0.0.1:9/tsr'")[0][0] == 2


def test_timestamp_without_a_tsa_says_how_to_configure_one(tmp_path):
    db = tmp_path / "archive.db"
    (tmp_path / "a.txt").write_text("nothing embedded here\n")
    assert run("archive", "--db", db, "--no-fetch", tmp_path / "a.txt").exit_code == 0
    result = run("timestamp", "--db", db)
    assert result.exit_code == 1
    assert "Error: no Time-Stamp Authority configured (hint: set [timestamps] tsa_urls in archiver.toml)" in result.output


# -- packages


def export(stamped, *args) -> Path:
    out = stamped["tmp"] / "p.wacz"
    result = run("export", "--db", stamped["db"], *args, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def rewrite(wacz: Path, name: str, change) -> None:
    """Rewrite one member of a zip with `change(bytes) -> bytes`, keeping the others as they are."""
    with zipfile.ZipFile(wacz) as z:
        members = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(wacz, "w") as z:
        for info, data in members:
            z.writestr(info, change(data) if info.filename == name else data)


def flip(data: bytes, at: int = -10) -> bytes:
    data = bytearray(data)
    data[at] ^= 0x01
    return bytes(data)


def test_a_package_carries_its_tokens_and_verifies_alone(stamped):
    out = export(stamped, "--post", 1)
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("logs/archiver.json"))
        names = z.namelist()
    (entry,) = manifest["timestamps"]
    assert entry["list"] in names and entry["tokens"][0]["file"] in names
    result = run("verify", out, "--tsa-root", stamped["tsa"].root)
    assert result.exit_code == 0, result.output
    assert "1 timestamp(s): 0 problem(s)" in result.output
    assert run("verify", out, "--tsa-root", stamped["tsa"].other_root).exit_code == 1


@pytest.mark.parametrize("member, named", [
    ("datapackage.json", "datapackage.json: does not match the SHA-256 in datapackage-digest.json"),
    ("pages/pages.jsonl", "pages/pages.jsonl: does not match its sha256 in datapackage.json"),
    ("logs/archiver.json", "logs/archiver.json: does not match its sha256 in datapackage.json"),
    ("archive/archiver-export.warc.gz", "archive/archiver-export.warc.gz: does not match its sha256"),
])
def test_a_flipped_byte_anywhere_in_a_package_fails_verify_and_names_the_file(stamped, member, named):
    out = export(stamped, "--all")
    rewrite(out, member, flip)
    result = run("verify", out, "--tsa-root", stamped["tsa"].root)
    assert result.exit_code == 1 and f"MISMATCH {named}" in result.output, result.output


def test_a_package_whose_record_and_listing_were_both_changed_is_still_caught_by_the_token(stamped):
    """Rewriting a record and every digest around it still leaves the token's list disagreeing."""
    out = export(stamped, "--post", 1)
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("logs/archiver.json"))
        warc = bytearray(z.read("archive/archiver-export.warc.gz"))
        pkg = json.loads(z.read("datapackage.json"))
    place = manifest["posts"][0]["records"][0]["package"]
    forged_bytes = bytes(warc[place["package_offset"]:place["package_offset"] + place["length"]])
    forged = flip(forged_bytes, 30)
    warc[place["package_offset"]:place["package_offset"] + place["length"]] = forged
    place["sha256"] = hashlib.sha256(forged).hexdigest()
    new_manifest = json.dumps(manifest).encode()
    for res in pkg["resources"]:
        data = {"archive/archiver-export.warc.gz": bytes(warc), "logs/archiver.json": new_manifest}.get(res["path"])
        if data is not None:
            res["hash"], res["bytes"] = "sha256:" + hashlib.sha256(data).hexdigest(), len(data)
    pkg_bytes = json.dumps(pkg).encode()
    digest = json.dumps({"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(pkg_bytes).hexdigest()})
    changes = {"archive/archiver-export.warc.gz": bytes(warc), "logs/archiver.json": new_manifest,
               "datapackage.json": pkg_bytes, "datapackage-digest.json": digest.encode()}
    for name, data in changes.items():
        rewrite(out, name, lambda _, d=data: d)
    result = run("verify", out, "--tsa-root", stamped["tsa"].root)
    assert result.exit_code == 1
    assert "the package's bytes are not those logs/evidence-" in result.output, result.output


def test_a_relative_database_path_is_stamped_and_verified(upstream, tsa, tmp_path, monkeypatch):
    seed_upstream(upstream, tmp_path, extra_config=f'[timestamps]\ntsa_urls = ["{tsa.url}"]\n')
    monkeypatch.chdir(tmp_path)
    result = run("archive", "--db", "archive.db", SEEDS)
    assert result.exit_code == 0 and "1 token(s) granted, 0 failed" in result.output, result.output
    assert run("verify", "--db", "archive.db", "--tsa-root", tsa.root).exit_code == 0


def test_a_media_file_replaced_together_with_its_recorded_hash_is_still_caught_by_the_stamped_list(stamped):
    """Changing a file and the archive's own record of its hash leaves the timestamped list disagreeing."""
    db = stamped["db"]
    media_id, path = rows(db, "SELECT id, path FROM media WHERE sha256 IS NOT NULL ORDER BY id")[0]
    forged = b"\xff\xd8\xff\xe0 another picture"
    (db.parent / path).write_bytes(forged)
    with open_db(db) as conn:
        conn.execute("UPDATE media SET sha256 = ? WHERE id = ?", [hashlib.sha256(forged).hexdigest(), media_id])
        conn.conn.commit()
    result = run("verify", "--db", db, "--tsa-root", stamped["tsa"].root)
    assert result.exit_code == 1
    assert f"MISMATCH timestamp {path}: media file named in" in result.output, result.output
