"""HTML post bodies (Mastodon and other ActivityPub servers) → plain text, in one pass of the stdlib parser.

What a reader sees is what ``text`` gets:

* paragraphs (``<p>``, and other blocks: headings, list items, quotes, ``<pre>``) are separated by a
  blank line; ``<br>`` is a line break; runs of whitespace inside a paragraph collapse to one space, as a
  browser shows them (except inside ``<pre>``);
* a link reads as its visible text. Mastodon cuts long URLs for display into
  ``<span class="invisible">https://</span><span class="ellipsis">example.com/a/lo</span>``
  ``<span class="invisible">ng/path</span>``: every span's text is kept, so the URL reads whole, and the
  ellipsis that CSS adds is never in the markup;
* hashtag and mention links read ``#tag`` and ``@user`` (their markup splits the sigil from the name);
* character references are unescaped (``&amp;``, ``&#39;``, ``&quot;``, ...); no tag is left.

``links`` are the ``href``s of anchors that are neither mentions nor hashtags (``class`` containing
``mention`` or ``hashtag``, or ``rel="tag"``), in order, without duplicates. ``hashtags`` and
``mentions`` are what the hashtag and mention anchors read, without ``#``/``@``; adapters prefer the
platform's structured tag lists and fall back on these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCKS = frozenset(
    ("p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr")
)
SPACES = re.compile(r"[ \t\r\n\f\u200b]+")
_PARAGRAPH_BREAK = "\x00"  # markers that cannot occur in parsed text (NUL and SOH are dropped)
_PRE_SPACE = "\x01"


@dataclass
class HtmlText:
    text: str
    links: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


class TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str] = []
        self.hashtags: list[str] = []
        self.mentions: list[str] = []
        self.pre = 0
        # The anchor being read: (kind, text parts), kind is "link", "hashtag" or "mention".
        self.anchor: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append(_PARAGRAPH_BREAK)
            if tag == "pre":
                self.pre += 1
            elif tag == "li":
                self.out.append("- ")
        elif tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            rel = (a.get("rel") or "").split()
            if "hashtag" in classes or "tag" in rel:
                kind = "hashtag"
            elif "mention" in classes or "u-url" in classes:
                kind = "mention"
            else:
                kind = "link"
                href = a.get("href")
                if href and href not in self.links:
                    self.links.append(href)
            self.anchor = (kind, [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag != "br" and tag in _BLOCKS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.out.append(_PARAGRAPH_BREAK)
            if tag == "pre" and self.pre:
                self.pre -= 1
        elif tag == "a" and self.anchor is not None:
            kind, parts = self.anchor
            self.anchor = None
            seen = "".join(parts).strip()
            if kind == "hashtag" and seen.startswith("#") and len(seen) > 1:
                self.hashtags.append(seen[1:])
            elif kind == "mention" and seen.startswith("@") and len(seen) > 1:
                self.mentions.append(seen[1:])

    def handle_data(self, data: str) -> None:
        data = data.replace("\x00", "").replace("\x01", "")
        if self.pre:
            data = data.replace(" ", _PRE_SPACE)  # kept through the trimming below
        else:
            data = SPACES.sub(" ", data)
        self.out.append(data)
        if self.anchor is not None:
            self.anchor[1].append(data)


def html_to_text(html: str | None) -> HtmlText:
    """Plain text, links, hashtags and mentions of an HTML post body (``None`` reads as empty)."""
    if not html:
        return HtmlText("")
    if "<" not in html and "&" not in html:
        return HtmlText(SPACES.sub(" ", html).strip())
    parser = TextParser()
    parser.feed(html)
    parser.close()
    return parsed_text(parser)


def parsed_text(parser: TextParser) -> HtmlText:
    """The text, links, hashtags and mentions a parser has collected, laid out in paragraphs."""
    paragraphs = []
    for block in "".join(parser.out).split(_PARAGRAPH_BREAK):
        # trim the spaces a browser would not show around line breaks and at block edges
        lines = [line.strip(" ") for line in block.split("\n")]
        block = "\n".join(lines).strip("\n")
        if block.strip():
            paragraphs.append(block)
    text = "\n\n".join(paragraphs).replace(_PRE_SPACE, " ")
    return HtmlText(text, parser.links, parser.hashtags, parser.mentions)
