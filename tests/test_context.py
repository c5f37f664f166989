"""Posts in context (issue 14): quoted and replied-to posts kept as posts, media traced to its first upload,
the same picture found in other posts; all from built responses on the local upstream."""
from __future__ import annotations

import io
import random
import re

import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from archiver.cli import cli
from archiver.store.db import open_db
from tests.built import write_config
from tests.responses import Photo, Video, body, tombstone, tweet
from tests.upstream import fake_media

A, B, C, D = "1800000000000000001", "1800000000000000002", "1800000000000000003", "1800000000000000004"


def blockquote(handle: str, tweet_id: str) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en">A post</p>&mdash; Someone (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tweet_id}">May 1, 2024</a></blockquote>')


def serve(upstream, *tweets: dict) -> None:
    for t in tweets:
        upstream.route("/tweet-result", body(t), query={"id": t["id_str"]}, content_type="application/json")


def run(*args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def archive_page(tmp_path, upstream, html: str, depth: int | None = None):
    extra = f"[fetch]\ncontext_depth = {depth}\n" if depth is not None else ""
    write_config(tmp_path, upstream, extra)
    upstream.route("/oembed", "", status=404)
    upstream.route("/wayback/available", {"archived_snapshots": {}}, content_type="application/json")
    upstream.route("/cdx/search/cdx", "", content_type="text/plain")
    (tmp_path / "a.html").write_text(f"<html><body>{html}</body></html>", encoding="utf-8")
    db_path = tmp_path / "archive.db"
    run("archive", "--db", db_path, tmp_path / "a.html")
    return db_path


def posts(db_path) -> dict[str, dict]:
    db = open_db(db_path)
    rows = {r["platform_post_id"]: r for r in db.query("SELECT * FROM posts")}
    db.close()
    return rows


def relations(db_path) -> set[tuple[str, str, str, str]]:
    db = open_db(db_path)
    found = set(db.execute(
        "SELECT a.platform_post_id, r.relation, b.platform_post_id, r.learned_from FROM post_relations r "
        "JOIN posts a ON a.id = r.post_id JOIN posts b ON b.id = r.related_post_id").fetchall())
    db.close()
    return found


def syndication_asked(upstream) -> list[str]:
    return [r.query.get("id") for r in upstream.requests if r.path == "/tweet-result"]


def picture(seed: int, objects: int = 1) -> Image.Image:
    """A drawn photograph: a shared background (the scene) and objects placed by ``objects``, with grain."""
    im = Image.new("RGB", (320, 240))
    draw = ImageDraw.Draw(im)
    for y in range(240):
        draw.line([(0, y), (320, y)], fill=(90 + y // 2, 150 + y // 5, 235 - y // 2) if y < 130 else (80, 110, 50))
    rng = random.Random(objects)
    for _ in range(6):
        x, y, w, h = rng.randint(0, 240), rng.randint(60, 170), rng.randint(30, 80), rng.randint(30, 70)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randint(0, 255) for _ in range(3)), outline=(0, 0, 0))
    grain, px = random.Random(seed), im.load()
    for _ in range(320 * 240 // 6):
        x, y, n = grain.randrange(320), grain.randrange(240), grain.randint(-20, 20)
        px[x, y] = tuple(max(0, min(255, c + n)) for c in px[x, y])
    return im


def jpeg(im: Image.Image, quality: int = 90, scale: float = 1.0) -> bytes:
    if scale != 1.0:
        im = im.resize((int(im.width * scale), int(im.height * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --- quotes and replies ------------------------------------------------------------------------------

def test_a_quoted_post_becomes_a_post_from_the_body_without_a_request_of_its_own(upstream, tmp_path):
    c = tweet(C, "carol", "Carol", "The first word.", "2024-04-30T08:00:00.000Z")
    b = tweet(B, "bob", "Bob", "Quoting Carol.", "2024-04-30T09:00:00.000Z", quoted=c)
    a = tweet(A, "alice", "Alice", "Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=b)
    serve(upstream, a, b, c)
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A))
    found = posts(db_path)
    assert syndication_asked(upstream) == [A]  # B came with A's body: no request of its own
    assert set(found) == {A, B}  # C is two links away: the default depth is one
    quoted = found[B]
    assert (quoted["status"], quoted["handle"], quoted["context_depth"]) == ("archived", "bob", 1)
    assert quoted["text"] == "Quoting Carol." and quoted["created_at"] == "2024-04-30T09:00:00Z"
    assert quoted["next_fetch_at"] > quoted["archived_at"]  # re-checked on the schedule, like any post
    assert relations(db_path) == {(A, "quotes", B, "syndication")}
    db = open_db(db_path)
    [(source, outcome, sha, parent_sha)] = db.execute(
        "SELECT s.source, s.outcome, s.sha256, (SELECT sha256 FROM snapshots WHERE post_id = ? AND source = "
        "'syndication') FROM snapshots s WHERE s.post_id = ?", [found[A]["id"], quoted["id"]]).fetchall()
    assert (source, outcome, sha) == ("syndication-carried", "archived", parent_sha)  # the same bytes, as evidence
    [(snapshot_id,)] = db.execute("SELECT snapshot_id FROM post_relations").fetchall()
    assert db["snapshots"].get(snapshot_id)["post_id"] == found[A]["id"]
    db.close()
    check = CliRunner().invoke(cli, ["verify", "--db", str(db_path)])  # the carried snapshot's bytes check out
    assert check.exit_code == 0, check.output
    # its own re-check is one request, and then reads what it quotes (still within depth only)
    run("fetch", "--db", db_path, "--post", quoted["id"])
    assert syndication_asked(upstream) == [A, B]
    assert set(posts(db_path)) == {A, B}


def test_a_quote_of_a_quote_goes_as_deep_as_asked_and_no_further(upstream, tmp_path):
    d = tweet(D, "dave", "Dave", "Where it began.", "2024-04-29T08:00:00.000Z")
    c = tweet(C, "carol", "Carol", "Quoting Dave.", "2024-04-30T08:00:00.000Z", quoted=d)
    b = tweet(B, "bob", "Bob", "Quoting Carol.", "2024-04-30T09:00:00.000Z", quoted=c)
    a = tweet(A, "alice", "Alice", "Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=b)
    serve(upstream, a, b, c, d)
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A), depth=2)
    run("fetch", "--db", db_path, "--post", posts(db_path)[B]["id"])
    found = posts(db_path)
    assert {k: found[k]["context_depth"] for k in found} == {A: 0, B: 1, C: 2}
    run("fetch", "--db", db_path, "--post", found[C]["id"])
    assert set(posts(db_path)) == {A, B, C}  # D would be three links away
    assert relations(db_path) == {(A, "quotes", B, "syndication"), (B, "quotes", C, "syndication")}


def test_context_depth_zero_keeps_only_what_articles_embed(upstream, tmp_path):
    b = tweet(B, "bob", "Bob", "Quoted.", "2024-04-30T09:00:00.000Z")
    serve(upstream, tweet(A, "alice", "Alice", "Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=b))
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A), depth=0)
    assert set(posts(db_path)) == {A} and relations(db_path) == set()


def test_a_post_both_embedded_and_quoted_is_one_post(upstream, tmp_path):
    b = tweet(B, "bob", "Bob", "Quoted and embedded.", "2024-04-30T09:00:00.000Z")
    serve(upstream, tweet(A, "alice", "Alice", "Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=b), b)
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A) + blockquote("bob", B))
    found = posts(db_path)
    assert set(found) == {A, B} and found[B]["context_depth"] == 0
    assert relations(db_path) == {(A, "quotes", B, "syndication")}
    # seen first as a quote, then embedded by another article: the same row, now at depth 0
    serve(upstream, tweet(C, "carol", "Carol", "Quoting Dave.", "2024-04-30T08:00:00.000Z",
                          quoted=tweet(D, "dave", "Dave", "Hi.", "2024-04-29T08:00:00.000Z")))
    (tmp_path / "b.html").write_text(f"<html><body>{blockquote('carol', C)}</body></html>")
    run("archive", "--db", db_path, tmp_path / "b.html")
    assert posts(db_path)[D]["context_depth"] == 1
    (tmp_path / "c.html").write_text(f"<html><body>{blockquote('dave', D)}</body></html>")
    run("archive", "--no-fetch", "--db", db_path, tmp_path / "c.html")
    after = posts(db_path)
    assert after[D]["context_depth"] == 0 and len(after) == 4


def test_a_reply_chain_of_three(upstream, tmp_path):
    first = tweet(C, "carol", "Carol", "Who saw the eclipse?", "2024-04-08T18:00:00.000Z")
    second = tweet(B, "bob", "Bob", "@carol I did.", "2024-04-08T18:05:00.000Z", parent=first)
    third = tweet(A, "alice", "Alice", "@bob Photos?", "2024-04-08T18:10:00.000Z", parent=second)
    serve(upstream, first, second, third)
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A), depth=2)
    run("fetch", "--db", db_path, "--post", posts(db_path)[B]["id"])
    found = posts(db_path)
    assert {k: (v["status"], v["context_depth"]) for k, v in found.items()} == {
        A: ("archived", 0), B: ("archived", 1), C: ("archived", 2)}
    assert relations(db_path) == {(A, "replies_to", B, "syndication"), (B, "replies_to", C, "syndication")}
    assert found[C]["text"] == "Who saw the eclipse?"


def test_a_deleted_parent_is_fetched_and_found_gone_while_its_reply_stays(upstream, tmp_path):
    reply = tweet(A, "alice", "Alice", "@bob That is not what you said.", "2024-05-01T10:00:00.000Z")
    reply.update(in_reply_to_status_id_str=B, in_reply_to_screen_name="bob", in_reply_to_user_id_str="2")
    serve(upstream, reply)
    upstream.route("/tweet-result", body(tombstone()), query={"id": B}, content_type="application/json")
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A))
    found = posts(db_path)
    assert found[B]["status"] == "pending" and found[B]["next_fetch_at"]  # named only: due now
    assert relations(db_path) == {(A, "replies_to", B, "syndication")}
    run("fetch", "--db", db_path)
    found = posts(db_path)
    assert found[A]["status"] == "archived"
    assert found[B]["status"] == "unavailable" and "deleted" in found[B]["status_reason"]
    assert syndication_asked(upstream).count(B) == 1


