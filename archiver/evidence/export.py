"""Exporting evidence as a WACZ package: the WARC records of chosen posts and articles, and what explains them.

The package is built by Webrecorder's ``wacz`` (py-wacz): it indexes the WARC (CDXJ), writes the pages,
hashes every file into ``datapackage.json`` and that file into ``datapackage-digest.json``. What archiver
adds goes in through py-wacz's own door for extra files (``logs/``): ``archiver.json`` (the posts, their
resolutions, status history, snapshots, media and the articles' embed context, each WARC record's place
in the package) and, when the archive is timestamped, the evidence lists and RFC 3161 tokens covering it.
"""
from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from archiver import __version__
from archiver.clock import utcnow
from archiver.errors import ArchiverError
from archiver.evidence.warcs import iter_range, member_length, stored_body
from archiver.fetch.warc import resource_record
from archiver.store.db import dict_rows
from archiver.store.evidence import lists_covering, warc_ref

PACKAGE_WARC = "archiver-export.warc.gz"
EXTRAS = "logs"  # the folder py-wacz adds extra files to (its --log-directory)
MANIFEST = "archiver.json"


class ExportError(ArchiverError):
    """What was asked for cannot be exported (no such post or article, nothing to export)."""


@dataclass
class ExportSummary:
    """What one export wrote."""

    path: Path
    posts: int = 0
    articles: int = 0
    records: int = 0  # WARC record ranges copied from the archive
    resources: int = 0  # resource records built (articles read from files, post renderings)
    bytes: int = 0  # size of the package
    missing: list = field(default_factory=list)  # "file@offset" ranges the archive lists but cannot read


def select(db, post_ids=(), article_ids=(), all_: bool = False) -> tuple[list[int], list[int]]:
    """The posts and articles an export covers; an article brings all the posts it embeds."""
    if all_:
        posts = [r[0] for r in db.execute("SELECT id FROM posts WHERE merged_into_id IS NULL ORDER BY id")]
        return posts, [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id")]
    posts: list[int] = []
    for pid in post_ids:
        row = db.execute("SELECT id, merged_into_id FROM posts WHERE id = ?", [pid]).fetchone()
        if row is None:
            raise ExportError(f"no post {pid} in this archive")
        posts.append(row[1] or row[0])
    for aid in article_ids:
        if db.execute("SELECT 1 FROM articles WHERE id = ?", [aid]).fetchone() is None:
            raise ExportError(f"no article {aid} in this archive")
        posts += [r[0] for r in db.execute(
            "SELECT DISTINCT coalesce(p.merged_into_id, p.id) FROM embeds e JOIN posts p ON p.id = e.post_id "
            "WHERE e.article_id = ? ORDER BY 1", [aid])]
    chosen = list(dict.fromkeys(posts))
    have = set(chosen)
    return chosen + [c for c in _context_of(db, chosen) if c not in have], list(dict.fromkeys(article_ids))


def _context_of(db, post_ids: list[int]) -> list[int]:
    """The posts the chosen ones quote, answer or took media from (one level): their records come along."""
    if not post_ids:
        return []
    marks = ", ".join("?" * len(post_ids))
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT related_post_id FROM post_relations WHERE post_id IN ({marks}) ORDER BY related_post_id",
        post_ids)]


def export_wacz(db, db_path, out, *, post_ids=(), article_ids=(), all_: bool = False,
                title: str | None = None, log=None) -> ExportSummary:
    """Write a WACZ package of the chosen posts and articles to `out`, atomically; py-wacz's chatter to `log`."""
    posts, articles = select(db, post_ids, article_ids, all_)
    if not posts and not articles:
        raise ExportError("nothing to export: the archive holds no post or article")
    out = Path(out)
    folder = Path(db_path).resolve().parent
    summary = ExportSummary(out, posts=len(posts), articles=len(articles))
    with tempfile.TemporaryDirectory(dir=out.resolve().parent, prefix=".archiver-export-") as tmp:
        tmp = Path(tmp)
        (tmp / EXTRAS).mkdir()
        pages: list[dict] = []
        with open(tmp / PACKAGE_WARC, "wb") as warc, open(tmp / EXTRAS / MANIFEST, "w", encoding="utf-8") as manifest:
            writer = _PackageWriter(warc, folder, summary)
            manifest.write(json.dumps({"format": "archiver-evidence-1", "tool": f"archiver/{__version__}",
                                       "exported_at": utcnow(), "archive": Path(db_path).name})[:-1])
            manifest.write(', "articles": [')
            for i, aid in enumerate(articles):
                manifest.write(("," if i else "") + "\n" + json.dumps(_article(db, aid, writer, pages), default=str))
            manifest.write('\n], "posts": [')
            for i, pid in enumerate(posts):
                manifest.write(("," if i else "") + "\n" + json.dumps(_post(db, pid, writer, pages), default=str))
            manifest.write('\n], "timestamps": ' + json.dumps(_timestamps(db, folder, writer, tmp / EXTRAS)))
            manifest.write(', "missing": ' + json.dumps(summary.missing) + "}\n")
        _write_pages(tmp / "pages.jsonl", pages, title)
        built = tmp / "package.wacz"
        _run_wacz(["create", "-o", str(built), "-p", str(tmp / "pages.jsonl"), "-l", str(tmp / EXTRAS),
                   "--title", title or _default_title(posts, articles), "--desc",
                   f"Exported by archiver/{__version__} from {Path(db_path).name}", str(tmp / PACKAGE_WARC)], log)
        os.replace(built, out)
    summary.bytes = out.stat().st_size
    return summary


