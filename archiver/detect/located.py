"""A page parsed by Lexbor: each signature's CSS form, and where each element's start tag lies in the source.

Lexbor (through selectolax) parses a news page about four times faster than lxml. Detection finds each
signature's candidates on it with CSS (the platforms' XPaths, in CSS: ``CSS``) and hands them to the
platforms as detect.lexbor_dom Elements. An embed's place is the source line of its start tag, which
Lexbor does not keep: ``LocatedPage.line`` finds it by counting, the k-th element of a name in the tree
being the k-th start tag of that name in the source outside comments and raw text. Where the counts
differ it says None, and the caller reads the page with lxml instead.
"""
from __future__ import annotations

import bisect
import re
from functools import lru_cache

import ahocorasick_rs
from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser

from archiver.platforms.markup import has_class

_RAW = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext")
_OPENERS = [b"<!--"] + [b"<" + n.encode() for n in _RAW]
_CLOSERS = [b"-->"] + [b"</" + n.encode() for n in _RAW]
_TEMPLATE_TAGS = [b"<template", b"</template"]
_BANG_END = b"--!>"  # ends a comment too
_BOGUS = [b"<!", b"<?"]  # not "<!--": a bogus comment (or a doctype) to the next ">"
# One pass over the page finds all of these (Teddy's SIMD search: some twenty times faster than a
# bytes.find for each, which on a page full of "<" goes at a byte or two a nanosecond). Where two begin
# alike the longer is listed first ("<!--" before "<!"); where "<!--" overlaps a comment's end,
# _raw_spans looks.
_MARKS = ahocorasick_rs.BytesAhoCorasick(_OPENERS + _CLOSERS + _TEMPLATE_TAGS + [_BANG_END] + _BOGUS,
                                         matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)
