"""archiver.read.discover: feeds, sitemaps, URL lists and folders read from real-shaped fixtures."""
from __future__ import annotations

import gzip
import os
import time
import zlib
from pathlib import Path

import pytest

from archiver.read.discover import discover, sniff_source_kind
from archiver.read.discovered import MAX_WARNINGS, DiscoverError, Item, _head_text, _root_name, _Warnings
from archiver.read.feeds import FEED_MAX_BYTES, _entries_feedparser, items_from_feed
from archiver.read.lists import items_from_folder, items_from_url_list
from archiver.read.sitemaps import _declares_entities, crawl_sitemaps, items_from_sitemap
from archiver.errors import ArchiverError

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
TAG24 = "https://www.tag24.de/feed/nachrichten.xml"
VERGE = "https://www.theverge.com/rss/index.xml"
AMNESTY = "https://www.amnesty.de/rss/pressemitteilungen"
BONDY = "https://www.bondyblog.fr/feed/"
FR = "https://www.fr.de/sitemaps/news.xml"
ELPAIS = "https://elpais.com/sitemap_index.xml"
CORK = "https://www.corkbeo.ie/watchlist.txt"

ROSTOW = ("https://www.tag24.de/nachrichten/rostow-russland-fuenf-kinder-und-zwei-erwachsene-sterben-bei-"
          "schrecklichem-wohnhausbrand-1255262")
FACETIME = "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact"
KIM = "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html"


def read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def rows(items) -> list[tuple]:
    return [(i.location, i.title, i.published, i.updated) for i in items]


def assert_one_line_error(exc_info, starts: str) -> str:
    exc = exc_info.value
    assert isinstance(exc, ArchiverError)
    message = str(exc)
    assert "\n" not in message and message == exc.message
    assert message.startswith(starts), message
    return message


# --------------------------------------------------------------------------- feeds


def test_rss20_links_titles_dates_dedup_and_dropped_schemes():
    items = items_from_feed(read("rss20.xml"), TAG24)
    assert rows(items) == [
        (ROSTOW, "Rostow: Fünf Kinder und zwei Erwachsene sterben bei schrecklichem Wohnhausbrand",
         "2025-01-07T07:00:00Z", None),
        # relative <link> resolved against the feed URL; "<Sachsen>" is not an HTML tag, so it stays
        ("https://www.tag24.de/nachrichten/dresden/wetter-warnung-sachsen-1255300",
         "Dresden & Leipzig: Wetter-Warnung für <Sachsen>", "2025-01-06T23:30:00Z", None),
        # item 3 is item 1 again with a #comments fragment: dropped as a duplicate
        # a permalink <guid> stands in for the missing <link>; dc:date is the updated date
        ("https://www.tag24.de/nachrichten/politik/bundestag-debatte-1255400", "Nur eine Permalink-GUID",
         "2025-01-06T17:45:00Z", "2025-01-06T17:45:00Z"),
        # spaces around the link trimmed; "EST" read as UTC-5
        ("https://www.tag24.de/nachrichten/wirtschaft/att-t-mobile-fusion-1255500",
         "AT&T und T\u2011Mobile: Fusion geplatzt", "2025-01-05T17:00:00Z", None),
    ]
    assert all(i.kind == "url" and i.source_kind == "feed" and i.mtime is None for i in items)
    assert items.warnings == [
        "entry 5: no link, and the id is not one (relative URL with no http(s) base: 'tag24-1255401')",
        "entry 6: not an http(s) URL: 'mailto:redaktion@tag24.de'",
        "entry 7: not an http(s) URL: 'javascript:openTicker()'",
    ]


def test_atom_alternate_links_xml_base_ids_and_html_titles():
    items = items_from_feed(read("atom.xml"), VERGE)
    assert rows(items) == [
        (FACETIME, "iOS 13 beta 3 automatically ‘fixes’ your eye contact during FaceTime calls",
         "2019-07-03T16:30:05Z", "2019-07-03T16:35:00Z"),
        ("https://www.theverge.com/2019/7/3/20680700/relative-link-story",
         "Relative link resolved against xml:base", "2019-07-03T10:00:00Z", None),
        # the entry's own xml:base; the enclosure is skipped for the alternate link
        ("https://www.theverge.com/tech/2019/7/2/20680650/entry-base",
         "Entry with its own xml:base and an enclosure first", "2019-07-02T07:00:00Z", "2019-07-02T07:00:00Z"),
        # no link: the id is an http URL; a bare date stays a bare date
        ("https://www.theverge.com/2019/7/1/20680600/id-only", "Only an http id", "2019-07-01", "2019-07-01"),
        # an alternate link that is not HTML is still the entry's link when it is the only one
        ("https://www.theverge.com/2019/6/30/report.pdf", "An alternate PDF link only", None, None),
        # the last entry (ftp link, id of the first entry) is a duplicate
    ]
    assert items.warnings == [
        "entry 5: no link, and the id is not one (not an http(s) URL: 'tag:theverge.com,2019:20680599')"]


