"""Bytes to text: BOM, declared charset, <meta charset>, then detection; never fails on bad bytes."""
from __future__ import annotations

import codecs
import re
import threading

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
    text, encoding, _ = decode_noting(body, content_type, is_html)
    return text, encoding


def decode_noting(body: bytes, content_type: str | None = None, is_html: bool = True) -> tuple[str, str, str]:
    """(text, encoding, how it was decoded): BOM, declared charset, UTF-8, mostly UTF-8, then detection."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name, f"{name} (byte order mark)"
    declared = charset_from_content_type(content_type) or (sniff_meta_charset(body) if is_html else None)
    if declared:
        try:
            return body.decode(declared), declared, f"{declared} (declared)"
        except UnicodeDecodeError:
            pass  # the declaration lies; fall through to detection
    try:
        return body.decode("utf-8"), "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    repaired = _mostly_utf8(body)
    if repaired is not None:
        text, odd = repaired
        return text, "utf-8", f"utf-8; {odd} byte{'s' if odd != 1 else ''} not UTF-8 read as windows-1252"
    guess = _detect(body)
    return body.decode(guess, "replace"), guess, f"{guess} (detected)"


MAX_ODD_SHARE = 0.05  # odd bytes per well-formed non-ASCII character up to which a text is still UTF-8


def _mostly_utf8(body: bytes) -> tuple[str, int] | None:
    """UTF-8 text with a few stray bytes (a Latin-1 or windows-1252 character pasted in): the text with
    each stray byte read as windows-1252 in place, and how many there were; None when it is not UTF-8."""
    # First count with the C codec's own "replace" (fast): a text full of odd bytes is not UTF-8.
    rough = body.decode("utf-8", "replace")
    odd_runs = rough.count("\ufffd") - body.count("\ufffd".encode("utf-8"))
    if odd_runs > max(2, MAX_ODD_SHARE * (_non_ascii(rough) - odd_runs)):
        return None
    _odd.count = 0
    text = body.decode("utf-8", "archiver-stray-byte")
    odd = _odd.count
    good = _non_ascii(text) - odd
    if good <= 0 or odd > max(2, MAX_ODD_SHARE * good):
        return None
    return text, odd


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


_odd = threading.local()


def _stray_byte(exc: UnicodeDecodeError) -> tuple[str, int]:
    """One byte at a time, as windows-1252: the next byte may start a good sequence."""
    _odd.count = getattr(_odd, "count", 0) + 1
    return exc.object[exc.start:exc.start + 1].decode("cp1252", "replace"), exc.start + 1


codecs.register_error("archiver-stray-byte", _stray_byte)


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
