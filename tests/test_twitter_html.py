"""Twitter/X HTML signatures on hand-written markup of each shape the widgets produce."""
from __future__ import annotations

import pytest

from archiver.detect.scan import detect_html

BLOCKQUOTE = """<html><body><p>Intro</p>
<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Big news today
<a href="https://t.co/AbCdEf123">https://t.co/AbCdEf123</a> <a href="https://t.co/XyZ987abc">pic.twitter.com/XyZ987abc</a></p>
&mdash; Jane Doe (@janedoe) <a href="https://twitter.com/janedoe/status/1234567890123456789?ref_src=twsrc%5Etfw">March 5, 2021</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js"></script></body></html>"""


def test_blockquote_reads_every_field():
    [e] = detect_html(BLOCKQUOTE)
    assert (e.platform, e.post_id, e.handle, e.author_name) == ("twitter", "1234567890123456789", "janedoe", "Jane Doe")
    assert (e.date, e.date_text, e.lang) == ("2021-03-05", "March 5, 2021", "en")
    assert e.text.startswith("Big news today") and "Jane Doe" not in e.text
    assert e.pic_links == ("pic.twitter.com/XyZ987abc",)
    assert e.links == ("https://t.co/AbCdEf123", "https://t.co/XyZ987abc")
    assert e.url == "https://twitter.com/janedoe/status/1234567890123456789"  # ?ref_src stripped
    assert e.markup == "blockquote.twitter-tweet" and e.context == "dom" and e.position == 2


@pytest.mark.parametrize("href,handle,post_id", [
    ("https://x.com/someone/status/42", "someone", "42"),
    ("https://twitter.com/someone/statuses/43", "someone", "43"),
    ("https://mobile.twitter.com/Some_One/status/44?s=20", "Some_One", "44"),
    ("https://twitter.com/i/web/status/45", None, "45"),
])
def test_status_url_shapes(href, handle, post_id):
    html = f'<blockquote class="twitter-tweet"><p>t</p><a href="{href}">May 1, 2020</a></blockquote>'
    [e] = detect_html(html)
    assert (e.post_id, e.handle) == (post_id, handle)


def test_twitter_video_blockquote():
    html = ('<blockquote class="twitter-video" data-status="hidden"><p lang="fr">Vidéo</p>&mdash; Le Monde '
            '(@lemondefr) <a href="https://twitter.com/lemondefr/status/99">1 mai 2020</a></blockquote>')
    [e] = detect_html(html)
    assert (e.markup, e.post_id, e.date) == ("blockquote.twitter-video", "99", "2020-05-01")


def test_rendered_iframe_and_amp_and_placeholders():
    html = """<html><body>
    <div class="twitter-tweet twitter-tweet-rendered"><iframe data-tweet-id="101" src="about:blank"></iframe></div>
    <iframe src="https://platform.twitter.com/embed/Tweet.html?dnt=false&id=102&lang=en"></iframe>
    <amp-twitter width="375" height="472" layout="responsive" data-tweetid="103"></amp-twitter>
    <div class="js-tweet" data-tweetid="104"><a href="https://twitter.com/abc/status/104"></a></div>
    <div class="tweet" data-url="https://twitter.com/def/status/105"></div>
    </body></html>"""
    found = detect_html(html)
    assert [e.post_id for e in found] == ["101", "102", "103", "104", "105"]
    assert [e.handle for e in found][3:] == ["abc", "def"]


@pytest.mark.parametrize("html", [
    # share button and tweet counter whose classes contain "twitter-tweet"
    '<a class="twitter-tweet-btn" href="https://twitter.com/intent/tweet?url=x">Tweet</a>'
    '<span class="twitter-tweet-count">12</span>',
    # CSS naming the embed classes
    "<style>.twitter-tweet-rendered{margin:0} blockquote.twitter-tweet{color:red}</style><p>no embed</p>",
    # a link to a status in prose
    '<p>As <a href="https://twitter.com/someone/status/123">she tweeted</a>, it rained.</p>',
    # a sidebar feed of the site's own account: links only
    '<ul class="twitter-feed"><li><a href="https://twitter.com/site/statuses/9">We posted</a></li></ul>',
    # the status URL only inside a script's JSON (not embed markup)
    '<script>var d = {"url": "https://twitter.com/a/status/7", "text": "hello world and more"};</script>',
])
def test_traps_are_not_embeds(html):
    assert detect_html(f"<html><body>{html}</body></html>") == []


def test_markup_hidden_in_textarea_attribute_and_script_json():
    escaped = ('&lt;blockquote class="twitter-tweet"&gt;&lt;p&gt;Hidden&lt;/p&gt;&amp;mdash; A (@aa) '
               '&lt;a href="https://twitter.com/aa/status/201"&gt;June 2, 2019&lt;/a&gt;&lt;/blockquote&gt;')
    json_html = ('"<blockquote class=\\"twitter-tweet\\"><p>In JSON<\\/p>&mdash; B (@bb) '
                 '<a href=\\"https:\\/\\/twitter.com\\/bb\\/status\\/202\\">June 3, 2019<\\/a><\\/blockquote>"')
    html = f"""<html><body>
    <textarea hidden>{escaped}</textarea>
    <script type="text/template" data-content="{escaped.replace('&amp;', '&amp;amp;').replace('"', '&quot;')}"></script>
    <script>window.__DATA__ = {{"body": {json_html}}};</script>
    </body></html>"""
    found = detect_html(html)
    assert [(e.post_id, e.context) for e in found] == [("201", "textarea"), ("202", "script-json")]
    assert found[1].date == "2019-06-03" and found[1].handle == "bb"