def test_rdf_rss10_latin1():
    items = items_from_feed(read("rss10.rdf"), AMNESTY)
    assert rows(items) == [
        ("https://www.amnesty.de/allgemein/pressemitteilung/autonome-waffensysteme-gefahr-menschenrechte",
         "Autonome Waffensysteme: Gefahr für Menschenrechte", "2024-11-20T09:15:00Z", "2024-11-20T09:15:00Z"),
        ("https://www.amnesty.de/allgemein/pressemitteilung/menschenrechte-bericht-2025",
         "Menschenrechte: Jahresbericht 2025 veröffentlicht", "2024-11-19", "2024-11-19"),
    ]
    assert items.warnings == []


def test_rss091_with_html_entities_goes_to_feedparser():
    items = items_from_feed(read("rss091.xml"), BONDY)
    assert rows(items) == [
        ("https://www.bondyblog.fr/societe/a-paris-8-un-peu-de-tension-beaucoup-d-actions/",
         "À Paris 8, un peu de tension, beaucoup d'actions", None, None),
        ("https://www.bondyblog.fr/politique/municipales-le-vote-des-jeunes/", "Municipales : le vote des jeunes",
         None, None),
    ]
    assert items.warnings == ["malformed feed, read what parsed: SAXParseException: <unknown>:7:21: undefined entity"]


def test_empty_feed_is_an_empty_list():
    items = items_from_feed(read("empty-feed.xml"), TAG24)
    assert items == [] and items.warnings == []


def test_malformed_feed_gives_what_it_could_read():
    items = items_from_feed(read("malformed.xml"), "http://www.hertha-blog.de/feed/")
    assert [i.location for i in items] == ["http://www.hertha-blog.de/der-lange-und-die-alte-dame.html",
                                           "http://www.hertha-blog.de/zweiter-beitrag.html"]
    assert [i.title for i in items] == ["Der Lange und die alte Dame", "Zweiter Beitrag"]
    assert items.warnings == ["malformed feed, read what parsed: SAXParseException: <unknown>:8:47: "
                              "not well-formed (invalid token)"]


def test_truncated_feed_gives_the_entries_before_the_cut():
    body = read("truncated.xml")
    assert body == read("rss20.xml")[:1500]
    items = items_from_feed(body, TAG24)
    assert rows(items) == [
        (ROSTOW, "Rostow: Fünf Kinder und zwei Erwachsene sterben bei schrecklichem Wohnhausbrand",
         "2025-01-07T07:00:00Z", None),
        ("https://www.tag24.de/nachrichten/dresden/wetter-warnung-sachsen-1255300",
         "Dresden & Leipzig: Wetter-Warnung für <Sachsen>", None, None),  # its pubDate was cut
    ]
    assert items.warnings == ["malformed feed, read what parsed: SAXParseException: <unknown>:26:38: no element found"]


