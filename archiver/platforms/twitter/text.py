"""Tweets flattened into plain text: the blockquote signature and the rendered widget card.

Two shapes survive text extraction:

- ``flattened-signature``: ``TEXT [pic.twitter.com/CODE] — Name (@handle) Month D, YYYY``, the
  signature on the text's line or on a line of its own (after a blank line or not);
- ``flattened-rendered-card``: what is left of a rendered widget: ``Follow`` / ``Name @handle`` /
  text / ``9:07 AM - 28 Dec 2016`` / ``1,234 1,234 Retweets 5,678 5,678 likes``.

Every search is anchored on something rare ("(@handle)" followed by a date, a "time - date" line)
and looks back a bounded distance, so the cost stays linear in the text.
"""
from __future__ import annotations

import heapq
import re

from archiver.platforms.dates import parse_embed_date
from archiver.models import Embed
from archiver.platforms.markup import RAW_CAP
from archiver.platforms.twitter.urls import NAME, pic_links

DETECTOR = "twitter.text"
FIRST_TWEET_YEAR = 2006
_MAX_NAME_CHARS = 80  # dash to "(@handle)"; display names are at most 50 characters
_MAX_TEXT_LINES = 40
_MAX_TEXT_CHARS = 6000
_MAX_BLANK_LINES = 3  # between a tweet's text and a signature standing on its own line
_MAX_CARD_LINES = 25
_MAX_COUNT_LINES = 6
_DATEPARSER_CALLS = 5  # per text

_SP = r"[ \t\u00a0\u202f]"
_HANDLE = r"[A-Za-z0-9_]{1,15}"
# Letters, plus the combining vowel signs of Indic and Thai scripts that \w leaves out.
_LETTER = r"(?:[^\W\d_]|[\u0300-\u036f\u0900-\u0dff\u0e00-\u0e7f])"
_MONTH_WORD = _LETTER + r"{2,15}[.\u05f3]?"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er|\.)?"
_YEAR = r"\d{4}(?!\d)"
_DATE_FORMS = (
    _MONTH_WORD + _SP + r"*" + _DAY + r",?" + _SP + r"+" + _YEAR,  # February 4, 2026
    _DAY + _SP + r"*(?:de" + _SP + r"+|d['’])?" + _MONTH_WORD + r",?" + _SP + r"+(?:de" + _SP
    + r"+|del" + _SP + r"+)?" + _YEAR + r"(?:" + _SP + r"*(?:г\.?|r\.))?",  # 4 февраля 2026 г.
    _YEAR + r"\.?" + _SP + r"*" + _MONTH_WORD + _SP + r"*" + _DAY,  # 2018. szeptember 25.
    _YEAR + _SP + r"*[年년]" + _SP + r"*\d{1,2}" + _SP + r"*[月월]" + _SP + r"*\d{1,2}" + _SP + r"*[日일]?",
    r"\d{1,2}" + _SP + r"+tháng" + _SP + r"+\d{1,2},?" + _SP + r"+" + _YEAR,
)

# "(@handle)" and the date after it, at most one line break further; the name and dash are
# looked for backwards from here.
_SIG = re.compile(
    r"\(" + _SP + r"*@(?P<handle>" + _HANDLE + r")" + _SP + r"*\)"
    + _SP + r"*(?:\r?\n" + _SP + r"*)?(?P<date>" + "|".join(_DATE_FORMS) + ")"
)
# Em dash, en dash, horizontal bar, cp1252 0x97 decoded as Latin-1, "--", or a hyphen standing alone.
_DASH = re.compile(r"[\u2014\u2013\u2015\u0097]|--|(?<![^\s>])-(?=\s)")

