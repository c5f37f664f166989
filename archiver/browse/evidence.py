"""Proof in the browser: a snapshot's WARC record shown and downloadable, a post's evidence as WACZ or JSON,
an article as captured (sandboxed, nothing runs, nothing is fetched)."""
from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from datasette.utils.asgi import Response

from archiver.browse.web import load_post, no_archive, not_found, open_archive, page, rows, urls_for
from archiver.errors import ArchiverError
from archiver.evidence.export import export_wacz
from archiver.evidence.warcs import exchange_lengths, read_exchange

BODY_SHOWN = 2 * 1024 * 1024  # bytes of a body a record page shows; the WARC record download has it all
# The frame of an article as captured: no script (sandbox without allow-scripts, and no script-src),
# no request anywhere (images only as data: URLs, styles only inline), framed only by our own pages.
CAPTURED_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
DOWNLOAD_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; sandbox"}


async def record_page(datasette, request):
    """/-/archiver/snapshot/{id}[.json]: the response and request records of a snapshot, escaped."""
    db = await open_archive(datasette, request, "snapshots")
    if db is None:
        return no_archive()
    urls = urls_for(datasette, db.name)
    sid = int(request.url_vars["snapshot_id"])
    found = await rows(db, "SELECT * FROM snapshots WHERE id = ?", [sid])
    if not found:
        return not_found(urls, db.name, f"snapshot {sid}")
    snap = found[0]
    record = await _exchange(db, snap)
    if request.url_vars.get("format") == "json":
        return Response.json({"snapshot": snap, **record},
                             headers={"x-content-type-options": "nosniff"})
    return page("archiver_record.html", snap=snap, record=record, urls=urls, dbname=db.name,
                title=f"Snapshot {sid}: {snap['source']} of post {snap['post_id']}")


async def _exchange(db, snap: dict) -> dict:
    """What a record page shows of a snapshot: WARC headers, HTTP headers, the body as text."""
    if not snap["warc_file"] or not db.path:
        return {"error": "this snapshot has no WARC record"}
    folder = Path(db.path).resolve().parent
    try:
        response, req = await asyncio.to_thread(read_exchange, folder, snap["warc_file"], snap["warc_offset"],
                                                snap["warc_length"])
    except ArchiverError as exc:
        return {"error": str(exc)}
    body = response.payload
    ctype = next((v for k, v in response.http_headers if k.lower() == "content-type"), "")
    return {
        "warc": {"file": snap["warc_file"], "offset": snap["warc_offset"], "length": snap["warc_length"],
                 "headers": response.warc_headers},
        "response": {"status": response.http_status, "headers": response.http_headers},
        "request": {"headers": req.http_headers, "warc_headers": req.warc_headers} if req else None,
        "content_type": ctype, "size": len(body), **_shown(body, ctype),
    }


def _shown(body: bytes, ctype: str) -> dict:
    """The body as a page shows it: JSON pretty-printed, text (HTML as source) as text, else nothing."""
    cut = body[:BODY_SHOWN]
    kind = ctype.split(";")[0].strip().lower()
    if kind.endswith("json") or cut[:1] in (b"{", b"["):
        try:
            return {"body_kind": "json", "body_text": json.dumps(json.loads(body), indent=2, ensure_ascii=False),
                    "truncated": False}
        except ValueError:
            pass
    if kind.startswith("text/") or kind.endswith(("xml", "javascript")) or not kind:
        text = cut.decode("utf-8", errors="replace")
        if "\x00" not in text:
            return {"body_kind": "text", "body_text": text, "truncated": len(body) > BODY_SHOWN}
    return {"body_kind": "binary", "body_text": None, "truncated": False}


