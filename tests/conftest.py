"""Shared fixtures: the local upstream server, the local Time-Stamp Authority and a fresh archive path."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.tsa import tsa  # noqa: F401  (fixture: one local TSA for the whole run)
from tests.upstream import upstream, upstream_factory  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A fresh archive path in a temporary folder."""
    return tmp_path / "archive.db"
