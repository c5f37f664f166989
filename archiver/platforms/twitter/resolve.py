"""Find the status id of a tweet flattened into an article: t.co, then syndication, then Wayback CDX.

A flattened tweet keeps its ``pic.twitter.com/CODE`` link, handle, date and text but loses its id.
CODE is a t.co code; t.co says which status the media was posted with.  That status may be
another tweet (re-used media), so an id is only taken as is when its handle is the article's;
otherwise it is checked against the tweet-result JSON, and failing that, the Wayback Machine's CDX
index lists the author's statuses around the date, and each is checked the same way.

No HTTP here: ``get(url, *, source, follow_redirects=True, headers=None) -> Exchange`` is passed in,
and twitter.com itself is never requested (its URLs are only read).
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date as Date, datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from archiver.errors import FetchError, ForbiddenURLError, TooLargeError
import archiver.platforms.twitter.syndication as syndication
from archiver.platforms.twitter.syndication import status_from_media_url
from archiver.platforms.twitter.tweet import SyndicationResult
from archiver.platforms.twitter.urls import pic_code
from archiver.fetch.wayback import build_cdx_url, parse_cdx

METHODS = ("tco-redirect", "tco-html", "tco-candidate-verified", "wayback-cdx", "unresolved")
MAX_HOPS = 5  # t.co requests per pic link, t.co -> t.co chains included
LOWERCASE_NOTE = "code in lower case, as pic.x.com writes it; t.co codes keep their case, so t.co cannot tell"
MAX_CANDIDATES = 20  # tweet-result requests for Wayback candidates
DATE_SLACK = timedelta(days=1)  # embeds show the reader's local day
CDX_WINDOW = timedelta(days=2)
# Only for a t.co answer that is neither a redirect nor a readable page: t.co gives browsers HTML.
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
}
MIN_PREFIX = 24  # characters of normalised text two tweets must share to match by prefix
PREFIX_SHARE = 0.9  # ... covering this share of the shorter text

Get = Callable[..., Any]  # get(url, *, source, follow_redirects=True, headers=None) -> Exchange


@dataclass(frozen=True)
class Resolution:
    """How (and whether) a tweet's id was found, with every exchange made on the way."""

    post_id: str | None
    handle: str | None  # as the resolving source spells it
    method: str  # one of METHODS
    detail: str  # one line, for people
    candidates: tuple = ()  # JSON-ready dicts: {"id", "handle", "via", "accepted", "verdict"}
    exchanges: tuple = ()  # archiver.http.Exchange of every response, in order (for WARC and fetch_attempts)
    failures: tuple = ()  # (source, url, message) of every request that raised FetchError
    retryable: bool = False  # unresolved, but a network or upstream failure may have hidden the answer
    tweet: SyndicationResult | None = None  # the accepted candidate's tweet-result, when one was fetched
    tweet_exchange: Any = None  # the response it was read from: the snapshot reuses it, not a second GET

    @property
    def resolved(self) -> bool:
        return self.post_id is not None


# --------------------------------------------------------------------------- text and time


