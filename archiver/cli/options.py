"""What every command shares: the options, the archive opened or refused in one line, typed errors as messages."""
from __future__ import annotations

from pathlib import Path

import click

from archiver.errors import ArchiverError

DEFAULT_DB = "archive.db"


DB_HELP = {
    "create": "SQLite archive (created if missing).",
    "existing": "SQLite archive; it must exist (`archiver archive` creates it).",
    "config": "SQLite archive; its settings file is archiver.toml beside it (unless --config).",
}


def db_option(fn=None, *, uses: str = "create"):
    """--db PATH, the archive every command reads or writes; `uses` says what the help tells of it:
    create (created if missing), existing (refused if missing), config (only locates archiver.toml)."""
    def decorate(f):
        return click.option("--db", "db_path", default=DEFAULT_DB, envvar="ARCHIVER_DB", show_default=True,
                            type=click.Path(dir_okay=False), help=DB_HELP[uses])(f)

    return decorate(fn) if fn is not None else decorate


def silent_option(fn):
    """--silent: no progress bar, no summary."""
    return click.option("--silent", is_flag=True, help="No progress bar or summary on stderr.")(fn)


def max_bytes_option(fn):
    """--max-bytes: the largest article read."""
    return click.option("--max-bytes", default=64 * 1024 * 1024, show_default=True, type=click.IntRange(1),
                        help="Largest article (file, stdin or URL body) read, in bytes.")(fn)


def config_option(fn):
    """--config PATH: archiver.toml (default: beside the database)."""
    return click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="ARCHIVER_CONFIG",
                        help="Settings file (default: archiver.toml beside the database).")(fn)


def settings_for(config_path, db_path):
    from archiver.config import default_config_path, load_settings

    try:
        return load_settings(config_path or default_config_path(db_path), db=db_path,
                             required=config_path is not None)
    except ArchiverError as exc:
        fail(exc)


def fail(exc: ArchiverError):
    message = str(exc)
    if exc.hint:
        message += f" (hint: {exc.hint})"
    raise click.ClickException(message)


def require_archive(db_path: str) -> None:
    """Stop with one line when the archive a read-only command needs is not there."""

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path}: no such archive (hint: run `archiver archive SOURCE` first)")


def open_archive(db_path: str, *, write: bool = False):
    """The archive, opened (and migrated); with `write`, refused in one line when it cannot be written,
    without it, opened read-only as it is when it cannot be."""
    from archiver.store.db import ensure_writable, open_db

    try:
        db = open_db(db_path, read_only=not write)
        if write:
            ensure_writable(db, db_path)
        return db
    except ArchiverError as exc:
        fail(exc)
