"""Every setting explained once: the commented ``archiver.toml`` that ``init-config`` writes and the README's
settings table are both made from these lines and the settings' own defaults (``config``), so neither
can leave a setting out or show a default the program does not have (a test holds them together)."""
from __future__ import annotations

from dataclasses import fields

from archiver import config

# (section, key) -> what it does; "" is the file's top level. Every field of every section is here.
DOCS: dict[tuple[str, str], str] = {
    ("", "db"): "the archive, relative to this file",
    ("", "recheck_after"): "re-check an archived post after each interval, then every last interval",
    ("", "article_hosts"): "where article URLs may be fetched from (private addresses refused unless "
                           "[http] allow_private)",
    ("", "save_page_now_keys"): "ACCESS:SECRET of archive.org: asks the Wayback Machine for a fresh capture of "
                                "each post (off without keys)",
    ("", "schedules"): "poll, fetch, recheck: crontab lines in UTC (a sixth leading field is seconds)",
    ("", "sources"): "name, kind (feed, sitemap, urls, folder, auto), location: what the daemon watches",
    ("", "rates"): "requests per minute per endpoint, whatever host serves it; 0 lifts the limit",
    ("http", "allowed_hosts"): "hosts snapshot requests may reach (patterns, every redirect hop checked); the "
                               "endpoints' hosts are added",
    ("http", "allow_private"): "allow loopback, private and link-local addresses (tests and mirrors only)",
    ("http", "max_bytes"): "the most bytes a response may have; more is refused, never cut",
    ("http", "max_redirects"): "redirects followed per request",
    ("http", "connect_timeout"): "seconds to open a connection",
    ("http", "read_timeout"): "seconds between two reads",
    ("http", "total_timeout"): "seconds a whole request may take, headers and redirects included",
    ("http", "user_agent"): "the User-Agent sent",
    ("http", "contact"): "an address appended to the User-Agent, so upstreams can reach you",
    ("limits", "concurrency"): "requests in flight at once, all hosts together",
    ("limits", "per_host_concurrency"): "requests in flight at once to one host",
    ("limits", "per_host_rate"): "request starts per second to one host",
    ("limits", "retries"): "retries of a request after a network error, a timeout, a 429 or a 5xx",
    ("limits", "retry_wait_max"): "the longest wait inside a run, in seconds; a longer one reschedules the post",
    ("limits", "backoff_base"): "seconds of the first retry's wait (it doubles, with jitter)",
    ("limits", "media_max_bytes"): "the largest photo or video kept",
    ("limits", "body_max_bytes"): "the largest snapshot body kept (syndication, oEmbed, Wayback answers)",
    ("limits", "fetch_batch"): "posts a fetch run takes at most",
    ("limits", "requeue_base"): "seconds before a failed post is tried again (doubles per failure)",
    ("limits", "requeue_max"): "the longest a failed post waits, in seconds",
    ("limits", "web_archive_every"): "seconds between two Wayback lookups of one post",
    ("fetch", "context_depth"): "quoted, replied-to and media-origin posts kept as posts, this many links away (0-3)",
    ("daemon", "misfire_grace_time"): "seconds a late job may still start",
    ("daemon", "busy_timeout_ms"): "how long a write waits for another writer",
    ("daemon", "recheck_articles"): "fetch an already stored article URL again on every poll",
    ("daemon", "stop_grace"): "seconds a running job gets after SIGTERM or SIGINT",
    ("timestamps", "tsa_urls"): "Time-Stamp Authorities asked after each fetch run, e.g. "
                                "[\"https://freetsa.org/tsr\"]; empty: off",
    ("timestamps", "roots"): "PEM root certificates `archiver verify` trusts for those TSAs",
    ("serve", "passwords"): "[serve.passwords] user = PBKDF2 hash, written by `archiver passwd USER`",
    ("serve", "allow_sql"): "Datasette's arbitrary-SQL page, for logged-in readers of a shared archive",
    ("serve", "sql_time_limit_ms"): "each query's limit when shared beyond this machine (at most 1000)",
    ("serve", "login_failures"): "failed logins from one client before it gets 429",
    ("serve", "lockout"): "seconds such a client then waits",
    ("endpoints", "syndication"): "Twitter's syndication API (tweet-result)",
    ("endpoints", "twitter_oembed"): "Twitter's oEmbed",
    ("endpoints", "tco"): "the t.co link shortener",
    ("endpoints", "wayback"): "the Wayback Machine's availability API",
    ("endpoints", "cdx"): "the Wayback Machine's CDX index",
    ("endpoints", "save_page_now"): "Save Page Now",
    ("endpoints", "tiktok_oembed"): "TikTok's oEmbed",
    ("endpoints", "bluesky_oembed"): "Bluesky's oEmbed",
    ("endpoints", "youtube_oembed"): "YouTube's oEmbed",
    ("endpoints", "twimg_photos"): "Twitter's photo CDN",
    ("endpoints", "twimg_video"): "Twitter's video CDN",
    ("endpoints", "mastodon_oembed"): "one Mastodon oEmbed for every post; empty: each post's own server",
}
SECTIONS = ("http", "limits", "fetch", "daemon", "serve", "timestamps", "endpoints")
_TOP = ("db", "recheck_after", "article_hosts", "save_page_now_keys")