def test_same_post_in_dom_and_script_counts_once():
    bq = ('<blockquote class="twitter-tweet"><p>Once</p>&mdash; C (@cc) '
          '<a href="https://twitter.com/cc/status/303">July 4, 2018</a></blockquote>')
    html = f'<html><body>{bq}<script>var x = {{"html": "{bq.replace(chr(34), chr(92) + chr(34))}"}};</script></body></html>'
    [e] = detect_html(html)
    assert e.context == "dom"


def test_nesting_past_the_parser_limit_still_finds_embeds():
    bq = ('<blockquote class="twitter-tweet"><p>deep</p>&mdash; D (@dd) '
          '<a href="https://twitter.com/dd/status/{}">May 1, 2020</a></blockquote>')
    html = "<html><body>" + "<div>" * 5000 + bq.format(1) + "</div>" * 5000 + bq.format(2) + "</body></html>"
    assert [e.post_id for e in detect_html(html)] == ["1", "2"]


def test_pages_without_hints_are_not_parsed(monkeypatch):
    import archiver.detect.scan as detect

    monkeypatch.setattr(detect, "parse_html", lambda text: pytest.fail("parsed a page with no hint"))
    assert detect.detect_html("<html><body><p>" + "plain words " * 1000 + "</p></body></html>") == []


@pytest.mark.parametrize("markup,markup_name,post_id,handle", [
    ('<x-embed tweet-id="777"></x-embed>', "x-embed[tweet-id]", "777", None),
    ('<div class="lazy" data-twitter-tweet-id="778"></div>', "div[data-twitter-tweet-id]", "778", None),
    ('<iframe src="https://twitframe.com/show?url=https%3A%2F%2Ftwitter.com%2Fjack%2Fstatus%2F20"></iframe>',
     "iframe[src*=status]", "20", "jack"),
    ('<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
     '<div class="wp-block-embed__wrapper">\nhttps://twitter.com/jack/status/21\n</div></figure>',
     "figure.wp-block-embed-twitter", "21", "jack"),
])
def test_custom_and_third_party_embeds(markup, markup_name, post_id, handle):
    [e] = detect_html(f"<html><body><p>x</p>{markup}</body></html>")
    assert (e.markup, e.post_id, e.handle) == (markup_name, post_id, handle)


@pytest.mark.parametrize("markup", [
    '<button data-tweet-id-label="share">Tweet</button>',  # an id-like name without an id
    '<iframe src="https://www.youtube.com/embed/x?status=1"></iframe>',
    '<figure class="wp-block-embed-twitter"><figcaption>See https://twitter.com/jack/status/21 for more '
    'on this</figcaption></figure>',
])
def test_lookalikes_are_not_embeds(markup):
    assert detect_html(f"<html><body>{markup}</body></html>") == []


def _every_occurrence(patterns, data: bytes) -> dict:
    """The reference answer: each pattern's positions by plain substring search, overlaps included."""
    out = {}
    for p in patterns:
        pos = data.find(p.encode())
        while pos != -1:
            out.setdefault(p, []).append(pos)
            pos = data.find(p.encode(), pos + 1)
    return out


@pytest.mark.parametrize("chunk,dense", [(1 << 20, 1000), (1 << 20, 0), (7, 1000), (50, 2)])
def test_hint_scan_finds_every_occurrence_overlapping_ones_included(monkeypatch, chunk, dense):
    import random

    import archiver.detect.hints
    from archiver.detect.hints import registry as known

    # Small chunks put occurrences across chunk borders; a low density bound takes the other path.
    monkeypatch.setattr(archiver.detect.hints, "_CHUNK", chunk)
    monkeypatch.setattr(archiver.detect.hints, "_DENSE", dense)
    registry = known()
    assert len(registry.fast) > 1  # the patterns really are split over several packed automata
    rng = random.Random(7)
    pieces = registry.patterns + ["<p>", " ", "tw", "you", "\\", "/", "-id", "embed"]
    for _ in range(300):
        # Pattern pieces glued at random: suffix of one is the start of the next, one inside another.
        data = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))).lower().encode()
        assert registry.scan(data) == _every_occurrence(registry.patterns, data)
    many = b"tweetid " * 5000
    assert registry.scan(many) == {"tweetid": list(range(0, 8 * 2000, 8))}  # capped, first ones kept
    glued = b"twitter-tweet-rendered tweet-idtweet_id wp-block-embed-twitter youtube.com/embed/x &lt;blockquote"
    hits = registry.scan(glued)
    assert {"twitter-tweet", "twitter-tweet-rendered", "tweet-id", "tweet_id", "wp-block-embed",
            "wp-block-embed-twitter", "youtube.com/embed", "youtube.com/embed/", "&lt;blockquote"} <= set(hits)


@pytest.mark.parametrize("page", [
    # Content after </html>: libxml2 puts it in a second <html> beside the root.
    '<html><body><p>x</p></body></html><blockquote class="twitter-tweet"><p>hi</p>&mdash; A (@a) '
    '<a href="https://twitter.com/a/status/123456789">May 1, 2020</a></blockquote>',
    # The root element itself as a placeholder.
    '<html data-tweet-id="123456789"><body><p>x</p></body></html>',
])
def test_embeds_outside_or_on_the_root_element_are_found(page):
    assert [e.post_id for e in detect_html(page)] == ["123456789"]