_URL = re.compile(
    r"(?:https?://|www\.)\S*"  # anything with a scheme
    r"|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/\S*",  # display URLs without one: buff.ly/x, pic.twitter.com/CODE
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str | None) -> str:
    """Lowercase, without URLs or pic links, punctuation and runs of space collapsed to one space."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    text = _URL.sub(" ", text)
    return _NOT_WORD.sub(" ", text).strip()


def texts_match(a: str | None, b: str | None) -> bool:
    """True when two renderings of a tweet's text are the same tweet.

    Equal after ``normalize_text``, or one starting with the other (or with all but its last few
    characters: a truncated word) over at least MIN_PREFIX characters.  Empty never matches.
    """
    na, nb = normalize_text(a), normalize_text(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    shorter = min(len(na), len(nb))
    common = _common_prefix(na, nb)
    return common >= MIN_PREFIX and common >= PREFIX_SHARE * shorter


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


_TWEPOCH_MS = 1288834974657
_FIRST_SNOWFLAKE = 10**14  # older ids were sequential and carry no time


def snowflake_time(tweet_id: str | int) -> datetime | None:
    """When a snowflake tweet id (Nov 2010 on) was made, in UTC; None for older or invalid ids."""
    try:
        n = int(str(tweet_id))
    except ValueError:
        return None
    if n < _FIRST_SNOWFLAKE or n >= 1 << 63:
        return None
    return datetime.fromtimestamp(((n >> 22) + _TWEPOCH_MS) / 1000, timezone.utc)


def _as_date(value: Any) -> Date | None:
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, Date):
        return value
    if isinstance(value, str):
        m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
        if m:
            try:
                return Date(*map(int, m.groups()))
            except ValueError:
                return None
    return None


def dates_match(created: Any, day: Date | None) -> bool:
    """The tweet's UTC time falls within a day of the article's (local) date."""
    when = _as_date(created)
    return when is not None and day is not None and abs(when - day) <= DATE_SLACK


def _same_handle(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.lower() == b.lower()


# --------------------------------------------------------------------------- the run


@dataclass
class _Run:
    get: Get
    endpoints: Any
    handle: str | None
    day: Date | None
    text: str | None
    exchanges: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    candidates: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # why each step gave up, for the final detail
    transient: bool = False  # a failure that might not happen next time
    checked: dict = field(default_factory=dict)  # id -> (accepted, verdict, SyndicationResult | None)

    def request(self, url: str, source: str, **kw):
        """One get(); None (recorded) when it raised FetchError."""
        try:
            ex = self.get(url, source=source, **kw)
        except FetchError as exc:
            self.failures.append((source, url, exc.message))
            if getattr(exc, "exchange", None) is not None:  # a 429/5xx the requester gave up on
                self.exchanges.append(exc.exchange)
            if _transient_error(exc):
                self.transient = True
            return None
        self.exchanges.append(ex)
        if ex.status == 429 or ex.status >= 500:
            self.transient = True
        return ex

    def resolution(self, post_id, handle, method, detail, tweet=None) -> Resolution:
        exchange = None
        if tweet is not None:
            url = syndication.build_url(self.endpoints.syndication, post_id)
            exchange = next((ex for ex in reversed(self.exchanges) if ex.url == url), None)
        return Resolution(post_id, handle, method, detail, tuple(self.candidates), tuple(self.exchanges),
                          tuple(self.failures), retryable=False, tweet=tweet, tweet_exchange=exchange)

    def unresolved(self, detail: str) -> Resolution:
        if self.transient:
            detail += " (some requests failed; worth retrying)"
        return Resolution(None, None, "unresolved", detail, tuple(self.candidates), tuple(self.exchanges),
                          tuple(self.failures), retryable=self.transient)


def _transient_error(exc: FetchError) -> bool:
    """Might this failure not happen next time? Network, timeouts, 429/5xx, a host skipped for now: yes."""
    if isinstance(exc, (ForbiddenURLError, TooLargeError)):
        return False
    if exc.status is not None:
        return exc.status == 429 or exc.status >= 500  # a redirect loop or a 4xx is an answer
    cause = exc.__cause__
    # No cause: the caller's requester gave up on its own (an open circuit breaker, say).
    return cause is None or isinstance(cause, (httpx.TransportError, OSError, TimeoutError))


def resolve_tweet_id(get: Get, endpoints, *, handle: str | None, date: Any, text: str | None,
                     pic_links: tuple = (), max_candidates: int = MAX_CANDIDATES) -> Resolution:
    """Find the status id of a flattened tweet; never raises on network errors.

    ``date``: the embed's date (ISO string, date or datetime).  ``pic_links``: pic.twitter.com/CODE,
    pic.x.com/CODE or t.co/CODE links, tried in order.
    """
    handle = (handle or "").strip().lstrip("@") or None
    run = _Run(get, endpoints, handle, _as_date(date), text)

    # 1. t.co says which status each pic link's media was posted with.
    others: list[tuple[str, str | None, str]] = []  # (id, handle, detail) of statuses by someone else
    codes = list(dict.fromkeys(c for c in (_code(p) for p in pic_links or ()) if c[0]))
    if not codes:
        run.notes.append("no pic link")
    for code, lowered in codes:
        found = _follow_tco(run, code, lowered)
        if found is None:
            continue
        post_id, url_handle, method, detail = found
        # A lowercased code may be another t.co link altogether: its status must prove itself.
        if handle and _same_handle(url_handle, handle) and not lowered:
            run.candidates.append(_candidate(post_id, url_handle, "tco", True, f"handle matches: {detail}"))
            return run.resolution(post_id, url_handle, method, detail)
        others.append((post_id, url_handle, detail))

    # 2. Media posted with another status: take that status only if it is this tweet after all
    #    (a renamed account, an /i/web/ URL).
    for post_id, url_handle, detail in others:
        accepted, verdict, tweet = _check(run, post_id)
        run.candidates.append(_candidate(post_id, url_handle, "tco", accepted, verdict))
        if accepted:
            who = tweet.user.screen_name if tweet and tweet.user else url_handle
            return run.resolution(post_id, who, "tco-candidate-verified",
                                  f"{detail}; tweet-result by @{who}: {verdict}", tweet)
        run.notes.append(f"{detail}: {verdict}")

    # 3. The Wayback Machine's index of the author's statuses around the date.
    found = _wayback(run, max_candidates)
    if found is not None:
        return found
    return run.unresolved("; ".join(run.notes) or "nothing to go on")


def _candidate(post_id, handle, via, accepted, verdict) -> dict:
    return {"id": post_id, "handle": handle, "via": via, "accepted": accepted, "verdict": verdict}


def _code(link: str) -> tuple[str | None, bool]:
    """(t.co code, whether it may have been lowercased) of a pic or t.co link.

    Since 2024 X writes pic.x.com display links in lower case while the t.co code keeps its case
    (pic.x.com/b2nhkd9ywc for t.co/B2nhkd9yWc): a pic link's code without capitals may not be the code.
    """
    if not isinstance(link, str):
        return None, False
    m = re.match(r"^(?:https?://)?(?:www\.)?t\.co/([A-Za-z0-9]+)/?$", link.strip(), re.IGNORECASE)
    if m:
        return m.group(1), False
    code = pic_code(link)
    return code, bool(code) and code == code.lower() and not code.isdigit()


# --------------------------------------------------------------------------- 1. t.co


def _follow_tco(run: _Run, code: str, lowered: bool = False) -> tuple[str, str | None, str, str] | None:
    """(id, handle, method, detail) of the status t.co/CODE leads to; None with a note otherwise."""
    base = run.endpoints.tco.rstrip("/")
    chain = [f"t.co/{code}"]
    seen = {code}
    for _ in range(MAX_HOPS):
        url = f"{base}/{code}"
        target, how, problem = _tco_hop(run, url)
        if target is None:
            if lowered and len(chain) == 1:
                # Not an answer about this tweet: the real code has capitals t.co does not ignore.
                problem += f" ({LOWERCASE_NOTE})"
                run.transient = True
            run.notes.append(f"{' → '.join(chain)}: {problem}")
            return None
        next_code = _tco_code(target, base)
        if next_code is not None:
            chain.append(f"t.co/{next_code}")
            if next_code in seen:
                run.notes.append(f"{' → '.join(chain)}: redirect loop")
                return None
            seen.add(next_code)
            code = next_code
            continue
        status = status_from_media_url(target)
        if status is None:
            run.notes.append(f"{' → '.join(chain)} → {_short(target)}: not a status URL")
            return None
        url_handle, post_id = status
        chain.append(_short(target))
        return post_id, url_handle, how, " → ".join(chain) + (f" ({LOWERCASE_NOTE})" if lowered else "")
    run.notes.append(f"{' → '.join(chain)}: more than {MAX_HOPS} t.co hops")
    return None


def _tco_hop(run: _Run, url: str) -> tuple[str | None, str, str]:
    """(target URL, method, problem) of one t.co answer; asks again as a browser if the first is unusable."""
    problem = ""
    for headers in (None, BROWSER_HEADERS):
        ex = run.request(url, "tco", follow_redirects=False, headers=headers)
        if ex is None:
            return None, "", f"request failed: {run.failures[-1][2]}"
        if ex.status in (301, 302, 303, 307, 308):
            location = ex.headers.get("location")
            if location:
                return urljoin(url, location.strip()), "tco-redirect", ""
            problem = f"HTTP {ex.status} without Location"
        elif 200 <= ex.status < 300:
            target = tco_page_target(ex.body)
            if target:
                return urljoin(url, target), "tco-html", ""
            problem = "page names no URL"
        else:
            problem = f"HTTP {ex.status}"
            if ex.status == 404 or ex.status == 429 or ex.status >= 500:
                break  # gone, or come back later: asking as a browser would not help
    return None, "", problem


_META = re.compile(r"<meta\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_REFRESH_URL = re.compile(r"^\s*\d*(?:\.\d*)?\s*[;,]?\s*url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_JS_REPLACE = re.compile(r"location\.replace\(\s*\"((?:[^\"\\]|\\.)*)\"\s*\)")


def tco_page_target(body: bytes | str | None) -> str | None:
    """The URL t.co's browser page sends to: its meta refresh, else its title, else location.replace()."""
    if not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)
    text = text[:100_000]
    for m in _META.finditer(text):
        attrs = {a.group(1).lower(): html.unescape(a.group(2) or a.group(3) or a.group(4) or "")
                 for a in _ATTR.finditer(m.group(1))}
        if attrs.get("http-equiv", "").lower() == "refresh":
            refresh = _REFRESH_URL.match(attrs.get("content", ""))
            if refresh and _is_http(refresh.group(1).strip()):
                return refresh.group(1).strip()
    title = _TITLE.search(text)
    if title:
        candidate = html.unescape(title.group(1)).strip()
        if _is_http(candidate) and not re.search(r"\s", candidate):
            return candidate
    js = _JS_REPLACE.search(text)
    if js:
        candidate = js.group(1).replace("\\/", "/")
        if _is_http(candidate):
            return candidate
    return None


