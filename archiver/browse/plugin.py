"""The Datasette plugin: post cards, article pages, the media route, links from the tables to the cards.

Registered through the ``datasette`` entry point (``archiver = "archiver.browse.plugin"``).
Routes (the archive is the database named in the plugin config ``{"archiver": {"database": NAME}}``,
else the first attached database that has ``posts`` and ``snapshots`` tables):

- ``/-/archiver/`` the articles, each linking to its page;
- ``/-/archiver/post/{id}`` a post as a card, with its evidence;
- ``/-/archiver/article/{id}`` an article and the posts it embeds, as cards;
- ``/-/archiver/media/{id}`` the file of ``media`` row ``id``, only from ``<db stem>.files/media/``;
- ``/-/archiver/static/archiver.css``.

Every post field is untrusted: templates autoescape, links are built from escaped pieces and only for
http(s) URLs, and the pages carry a Content-Security-Policy that allows no script at all.
"""
from __future__ import annotations

import re
import weakref
from pathlib import Path

import markupsafe
from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response
from jinja2 import Environment, FileSystemLoader

from archiver.store.views import VIEWS
from archiver.fetch.media import media_dir

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
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
    if platform in PROFILE_URLS and isinstance(handle, str) and _SAFE_HANDLE.match(handle):
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


def _configured(datasette) -> dict:
    return datasette.plugin_config("archiver") or {}


async def archive_database(datasette):
    """The Datasette ``Database`` of the archive, or None."""
    name = _configured(datasette).get("database")
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


async def _archive_name(datasette) -> str | None:
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

async def _rows(db, sql, params=()) -> list[dict]:
    return [dict(r) for r in (await db.execute(sql, list(params))).rows]


async def load_post(db, post_id: int) -> dict | None:
    """A post with everything its card shows: media, snapshots, captures, history, articles."""
    found = await _rows(db, "SELECT * FROM posts WHERE id = ?", [post_id])
    if not found:
        return None
    post = found[0]
    pid = post["id"]
    post["media"] = await _rows(db, "SELECT * FROM media WHERE post_id = ? ORDER BY id", [pid])
    for m in post["media"]:
        m["is_video"] = (m.get("content_type") or "").startswith("video/") or m.get("kind") == "video"
    post["snapshots"] = await _rows(
        db, "SELECT id, source, outcome, url, http_status, sha256, size, text, created_at, warc_file, warc_offset, "
            "warc_length, fetched_at FROM snapshots WHERE post_id = ? ORDER BY id", [pid])
    post["captures"] = await _rows(
        db, "SELECT * FROM captures WHERE post_id = ? ORDER BY captured_at DESC, id", [pid])
    post["changes"] = await _rows(
        db, "SELECT * FROM post_status_changes WHERE post_id = ? ORDER BY id", [pid])
    post["articles"] = await _rows(
        db, "SELECT a.id, a.title, a.site_name, coalesce(a.canonical_url, a.url) AS url, a.source, "
            "min(e.detected_at) AS detected_at, group_concat(DISTINCT e.markup) AS markup "
            "FROM embeds e JOIN articles a ON a.id = e.article_id WHERE e.post_id = ? "
            "GROUP BY a.id ORDER BY min(e.id)", [pid])
    post["resolutions"] = await _rows(
        db, "SELECT method, resolved_post_id, detail, resolved_at FROM resolutions WHERE post_id = ? ORDER BY id",
        [pid])
    archived = [s for s in post["snapshots"] if s["outcome"] == "archived" and s["text"]]
    post["platform_text"] = None
    if archived and _words(archived[-1]["text"]) != _words(post["text"]):
        post["platform_text"] = archived[-1]
    return post


def _words(text) -> str:
    return " ".join(str(text or "").split())


