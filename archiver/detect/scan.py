"""detect(article) -> list[Embed]: every platform's signatures over a page or a text.

Speed matters (detection runs on every page a newsroom publishes, and on every page of a crawl), so an
HTML page is handled in three steps: one multi-pattern scan of its bytes tells which signature hints occur
at all (detect.hints; none: no parse); the signatures those hints enable select their candidates on the
parsed page, and the platforms read each; markup hidden in textareas, attributes and script JSON is parsed
only where its escaped form occurs.

The page is parsed by Lexbor (detect.located: each signature's CSS form; detect.lexbor_dom: the elements
the platforms read), about four times faster than lxml. Given an lxml parse already (the caller needs one
for the article's metadata), or for a page Lexbor cannot vouch for (markup in attributes, a <template>
with content before an embed, nesting past libxml2's depth, a source line it cannot place), the same
signatures run as XPaths on lxml's tree. Both give the same embeds (tests/test_located.py); where broken
markup is repaired apart by the HTML standard and libxml2, the Lexbor path follows the standard, as
browsers do.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import replace
from typing import NamedTuple

from lxml import etree

from archiver.detect.dedupe import dedupe
from archiver.detect.hints import MAX_HITS, NESTED, Plan, compile_xpath, plan_of, registry
from archiver.detect.located import LocatedPage, placeholder_css, select
from archiver.detect.lexbor_dom import Dom, Element
from archiver.models import Article, Embed
from archiver.platforms.markup import clean_head, clean_text, document, text_content

DETECTOR_VERSION = "2"

_MAX_NESTED_DEPTH = 2
_WINDOW = 64 * 1024
_NESTED_MARKERS = ("<blockquote", "<iframe", "<amp-", "<div")
_JS_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")



_TEXTAREA_XPATH = compile_xpath("//textarea")
_ATTR_XPATH = compile_xpath("//*/@*[contains(., '<blockquote') or contains(., '<iframe')]/..")
_SCRIPT_XPATH = compile_xpath("//script")


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
    root = document(data if data is not None else text, parser)
    if root is None:
        return None
    return ParsedPage(root, not any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log))


def _lowered(text: str) -> bytes:
    # Hints are ASCII: lowering UTF-8 bytes is exact for them and much cheaper than str.lower().
    return text.encode("utf-8", "surrogatepass").lower()


def detect(article: Article, page: ParsedPage | None = None, plan: Plan | None = None) -> list[Embed]:
    """Every embed an article shows, in document order, each post once per article. ``plan``, when given, is
    the article's ``hint_plan`` (the hint scan is then not run again)."""
    if article.kind == "html":
        # UTF-8 bytes as read are the bytes the hint scan needs: no need to encode the text again.
        raw = article.body if article.encoding == "utf-8" else None
        return detect_html(article.text, page, raw=raw, plan=plan)
    return detect_text(article.text)


def hint_plan(article: Article) -> Plan | None:
    """What detection would run on an HTML article (None for a text): ``.empty`` when no signature hint
    occurs, so that no parse could find an embed."""
    if article.kind != "html":
        return None
    data = article.body if article.encoding == "utf-8" else article.text.encode("utf-8", "surrogatepass")
    return plan_of(data.lower())


def detect_text(text: str) -> list[Embed]:
    """Posts flattened into plain text (only Twitter has a known flattened form)."""
    found = []
    for mod in registry().platforms:
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
                plan: Plan | None = None) -> list[Embed]:
    """Embeds in an HTML page: the DOM, then markup kept in textareas, attributes and script JSON.

    ``raw``, when given, is the page's UTF-8 bytes (the text encoded), saving the encoding step; ``plan``
    the page's hint plan, saving the hint scan.
    """
    data = raw if raw is not None else text.encode("utf-8", "surrogatepass")
    low = None
    if plan is None:
        low = data.lower()
        plan = plan_of(low)
    if plan.empty:
        return []
    if page is None:
        low = low if low is not None else data.lower()
        found = _detect_lexbor(data, low, plan)
        if found is not None:
            return dedupe(found)
        page = parse_html(text, data)
    if page is None:
        return []
    found: list[Embed] = []
    _scan(page.root, "dom", plan, found, depth=0)
    if not page.complete:
        _scan_windows(data, low if low is not None else data.lower(), plan.hits, found)
    return dedupe(found)


def _scan(root, context: str, plan: Plan, found: list, depth: int, position: int | None = None) -> None:
    seen: set = set()
    before: dict = {}  # surrounding()'s memo for this tree
    matches: dict = {}  # each distinct XPath evaluated once per tree, whichever platforms share it
    for sig in plan.signatures:
        els = matches.get(sig.xpath)
        if els is None:
            els = matches[sig.xpath] = sig.xpath(root)
        for el in els:
            _offer(sig.platform, el, context, position, found, seen, before)
    if plan.placeholders is not None:
        xpath, mods, _ = plan.placeholders
        for el in xpath(root):
            for mod in mods:
                _offer(mod, el, context, position, found, seen, before)
    if depth >= _MAX_NESTED_DEPTH:
        return
    for ctx, host, fragment in _nested_fragments(root, plan.hits):
        pos = position if position is not None else (host.sourceline or 0)
        _scan_fragment(fragment, ctx if context == "dom" else context, found, depth + 1, pos)


