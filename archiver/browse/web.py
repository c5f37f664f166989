"""What the archive's pages share: the archive database found, rows read, URLs built, untrusted text made safe."""
from __future__ import annotations

import re
import weakref
from pathlib import Path

import markupsafe
from datasette.utils.asgi import Response
from jinja2 import Environment, FileSystemLoader

from archiver.fetch.media import media_dir
from archiver.store.evidence import warc_ref_sql

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; frame-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")  # forms: the lists' search, a GET to this site
MEDIA_CSP = "default-src 'none'; sandbox"
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
# Only these file types are served from the media folder, by the extension archiver gave the file.
MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
               ".webp": "image/webp", ".mp4": "video/mp4"}
PROFILE_URLS = {
    "twitter": "https://twitter.com/{}",
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "threads": "https://www.threads.net/@{}",
    "bluesky": "https://bsky.app/profile/{}",
}
_SAFE_HANDLE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

_env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True)


# --- untrusted text -> safe markup -----------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"'`]+)"
    r"|(?P<bare>\b(?:pic\.(?:twitter|x)\.com|t\.co)/[A-Za-z0-9]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{1,30})",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"…"


def safe_url(url) -> str | None:
    """The URL when it is a plain http(s) URL, else None (never a javascript: or data: link)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if re.match(r"^https?://[^\s<>\"'`]+$", url, re.IGNORECASE):
        return url
    return None


def linkify(text, platform: str | None = None) -> markupsafe.Markup:
    """Escape ``text`` and turn its http(s) URLs, bare pic/t.co links and @mentions into links."""
    if text is None:
        return markupsafe.Markup("")
    text = str(text)
    out: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        trail = ""
        if m.lastgroup in ("url", "bare"):
            while token and token[-1] in _TRAILING:
                trail = token[-1] + trail
                token = token[:-1]
        href = None
        if m.lastgroup == "url":
            href = token
        elif m.lastgroup == "bare":
            href = "https://" + token
        elif m.lastgroup == "mention" and platform in PROFILE_URLS:
            href = PROFILE_URLS[platform].format(token[1:])
        out.append(str(markupsafe.escape(text[last:m.start()])))
        if href:
            out.append(str(markupsafe.Markup('<a href="{}" rel="nofollow noopener noreferrer">{}</a>').format(
                href, token)))
        else:
            out.append(str(markupsafe.escape(token)))
        out.append(str(markupsafe.escape(trail)))
        last = m.end()
    out.append(str(markupsafe.escape(text[last:])))
    return markupsafe.Markup("".join(out))


def profile_url(platform, handle) -> str | None:
    if platform in PROFILE_URLS and isinstance(handle, str) and _SAFE_HANDLE.fullmatch(handle):
        return PROFILE_URLS[platform].format(handle)
    return None


def filesize(n) -> str:
    if n is None:
        return ""
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


_env.filters["linkify"] = linkify
_env.filters["safe_url"] = safe_url
_env.filters["filesize"] = filesize
_env.globals["profile_url"] = profile_url


# --- which database is the archive -----------------------------------------------------------------

_inferred: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def configured(datasette) -> dict:
    """The plugin's settings (``{\"archiver\": {...}}`` in Datasette's config)."""
    return datasette.plugin_config("archiver") or {}


async def archive_database(datasette):
    """The Datasette ``Database`` of the archive, or None."""
    name = configured(datasette).get("database")
    if name:
        return datasette.databases.get(name)
    cached = _inferred.get(datasette)
    if cached and cached in datasette.databases:
        return datasette.databases[cached]
    for name, db in datasette.databases.items():
        if name.startswith("_") or db.is_memory:
            continue
        if await db.table_exists("posts") and await db.table_exists("snapshots"):
            _inferred[datasette] = name
            return db
    return None


async def archive_name(datasette) -> str | None:
    db = await archive_database(datasette)
    return db.name if db is not None else None


def media_file(db_path, relative) -> Path | None:
    """The file a ``media.path`` names, only when it lies inside the archive's media folder."""
    if not db_path or not isinstance(relative, str) or not relative or "\x00" in relative:
        return None
    root = media_dir(Path(db_path)).resolve()
    candidate = (Path(db_path).resolve().parent / relative).resolve()
    if candidate == root or not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    if candidate.suffix.lower() not in MEDIA_TYPES:
        return None
    return candidate