@pytest.mark.parametrize("body,message", [
    (b"", "not a feed: empty body"),
    (b"  \r\n\t ", "not a feed: empty body"),
    (None, "not a feed: got an HTML page"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a feed: binary data"),
    (b"Service temporarily unavailable", "not a feed: no XML markup"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
     "not a feed: JSON (JSON Feed is not supported)"),
    (b'<?xml version="1.0"?>\n<urlset><url><loc>https://a.example/</loc></url></urlset>',
     "not a feed: got a sitemap (<urlset>)"),
    (b'<?xml version="1.0"?>\n<opml version="2.0"><body/></opml>', "not a feed: root element <opml>"),
    (b'<rss version="2.0"><channel><title>cut', "not a feed: SAXParseException: <unknown>:2:38: no element found"),
])
def test_not_a_feed_is_a_one_line_discover_error(body, message):
    body = read("not-a-feed.html") if body is None else body
    with pytest.raises(DiscoverError) as exc_info:
        items_from_feed(body, TAG24)
    assert assert_one_line_error(exc_info, "not a feed: ") == message


def test_binary_fixture_is_refused():
    with pytest.raises(DiscoverError) as exc_info:
        items_from_feed(read("binary.png"), TAG24)
    assert assert_one_line_error(exc_info, "not a feed") == "not a feed: binary data"


def test_feedparser_never_opens_the_body_as_a_path_or_url():
    """feedparser.parse(bytes) opens bytes that name a file; we hand it a BytesIO, so it cannot."""
    path = str((FEEDS / "rss20.xml").resolve()).encode()
    with pytest.raises(DiscoverError) as exc_info:
        _entries_feedparser(path, _Warnings())
    assert_one_line_error(exc_info, "not a feed: SAXParseException")
    with pytest.raises(DiscoverError):
        _entries_feedparser(b"http://127.0.0.1:9/feed.xml", _Warnings())
    with pytest.raises(DiscoverError):
        items_from_feed(path, TAG24)


def test_xxe_feed_does_not_read_local_files():
    items = items_from_feed(read("xxe-feed.xml"), "https://www.example.com/feed")
    assert [i.location for i in items] == ["https://www.example.com/article-1"]
    assert "root:" not in repr(list(items)) + repr(items.warnings)
    assert items[0].title == "Leak: &xxe;"  # feedparser dropped the SYSTEM entity declaration


def test_billion_laughs_feed_does_not_expand():
    started = time.monotonic()
    items = items_from_feed(read("billion-laughs-feed.xml"), "https://www.example.com/feed")
    assert time.monotonic() - started < 10  # a hang guard: expansion would not finish
    assert [i.location for i in items] == ["https://www.example.com/article-1"]
    assert "lollol" not in (items[0].title or "")


def test_gzipped_feed_is_inflated():
    items = items_from_feed(gzip.compress(read("rss10.rdf")), AMNESTY)
    assert len(items) == 2


def test_relative_links_need_an_http_base():
    body = b'<rss version="2.0"><channel><item><link>/a/1.html</link></item>' \
           b'<item><link>https://www.tag24.de/a/2.html</link></item></channel></rss>'
    assert [i.location for i in items_from_feed(body, "https://www.tag24.de/feed.xml")] == [
        "https://www.tag24.de/a/1.html", "https://www.tag24.de/a/2.html"]
    items = items_from_feed(body, None)
    assert [i.location for i in items] == ["https://www.tag24.de/a/2.html"]
    assert items.warnings == ["entry 1: relative URL with no http(s) base: '/a/1.html'"]
    assert [i.location for i in items_from_feed(body, "/srv/feeds/local.xml")] == ["https://www.tag24.de/a/2.html"]


def test_warnings_are_capped():
    entries = "".join(f"<item><link>mailto:a{i}@example.com</link></item>" for i in range(120))
    items = items_from_feed(f'<rss version="2.0"><channel>{entries}</channel></rss>'.encode(), TAG24)
    assert items == []
    assert len(items.warnings) == MAX_WARNINGS + 1
    assert items.warnings[-1] == "... and 70 more warnings"


# --------------------------------------------------------------------------- feeds: size


def _rss(n: int, pad: str = "") -> bytes:
    item = ("<item><title>Meldung {i}</title><link>https://www.tag24.de/nachrichten/meldung-{i}</link>"
            "<guid isPermaLink=\"false\">tag24-{i}</guid><pubDate>Mon, 06 Jan 2025 {h:02d}:{m:02d}:00 GMT</pubDate>"
            "<description>{pad}</description></item>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>TAG24</title>'
            + "".join(item.format(i=i, h=i // 60 % 24, m=i % 60, pad=pad) for i in range(n))
            + "</channel></rss>").encode()


def test_ten_thousand_entries():
    body = _rss(10_000)
    items = items_from_feed(body, TAG24)
    assert len(items) == 10_000
    assert items[9_999] == Item("https://www.tag24.de/nachrichten/meldung-9999", "url", "Meldung 9999",
                                "2025-01-06T22:39:00Z", "feed")


def test_a_huge_feed_is_refused_at_once():
    body = _rss(1_000, "<![CDATA[" + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing.</p>" * 200 + "]]>")
    assert len(body) > FEED_MAX_BYTES
    started = time.monotonic()
    with pytest.raises(DiscoverError, match=r"^feed is \d+ MB, over the 10 MB cap$"):
        items_from_feed(body, TAG24)
    assert time.monotonic() - started < 10  # refused before parsing, not after


def test_50_mb_html_page_is_refused_at_once():
    body = b"<!DOCTYPE html><html><body>" + b"<p>hello <b>world</p>" * 2_400_000
    started = time.monotonic()
    with pytest.raises(DiscoverError, match="^not a feed: got an HTML page$"):
        items_from_feed(body, TAG24)
    assert time.monotonic() - started < 10  # a hang guard: expansion would not finish


# --------------------------------------------------------------------------- sitemaps


def test_news_sitemap():
    items, children = items_from_sitemap(read("news-sitemap.xml"), FR)
    assert children == []
    assert rows(items) == [
        (KIM, "Kim Jong-un: Neue Bilder des Diktators & Trumps Reaktion", "2020-04-22T09:30:00Z",
         "2020-04-22T12:05:00Z"),
        ("https://www.fr.de/politik/corona-krise-bundestag-beschliesst-hilfspaket-13680800.html",
         "Corona-Krise: Bundestag beschließt Hilfspaket", "2020-04-22", None),
        # the third <url> repeats the first (with whitespace around the loc): dropped
        ("https://www.fr.de/frankfurt/stadtverordnete-debattieren-13680900.html", None, "2020-04-21", "2020-04-21"),
    ]
    assert all(i.source_kind == "sitemap" and i.kind == "url" for i in items)
    assert items.warnings == ["url 5: not an http(s) URL: 'ftp://www.fr.de/archiv/13680000.txt'"]


def test_sitemap_index_gives_child_sitemaps():
    items, children = items_from_sitemap(read("sitemap-index.xml"), ELPAIS)
    assert items == []
    assert children == ["https://elpais.com/sitemaps/2020/02/sitemap_0.xml.gz",
                        "https://elpais.com/sitemaps/2020/02/news.xml",
                        "https://elpais.com/sitemaps/2020/01/sitemap_0.xml.gz"]


def test_gzipped_sitemap_without_namespace():
    body = read("sitemap.xml.gz")
    assert body[:2] == b"\x1f\x8b"
    items, children = items_from_sitemap(body, "https://elpais.com/sitemaps/2020/02/sitemap_0.xml.gz")
    assert children == []
    assert rows(items) == [
        ("https://elpais.com/elpais/2020/02/18/ciencia/1582045946_459487.html", None, "2020-02-18T16:12:26Z",
         "2020-02-18T16:12:26Z"),
        ("https://elpais.com/elpais/2020/02/18/ciencia/1582050000_000001.html", None, "2020-02-18", "2020-02-18"),
        ("https://elpais.com/elpais/2020/02/19/ciencia/1582100000_000002.html", None, None, None),
    ]


def test_multi_member_gzip_is_read_whole():
    xml = gzip.decompress(read("sitemap.xml.gz"))
    head, tail = xml[:100], xml[100:]
    items, _ = items_from_sitemap(gzip.compress(head) + gzip.compress(tail), None)
    assert len(items) == 3


@pytest.mark.parametrize("name", ["xxe-sitemap.xml", "billion-laughs-sitemap.xml"])
def test_entity_declarations_are_refused(name):
    started = time.monotonic()
    with pytest.raises(DiscoverError) as exc_info:
        items_from_sitemap(read(name), "https://www.example.com/sitemap.xml")
    assert time.monotonic() - started < 10  # a hang guard: expansion would not finish
    assert assert_one_line_error(exc_info, "not a sitemap: ") == \
        "not a sitemap: declares XML entities (refused: XXE / entity expansion)"


def test_entities_are_refused_even_past_the_sniffed_head():
    """A prolog longer than the sniffed head still meets the parser's own check (and no expansion)."""
    filler = "<!-- " + "x" * 70_000 + " -->\n"
    body = read("xxe-sitemap.xml").decode().replace("<!DOCTYPE", filler + "<!DOCTYPE", 1).encode()
    assert not _declares_entities(_head_text(body))  # the cheap check cannot see it ...
    with pytest.raises(DiscoverError) as exc_info:
        items_from_sitemap(body, None)
    assert str(exc_info.value) == "not a sitemap: declares XML entities (refused: XXE / entity expansion)"


def test_long_prolog_is_left_to_the_parser():
    filler = b"<!-- " + b"x" * 70_000 + b" -->\n"
    body = read("rss20.xml").replace(b"<rss", filler + b"<rss", 1)
    assert _root_name(_head_text(body)) == ""
    assert [i.location for i in items_from_feed(body, TAG24)] == [i.location for i in items_from_feed(
        read("rss20.xml"), TAG24)]
    with pytest.raises(DiscoverError, match="^not a sitemap: root element <rss>$"):
        items_from_sitemap(body, None)
    with pytest.raises(DiscoverError, match="^cannot tell the source kind: the XML prolog is too long to sniff$"):
        sniff_source_kind(body, None)


def test_gzip_bomb_is_capped():
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    bomb = b"".join(deflate.compress(zeros) for _ in range(120)) + deflate.flush()  # 120 MB in ~120 kB
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    with pytest.raises(DiscoverError) as exc_info:
        items_from_sitemap(bomb, None)
    assert time.monotonic() - started < 10  # a hang guard
    assert assert_one_line_error(exc_info, "gzip") == "gzip body inflates past the 50 MB cap"


@pytest.mark.parametrize("body,message", [
    (read("sitemap.xml.gz")[:-12], "gzip body is truncated"),
    (b"\x1f\x8b\x08\x00garbage-not-deflate", "bad gzip data: "),
    (b"", "not a sitemap: empty body"),
    (read("rss20.xml"), "not a sitemap: root element <rss>"),
    (read("not-a-feed.html"), "not a sitemap: root element <html>"),
    (read("binary.png"), "not a sitemap: binary data"),
    (b"https://elpais.com/a.html\n", "not a sitemap: no XML markup"),
    (b"<urlset><url><lo", "not a sitemap: "),
])
def test_not_a_sitemap(body, message):
    with pytest.raises(DiscoverError) as exc_info:
        items_from_sitemap(body, None)
    assert assert_one_line_error(exc_info, message.split(":")[0])
    assert str(exc_info.value).startswith(message)


def test_truncated_sitemap_gives_what_parsed():
    xml = gzip.decompress(read("sitemap.xml.gz"))
    cut = xml[: xml.index(b"</url>", xml.index(b"1582050000")) + len(b"</url>") + 10]
    items, _ = items_from_sitemap(cut, None)
    assert [i.location for i in items] == ["https://elpais.com/elpais/2020/02/18/ciencia/1582045946_459487.html",
                                           "https://elpais.com/elpais/2020/02/18/ciencia/1582050000_000001.html"]
    assert items.warnings[0].startswith("malformed sitemap, read what parsed: ")
    items, _ = items_from_sitemap(b"<urlset><url><loc>https://a.example/x", None)
    assert [i.location for i in items] == ["https://a.example/x"]


def test_50k_url_sitemap_quickly():
    body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>https://elpais.com/a/{i}.html</loc><lastmod>2020-02-18</lastmod></url>\n"
                      for i in range(50_000)) + "</urlset>").encode()
    started = time.monotonic()
    items, _ = items_from_sitemap(gzip.compress(body), None)
    assert time.monotonic() - started < 30  # a hang guard; bench/ measures speed
    assert len(items) == 50_000 and items[-1].location == "https://elpais.com/a/49999.html"