def _is_http(url: str) -> bool:
    return bool(re.match(r"^https?://[^\s/]+", url, re.IGNORECASE))


def _tco_code(url: str, base: str) -> str | None:
    """CODE when a URL is t.co/CODE (or CODE on the configured t.co stand-in)."""
    parts, ours = urlsplit(url), urlsplit(base)
    host = (parts.hostname or "").lower()
    same_base = parts.netloc.lower() == ours.netloc.lower() and parts.path.startswith(ours.path.rstrip("/") + "/")
    if host not in ("t.co", "www.t.co") and not same_base:
        return None
    rest = parts.path[len(ours.path.rstrip("/")):] if same_base else parts.path
    m = re.fullmatch(r"/([A-Za-z0-9]{1,32})/?", rest)
    return m.group(1) if m else None


def _short(url: str) -> str:
    return re.sub(r"^https?://(?:www\.)?", "", url)


# --------------------------------------------------------------------------- 2. checking a candidate


def _check(run: _Run, post_id: str) -> tuple[bool, str, SyndicationResult | None]:
    """Is this status the article's tweet? Fetches its tweet-result (once per id)."""
    if post_id in run.checked:
        return run.checked[post_id]
    outcome = run.checked[post_id] = _check_uncached(run, post_id)
    return outcome


