"""Dates as displayed in embed footers ("Feb 4, 2026", "25. September 2018", "4 февраля 2026 г.") to ISO."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

# Twelve entries per language, each the space-separated spellings of one month as embed footers
# show them (full, genitive, abbreviated without the dot). Add languages by adding rows; a spelling
# that two languages give different months (Croatian "listopad" is October, Polish November) fails
# the import, so such a language is left to dateparser.
_MONTH_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("january jan", "february feb", "march mar", "april apr", "may", "june jun",
           "july jul", "august aug", "september sep sept", "october oct", "november nov",
           "december dec"),
    "de": ("januar jänner jan", "februar feber feb", "märz mär maerz", "april apr", "mai",
           "juni jun", "juli jul", "august aug", "september sep sept", "oktober okt",
           "november nov", "dezember dez"),
    "fr": ("janvier janv", "février fevrier févr fevr fév", "mars", "avril avr", "mai",
           "juin", "juillet juil", "août aout", "septembre sept", "octobre oct",
           "novembre nov", "décembre decembre déc"),
    "es": ("enero ene", "febrero feb", "marzo mar", "abril abr", "mayo may", "junio jun",
           "julio jul", "agosto ago", "septiembre setiembre sep sept set", "octubre oct",
           "noviembre nov", "diciembre dic"),
    "pt": ("janeiro jan", "fevereiro fev", "março marco mar", "abril abr", "maio mai",
           "junho jun", "julho jul", "agosto ago", "setembro set", "outubro out",
           "novembro nov", "dezembro dez"),
    "it": ("gennaio gen", "febbraio feb", "marzo mar", "aprile apr", "maggio mag",
           "giugno giu", "luglio lug", "agosto ago", "settembre set", "ottobre ott",
           "novembre nov", "dicembre dic"),
    "nl": ("januari jan", "februari feb", "maart mrt", "april apr", "mei", "juni jun",
           "juli jul", "augustus aug", "september sep sept", "oktober okt", "november nov",
           "december dec"),
    "pl": ("stycznia styczeń styczen sty", "lutego luty lut", "marca marzec mar",
           "kwietnia kwiecień kwi", "maja maj", "czerwca czerwiec cze", "lipca lipiec lip",
           "sierpnia sierpień sie", "września wrzesień wrz", "października październik paź",
           "listopada listopad lis", "grudnia grudzień gru"),
    "ru": ("января январь янв", "февраля февраль февр фев", "марта март мар",
           "апреля апрель апр", "мая май", "июня июнь июн", "июля июль июл",
           "августа август авг", "сентября сентябрь сент сен", "октября октябрь окт",
           "ноября ноябрь нояб ноя", "декабря декабрь дек"),
    "uk": ("січня січень січ", "лютого лютий лют", "березня березень бер",
           "квітня квітень квіт кві", "травня травень трав тра", "червня червень черв чер",
           "липня липень лип", "серпня серпень серп сер", "вересня вересень вер",
           "жовтня жовтень жовт жов", "листопада листопад лист", "грудня грудень груд"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"),
    "da": ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
           "september", "oktober", "november", "desember des"),
    "fi": ("tammikuuta tammikuu", "helmikuuta helmikuu", "maaliskuuta maaliskuu",
           "huhtikuuta huhtikuu", "toukokuuta toukokuu", "kesäkuuta kesäkuu",
           "heinäkuuta heinäkuu", "elokuuta elokuu", "syyskuuta syyskuu", "lokakuuta lokakuu",
           "marraskuuta marraskuu", "joulukuuta joulukuu"),
    "tr": ("ocak oca", "şubat şub", "mart", "nisan nis", "mayıs", "haziran haz",
           "temmuz tem", "ağustos ağu", "eylül eyl", "ekim eki", "kasım kas", "aralık ara"),
    "cs": ("ledna leden", "února únor", "března březen", "dubna duben", "května květen",
           "června červen", "července červenec", "srpna srpen", "září", "října říjen",
           "listopadu", "prosince prosinec"),
    "ca": ("gener", "febrer febr", "març", "abril", "maig", "juny", "juliol", "agost ag",
           "setembre", "octubre", "novembre", "desembre"),
    "ro": ("ianuarie ian", "februarie", "martie", "aprilie", "mai", "iunie iun",
           "iulie iul", "august", "septembrie", "octombrie", "noiembrie", "decembrie"),
    "hu": ("január", "február febr", "március márc", "április ápr", "május máj",
           "június jún", "július júl", "augusztus", "szeptember szept", "október",
           "november", "december"),
    "id": ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus agu agt",
           "september", "oktober", "november", "desember"),
    "ms": ("januari", "februari", "mac", "april", "mei", "jun", "julai", "ogos", "september",
           "oktober", "november", "disember dis"),
    "fil": ("enero", "pebrero peb", "marso", "abril", "mayo", "hunyo hun", "hulyo hul", "agosto",
            "setyembre", "oktubre", "nobyembre nob", "disyembre"),
    "gl": ("xaneiro xan", "febreiro", "marzo", "abril", "maio", "xuño xuñ", "xullo xul", "agosto",
           "setembro", "outubro", "novembro", "decembro"),
    "sk": ("januára", "februára", "marca", "apríla", "mája", "júna", "júla", "augusta",
           "septembra", "októbra", "novembra", "decembra"),
    "sr": ("januar јануар", "februar фебруар", "mart март", "april април", "maj мај", "jun јун",
           "jul јул", "avgust август", "septembar септембар", "oktobar октобар", "novembar новембар",
           "decembar децембар"),
    "he": ("ינואר בינואר", "פברואר בפברואר", "מרץ במרץ", "אפריל באפריל", "מאי במאי", "יוני ביוני",
           "יולי ביולי", "אוגוסט באוגוסט", "ספטמבר בספטמבר", "אוקטובר באוקטובר", "נובמבר בנובמבר",
           "דצמבר בדצמבר"),
    "el": ("ιανουαρίου ιαν", "φεβρουαρίου φεβ", "μαρτίου μαρ", "απριλίου απρ", "μαΐου μαΐ",
           "ιουνίου ιουν", "ιουλίου ιουλ", "αυγούστου αυγ", "σεπτεμβρίου σεπ",
           "οκτωβρίου οκτ", "νοεμβρίου νοε", "δεκεμβρίου δεκ"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل ابريل", "مايو", "يونيو", "يوليو",
           "أغسطس اغسطس", "سبتمبر", "أكتوبر اكتوبر", "نوفمبر", "ديسمبر"),
}
# Words around the numbers that carry no date information: "5 de septiembre de 2018", "4th",
# "1er", "4 февраля 2026 г.", "5 września 2018 r.", "d'abril".
_FILLER = frozenset("de del di d of the st nd rd th er e º ª г r".split())
_TOKEN = re.compile(r"\d+|[^\W\d_]+|[ºª]")
_CJK = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_VIETNAMESE = re.compile(r"(\d{1,2})\s+tháng\s+(\d{1,2}),?\s+(\d{4})")
_TIME = re.compile(
    r"(?:(?:午前|午後|오전|오후)\s*|\b)\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[ap]\.?\s?m\b\.?|uhr\b))?",
    re.IGNORECASE,
)
_MAX_LEN = 80
_UNKNOWN = object()  # the table does not know the form: ask dateparser (an invalid known form is None)
MIN_YEAR, MAX_YEAR = 1900, 2100


def _build_month_table() -> dict[str, int]:
    table: dict[str, int] = {}
    for months in _MONTH_NAMES.values():
        for number, spellings in enumerate(months, start=1):
            for word in spellings.split():
                word = unicodedata.normalize("NFC", word)
                if table.setdefault(word, number) != number:
                    raise ValueError(f"month name {word!r} means two months")
    return table


_MONTHS = _build_month_table()


def month_number(name: str) -> int | None:
    """The month (1-12) a month name or abbreviation means in any table language, else None."""
    if not isinstance(name, str):
        return None
    return _MONTHS.get(unicodedata.normalize("NFC", name).strip().rstrip(".").lower())


def iso_day(value: str | None) -> str | None:
    """YYYY-MM-DD at the start of a machine date (a ``<time datetime>``), or None."""
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value or "")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def parse_embed_date(text: str, fallback: bool = True) -> str | None:
    """ISO YYYY-MM-DD for a date as an embed footer displays it; None when it is not one.

    With ``fallback=False`` only the month table is used, never the slow dateparser.
    """
    if not isinstance(text, str):
        return None
    key = " ".join(unicodedata.normalize("NFC", text).split()).lower()
    if not key or len(key) > _MAX_LEN:
        return None
    return _parse_cached(key) if fallback else _parse_table_only(key)


def parse_time_date(text: str, fallback: bool = True) -> str | None:
    """ISO date of a rendered card's "9:07 AM - 28 Dec 2016" line (the time is dropped)."""
    if not isinstance(text, str):
        return None
    rest = _TIME.sub(" ", text, count=1).strip(" \t\r\n-–—·|,")
    return parse_embed_date(rest, fallback)


