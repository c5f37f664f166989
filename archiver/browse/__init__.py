"""Browsing: the archive in Datasette, with metadata, canned queries, and a plugin that shows posts as cards.

``archiver serve`` is ``build_datasette(path)`` under uvicorn. The database is opened the way Datasette
opens any file not declared immutable: ``file:archive.db?mode=ro``. SQLite then refuses every write
from Datasette while each query still sees what the daemon has committed, WAL included; an
``immutable=1`` open would not (it skips locking and ignores the -wal file). ``PRAGMA query_only``
is set on the archive's connections too (``read_only`` in the plugin config).

Owns the Datasette metadata (``metadata``), the plugin with its card pages and media route
(``plugin``), templates and CSS. The SQL views live in ``archiver.store.views`` (the store keeps them in
step with the tables). May import the base modules, ``fetch`` (media paths), ``read``, ``platforms``,
``detect``, ``store`` and ``evidence``; never ``run`` or the CLI. This module imports nothing heavy.
"""
from __future__ import annotations

from pathlib import Path

SETTINGS = {
    "sql_time_limit_ms": 5000,  # the views count over whole tables
    "facet_time_limit_ms": 1000,
    "allow_download": False,  # the database file is the archive; copy it, don't serve it
}


def database_name(db_path) -> str:
    """The name Datasette gives a database file: its stem (archive.db -> archive)."""
    return Path(db_path).stem


def ensure_plugin() -> None:
    """Register the plugin unless its entry point already did (e.g. running from a plain checkout)."""
    from datasette.plugins import pm

    from archiver.browse import plugin

    if not pm.is_registered(plugin) and pm.get_plugin("archiver") is None:
        pm.register(plugin, name="archiver")


def build_datasette(db_path, *, read_only: bool = True, settings: dict | None = None, access=None):
    """A Datasette instance serving the archive at ``db_path`` with archiver's metadata and plugin.

    ``access`` (a ``browse.access.Access``) shares it beyond this machine: with passwords, only those
    users may read it; in any case arbitrary SQL follows its ``allow_sql`` and queries its time limit.
    """
    import os

    from datasette.app import Datasette

    from archiver.browse import access as sharing
    from archiver.browse.metadata import build_metadata

    ensure_plugin()
    path = str(Path(db_path))
    name = database_name(path)
    metadata = build_metadata(name, plugin={"read_only": read_only, **sharing.plugin_config(access)})
    restrictions = sharing.metadata(access, os.environ)
    metadata["plugins"].update(restrictions.pop("plugins", {}))
    metadata.update(restrictions)
    limits = {"sql_time_limit_ms": access.sql_time_limit_ms} if access is not None else {}
    # Datasette's own templates, amended (datasette_templates/: a canned query's title is its title).
    return Datasette(files=[path], metadata=metadata, settings={**SETTINGS, **limits, **(settings or {})},
                     template_dir=str(Path(__file__).resolve().parent / "datasette_templates"))
