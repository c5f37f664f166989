"""The Datasette plugin: post cards, article pages, the media route, links from the tables to the cards.

Registered through the ``datasette`` entry point (``archiver = "archiver.browse.plugin"``).
Routes (the archive is the database named in the plugin config ``{"archiver": {"database": NAME}}``,
else the first attached database that has ``posts`` and ``snapshots`` tables):

- ``/-/archiver/`` the articles, each linking to its page;
- ``/-/archiver/post/{id}`` a post as a card, with its evidence;
- ``/-/archiver/article/{id}`` an article and the posts it embeds, as cards;
- ``/-/archiver/media/{id}`` the file of ``media`` row ``id``, only from ``<db stem>.files/media/``;
- ``/-/archiver/static/archiver.css``;
- the evidence pages of ``archiver.browse.evidence``: a snapshot's WARC record (``/-/archiver/snapshot/{id}``,
  ``.json``, ``.warc.gz``), a post as JSON or WACZ (``/-/archiver/post/{id}.json``, ``.wacz``), an article
  version as captured (``/-/archiver/version/{id}/captured``).

Every post field is untrusted: templates autoescape, links are built from escaped pieces and only for
http(s) URLs, and the pages carry a Content-Security-Policy that allows no script at all.
"""
from __future__ import annotations

import re

import markupsafe
from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response

from archiver.browse.access import LoginThrottle, guarded, wrap
import archiver.browse.lists as lists
from archiver.browse.evidence import ROUTES as EVIDENCE_ROUTES
from archiver.browse.typed import repair
from archiver.browse.web import (
    HERE, MEDIA_CSP, MEDIA_TYPES, archive_name, as_json, configured, linkify, load_post, media_file, no_archive,
    not_found, open_archive, page, rows, urls_for,
)
from archiver.store.views import VIEWS

__all__ = ["linkify", "media_file", "byte_range", "RANGE_CHUNK"]


# --- routes ----------------------------------------------------------------------------------------

async def post_page(datasette, request):
    db = await open_archive(datasette, request, "posts")
    if db is None:
        return no_archive()
    post = await load_post(db, int(request.url_vars["post_id"]))
    urls = urls_for(datasette, db.name)
    if post is None:
        return not_found(urls, db.name, f"post {int(request.url_vars['post_id'])}")
    if post.get("merged_into_id"):
        return Response.redirect(urls["post"](post["merged_into_id"]))
    title = f"{post['author_name'] or ''} (@{post['handle'] or '?'}) on {post['platform']}"
    return page("archiver_post.html", post=post, urls=urls, dbname=db.name, title=title)


async def article_page(datasette, request):
    db = await open_archive(datasette, request, "articles", "posts")
    if db is None:
        return no_archive()
    urls = urls_for(datasette, db.name)
    article_id = int(request.url_vars["article_id"])
    found = await rows(db, "SELECT * FROM articles WHERE id = ?", [article_id])
    if not found:
        return not_found(urls, db.name, f"article {article_id}")
    article = found[0]
    embedded = await rows(db, "SELECT post_id, min(id) AS first, surrounding FROM embeds WHERE article_id = ? "
                              "GROUP BY post_id ORDER BY min(id)", [article_id])
    posts = []
    for row in embedded:
        post = await load_post(db, row["post_id"])
        if post is not None:
            post["seen_with"] = row["surrounding"]  # what this article said just before it
            posts.append(post)
    counts: dict[str, int] = {}
    for p in posts:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    versions = await rows(db, "SELECT id, sha256, size, kind, http_status, fetched_at, warc_file, warc_offset, "
                               "embed_count, first_seen_at FROM article_versions WHERE article_id = ? ORDER BY id",
                           [article_id])
    if request.url_vars.get("format") == "json":
        return as_json({"article": article, "counts": counts, "versions": versions, "posts": posts})
    return page("archiver_article.html", article=article, posts=posts, groups=told_apart(posts), counts=counts,
                 versions=versions, urls=urls, dbname=db.name, title=article["title"] or article["source"])


