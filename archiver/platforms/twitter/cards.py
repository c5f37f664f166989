"""Tweets a site renders in its own card markup, server-side, instead of Twitter's embed code.

No site is special-cased: a card is a container whose class names a tweet (``div.tweet-card``,
``article.EmbeddedTweet``, ``figure.c-tweet``), holding an avatar image, the author's ``@handle``, the
text and a link to ``/{handle}/status/{id}`` (with a ``<time>`` or a date as its text). Every part is
required: a status link in a paragraph, a "Tweet this" button or the card's header alone is not a card.
A site's feed of its own tweets (in a sidebar, footer or a feed/timeline widget) is chrome, not an embed.
"""
from __future__ import annotations

import re

from archiver.models import Embed
from archiver.platforms.dates import iso_day, parse_embed_date, parse_time_date
from archiver.platforms.markup import clean_text, in_page_chrome, raw_markup, text_content
from archiver.platforms.twitter.urls import NAME, TCO_LINK, canonical_url, parse_url, pic_links

# Class words of things that name a tweet without showing one: buttons, counters, feeds and timelines.
_NOT_CARD = re.compile(r"retweet|share|button|btn|intent|tweet-?this|click-?to|follow|count|icon|feed|list"
                       r"|timeline|widget|ticker", re.I)
_TEXT_CLASS = re.compile(r"text|body|content|message|quote", re.I)
_HANDLE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_]{1,15})\b")
_NAME_MAX = 60  # characters of a display name (Twitter allows 50)


def is_card_candidate(el) -> bool:
    """Whether the element's class names a tweet (a word with 'tweet' in it) and not a widget's part."""
    cls = el.get("class") or ""
    if el.tag in ("a", "iframe") or "tweet" not in cls.lower() or _NOT_CARD.search(cls):
        return False
    return not (el.tag == "blockquote" and "twitter-tweet" in cls.split())  # Twitter's own embed code


def card_embed(el, context: str) -> Embed | None:
    """The tweet a server-side card shows, or None when the element is not a whole card."""
    if not is_card_candidate(el) or el.find(".//img") is None or in_page_chrome(el):
        return None
    link, ref = _own_status(el)
    if ref is None or not ref.handle:
        return None
    text_all = text_content(el)
    shown = next((m for m in _HANDLE.finditer(text_all) if m.group(1).lower() == ref.handle.lower()), None)
    if shown is None:
        return None  # no @handle shown: a link to a status, not a card of it
    text = _card_text(el, link)
    if not text:
        return None
    time_el = link.find(".//time")
    if time_el is None:
        time_el = el.find(".//time")
    date_text = clean_text(text_content(time_el) if time_el is not None else text_content(link))
    date = iso_day(time_el.get("datetime") if time_el is not None else None) \
        or (parse_time_date(date_text) if date_text else None) or (parse_embed_date(date_text) if date_text else None)
    name = clean_text(text_all[: shown.start()].strip(" \u00b7|-\u2014"))
    token = next(c for c in (el.get("class") or "").split() if "tweet" in c.lower())
    found = " ".join([text] + [a.get("href") or "" for a in el.iter("a")])
    return Embed(
        platform=NAME, markup=f"{el.tag}.{token.lower()}[card]", detector="twitter.html", post_id=ref.post_id,
        url=canonical_url(ref.post_id, ref.handle), handle=ref.handle,
        author_name=name if name and len(name) <= _NAME_MAX else None, date=date, date_text=date_text,
        text=text, pic_links=pic_links(found),
        links=tuple(dict.fromkeys(a.get("href") for a in el.iter("a") if TCO_LINK.match(a.get("href") or ""))),
        context=context, position=el.sourceline or 0, raw=raw_markup(el),
    )


def _own_status(el):
    """(link, ref) of the card's own status: the status link holding a <time> or a date, else the only one.

    Links in the tweet's text may name other statuses (a reply, a quote): the card's date link decides.
    """
    links = [(a, parse_url(a.get("href"))) for a in el.iter("a")]
    links = [(a, r) for a, r in links if r is not None]
    dated = [(a, r) for a, r in links
             if a.find(".//time") is not None or parse_embed_date(clean_text(text_content(a)) or "", fallback=False)]
    for group in (dated, links):
        ids = {r.post_id for _, r in group}
        if len(ids) == 1:
            return group[-1]
        if len(ids) > 1:
            return None, None  # several statuses, none the card's own: a list, not a card
    return None, None


def _card_text(el, link) -> str | None:
    """The tweet's text: the first part whose class names text/body/content, else its paragraphs.

    A part holding the date link or the @handle is the card's frame (header, footer), not the text.
    """
    for part in el.iterdescendants():
        if not isinstance(part.tag, str) or part.tag == "a" or not _TEXT_CLASS.search(part.get("class") or ""):
            continue
        if any(a is link for a in part.iter("a")) or _HANDLE.match((clean_text(text_content(part)) or "")):
            continue
        text = clean_text(text_content(part))
        if text:
            return text
    paragraphs = [p for p in el.iter("p") if not any(a is link for a in p.iter("a"))]
    return clean_text(" ".join(text_content(p) for p in paragraphs)) if paragraphs else None
