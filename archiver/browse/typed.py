"""Parameters people type into Datasette's URLs, answered as a person would expect instead of an error page.

Datasette 0.65 answers ``?_sort=nope`` with a 500 and ``?_search="`` (an unbalanced quote) with an FTS5
syntax error. Before a request reaches it: a sort by a column the table or view does not have is a
400 that names the columns it has; a search with an odd number of double quotes is searched without them
(and one left empty is no search).
"""
from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlencode

from datasette.utils.asgi import Response

_SORTS = ("_sort", "_sort_desc")


def repair(app, datasette):
    """The ASGI app with typed table parameters checked or mended first."""
    async def asgi(scope, receive, send):
        if scope["type"] != "http" or not scope.get("query_string"):
            return await app(scope, receive, send)
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        names = {k for k, _ in params}
        if "_search" in names:
            mended = [(k, v.replace('"', "") if k == "_search" and v.count('"') % 2 else v) for k, v in params]
            params = [(k, v) for k, v in mended if k != "_search" or v.strip()]  # nothing left: no search
            scope = dict(scope, query_string=urlencode(params).encode("latin-1"))
        if names & set(_SORTS):
            refused = await _bad_sort(datasette, scope["path"], params)
            if refused is not None:
                return await refused.asgi_send(send)
        await app(scope, receive, send)
    return asgi


async def _bad_sort(datasette, path: str, params: list) -> Response | None:
    """A 400 naming the columns when a sort asks for one the table or view lacks; None otherwise."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if len(parts) != 2 or parts[0] not in datasette.databases:
        return None
    db = datasette.databases[parts[0]]
    table = parts[1].rsplit(".", 1)[0] if parts[1].endswith((".json", ".csv")) else parts[1]
    if await db.table_exists(table):
        columns = await db.table_columns(table)
    elif table in await db.view_names():
        columns = (await db.execute(f"SELECT * FROM [{table}] LIMIT 0")).columns
    else:
        return None
    for key, value in params:
        if key in _SORTS and value not in columns:
            return Response.text(f"Cannot sort {table} by {value!r}: it has no such column (it has: "
                                 f"{', '.join(columns)})", status=400)
    return None