# "^" only knows "\n" line ends, but it lets the engine skip ahead fast; old-Mac "\r"-only
# texts lose the card form.
_CARD_TIME = re.compile(
    r"(?m)^[ \t]*(?:(?:午前|午後|오전|오후)[ \t]*)?\d{1,2}:\d{2}(?:[ \t]*[AaPp]\.?[ \t]?[Mm]\.?)?"
    r"[ \t]*[-\u2013\u2014\u00b7|][ \t]*(?P<date>" + "|".join(_DATE_FORMS) + r")"
    r"(?:[ \t]*\u00b7[^\r\n]{0,60})?[ \t]*(?=[\r\n]|\Z)"  # "· Twitter for iPhone"
)
_FOLLOW_WORDS = r"(?:follow|following|folgen|suivre|seguir|segui|volgen|obserwuj)"
_FOLLOW = re.compile(_FOLLOW_WORDS, re.IGNORECASE)
_CARD_HEADER = re.compile(
    r"(?P<name>[^\r\n@]{0,60}?)" + _SP + r"*@(?P<handle>" + _HANDLE + r")(?:" + _SP + r"+(?i:"
    + _FOLLOW_WORDS + r"))?"
)
_COUNT_WORDS = frozenset(
    "retweet retweets like likes favorite favorites favourite favourites reply replies quote quotes"
    " tweets people are talking about this".split()
)
_NUMBER = re.compile(r"\d[\d.,]*[km]?")
_ACTIONS = re.compile(
    r"(?:reply|retweet|like|share|copy link(?: to tweet)?|read \d[\d.,]*[KkMm]? repl(?:y|ies)"
    r"|twitter ads info and privacy)",
    re.IGNORECASE,
)
_LOST_BADGE = re.compile(r"(?:\s+(?:\?+|[\u2713\u2714\u2611]|verified account))+$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"“”‘’]+|\bt\.co/[A-Za-z0-9]+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?)]}'…"
_QUOTE_MARKS = re.compile(r"^[ \t>]+", re.MULTILINE)
_WS = re.compile(r"\s+")
_EOL = re.compile(r"[\r\n]")
_WORD = re.compile(_LETTER + "+")


def detect_text(text: str) -> list[Embed]:
    """Tweets flattened into plain text, in document order."""
    if not text or "@" not in text:
        return []
    anchors = heapq.merge(
        ((m.start(), 0, m) for m in _SIG.finditer(text)),
        ((m.start(), 1, m) for m in _CARD_TIME.finditer(text)),
        key=lambda a: a[:2],
    )
    found: list[Embed] = []
    seen: set[tuple] = set()
    floor = 0  # end of the previous embed: the next tweet's text cannot start before it
    budget = [_DATEPARSER_CALLS]
    for pos, kind, m in anchors:
        if pos < floor:
            continue
        embed, end = (_card if kind else _signature)(text, m, floor, budget)
        if embed is None:
            continue
        floor = end
        # The same post quoted twice counts once; equal keys with different texts are two posts.
        identity = (embed.key(), embed.text)
        if embed.text is None or identity not in seen:
            seen.add(identity)
            found.append(embed)
    return found


# --- flattened signature -------------------------------------------------------------------


def _signature(text: str, m: re.Match, floor: int, budget: list[int]) -> tuple[Embed | None, int]:
    """The tweet closed by '— Name (@handle) Date' around a "(@handle) Date" match."""
    dash = _signature_dash(text, m.start(), floor)
    if dash is None:
        return None, 0
    date = _tweet_date(m.group("date"), budget)
    if date is None:
        return None, 0
    name = _clean(text[dash.end():m.start()])
    start, end = _signature_text_span(text, dash.start(), floor)
    body = text[start:end]
    embed = Embed(
        platform=NAME, markup="flattened-signature", detector=DETECTOR,
        handle=m.group("handle"), author_name=name, date=date, date_text=_clean(m.group("date")),
        text=_clean(body), pic_links=pic_links(body), links=_links(body), context="text",
        position=start, raw=text[start:m.end()][:RAW_CAP],
    )
    return embed, m.end()


def _signature_dash(text: str, handle_pos: int, floor: int) -> re.Match | None:
    """The dash opening the signature: the last one before the name, a real dash over a hyphen."""
    line_start = _line_start(text, handle_pos, max(floor, handle_pos - _MAX_NAME_CHARS))
    dashes = list(_DASH.finditer(text, line_start, handle_pos))
    strong = [d for d in dashes if d.group() != "-"]
    return (strong or dashes or [None])[-1]