class _PackageWriter:
    """Appends records to the package's WARC: ranges copied byte for byte, or resource records built here."""

    def __init__(self, fh, folder: Path, summary: ExportSummary):
        self.fh, self.folder, self.summary = fh, folder, summary
        self.copied: dict[tuple, dict] = {}
        self.bodies: set[str] = set()
        self.media: set[str] = set()

    def body(self, sha256: str | None) -> None:
        """Note a stored body the package's records hold (for the timestamps that cover it)."""
        if sha256:
            self.bodies.add(sha256)

    def copy(self, file: str, offset: int, length: int | None) -> dict | None:
        """Copy the records at file@offset (length None: the one gzip member there); where they now lie."""
        key = (file, offset)
        if key in self.copied:
            return self.copied[key]
        path = self.folder / file
        try:
            with open(path, "rb") as src:
                length = length or member_length(src, offset)
                start, digest = self.fh.tell(), hashlib.sha256()
                for chunk in iter_range(src, offset, length):
                    digest.update(chunk)
                    self.fh.write(chunk)
        except (OSError, ValueError) as exc:
            self.summary.missing.append(f"{file}@{offset}: {exc}")
            return None
        place = {"source_file": file, "source_offset": offset, "length": length,
                 "package_file": f"archive/{PACKAGE_WARC}", "package_offset": start, "sha256": digest.hexdigest()}
        self.copied[key] = place
        self.summary.records += 1
        return place

    def resource(self, uri: str, body: bytes, content_type: str, date: str, headers: dict) -> dict:
        """Append a resource record; where it lies."""
        data = resource_record(uri, body, content_type, date, headers)
        start = self.fh.tell()
        self.fh.write(data)
        self.summary.resources += 1
        return {"package_file": f"archive/{PACKAGE_WARC}", "package_offset": start, "length": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "uri": uri}


def _article(db, aid: int, writer: _PackageWriter, pages: list) -> dict:
    article = dict_rows(db.execute("SELECT * FROM articles WHERE id = ?", [aid]))[0]
    versions = dict_rows(db.execute("SELECT * FROM article_versions WHERE article_id = ? ORDER BY id", [aid]))
    for v in versions:
        writer.body(v["sha256"])
        if v["warc_file"]:
            offset, length = v.get("warc_span_offset"), v.get("warc_span_length")
            v["package"] = writer.copy(v["warc_file"], offset if length else v["warc_offset"], length)
            uri = v["url"]
        elif v.get("source_file") and v["source_file"].lower().endswith(".warc.gz"):
            # read from a web archive's record: that record, byte for byte (a gzip member like the package's own)
            v["package"] = writer.copy(v["source_file"], v["source_offset"], v["source_length"])
            uri = v["url"] or _article_uri(article, v)
        else:
            body = stored_body(db, writer.folder, v["sha256"])
            uri = _article_uri(article, v)
            ctype = f"text/{'html' if v['kind'] == 'html' else 'plain'}; charset={v['encoding'] or 'utf-8'}"
            if body is None:
                v["package"] = None
                writer.summary.missing.append(f"body {v['sha256']} of article version {v['id']}")
            else:
                v["package"] = writer.resource(uri, body, ctype, v["first_seen_at"], {
                    "X-Archiver-Source": article["source"], "X-Archiver-Sha256": v["sha256"],
                    "X-Archiver-Article-Version": str(v["id"])})
        if v.get("package") and uri.startswith(("http://", "https://")):
            pages.append({"url": uri, "ts": v["fetched_at"] or v["first_seen_at"],
                          "title": v["title"] or article["title"] or article["source"]})
    article["versions"] = versions
    article["embeds"] = dict_rows(db.execute(
        "SELECT id, article_version_id, post_id, ordinal, platform, markup, context, position, embed_url, handle, "
        "date, date_text, surrounding, detector, detected_at FROM embeds WHERE article_id = ? ORDER BY id", [aid]))
    return article


