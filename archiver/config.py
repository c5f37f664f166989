"""Settings from archiver.toml and ARCHIVER_* environment variables: endpoints, limits, policy."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from archiver import __version__
from archiver.clock import parse_cron, parse_interval
from archiver.errors import ConfigError

CONFIG_NAME = "archiver.toml"


DEFAULT_USER_AGENT = f"archiver/{__version__} (+https://github.com/archiver; preserving embedded posts)"


@dataclass(frozen=True)
class HttpPolicy:
    """What the client may reach and how much it may read."""

    allowed_hosts: tuple[str, ...] = ("*",)  # fnmatch patterns: "*", "*.twimg.com", "t.co"
    allow_private: bool = False  # loopback, private, link-local: tests and mirrors only
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 10
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    user_agent: str = DEFAULT_USER_AGENT
    contact: str | None = None


@dataclass(frozen=True)
class Endpoints:
    """Every upstream base URL, so tests and mirrors can stand in for the real services."""

    syndication: str = "https://cdn.syndication.twimg.com"
    twitter_oembed: str = "https://publish.twitter.com"
    tco: str = "https://t.co"
    wayback: str = "https://archive.org"
    cdx: str = "https://web.archive.org"
    save_page_now: str = "https://web.archive.org"
    tiktok_oembed: str = "https://www.tiktok.com"
    bluesky_oembed: str = "https://embed.bsky.app"
    youtube_oembed: str = "https://www.youtube.com"
    twimg_photos: str = "https://pbs.twimg.com"
    twimg_video: str = "https://video.twimg.com"
    mastodon_oembed: str = ""  # empty: each post's own instance

    def rewrite(self, url: str) -> str:
        """A URL on a default upstream, moved to the configured base (a mirror, or a test server)."""
        for f in fields(self):
            default, configured = f.default, getattr(self, f.name)
            if default and configured != default and url.startswith(default.rstrip("/") + "/"):
                return configured.rstrip("/") + url[len(default.rstrip("/")):]
        return url


@dataclass(frozen=True)
class Limits:
    """Concurrency, rates and retry bounds; polite defaults."""

    concurrency: int = 8
    per_host_concurrency: int = 2
    per_host_rate: float = 2.0  # requests per second per host
    retries: int = 3
    retry_wait_max: float = 30.0  # longest single wait inside one run; longer waits go to next_fetch_at
    backoff_base: float = 0.5
    media_max_bytes: int = 10 * 1024 * 1024
    body_max_bytes: int = 5 * 1024 * 1024
    fetch_batch: int = 200
    requeue_base: float = 300.0  # seconds before a failed post is tried again; doubles per failure
    requeue_max: float = 7 * 86400.0
    web_archive_every: float = 7 * 86400.0  # seconds between Wayback lookups of one post (its archives change slowly)


# Requests per minute per endpoint (a request's source), whatever host serves it: published limits where a
# service publishes one, else a conservative default. 0 or absent: only the per-host limits apply.
DEFAULT_RATES = {
    # The CDX server's hard limit is about 24 a minute (EDGI `wayback` 0.5.1 lowered its default to it);
    # 20 leaves room for jitter: at exactly 24, a request delayed by a few ms makes 24 in one minute.
    "wayback-cdx": 20.0,
    "wayback-available": 20.0,  # no published limit; served by the same Wayback Machine servers as CDX
    "wayback-save": 12.0,  # Save Page Now: published as about 15 captures a minute per account; we stay under
    "syndication": 120.0,  # no published limit; the former per-host default (2/s)
    "oembed": 60.0,  # publish.twitter.com: no published limit
    "tco": 60.0,  # no published limit
    "tiktok-oembed": 60.0, "youtube-oembed": 60.0, "bluesky-oembed": 60.0, "mastodon-oembed": 60.0,
    "media": 120.0,  # image and video CDNs
}

# Hosts snapshot requests may reach (each redirect hop is checked); the configured endpoints' hosts are
# added to these. Articles come from anywhere: they are checked against `article_hosts` instead.
DEFAULT_ALLOWED_HOSTS = (
    "cdn.syndication.twimg.com", "*.twimg.com", "publish.twitter.com", "publish.x.com", "t.co",
    "archive.org", "web.archive.org", "www.tiktok.com", "embed.bsky.app", "www.youtube.com",
)


def _default_policy() -> HttpPolicy:
    return HttpPolicy(allowed_hosts=DEFAULT_ALLOWED_HOSTS)


SOURCE_KINDS = ("feed", "sitemap", "urls", "folder", "auto")
JOBS = ("poll", "fetch", "recheck")
DEFAULT_SCHEDULES = {"poll": "*/15 * * * *", "fetch": "*/5 * * * *", "recheck": "7 * * * *"}


MAX_CONTEXT_DEPTH = 3  # quoted and replied-to posts are followed this far at most: never unbounded


@dataclass(frozen=True)
class Fetch:
    """What a fetch follows beyond the embedded post itself."""

    context_depth: int = 1  # quoted, replied-to and media-origin posts kept as posts, this many links away (0-3)


@dataclass(frozen=True)
class Source:
    """A place the daemon watches for new articles."""

    name: str
    kind: str  # feed | sitemap | urls | folder | auto
    location: str  # URL, or a path for folder (and for a local urls file)


@dataclass(frozen=True)
class Daemon:
    """How the daemon runs its jobs."""

    misfire_grace_time: int = 300  # seconds a late run may still start
    busy_timeout_ms: int = 30_000  # how long a write waits for another writer
    recheck_articles: bool = False  # fetch an already stored article URL again on every poll
    stop_grace: float = 5.0  # seconds in-flight requests get to finish after SIGTERM


@dataclass(frozen=True)
class Timestamps:
    """RFC 3161 trusted timestamps of new evidence: which authorities to ask, and whom to trust when verifying."""

    tsa_urls: tuple = ()  # Time-Stamp Authorities asked after each fetch run; empty: no timestamps
    roots: tuple = ()  # PEM files of the root certificates `archiver verify` trusts (relative to this file)


@dataclass(frozen=True)
class Serve:
    """Who may browse the archive when `archiver serve` shares it, and what they may do."""

    passwords: dict = field(default_factory=dict)  # user -> PBKDF2 hash (`archiver passwd USER`), never plain text
    allow_sql: bool = False  # Datasette's arbitrary-SQL page, for logged-in readers, when shared
    sql_time_limit_ms: int = 1000  # each query's limit when shared beyond this machine (at most 1 s)
    login_failures: int = 5  # failed logins from one client before it is refused (429)
    lockout: float = 900.0  # seconds a refused client waits before it may try again


USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")  # a reader's name for `archiver serve`
PASSWORD_HASH = re.compile(r"^pbkdf2_sha256\$\d{4,9}\$[0-9a-f]{8,64}\$[A-Za-z0-9+/=]{20,100}$")


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that work without a file."""

    db: str = "archive.db"
    http: HttpPolicy = field(default_factory=_default_policy)
    article_hosts: tuple = ("*",)  # where article URLs may be fetched from; private addresses still refused
    endpoints: Endpoints = field(default_factory=Endpoints)
    limits: Limits = field(default_factory=Limits)
    fetch: Fetch = field(default_factory=Fetch)
    save_page_now_keys: str | None = None  # "ACCESS:SECRET"; Save Page Now only runs when set
    schedules: dict = field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    sources: tuple = ()  # Source, ...
    daemon: Daemon = field(default_factory=Daemon)
    timestamps: Timestamps = field(default_factory=Timestamps)
    serve: Serve = field(default_factory=Serve)
    recheck_after: tuple = ("1h", "1d", "7d", "30d")
    rates: dict = field(default_factory=lambda: dict(DEFAULT_RATES))  # requests per minute per endpoint
    path: str | None = None  # the file these came from