def _urls(datasette, dbname: str) -> dict:
    """URL builders the templates use (all under Datasette's base_url)."""
    u = datasette.urls
    return {
        "post": lambda pid: u.path(f"-/archiver/post/{int(pid)}"),
        "article": lambda aid: u.path(f"-/archiver/article/{int(aid)}"),
        "media": lambda mid: u.path(f"-/archiver/media/{int(mid)}"),
        "index": u.path("-/archiver/"),
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


async def _open(datasette, request, *tables: str):
    """The archive, once the actor may see each of ``tables`` in it (Datasette's own permission checks:
    the plugin's pages show nothing the table pages would hide); None when no archive is attached."""
    db = await archive_database(datasette)
    if db is not None:
        for table in tables:
            await datasette.ensure_permissions(request.actor, [
                ("view-table", (db.name, table)), ("view-database", db.name), "view-instance"])
    return db


def _no_archive() -> Response:
    return _page("archiver_message.html", status=404, title="No archive",
                 message="No archive database is attached.", urls=None, dbname=None)


def _page(template: str, status: int = 200, **context) -> Response:
    html = _env.get_template(template).render(**context)
    return Response.html(html, status=status, headers=dict(PAGE_HEADERS))


# --- routes ----------------------------------------------------------------------------------------

async def post_page(datasette, request):
    db = await _open(datasette, request, "posts")
    if db is None:
        return _no_archive()
    post = await load_post(db, int(request.url_vars["post_id"]))
    urls = _urls(datasette, db.name)
    if post is None:
        return _page("archiver_message.html", status=404, title="Not found",
                     message=f"There is no post {int(request.url_vars['post_id'])}.", urls=urls, dbname=db.name)
    if post.get("merged_into_id"):
        return Response.redirect(urls["post"](post["merged_into_id"]))
    title = f"{post['author_name'] or ''} (@{post['handle'] or '?'}) on {post['platform']}"
    return _page("archiver_post.html", post=post, urls=urls, dbname=db.name, title=title)


async def article_page(datasette, request):
    db = await _open(datasette, request, "articles", "posts")
    if db is None:
        return _no_archive()
    urls = _urls(datasette, db.name)
    article_id = int(request.url_vars["article_id"])
    found = await _rows(db, "SELECT * FROM articles WHERE id = ?", [article_id])
    if not found:
        return _page("archiver_message.html", status=404, title="Not found",
                     message=f"There is no article {article_id}.", urls=urls, dbname=db.name)
    article = found[0]
    ids = [r["post_id"] for r in await _rows(
        db, "SELECT post_id FROM embeds WHERE article_id = ? GROUP BY post_id ORDER BY min(id)", [article_id])]
    posts = [p for p in [await load_post(db, pid) for pid in ids] if p is not None]
    counts: dict[str, int] = {}
    for p in posts:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    versions = await _rows(db, "SELECT id, sha256, size, kind, http_status, fetched_at, warc_file, warc_offset, "
                               "embed_count, first_seen_at FROM article_versions WHERE article_id = ? ORDER BY id",
                           [article_id])
    return _page("archiver_article.html", article=article, posts=posts, counts=counts, versions=versions,
                 urls=urls, dbname=db.name, title=article["title"] or article["source"])


async def index_page(datasette, request):
    db = await _open(datasette, request, "articles")
    if db is None:
        return _no_archive()
    urls = _urls(datasette, db.name)
    # the view's own SQL, so that the page works on an archive whose views are not created yet
    articles = await _rows(db, f"SELECT * FROM ({VIEWS['articles_overview']}) "
                               "ORDER BY last_seen_at DESC, article_id DESC LIMIT 500")
    return _page("archiver_index.html", articles=articles, urls=urls, dbname=db.name, title="Archived articles")


async def media_route(datasette, request):
    """Serve one media file by its row id; only from the archive's media folder, only known types."""
    db = await _open(datasette, request, "media")
    refused = Response.text("not found", status=404, headers={"x-content-type-options": "nosniff"})
    if db is None or not db.path:
        return refused
    found = await _rows(db, "SELECT path FROM media WHERE id = ?", [int(request.url_vars["media_id"])])
    if not found:
        return refused
    path = media_file(db.path, found[0]["path"])
    if path is None:
        return refused
    headers = {"content-security-policy": MEDIA_CSP, "x-content-type-options": "nosniff",
               "cache-control": "max-age=31536000, immutable", "accept-ranges": "bytes"}
    content_type = MEDIA_TYPES[path.suffix.lower()]
    wanted = request.headers.get("range")
    if wanted is None:
        return AsgiFileDownload(path, content_type=content_type, headers=headers)
    size = path.stat().st_size
    span = byte_range(wanted, size)
    if span is None:  # several ranges or a malformed header: the whole file, as RFC 9110 allows
        return AsgiFileDownload(path, content_type=content_type, headers=headers)
    if span == ():
        return Response.text("range not satisfiable", status=416,
                             headers={**headers, "content-range": f"bytes */{size}"})
    start, end = span
    with open(path, "rb") as fh:
        fh.seek(start)
        body = fh.read(end - start + 1)
    return Response(body, status=206, content_type=content_type,
                    headers={**headers, "content-range": f"bytes {start}-{start + len(body) - 1}/{size}",
                             "content-length": str(len(body))})


_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")
RANGE_CHUNK = 4 * 1024 * 1024  # most bytes one 206 answer carries; a video player asks again for more


def byte_range(header: str, size: int) -> tuple[int, int] | tuple | None:
    """(first, last) byte of a single ``Range: bytes=`` request, capped at RANGE_CHUNK bytes.

    () when it cannot be satisfied (416); None when the header is not one range we serve (send all).
    """
    m = _RANGE.fullmatch(header.strip())
    if not m or not (m.group(1) or m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:  # bytes=-N: the last N bytes
        if int(last) == 0:
            return ()
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
    if start >= size:
        return ()
    return start, min(end, start + RANGE_CHUNK - 1)


async def css_route(request):
    return Response((HERE / "static" / "archiver.css").read_text(encoding="utf-8"), content_type="text/css",
                    headers={"x-content-type-options": "nosniff", "cache-control": "max-age=300"})


@hookimpl
def register_routes(datasette):
    return [
        (r"^/-/archiver/?$", index_page),
        (r"^/-/archiver/post/(?P<post_id>\d{1,18})$", post_page),
        (r"^/-/archiver/article/(?P<article_id>\d{1,18})$", article_page),
        (r"^/-/archiver/media/(?P<media_id>\d{1,18})$", media_route),
        (r"^/-/archiver/static/archiver\.css$", css_route),
    ]


# --- the tables link to the cards ------------------------------------------------------------------

# (table, column) -> what the cell links to
_CARD_LINKS = {
    ("posts", "platform_post_id"): "post",
    ("posts_overview", "post_id"): "post",
    ("posts_gone", "post_id"): "post",
    ("fetch_queue", "post_id"): "post",
    ("articles", "title"): "article",
    ("articles_overview", "article_id"): "article",
}
_STATUS_COLUMNS = {("posts", "status"), ("posts_overview", "status"), ("posts_gone", "status_now"),
                   ("posts_gone", "to_status"), ("fetch_queue", "status"), ("post_status_changes", "to_status"),
                   ("post_status_changes", "from_status")}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    kind = _CARD_LINKS.get((table, column))
    status = (table, column) in _STATUS_COLUMNS
    if not kind and not status:
        return None

    async def inner():
        if database != await _archive_name(datasette):
            return None
        if status:
            if not isinstance(value, str):
                return None
            css = re.sub(r"[^a-z_]", "", value.lower())
            return markupsafe.Markup('<span class="archiver-status archiver-status-{}">{}</span>').format(css, value)
        try:  # in the tables the link goes by the row's id; in the views the cell is the id
            pk = int(row["id"] if table in ("posts", "articles") else value)
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        href = datasette.urls.path(f"-/archiver/{kind}/{pk}")
        label = value if value not in (None, "") else ("card" if kind == "post" else "untitled")
        title = "show this post as a card" if kind == "post" else "show this article's posts as cards"
        return markupsafe.Markup('<a class="archiver-card-link" href="{}" title="{}">{}</a>').format(
            href, title, label)

    return inner


@hookimpl
def extra_css_urls(database, datasette):
    async def inner():
        if database and database == await _archive_name(datasette):
            return [datasette.urls.path("-/archiver/static/archiver.css")]
        return []

    return inner


@hookimpl
def prepare_connection(conn, database, datasette):
    """With ``read_only`` in the plugin config (``archiver serve`` sets it), the archive's connections
    refuse every write, whatever a query or another plugin asks."""
    config = _configured(datasette)
    if config.get("read_only") and database == config.get("database"):
        conn.execute("PRAGMA query_only = 1")
