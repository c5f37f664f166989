"""Settings from archiver.toml and ARCHIVER_* environment variables: endpoints, limits, policy."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from archiver.errors import ConfigError
from archiver.http import DEFAULT_USER_AGENT, HttpPolicy

CONFIG_NAME = "archiver.toml"


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


# Hosts snapshot requests may reach (each redirect hop is checked); the configured endpoints' hosts are
# added to these. Articles come from anywhere: they are checked against `article_hosts` instead.
DEFAULT_ALLOWED_HOSTS = (
    "cdn.syndication.twimg.com", "*.twimg.com", "publish.twitter.com", "publish.x.com", "t.co",
    "archive.org", "web.archive.org", "www.tiktok.com", "embed.bsky.app", "www.youtube.com",
)


def _default_policy() -> HttpPolicy:
    return HttpPolicy(allowed_hosts=DEFAULT_ALLOWED_HOSTS)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that work without a file."""

    db: str = "archive.db"
    http: HttpPolicy = field(default_factory=_default_policy)
    article_hosts: tuple = ("*",)  # where article URLs may be fetched from; private addresses still refused
    endpoints: Endpoints = field(default_factory=Endpoints)
    limits: Limits = field(default_factory=Limits)
    save_page_now_keys: str | None = None  # "ACCESS:SECRET"; Save Page Now only runs when set
    schedules: dict = field(default_factory=dict)
    sources: tuple = ()
    recheck_after: tuple = ("1h", "1d", "7d", "30d")
    path: str | None = None  # the file these came from


_SECTIONS = {"http": HttpPolicy, "endpoints": Endpoints, "limits": Limits}
_TOP = {"db", "save_page_now_keys", "schedules", "sources", "recheck_after", "article_hosts"}


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
        elif key in _TOP:
            changes[key] = tuple(value) if isinstance(value, list) else value
        else:
            raise ConfigError(f"{path}:{_line_of(lines, key)}: unknown key {key!r} "
                              f"(known: {', '.join(sorted(_TOP | set(_SECTIONS)))})")
    return replace(settings, **changes)


def _merge(obj, values: dict, where: str, lines: list[str]):
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(where.format(line=_line_of(lines, key)) + f" unknown key {key!r} "
                              f"(known: {', '.join(sorted(known))})")
        current = getattr(obj, key)
        changes[key] = _coerce(value, current, where.format(line=_line_of(lines, key)) + f" {key}")
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


__all__ = ["Settings", "Endpoints", "Limits", "HttpPolicy", "load_settings", "default_config_path",
           "DEFAULT_USER_AGENT", "DEFAULT_ALLOWED_HOSTS"]