def _signature_text_span(text: str, dash: int, floor: int) -> tuple[int, int]:
    """Where the tweet text closed by the signature at `dash` starts and ends."""
    lo = max(floor, dash - _MAX_TEXT_CHARS)
    line_start = _line_start(text, dash, lo)
    if not _blank(text[line_start:dash]):
        return _skip_space(text, _paragraph_start(text, line_start, lo), dash), dash
    # The signature stands on its own line: the tweet is the paragraph just above it.
    start = line_start
    for _ in range(_MAX_BLANK_LINES + 1):
        if start <= lo:
            break
        prev_start, prev_end = _previous_line(text, start, lo)
        if not _blank(text[prev_start:prev_end]):
            begin = _paragraph_start(text, prev_start, lo)
            return _skip_space(text, begin, prev_end), prev_end
        start = prev_start
    return dash, dash


# --- rendered card -------------------------------------------------------------------------


def _card(text: str, m: re.Match, floor: int, budget: list[int]) -> tuple[Embed | None, int]:
    """The rendered widget whose 'time - date' line is `m`, read upwards to its header."""
    date = _tweet_date(m.group("date"), budget)
    if date is None:
        return None, 0
    lines = _lines_above(text, m.start(), max(floor, m.start() - _MAX_TEXT_CHARS))
    stripped = [text[s:e].strip() for s, e in lines]
    follow = next((i for i, line in enumerate(stripped) if _FOLLOW.fullmatch(line)), None)
    head = _card_header(stripped, follow)
    counts_end = _counts_end(text, m.end())
    if head is None or (follow is None and counts_end is None):
        return None, 0  # a "Name @handle" line over a time line alone could be a live blog
    header, hm = head
    name, name_line = _card_name(hm, stripped, header, follow)
    text_lines = lines[:min(i for i in (header, follow) if i is not None)]
    if text_lines:
        start, body_end = _skip_space(text, text_lines[-1][0], text_lines[0][1]), text_lines[0][1]
    else:
        start = body_end = _skip_space(text, *lines[header])
    top = lines[max(i for i in (header, follow, name_line) if i is not None)]
    end = counts_end if counts_end is not None else m.end()
    body = text[start:body_end]
    embed = Embed(
        platform=NAME, markup="flattened-rendered-card", detector=DETECTOR,
        handle=hm.group("handle"), author_name=name, date=date,
        date_text=_clean(m.group("date")), text=_clean(body), pic_links=pic_links(body),
        links=_links(body), context="text", position=start,
        raw=text[_skip_space(text, top[0], end):end][:RAW_CAP],
    )
    return embed, end


def _card_header(stripped: list[str], follow: int | None) -> tuple[int, re.Match] | None:
    """(index, match) of the card's "Name @handle" or "@handle" line among the lines above."""
    if follow is not None:
        # Later widgets: "Name" / "@handle" / ["·"] / "Follow"; the 2016 one: "Follow" / "Name @handle".
        order = [(follow + 1, True), (follow + 2, True), (follow - 1, False), (follow + 1, False)]
    else:
        # No "Follow": the topmost header-like line of the block, as tweet text may end with a mention.
        block = next((i for i, line in enumerate(stripped) if not line), len(stripped))
        order = [(i, False) for i in reversed(range(block))]
    for i, bare_only in order:
        if 0 <= i < len(stripped):
            hm = _CARD_HEADER.fullmatch(stripped[i])
            if hm and not (bare_only and hm.group("name").strip()):
                return i, hm
    return None


def _card_name(hm: re.Match, stripped: list[str], header: int, follow: int | None) -> tuple[str | None, int | None]:
    """(display name, index of its own line or None): on the header line or the line above it."""
    name = _LOST_BADGE.sub("", hm.group("name").strip())
    if name:
        return name, None
    above = header + 1
    if above < len(stripped) and above != follow and 0 < len(stripped[above]) <= 60 \
            and "@" not in stripped[above]:
        return _LOST_BADGE.sub("", stripped[above]) or None, above
    return None, None


def _counts_end(text: str, pos: int) -> int | None:
    """End of the count and action lines after a card's time line, None when there are none."""
    end = None
    for _ in range(_MAX_COUNT_LINES):
        line_start = _next_line_start(text, pos)
        if line_start is None:
            break
        line_end = _line_end(text, line_start)
        if line_end - line_start > 200 or not _is_counts_line(text[line_start:line_end]):
            break
        end = pos = line_end
    return end