def _timestamps(db, folder: Path, writer: _PackageWriter, extras: Path) -> list:
    """The evidence lists naming anything this package holds, and their tokens, copied into the package."""
    refs = {"warc": [warc_ref(f, o, p["length"]) for (f, o), p in writer.copied.items()],
            "body": sorted(writer.bodies), "media": sorted(writer.media)}
    ids = sorted({i for kind, r in refs.items() for i in lists_covering(db, kind, r)})
    out = []
    for lid in ids:
        row = db.execute("SELECT path, sha256, created_at FROM evidence_lists WHERE id = ?", [lid]).fetchone()
        entry = {"list": _extra(folder / row[0], extras, writer), "sha256": row[1], "created_at": row[2],
                 "tokens": []}
        for t in dict_rows(db.execute("SELECT * FROM timestamps WHERE list_id = ? AND status = 'granted' ORDER BY id",
                                      [lid])):
            entry["tokens"].append({"file": _extra(folder / t["token_path"], extras, writer), "tsa_url": t["tsa_url"],
                                    "gen_time": t["gen_time"], "serial_number": t["serial_number"],
                                    "sha256": t["token_sha256"]})
        out.append(entry)
    return out


def _extra(path: Path, extras: Path, writer: _PackageWriter) -> str | None:
    """Copy a file into the package's extra files; its path in the package, or None when unreadable."""
    try:
        shutil.copyfile(path, extras / path.name)
    except OSError as exc:
        writer.summary.missing.append(f"{path.name}: {exc}")
        return None
    return f"{EXTRAS}/{path.name}"


def _article_uri(article: dict, version: dict) -> str:
    if version["url"]:
        return version["url"]
    source = article["source"]
    if source.startswith("stdin:"):
        return f"urn:archiver:stdin:{version['sha256']}"
    return Path(source).as_uri() if source.startswith("/") else f"urn:archiver:source:{source}"


def _post(db, pid: int, writer: _PackageWriter, pages: list) -> dict:
    post = dict_rows(db.execute("SELECT * FROM posts WHERE id = ?", [pid]))[0]
    ids = [pid] + [r[0] for r in db.execute("SELECT id FROM posts WHERE merged_into_id = ?", [pid])]
    marks = ", ".join("?" * len(ids))
    q = lambda sql: dict_rows(db.execute(sql.format(marks=marks), ids))  # noqa: E731
    post["merged_posts"] = ids[1:]
    post["status_changes"] = q("SELECT * FROM post_status_changes WHERE post_id IN ({marks}) ORDER BY id")
    post["resolutions"] = q("SELECT * FROM resolutions WHERE post_id IN ({marks}) ORDER BY id")
    post["snapshots"] = q("SELECT id, post_id, source, outcome, url, final_url, http_status, sha256, size, text, "
                          "created_at, warc_file, warc_offset, warc_length, fetched_at, tool_version "
                          "FROM snapshots WHERE post_id IN ({marks}) ORDER BY id")
    post["media"] = q("SELECT * FROM media WHERE post_id IN ({marks}) ORDER BY id")
    post["captures"] = q("SELECT * FROM captures WHERE post_id IN ({marks}) ORDER BY id")
    post["relations"] = q("SELECT r.*, o.platform_post_id AS related_platform_post_id, o.handle AS related_handle "
                          "FROM post_relations r JOIN posts o ON o.id = r.related_post_id "
                          "WHERE r.post_id IN ({marks}) ORDER BY r.id")
    post["related_by"] = q("SELECT r.*, o.platform_post_id AS from_platform_post_id, o.handle AS from_handle "
                           "FROM post_relations r JOIN posts o ON o.id = r.post_id "
                           "WHERE r.related_post_id IN ({marks}) ORDER BY r.id")
    post["embeds"] = q("SELECT e.id, e.article_id, a.url AS article_url, a.title AS article_title, a.source AS "
                       "article_source, e.article_version_id, e.ordinal, e.markup, e.context, e.position, "
                       "e.embed_url, e.handle, e.author_name, e.date, e.date_text, e.text, e.raw, e.surrounding, "
                       "e.detector, "
                       "e.detected_at FROM embeds e JOIN articles a ON a.id = e.article_id "
                       "WHERE e.post_id IN ({marks}) ORDER BY e.id")
    attempts = q("SELECT id, post_id, source, url, final_url, http_status, outcome, attempted_at, warc_file, "
                 "warc_offset, warc_length FROM fetch_attempts WHERE post_id IN ({marks}) AND warc_file IS NOT NULL "
                 "ORDER BY id")
    for a in attempts:
        a["package"] = writer.copy(a["warc_file"], a["warc_offset"], a["warc_length"])
    for s in post["snapshots"]:
        writer.body(s["sha256"])
    writer.media.update(m["path"] for m in post["media"] if m.get("path"))
    post["records"] = attempts
    if not attempts:  # fetched before attempts kept their WARC place: the responses the snapshots name
        for s in post["snapshots"]:
            if s["warc_file"]:
                s["package"] = writer.copy(s["warc_file"], s["warc_offset"], s["warc_length"])
        for m in post["media"]:
            if m.get("warc_file"):
                m["package"] = writer.copy(m["warc_file"], m["warc_offset"], None)
    url = post["canonical_url"] or ""
    if url.startswith(("http://", "https://")):
        stamp = utcnow()
        post["rendering"] = writer.resource(url, _rendering(post).encode("utf-8"), "text/html; charset=utf-8", stamp,
                                            {"X-Archiver-Rendering-Of-Post": str(pid)})
        pages.append({"url": url, "ts": stamp, "title": _post_title(post)})
    return post


