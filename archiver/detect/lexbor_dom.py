"""Lexbor nodes (selectolax) behind the part of lxml's element API the platforms read with.

The platforms were written against lxml elements: tag, get/attrib/items, text/tail, iter, find, parents
and siblings, sourceline. Element gives the same answers for a node of a Lexbor parse, so that detection
can parse a page with Lexbor (about four times faster here) and keep every platform's reader as it is.
Source lines come from the page (detect.located.LocatedPage), which finds each node's start tag.
"""
from __future__ import annotations

from lxml import etree

from archiver.detect.located import css_name
from archiver.platforms.markup import document

_PARSER = etree.HTMLParser(encoding="utf-8", collect_ids=False)
_UNKNOWN = object()


class Dom:
    """The Elements of one Lexbor parse: one per node, so that the platforms' ``is`` tests hold."""

    __slots__ = ("page", "doctype", "before", "_made")

    def __init__(self, page=None):
        self.page = page  # a detect.located.LocatedPage, for source lines
        # The page's doctype: lxml writes XHTML's markup otherwise (xml:lang).
        self.doctype = page.doctype if page is not None else ""
        self.before: dict = {}  # detect.scan's surrounding text, remembered per (node, levels)
        self._made: dict[int, Element] = {}

    def release(self) -> None:
        """Let go of every Element and the page: Elements hold this Dom and each other, cycles that would
        keep the page's Lexbor tree (memory Python does not see) until the next full collection."""
        for el in self._made.values():  # and their parents and children, kept once asked
            el._parent = el._children = None
        self._made.clear()
        self.before.clear()
        self.page = None

    def wrap(self, node) -> "Element":
        """The Element of a node."""
        el = self._made.get(node.mem_id)
        if el is None:
            el = self._made[node.mem_id] = Element(node, self)
        return el


class Element:
    """One element of a Lexbor parse, answering as an lxml element would."""

    # Each answer is kept once asked: the platforms ask the same element many times, and the tree does not
    # change under them.
    __slots__ = ("node", "dom", "_attrib", "_parent", "_children", "_text", "_tail")

    def __init__(self, node, dom: Dom):
        self.node = node
        self.dom = dom
        self._attrib = self._children = None
        self._parent = self._text = self._tail = _UNKNOWN

    @property
    def tag(self) -> str:
        return self.node.tag

    @property
    def attrib(self) -> dict:
        if self._attrib is None:
            self._attrib = {k: v or "" for k, v in self.node.attributes.items()}
        return self._attrib

    def get(self, name: str, default=None):
        return self.attrib.get(name, default)

    def items(self):
        return self.attrib.items()

    def keys(self):
        return self.attrib.keys()

    @property
    def text(self) -> str | None:
        """The text before the first child element (lxml's .text)."""
        if self._text is _UNKNOWN:
            self._text = _text_run(self.node.child)
        return self._text

    @property
    def tail(self) -> str | None:
        """The text after the element, before its next sibling element (lxml's .tail)."""
        if self._tail is _UNKNOWN:
            self._tail = _text_run(self.node.next)
        return self._tail

    @property
    def sourceline(self) -> int | None:
        return self.dom.page.line(self.node) if self.dom.page is not None else None

    def _wrap(self, node) -> "Element":
        return self.dom.wrap(node)

    def _elements(self) -> list:
        if self._children is None:
            children, child = [], self.node.child
            while child is not None:
                if child.is_element_node:
                    children.append(self._wrap(child))
                child = child.next
            self._children = children
        return self._children

    def __iter__(self):
        return iter(self._elements())

    def __reversed__(self):
        return reversed(self._elements())

    def __len__(self) -> int:
        return len(self._elements())

    def __getitem__(self, index):
        return self._elements()[index]

    def iter(self, *tags):
        """The element and its descendants, in document order; only those named ``tags`` when given."""
        if len(tags) == 1 and isinstance(tags[0], (list, tuple, set)):
            tags = tuple(tags[0])
        if not tags or self.node.tag in tags:
            yield self
        if tags:
            seen = {self.node.mem_id}
            for n in self.node.css(", ".join(css_name(t) for t in tags)):
                if n.mem_id not in seen:  # Lexbor gives a node once for each selector it matches
                    seen.add(n.mem_id)
                    yield self._wrap(n)
            return
        for n in self.node.traverse(include_text=False):
            if n.is_element_node and n.mem_id != self.node.mem_id:
                yield self._wrap(n)

    def iterdescendants(self, *tags):
        return (e for e in self.iter(*tags) if e is not self)

    def find(self, path: str):
        """``.//name`` (the first descendant so named) or ``name`` (the first child so named)."""
        if path.startswith(".//"):
            n = self.node.css_first(css_name(path[3:]))
            return self._wrap(n) if n is not None else None
        return next((c for c in self if c.tag == path), None)

    def findall(self, path: str) -> list:
        if path.startswith(".//"):
            return [self._wrap(n) for n in self.node.css(css_name(path[3:]))]
        return [c for c in self if c.tag == path]

    def getparent(self):
        if self._parent is _UNKNOWN:
            parent = self.node.parent
            self._parent = self._wrap(parent) if parent is not None and parent.is_element_node else None
        return self._parent

    def iterancestors(self):
        parent = self.getparent()
        while parent is not None:
            yield parent
            parent = parent.getparent()

    def itersiblings(self, *tags, preceding: bool = False):
        sibling = self.node.prev if preceding else self.node.next
        while sibling is not None:
            if sibling.is_element_node and (not tags or sibling.tag in tags):
                yield self._wrap(sibling)
            sibling = sibling.prev if preceding else sibling.next

    def text_content(self) -> str:
        return self.node.text(deep=True)

    def markup(self, cap: int) -> str:
        """The element's outer HTML as lxml writes it (markup.raw_markup's form), capped at ``cap``."""
        html = self.node.html or ""
        # Lexbor's markup is about as long as lxml's: a quarter more than the cap of it nearly always gives
        # lxml's first ``cap`` characters; when it does not, twice the cap.
        written = self._written(html, cap + cap // 4, cap)
        return written if len(written) >= cap or len(html) <= cap + cap // 4 else self._written(html, 2 * cap, cap)

    def _written(self, html: str, size: int, cap: int) -> str:
        root = document((self.dom.doctype + "<html><body>" + html[:size]).encode("utf-8"), _PARSER)
        body = root.find("body") if root is not None and root.tag == "html" else None
        el = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
        if el is None:
            return html[:cap]
        # What it was parsed from is at most twice the cap: written whole, without raw_markup's bound.
        try:
            return etree.tostring(el, encoding="unicode", with_tail=False)[:cap]
        except (ValueError, TypeError):
            return ""


def _text_run(node) -> str | None:
    parts = []
    while node is not None and node.is_text_node:
        parts.append(node.text_content or "")
        node = node.next
    return "".join(parts) or None