def told_apart(posts: list[dict]) -> list[list[dict]]:
    """The posts in page order, those a reader cannot tell apart (no author, handle, text or media, the
    same platform, status and paragraph before them) in one group at the place of the first: 85 empty
    cards are one line."""
    groups: list[list[dict]] = []
    blank: dict[tuple, list[dict]] = {}
    for post in posts:
        if post.get("author_name") or post.get("handle") or post.get("text") or post.get("media"):
            groups.append([post])
            continue
        key = (post["platform"], post["status"], post.get("seen_with"))  # told apart by their paragraphs
        if key not in blank:
            blank[key] = []
            groups.append(blank[key])
        blank[key].append(post)
    return groups


async def index_page(datasette, request):
    """The articles, searched, filtered and paged; ``articles.json`` is the same list as data."""
    db = await open_archive(datasette, request, "articles", "posts")
    if db is None:
        return no_archive()
    urls = urls_for(datasette, db.name)
    params = lists.wanted(request)
    found = await lists.articles(db, params, rows)
    if request.url_vars.get("format") == "json":
        return as_json(found)
    links = lists.page_links(urls["index"], params, found["pages"])
    return page("archiver_index.html", urls=urls, dbname=db.name, page_links=links, title="Archived articles",
                json_link=lists.page_link(urls["articles_json"], params, found["page"]), **found)


async def gone_page(datasette, request):
    """The posts that are gone now, as cards, the latest to go first (``gone.json``: as data)."""
    db = await open_archive(datasette, request, "posts")
    if db is None:
        return no_archive()
    urls = urls_for(datasette, db.name)
    found = await lists.gone_posts(db, lists.wanted(request)["page"], rows)
    posts = [p for p in [await load_post(db, pid) for pid in found.pop("ids")] if p is not None]
    if request.url_vars.get("format") == "json":
        return as_json({**found, "posts": posts})
    links = lists.page_links(urls["gone"], {}, found["pages"])
    return page("archiver_gone.html", urls=urls, dbname=db.name, posts=posts, page_links=links, title="Gone posts",
                **found)


async def changes_page(datasette, request):
    """Every status change, newest first (``changes.json``: as data)."""
    db = await open_archive(datasette, request, "posts", "post_status_changes")
    if db is None:
        return no_archive()
    urls = urls_for(datasette, db.name)
    found = await lists.recent_changes(db, lists.wanted(request)["page"], rows)
    if request.url_vars.get("format") == "json":
        return as_json(found)
    links = lists.page_links(urls["changes"], {}, found["pages"])
    return page("archiver_changes.html", urls=urls, dbname=db.name, page_links=links, title="Recent changes", **found)


async def home(datasette):
    """``/``: people start from the cards (the tables are one link away)."""
    return Response.redirect(datasette.urls.path("-/archiver/"))


async def media_route(datasette, request):
    """Serve one media file by its row id; only from the archive's media folder, only known types."""
    db = await open_archive(datasette, request, "media")
    refused = Response.text("not found", status=404, headers={"x-content-type-options": "nosniff"})
    if db is None or not db.path:
        return refused
    found = await rows(db, "SELECT path FROM media WHERE id = ?", [int(request.url_vars["media_id"])])
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
    sheet = request.url_vars.get("sheet", "archiver")
    return Response((HERE / "static" / f"{sheet}.css").read_text(encoding="utf-8"), content_type="text/css",
                    headers={"x-content-type-options": "nosniff", "cache-control": "max-age=300"})


@hookimpl
def register_routes(datasette):
    # Every route asks for view-instance first: with passwords set, nothing answers an anonymous reader.
    return [(pattern, guarded(view)) for pattern, view in (
        (r"^/$", home),
        (r"^/-/archiver/?$", index_page),
        (r"^/-/archiver/articles\.(?P<format>json)$", index_page),
        (r"^/-/archiver/gone(?:\.(?P<format>json))?$", gone_page),
        (r"^/-/archiver/changes(?:\.(?P<format>json))?$", changes_page),
        (r"^/-/archiver/post/(?P<post_id>\d{1,18})$", post_page),
        (r"^/-/archiver/article/(?P<article_id>\d{1,18})(?:\.(?P<format>json))?$", article_page),
        (r"^/-/archiver/media/(?P<media_id>\d{1,18})$", media_route),
        (r"^/-/archiver/static/(?P<sheet>archiver|tables)\.css$", css_route),
        *EVIDENCE_ROUTES,
    )]


