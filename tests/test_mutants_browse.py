"""The browse pages' escaping, to the letter: untrusted text and URLs in, safe markup and links out.

Written for mutation testing (``bench/mutation.py``): the page tests build a whole archive; these call
the helpers the templates use (``safe_url``, ``linkify``, ``profile_url``, the URL quoting) directly.
"""
from __future__ import annotations

import markupsafe
import pytest

from archiver.browse.web import _q, linkify, profile_url, safe_url

A = '<a href="{href}" rel="nofollow noopener noreferrer">{text}</a>'


@pytest.mark.parametrize("url, safe", [
    ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
    ("  http://example.com/  \n", "http://example.com/"),
    ("HTTPS://Example.com/X", "HTTPS://Example.com/X"),
    ("javascript:alert(1)", None),
    ("data:text/html,<script>x</script>", None),
    ("JaVaScRiPt:https://example.com/", None),
    ("//example.com/a", None),
    ("ftp://example.com/a", None),
    ("http://", None),
    ("https://example.com/a b", None),
    ('https://example.com/"onmouseover=x', None),
    ("https://example.com/'x", None),
    ("https://example.com/<x>", None),
    ("https://example.com/`x`", None),
    ("https://example.com/a\nb", None),
    (" x https://example.com/", None),
    (None, None),
    (42, None),
    (b"https://example.com/", None),
])
def test_safe_url_passes_only_plain_http_urls(url, safe):
    assert safe_url(url) == safe


def test_nothing_becomes_empty_markup():
    out = linkify(None)
    assert isinstance(out, markupsafe.Markup) and out == ""


def test_text_is_escaped():
    out = linkify('<script>alert("x")</script> & \'y\'')
    assert isinstance(out, markupsafe.Markup)
    assert str(out) == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;y&#39;"


def test_a_number_is_text():
    assert str(linkify(42)) == "42"


def test_a_url_becomes_a_link_escaped_inside_and_out():
    out = str(linkify("see https://example.com/a?b=1&c=2 now"))
    link = "https://example.com/a?b=1&amp;c=2"
    assert out == "see " + A.format(href=link, text=link) + " now"


@pytest.mark.parametrize("text, url, trail", [
    ("https://example.com/x.", "https://example.com/x", "."),
    ("https://example.com/x),", "https://example.com/x", "),"),
    ("https://example.com/x…!?", "https://example.com/x", "…!?"),
    ("https://example.com/x]}:;", "https://example.com/x", "]}:;"),
])
def test_trailing_punctuation_stays_outside_the_link(text, url, trail):
    assert str(linkify(text)) == A.format(href=url, text=url) + str(markupsafe.escape(trail))


def test_a_quote_ends_a_url():
    out = str(linkify('https://example.com/"onmouseover=alert(1)'))
    assert out == A.format(href="https://example.com/", text="https://example.com/") + "&#34;onmouseover=alert(1)"


@pytest.mark.parametrize("bare", ["pic.twitter.com/AbC123", "pic.x.com/abc", "t.co/Xy9", "PIC.TWITTER.COM/Q1"])
def test_bare_pic_and_tco_links_become_https_links(bare):
    assert str(linkify(f"{bare}.")) == A.format(href="https://" + bare, text=bare) + "."


@pytest.mark.parametrize("platform, href", [
    ("twitter", "https://twitter.com/bob_1"),
    ("instagram", "https://www.instagram.com/bob_1/"),
    ("bluesky", "https://bsky.app/profile/bob_1"),
])
def test_a_mention_links_to_the_platforms_profile(platform, href):
    assert str(linkify("hi @bob_1!", platform)) == "hi " + A.format(href=href, text="@bob_1") + "!"


@pytest.mark.parametrize("platform", [None, "mastodon", "youtube"])
def test_a_mention_without_a_profile_url_stays_text(platform):
    assert str(linkify("hi @bob <b>", platform)) == "hi @bob &lt;b&gt;"


def test_an_address_is_not_a_mention():
    assert str(linkify("mail bob@example.org", "twitter")) == "mail bob@example.org"


def test_a_mention_is_at_most_30_characters():
    handle = "a" * 31
    out = str(linkify(f"@{handle}", "twitter"))
    assert out == A.format(href=f"https://twitter.com/{'a' * 30}", text="@" + "a" * 30) + "a"


def test_several_tokens_in_order_with_the_text_between_escaped():
    out = str(linkify("a<b https://e.com/1 & @x pic.twitter.com/P <end>", "twitter"))
    assert out == ("a&lt;b " + A.format(href="https://e.com/1", text="https://e.com/1") + " &amp; "
                   + A.format(href="https://twitter.com/x", text="@x") + " "
                   + A.format(href="https://pic.twitter.com/P", text="pic.twitter.com/P") + " &lt;end&gt;")


@pytest.mark.parametrize("platform, handle, url", [
    ("twitter", "jack", "https://twitter.com/jack"),
    ("tiktok", "a.b-c", "https://www.tiktok.com/@a.b-c"),
    ("threads", "x_y", "https://www.threads.net/@x_y"),
    ("instagram", "z" * 64, "https://www.instagram.com/" + "z" * 64 + "/"),
    ("twitter", "z" * 65, None),
    ("twitter", "", None),
    ("twitter", "a b", None),
    ("twitter", "../admin", None),
    ("twitter", "x\n", None),  # `$` also matches before a final newline: the check is a fullmatch
    ("twitter", 'a"onmouseover', None),
    ("twitter", None, None),
    ("mastodon", "jack", None),
    (None, "jack", None),
])
def test_profile_urls_only_for_known_platforms_and_plain_handles(platform, handle, url):
    assert profile_url(platform, handle) == url


@pytest.mark.parametrize("value, quoted", [("a/b c", "a%2Fb%20c"), (5, "5"), ("?&=#", "%3F%26%3D%23"), ("é", "%C3%A9")])
def test_values_in_links_are_quoted_whole(value, quoted):
    assert _q(value) == quoted