@lru_cache(maxsize=4096)
def _parse_cached(key: str) -> str | None:
    try:
        found = _parse_table(key)
        if found is not _UNKNOWN:
            return found
        return _parse_with_dateparser(key)
    except Exception:  # noqa: BLE001 - a footer date is best effort; garbage must never raise
        return None


@lru_cache(maxsize=4096)
def _parse_table_only(key: str) -> str | None:
    try:
        found = _parse_table(key)
    except Exception:  # noqa: BLE001
        return None
    return None if found is _UNKNOWN else found


def _iso(year: int, month: int, day: int) -> str | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _parse_table(key: str) -> str | None | object:
    """Numeric forms and "<day> <month name> <year>" in any order; _UNKNOWN when not such a form."""
    for pattern, order in ((_CJK, (0, 1, 2)), (_ISO, (0, 1, 2)), (_VIETNAMESE, (2, 1, 0))):
        m = pattern.search(key)
        if m:
            y, mo, d = (int(m.group(i + 1)) for i in order)
            return _iso(y, mo, d)
    month = None
    numbers = []
    for token in _TOKEN.findall(key):
        if token.isdigit():
            numbers.append(token)
        elif token in _FILLER:
            continue
        elif month is None and token in _MONTHS:
            month = _MONTHS[token]
        else:
            return _UNKNOWN
    if month is None or len(numbers) != 2:
        return _UNKNOWN
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return _UNKNOWN
    return _iso(int(years[0]), month, int(days[0]))


def _parse_with_dateparser(key: str) -> str | None:
    """Languages the table lacks; only for strings with a year and a day, since it is slow."""
    numbers = [int(n) for n in re.findall(r"\d+", key)]
    if not any(MIN_YEAR <= n <= MAX_YEAR for n in numbers) or not any(1 <= n <= 31 for n in numbers):
        return None
    import dateparser  # lazy: importing it costs about a second

    parsed = dateparser.parse(key, settings={"STRICT_PARSING": True,
                                             "REQUIRE_PARTS": ["day", "month", "year"]})
    # Relative phrases ("in 2 days 2026") parse against today: keep only dates spelled out in full.
    if parsed is None or parsed.year not in numbers or parsed.day not in numbers:
        return None
    return _iso(parsed.year, parsed.month, parsed.day)