# --- media ------------------------------------------------------------------------------------------

def test_media_re_posted_from_another_account_names_its_first_upload(upstream, tmp_path):
    video = Video("ClipCode01", "1790000000000000009", origin=("origin_news", B), file="vid/640x360/clip.mp4")
    a = tweet(A, "alice", "Alice", "Look at this.", "2024-05-01T10:00:00.000Z", video=video)
    serve(upstream, a)
    upstream.route("/amplify_video/1790000000000000009/vid/640x360/clip.mp4", fake_media("c.mp4", 40_000),
                   content_type="video/mp4")
    poster = jpeg(picture(3))
    upstream.route("/amplify_video_thumb/1790000000000000009/img/poster.jpg", poster, content_type="image/jpeg")
    upstream.route("/tweet-result", body(tweet(B, "origin_news", "Origin News", "Our footage.",
                                               "2024-04-30T07:00:00.000Z", video=Video("ClipCode00", "1790000000000000009"))),
                   query={"id": B}, content_type="application/json")
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A))
    found = posts(db_path)
    origin = found[B]
    assert (origin["handle"], origin["status"], origin["context_depth"]) == ("origin_news", "pending", 1)
    assert relations(db_path) == {(A, "media_from", B, "syndication")}
    db = open_db(db_path)
    media = {m["kind"]: m for m in db.query("SELECT * FROM media WHERE post_id = ?", [found[A]["id"]])}
    assert set(media) == {"video", "poster"}
    assert media["video"]["source_post_id"] == origin["id"]
    assert media["poster"]["perceptual_hash"] and media["video"]["perceptual_hash"] is None
    [(media_id,)] = db.execute("SELECT media_id FROM post_relations").fetchall()
    assert media_id == media["video"]["id"]
    db.close()
    run("fetch", "--db", db_path)  # the origin is fetched like any other post
    assert posts(db_path)[B]["status"] == "archived"


