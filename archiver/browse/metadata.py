"""Datasette 0.65 metadata for an archive: descriptions, labels, sorts, facets, search, canned queries.

``build_metadata("archive")`` returns the dict that ``Datasette(metadata=...)`` takes; the
database name is the archive file's stem (Datasette names databases that way).
"""
from __future__ import annotations

import copy

from archiver.store.views import GONE_SQL

TITLE = "archiver: social posts embedded in news articles"
DESCRIPTION = (
    "Every post an archived article embeds, what it said and showed, when it was archived, whether it is "
    "still there, and the evidence behind every row (SHA-256 of each body kept, WARC file and offset). "
    "Start with articles_overview or posts_overview; a post's card is linked from its id."
)
LICENSE = "Posts and media remain their authors'; kept for preservation and research"
SOURCE = "News articles and the platforms' public endpoints, fetched by archiver"

_STATUS = ("pending (not fetched yet or no answer), archived, unavailable (tombstone: deleted or hidden from "
           "logged-out readers), not_found, protected, failed (8 failures in a row)")

TABLES: dict[str, dict] = {
    "articles": {
        "description": "One row per article source (file path or URL); its metadata is that of its latest version.",
        "label_column": "title",
        "sort_desc": "last_seen_at",
        "facets": ["site_name", "kind", {"date": "published_at"}],
        "fts_table": "articles_fts",
        "columns": {
            "source": "The file path or URL the article was read from (unique).",
            "url": "The URL it was fetched from (after redirects), if fetched.",
            "canonical_url": "The canonical URL the page declares.",
            "title": "Title from JSON-LD, OpenGraph or <title>.",
            "site_name": "The publication.",
            "published_at": "Publication date the page declares, in ISO 8601: UTC with a Z when the page gave a "
                            "time and a zone, the date alone when it gave no time; empty when it is no date.",
            "published_text": "The publication date as the page wrote it.",
            "latest_sha256": "SHA-256 of the latest version's bytes (in bodies).",
            "versions": "Distinct contents seen (article_versions).",
            "first_seen_at": "When archiver first read it (UTC).",
            "last_seen_at": "When archiver last read it (UTC).",
            "source_id": "The feed or folder that brought it, if any.",
        },
    },
    "article_versions": {
        "description": "One row per distinct content of an article (by SHA-256), with how and when it was read.",
        "sort_desc": "first_seen_at",
        "facets": ["kind", "http_status", "detector_version"],
        "columns": {
            "sha256": "SHA-256 of the exact bytes read; the bytes are in bodies.",
            "http_status": "HTTP status when fetched by URL.",
            "encoding": "Character encoding used to decode it.",
            "warc_file": "WARC file holding the HTTP exchange, when fetched by URL.",
            "warc_offset": "Byte offset of the response record in warc_file.",
            "embed_count": "Embedded posts detected in this version.",
            "detector_version": "Version of the detection rules that read it.",
        },
    },
    "bodies": {
        "description": "Every body stored once, by SHA-256: article bytes and every snapshot response.",
        "sort_desc": "first_seen_at",
        "columns": {"sha256": "SHA-256 of content.", "size": "Bytes.", "content": "The exact bytes."},
    },
    "embeds": {
        "description": "An article version showing a post: where, in what markup, found by which detector.",
        "sort_desc": "detected_at",
        "facets": ["platform", "markup", "context", "detector"],
        "columns": {
            "article_id": "The article (shown by title).",
            "article_version_id": "The version it was found in.",
            "post_id": "The post (shown by handle).",
            "ordinal": "Order of the embed in the version.",
            "markup": "How the post was embedded (blockquote, iframe, flattened text...).",
            "context": "Where in the page it was found.",
            "position": "Character offset in the page.",
            "text": "The post's text as the article showed it.",
            "raw": "The embed's markup or text, verbatim.",
            "surrounding": "The article's paragraph just before the embed: what the page said of it.",
            "detector": "The signature that found it.",
            "detected_at": "When it was detected (UTC).",
        },
    },
    "posts": {
        "description": "One row per platform post, however many articles embed it. "
                       "Its platform_post_id links to its card.",
        "label_column": "handle",
        "sort_desc": "first_seen_at",
        "facets": ["platform", "status", "handle", {"date": "created_date"}],
        "fts_table": "posts_fts",
        "columns": {
            "platform_post_id": "The platform's id of the post; empty while unresolved. Links to the post's card.",
            "text": "What the post said (from the article, or from the platform when the article lacked it).",
            "canonical_url": "Link to the original post.",
            "status": _STATUS + ".",
            "status_changed_at": "When the status last changed (UTC); every change is in post_status_changes.",
            "next_fetch_at": "When it is fetched again (UTC).",
            "archived_at": "When it was first archived (UTC).",
            "resolved_via": "How its id was found when the article lacked it (see resolutions).",
            "merged_into_id": "Set when this sighting turned out to be another post.",
        },
    },
    "post_status_changes": {
        "description": "Every status change of every post, with its time and reason (insert-only).",
        "sort_desc": "changed_at",
        "facets": ["to_status", "from_status", {"date": "changed_at"}],
        "columns": {"from_status": "Status before.", "to_status": "Status after.", "changed_at": "When (UTC)."},
    },
    "endpoint_limits": {
        "description": "Upstream endpoints that answered 429 (too many requests): paused until, and slowed until "
                       "(their rate divided by slowdown). Every run starts from here.",
        "label_column": "endpoint",
        "columns": {
            "endpoint": "What was asked: wayback-cdx, wayback-available, syndication, oembed, tco, media...",
            "slowdown": "The endpoint's interval between requests is multiplied by this.",
            "slowed_until": "UTC time the slowdown ends (a day after the last 429).",
            "paused_until": "UTC time before which nothing is sent to it (the 429's Retry-After).",
            "throttled_at": "UTC time of the last 429.",
            "throttles": "429s counted since it was first slowed.",
        },
    },
    "fetch_attempts": {
        "description": "Every HTTP request made for a post or an article, answered or not.",
        "label_column": "source",
        "sort_desc": "attempted_at",
        "facets": ["source", "outcome", "http_status"],
        "columns": {
            "source": "What was asked: syndication, oembed, tco, wayback-available, wayback-cdx, media...",
            "outcome": "ok, http_error, retry, timeout, forbidden, too_large...",
            "http_status": "HTTP status of the answer, if any.",
            "ip": "The address that answered.",
            "attempted_at": "When (UTC).",
        },
    },
    "snapshots": {
        "description": "Every response kept for a post: source, outcome, SHA-256 of the body, parsed fields, "
                       "and the WARC record holding the exchange (insert-only).",
        "label_column": "source",
        "sort_desc": "fetched_at",
        "facets": ["source", "outcome", "http_status", {"date": "fetched_at"}],
        "columns": {
            "source": "The endpoint that answered.",
            "outcome": "archived, unavailable, not_found, protected, captures...",
            "sha256": "SHA-256 of the response body (in bodies).",
            "text": "The post's text in this response.",
            "parsed": "The fields read from the response (JSON).",
            "warc_file": "WARC file holding the request and response records.",
            "warc_offset": "Byte offset of the response record in warc_file.",
            "fetched_at": "When (UTC).",
        },
    },
    "media": {
        "description": "Photos and videos of posts, kept by SHA-256 in the media folder beside the database.",
        "sort_desc": "fetched_at",
        "facets": ["kind", "content_type"],
        "columns": {
            "url": "Where it was downloaded from.",
            "sha256": "SHA-256 of the file.",
            "path": "The file, relative to the database's folder.",
            "warc_file": "WARC file holding the download.",
        },
    },
    "web_archive_files": {
        "description": "Each WARC or ARC file read as a source, counted: records, HTML pages with and without embeds "
                       "(pages without are counted, not stored), other responses, revisits, unreadable records.",
        "sort_desc": "scanned_at",
        "columns": {"file": "Relative to the database's folder when inside it, else absolute.",
                    "error_detail": "The first 50 unreadable records: [offset, reason]."},
    },
    "article_revisits": {
        "description": "Revisit records of WARC files, each linked to the stored article version whose content it "
                       "repeats (by payload digest): seen again, not analysed again.",
        "sort_desc": "first_seen_at",
    },
    "post_relations": {
        "description": "How posts relate: one quotes another, replies to another, or shows media first posted by "
                       "another; learned from a syndication body, oEmbed or the article's markup.",
        "sort_desc": "last_seen_at",
        "facets": ["relation", "learned_from"],
        "columns": {
            "relation": "quotes, replies_to or media_from.",
            "related_post_id": "The other post (its own row, snapshots and re-checks).",
            "snapshot_id": "The snapshot whose body says so.",
            "media_id": "media_from: the file first uploaded to the other post.",
        },
    },
    "media_matches": {
        "description": "Pictures alike by their perceptual hashes (a photo, a video's poster), each pair both ways: "
                       "the same picture re-encoded, resized or slightly cropped in another post.",
        "sort": "distance",
        "facets": ["hash_algorithm"],
        "columns": {"distance": "Bits the two hashes differ by (of 128); alike at 24 or fewer."},
    },
    "captures": {
        "description": "Wayback Machine captures of posts, as its availability and CDX APIs listed them.",
        "sort_desc": "captured_at",
        "facets": ["source", "http_status"],
        "columns": {"captured_at": "When the Wayback Machine captured it (UTC).",
                    "replay_url": "Where to see the capture."},
    },
    "resolutions": {
        "description": "How a post's id was found (t.co, CDX, embed) when the article showed the post without it.",
        "sort_desc": "resolved_at",
        "facets": ["method"],
    },
    "evidence_lists": {
        "description": "Evidence lists: files naming stored items by SHA-256, each stamped by the Time-Stamp Authorities.",
        "sort_desc": "created_at",
        "columns": {"path": "The list file, beside the archive.", "sha256": "SHA-256 of the list: what a token stamps."},
    },
    "evidence_items": {
        "description": "Which evidence list names which stored item (a body, a media file, a WARC range).",
        "facets": ["kind"],
        "columns": {"ref": "The item: a body's SHA-256, a media path, or a WARC file@offset+length."},
    },
    "timestamps": {
        "description": "Every RFC 3161 Time-Stamp Authority answer: a granted token over a list, or why not.",
        "sort_desc": "requested_at",
        "facets": ["status", "tsa_url"],
        "columns": {"gen_time": "The time the TSA put in the token (UTC).",
                    "token_path": "The token file (an RFC 3161 response), beside the archive."},
    },
    "job_runs": {
        "description": "Every run of the daemon's jobs: when it started and ended, how it went, its counts.",
        "sort_desc": "started_at",
        "facets": ["job", "status", "host", {"date": "started_at"}],
        "columns": {"status": "running, ok, or the failure.", "counts": "What the run did (JSON).",
                    "error": "The error that ended it, if any."},
    },
    "sources": {
        "description": "Feeds and folders the daemon polls for articles.",
        "label_column": "name",
        "sort": "name",
        "facets": ["kind"],
    },
    # --- views (archiver.browse.views) ---
    "posts_overview": {
        "description": "Each post with the snapshot that backs its status, its evidence counts and its articles. "
                       "post_id links to the post's card.",
        "sort_desc": "post_id",
        "facets": ["platform", "status", "handle", {"date": "created_date"}],
        "fts_table": "posts_fts",
        "fts_pk": "post_id",
        "columns": {
            "post_id": "The post; links to its card.",
            "latest_snapshot_id": "The newest answer of the platform agreeing with the status.",
            "latest_archived_snapshot_id": "The newest snapshot that showed the post.",
            "article_titles": "The articles embedding it.",
        },
    },
    "articles_overview": {
        "description": "Each article with how many of the posts it embeds are in each status. "
                       "article_id links to the article's page of cards.",
        "sort_desc": "last_seen_at",
        "facets": ["site_name", {"date": "published_at"}],
        "fts_table": "articles_fts",
        "fts_pk": "article_id",
        "columns": {"posts": "Distinct posts embedded, in any version.",
                    "gone": "Posts now unavailable, not found or protected."},
    },
    "post_context": {
        "description": "Posts in context: each relation (quotes, replies_to, media_from) with both posts, how it "
                       "was learned and when. post_id and related_post_id link to the cards.",
        "sort_desc": "last_seen_at",
        "facets": ["relation", "learned_from", "related_status", "platform"],
        "columns": {"depth": "0: embedded in an article; n: reached through n relations.",
                    "related_status": "Where the other post stands now."},
    },
    "posts_gone": {
        "description": "Every time a post became unavailable, not found or protected, with when and why.",
        "sort_desc": "gone_at",
        "facets": ["to_status", "platform", "handle", "status_now"],
        "columns": {"gone_at": "When the status changed (UTC).",
                    "last_archived_snapshot_id": "The last snapshot that still showed the post."},
    },
    "fetch_queue": {
        "description": "Posts waiting for their next fetch, soonest first; due = 1 when the time has come.",
        "sort": "next_fetch_at",
        "facets": ["due", "status", "platform"],
    },
    "fetch_errors": {
        "description": "Requests that did not answer ok, grouped by host, source, outcome and HTTP status.",
        "sort_desc": "attempts",
        "facets": ["host", "outcome", "http_status", "source"],
    },
    "job_health": {
        "description": "The daemon's jobs: runs, failures, the last run's status and the last error.",
        "sort": "job",
        "facets": ["last_status"],
    },
}

