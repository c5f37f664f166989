"""The accuracy bar, computed over the whole labelled corpus in ../shared/corpus."""
from __future__ import annotations

import pytest

from tests.corpus_score import CORPUS, corpus_available, manifest, score, shared_absent

pytestmark = pytest.mark.skipif(not corpus_available(), reason=shared_absent(CORPUS))


@pytest.fixture(scope="module")
def result():
    return score()


def _count(platform: str, kind: str) -> int:
    return sum(1 for e in manifest() if e["kind"] == kind
               for label in e["embeds"] if label["platform"] == platform and not label.get("ambiguous"))


def test_corpus_holds_what_the_bar_is_about():
    assert _count("twitter", "html") == 93
    assert _count("twitter", "text") == 40


def test_twitter_recall_and_precision_are_perfect(result):
    assert result.fn["twitter"] == 0, result.report()
    assert result.fp["twitter"] == 0, result.report()
    assert result.tp["twitter"] == 93 + 40


def test_twitter_handle_and_date_right_on_every_embed(result):
    assert result.wrong_fields == [], result.report()


@pytest.mark.parametrize("platform", ["instagram", "facebook", "youtube"])
def test_other_platforms_meet_the_bar(result, platform):
    assert result.recall(platform) >= 0.95, result.report()
    assert result.precision(platform) >= 0.95, result.report()


def test_nothing_found_in_negatives(result):
    extras = [x for x in result.extras
              if next(e for e in manifest() if e["file"] == x[0])["category"] != "positive"]
    assert extras == []
