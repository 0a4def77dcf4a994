"""The Mastodon adapter's fast path for status HTML gives what ``ingest.htmltext.html_to_text`` gives."""

from __future__ import annotations

import random

import pytest

from ingest.formats.mastodon.html import html_text
from ingest.htmltext import html_to_text

_PIECES = [
    "<p>", "</p>", "<br>", "<br/>", "<br />", '<a href="https://x.y/a?b=1&amp;c=2" class="mention u-url">',
    '<a href="h" rel="tag">', '<a href="" class="">', '<a href="u" class="hashtag" rel="tag">', "</a>",
    '<span class="invisible">', "</span>", "<span>", '<span class="ellipsis">', "#", "@", "tag", "user",
    " ", "  ", "\n", "\t", "\r\n", "\u200b", "&amp;", "&lt;", "&gt;", "&#39;", "&quot;", "&", "&am", "&amp",
    "&#x27;", "&#", "&nbsp;", "&copy", "&#128512;", "x;y", "; ", "text", "é", "😩", "\x00", "\x01", "<", ">",
    "<P>", "</P>", "<!-- c -->", "<script>x<p>y</script>", "<style>a</style>", "<pre>", "</pre>", "<li>",
    "</li>", "<ul>", "</ul>", "<blockquote>", "<div/>", "<p/>", "<a href='s'>", "<a hidden>", '<a  href="x">',
    "<foo>", "</foo>", "<b>", "</b>", "<em>", "<h1>", "</h1>", "</>", "<?x?>", "<!DOCTYPE html>",
    '<a href="x" >', '<a href="a>b">', '<a\nhref="x">', '<img src="i.png" alt="a&amp;b">', "<hr>",
]

_STATUSES = [
    "",
    None,
    "plain text, no markup",
    "<p>Buruk sekali, debat digelar barusan. Bikin takut 😩 "
    '<a href="https://kumparan.com/k/kasus-35319060" target="_blank" rel="nofollow noopener" translate="no">'
    '<span class="invisible">https://</span><span class="ellipsis">kumparan.com/k/k</span>'
    '<span class="invisible">asus-35319060</span></a></p>',
    '<p><span class="h-card" translate="no"><a href="https://h/@a" class="u-url mention">@<span>a</span>'
    '</a></span> ok <a href="https://h/tags/Pemilu" class="mention hashtag" rel="tag">#<span>Pemilu</span>'
    "</a></p>"
    "<p>second &amp; last<br>line</p>",
]


@pytest.mark.parametrize("html", _STATUSES)
def test_statuses(html: str | None) -> None:
    assert html_text(html) == html_to_text(html)


def test_random_markup() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        html = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 14)))
        assert html_text(html) == html_to_text(html), html
