"""The archive's schema as numbered SQL migrations, applied in order and recorded in PRAGMA user_version.

One file per migration, ``NNNN_what.sql``; append a new file, never edit one that has shipped (archives
in the field have applied it). 0005 makes posts due again that had been parked with no next fetch when
their platform had no snapshot source of its own: the web archives became a source for every platform.
0008 sets ``PRAGMA application_id`` to 0x41524356 ("ARCV", ``store.db.APPLICATION_ID``; a new archive
gets it with 0001): ``open_db`` refuses any other non-empty database before writing to it.
"""
from __future__ import annotations

from importlib.resources import files


def load_migrations() -> list[str]:
    """Every migration's SQL, in order."""
    scripts = sorted((p for p in files(__name__).iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    numbers = [int(p.name.split("_", 1)[0]) for p in scripts]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return [p.read_text(encoding="utf-8") for p in scripts]


MIGRATIONS: list[str] = load_migrations()
