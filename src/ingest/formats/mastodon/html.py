"""``html_text``: ``ingest.htmltext.html_to_text`` with a fast path for the markup Mastodon writes.

Statuses are short HTML of a few tag kinds (``<p>``, ``<br>``, ``<a href="..." class="...">``,
``<span class="...">``), always lower-case, with double-quoted attributes. For such a body the stdlib
parser's work (a regular expression per tag, attribute and position update) costs more than the rest
of a status's mapping, so it is tokenised here with one regular expression and fed to the same
handlers (``ingest.htmltext.TextParser``) in the same pieces the stdlib parser feeds them: the text
between two tags, character references unescaped, as one piece; a tag's attributes lower-cased, their
values unescaped. Anything else (another tag, a comment, a ``<`` that opens no such tag, single
quotes, attributes without a value, upper case, ``<script>``/``<style>``, whose content is not markup)
goes to ``html_to_text`` itself, so the result is the same for every input.
"""

from __future__ import annotations

import re
from html import unescape

from ingest.htmltext import SPACES, HtmlText, TextParser, html_to_text, parsed_text

# a start tag (name, attributes, "/" when self-closing) or an end tag (name)
_TAG = re.compile(r'<(?:([a-z][a-z0-9]*)((?: [a-z][a-z0-9-]*="[^"<>]*")*) ?(/?)|/([a-z][a-z0-9]*))>')
_ATTR = re.compile(r' ([a-z][a-z0-9-]*)="([^"<>]*)"')
# Tags whose content is markup (not ``script``/``style``, which the parser reads as raw text).
_TAGS = frozenset((
    "a", "abbr", "b", "bdi", "bdo", "big", "blockquote", "br", "cite", "code", "dd", "del", "dfn", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strike", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
))


def html_text(html: str | None) -> HtmlText:
    """``html_to_text(html)``."""
    if not html:
        return HtmlText("")
    if "<" not in html and "&" not in html:
        return HtmlText(SPACES.sub(" ", html).strip())
    parser = TextParser()
    pos = 0
    for m in _TAG.finditer(html):
        start = m.start()
        if start > pos:
            text = html[pos:start]
            if "<" in text:
                return html_to_text(html)
            parser.handle_data(unescape(text))
        pos = m.end()
        name, attrs, slash, end_name = m.groups()
        if end_name is not None:
            if end_name not in _TAGS:
                return html_to_text(html)
            parser.handle_endtag(end_name)
            continue
        if name not in _TAGS:
            return html_to_text(html)
        pairs: list[tuple[str, str | None]] = [
            (key, unescape(value) if value else value) for key, value in _ATTR.findall(attrs)
        ] if attrs else []
        if slash:
            parser.handle_startendtag(name, pairs)
        else:
            parser.handle_starttag(name, pairs)
    if pos < len(html):
        text = html[pos:]
        if "<" in text:
            return html_to_text(html)
        parser.handle_data(unescape(text))
    return parsed_text(parser)