def toml_value(value) -> str:
    """A default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def doc(section: str, key: str) -> str:
    """What one setting does."""
    return DOCS[(section, key)]


def _line(key: str, value, what: str, width: int = 34) -> str:
    if value is None or value == {}:
        return f"# {key} = ...".ljust(width) + f"  # {what}"
    return f"{key} = {toml_value(value)}".ljust(width) + f"  # {what}"


def example_config() -> str:
    """A commented archiver.toml with every setting at its default."""
    settings = config.Settings()
    out = ["# archiver settings. Every value shown is the default; delete what you do not change.",
           "# Environment variables override the file: ARCHIVER_<SECTION>_<KEY>, e.g. ARCHIVER_HTTP_CONTACT.", ""]
    out += [_line(k, getattr(settings, k), doc("", k)) for k in _TOP]
    out += ["", "# Every base URL below can point at a mirror or a test server ([endpoints]).",
            "", f"[schedules]  # {doc('', 'schedules')}"]
    out += [f"{job} = {toml_value(expr)}" for job, expr in config.DEFAULT_SCHEDULES.items()]
    out += ["", f"# [[sources]]: {doc('', 'sources')}", "# [[sources]]", '# name = "Example newsroom"', '# kind = "feed"',
            '# location = "https://www.example.org/rss.xml"', ""]
    out += [f"[rates]  # {doc('', 'rates')}"]
    out += [f"{toml_value(name)} = {per_minute:g}" for name, per_minute in config.DEFAULT_RATES.items()]
    for section in SECTIONS:
        obj = getattr(settings, section)
        out += ["", f"[{section}]"]
        out += [_line(f.name, getattr(obj, f.name), doc(section, f.name)) for f in fields(obj)]
    return "\n".join(out) + "\n"


def settings_table() -> str:
    """The README's table of every setting: key, default, what it does."""
    settings = config.Settings()
    rows = ["| setting | default | what it does |", "|---|---|---|"]
    for k in _TOP + ("schedules", "sources", "rates"):
        value = getattr(settings, k)
        shown = {"schedules": ", ".join(f"{job} `{expr}`" for job, expr in config.DEFAULT_SCHEDULES.items()),
                 "rates": ", ".join(f"{name} {n:g}" for name, n in config.DEFAULT_RATES.items()),
                 "sources": "none"}.get(k)
        name = {"schedules": "[schedules]", "sources": "[[sources]]", "rates": "[rates]"}.get(k, k)
        rows.append(f"| `{name}` | {shown or '`' + ('none' if value is None else toml_value(value)) + '`'} | "
                    f"{doc('', k)} |")
    for section in SECTIONS:
        obj = getattr(settings, section)
        for f in fields(obj):
            value = getattr(obj, f.name)
            shown = "none" if value in (None, {}, "") else toml_value(value)
            rows.append(f"| `[{section}] {f.name}` | `{shown}` | {doc(section, f.name)} |")
    return "\n".join(rows)


README_START, README_END = "<!-- settings table: made by scripts/settings_table.py -->", "<!-- end of settings table -->"


def readme_with_table(readme: str) -> str:
    """The README with its settings table made again from the definitions."""
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[:start] + "\n" + settings_table() + "\n" + readme[end:]


__all__ = ["DOCS", "SECTIONS", "example_config", "settings_table", "doc", "toml_value", "readme_with_table"]