def test_crawl_sitemaps_follows_children_once_and_reports_failures():
    news = read("news-sitemap.xml")
    bodies = {
        ELPAIS: read("sitemap-index.xml"),
        "https://elpais.com/sitemaps/2020/02/sitemap_0.xml.gz": read("sitemap.xml.gz"),
        "https://elpais.com/sitemaps/2020/02/news.xml": news,
    }
    fetched = []

    def get(url: str) -> bytes:
        fetched.append(url)
        if url not in bodies:
            raise DiscoverError(f"HTTP 404 for {url}")
        return bodies[url]

    result = crawl_sitemaps(ELPAIS, get)
    assert fetched == [ELPAIS, "https://elpais.com/sitemaps/2020/02/sitemap_0.xml.gz",
                       "https://elpais.com/sitemaps/2020/02/news.xml",
                       "https://elpais.com/sitemaps/2020/01/sitemap_0.xml.gz"]
    assert len(result.items) == 3 + 3
    assert result.items[0].location == "https://elpais.com/elpais/2020/02/18/ciencia/1582045946_459487.html"
    assert result.warnings == [
        "https://elpais.com/sitemaps/2020/02/news.xml: url 5: not an http(s) URL: "
        "'ftp://www.fr.de/archiv/13680000.txt'",
        "https://elpais.com/sitemaps/2020/01/sitemap_0.xml.gz: HTTP 404 for "
        "https://elpais.com/sitemaps/2020/01/sitemap_0.xml.gz",
    ]


