"""Twitter/X embed signatures in HTML: blockquotes, rendered widgets, iframes, AMP, lazy placeholders, and
sites' own server-side cards (``cards``)."""
from __future__ import annotations

import re

from archiver.platforms.dates import parse_embed_date
from archiver.models import Embed
from archiver.platforms.markup import clean_text, inside, raw_markup, text_content
from archiver.platforms.twitter.cards import card_embed
from archiver.platforms.twitter.urls import (
    NAME,
    PIC_LINK,
    TCO_LINK,
    canonical_url,
    parse_url,
    pic_links,
)

# (hints, XPath): the XPath runs only on pages where one of its hints occurs; from_element does the
# exact checks, so the XPaths stay cheap (element names and attribute tests, no string functions).
# A test on any element's attribute is written from the attribute (//*/@class[...]/..): libxml2 then
# tests only the attributes there are, not every element, about twice as fast for the same elements.
SIGNATURES = (
    (("twitter-tweet", "twitter-video"), "//blockquote[@class]"),
    (("twitter-tweet-rendered",), "//*/@class[contains(., 'twitter-tweet-rendered')]/.."),
    # Twitter's own widget iframe, and third-party embedders whose iframe names the status URL.
    (("platform.twitter.com/embed", "%2fstatus%2f"), "//iframe"),
    (("amp-twitter",), "//amp-twitter"),
    # Lazy placeholders and custom elements naming the id: data-tweet-id, tweet-id, data-tweetid, ...
    (("tweet-id", "tweetid", "tweet_id"),
     "//*/@*[contains(name(), 'tweet') and contains(name(), 'id')]/parent::*[not(self::a)]"),
    # A WordPress embed block whose oEmbed never rendered: the status URL as its only text.
    (("wp-block-embed-twitter", "is-provider-twitter"), "//figure[contains(@class, 'twitter')]"),
    # A site's own server-side card: a container whose class names a tweet, holding a status link
    # ('weet' finds Tweet and tweet without translate(), which costs a string per element).
    (("/status/",), "//*/@class[contains(., 'weet')]/.."),
)
# Lazy or consent-gated placeholders keep the status URL in some data-* attribute: detection finds
# which attribute from where these occur in the page.
URL_MARKERS = ("/status/", "/statuses/")

_FOOTER = re.compile(r"[\u2014\u2013-]+\s*(?P<name>.*?)\s*\(\s*@(?P<handle>[A-Za-z0-9_]{1,15})\s*\)", re.S)
_IFRAME_ID = re.compile(r"[?&]id=(\d{1,20})")


def from_element(el, context: str) -> Embed | None:
    """Read one candidate element into an Embed, or None when it is not a tweet embed."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "a":
        return None
    classes = (el.get("class") or "").split()
    if tag == "blockquote" and ("twitter-tweet" in classes or "twitter-video" in classes):
        return _from_blockquote(el, context, "blockquote.twitter-video" if "twitter-video" in classes else "blockquote.twitter-tweet")
    if "twitter-tweet-rendered" in classes:
        for sub in el.iter("iframe"):
            tweet_id = sub.get("data-tweet-id") or _iframe_id(sub)
            if tweet_id:
                return _embed(el, context, "div.twitter-tweet-rendered", tweet_id)
        return None
    if tag == "iframe":
        tweet_id = _iframe_id(el)
        if tweet_id:
            return _embed(el, context, "iframe", tweet_id)
        ref = _status_in_src(el)
        return _embed(el, context, "iframe[src*=status]", ref.post_id, ref.handle) if ref else None
    if tag == "figure":
        ref = parse_url(clean_text(text_content(el)) or "") if "twitter" in " ".join(classes) else None
        text = clean_text(text_content(el)) or ""
        if ref and len(text) < 200 and " " not in text:
            return _embed(el, context, "figure.wp-block-embed-twitter", ref.post_id, ref.handle)
        return card_embed(el, context)
    if tag == "amp-twitter":
        tweet_id = el.get("data-tweetid") or el.get("data-tweet-id")
        return _embed(el, context, "amp-twitter", tweet_id) if tweet_id and tweet_id.isdigit() else None
    id_attr, tweet_id = _id_attribute(el)
    if tweet_id:
        handle = None
        for a in el.iter("a"):
            ref = parse_url(a.get("href"))
            if ref and ref.post_id == tweet_id.strip():
                handle = ref.handle
        return _embed(el, context, f"{tag}[{id_attr}]", tweet_id, handle)
    if tag != "blockquote":
        for name, value in el.attrib.items():
            if name.startswith("data-"):
                ref = parse_url(value) if len(value) < 300 and value.lstrip().lower().startswith(("http", "//")) else None
                if ref:
                    return _embed(el, context, f"{tag}[{name}]", ref.post_id, ref.handle)
    return card_embed(el, context)


def _id_attribute(el) -> tuple[str | None, str | None]:
    """(name, id) of an attribute like data-tweet-id / tweet-id / data-tweetid holding a status id."""
    for name, value in el.attrib.items():
        lowered = name.lower()
        if "tweet" in lowered and "id" in lowered.replace("tweet", "") and value.strip().isdigit() \
                and 1 <= len(value.strip()) <= 20:
            return name, value.strip()
    return None, None


def _status_in_src(el):
    """The status an embedder's iframe names in its src (plain or URL-encoded), if any."""
    from urllib.parse import unquote

    for attr in ("src", "data-src"):
        src = el.get(attr) or ""
        if "status" in src.lower():
            ref = parse_url(unquote(src))
            if ref:
                return ref
    return None