def _scan_fragment(fragment: str, context: str, found: list, depth: int, position: int) -> None:
    """Embed markup kept as text (in a textarea, an attribute, a script's JSON), parsed and scanned when a
    hint occurs in it."""
    sub_plan = plan_of(_lowered(fragment))
    if sub_plan.empty:
        return
    sub = _parse_fragment(fragment)
    if sub is not None:
        _scan(sub, context, sub_plan, found, depth, position)


def _offer(mod, el, context, position, found: list, seen: set, before: dict) -> None:
    key = (mod.NAME, el)
    if key in seen:
        return
    seen.add(key)
    embed = mod.from_element(el, context)
    if embed is not None:
        if embed.surrounding is None and context == "dom":
            embed = replace(embed, surrounding=surrounding(el, before))
        found.append(replace(embed, position=position) if position is not None else embed)


_BLOCKS = ("p", "h2", "h3", "h4", "li", "figcaption")
_A_TAG = re.compile(rb"<[a-z/!?]")  # a start or end tag, a comment or a declaration
_SURROUNDING_MAX = 400  # characters of the paragraph kept
_LEVELS = 6  # the embed and its ancestors whose preceding blocks are looked at


def surrounding(el, memo: dict) -> str | None:
    """The text of the block just before an embed (its preceding paragraph, or its parent's): what the
    article said of it, so that embeds with nothing else to tell them apart can be told apart. ``memo``
    is the tree's: what lies before each sibling passed is remembered, so that the walk stays linear in
    the page however many embeds share a parent (a gallery of thousands)."""
    if isinstance(el, Element):
        return _before(el.node, _LEVELS, memo, _LexborWalk)
    return _before(el, _LEVELS, memo, _LxmlWalk)


def _before(node, levels: int, memo: dict, walk) -> str | None:
    """The text of the nearest block among ``node``'s preceding siblings, else before its parent
    (``levels`` in all); remembered for ``node`` and each sibling passed, which would find the same."""
    passed, text, start = [], None, node
    while True:
        key = (walk.key(node), levels)
        if key in memo:
            text = memo[key]
            break
        passed.append(key)
        sibling = walk.prev(node)
        if sibling is None:
            parent = walk.parent(start)
            if levels > 1 and parent is not None:
                text = _before(parent, levels - 1, memo, walk)
            break
        found = walk.block_text(sibling)
        if found:
            text = found
            break
        node = sibling
    for key in passed:
        memo[key] = text
    return text


class _LxmlWalk:
    """_before's steps on an lxml tree."""

    @staticmethod
    def key(el):
        return el  # kept in the memo, so lxml gives the same proxy for the node while the walk lasts

    @staticmethod
    def prev(el):
        return el.getprevious()

    @staticmethod
    def parent(el):
        return el.getparent()

    @staticmethod
    def block_text(el) -> str | None:
        return clean_head(text_content(el), _SURROUNDING_MAX) if el.tag in _BLOCKS else None


class _LexborWalk:
    """_before's steps on a Lexbor tree (its nodes, not Elements: none is made for a sibling passed)."""

    @staticmethod
    def key(node):
        return node.mem_id

    @staticmethod
    def prev(node):
        return node.prev

    @staticmethod
    def parent(node):
        parent = node.parent
        return parent if parent is not None and parent.is_element_node else None

    @staticmethod
    def block_text(node) -> str | None:
        if node.is_element_node and node.tag in _BLOCKS:
            return clean_head(node.text(deep=True), _SURROUNDING_MAX)
        return None


def _nested_fragments(root, hits: dict):
    """(context, host element, html) for embed markup that is not part of the DOM itself."""
    if any(p in hits for p in NESTED["textarea"]):
        for ta in _TEXTAREA_XPATH(root):
            if _holds_markup(ta.text or ""):
                yield "textarea", ta, ta.text
    if any(p in hits for p in NESTED["attr"]):
        for el in _ATTR_XPATH(root):
            for name, value in el.attrib.items():
                if "<blockquote" in value or "<iframe" in value:
                    yield f"attr:{name}", el, value
    if any(p in hits for p in NESTED["script"]):
        for script in _SCRIPT_XPATH(root):
            for s in _script_markup(script.text or ""):
                yield "script-json", script, s


def _holds_markup(text: str) -> bool:
    return "<" in text and any(m in text for m in _NESTED_MARKERS)


def _script_markup(text: str):
    """Embed markup in a script's JSON or JS strings, decoded."""
    if len(text) < 40 or "\\" not in text:
        return
    known = registry()
    data = text.encode("utf-8", "surrogatepass")
    script_hits = known.scan(data.lower())
    if not any(p in script_hits for p in NESTED["script"]):
        return
    starts = sorted({p for hint, ps in script_hits.items() if hint in known.hint_set for p in ps})
    yield from _json_strings(data, starts)


