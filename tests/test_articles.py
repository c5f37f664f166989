"""Reading sources: encodings, kinds, seed dates, metadata, and bad input."""
from __future__ import annotations

import io

import pytest

from archiver.read.articles import article_from_bytes, expand_sources, read_source, with_metadata
from archiver.read.decode import decode
from archiver.detect.scan import parse_html
from archiver.errors import SourceError

TEXT = "Zoë said “hello” — naïve café"


@pytest.mark.parametrize("body,content_type,expected", [
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None, "utf-8"),
    (b"\xff\xfe" + TEXT.encode("utf-16-le"), None, "utf-16-le"),
    (f'<meta charset="windows-1252"><p>{TEXT}</p>'.encode("cp1252"), None, "cp1252"),
    (f"<p>{TEXT}</p>".encode("cp1252"), "text/html; charset=ISO-8859-1", "cp1252"),
    (f"<p>{TEXT}</p>".encode("utf-8"), None, "utf-8"),
    # a page whose <meta> lies (the bytes are not UTF-8): detection wins over the declaration
    (f'<meta charset="utf-8"><p>{TEXT * 5}</p>'.encode("cp1252"), None, "cp1252"),
])
def test_decode_honours_bom_header_meta(body, content_type, expected):
    text, encoding = decode(body, content_type)
    assert encoding == expected
    assert TEXT in text


def test_undeclared_cp1252_text_is_detected_not_mangled():
    body = ("He said \u201cno\u201d \u2014 twice. " * 20).encode("cp1252")
    text, encoding = decode(body, is_html=False)
    assert encoding == "cp1252" and "\u2014" in text


def test_undeclared_cyrillic_is_detected():
    body = ("Президент заявил, что переговоры продолжатся на следующей неделе. " * 10).encode("cp1251")
    text, encoding = decode(body, is_html=False)
    assert encoding == "cp1251" and "Президент" in text


def test_invalid_bytes_never_crash():
    text, _ = decode(b"<p>\xff\xfe\xfa broken \x80\x81</p>" * 10)
    assert "broken" in text


def test_seed_date_line_sets_publication_date(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(" date 2026-02-05 Some text follows.\n\nMore.", encoding="utf-8")
    article = read_source(str(path))
    assert (article.kind, article.published) == ("text", "2026-02-05")


def test_kind_is_sniffed_for_unknown_suffixes(tmp_path):
    page = tmp_path / "page.dat"
    page.write_bytes(b"<!DOCTYPE html><html><body><p>x</p></body></html>")
    note = tmp_path / "note.dat"
    note.write_bytes(b"Just words.\n")
    assert read_source(str(page)).kind == "html"
    assert read_source(str(note)).kind == "text"


def test_metadata_from_opengraph_and_jsonld():
    html = """<html><head><title>Fallback title</title>
    <meta property="og:title" content="OG title"><meta property="og:site_name" content="The Paper">
    <link rel="canonical" href="https://paper.example/story">
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "NewsArticle", "headline": "LD headline", "datePublished": "2024-05-01T10:00:00Z",
       "author": [{"@type": "Person", "name": "Ann Writer"}], "publisher": {"name": "The Paper Ltd"}}]}</script>
    </head><body></body></html>"""
    article = with_metadata(article_from_bytes("x.html", html.encode()), parse_html(html).root)
    assert article.title == "LD headline"
    assert article.published == "2024-05-01T10:00:00Z"
    assert article.author == "Ann Writer"
    assert article.site_name == "The Paper Ltd"
    assert article.canonical_url == "https://paper.example/story"


def test_metadata_from_meta_tags_only():
    html = """<html><head><title> Plain  title </title><meta name="author" content="Bo">
    <meta property="article:published_time" content="2023-01-02"></head><body></body></html>"""
    article = with_metadata(article_from_bytes("x.html", html.encode()), parse_html(html).root)
    assert (article.title, article.author, article.published) == ("Plain title", "Bo", "2023-01-02")


@pytest.mark.parametrize("name,content,message", [
    ("missing.html", None, "no such file or folder"),
    ("empty.txt", b"", "is empty"),
    ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "not an article: binary data"),
])
def test_bad_files_raise_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        read_source(str(path))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


def test_size_cap(tmp_path):
    path = tmp_path / "big.html"
    path.write_bytes(b"<p>" + b"x" * 2000 + b"</p>")
    with pytest.raises(SourceError, match="file is 2 KiB, over the 1000-byte cap"):
        read_source(str(path), max_bytes=1000)


def test_stdin():
    body = "Text — A (@a) May 1, 2020".encode()
    article = read_source("-", stdin=io.BytesIO(body))
    assert article.source == "stdin:" + article.sha256 and article.kind == "text"
    other = read_source("-", stdin=io.BytesIO(body + b" more"))
    assert other.source != article.source  # two texts piped in are two articles


def test_one_file_named_two_ways_is_one_source(tmp_path, monkeypatch):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("words")
    monkeypatch.chdir(tmp_path)
    keys = {read_source(p).source for p in ("seeds/a.txt", "./seeds/a.txt", str(tmp_path / "seeds" / "a.txt"))}
    assert keys == {str(tmp_path / "seeds" / "a.txt")}


def test_a_file_name_that_is_not_utf8_is_stored_readably(tmp_path):
    import os

    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(name, "wb") as fh:
        fh.write(b"words")
    article = read_source(os.fsdecode(name))
    assert article.source.endswith("caf\\xe9.txt")
    article.source.encode("utf-8")  # storable


def test_folders_expand_recursively_sorted_skipping_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ("b/2.html", "a.txt", ".hidden", ".git/x"):
        (tmp_path / rel).write_text("x")
    assert [p[len(str(tmp_path)) + 1:] for p in expand_sources([str(tmp_path)])] == ["a.txt", "b/2.html"]


# An article's words: scripts and styles left out, whitespace collapsed, cut at a limit without reading the
# whole page when the limit is small (a WARC record's article keeps its opening words only).
WORDY = ("<html><head><title>t</title><script>var x = 'not words';</script></head><body>\n"
         + "".join(f"<div>\n{' ' * 80}<p>Para{i} says   {'word ' * (i % 7)}\n</p><script>skip{i}()</script>"
                   f"<style>.c{i}{{}}</style>tail{i}\n{' ' * 80}</div>" for i in range(700))
         + "</body></html>").encode()


def test_readable_words_leave_out_scripts_and_styles():
    from archiver.read.metadata import readable_text

    text = readable_text(parse_html(WORDY.decode(), WORDY).root)
    assert text.startswith("Para0 says tail0 Para1 says word tail1 Para2 says word word tail2")
    assert "skip" not in text and ".c1" not in text and "not words" not in text and "  " not in text


@pytest.mark.parametrize("limit", [1, 10, 999, 1_000, 1_001, 5_000, 30_000])
def test_readable_words_at_a_limit_are_the_start_of_all_of_them(limit):
    from archiver.read.metadata import readable_text

    root = parse_html(WORDY.decode(), WORDY).root
    whole = readable_text(root)
    assert len(whole) > 20_000
    assert readable_text(root, limit) == whole[:limit]