def test_crawl_sitemaps_stops_at_depth_and_cycles():
    def index(*children):
        locs = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
        return f"<sitemapindex>{locs}</sitemapindex>".encode()

    bodies = {"https://a.example/0": index("https://a.example/1", "https://a.example/0"),
              "https://a.example/1": index("https://a.example/2"),
              "https://a.example/2": index("https://a.example/3")}
    fetched = []
    result = crawl_sitemaps("https://a.example/0", lambda u: fetched.append(u) or bodies[u], max_depth=2)
    assert fetched == ["https://a.example/0", "https://a.example/1", "https://a.example/2"]
    assert result.warnings == ["https://a.example/3: not read, deeper than 2 sitemap levels"]
    with pytest.raises(DiscoverError):
        crawl_sitemaps("https://a.example/0", lambda u: b"<html></html>")


def test_crawl_sitemaps_stops_after_max_sitemaps():
    children = "".join(f"<sitemap><loc>https://a.example/s{i}.xml</loc></sitemap>" for i in range(10))
    leaf = b"<urlset><url><loc>https://a.example/article</loc></url></urlset>"
    fetched = []

    def get(url):
        fetched.append(url)
        return f"<sitemapindex>{children}</sitemapindex>".encode() if url.endswith("/index.xml") else leaf

    result = crawl_sitemaps("https://a.example/index.xml", get, max_sitemaps=4)
    assert len(fetched) == 4 and len(result.sitemaps) == 10
    assert [i.location for i in result.items] == ["https://a.example/article"]
    assert result.warnings == ["stopped after 4 sitemaps; 7 more not read"]