_SECTIONS = {"http": HttpPolicy, "endpoints": Endpoints, "limits": Limits, "fetch": Fetch, "daemon": Daemon,
             "timestamps": Timestamps, "serve": Serve}
_TOP = {"db", "save_page_now_keys", "schedules", "sources", "recheck_after", "article_hosts", "rates"}


def default_config_path(db_path: str | os.PathLike) -> Path:
    """archiver.toml beside the database."""
    return Path(db_path).resolve().parent / CONFIG_NAME


def load_settings(path: str | os.PathLike | None = None, env: dict | None = None, *,
                  db: str | None = None, required: bool = False) -> Settings:
    """Settings from the TOML file (if any), then ARCHIVER_SECTION_KEY environment variables."""
    env = os.environ if env is None else env
    settings = Settings()
    if path is not None and Path(path).exists():
        settings = _apply_file(settings, Path(path))
    elif path is not None and required:
        raise ConfigError(f"{path}: no such configuration file (hint: `archiver init-config` writes one)")
    settings = _apply_env(settings, env)
    if db:
        settings = replace(settings, db=db)
    return _with_endpoint_hosts(settings)


def _with_endpoint_hosts(settings: Settings) -> Settings:
    """Every configured endpoint's host may be reached, whatever the allowlist says."""
    from urllib.parse import urlsplit

    hosts = [urlsplit(getattr(settings.endpoints, f.name)).hostname for f in fields(Endpoints)]
    extra = tuple(h for h in dict.fromkeys(hosts) if h and h not in settings.http.allowed_hosts)
    if not extra:
        return settings
    return replace(settings, http=replace(settings.http, allowed_hosts=settings.http.allowed_hosts + extra))


