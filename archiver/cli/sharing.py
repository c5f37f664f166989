"""Browsing and sharing: `serve` (read-only Datasette, behind passwords once it leaves this machine) and
`passwd` (a user's password hash into archiver.toml)."""
from __future__ import annotations

import errno
import ipaddress
import os
import re
import socket
import sys
import tempfile
from pathlib import Path

import click

from archiver.cli.options import config_option, db_option, fail, open_archive, require_archive, settings_for
from archiver.errors import ArchiverError, ConfigError


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def check_port(host: str, port: int) -> None:
    """Refuse in one line, before anything is printed or served, an address this machine cannot listen on."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
            probe.bind(address)
    except OSError as exc:
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise click.ClickException(f"cannot serve on {host}:{port}: {why} "
                                   "(hint: --port another one, or stop what listens there)") from None


@click.command()
@db_option(uses="existing")
@config_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs [serve] passwords or --public.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--public", is_flag=True,
              help="Serve beyond this machine without passwords: anyone who reaches the port reads everything.")
def serve(db_path, config_path, host, port, public):
    """Browse the archive in Datasette, read-only: tables, views, search, and posts as cards."""
    import uvicorn

    from archiver.browse import build_datasette
    from archiver.browse.access import Access
    from archiver.store.db import ensure_served

    require_archive(db_path)
    settings = settings_for(config_path, db_path)
    users = sorted(settings.serve.passwords)
    shared = users or public or not is_loopback(host)
    if not is_loopback(host) and not users and not public:
        raise click.ClickException(
            f"refusing to serve {db_path} on {host}, beyond this machine, to anyone who can reach it "
            f"(hint: `archiver passwd USER` to require a login, or --public to share it with everyone)")
    exposed = public and not users
    db = open_archive(db_path)  # migrations and views when it can be written: the one write
    try:  # counted only to say what a public share exposes
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("articles", "posts", "media")] if exposed else None
    finally:
        db.close()
    try:
        ensure_served(db_path)  # Datasette opens it ?mode=ro: what it cannot open would be a 500 on every page
    except ArchiverError as exc:
        fail(exc)
    check_port(host, port)
    access = Access.from_settings(settings.serve) if shared else None
    if exposed:
        held = f"{counts[0]} articles, {counts[1]} posts, {counts[2]} media files"
        click.echo(f"PUBLIC: anyone who can reach {host}:{port} reads {held}, every stored body and WARC record, "
                   f"without a password; arbitrary SQL {'on' if access.allow_sql else 'off'}", err=True)
    ds = build_datasette(db_path, access=access)
    login = f"; login required ({', '.join(users)})" if users else ""
    click.echo(f"serving {db_path} read-only at http://{host}:{port}/ (posts as cards: /-/archiver/){login}", err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


@click.command()
@click.argument("user")
@db_option(uses="config")
@config_option
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def passwd(user, db_path, config_path, password_stdin):
    """Set USER's password for a shared `archiver serve`: its PBKDF2 hash (never the password) goes into
    [serve.passwords] of archiver.toml."""
    from datasette_auth_passwords.utils import hash_password

    from archiver.config import USER_NAME, default_config_path

    if not USER_NAME.fullmatch(user):
        raise click.ClickException(f"{user!r} is not a user name (letters, digits, _ . @ -)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"password for {user}", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("a password needs at least 8 characters")
    path = Path(config_path) if config_path else default_config_path(db_path)
    try:
        write_password_hash(path, user, hash_password(password))
    except ArchiverError as exc:
        fail(exc)
    click.echo(f"{path}: password of {user} set (PBKDF2 hash); `archiver serve` asks for it from now on", err=True)


def write_password_hash(path: Path, user: str, hashed: str) -> None:
    """Put `user = "hash"` into the file's [serve.passwords] table; the file is replaced only once it reads
    back as valid settings."""
    from archiver.config import load_settings

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    entry = f'"{user}" = "{hashed}"'
    header = next((i for i, line in enumerate(lines) if line.strip() == "[serve.passwords]"), None)
    if header is None:
        lines += ["", "[serve.passwords]", entry]
    else:
        end = next((i for i in range(header + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        mine = re.compile(rf'^\s*"?{re.escape(user)}"?\s*=')
        at = next((i for i in range(header + 1, end) if mine.match(lines[i])), None)
        if at is None:
            lines.insert(header + 1, entry)
        else:
            lines[at] = entry
    fd, tmp = tempfile.mkstemp(prefix=".archiver-", suffix=".toml", dir=path.resolve().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines).lstrip("\n") + "\n")
        load_settings(tmp, env={})  # a file that no longer reads is not written
        os.replace(tmp, path)
    except ConfigError:
        os.unlink(tmp)
        raise
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None


__all__ = ["serve", "passwd", "is_loopback", "check_port", "write_password_hash"]
