"""Pure parsing of publish.twitter.com/oembed responses (no HTTP, no database)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from archiver.fetch.jsonbody import load_json, one_line

DEFAULT_BASE = "https://publish.twitter.com"

OUTCOMES = ("archived", "not_found", "protected", "error")

_STATUS_PATH = re.compile(r"^/(?P<handle>[A-Za-z0-9_]{1,15})/status(?:es)?/(?P<id>[0-9]+)")
_BYLINE = re.compile(r"^\s*(?:—|&mdash;|-)?\s*(?P<name>.*?)\s*\(@(?P<handle>[A-Za-z0-9_]{1,15})\)\s*$", re.S)


@dataclass(frozen=True)
class OEmbedResult:
    """What one oEmbed response says about a tweet."""

    outcome: str  # archived | not_found | protected | error
    status_code: int | None = None
    error: str | None = None  # one line, for outcome == "error" (and the API's message for protected)
    html: str | None = None  # the blockquote markup exactly as returned
    url: str | None = None  # the tweet URL the API echoed
    author_name: str | None = None
    author_url: str | None = None
    handle: str | None = None  # from the byline "— Name (@handle)" or author_url
    tweet_id: str | None = None  # from the final <a> (the date link) or `url`
    text: str | None = None  # text of the blockquote's <p>, <br> as newlines
    lang: str | None = None  # the <p lang="..."> attribute
    links: tuple[str, ...] = ()  # hrefs inside the <p> (t.co, hashtags, mentions)
    date_text: str | None = None  # the final <a>'s text as displayed, e.g. "July 12, 2023"
    date: str | None = None  # date_text as ISO YYYY-MM-DD when it is English "Month D, YYYY"
    status_url: str | None = None  # the final <a>'s href without ?ref_src
    provider_name: str | None = None
    cache_age: str | None = None


def build_url(base: str | None, tweet_url: str) -> str:
    """The oEmbed URL for a tweet URL (base None -> DEFAULT_BASE), without widgets.js, do-not-track on."""
    query = urlencode({"url": tweet_url, "omit_script": "1", "dnt": "true"})
    return f"{(base or DEFAULT_BASE).rstrip('/')}/oembed?{query}"


def classify(status_code: int, body: bytes | str | None) -> OEmbedResult:
    """Turn one oEmbed HTTP response into an OEmbedResult; never raises."""
    try:
        return _classify(status_code, body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a crash in the daemon
        return _error(status_code, f"could not parse oEmbed response: {type(exc).__name__}: {exc}")


def parse_blockquote(markup: str) -> dict[str, Any]:
    """Text, lang, links, byline and date link of a blockquote.twitter-tweet; empty dict if none."""
    if not isinstance(markup, str) or not markup.strip():
        return {}
    try:
        root = lxml.html.fromstring(f"<div>{markup}</div>")
    except (lxml.etree.ParserError, ValueError):
        return {}
    quotes = root.xpath("//blockquote[contains(concat(' ', normalize-space(@class), ' '), ' twitter-tweet ')]")
    if not quotes:
        return {}
    quote = quotes[0]
    out: dict[str, Any] = {}
    p = next(quote.iter("p"), None)
    if p is not None:
        out["lang"] = p.get("lang") or None
        out["links"] = tuple(a.get("href") for a in p.iter("a") if a.get("href"))
        for br in p.iter("br"):
            br.tail = "\n" + (br.tail or "")
        out["text"] = p.text_content().strip()
        byline = p.tail or ""
    else:
        byline = ""
    # The date link is the last direct <a> of the blockquote; the byline text sits just before it.
    date_links = [a for a in quote if a.tag == "a"]
    if date_links:
        a = date_links[-1]
        out["date_text"] = a.text_content().strip() or None
        out["status_url"] = _strip_query(a.get("href"))
        for el in quote:
            if el is a:
                break
            if el is not p:
                byline += el.text_content() + (el.tail or "")
    m = _BYLINE.match(byline)
    if m:
        out["author_name"] = m.group("name") or None
        out["handle"] = m.group("handle")
    return out


def english_date(text: str | None) -> str | None:
    """ISO date from the oEmbed date text ("July 12, 2023"); None for other languages or shapes."""
    if not text:
        return None
    for fmt in ("%B %d, %Y", "%b %d, %Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _classify(status_code: int, body: bytes | str | None) -> OEmbedResult:
    if status_code == 404:
        return OEmbedResult(outcome="not_found", status_code=status_code)
    if status_code == 403:
        data, _ = load_json(body)
        message = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), str) else None
        return OEmbedResult(outcome="protected", status_code=status_code, error=one_line(message) if message else None)
    if not isinstance(status_code, int) or not 200 <= status_code < 300:
        return _error(status_code, f"HTTP {status_code}")
    data, problem = load_json(body)
    if problem:
        return _error(status_code, problem)
    if not isinstance(data, dict):
        return _error(status_code, f"expected a JSON object, got {type(data).__name__}")
    if isinstance(data.get("error"), str):
        return _error(status_code, f"oEmbed error: {data['error']}")
    markup = data.get("html")
    if not isinstance(markup, str) or not markup.strip():
        return _error(status_code, "oEmbed response has no html")
    parsed = parse_blockquote(markup)
    if "text" not in parsed and "date_text" not in parsed:
        return _error(status_code, "oEmbed html has no tweet blockquote")
    url = _str(data.get("url"))
    author_url = _str(data.get("author_url"))
    status = _status(parsed.get("status_url")) or _status(url)
    handle = parsed.get("handle") or (status[0] if status else None) or _handle_from_profile(author_url)
    return OEmbedResult(
        outcome="archived",
        status_code=status_code,
        html=markup,
        url=url,
        author_name=_str(data.get("author_name")) or parsed.get("author_name"),
        author_url=author_url,
        handle=handle,
        tweet_id=status[1] if status else None,
        text=parsed.get("text"),
        lang=parsed.get("lang"),
        links=parsed.get("links", ()),
        date_text=parsed.get("date_text"),
        date=english_date(parsed.get("date_text")),
        status_url=parsed.get("status_url"),
        provider_name=_str(data.get("provider_name")),
        cache_age=_str(data.get("cache_age")),
    )


def _status(url: str | None) -> tuple[str, str] | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not (parts.hostname or "").lower().endswith(("twitter.com", "x.com")):
        return None
    m = _STATUS_PATH.match(parts.path)
    return (m.group("handle"), m.group("id")) if m else None


def _handle_from_profile(url: str | None) -> str | None:
    if not url:
        return None
    m = re.match(r"^https?://(?:www\.)?(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})/?$", url)
    return m.group(1) if m else None


def _strip_query(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    # ?ref_src=twsrc%5Etfw is widget tracking, not part of the status URL.
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _error(status_code: Any, message: str) -> OEmbedResult:
    return OEmbedResult(
        outcome="error", status_code=status_code if isinstance(status_code, int) else None, error=one_line(message)
    )


def _str(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, str) and value != "" else None