def _check_uncached(run: _Run, post_id: str) -> tuple[bool, str, SyndicationResult | None]:
    if run.day is None and not normalize_text(run.text):
        return False, "no date or text to compare with", None
    made = snowflake_time(post_id)
    if run.day is not None and made is not None and not dates_match(made, run.day):
        return False, f"id dates from {made.date().isoformat()}, not {run.day.isoformat()} ±1 day", None
    url = syndication.build_url(run.endpoints.syndication, post_id)
    ex = run.request(url, "syndication")
    if ex is None:
        return False, f"tweet-result failed: {run.failures[-1][2]}", None
    tweet = syndication.classify(ex.status, ex.body)
    if tweet.outcome != "archived":
        return False, f"tweet-result {tweet.outcome}" + (f": {tweet.error or tweet.reason}"
                                                         if (tweet.error or tweet.reason) else ""), None
    author = tweet.user.screen_name if tweet.user else None
    if run.handle and not _same_handle(author, run.handle):
        return False, f"author @{author} is not @{run.handle}", tweet
    if run.day is not None and not dates_match(tweet.created_at, run.day):
        return False, f"posted {tweet.created_at}, not {run.day.isoformat()} ±1 day", tweet
    if normalize_text(run.text) and not texts_match(tweet.text, run.text):
        return False, "text differs", tweet
    compared = [name for name, given in (("author", run.handle), ("date", run.day),
                                         ("text", normalize_text(run.text))) if given]
    return True, " and ".join(compared) + (" match" if len(compared) > 1 else " matches"), tweet


