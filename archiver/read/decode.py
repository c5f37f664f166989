"""Bytes to text: BOM, declared charset, <meta charset>, then detection; never fails on bad bytes."""
from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# WHATWG Encoding Standard: these labels mean windows-1252 on the web.
_WEB_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
                "us-ascii": "cp1252", "iso8859-1": "cp1252", "l1": "cp1252"}


def _normalise(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    label = label.strip().lower()
    label = _WEB_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # A page that says UTF-16 in ASCII bytes is not UTF-16 (WHATWG rule).
    return "utf-8" if name.startswith("utf-16") else name


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any and known."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return _normalise(m.group(1)) if m else None


def sniff_meta_charset(body: bytes) -> str | None:
    """The charset an HTML page declares in its first 8 KB."""
    m = _META_CHARSET.search(body[:8192])
    return _normalise(m.group(1)) if m else None


def decode(body: bytes, content_type: str | None = None, is_html: bool = True) -> tuple[str, str]:
    """Decode bytes to (text, encoding name); undecodable bytes become U+FFFD."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name
    declared = charset_from_content_type(content_type) or (sniff_meta_charset(body) if is_html else None)
    if declared:
        try:
            return body.decode(declared), declared
        except UnicodeDecodeError:
            pass  # the declaration lies; fall through to detection
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _detect(body)
    return body.decode(guess, "replace"), guess


def _detect(body: bytes) -> str:
    from charset_normalizer import from_bytes  # imported lazily: only non-UTF-8 input pays for it

    sample = body[:200_000]
    best = from_bytes(sample).best()
    name = _normalise(best.encoding) if best is not None else None
    # Detectors often pick a DOS or Central European code page for Western text whose only
    # non-ASCII bytes are cp1252 quotes and dashes; keep the guess only when it yields a non-Latin script.
    if name and name != "cp1252" and not _mostly_non_latin(sample.decode(name, "replace")):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return name or "cp1252"


_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u052f\u0590-\u06ff\u0e00-\u0e7f\u3040-\u9fff\uac00-\ud7af]")


def _mostly_non_latin(text: str) -> bool:
    non_ascii = sum(1 for ch in text if ord(ch) > 127 and ch.isalpha())
    return non_ascii > 0 and len(_NON_LATIN.findall(text)) * 2 > non_ascii