# --- reading what a page shows ---------------------------------------------------------------------

async def rows(db, sql, params=()) -> list[dict]:
    """The rows of a query on a Datasette database, as dicts."""
    return [dict(r) for r in (await db.execute(sql, params if isinstance(params, dict) else list(params))).rows]


async def load_post(db, post_id: int) -> dict | None:
    """A post with everything its card shows: media, snapshots, captures, history, articles."""
    found = await rows(db, "SELECT * FROM posts WHERE id = ?", [post_id])
    if not found:
        return None
    post = found[0]
    pid = post["id"]
    post["media"] = await rows(db, "SELECT * FROM media WHERE post_id = ? ORDER BY id", [pid])
    for m in post["media"]:
        m["is_video"] = (m.get("content_type") or "").startswith("video/") or m.get("kind") == "video"
    post["snapshots"] = await rows(
        db, "SELECT id, source, outcome, url, http_status, sha256, size, text, created_at, warc_file, warc_offset, "
            "warc_length, fetched_at FROM snapshots WHERE post_id = ? ORDER BY id", [pid])
    post["captures"] = await rows(
        db, "SELECT * FROM captures WHERE post_id = ? ORDER BY captured_at DESC, id", [pid])
    post["changes"] = await rows(
        db, "SELECT * FROM post_status_changes WHERE post_id = ? ORDER BY id", [pid])
    post["articles"] = await rows(
        db, "SELECT a.id, a.title, a.site_name, coalesce(a.canonical_url, a.url) AS url, a.source, "
            "min(e.detected_at) AS detected_at, group_concat(DISTINCT e.markup) AS markup "
            "FROM embeds e JOIN articles a ON a.id = e.article_id WHERE e.post_id = ? "
            "GROUP BY a.id ORDER BY min(e.id)", [pid])
    post["resolutions"] = await rows(
        db, "SELECT method, resolved_post_id, detail, resolved_at FROM resolutions WHERE post_id = ? ORDER BY id",
        [pid])
    post["timestamps"] = await post_timestamps(db, pid)
    post["context"] = await post_context(db, post, [m["id"] for m in post["media"]])
    post["diff"] = _last_two(post["snapshots"])
    archived = [s for s in post["snapshots"] if s["outcome"] == "archived" and s["text"]]
    post["platform_text"] = None
    if archived and _words(archived[-1]["text"]) != _words(post["text"]):
        post["platform_text"] = archived[-1]
    return post


_RELATED = ("SELECT r.relation, r.learned_from, r.first_seen_at, o.id, o.platform, o.handle, o.author_name, "
            "o.status, o.created_at FROM post_relations r JOIN posts o ON o.id = r.{other} WHERE r.{this} = ? "
            "ORDER BY r.relation, r.id")


async def post_context(db, post: dict, media_ids: list[int]) -> dict:
    """What a post points at and what points at it (quotes, replies_to, media_from, each way), and for each of
    its pictures the other posts showing the same picture, earliest first, with when it was first posted."""
    post_id = post["id"]
    try:
        out = await rows(db, _RELATED.format(other="related_post_id", this="post_id"), [post_id])
        into = await rows(db, _RELATED.format(other="post_id", this="related_post_id"), [post_id])
        alike = {}
        for media_id in media_ids:
            found = await rows(db, "SELECT p.id, p.platform, p.handle, p.created_at, mm.distance FROM media_matches mm "
                                   "JOIN media om ON om.id = mm.other_media_id JOIN posts p ON p.id = om.post_id "
                                   "WHERE mm.media_id = ? AND p.id != ? ORDER BY coalesce(p.created_at, om.fetched_at)",
                               [media_id, post_id])
            if found:
                dates = [d for d in [post.get("created_at")] + [f["created_at"] for f in found] if d]
                alike[media_id] = {"posts": found, "first_seen": min(dates) if dates else None}
    except Exception as exc:  # an archive from before posts in context: the tables are not there yet
        if "no such table" in str(exc):
            return {"out": [], "into": [], "alike": {}}
        raise
    return {"out": out, "into": into, "alike": alike}


