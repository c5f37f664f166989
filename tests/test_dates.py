"""Embed footer dates to ISO: the corpus's labelled footers, then hand-written forms."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archiver.platforms.dates import month_number, parse_embed_date, parse_time_date
from tests.corpus_score import CORPUS, corpus_available, manifest, shared_absent

REPO = Path(__file__).resolve().parents[1]


def _corpus_pairs() -> list:
    """Every distinct (date_text, date) of a labelled Twitter embed."""
    if not corpus_available():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=shared_absent(CORPUS)))]
    return sorted({(embed["date_text"], embed["date"]) for entry in manifest() for embed in entry["embeds"]
                   if embed["platform"] == "twitter" and embed.get("date_text") and embed.get("date")})


@pytest.mark.parametrize(("date_text", "expected"), _corpus_pairs())
def test_corpus_footer_dates(date_text, expected):
    assert parse_embed_date(date_text) == expected


@pytest.mark.parametrize(("date_text", "expected"), [
    ("February 4, 2026", "2026-02-04"),
    ("Feb 4, 2026", "2026-02-04"),
    ("28 Dec 2016", "2016-12-28"),
    ("Sept. 5, 2018", "2018-09-05"),
    ("December 4th, 2016", "2016-12-04"),
    ("August 1st, 2019", "2019-08-01"),
    ("  March\u00a014,   2020 ", "2020-03-14"),
    ("25. September 2018", "2018-09-25"),
    ("6. März 2018", "2018-03-06"),
    ("4. Feb. 2026", "2026-02-04"),
    ("4 февраля 2026 г.", "2026-02-04"),
    ("16 мая 2018 г.", "2018-05-16"),
    ("1er mars 2018", "2018-03-01"),
    ("15 févr. 2019", "2019-02-15"),
    ("5 septembre 2018", "2018-09-05"),
    ("5 de septiembre de 2018", "2018-09-05"),
    ("5 de setembro de 2018", "2018-09-05"),
    ("5 settembre 2018", "2018-09-05"),
    ("5 september 2018", "2018-09-05"),
    ("5 mrt. 2018", "2018-03-05"),
    ("5 września 2018", "2018-09-05"),
    ("5 listopada 2018 r.", "2018-11-05"),
    ("5 d’abril de 2018", "2018-04-05"),
    ("25 Eylül 2018", "2018-09-25"),
    ("25 Σεπτεμβρίου 2018", "2018-09-25"),
    ("٢٥ سبتمبر ٢٠١٨", "2018-09-25"),
    ("2018. szeptember 25.", "2018-09-25"),
    ("2018年9月25日", "2018-09-25"),
    ("2018년 9월 25일", "2018-09-25"),
    ("25 tháng 9, 2018", "2018-09-25"),
    ("2018-09-25", "2018-09-25"),
])
def test_hand_written_dates(date_text, expected):
    assert parse_embed_date(date_text) == expected


@pytest.mark.parametrize("garbage", [
    None, 5, "", "   ", "garbage", "2016", "December 2016", "yesterday", "2 days ago",
    "in 2 days 2026", "February 30, 2016", "Dec 28, 2016 and 5", "4 February 0999", "x" * 500,
])
def test_garbage_is_none(garbage):
    assert parse_embed_date(garbage) is None


@pytest.mark.parametrize(("line", "expected"), [
    ("9:07 AM - 28 Dec 2016", "2016-12-28"),
    ("11:22 PM - 19 Oct 2016", "2016-10-19"),
    ("21:07 - 28. Dez. 2016", "2016-12-28"),
    ("9:07 AM · Dec 28, 2016", "2016-12-28"),
    ("午後9:07 - 2016年12月28日", "2016-12-28"),
    ("9:07 AM", None),
    ("nonsense", None),
    (None, None),
])
def test_parse_time_date(line, expected):
    assert parse_time_date(line) == expected


@pytest.mark.parametrize(("name", "number"), [
    ("Sept.", 9), ("sep", 9), ("MÄRZ", 3), ("février", 2), ("февраля", 2), ("grudnia", 12),
    ("mei", 5), ("août", 8), ("nonsense", None),
])
def test_month_number(name, number):
    assert month_number(name) == number


def test_fallback_off_uses_the_table_only():
    assert parse_embed_date("25 सितंबर 2018", fallback=False) is None
    assert parse_embed_date("25 September 2018", fallback=False) == "2018-09-25"


def test_dateparser_knows_what_the_table_lacks():
    pytest.importorskip("dateparser")
    assert parse_embed_date("25 सितंबर 2018") == "2018-09-25"


def test_table_dates_do_not_import_dateparser():
    code = (
        "import sys\n"
        "from archiver.platforms.dates import parse_embed_date\n"
        "assert parse_embed_date('Feb 4, 2026') == '2026-02-04'\n"
        "assert parse_embed_date('4 февраля 2026 г.') == '2026-02-04'\n"
        "assert parse_embed_date('February 30, 2016') is None\n"
        "print('dateparser' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
