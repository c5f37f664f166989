"""The card lists people start from: articles (search, filters, paging), gone posts, recent changes.

Each list is a page and a ``.json`` twin with the same data. Parameters (all optional) of the articles
list: ``q`` (words of an article's title, URL, site or text, or of its posts' text, handle or author), ``platform``,
``status`` (a post status), ``gone=1`` (articles with a gone post), ``site``, ``from``/``to``
(``published_at``, ISO dates), ``posts=none`` (the articles that embed no post, shown apart), ``page``.
"""
from __future__ import annotations

from urllib.parse import urlencode

from archiver.models import POST_STATUSES
from archiver.store.views import GONE_SQL, VIEWS

PAGE_SIZE = 50
_FILTERS = ("q", "platform", "status", "gone", "site", "from", "to", "posts")


def wanted(request) -> dict:
    """The list parameters of a request, stripped; unknown ones dropped."""
    args = request.args
    out = {k: (args.get(k) or "").strip() for k in _FILTERS if (args.get(k) or "").strip()}
    try:
        out["page"] = max(1, min(int(args.get("page") or 1), 10**6))
    except ValueError:
        out["page"] = 1
    return out


def _where(params: dict) -> tuple[str, dict]:
    """WHERE clause over the articles_overview rows (``o``) for the given parameters."""
    clauses, values = [], {}
    if params.get("posts") == "none":
        clauses.append("o.posts = 0")
    else:
        clauses.append("o.posts > 0")
    if params.get("q"):
        for n, word in enumerate(params["q"].split()[:8]):
            key = f"w{n}"
            values[key] = f"%{word}%"
            values[f"f{n}"] = '"' + word.replace('"', "") + '"'  # one FTS5 phrase: no query syntax
            clauses.append(
                f"(o.title LIKE :{key} OR o.location LIKE :{key} OR o.site_name LIKE :{key} OR EXISTS ("
                f"SELECT 1 FROM embeds e JOIN posts p ON p.id = e.post_id WHERE e.article_id = o.article_id "
                f"AND (p.text LIKE :{key} OR p.handle LIKE :{key} OR p.author_name LIKE :{key}))"
                f" OR o.article_id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :f{n}))")
    for field, column in (("platform", "p.platform"), ("status", "p.status")):
        if params.get(field):
            values[field] = params[field]
            clauses.append(f"EXISTS (SELECT 1 FROM embeds e JOIN posts p ON p.id = e.post_id "
                           f"WHERE e.article_id = o.article_id AND {column} = :{field})")
    if params.get("gone"):
        clauses.append("o.gone > 0")
    if params.get("site"):
        values["site"] = params["site"]
        clauses.append("o.site_name = :site")
    if params.get("from"):
        values["from"] = params["from"][:10]
        clauses.append("substr(o.published_at, 1, 10) >= :from")
    if params.get("to"):
        values["to"] = params["to"][:10]
        clauses.append("substr(o.published_at, 1, 10) <= :to")
    return " AND ".join(clauses), values


async def articles(db, params: dict, rows) -> dict:
    """One page of the articles list, with the total, the pages, the filters' choices and the count of
    articles that embed no post."""
    where, values = _where(params)
    base = f"FROM ({VIEWS['articles_overview']}) o WHERE {where}"
    total = (await rows(db, f"SELECT count(*) AS n {base}", values))[0]["n"]
    pages, page, window = _paging(total, params.get("page", 1))
    found = await rows(db, f"SELECT o.* {base} ORDER BY o.last_seen_at DESC, o.article_id DESC {window}", values)
    without = (await rows(db, f"SELECT count(*) AS n FROM ({VIEWS['articles_overview']}) o WHERE o.posts = 0"))[0]["n"]
    sites = [r["site_name"] for r in await rows(
        db, "SELECT site_name FROM articles WHERE site_name IS NOT NULL GROUP BY site_name ORDER BY count(*) DESC "
            "LIMIT 50")]
    platforms = [r["platform"] for r in await rows(db, "SELECT DISTINCT platform FROM posts ORDER BY platform")]
    return {"articles": found, "total": total, "page": page, "pages": pages, "page_size": PAGE_SIZE,
            "first": (page - 1) * PAGE_SIZE + 1 if total else 0, "last": (page - 1) * PAGE_SIZE + len(found),
            "without_posts": without, "sites": sites, "platforms": platforms, "statuses": POST_STATUSES,
            "params": {k: v for k, v in params.items() if k != "page"}}


async def gone_posts(db, page: int, rows) -> dict:
    """Posts that are gone now (unavailable, not found, protected), the latest to go first."""
    total = (await rows(db, f"SELECT count(*) AS n FROM posts WHERE status IN {GONE_SQL} "
                            "AND merged_into_id IS NULL"))[0]["n"]
    pages, page, window = _paging(total, page)
    ids = [r["id"] for r in await rows(
        db, f"SELECT id FROM posts WHERE status IN {GONE_SQL} AND merged_into_id IS NULL "
            f"ORDER BY status_changed_at DESC, id DESC {window}")]
    return {"ids": ids, "total": total, "page": page, "pages": pages}


async def recent_changes(db, page: int, rows) -> dict:
    """Status changes, newest first: which post went from what to what, when and why."""
    total = (await rows(db, "SELECT count(*) AS n FROM post_status_changes"))[0]["n"]
    pages, page, window = _paging(total, page)
    changes = await rows(
        db, "SELECT c.id, c.post_id, c.from_status, c.to_status, c.changed_at, c.reason, p.platform, p.handle, "
            "p.author_name, p.text FROM post_status_changes c JOIN posts p ON p.id = c.post_id "
            f"ORDER BY c.changed_at DESC, c.id DESC {window}")
    return {"changes": changes, "total": total, "page": page, "pages": pages}


def _paging(total: int, page: int) -> tuple[int, int, str]:
    """(pages, the page asked for within them, its LIMIT/OFFSET clause) of a list of ``total`` rows."""
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    return pages, page, f"LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}"


def page_links(base: str, params: dict, pages: int) -> dict[int, str]:
    """Every page's URL of a list, its filters kept."""
    return {n: page_link(base, params, n) for n in range(1, pages + 1)}


def page_link(base: str, params: dict, page: int) -> str:
    """The URL of another page of the same list, its filters kept."""
    query = {k: v for k, v in params.items() if k != "page"}
    if page > 1:
        query["page"] = page
    return base + ("?" + urlencode(query) if query else "")