def article_policy(settings: Settings) -> HttpPolicy:
    """The policy for fetching articles: any host in article_hosts, the same limits otherwise."""
    return replace(settings.http, allowed_hosts=tuple(settings.article_hosts))


def _apply_file(settings: Settings, path: Path) -> Settings:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    lines = text.splitlines()
    changes = {"path": str(path)}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{_line_of(lines, key)}: [{key}] must be a table")
            changes[key] = _merge(getattr(settings, key), value, f"{path}:{{line}}: [{key}]", lines)
        elif key == "schedules":
            changes[key] = _schedules(value, path, lines)
        elif key == "rates":
            changes[key] = _rates(value, path, lines)
        elif key == "sources":
            changes[key] = _sources(value, path, lines)
        elif key == "recheck_after":
            changes[key] = _intervals(value, f"{path}:{_line_of(lines, key)}: recheck_after")
        elif key == "article_hosts":
            changes[key] = _coerce(value, (), f"{path}:{_line_of(lines, key)}: {key}")
        elif key in _TOP:
            if not isinstance(value, str):
                raise ConfigError(f"{path}:{_line_of(lines, key)}: {key}: expected text, got {value!r}")
            changes[key] = value
        else:
            raise ConfigError(f"{path}:{_line_of(lines, key)}: unknown key {key!r} "
                              f"(known: {', '.join(sorted(_TOP | set(_SECTIONS)))})")
    return replace(settings, **changes)


def _schedules(value, path: Path, lines: list[str]) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}:{_line_of(lines, 'schedules')}: [schedules] must be a table")
    out = dict(DEFAULT_SCHEDULES)
    for job, expr in value.items():
        where = f"{path}:{_line_of(lines, job)}: [schedules] {job}"
        if job not in JOBS:
            raise ConfigError(f"{where}: unknown job (known: {', '.join(JOBS)})")
        try:
            parse_cron(expr)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: bad cron expression {expr!r}: {exc}") from None
        out[job] = expr
    return out


def _passwords(value, where: str) -> dict:
    """[serve] passwords: a table of user = hash, or "user:hash;user:hash" from the environment."""
    if isinstance(value, str):
        value = dict(pair.split(":", 1) for pair in value.split(";") if ":" in pair)
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of user = password hash, got {value!r}")
    for user, hashed in value.items():
        if not USER_NAME.fullmatch(user):
            raise ConfigError(f"{where}: {user!r} is not a user name (letters, digits, _ . @ -)")
        if not isinstance(hashed, str) or not PASSWORD_HASH.match(hashed.strip()):
            raise ConfigError(f"{where}: the password of {user!r} is not a PBKDF2 hash; passwords are never "
                              f"stored as they are typed (hint: `archiver passwd {user}` writes one)")
    return {user: hashed.strip() for user, hashed in value.items()}