def test_the_same_picture_re_encoded_matches_and_another_of_the_same_scene_does_not(upstream, tmp_path):
    scene_one, scene_other = picture(5, objects=1), picture(5, objects=2)
    files = {"P1": jpeg(scene_one, 92), "P2": jpeg(scene_one, 40, scale=0.6), "P3": jpeg(scene_other, 92)}
    ids = {"P1": A, "P2": B, "P3": C}
    for name, data in files.items():
        upstream.route(f"/media/{name}", data, content_type="image/jpeg")
        serve(upstream, tweet(ids[name], f"user{name}", name, f"Photo {name}", "2024-05-01T10:00:00.000Z",
                              photos=(Photo(f"code{name}", name),)))
    db_path = archive_page(tmp_path, upstream, "".join(blockquote(f"user{n}", i) for n, i in ids.items()))
    db = open_db(db_path)
    by_post = {r[0]: r[1] for r in db.execute(
        "SELECT p.platform_post_id, m.id FROM media m JOIN posts p ON p.id = m.post_id")}
    pairs = {(a, b) for a, b in db.execute("SELECT media_id, other_media_id FROM media_matches")}
    assert pairs == {(by_post[A], by_post[B]), (by_post[B], by_post[A])}
    db.close()


# --- browsing -------------------------------------------------------------------------------------------