# --------------------------------------------------------------------------- URL lists


def test_url_list():
    items = items_from_url_list(read("urls.txt").decode(), CORK)
    assert [i.location for i in items] == [
        "https://www.vice.com/en_uk/article/d3avvm/the-amazon-is-on-fire-and-the-smoke-can-be-seen-from-space",
        "https://blog.gaijinpot.com/tweet-of-the-week-67-dealing-with-chikan/",
        "https://www.corkbeo.ie/news/local-news/level-3-live-cork-ireland-19056312",
        "https://www.corkbeo.ie/news/local-news/relative-path-article-19056400",
        "https://www.lanacion.com.ar/politica/jugada-del-oficialismo-para-evitar-que-jxc-avance-con-la-boleta-"
        "unica-en-diputados-nid03052022/",
    ]
    assert all(i.kind == "url" and i.source_kind == "urls" and i.title is None for i in items)
    assert items.warnings == [
        "line 8: not an http(s) URL: 'ftp://files.example.org/article.txt'",
        "line 9: not one URL: 'see https://www.lanacion.com.ar/politica/ for more'",
        "line 11: no host: 'http://'",
        "line 12: credentials in URL: https://www.theverge.com/...",
    ]


def test_url_list_without_base_skips_relative_lines():
    items = items_from_url_list("\ufeff/news/a\nhttps://a.example/b#top\r\nhttps://a.example/b\n", None)
    assert [i.location for i in items] == ["https://a.example/b"]
    assert items.warnings == ["line 1: relative URL with no http(s) base: '/news/a'"]


# --------------------------------------------------------------------------- folders


def test_folder_lists_files_recursively_sorted_with_mtime_and_size(tmp_path):
    (tmp_path / "b.html").write_text("<p>b</p>")
    (tmp_path / "a.TXT").write_text("a")
    (tmp_path / "notes.md").write_text("skipped: suffix")
    (tmp_path / ".hidden.html").write_text("skipped: hidden")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.htm").write_text("<p>ccc</p>")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "d.html").write_text("skipped: hidden folder")
    os.utime(tmp_path / "b.html", (1_700_000_000, 1_700_000_000))
    items = items_from_folder(tmp_path)
    assert [(Path(i.location).relative_to(tmp_path).as_posix(), i.size) for i in items] == [
        ("a.TXT", 1), ("b.html", 8), ("sub/c.htm", 10)]
    assert items[1].mtime == 1_700_000_000
    assert all(i.kind == "file" and i.source_kind == "folder" for i in items)
    assert [Path(i.location).name for i in items_from_folder(tmp_path, suffixes=(".md",))] == ["notes.md"]