def _is_counts_line(line: str) -> bool:
    """'4,101 4,101 Retweets   3,957 3,957 likes', '1.2K', 'Reply', 'Copy link to Tweet'."""
    line = line.strip()
    if _ACTIONS.fullmatch(line):
        return True
    tokens = line.lower().split()
    return bool(tokens) and any(t[0].isdigit() for t in tokens) and all(
        t in _COUNT_WORDS or _NUMBER.fullmatch(t) for t in tokens)


# --- shared helpers ------------------------------------------------------------------------


def _tweet_date(date_text: str, budget: list[int]) -> str | None:
    """ISO date of a footer date, only when it could be a tweet's."""
    iso = parse_embed_date(date_text, fallback=False)
    if iso is None and budget[0] > 0 and _may_be_foreign_date(date_text):
        # Month names the table lacks (Hindi, Lithuanian, ...): dateparser, a few times per text at
        # most, since its import costs a second and each miss tens of milliseconds.
        budget[0] -= 1
        iso = parse_embed_date(date_text)
    return iso if iso and int(iso[:4]) >= FIRST_TWEET_YEAR else None


def _may_be_foreign_date(date_text: str) -> bool:
    """Whether dateparser might know a date the table does not: a non-ASCII, single-script word."""
    if date_text.isascii():
        return False  # the table has every month name Twitter writes in ASCII
    for word in _WORD.findall(date_text):
        latin = [c <= "\u024f" for c in word]
        if any(latin) and not all(latin):
            return False  # "wordфевраля": junk glued to a month name
    return True


def _line_start(text: str, pos: int, lo: int) -> int:
    """Start of the line holding `pos`, not before `lo`."""
    newline = text.rfind("\n", lo, pos)
    # A lone "\r" ends a line too; look for one only after the last "\n", which keeps this cheap.
    return max(newline, text.rfind("\r", max(newline + 1, lo), pos), lo - 1) + 1


def _line_end(text: str, pos: int) -> int:
    m = _EOL.search(text, pos)
    return m.start() if m else len(text)


def _next_line_start(text: str, pos: int) -> int | None:
    """Start of the line after the one that ends at or after `pos`."""
    end = _line_end(text, pos)
    if end >= len(text):
        return None
    return end + 2 if text.startswith("\r\n", end) else end + 1


def _previous_line(text: str, line_start: int, lo: int) -> tuple[int, int]:
    """(start, end) of the line before the one starting at `line_start`, clipped at `lo`."""
    end = line_start - 1
    if end > lo and text[end] == "\n" and text[end - 1] == "\r":
        end -= 1
    end = max(end, lo)
    return _line_start(text, end, lo), end


def _paragraph_start(text: str, line_start: int, lo: int) -> int:
    """Start of the paragraph holding the line at `line_start`: up to a blank line or `lo`."""
    start = line_start
    for _ in range(_MAX_TEXT_LINES):
        if start <= lo:
            break
        prev_start, prev_end = _previous_line(text, start, lo)
        if _blank(text[prev_start:prev_end]):
            break
        start = prev_start
    return start


def _lines_above(text: str, pos: int, lo: int) -> list[tuple[int, int]]:
    """(start, end) of up to _MAX_CARD_LINES lines above the line at `pos`, nearest first."""
    lines = []
    start = _line_start(text, pos, lo)
    while start > lo and len(lines) < _MAX_CARD_LINES:
        start, end = _previous_line(text, start, lo)
        lines.append((start, end))
    return lines


def _blank(segment: str) -> bool:
    return not segment.replace(">", " ").strip()


def _skip_space(text: str, start: int, end: int) -> int:
    while start < end and (text[start].isspace() or text[start] == ">"):
        start += 1
    return start


def _clean(segment: str) -> str | None:
    """One line of text: quote markers at line starts dropped, whitespace runs collapsed."""
    return _WS.sub(" ", _QUOTE_MARKS.sub("", segment)).strip() or None


def _links(body: str) -> tuple[str, ...]:
    """URLs in a tweet's text other than its pic links, in order, once each."""
    found = []
    for m in _URL.finditer(body):
        url = m.group(0).rstrip(_URL_TRAIL)
        if "pic.twitter.com/" not in url.lower() and "pic.x.com/" not in url.lower():
            found.append(url)
    return tuple(dict.fromkeys(found))