def _iframe_id(el) -> str | None:
    for attr in ("src", "data-src"):
        src = el.get(attr) or ""
        if "twitter.com/embed/" in src:
            m = _IFRAME_ID.search(src)
            if m:
                return m.group(1)
    return None


def _embed(el, context, markup, tweet_id, handle=None) -> Embed:
    return Embed(
        platform=NAME, markup=markup, detector="twitter.html", post_id=tweet_id,
        url=canonical_url(tweet_id, handle), handle=handle, context=context,
        position=el.sourceline or 0, raw=raw_markup(el),
    )


def _own(bq) -> tuple[list, list]:
    """(paragraphs, links) of a blockquote, up to the first tweet blockquote nested in it.

    A nested tweet means the embed code was never closed, so everything after it belongs elsewhere.
    """
    paragraphs, links = [], []
    for el in bq.iter("p", "a", "blockquote"):  # only these tags: each element visited costs a proxy
        if el.tag == "blockquote":
            if el is not bq and "twitter-tweet" in (el.get("class") or "").split():
                break
        else:
            (paragraphs if el.tag == "p" else links).append(el)
    return paragraphs, links


def _first_nested_tweet(bq):
    """The first tweet blockquote inside bq (an unclosed embed code swallowed it), or None."""
    return next((el for el in bq.iter("blockquote")
                 if el is not bq and "twitter-tweet" in (el.get("class") or "").split()), None)


def _text_before_nested(bq) -> str:
    """bq's text up to the first tweet nested in it: what an unclosed embed itself said.

    The same text as ``text_content()`` (comments and processing instructions give only their tails),
    but it stops at the nested tweet instead of reading all it swallowed.
    """
    parts: list[str] = [bq.text or ""]
    stack = [(child, False) for child in reversed(bq)]  # (node, children done)
    while stack:
        node, done = stack.pop()
        if done:
            parts.append(node.tail or "")
            continue
        if not isinstance(node.tag, str):  # a comment or processing instruction
            parts.append(node.tail or "")
            continue
        if node.tag == "blockquote" and "twitter-tweet" in (node.get("class") or "").split():
            break
        parts.append(node.text or "")
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return "".join(parts)


def _from_blockquote(bq, context: str, markup: str) -> Embed:
    paragraphs, anchors = _own(bq)
    status_link = None
    links = []
    for a in anchors:
        href = (a.get("href") or "").strip()
        links.append(href)
        if parse_url(href):
            # The footer's date link comes last; links in the text may name other tweets.
            if status_link is None or a.getparent() is bq or not inside(a, paragraphs):
                status_link = a
    ref = parse_url(status_link.get("href")) if status_link is not None else None
    text = clean_text(" ".join(text_content(p) for p in paragraphs)) if paragraphs else None
    footer = _footer_text(bq, paragraphs, status_link)
    m = _FOOTER.search(footer) if footer else None
    handle = m.group("handle") if m else (ref.handle if ref else None)
    author = clean_text(m.group("name")) if m else None
    date_text = clean_text(text_content(status_link)) if status_link is not None else None
    if not paragraphs:
        # Truncated or minimal embeds: whatever text precedes the footer (or a nested tweet) is the tweet.
        # An unclosed blockquote swallows what follows it: keep only what precedes the next tweet.
        body = _text_before_nested(bq).replace("\xa0", " ")
        foot = _FOOTER.search(body)
        text = clean_text(body[: foot.start() if foot else len(body)])
        if text and date_text and text.endswith(date_text):
            text = clean_text(text[: -len(date_text)])
    elif text and handle:
        # A <p> left unclosed by the embed code swallows the footer too.
        foot = _FOOTER.search(text, max(0, len(text) - 300))
        if foot and foot.group("handle").lower() == handle.lower():
            text = clean_text(text[: foot.start()])
    all_text = " ".join(filter(None, [text] + links))
    lang = next((p.get("lang") for p in paragraphs if p.get("lang")), None)
    post_id = ref.post_id if ref else None
    if not (post_id or handle or text):
        return None  # an empty shell: nothing would ever tell which post it was
    return Embed(
        platform=NAME, markup=markup, detector="twitter.html", post_id=post_id,
        url=canonical_url(post_id, handle) if post_id else None, handle=handle, author_name=author,
        date=parse_embed_date(date_text), date_text=date_text, text=text, lang=lang,
        pic_links=pic_links(all_text),
        links=tuple(dict.fromkeys(h for h in links if TCO_LINK.match(h))),
        context=context, position=bq.sourceline or 0, raw=raw_markup(bq),
    )


def _footer_text(bq, paragraphs, status_link) -> str:
    """The blockquote's text outside its paragraphs and the date link: '— Name (@handle)'."""
    parts = [bq.text or ""]
    first = _first_nested_tweet(bq)
    stop = first
    while stop is not None and stop.getparent() is not bq:  # the child of bq that holds the nested tweet
        stop = stop.getparent()
    for child in bq:
        if child is stop:
            break
        holds_text = (isinstance(child.tag, str) and child is not status_link
                      and not any(p is child or inside(p, [child]) for p in paragraphs))
        if holds_text:
            parts.append(text_content(child))
        parts.append(child.tail or "")
    return "".join(parts).replace("\xa0", " ")


__all__ = ["SIGNATURES", "URL_MARKERS", "from_element", "PIC_LINK"]
