"""What upstream endpoints told us about their limits (429s), kept for the next run: ``endpoint_limits``."""
from __future__ import annotations

from archiver.store.db import dict_rows, transaction

_COLUMNS = ("endpoint", "slowdown", "slowed_until", "paused_until", "throttled_at", "throttles")


def load_endpoint_limits(db) -> list[dict]:
    """Every endpoint an earlier run found paused or slowed."""
    return dict_rows(db.execute(f"SELECT {', '.join(_COLUMNS)} FROM endpoint_limits ORDER BY endpoint"))


def save_endpoint_limits(db, rows: list[dict]) -> None:
    """Replace the kept limits with these (an endpoint no longer paused or slowed is dropped)."""
    with transaction(db):
        db.execute("DELETE FROM endpoint_limits")
        for row in rows:
            db.execute(f"INSERT INTO endpoint_limits ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                       [row.get(c) for c in _COLUMNS])