def _rates(value, path: Path, lines: list[str]) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}:{_line_of(lines, 'rates')}: [rates] must be a table")
    out = dict(DEFAULT_RATES)
    for endpoint, per_minute in value.items():
        where = f"{path}:{_line_of(lines, endpoint)}: [rates] {endpoint}"
        if endpoint not in DEFAULT_RATES:
            raise ConfigError(f"{where}: unknown endpoint (known: {', '.join(sorted(DEFAULT_RATES))})")
        out[endpoint] = _coerce(per_minute, 0.0, where)
    return out


def _sources(value, path: Path, lines: list[str]) -> tuple:
    if not isinstance(value, list):
        raise ConfigError(f"{path}:{_line_of(lines, 'sources')}: sources must be [[sources]] tables")
    out, names = [], set()
    for entry in value:
        location = entry.get("location") if isinstance(entry, dict) else None
        line = next((str(n) for n, text in enumerate(lines, 1) if location and location in text), "?")
        where = f"{path}:{line}: [[sources]]"
        if not isinstance(entry, dict) or not isinstance(location, str) or not location.strip():
            raise ConfigError(f"{where}: every source needs a location (a URL or a folder)")
        unknown = set(entry) - {"name", "kind", "location"}
        if unknown:
            raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: kind, location, name)")
        kind = entry.get("kind", "auto")
        if kind not in SOURCE_KINDS:
            raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        is_url = location.lower().startswith(("http://", "https://"))
        if kind == "folder" or not is_url:
            folder = Path(location).expanduser()
            if not folder.is_absolute():
                folder = path.parent / folder
            if kind == "folder" and not folder.is_dir():
                raise ConfigError(f"{where}: folder {location} does not exist")
            if kind != "folder" and not folder.is_file():
                raise ConfigError(f"{where}: {location} is neither an http(s) URL nor an existing file")
            location = str(folder)
        name = str(entry.get("name") or location)
        if name in names:
            raise ConfigError(f"{where}: two sources are named {name!r}")
        names.add(name)
        out.append(Source(name=name, kind=kind, location=location))
    return tuple(out)


def _intervals(value, where: str) -> tuple:
    items = value if isinstance(value, list) else [value]
    try:
        for item in items:
            parse_interval(item)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return tuple(str(i) for i in items)


def _merge(obj, values: dict, where: str, lines: list[str]):
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(where.format(line=_line_of(lines, key)) + f" unknown key {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        current = getattr(obj, key)
        changes[key] = _coerce(value, current, where.format(line=_line_of(lines, key)) + f" {key}")
        if isinstance(obj, Fetch) and key == "context_depth" and changes[key] > MAX_CONTEXT_DEPTH:
            raise ConfigError(where.format(line=_line_of(lines, key)) +
                              f" context_depth: at most {MAX_CONTEXT_DEPTH} (a thread is followed that far, never further)")
    return replace(obj, **changes)


def _coerce(value, current, where: str):
    if isinstance(current, bool):
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off", ""):
                return False
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(current, dict):
        return _passwords(value, where)
    if isinstance(current, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    for kind in (int, float):
        if isinstance(current, kind) and not isinstance(current, bool):
            try:
                number = kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: expected a number, got {value!r}") from None
            if number < 0:
                raise ConfigError(f"{where}: must not be negative")
            return number
    if current is None or isinstance(current, str):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


def _apply_env(settings: Settings, env) -> Settings:
    changes = {}
    for section in _SECTIONS:
        obj = getattr(settings, section)
        values = {}
        for f in fields(obj):
            key = f"ARCHIVER_{section.upper()}_{f.name.upper()}"
            if key in env:
                values[f.name] = env[key]
        if values:
            changes[section] = _merge(obj, values, f"environment ARCHIVER_{section.upper()}_*{{line}}:", [])
    if env.get("ARCHIVER_SAVE_PAGE_NOW_KEYS"):
        changes["save_page_now_keys"] = env["ARCHIVER_SAVE_PAGE_NOW_KEYS"]
    return replace(settings, **changes) if changes else settings


def _line_of(lines: list[str], key: str) -> str:
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith((key, f"[{key}]", f"[[{key}]]")):
            return str(number)
    return "?"


__all__ = ["Settings", "Endpoints", "Limits", "Fetch", "Source", "Daemon", "Timestamps", "HttpPolicy", "load_settings", "default_config_path",
           "DEFAULT_USER_AGENT", "DEFAULT_ALLOWED_HOSTS"]