def _post_title(post: dict) -> str:
    who = f"@{post['handle']}" if post.get("handle") else post["platform"]
    text = " ".join((post.get("text") or "").split())
    return f"{who}: {text[:90]}" if text else f"{who} post {post.get('platform_post_id') or post['id']}"


def _rendering(post: dict) -> str:
    """The post as archiver knows it, as a small static page (escaped, no script): not the platform's page."""
    e = html.escape
    rows = "".join(
        f"<li>{e(s['source'])}: {e(s['outcome'])} at {e(s['fetched_at'] or '')} "
        f"(<a href=\"{e(s['url'] or '')}\">{e(s['url'] or '')}</a>, sha256 {e(s['sha256'])})</li>"
        for s in post["snapshots"])
    media = "".join(
        f"<li><a href=\"{e(m['url'])}\">{e(m['url'])}</a> sha256 {e(m['sha256'] or '(not kept)')}</li>"
        for m in post["media"])
    changes = "".join(f"<li>{e(c['changed_at'])}: {e(str(c['from_status']))} -> {e(c['to_status'])} "
                      f"({e(c['reason'] or '')})</li>" for c in post["status_changes"])
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'; img-src *; style-src 'unsafe-inline'\">"
        f"<title>{e(_post_title(post))}</title></head><body>"
        f"<p><em>Rendered by archiver/{e(__version__)} from what it archived; this is not a capture of "
        f"{e(post['platform'])}. The captures are the other records of this package.</em></p>"
        f"<h1>{e(post.get('author_name') or '')} @{e(post.get('handle') or '')}</h1>"
        f"<p>{e(post.get('text') or '')}</p><p>{e(post.get('created_at') or post.get('created_date') or '')}</p>"
        f"<p>Status: {e(post['status'])} since {e(post.get('status_changed_at') or '')}</p>"
        f"<h2>Snapshots</h2><ul>{rows}</ul><h2>Media</h2><ul>{media}</ul><h2>Status history</h2><ul>{changes}</ul>"
        "</body></html>")


def _write_pages(path: Path, pages: list, title: str | None) -> None:
    seen = set()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": title or "Pages"}) + "\n")
        for page in pages:
            if page["url"] in seen:
                continue
            seen.add(page["url"])
            fh.write(json.dumps(page) + "\n")


def _default_title(posts: list, articles: list) -> str:
    return f"archiver evidence: {len(posts)} post(s), {len(articles)} article(s)"


def _run_wacz(args: list[str], log) -> None:
    from wacz.main import main as wacz_main

    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):  # our stdout is data; py-wacz prints progress there
        code = wacz_main(args)
    if log is not None:
        log.write(chatter.getvalue())
    if code:
        raise ExportError(f"py-wacz could not build the package: {chatter.getvalue().strip()[-300:]}")