def test_cards_view_facets_and_the_picture_query_show_the_context(upstream, tmp_path):
    from tests.test_browse import get, rows

    photo = jpeg(picture(9))
    upstream.route("/media/SharedPic", photo, content_type="image/jpeg")
    upstream.route("/media/SharedPicSmall", jpeg(picture(9), 50, scale=0.5), content_type="image/jpeg")
    parent = tweet(C, "carol", "Carol", "Before anyone.", "2024-04-28T08:00:00.000Z",
                   photos=(Photo("codeC", "SharedPicSmall"),))
    quoted = tweet(B, "bob", "Bob", "Quoted <b>bold</b>.", "2024-04-30T09:00:00.000Z")
    a = tweet(A, "alice", "Alice", "@carol Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=quoted, parent=parent,
              photos=(Photo("codeA", "SharedPic"),))
    serve(upstream, a)
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A))
    found = posts(db_path)
    card = get(db_path, f"/-/archiver/post/{found[A]['id']}").text
    assert f'<dt>Quotes</dt>\n    <dd class="relation-quotes"><a href="/-/archiver/post/{found[B]["id"]}">@bob</a>' in card
    assert f'<dt>Replying to</dt>\n    <dd class="relation-replies_to"><a href="/-/archiver/post/{found[C]["id"]}">@carol</a>' in card
    # the reply's photo is the parent's, larger: the same picture, first posted by the parent
    assert re.search(rf'picture (\d+) also appears in <a href="/-/archiver/post/{found[C]["id"]}">@carol</a>; '
                     r'first posted 2024-04-28T08:00:00Z', card)
    media_id = re.search(r"picture (\d+) also appears", card).group(1)
    assert f'/archive/picture_elsewhere?media={media_id}' in card
    back = get(db_path, f"/-/archiver/post/{found[B]['id']}").text
    assert "Quoted &lt;b&gt;bold&lt;/b&gt;." in back  # the quoted text as text, never markup
    assert f'<dt>Quoted by</dt>\n    <dd class="relation-by-quotes"><a href="/-/archiver/post/{found[A]["id"]}">@alice</a>' in back
    view = rows(db_path, "/archive/post_context")
    assert {(r["handle"], r["relation"], r["related_handle"]) for r in view} == {
        ("alice", "quotes", "bob"), ("alice", "replies_to", "carol")}
    facets = get(db_path, "/archive/post_relations.json?_facet=relation").json()["facet_results"]["relation"]["results"]
    assert {f["value"]: f["count"] for f in facets} == {"quotes": 1, "replies_to": 1}
    elsewhere = rows(db_path, f"/archive/picture_elsewhere?media={media_id}")
    assert [(r["handle"], r["posted_at"]) for r in elsewhere] == [("carol", "2024-04-28T08:00:00Z")]


def test_a_posts_package_brings_its_quoted_and_parent_posts_records(upstream, tmp_path):
    import json
    import zipfile

    parent = tweet(C, "carol", "Carol", "The question.", "2024-04-28T08:00:00.000Z")
    quoted = tweet(B, "bob", "Bob", "The quote.", "2024-04-30T09:00:00.000Z")
    serve(upstream, tweet(A, "alice", "Alice", "@carol Quoting Bob.", "2024-05-01T10:00:00.000Z", quoted=quoted,
                          parent=parent), tweet(D, "dave", "Dave", "Unrelated.", "2024-05-01T10:00:00.000Z"))
    db_path = archive_page(tmp_path, upstream, blockquote("alice", A) + blockquote("dave", D))
    found = posts(db_path)
    out = tmp_path / "a.wacz"
    result = CliRunner().invoke(cli, ["export", "--db", str(db_path), "--post", str(found[A]["id"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as z:
        package = json.loads(z.read("logs/archiver.json"))
    by_id = {p["platform_post_id"]: p for p in package["posts"]}
    assert set(by_id) == {A, B, C}  # the quoted and the parent post come along; an unrelated one does not
    assert {(r["relation"], r["related_platform_post_id"]) for r in by_id[A]["relations"]} == {
        ("quotes", B), ("replies_to", C)}
    assert [(r["relation"], r["from_platform_post_id"]) for r in by_id[B]["related_by"]] == [("quotes", A)]
    [carried] = by_id[B]["snapshots"]
    assert carried["source"] == "syndication-carried" and carried["package"]["length"] > 0  # its bytes: A's body
