"""detect(article) -> list[Embed]: every platform's signatures over a page or a text.

Speed matters (detection runs on every page a newsroom publishes), so an HTML page is handled in three
steps: one multi-pattern scan of its bytes tells which signature hints occur at all (none: no parse);
each platform signature whose hints occur runs its XPath on the parsed tree; markup hidden in textareas,
attributes and script JSON is parsed only where its escaped form occurs.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

import ahocorasick_rs
from lxml import etree

from archiver.detect.dedupe import dedupe
from archiver.models import Article, Embed
from archiver.platforms import load_platforms
from archiver.platforms.markup import clean_head, clean_text, text_content

DETECTOR_VERSION = "2"

_MAX_NESTED_DEPTH = 2
_WINDOW = 64 * 1024
_PACKED = 64  # patterns per fast automaton: the most the crate's packed SIMD search takes
_FINGERPRINT = 3  # bytes of each pattern the packed search fingerprints at most
_CHUNK = 1 << 20  # bytes of a page scanned for hints at a time
_DENSE = 1000  # fast matches in a chunk past which one overlapping scan of it is cheaper than windows
_MAX_HITS = 2000  # positions kept per page: enough to find every placeholder, bounded for hostile pages
# Escaped embed markup: in a <textarea> or an attribute (HTML-escaped), or in script JSON (backslash-escaped).
_NESTED = {
    "textarea": ("<textarea",),
    "attr": ("&lt;blockquote", "&lt;iframe", "&#60;blockquote", "&#x3c;blockquote"),
    "script": ('<blockquote class=\\"', "<blockquote class=\\'", "\\u003cblockquote", "\\x3cblockquote",
               "<iframe src=\\\"", "\\u003ciframe", '\\"https:\\/\\/', "data-embedded-url=\\\""),
}
_NESTED_MARKERS = ("<blockquote", "<iframe", "<amp-", "<div")
_JS_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")
_ATTR_NAME_BEFORE = re.compile(rb"""\s(data-[a-z0-9_.:-]{1,60}|src)\s*=\s*["']?[^"'<>]*\Z""")
_ABSOLUTE_STEP = re.compile(r"(^|[|(]\s*)//")


def _compile(xpath: str) -> etree.XPath:
    """An XPath whose ``//x`` steps run as ``/descendant::x``: the same nodes, about a fifth faster.

    ``//x`` is ``/descendant-or-self::node()/child::x``, which libxml2 evaluates one node set per node.
    """
    return etree.XPath(_ABSOLUTE_STEP.sub(r"\1/descendant::", xpath))


_TEXTAREA_XPATH = _compile("//textarea")
_ATTR_XPATH = _compile("//*/@*[contains(., '<blockquote') or contains(., '<iframe')]/..")
_SCRIPT_XPATH = _compile("//script")


@dataclass(frozen=True)
class Signature:
    """One embed signature of a platform: an XPath that runs only when one of its hints occurs."""

    platform: object  # the platform module
    hints: tuple[str, ...]
    xpath: etree.XPath


class _Registry:
    """Every platform's signatures and one automaton over all their hints."""

    def __init__(self):
        self.platforms = load_platforms()
        self.signatures: list[Signature] = []
        self.url_markers: dict[str, list] = {}
        compiled: dict[str, etree.XPath] = {}  # one XPath object per expression: platforms share several
        for mod in self.platforms:
            for hints, xpath in mod.SIGNATURES:
                if xpath not in compiled:
                    compiled[xpath] = _compile(xpath)
                self.signatures.append(Signature(mod, tuple(h.lower() for h in hints), compiled[xpath]))
            for marker in getattr(mod, "URL_MARKERS", ()):
                self.url_markers.setdefault(marker.lower(), []).append(mod)
        self.hint_set = frozenset(h for s in self.signatures for h in s.hints) | frozenset(self.url_markers)
        self.by_hint: dict[str, list[int]] = {}  # hint -> the index of every signature it enables
        for i, sig in enumerate(self.signatures):
            for hint in sig.hints:
                self.by_hint.setdefault(hint, []).append(i)
        patterns = set(self.hint_set)
        patterns |= {p for group in _NESTED.values() for p in group}
        self.patterns = sorted(patterns)
        encoded = [p.encode("utf-8") for p in self.patterns]
        self.longest = max(map(len, encoded))
        # Every occurrence, overlapping ones included: run only on short windows (see scan).
        self.exact = ahocorasick_rs.BytesAhoCorasick(encoded)
        # Leftmost-first automata of at most _PACKED patterns each use the crate's SIMD (Teddy) search,
        # about four times faster over a whole page than one automaton of all patterns. Teddy finds
        # candidates by the first bytes of every pattern, as many as the shortest one has: a pattern
        # shorter than _FINGERPRINT ('/@') is searched alone (a plain substring search), or it would make
        # candidates of every '/e', '<i', '<t'... of a page (the fast scan took three times as long).
        short = [i for i, p in enumerate(encoded) if len(p) < _FINGERPRINT]
        rest = [i for i in range(len(encoded)) if i not in short]
        size = -(-len(rest) // -(-len(rest) // _PACKED))  # the fewest even chunks of <= _PACKED
        groups = [[i] for i in short] + [rest[i:i + size] for i in range(0, len(rest), size)]
        self.fast = [ahocorasick_rs.BytesAhoCorasick([encoded[i] for i in group],
                                                     matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)
                     for group in groups]

    def scan(self, data: bytes) -> dict[str, list[int]]:
        """Each pattern that occurs in already-lowercased bytes, with its first positions."""
        hits: dict[int, list[int]] = {}
        view = memoryview(data)
        dense = False
        # Chunks bound the match lists a hostile page (one hint repeated for 60 MB) can make at once.
        for offset in range(0, len(data), _CHUNK):
            chunk = view[offset:offset + _CHUNK + self.longest - 1]  # whole occurrences of what starts here
            found, dense = self._occurrences(chunk, min(_CHUNK, len(data) - offset), dense)
            for index, start in found:
                positions = hits.setdefault(index, [])
                if len(positions) < _MAX_HITS:
                    positions.append(offset + start)
        return {self.patterns[index]: positions for index, positions in hits.items()}

    def _occurrences(self, chunk, limit: int, dense: bool) -> tuple[list[tuple[int, int]], bool]:
        """(pattern index, start) of every occurrence starting before ``limit``, overlaps included, and
        whether the chunk was dense with them. Each pattern's occurrences come in order of their start.
        """
        fast = [] if dense else [m for matcher in self.fast for m in matcher.find_matches_as_indexes(chunk)]
        if dense or len(fast) > _DENSE:
            # One overlapping scan is cheaper than a window per match (and after a dense chunk, likely
            # needed again). It reports each occurrence once, by where it ends: in order of start for
            # any one pattern, which is the order kept.
            found = [(i, s) for i, s, _ in self.exact.find_matches_as_indexes(chunk, overlapping=True) if s < limit]
            return found, len(found) > _DENSE
        # A leftmost-first search reports non-overlapping matches; an occurrence it skips starts inside a
        # reported match, so re-scanning a short window at each reported match finds every occurrence.
        found = set()
        for _, start, end in fast:
            if start >= limit:
                continue
            for index, s, _ in self.exact.find_matches_as_indexes(chunk[start:end + self.longest - 1], overlapping=True):
                if s < end - start and start + s < limit:
                    found.add((index, start + s))
        return sorted(found, key=lambda f: f[1]), False


@lru_cache(maxsize=1)
def _registry() -> _Registry:
    return _Registry()


class ParsedPage(NamedTuple):
    """A parsed page; ``complete`` is False when the parser gave up part of it."""

    root: object
    complete: bool


def parse_html(text: str, data: bytes | None = None) -> ParsedPage | None:
    """Parse a page with lxml; None for an empty document. ``data``, when given, is the text as UTF-8
    bytes: libxml2 reads those about 20% faster than a str it must first convert (bench/detect.py).

    libxml2 drops everything below 256 levels of nesting; such a page is marked incomplete so that
    detection falls back to parsing windows around each embed signature.
    """
    # huge_tree lifts libxml2's 10 MB buffer limit (our own byte caps bound the input instead);
    # the nesting limit stays, and the windowed fallback covers it. The encoding is told, never guessed:
    # the bytes are the decoded text's UTF-8, whatever the page's own <meta charset> says.
    # A plain lxml parser, not lxml.html's: its HtmlElement proxies cost a Python class lookup for every
    # element touched, and nothing here needs their methods (markup.text_content reads text the same way).
    # No table of id attributes either (collect_ids): nothing looks elements up by id, and the same tree
    # is built about 9% faster without it.
    parser = etree.HTMLParser(huge_tree=True, encoding="utf-8" if data is not None else None, collect_ids=False)
    root = _document(data if data is not None else text, parser)
    if root is None:
        return None
    return ParsedPage(root, not any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log))


def _lowered(text: str) -> bytes:
    # Hints are ASCII: lowering UTF-8 bytes is exact for them and much cheaper than str.lower().
    return text.encode("utf-8", "surrogatepass").lower()


def detect(article: Article, page: ParsedPage | None = None, plan: "_Plan | None" = None) -> list[Embed]:
    """Every embed an article shows, in document order, each post once per article. ``plan``, when given, is
    the article's ``hint_plan`` (the hint scan is then not run again)."""
    if article.kind == "html":
        # UTF-8 bytes as read are the bytes the hint scan needs: no need to encode the text again.
        raw = article.body if article.encoding == "utf-8" else None
        return detect_html(article.text, page, raw=raw, plan=plan)
    return detect_text(article.text)


def hint_plan(article: Article) -> "_Plan | None":
    """What detection would run on an HTML article (None for a text): ``.empty`` when no signature hint
    occurs, so that no parse could find an embed."""
    if article.kind != "html":
        return None
    data = article.body if article.encoding == "utf-8" else article.text.encode("utf-8", "surrogatepass")
    return _plan(data.lower())


def detect_text(text: str) -> list[Embed]:
    """Posts flattened into plain text (only Twitter has a known flattened form)."""
    found = []
    for mod in _registry().platforms:
        if hasattr(mod, "detect_text"):
            found.extend(mod.detect_text(text))
    found.sort(key=lambda e: e.position)
    spans = [(e.position, e.position + len(e.raw)) for e in found]
    return [e if e.surrounding else replace(e, surrounding=_paragraph_before(text, e.position, spans))
            for e in found]


def _paragraph_before(text: str, position: int, spans: list) -> str | None:
    """The last paragraph (lines between blank lines) before ``position`` that is not part of another
    flattened post (``spans``: where each one lies)."""
    start = max(0, position - 4000)
    for m in reversed(list(re.finditer(r"\S(?:.|\n(?!\s*\n))*", text[start:position]))):
        at = start + m.start()
        if any(a <= at < b for a, b in spans):
            continue
        block = clean_text(m.group(0))
        if block:
            return block[:_SURROUNDING_MAX]
    return None


def detect_html(text: str, page: ParsedPage | None = None, raw: bytes | None = None,
                plan: "_Plan | None" = None) -> list[Embed]:
    """Embeds in an HTML page: the DOM, then markup kept in textareas, attributes and script JSON.

    ``raw``, when given, is the page's UTF-8 bytes (the text encoded), saving the encoding step; ``plan``
    the page's hint plan, saving the hint scan.
    """
    data = raw if raw is not None else text.encode("utf-8", "surrogatepass")
    low = None
    if plan is None:
        low = data.lower()
        plan = _plan(low)
    if plan.empty:
        return []
    page = page or parse_html(text, data)
    if page is None:
        return []
    found: list[Embed] = []
    _scan(page.root, "dom", plan, found, depth=0)
    if not page.complete:
        _scan_windows(data, low if low is not None else data.lower(), plan.hits, found)
    return dedupe(found)


class _Plan(NamedTuple):
    """What detection runs on a page or fragment: the hints found, the signatures they enable, the
    placeholder XPath (or None)."""

    hits: dict
    signatures: list
    placeholders: tuple | None

    @property
    def empty(self) -> bool:
        return not self.signatures and self.placeholders is None


def _plan(low: bytes) -> _Plan:
    """Scan lowercased bytes for hints and pick what to run on their parse."""
    registry = _registry()
    hits = registry.scan(low)
    enabled = sorted({i for hint in hits for i in registry.by_hint.get(hint, ())})  # in the registry's order
    return _Plan(hits, [registry.signatures[i] for i in enabled], _placeholder_xpath(low, hits))


def _placeholder_xpath(low: bytes, hits: dict) -> tuple | None:
    """Lazy placeholders: data-* attributes whose value is a post URL, found from the URL's position."""
    registry = _registry()
    names, mods = set(), []
    for marker, marker_mods in registry.url_markers.items():
        for pos in hits.get(marker, ()):
            m = _attr_name_before(low, pos)
            if m:
                names.add(m.group(1).decode("ascii"))
                mods.extend(marker_mods)
    if not names:
        return None
    return _xpath_for_attributes(tuple(sorted(names))), tuple(dict.fromkeys(mods))


def _attr_name_before(low: bytes, pos: int):
    """_ATTR_NAME_BEFORE's match ending at pos (within 400 bytes), if any.

    A match holds no '<' or '>' and at most one quote, so none starts before the last '<' or '>' or the
    second-to-last quote: the search starts after them instead of trying every one of 400 positions.
    """
    lo = max(0, pos - 400)
    lo = max(lo, low.rfind(b"<", lo, pos) + 1, low.rfind(b">", lo, pos) + 1)
    last_quote = max(low.rfind(b'"', lo, pos), low.rfind(b"'", lo, pos))
    if last_quote != -1:
        lo = max(lo, low.rfind(b'"', lo, last_quote) + 1, low.rfind(b"'", lo, last_quote) + 1)
    return _ATTR_NAME_BEFORE.search(low, lo, pos)


@lru_cache(maxsize=256)
def _xpath_for_attributes(names: tuple[str, ...]) -> etree.XPath:
    # A post URL in a data-* attribute marks a placeholder; in a src, only an iframe is an embed.
    # From the attributes (about three times faster than testing every element for them).
    parts = []
    data = [n for n in names if n != "src"]
    if data:
        parts.append("(" + " | ".join(f"//*/@{n}" for n in data) + ")/parent::*[not(self::a)]")
    if "src" in names:
        parts.append("//iframe[@src]")
    return _compile(" | ".join(parts))


def _scan(root, context: str, plan: _Plan, found: list, depth: int, position: int | None = None) -> None:
    seen = set()
    matches: dict = {}  # each distinct XPath evaluated once per tree, whichever platforms share it
    for sig in plan.signatures:
        els = matches.get(sig.xpath)
        if els is None:
            els = matches[sig.xpath] = sig.xpath(root)
        for el in els:
            _offer(sig.platform, el, context, position, found, seen)
    if plan.placeholders is not None:
        xpath, mods = plan.placeholders
        for el in xpath(root):
            for mod in mods:
                _offer(mod, el, context, position, found, seen)
    if depth >= _MAX_NESTED_DEPTH:
        return
    for ctx, host, fragment in _nested_fragments(root, plan.hits):
        sub_plan = _plan(_lowered(fragment))
        if sub_plan.empty:
            continue
        sub = _parse_fragment(fragment)
        if sub is not None:
            pos = position if position is not None else (host.sourceline or 0)
            _scan(sub, ctx if context == "dom" else context, sub_plan, found, depth + 1, pos)


def _offer(mod, el, context, position, found: list, seen: set) -> None:
    key = (mod.NAME, el)
    if key in seen:
        return
    seen.add(key)
    embed = mod.from_element(el, context)
    if embed is not None:
        if embed.surrounding is None and context == "dom":
            embed = replace(embed, surrounding=surrounding(el))
        found.append(replace(embed, position=position) if position is not None else embed)


_BLOCKS = ("p", "h2", "h3", "h4", "li", "figcaption")
_SURROUNDING_MAX = 400  # characters of the paragraph kept


def surrounding(el) -> str | None:
    """The text of the block just before an embed (its preceding paragraph, or its parent's): what the
    article said of it, so that embeds with nothing else to tell them apart can be told apart."""
    node, steps = el, 0
    while node is not None and steps < 6:
        # Only the block siblings, nearest first: lxml skips the others without making them objects.
        for sibling in node.itersiblings(*_BLOCKS, preceding=True):
            text = clean_head(text_content(sibling), _SURROUNDING_MAX)
            if text:
                return text
        node, steps = node.getparent(), steps + 1
    return None



def _nested_fragments(root, hits: dict):
    """(context, host element, html) for embed markup that is not part of the DOM itself."""
    if any(p in hits for p in _NESTED["textarea"]):
        for ta in _TEXTAREA_XPATH(root):
            text = ta.text or ""
            if "<" in text and any(m in text for m in _NESTED_MARKERS):
                yield "textarea", ta, text
    if any(p in hits for p in _NESTED["attr"]):
        for el in _ATTR_XPATH(root):
            for name, value in el.attrib.items():
                if "<blockquote" in value or "<iframe" in value:
                    yield f"attr:{name}", el, value
    if any(p in hits for p in _NESTED["script"]):
        registry = _registry()
        for script in _SCRIPT_XPATH(root):
            text = script.text or ""
            if len(text) < 40 or "\\" not in text:
                continue
            data = text.encode("utf-8", "surrogatepass")
            script_hits = registry.scan(data.lower())
            if not any(p in script_hits for p in _NESTED["script"]):
                continue
            starts = sorted({p for hint, ps in script_hits.items() if hint in registry.hint_set for p in ps})
            for s in _json_strings(data, starts):
                yield "script-json", script, s


def _json_strings(data: bytes, positions: list[int]):
    """Decoded JSON/JS string literals of a script around the given byte positions, each once."""
    end = -1
    for pos in positions:
        if pos < end:
            continue  # inside the string already decoded
        start = pos
        while True:
            start = data.rfind(b'"', 0, start)
            if start == -1 or not _escaped(data, start):
                break
        end = pos
        while True:
            end = data.find(b'"', end)
            if end == -1 or not _escaped(data, end):
                break
            end += 1
        if start == -1 or end == -1:
            return
        raw = data[start + 1:end].decode("utf-8", "replace")
        try:
            value = json.loads('"' + _JS_HEX.sub(lambda h: "\\u00" + h.group(1), raw) + '"')
        except ValueError:
            continue
        if any(marker in value for marker in _NESTED_MARKERS):
            yield value


def _escaped(data: bytes, i: int) -> bool:
    """Whether the character at i is escaped by an odd run of backslashes."""
    n = 0
    while i - n - 1 >= 0 and data[i - n - 1] == 0x5C:
        n += 1
    return n % 2 == 1


def _scan_windows(data: bytes, low: bytes, hits: dict, found: list) -> None:
    """Parse a window of source around every signature hint: for pages nested past the parser's limit."""
    starts = set()
    for pattern, positions in hits.items():
        for pos in positions:
            tag_start = low.rfind(b"<", max(0, pos - 2000), pos)
            if tag_start != -1:
                starts.add(tag_start)
    line, counted, last = 1, 0, None
    seen: set = set()
    for start in sorted(starts):
        # Windows tile the page (each byte in at most two), so the work is linear in the page's size;
        # an embed starting in the second half of a window is read again, whole, by the next one.
        if last is not None and start < last + _WINDOW // 2:
            continue
        last = start
        window = data[start:start + _WINDOW].decode("utf-8", "replace")
        sub = _parse_fragment(window)
        if sub is not None:
            line, counted = line + data.count(b"\n", counted, start), start  # from the last window on
            here: list[Embed] = []
            _scan(sub, "dom", _plan(_lowered(window)), here, depth=0, position=line)
            for embed in here:  # what two overlapping windows both saw, once (dedupe merges those with ids)
                if not embed.post_id:
                    sig = (embed.key(), embed.text, embed.raw[:200])
                    if sig in seen:
                        continue
                    seen.add(sig)
                found.append(embed)


_FRAGMENT_PARSER = etree.HTMLParser(collect_ids=False)  # lxml.html's default, as plain as parse_html's


def _document(html, parser):
    """The root of a parsed document (as lxml.html.document_fromstring gives it), None when empty."""
    try:
        return etree.fromstring(html, parser)
    except (etree.ParserError, ValueError):
        return None


def _parse_fragment(html: str):
    return _document(html, _FRAGMENT_PARSER)