async def post_timestamps(db, post_id: int) -> list[dict]:
    """The granted tokens whose lists name this post's snapshot bodies or WARC ranges, earliest first."""
    ref = warc_ref_sql("warc_file", "warc_offset", "warc_length")
    try:
        return await rows(db, f"""
            SELECT t.id, t.tsa_url, t.gen_time, t.serial_number, t.list_id, count(DISTINCT e.id) AS items
            FROM timestamps t JOIN evidence_items e ON e.list_id = t.list_id
            WHERE t.status = 'granted' AND (
              (e.kind = 'body' AND e.ref IN (SELECT sha256 FROM snapshots WHERE post_id = :p))
              OR (e.kind = 'warc' AND e.ref IN (SELECT {ref} FROM fetch_attempts
                                                WHERE post_id = :p AND warc_file IS NOT NULL)))
            GROUP BY t.id ORDER BY t.gen_time, t.id""", {"p": post_id})
    except Exception as exc:  # an archive from before timestamps: the tables are not there yet
        if "no such table" in str(exc):
            return []
        raise


def _last_two(snapshots: list[dict]) -> tuple | None:
    """(older id, newer id, source) of the latest two snapshots of one source, for the diff query."""
    by_source: dict[str, list[int]] = {}
    for s in snapshots:
        by_source.setdefault(s["source"], []).append(s["id"])
    pairs = [(ids[-2], ids[-1], source) for source, ids in by_source.items() if len(ids) >= 2]
    return max(pairs, key=lambda p: p[1]) if pairs else None


def _words(text) -> str:
    return " ".join(str(text or "").split())


def urls_for(datasette, dbname: str) -> dict:
    """URL builders the templates use (all under Datasette's base_url)."""
    u = datasette.urls
    return {
        "post": lambda pid: u.path(f"-/archiver/post/{int(pid)}"),
        "article": lambda aid: u.path(f"-/archiver/article/{int(aid)}"),
        "media": lambda mid: u.path(f"-/archiver/media/{int(mid)}"),
        "post_json": lambda pid: u.path(f"-/archiver/post/{int(pid)}.json"),
        "post_wacz": lambda pid: u.path(f"-/archiver/post/{int(pid)}.wacz"),
        "record": lambda sid, ext="": u.path(f"-/archiver/snapshot/{int(sid)}{ext}"),
        "captured": lambda vid: u.path(f"-/archiver/version/{int(vid)}/captured"),
        "index": u.path("-/archiver/"),
        "gone": u.path("-/archiver/gone"),
        "changes": u.path("-/archiver/changes"),
        "articles_json": u.path("-/archiver/articles.json"),
        "article_json": lambda aid: u.path(f"-/archiver/article/{int(aid)}.json"),
        "css": u.path("-/archiver/static/archiver.css"),
        "row": lambda table, pk: u.row(dbname, table, _q(pk)),
        "table": lambda table: u.table(dbname, table),
        "database": u.database(dbname),
        "query": lambda name, **params: u.query(dbname, name) + (
            "?" + "&".join(f"{k}={_q(v)}" for k, v in params.items()) if params else ""),
    }


def _q(value) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")


async def open_archive(datasette, request, *tables: str):
    """The archive, once the actor may see each of ``tables`` in it (Datasette's own permission checks:
    the plugin's pages show nothing the table pages would hide); None when no archive is attached."""
    db = await archive_database(datasette)
    if db is not None:
        for table in tables:
            await datasette.ensure_permissions(request.actor, [
                ("view-table", (db.name, table)), ("view-database", db.name), "view-instance"])
    return db


def no_archive() -> Response:
    """The page shown when no archive database is attached."""
    return page("archiver_message.html", status=404, title="No archive",
                 message="No archive database is attached.", urls=None, dbname=None)


def not_found(urls, dbname, what: str) -> Response:
    """The 404 page for something the archive does not hold ("There is no post 7.")."""
    return page("archiver_message.html", status=404, title="Not found", message=f"There is no {what}.",
                urls=urls, dbname=dbname)


def as_json(data, status: int = 200) -> Response:
    """A card page's ``.json`` twin: the same data the page shows."""
    return Response.json(data, status=status, headers={"x-content-type-options": "nosniff"}, default=str)


def page(template: str, status: int = 200, **context) -> Response:
    """A template rendered with the pages' security headers."""
    html = _env.get_template(template).render(**context)
    return Response.html(html, status=status, headers=dict(PAGE_HEADERS))