QUERIES: dict[str, dict] = {
    "picture_elsewhere": {
        "title": "Where else does this picture appear?",
        "description": "media: a media id (media.id; each picture on a post's card links here). Every stored "
                       "picture alike by its perceptual hash, earliest post first.",
        "sql": """
SELECT mm.other_media_id AS found_media_id, mm.distance, p.id AS post_id, p.platform, p.handle,
       p.created_at AS posted_at, p.status, om.kind, om.url, om.fetched_at, mm.media_id
FROM media_matches mm
JOIN media om ON om.id = mm.other_media_id
JOIN posts p ON p.id = om.post_id
WHERE mm.media_id = :media
ORDER BY coalesce(p.created_at, om.fetched_at), mm.distance
""".strip(),
    },
    "gone_posts_in_article": {
        "title": "Which posts in this article are gone?",
        "description": "article: an article id, URL, canonical URL or source path.",
        "sql": """
SELECT p.id AS post_id, p.platform, p.handle, p.author_name, p.status, p.status_changed_at AS gone_since,
       p.status_reason, p.archived_at,
       (SELECT max(s.id) FROM snapshots s WHERE s.post_id = p.id AND s.outcome = 'archived')
           AS last_archived_snapshot_id,
       p.text, p.canonical_url, a.id AS article_id, a.title AS article_title
FROM articles a
JOIN (SELECT DISTINCT article_id, post_id FROM embeds) e ON e.article_id = a.id
JOIN posts p ON p.id = e.post_id
WHERE (a.id = :article OR rtrim(a.url, '/') = rtrim(:article, '/')
       OR rtrim(a.canonical_url, '/') = rtrim(:article, '/') OR rtrim(a.source, '/') = rtrim(:article, '/'))
  AND p.status IN """ + GONE_SQL + """
ORDER BY p.status_changed_at DESC, p.id
""".strip(),
    },
    "articles_embedding_post": {
        "title": "Every article that embedded this post",
        "description": "post: a post's URL in any form (x.com or twitter.com, mobile., with a query string), "
                       "its id (posts.id) or the platform's post id.",
        "sql": """
SELECT a.id AS article_id, a.title, a.site_name, a.published_at,
       coalesce(a.canonical_url, a.url, a.source) AS location,
       count(e.id) AS embeds, group_concat(DISTINCT e.markup) AS markup,
       min(e.detected_at) AS first_detected_at, max(e.detected_at) AS last_detected_at,
       p.id AS post_id, p.handle, p.platform_post_id, p.status
FROM posts p
JOIN embeds e ON e.post_id = p.id
JOIN articles a ON a.id = e.article_id
WHERE p.id = :post OR p.platform_post_id = :post OR p.platform || ':' || p.platform_post_id = archiver_post_key(:post)
GROUP BY a.id, p.id
ORDER BY first_detected_at, a.id
""".strip(),
    },
    "snapshot_diff": {
        "title": "What changed between two snapshots of a post",
        "description": "snapshot_a, snapshot_b: two snapshot ids. One row per field, both values side by side; "
                       "parsed.* rows compare the fields read from each response.",
        "sql": """
WITH a AS (SELECT * FROM snapshots WHERE id = :snapshot_a),
     b AS (SELECT * FROM snapshots WHERE id = :snapshot_b),
     pa AS (SELECT CASE WHEN json_valid(parsed) THEN parsed END AS j FROM a),
     pb AS (SELECT CASE WHEN json_valid(parsed) THEN parsed END AS j FROM b),
     fields (ord, field, value_a, value_b) AS (
         SELECT 1, 'post_id', a.post_id, b.post_id FROM a, b
         UNION ALL SELECT 2, 'source', a.source, b.source FROM a, b
         UNION ALL SELECT 3, 'outcome', a.outcome, b.outcome FROM a, b
         UNION ALL SELECT 4, 'http_status', a.http_status, b.http_status FROM a, b
         UNION ALL SELECT 5, 'fetched_at', a.fetched_at, b.fetched_at FROM a, b
         UNION ALL SELECT 6, 'text', a.text, b.text FROM a, b
         UNION ALL SELECT 7, 'created_at', a.created_at, b.created_at FROM a, b
         UNION ALL SELECT 8, 'sha256', a.sha256, b.sha256 FROM a, b
         UNION ALL SELECT 9, 'size', a.size, b.size FROM a, b
         UNION ALL SELECT 10, 'url', a.url, b.url FROM a, b
         UNION ALL SELECT 11, 'warc_file', a.warc_file, b.warc_file FROM a, b
         UNION ALL SELECT 12, 'warc_offset', a.warc_offset, b.warc_offset FROM a, b
     ),
     keys (key) AS (
         SELECT key FROM pa, json_each(pa.j) UNION SELECT key FROM pb, json_each(pb.j)
     ),
     parsed (ord, field, value_a, value_b) AS (
         SELECT 100, 'parsed.' || keys.key,
                (SELECT value FROM pa, json_each(pa.j) WHERE json_each.key = keys.key),
                (SELECT value FROM pb, json_each(pb.j) WHERE json_each.key = keys.key)
         FROM keys
     )
SELECT field, value_a AS snapshot_a, value_b AS snapshot_b,
       CASE WHEN value_a IS value_b THEN '' ELSE 'changed' END AS changed
FROM (SELECT * FROM fields UNION ALL SELECT * FROM parsed)
ORDER BY ord, field
""".strip(),
    },
}


def description_html(database: str) -> str:
    """The description with its places as links: the cards first, then the views people start from."""
    views = " · ".join(f'<a href="/{database}/{v}">{v}</a>' for v in
                       ("articles_overview", "posts_overview", "posts_gone", "fetch_queue", "fetch_errors",
                        "job_health"))
    return (f'<p>{DESCRIPTION.split(" Start with")[0]}</p><p><strong>Start with the cards:</strong> '
            f'<a href="/-/archiver/">articles</a> (search, filters, paging) · <a href="/-/archiver/gone">gone '
            f'posts</a> · <a href="/-/archiver/changes">recent changes</a>. Views: {views}. A post\'s card is '
            f'linked from its id wherever it appears.</p>')


def build_metadata(database: str, *, plugin: dict | None = None) -> dict:
    """The metadata dict for an archive attached to Datasette under the name ``database``."""
    return {
        "title": TITLE,
        "description_html": description_html(database),
        "license": LICENSE,
        "source": SOURCE,
        "databases": {
            database: {
                "description_html": description_html(database),
                "tables": copy.deepcopy(TABLES),
                "queries": copy.deepcopy(QUERIES),
            }
        },
        "plugins": {"archiver": {"database": database, **(plugin or {})}},
    }