# --------------------------------------------------------------------------- 3. Wayback CDX


_STATUS_PATH = re.compile(r"^/([A-Za-z0-9_]{1,15})/status(?:es)?/([0-9]{1,25})(?:/|$)", re.IGNORECASE)


def _wayback(run: _Run, max_candidates: int) -> Resolution | None:
    if not run.handle or run.day is None or not normalize_text(run.text):
        run.notes.append("Wayback CDX not tried (needs handle, date and text)")
        return None
    start, end = run.day - CDX_WINDOW, run.day + CDX_WINDOW
    tried = 0
    for host in ("twitter.com", "x.com"):
        prefix = f"{host}/{run.handle}/status/"
        url = build_cdx_url(run.endpoints.cdx, prefix, start, end, limit=1000, match_type="prefix",
                            filters=("statuscode:200",), collapse="urlkey")
        ex = run.request(url, "wayback-cdx")
        if ex is None:
            run.notes.append(f"Wayback CDX {prefix}: request failed: {run.failures[-1][2]}")
            continue
        cdx = parse_cdx(ex.status, ex.body)
        if cdx.outcome != "archived":
            run.notes.append(f"Wayback CDX {prefix}: " + (cdx.error or "no captures"))
            continue
        ids = [i for i in _rank(_ids(cdx.captures, run.handle), run.day) if i not in run.checked]
        # A snowflake id carries its time: ids from other days need no request to rule out.
        plausible = [i for i in ids if snowflake_time(i) is None or dates_match(snowflake_time(i), run.day)]
        checked = 0
        for post_id in plausible:
            if tried >= max_candidates:
                break
            tried += 1
            checked += 1
            accepted, verdict, tweet = _check(run, post_id)
            run.candidates.append(_candidate(post_id, run.handle, "wayback-cdx", accepted, verdict))
            if accepted:
                who = tweet.user.screen_name if tweet and tweet.user else run.handle
                # What t.co said first stays in the detail: why the search came this far.
                found = (f"Wayback CDX {prefix}* {start.isoformat()}..{end.isoformat()}: "
                         f"{len(ids)} ids, {post_id}: {verdict}")
                return run.resolution(post_id, who, "wayback-cdx", "; ".join([*run.notes, found]), tweet)
        run.notes.append(f"Wayback CDX {prefix}: {len(ids)} ids, {len(ids) - len(plausible)} from other days, "
                         f"{checked} checked, none matched")
        if tried >= max_candidates:
            run.notes.append(f"stopped after {max_candidates} candidates")
            break
    return None


def _ids(captures, handle: str) -> list[str]:
    """Status ids of the handle's captured URLs (/status/ID, /status/ID/photo/1, ?s=20, :443 ...), once each."""
    out = []
    for c in captures:
        path = urlsplit(c.original if "://" in c.original else "https://" + c.original).path
        m = _STATUS_PATH.match(path)
        if m and _same_handle(m.group(1), handle):
            out.append(m.group(2))
    return list(dict.fromkeys(out))


def _rank(ids: list[str], day: Date) -> list[str]:
    """Ids closest in time (by snowflake) to noon of the day first; ids without a time keep their order last."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)

    def key(item):
        i, post_id = item
        made = snowflake_time(post_id)
        return (0, abs((made - noon).total_seconds()), i) if made else (1, 0, i)

    return [post_id for _, post_id in sorted(enumerate(ids), key=key)]
