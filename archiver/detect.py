"""detect(article) -> list[Embed]: every platform's signatures over a page or a text."""
from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from functools import lru_cache
from typing import NamedTuple

import lxml.html
from lxml import etree

from archiver.models import Article, Embed
from archiver.platforms import load_platforms

DETECTOR_VERSION = "1"

# Embed markup hidden from the DOM: HTML-escaped in a <textarea> or an attribute, or a JSON string in a script.
_NESTED_MARKERS = ("<blockquote", "<iframe", "<amp-", "<div")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.){20,})"', re.S)
_JS_HEX = re.compile(r"\\x([0-9a-fA-F]{2})")
_ATTR_XPATH = etree.XPath("//*[@*[contains(., '<blockquote') or contains(., '<iframe')]]")
_TEXTAREA_XPATH = etree.XPath("//textarea")
_SCRIPT_XPATH = etree.XPath("//script")
_MAX_NESTED_DEPTH = 2


@lru_cache(maxsize=1)
def _platforms():
    mods = load_platforms()
    return [(m, etree.XPath(m.XPATH), tuple(h.lower() for h in m.HINTS)) for m in mods]


def detect(article: Article, page: ParsedPage | None = None) -> list[Embed]:
    """Every embed an article shows, in document order, each post once per article."""
    if article.kind == "html":
        return detect_html(article.text, page)
    return detect_text(article.text)


def detect_text(text: str) -> list[Embed]:
    """Posts flattened into plain text (only Twitter has a known flattened form)."""
    found = []
    for mod, _, _ in _platforms():
        if hasattr(mod, "detect_text"):
            found.extend(mod.detect_text(text))
    return sorted(found, key=lambda e: e.position)


class ParsedPage(NamedTuple):
    """A parsed page; ``complete`` is False when the parser gave up part of it."""

    root: object
    complete: bool


def parse_html(text: str) -> ParsedPage | None:
    """Parse a page with lxml; None for an empty document.

    libxml2 drops everything below 256 levels of nesting; such a page is marked incomplete so that
    detection falls back to parsing windows around each embed signature.
    """
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return ParsedPage(root, not any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log))


_WINDOW = 64 * 1024


def present_platforms(text: str) -> list:
    """The platforms whose hints occur in the text: the others cannot have an embed here."""
    lowered = text.lower()
    return [p for p in _platforms() if any(h in lowered for h in p[2])]


def detect_html(text: str, page: ParsedPage | None = None) -> list[Embed]:
    """Embeds in an HTML page: the DOM, then markup kept in textareas, attributes and script JSON."""
    platforms = present_platforms(text)
    if not platforms:
        return []
    page = page or parse_html(text)
    if page is None:
        return []
    found: list[Embed] = []
    _scan(page.root, "dom", platforms, found, depth=0)
    if not page.complete:
        _scan_windows(text, platforms, found)
    return _dedupe(found)


def _scan_windows(text: str, platforms, found: list) -> None:
    """Parse a window of source around every signature hint: for pages nested past the parser's limit."""
    lowered = text.lower()
    starts = set()
    for _, _, hints in platforms:
        for hint in hints:
            i = lowered.find(hint)
            while i != -1:
                tag_start = lowered.rfind("<", max(0, i - 2000), i)
                if tag_start != -1:
                    starts.add(tag_start)
                i = lowered.find(hint, i + len(hint))
    for start in sorted(starts):
        sub = _parse_fragment(text[start:start + _WINDOW])
        if sub is not None:
            line = text.count("\n", 0, start) + 1
            _scan(sub, "dom", platforms, found, depth=0, position=line)


def _scan(root, context: str, platforms, found: list, depth: int, position: int | None = None) -> None:
    for mod, xpath, _ in platforms:
        for el in xpath(root):
            embed = mod.from_element(el, context)
            if embed is not None:
                found.append(replace(embed, position=position) if position is not None else embed)
    if depth >= _MAX_NESTED_DEPTH:
        return
    for ctx, host, fragment in _nested_fragments(root):
        sub_platforms = [p for p in platforms if any(h in fragment.lower() for h in p[2])]
        if not sub_platforms:
            continue
        sub = _parse_fragment(fragment)
        if sub is not None:
            pos = position if position is not None else (host.sourceline or 0)
            _scan(sub, ctx if context == "dom" else context, sub_platforms, found, depth + 1, pos)


def _nested_fragments(root):
    """(context, host element, html) for embed markup that is not part of the DOM itself."""
    for ta in _TEXTAREA_XPATH(root):
        text = ta.text or ""
        if "<" in text and any(m in text for m in _NESTED_MARKERS):
            yield "textarea", ta, text
    for el in _ATTR_XPATH(root):
        for name, value in el.attrib.items():
            if "<blockquote" in value or "<iframe" in value:
                yield f"attr:{name}", el, value
    for script in _SCRIPT_XPATH(root):
        text = script.text or ""
        if len(text) < 40 or ("blockquote" not in text and "iframe" not in text and "data-" not in text):
            continue
        for s in _json_strings(text):
            yield "script-json", script, s


def _json_strings(script: str):
    """Decoded JSON/JS string literals of a script that hold HTML markup."""
    for m in _JSON_STRING.finditer(script):
        raw = m.group(1)
        if "<" not in raw and "\\u003c" not in raw.lower() and "\\x3c" not in raw.lower():
            continue
        try:
            value = json.loads('"' + _JS_HEX.sub(lambda h: "\\u00" + h.group(1), raw) + '"')
        except ValueError:
            continue
        if any(marker in value for marker in _NESTED_MARKERS):
            yield value


def _parse_fragment(html: str):
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _dedupe(found: list[Embed]) -> list[Embed]:
    """One embed per post per page, fields merged from every sighting, in document order."""
    by_key: dict = {}
    no_id_seen: set = set()
    out: list[Embed] = []
    # DOM sightings first, so markup repeated in a script or textarea only fills gaps.
    for embed in sorted(found, key=lambda e: (e.context != "dom", e.position)):
        if embed.post_id:
            key = (embed.platform, embed.post_id)
            if key in by_key:
                i = by_key[key]
                out[i] = _merge(out[i], embed)
                continue
            by_key[key] = len(out)
        elif embed.context != "dom":
            sig = (embed.key(), embed.text)
            if sig in no_id_seen:
                continue
            no_id_seen.add(sig)
        out.append(embed)
    return sorted(out, key=lambda e: e.position)


def _merge(first: Embed, other: Embed) -> Embed:
    """Keep the first sighting, filling the fields it lacks from another one."""
    changes = {}
    for f in fields(Embed):
        if f.name in ("position", "context", "raw", "markup", "detector"):
            continue
        if not getattr(first, f.name) and getattr(other, f.name):
            changes[f.name] = getattr(other, f.name)
    return replace(first, **changes) if changes else first