async def record_download(datasette, request):
    """/-/archiver/snapshot/{id}.warc.gz: the snapshot's response and request records, as written."""
    db = await open_archive(datasette, request, "snapshots")
    refused = Response.text("not found", status=404, headers=DOWNLOAD_HEADERS)
    if db is None or not db.path:
        return refused
    found = await rows(db, "SELECT warc_file, warc_offset, warc_length FROM snapshots WHERE id = ?",
                       [int(request.url_vars["snapshot_id"])])
    if not found or not found[0]["warc_file"]:
        return refused
    snap = found[0]
    folder = Path(db.path).resolve().parent
    path = (folder / snap["warc_file"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return refused

    def read() -> bytes:
        with open(path, "rb") as fh:
            length, request_length = exchange_lengths(fh, snap["warc_offset"], snap["warc_length"])
            fh.seek(snap["warc_offset"])
            return fh.read(length + request_length)

    data = await asyncio.to_thread(read)
    name = f"snapshot-{int(request.url_vars['snapshot_id'])}.warc.gz"
    return Response(data, content_type="application/warc",
                    headers={**DOWNLOAD_HEADERS, "content-disposition": f'attachment; filename="{name}"'})


async def post_json(datasette, request):
    """/-/archiver/post/{id}.json: everything the post's card shows, as JSON."""
    db = await open_archive(datasette, request, "posts")
    if db is None:
        return no_archive()
    post = await load_post(db, int(request.url_vars["post_id"]))
    if post is None:
        return Response.json({"error": "no such post"}, status=404)
    return Response.json(post, headers={"x-content-type-options": "nosniff",
                                        "content-disposition": f'inline; filename="post-{post["id"]}.json"'})


async def post_wacz(datasette, request):
    """/-/archiver/post/{id}.wacz: the post's evidence as a WACZ package, built now from the archive."""
    db = await open_archive(datasette, request, "posts", "snapshots")
    if db is None or not db.path:
        return no_archive()
    pid = int(request.url_vars["post_id"])
    tmp = Path(tempfile.mkdtemp(prefix="archiver-wacz-"))
    try:
        out = tmp / f"post-{pid}.wacz"
        try:
            await db.execute_fn(lambda conn: export_wacz(conn, db.path, out, post_ids=[pid]))
        except ArchiverError as exc:
            return Response.text(str(exc), status=404, headers=DOWNLOAD_HEADERS)
        data = out.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Response(data, content_type="application/zip",
                    headers={**DOWNLOAD_HEADERS, "content-disposition": f'attachment; filename="post-{pid}.wacz"'})


async def captured(datasette, request):
    """/-/archiver/version/{id}/captured: an article version's bytes as captured, inert."""
    db = await open_archive(datasette, request, "article_versions", "bodies")
    if db is None:
        return no_archive()
    found = await rows(db, "SELECT v.kind, v.encoding, v.sha256, b.content, b.by_reference FROM article_versions v "
                           "JOIN bodies b ON b.sha256 = v.sha256 WHERE v.id = ?", [int(request.url_vars["version_id"])])
    headers = {"content-security-policy": CAPTURED_CSP, "x-content-type-options": "nosniff",
               "referrer-policy": "no-referrer", "x-frame-options": "SAMEORIGIN"}
    if not found:
        return Response.text("not found", status=404, headers=headers)
    v = found[0]
    if v["by_reference"]:  # read from a web archive's record: its bytes are there, not in the database
        from archiver.evidence.warcs import stored_body

        folder = Path(db.path).parent
        v["content"] = await db.execute_fn(lambda conn: stored_body(conn, folder, v["sha256"]))
        if v["content"] is None:
            return Response.text("the WARC/ARC file this article was read from is not where the archive says",
                                 status=404, headers=headers)
    charset = v["encoding"] or "utf-8"
    kind = "text/html" if v["kind"] == "html" else "text/plain"
    return Response(v["content"], content_type=f"{kind}; charset={charset}", headers=headers)


ROUTES = [
    (r"^/-/archiver/snapshot/(?P<snapshot_id>\d{1,18})(?:\.(?P<format>json))?$", record_page),
    (r"^/-/archiver/snapshot/(?P<snapshot_id>\d{1,18})\.warc\.gz$", record_download),
    (r"^/-/archiver/post/(?P<post_id>\d{1,18})\.json$", post_json),
    (r"^/-/archiver/post/(?P<post_id>\d{1,18})\.wacz$", post_wacz),
    (r"^/-/archiver/version/(?P<version_id>\d{1,18})/captured$", captured),
]