@hookimpl
def asgi_wrapper(datasette):
    config = configured(datasette)
    limit = config.get("login_failures")
    throttle = LoginThrottle(int(limit), float(config.get("lockout", 900))) if limit else None
    return lambda app: wrap(repair(app, datasette), throttle, datasette.urls.path("/-/login"))


# --- the tables link to the cards ------------------------------------------------------------------

# (table, column) -> what the cell links to
_CARD_LINKS = {
    ("posts", "platform_post_id"): "post",
    ("articles", "title"): "article",
}
# Wherever these columns appear (views, canned queries, tables), the id is a link to its card or record.
_ID_COLUMNS = {"post_id": "post", "related_post_id": "post", "article_id": "article", "snapshot_id": "snapshot",
               "last_archived_snapshot_id": "snapshot"}
_STATUS_COLUMNS = {("posts", "status"), ("posts_overview", "status"), ("posts_gone", "status_now"),
                   ("posts_gone", "to_status"), ("fetch_queue", "status"), ("post_status_changes", "to_status"),
                   ("post_status_changes", "from_status")}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    kind = _CARD_LINKS.get((table, column)) or _ID_COLUMNS.get(column)
    status = (table, column) in _STATUS_COLUMNS
    if not kind and not status:
        return None

    async def inner():
        if database != await archive_name(datasette):
            return None
        if status:
            if not isinstance(value, str):
                return None
            css = re.sub(r"[^a-z_]", "", value.lower())
            return markupsafe.Markup('<span class="archiver-status archiver-status-{}">{}</span>').format(css, value)
        # a foreign key Datasette expanded is {"value": id, "label": ...}
        cell = value.get("value") if isinstance(value, dict) else value
        try:  # in the tables the link goes by the row's id; in the views and queries the cell is the id
            pk = int(row["id"] if (table, column) in _CARD_LINKS else cell)
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        href = datasette.urls.path(f"-/archiver/{kind}/{pk}")
        label = value.get("label") if isinstance(value, dict) and value.get("label") else cell
        label = label if label not in (None, "") else ("card" if kind == "post" else "untitled")
        title = {"post": "show this post as a card", "article": "show this article's posts as cards",
                 "snapshot": "show this snapshot's WARC record"}[kind]
        return markupsafe.Markup('<a class="archiver-card-link" href="{}" title="{}">{}</a>').format(
            href, title, label)

    return inner


@hookimpl
def extra_css_urls(database, datasette):
    async def inner():
        if database and database == await archive_name(datasette):
            return [datasette.urls.path("-/archiver/static/archiver.css"),
                    datasette.urls.path("-/archiver/static/tables.css")]
        return []

    return inner


@hookimpl
def prepare_connection(conn, database, datasette):
    """With ``read_only`` in the plugin config (``archiver serve`` sets it), the archive's connections
    refuse every write, whatever a query or another plugin asks."""
    config = configured(datasette)
    if config.get("read_only") and database == config.get("database"):
        conn.execute("PRAGMA query_only = 1")
    conn.create_function("archiver_post_key", 1, post_key, deterministic=True)


def post_key(value) -> str | None:
    """``platform:post_id`` of a pasted post URL (x.com, twitter.com, mobile., query strings, any platform
    detection knows), by the same code detection uses; the value itself when it names no post."""
    if not isinstance(value, str):
        return value
    from archiver.platforms import load_platforms

    text = value.strip()
    if re.match(r"^[\w.-]+\.[a-z]{2,}/", text, re.IGNORECASE):  # pasted without its scheme
        text = "https://" + text
    for mod in load_platforms():
        try:
            ref = mod.parse_url(text)
        except (ValueError, TypeError):
            ref = None
        if ref is not None:
            return f"{ref.platform}:{ref.post_id}"
    return value.strip()


@hookimpl
def startup(datasette):
    """Datasette's plain error pages, whatever else is installed."""
    # py-wacz brings rich (through frictionless). Datasette 0.65's error page then calls rich's
    # print_exception for every error, 404s included, where no exception is being handled, and rich
    # raises ValueError there: the error page itself fails. (Imported here, not at the top: importing
    # datasette's plugin machinery while this module loads would register it half-defined.)
    import datasette.handle_exception as datasette_errors

    datasette_errors.rich = None
