"""Small helpers every platform's HTML signatures share: outer markup, clean text, ancestry."""
from __future__ import annotations

import html
import re
from itertools import islice

from lxml import etree

from archiver.models import Embed

RAW_CAP = 4000  # characters of an embed's markup kept in embeds.raw
# Class words of widgets that link posts without embedding one: feeds, galleries, follow and share buttons.
NOT_EMBED = re.compile(r"feed|galler|follow|profile|share|widget|grid|carousel|icon|button|logo|social-links")
# Attributes a lazy or consent placeholder names its platform in.
PROVIDER_ATTRS = ("data-provider", "data-platform", "data-embed-provider", "data-service")
# What lxml.html's text_content() evaluates: the same text from a plain lxml element, whose tree needs no
# HtmlElement proxies (a Python class lookup for every element touched).
_STRING = etree.XPath("string()", smart_strings=False)


def text_content(el) -> str:
    """The text of an element and all below it: lxml.html's ``text_content()`` for any lxml element (or
    detect.lexbor_dom Element)."""
    return _STRING(el) if isinstance(el, etree._Element) else el.text_content()


def document(markup, parser):
    """The root of a parsed document (as lxml.html.document_fromstring gives it), None when empty."""
    try:
        return etree.fromstring(markup, parser)
    except (etree.ParserError, ValueError):
        return None


def has_class(name: str) -> str:
    """An XPath predicate: the element's class list holds ``name`` as a whole word."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def embed_from_ref(el, context: str, markup: str, ref, **extra) -> Embed:
    """The Embed of an element that names a post by URL (a PostRef), with its place and markup."""
    return Embed(
        platform=ref.platform, markup=markup, detector=f"{ref.platform}.html", post_id=ref.post_id, url=ref.url,
        handle=extra.pop("handle", None) or ref.handle, context=context, position=el.sourceline or 0,
        raw=raw_markup(el), **extra,
    )


_SMALL = 256  # elements below which lxml serialises the whole subtree (then cut)


def raw_markup(el) -> str:
    """The element's outer HTML, capped; "" when lxml cannot serialise it.

    A huge subtree (an unclosed embed swallowing the rest of the page, nested thousands deep) is written
    only as far as the cap, so every embed's markup costs at most the cap, not the page.
    """
    if not isinstance(el, etree._Element):
        return el.markup(RAW_CAP)
    try:
        if len(list(islice(el.iter(), _SMALL))) < _SMALL:
            return etree.tostring(el, encoding="unicode", with_tail=False)[:RAW_CAP]
        return _markup_until(el, RAW_CAP)
    except (ValueError, TypeError):
        return ""


def _markup_until(el, cap: int) -> str:
    """Outer HTML written element by element, stopping once `cap` characters are out."""
    out: list[str] = []
    size = 0
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        if event == "start":
            attrs = "".join(f' {k}="{html.escape(str(v))}"' for k, v in node.attrib.items())
            piece = f"<{node.tag}{attrs}>" + html.escape(node.text or "", quote=False)
        else:
            piece = f"</{node.tag}>" + (html.escape(node.tail or "", quote=False) if node is not el else "")
        out.append(piece)
        size += len(piece)
        if size >= cap:
            break
    return "".join(out)[:cap]


def clean_text(text: str | None) -> str | None:
    """Whitespace (and no-break spaces) collapsed; None for nothing.

    str.split() splits on exactly what the regex \\s matches in a str (no-break spaces included), about
    four times faster than substituting every run.
    """
    return " ".join((text or "").split()) or None


def clean_head(text: str, n: int) -> str | None:
    """clean_text(text)[:n] (None for nothing), cleaning only the head of a long text when that is enough.

    Collapsing whitespace maps a head of the text to a head of the result, so once the cleaned head is
    longer than n (a trailing space it loses is past n), its first n characters are the result's.
    """
    if len(text) > 2 * n:
        head = clean_text(text[: 2 * n])
        if head and len(head) > n:
            return head[:n]
    text = clean_text(text)
    return text[:n] if text else None


def inside(el, containers) -> bool:
    """Whether el sits below any of the containers."""
    parent = el.getparent()
    while parent is not None:
        if any(parent is c for c in containers):
            return True
        parent = parent.getparent()
    return False


_CHROME_TAGS = {"aside", "footer", "nav", "header"}


def in_page_chrome(el) -> bool:
    """Whether el sits in the page's chrome (an aside, footer, nav or sidebar) rather than its story.

    For the detectors that read a site's own markup (server-side cards, lazy placeholders): the same
    markup in a sidebar is the site's feed of its own posts, not an embed.
    """
    return any(isinstance(parent.tag, str) and is_chrome(parent.tag, parent.get("class"), parent.get("id"))
               for parent in el.iterancestors())


def is_chrome(tag: str, cls: str | None, id_: str | None) -> bool:
    """Whether an element of this name, class and id is page chrome (see in_page_chrome)."""
    return tag in _CHROME_TAGS or "sidebar" in (cls or "").lower() or "sidebar" in (id_ or "").lower()


def text_with_breaks(el) -> str:
    """Text content with <br> as a line break (text_content() glues the lines together)."""
    parts = []

    def walk(node):
        if node.tag == "br":
            parts.append("\n")
        elif isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return "".join(parts)
