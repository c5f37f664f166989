"""Shared fixtures: the local upstream server, the corpus and samples read in place."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.upstream import upstream, upstream_factory  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"


@pytest.fixture
def db_path(tmp_path) -> Path:
    """A fresh archive path in a temporary folder."""
    return tmp_path / "archive.db"


@pytest.fixture
def corpus_dir() -> Path:
    """../shared/corpus, or a skip with the reason."""
    path = SHARED / "corpus"
    if not (path / "manifest.jsonl").is_file():
        pytest.skip(f"the shared corpus is not at {path} (it sits beside the checkout in CI)")
    return path