def test_folder_changes_show_in_mtime_and_size(tmp_path):
    page = tmp_path / "a.html"
    page.write_text("<p>one</p>")
    os.utime(page, (1_700_000_000, 1_700_000_000))
    before = items_from_folder(tmp_path)
    page.write_text("<p>one, and two</p>")
    os.utime(page, (1_700_000_100, 1_700_000_100))
    after = items_from_folder(tmp_path)
    assert before != after and (after[0].mtime, after[0].size) == (1_700_000_100, 19)


def test_missing_folder(tmp_path):
    with pytest.raises(DiscoverError) as exc_info:
        items_from_folder(tmp_path / "nope")
    assert str(exc_info.value) == f"{tmp_path / 'nope'}: no such folder"


# --------------------------------------------------------------------------- sniffing and dispatch


@pytest.mark.parametrize("name,kind", [
    ("rss20.xml", "feed"), ("atom.xml", "feed"), ("rss10.rdf", "feed"), ("rss091.xml", "feed"),
    ("malformed.xml", "feed"), ("truncated.xml", "feed"), ("empty-feed.xml", "feed"),
    ("news-sitemap.xml", "sitemap"), ("sitemap-index.xml", "sitemap"), ("sitemap.xml.gz", "sitemap"),
    ("xxe-sitemap.xml", "sitemap"), ("urls.txt", "urls"),
])
def test_sniff_source_kind(name, kind):
    assert sniff_source_kind(read(name), None) == kind


def test_sniff_uses_content_type_only_when_the_body_does_not_say():
    assert sniff_source_kind(b"<?xml version='1.0'?><custom/>", "application/rss+xml; charset=utf-8") == "feed"
    assert sniff_source_kind(b"example.com/a\n", "text/plain") == "urls"
    assert sniff_source_kind(read("rss20.xml"), "text/plain") == "feed"
    assert sniff_source_kind("<rss version='2.0'/>".encode("utf-16"), None) == "feed"
    assert sniff_source_kind("<rss version='2.0'/>".encode("utf-32"), None) == "feed"


@pytest.mark.parametrize("body,message", [
    (read("not-a-feed.html"), "cannot tell the source kind: got an HTML page"),
    (read("binary.png"), "cannot tell the source kind: binary data"),
    (b"", "cannot tell the source kind: empty body"),
    (b"<?xml version='1.0'?><custom/>",
     "cannot tell the source kind: XML root <custom> is neither a feed nor a sitemap"),
    (b"Hello there", "cannot tell the source kind: not XML and not a list of URLs"),
])
def test_sniff_refuses(body, message):
    with pytest.raises(DiscoverError) as exc_info:
        sniff_source_kind(body, "text/html")
    assert assert_one_line_error(exc_info, "cannot tell") == message


def test_discover_dispatches_on_kind():
    feed = discover("feed", read("rss20.xml"), TAG24)
    assert (feed.kind, len(feed.items), feed.sitemaps, len(feed.warnings)) == ("feed", 4, [], 3)
    index = discover("auto", read("sitemap-index.xml"), ELPAIS)
    assert (index.kind, index.items, len(index.sitemaps)) == ("sitemap", [], 3)
    urls = discover("auto", read("urls.txt"), CORK, "text/plain")
    assert (urls.kind, len(urls.items), len(urls.warnings)) == ("urls", 5, 4)
    latin = discover("urls", "https://a.example/café\n".encode("cp1252"), None)
    assert [i.location for i in latin.items] == ["https://a.example/café"]
    with pytest.raises(DiscoverError, match="^unknown source kind 'folder'"):
        discover("folder", b"", None)


def test_item_is_frozen_and_hashable():
    item = Item("https://a.example/", "url", None, None, "urls")
    with pytest.raises(AttributeError):
        item.location = "https://b.example/"  # type: ignore[misc]
    assert len({item, Item("https://a.example/", "url", None, None, "urls")}) == 1