def _detect_lexbor(data: bytes, low: bytes, plan: Plan) -> list[Embed] | None:
    """_scan on a Lexbor parse (detect.located, detect.lexbor_dom); None when the page needs lxml's:
    markup inside attributes (no CSS finds it), templates Lexbor's tree would read otherwise
    (_templates_apart), or an embed whose source line is lost."""
    if any(_in_a_tag(low, at) for p in NESTED["attr"] for at in plan.hits.get(p, ())):
        return None  # no CSS finds markup inside attributes (escaped markup in a <textarea> is text)
    page = LocatedPage.build(data, low)
    dom = Dom(page)
    try:
        return _read_lexbor(page, dom, plan)
    finally:
        dom.release()


def _read_lexbor(page, dom, plan: Plan) -> list[Embed] | None:
    found: list[Embed] = []
    seen: set = set()
    offers = []
    for sig in plan.signatures:  # the page keeps each selector's nodes: platforms share several
        offers.extend((sig.platform, node) for node in select(page, sig.css))
    if plan.placeholders is not None:
        _, mods, names = plan.placeholders
        offers.extend((mod, node) for node in page.css(placeholder_css(names)) for mod in mods)
    # Before reading any: an embed nested past libxml2's depth is the whole-page path's (its windows).
    if any(page.too_deep(node) for _, node in offers):
        return None
    if page.templates() and not _templates_apart(page, plan.hits, offers):
        return None
    for mod, node in offers:
        _offer(mod, dom.wrap(node), "dom", None, found, seen, dom.before)
    for context, line, fragment in _nested_lexbor(page, plan.hits):
        _scan_fragment(fragment, context, found, 1, line or 0)
    return None if page.lost else found


def _templates_apart(page, hits: dict, offers: list) -> bool:
    """Whether the page's templates leave what detection reads as libxml2 has it. Lexbor keeps a template's
    content out of its tree, libxml2 makes it elements: ones that can hold a hint, add words to a paragraph
    before an embed, or change the nesting of what follows. So no template may begin before the last hint
    (nor may a hint lie past those kept) holding a tag, or holding words inside a block; and none may lie
    inside an embed."""
    if any(len(positions) >= MAX_HITS for positions in hits.values()):
        return False
    last = max((p for positions in hits.values() for p in positions), default=-1)
    templates = page.css("template")  # the outermost ones: the others are in their content
    spans = page.templates()
    if len(templates) != len(spans):
        return False
    around = set()  # every element a template lies in
    for template, (start, end) in zip(templates, spans):
        chain, at = [], template.parent
        while at is not None and at.is_element_node:
            chain.append(at)
            at = at.parent
        if start <= last:
            content = page.low[start:end]
            if _A_TAG.search(content) or (content.strip() and any(n.tag in _BLOCKS for n in chain)):
                return False
        around.update(n.mem_id for n in chain)
    return not any(node.mem_id in around for _, node in offers)


def _in_a_tag(low: bytes, at: int) -> bool:
    """Whether the byte at ``at`` lies inside a tag (after a "<" with no ">" since), not in text."""
    return low.rfind(b"<", 0, at) > low.rfind(b">", 0, at)


def _nested_lexbor(page, hits: dict):
    """(context, source line of its host, html): _nested_fragments on a Lexbor parse (markup in
    attributes excepted: see _detect_lexbor). A script's text is read from the page's bytes, and only a
    script an escaped hint occurs in (all of them when one hint occurred more often than is kept)."""
    if any(p in hits for p in NESTED["textarea"]):
        for ta in page.css("textarea"):
            text = ta.text()
            if _holds_markup(text):
                yield "textarea", page.line(ta), text
    if any(p in hits for p in NESTED["script"]):
        at = sorted(a for p in NESTED["script"] for a in hits.get(p, ()))
        every = any(len(hits.get(p, ())) >= MAX_HITS for p in NESTED["script"])
        for start, end in page.scripts():
            i = bisect.bisect_left(at, start)
            if every or (i < len(at) and at[i] < end):
                text, line = page.script_text(start, end) or ("", 0)
                for s in _script_markup(text):
                    yield "script-json", line, s


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
            _scan(sub, "dom", plan_of(_lowered(window)), here, depth=0, position=line)
            for embed in here:  # what two overlapping windows both saw, once (dedupe merges those with ids)
                if not embed.post_id:
                    sig = (embed.key(), embed.text, embed.raw[:200])
                    if sig in seen:
                        continue
                    seen.add(sig)
                found.append(embed)


_FRAGMENT_PARSER = etree.HTMLParser(collect_ids=False)  # lxml.html's default, as plain as parse_html's


def _parse_fragment(html: str):
    return document(html, _FRAGMENT_PARSER)