_N_OPEN = len(_OPENERS)  # the index of "-->"
_TEMPLATE_OPEN = _N_OPEN + len(_CLOSERS)
_BANG = _TEMPLATE_OPEN + 2
_SCRIPT = 1  # "<script"'s index among the openers (and "</script"'s, after _N_OPEN)
_PLAINTEXT = _RAW.index("plaintext") + 1
_DATA, _ESCAPED, _DOUBLE = range(3)  # a script's text: as is, after "<!--", after "<!--" and "<script"
_AFTER_NAME = frozenset(b" \t\n\r\f/>")
_SPACE = frozenset(b" \t\n\r\f")
_AFTER_NAME_BYTES = frozenset(bytes([c]) for c in _AFTER_NAME)
_MAX_DEPTH = 250  # libxml2 keeps 256 levels of nesting
_ATTR_NAME = re.compile(r"[^\s\"'<>/=]+\Z")
# The tag's name, then each attribute's name (its value skipped): in a start tag found by _START_TAG.
_ATTR_IN_TAG = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?[\s/]*""")
_START_TAG = re.compile(rb"""<[^\s/>]+(?:[^>"']|"[^"]*"|'[^']*')*>""")


def _any_attr(selector: str, *needles: str, names: tuple = ()):
    """Elements matching ``selector`` with one of ``names`` or an attribute value holding a needle: the
    CSS form of XPath's ``@*[contains(., ...)]``, which CSS cannot say."""
    def select(page):
        return [n for n in page.css(selector)
                if any(a in n.attributes for a in names)
                or any(v and any(x in v for x in needles) for v in n.attributes.values())]
    return select


def _any_attr_all(selector: str, groups: tuple):
    """Elements with one attribute value holding a needle of every group (``contains(.,a) and contains(.,b)``)."""
    def select(page):
        return [n for n in page.css(selector)
                if any(v and all(any(x in v for x in g) for g in groups) for v in n.attributes.values())]
    return select


_NAME_CHARS = frozenset(range(256)) - frozenset(b" \t\n\r\f\"'<>/=")


def _tweet_id_attrs(page):
    """``//*/@*[contains(name(), 'tweet') and contains(name(), 'id')]/parent::*[not(self::a)]``: the
    attribute names are read off the source around each "tweet" in it, then selected by name."""
    low = page.low
    names, end = set(), 0
    for at in positions(low, b"tweet"):
        if at < end:
            continue  # inside the name just read
        start, end = at, at + 5
        while start > 0 and low[start - 1] in _NAME_CHARS:
            start -= 1
        while end < len(low) and low[end] in _NAME_CHARS:
            end += 1
        name = low[start:end]
        if b"id" in name and start > 0 and low[start - 1] in b" \t\n\r\f\"'/" and end < len(low) \
                and low[end] in b" \t\n\r\f=/>":
            names.add(name.decode("latin-1"))
    if not names:
        return []
    return [n for n in page.css(", ".join(f"[{css_name(n)}]" for n in sorted(names))) if n.tag != "a"]


def _instagram_class(tags):
    return ", ".join(f"{t}[class*='instagram' i]" for t in tags)


# Each signature XPath of the platforms (as they write it) and its CSS form: a selector, or a function of
# the LocatedPage giving the same elements in document order. tests/test_located.py checks
# that each selects what its XPath selects.
CSS = {
    "//blockquote[@class]": "blockquote[class]",
    "//*/@class[contains(., 'twitter-tweet-rendered')]/..": "[class*='twitter-tweet-rendered']",
    "//iframe": "iframe",
    "//amp-twitter": "amp-twitter",
    "//*/@*[contains(name(), 'tweet') and contains(name(), 'id')]/parent::*[not(self::a)]": _tweet_id_attrs,
    "//figure[contains(@class, 'twitter')]": "figure[class*='twitter']",
    "//*/@class[contains(., 'weet')]/..": "[class*='weet']",
    f"//blockquote[{has_class('instagram-media')}]": "blockquote.instagram-media",
    "//amp-instagram": "amp-instagram",
    "//oembed[@url] | //*/@data-oembed-url/..": "oembed[url], [data-oembed-url]",
    "//noscript": "noscript",
    "//figure[contains(@class, 'wp-block-embed')]": "figure[class*='wp-block-embed']",
    " | ".join(f"//{tag}[contains(translate(@class, 'INSTAGRM', 'instagrm'), 'instagram')]"
               for tag in ("blockquote", "div", "figure", "section", "article")):
        _instagram_class(("blockquote", "div", "figure", "section", "article")),
    f"//blockquote[{has_class('tiktok-embed')}]": "blockquote.tiktok-embed",
    "//iframe[@*[contains(., 'tiktok.com/embed') or contains(., 'tiktok.com/player/')]]":
        _any_attr("iframe", "tiktok.com/embed", "tiktok.com/player/"),
    "//amp-tiktok": "amp-tiktok",
    "//oembed[@url]": "oembed[url]",
    f"//blockquote[{has_class('bluesky-embed')} or @data-bluesky-uri]":
        "blockquote.bluesky-embed, blockquote[data-bluesky-uri]",
    "//iframe[@data-bluesky-uri or @*[contains(., 'embed.bsky.app/embed/')]]":
        _any_attr("iframe", "embed.bsky.app/embed/", names=("data-bluesky-uri",)),
    f"//iframe[{has_class('mastodon-embed')} or @*[(contains(., '/@') or contains(., '/statuses/'))"
    " and contains(., '/embed')]]":
        lambda page: _merged(page, "iframe", [page.css("iframe.mastodon-embed"), _any_attr_all(
            "iframe", (("/@", "/statuses/"), ("/embed",)))(page)]),
    f"//blockquote[{has_class('mastodon-embed')} or @data-embed-url]":
        "blockquote.mastodon-embed, blockquote[data-embed-url]",
    f"//blockquote[{has_class('text-post-media')} or @data-text-post-permalink]":
        "blockquote.text-post-media, blockquote[data-text-post-permalink]",
    "//iframe[@*[(contains(., 'threads.net/') or contains(., 'threads.com/')) and contains(., '/embed')]]":
        _any_attr_all("iframe", (("threads.net/", "threads.com/"), ("/embed",))),
    "//*/@class[contains(., 'fb-post') or contains(., 'fb-video')]/..": "[class*='fb-post'], [class*='fb-video']",
    "//*[name()='fb:post' or name()='fb:video']": "fb\\:post, fb\\:video",
    "//amp-facebook": "amp-facebook",
    "//iframe | //embed | //object": "iframe, embed, object",
    "//lite-youtube": "lite-youtube",
    "//amp-youtube": "amp-youtube",
}


def _merged(page, selector: str, groups: list) -> list:
    """The nodes of several selections of ``selector``'s elements, once each, in document order."""
    chosen = {n.mem_id for group in groups for n in group}
    return [n for n in page.css(selector) if n.mem_id in chosen]


def css_name(name: str) -> str:
    """An attribute or tag name escaped for a CSS selector."""
    return re.sub(r"([^a-zA-Z0-9_-])", r"\\\1", name)


def placeholder_css(names: tuple[str, ...]) -> str:
    """The CSS form of detect.scan's placeholder XPath: elements (not links) with one of the data-*
    attributes, and iframes with a src."""
    parts = [f"[{css_name(n)}]:not(a)" for n in names if n != "src"]
    if "src" in names:
        parts.append("iframe[src]")
    return ", ".join(parts)


def select(page, form) -> list:
    """The nodes a CSS form selects on a page (a LocatedPage), in document order, each once; each form
    selected once a page, whichever platforms share it."""
    if isinstance(form, str):
        return page.css(form)
    nodes = page.selected.get(form)
    if nodes is None:
        nodes = page.selected[form] = form(page)
    return nodes


def once(nodes) -> list:
    """Nodes without repeats, in their order."""
    seen, out = set(), []
    for n in nodes:
        if n.mem_id not in seen:
            seen.add(n.mem_id)
            out.append(n)
    return out


class LocatedPage:
    """A page parsed by Lexbor, whose elements' source lines can be found."""

    def __init__(self, data: bytes, low: bytes, tree):
        self.data, self.low, self.tree = data, low, tree
        self.lost = False  # whether a source line was asked for and could not be found
        self.doctype = _doctype(data, low)
        self._masked: bytes | None = None
        self._templates: list[tuple[int, int]] | None = None
        self._spans: list | None = None
        self._css: dict[str, list] = {}
        self.selected: dict = {}  # each CSS form given by a function: its nodes (see select)
        self._depth: dict[int, int] = {}
        self._starts: dict[str, tuple[dict, list] | None] = {}
        self._lines: list[tuple[int, int]] = [(0, 0)]  # (offset, newlines before it), in order

    @classmethod
    def build(cls, data: bytes, low: bytes) -> "LocatedPage":
        """The page parsed by Lexbor."""
        # Without DOM mutation events (<selectedcontent> mirroring its <option>): the tree as parsed,
        # and a quarter faster.
        return cls(data, low, LexborHTMLParser(data, options=LexborDocumentOptions.WO_EVENTS))

    def css(self, selector: str) -> list:
        """The nodes a selector matches, in document order, each once (Lexbor gives a node once for
        each selector of a list it matches); each selector's walk of the tree made once a page (several
        platforms look at every iframe)."""
        nodes = self._css.get(selector)
        if nodes is None:
            nodes = self._css[selector] = once(self.tree.css(selector))
        return nodes

    def too_deep(self, node) -> bool:
        """Whether a node lies deeper than libxml2 keeps (256 levels): the whole-page path reads such a
        page by windows, as it must (an embed left open swallows the rest of the page)."""
        chain, depth, at = [], 0, node
        while at is not None and at.is_element_node:
            known = self._depth.get(at.mem_id)
            if known is not None:
                depth = known
                break
            chain.append(at)
            at = at.parent
        for n in reversed(chain):
            depth += 1
            self._depth[n.mem_id] = depth
        return self._depth[node.mem_id] > _MAX_DEPTH

    def line(self, node) -> int | None:
        """The source line of a node's start tag (where it ends, as libxml2 counts); None (and ``lost``
        set) when it cannot be found."""
        start = self.start(node)
        if start is None:
            self.lost = True
            return None
        m = _START_TAG.match(self.data, start)
        return self.newlines(m.end() if m else start) + 1

    def newlines(self, offset: int) -> int:
        """How many newlines the source has before ``offset``, counted from the nearest offset asked before."""
        i = bisect.bisect_right(self._lines, (offset, float("inf"))) - 1
        at, n = self._lines[i]
        n += self.data.count(b"\n", at, offset)
        self._lines.insert(i + 1, (offset, n))
        return n

    def start(self, node) -> int | None:
        """Where a node's start tag begins in the source, by counting start tags of its name."""
        tag = node.tag
        if tag not in self._starts:
            self._starts[tag] = self._index(tag, masked=False)
        index = self._starts[tag]
        if index is None:
            return None
        order, offsets, checked = index
        k = order.get(node.mem_id)
        if k is None:
            return None
        if not checked and _attr_names(self.low, offsets[k]) != [a.lower() for a in node.attributes]:
            # Counted in the raw page, a tag name in a script or comment can stand in for one the
            # tree dropped: count again without them.
            self._starts[tag] = self._index(tag, masked=True)
            return self.start(node)
        return offsets[k]

    def _index(self, tag: str, masked: bool):
        """(node -> k, the offsets of the tag's start tags, whether those are certain): the start tags
        counted in the page itself first (cheap, checked one by one against the tree's attributes),
        then in the page without comments and raw text when the counts differ."""
        if not _ATTR_NAME.match(tag):
            return None
        nodes = self.css(css_name(tag))
        offsets = _tag_starts(self._tags_only() if masked else self.low, b"<" + tag.encode("utf-8"))
        if len(offsets) != len(nodes):
            return None if masked else self._index(tag, masked=True)
        return {n.mem_id: i for i, n in enumerate(nodes)}, offsets, masked

    def raw_spans(self) -> list[tuple[int, int, str]]:
        """_raw_spans of the page, read once."""
        if self._spans is None:
            self._spans, templates = _raw_spans(self.low)
            if self._templates is None:
                self._templates = templates
        return self._spans

    def scripts(self):
        """(where its start tag begins, where it ends) of each <script> element, in order."""
        for keep, end, name in self.raw_spans():
            if name == "script":
                yield keep - 7, end

    def script_text(self, start: int, end: int) -> tuple[str, int] | None:
        """The text of the <script> whose start tag begins at ``start``, and the source line of that tag."""
        m = _START_TAG.match(self.low, start)
        if m is None or m.end() > end:
            return None
        return self.data[m.end():end].decode("utf-8", "replace"), self.newlines(m.end()) + 1

    def templates(self) -> list[tuple[int, int]]:
        """(start, end) of each outermost <template>'s content (after its start tag, to its end tag or the
        page's end), in order."""
        if self._templates is None:
            if positions(self.low, b"<template"):
                self.raw_spans()
            else:
                self._templates = []  # most pages: no need to find their comments and raw text
        return self._templates

    def _tags_only(self) -> bytes:
        """The lowercased page as Lexbor's tree has it: every comment, raw-text element and template's
        content blanked (a raw-text element's "<name" is kept: it is a tag), so that a start tag's name
        found there is an element of the tree."""
        if self._masked is None:
            unraw = _blanked(self.low, [(keep, end) for keep, end, _ in self.raw_spans()])
            self._masked = _blanked(unraw, self.templates())
        return self._masked


def _blanked(data: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``data`` with each (start, end) span, in order and apart, replaced by spaces."""
    if not spans:
        return data
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(data[at:start])
        pieces.append(b" " * (end - start))
        at = end
    pieces.append(data[at:])
    return b"".join(pieces)


def _doctype(data: bytes, low: bytes) -> str:
    """The page's <!DOCTYPE ...>, after any leading whitespace and comments; "" when it has none. (A loop,
    not a regular expression: one over comments backtracks without end on a page of many.)"""
    at = 0
    while True:
        while at < len(low) and low[at] in _SPACE:
            at += 1
        if not low.startswith(b"<!--", at):
            break
        end = low.find(b"-->", at + 4)
        if end == -1:
            return ""
        at = end + 3
    if not low.startswith(b"<!doctype", at):
        return ""
    end = low.find(b">", at)
    return data[at:end + 1].decode("utf-8", "replace") if end != -1 else ""


def positions(low: bytes, needle: bytes) -> list[int]:
    """Where ``needle`` occurs in ``low``, occurrences apart (each begins after the last one ends)."""
    return [start for _, start, _ in _finder(needle).find_matches_as_indexes(low)]


@lru_cache(maxsize=512)
def _finder(needle: bytes):
    # An automaton of one pattern: SIMD search, where bytes.find crawls through a page full of "<".
    return ahocorasick_rs.BytesAhoCorasick([needle], matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_FIRST)


def _tag_starts(low: bytes, opening: bytes) -> list[int]:
    """Where ``opening`` ("<name") begins a start tag of that name (a space, "/" or ">" after it)."""
    n = len(opening)
    return [at for at in positions(low, opening) if low[at + n:at + n + 1] in _AFTER_NAME_BYTES]


def _attr_names(low: bytes, start: int) -> list[str]:
    """The attribute names of the start tag at ``start``, each once, in order."""
    m = _START_TAG.match(low, start)
    if m is None:
        return []
    names = (a.decode("utf-8", "replace") for a in _ATTR_IN_TAG.findall(low, start + 1, m.end()))
    return list(dict.fromkeys(names))[1:]  # the first "name" is the tag's own


def _raw_spans(low: bytes) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
    """(start, end, name) of what no tag can be in: every comment ("!--"), and every raw-text element
    from after its "<name" to its end tag; in order, none inside another; one never closed runs to the
    page's end. And beside them (start, end) of each outermost <template>'s content, from after its start
    tag to its end tag (or the page's end), templates inside it counted.

    Where each ends is the HTML standard's tokenizer's, which Lexbor and libxml2 (2.14 on) both follow:
    "<!-->" and "<!--->" are whole comments and "--!>" ends one; "<!" or "<?" otherwise opens a bogus
    comment ("!", a doctype too) to the next ">"; an end tag ends raw text only when a space, "/" or ">"
    follows its name; <plaintext> never ends; and a script's text that opens "<!--" and then "<script"
    runs past the next "</script" (a document.write of a script) to the one after "-->".
    """
    spans, templates, depth, begin = [], [], 0, 0
    n = len(low)
    open_at, kind, state = 0, None, _DATA  # the span open (kind None: none; 0: a comment), a script's state
    skip = 0  # the end of the last bogus comment or raw-text start tag: what lies before it is in it
    for i, start, stop in _MARKS.find_matches_as_indexes(low):
        if start < skip:
            continue
        named = stop < n and low[stop] in _AFTER_NAME
        if kind == 0:
            end = stop if i in (_N_OPEN, _BANG) else _comment_end_after(low, stop) if i == 0 else 0
            if end:  # "-->", "--!>", or one that overlaps a "<!--" ("<!-->", "<!---->", "<!--!>")
                spans.append((open_at, end, "!--"))
                kind = None
        elif kind == _SCRIPT:
            if i == 0:  # "<!--": escaped, unless its dashes and a ">" close the escape at once
                after = _dashes_end(low, stop)
                state = _DATA if low.startswith(b">", after) else _ESCAPED if state == _DATA else state
            elif i == _N_OPEN:
                state = _DATA
            elif i == _SCRIPT and named and state == _ESCAPED:
                state = _DOUBLE
            elif i == _N_OPEN + _SCRIPT and named:
                if state == _DOUBLE:
                    state = _ESCAPED
                else:
                    spans.append((open_at, start, "script"))
                    kind = None
        elif kind is not None:
            if i == _N_OPEN + kind and named and kind != _PLAINTEXT:
                spans.append((open_at, start, _RAW[kind - 1]))
                kind = None
        elif i == 0:
            after = stop + 1 if low.startswith(b"-", stop) else stop  # "<!-->" and "<!--->" are whole
            if low.startswith(b">", after):
                spans.append((start, after + 1, "!--"))
            else:
                open_at, kind = start, 0
        elif i < _N_OPEN:
            if named:  # not <scripts, <titles...: another name
                open_at, kind, state = stop, i, _DATA
                m = _START_TAG.match(low, start)  # its raw text begins after the tag, attributes and all
                skip = m.end() if m else n
        elif i > _BANG:
            close = low.find(b">", stop)
            skip = n if close == -1 else close + 1
            spans.append((start, skip, "!"))
        elif _TEMPLATE_OPEN <= i < _BANG and named:
            if i == _TEMPLATE_OPEN:
                if depth == 0:
                    m = _START_TAG.match(low, start)
                    begin = m.end() if m else n
                depth += 1
            elif depth:
                depth -= 1
                if depth == 0:
                    templates.append((begin, start))
    if kind is not None:
        spans.append((open_at, n, "!--" if kind == 0 else _RAW[kind - 1]))
    if depth:
        templates.append((begin, n))
    return spans, templates


def _dashes_end(low: bytes, at: int) -> int:
    """Where the run of "-" starting at ``at`` ends."""
    while at < len(low) and low[at] == 0x2D:
        at += 1
    return at


def _comment_end_after(low: bytes, stop: int) -> int:
    """In a comment, where a "<!--" ending at ``stop`` ends it (its dashes read as the comment's last:
    then any more dashes and ">", or "!>"); 0 when it does not."""
    after = _dashes_end(low, stop)
    if low.startswith(b">", after):
        return after + 1
    return after + 2 if low.startswith(b"!>", after) else 0
