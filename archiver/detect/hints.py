"""Which signatures a page calls for: one multi-pattern scan of its bytes for every signature's hints.

A page none of whose hints occur holds no embed any signature finds, so it is never parsed; one that holds
some runs only the signatures those hints enable (``Plan``), and the placeholder test only for the data-*
attributes a post URL sits in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick_rs
from lxml import etree

from archiver.detect.located import CSS
from archiver.platforms import load_platforms

_PACKED = 64  # patterns per fast automaton: the most the crate's packed SIMD search takes
_FINGERPRINT = 3  # bytes of each pattern the packed search fingerprints at most
_CHUNK = 1 << 20  # bytes of a page scanned for hints at a time
_DENSE = 1000  # fast matches in a chunk past which one overlapping scan of it is cheaper than windows
MAX_HITS = 2000  # positions kept per page: enough to find every placeholder, bounded for hostile pages
# Escaped embed markup: in a <textarea> or an attribute (HTML-escaped), or in script JSON (backslash-escaped).
NESTED = {
    "textarea": ("<textarea",),
    "attr": ("&lt;blockquote", "&lt;iframe", "&#60;blockquote", "&#x3c;blockquote"),
    "script": ('<blockquote class=\\"', "<blockquote class=\\'", "\\u003cblockquote", "\\x3cblockquote",
               "<iframe src=\\\"", "\\u003ciframe", '\\"https:\\/\\/', "data-embedded-url=\\\""),
}
_ATTR_NAME_BEFORE = re.compile(rb"""\s(data-[a-z0-9_.:-]{1,60}|src)\s*=\s*["']?[^"'<>]*\Z""")
_ABSOLUTE_STEP = re.compile(r"(^|[|(]\s*)//")

def compile_xpath(xpath: str) -> etree.XPath:
    """An XPath whose ``//x`` steps run as ``/descendant::x``: the same nodes, about a fifth faster.

    ``//x`` is ``/descendant-or-self::node()/child::x``, which libxml2 evaluates one node set per node.
    """
    return etree.XPath(_ABSOLUTE_STEP.sub(r"\1/descendant::", xpath))


@dataclass(frozen=True)
class Signature:
    """One embed signature of a platform: an XPath that runs only when one of its hints occurs."""

    platform: object  # the platform module
    hints: tuple[str, ...]
    xpath: etree.XPath
    css: object  # the same elements on a Lexbor parse (see detect.located)


class Registry:
    """Every platform's signatures and one automaton over all their hints."""

    def __init__(self):
        self.platforms = load_platforms()
        self.signatures: list[Signature] = []
        self.url_markers: dict[str, list] = {}
        compiled: dict[str, etree.XPath] = {}  # one XPath object per expression: platforms share several
        for mod in self.platforms:
            for hints, xpath in mod.SIGNATURES:
                if xpath not in compiled:
                    compiled[xpath] = compile_xpath(xpath)
                self.signatures.append(Signature(mod, tuple(h.lower() for h in hints), compiled[xpath], CSS[xpath]))
            for marker in getattr(mod, "URL_MARKERS", ()):
                self.url_markers.setdefault(marker.lower(), []).append(mod)
        self.hint_set = frozenset(h for s in self.signatures for h in s.hints) | frozenset(self.url_markers)
        self.by_hint: dict[str, list[int]] = {}  # hint -> the index of every signature it enables
        for i, sig in enumerate(self.signatures):
            for hint in sig.hints:
                self.by_hint.setdefault(hint, []).append(i)
        patterns = set(self.hint_set)
        patterns |= {p for group in NESTED.values() for p in group}
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
                if len(positions) < MAX_HITS:
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
def registry() -> Registry:
    return Registry()


class Plan(NamedTuple):
    """What detection runs on a page or fragment: the hints found, the signatures they enable, the
    placeholder XPath (or None)."""

    hits: dict
    signatures: list
    placeholders: tuple | None

    @property
    def empty(self) -> bool:
        return not self.signatures and self.placeholders is None


def plan_of(low: bytes) -> Plan:
    """Scan lowercased bytes for hints and pick what to run on their parse."""
    known = registry()
    hits = known.scan(low)
    enabled = sorted({i for hint in hits for i in known.by_hint.get(hint, ())})  # in the registry's order
    return Plan(hits, [known.signatures[i] for i in enabled], _placeholder_xpath(low, hits))


def _placeholder_xpath(low: bytes, hits: dict) -> tuple | None:
    """Lazy placeholders: data-* attributes whose value is a post URL, found from the URL's position."""
    known = registry()
    names, mods = set(), []
    for marker, marker_mods in known.url_markers.items():
        for pos in hits.get(marker, ()):
            m = _attr_name_before(low, pos)
            if m:
                names.add(m.group(1).decode("ascii"))
                mods.extend(marker_mods)
    if not names:
        return None
    names = tuple(sorted(names))
    return xpath_for_attributes(names), tuple(dict.fromkeys(mods)), names


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
def xpath_for_attributes(names: tuple[str, ...]) -> etree.XPath:
    # A post URL in a data-* attribute marks a placeholder; in a src, only an iframe is an embed.
    # From the attributes (about three times faster than testing every element for them).
    parts = []
    data = [n for n in names if n != "src"]
    if data:
        parts.append("(" + " | ".join(f"//*/@{n}" for n in data) + ")/parent::*[not(self::a)]")
    if "src" in names:
        parts.append("//iframe[@src]")
    return compile_xpath(" | ".join(parts))
