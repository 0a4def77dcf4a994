"""Indonesian and English stopwords from the installed ``stopwordsiso`` package (Stopwords ISO, MIT).

Nothing is copied into the repository or downloaded: the dbt Python model ``int_stopwords`` calls
``stopword_table()`` on every build. Words are brought close to the tokeniser's normal form
(``dbt_project/macros/text.sql``): lower case, straight apostrophes; entries that are not a single
word (digits, punctuation, spaces) can never equal a token and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa

STOPWORD_LANGS = ("id", "en")
STOPWORD_SCHEMA = pa.schema(
    [pa.field("term", pa.string(), nullable=False), pa.field("lang", pa.string(), nullable=False)]
)
_WORD = re.compile(r"^[^\W\d_]+(?:'[^\W\d_]+)*$")


def normal_word(word: str) -> str:
    """A package's word in the tokeniser's case and apostrophe form: lower case, straight apostrophes."""
    return word.strip().lower().replace("\u2019", "'").replace("\u2018", "'")


class StopwordsError(Exception):
    """The stopword lists could not be read."""


def stopword_table(langs: Sequence[str] = STOPWORD_LANGS) -> pa.Table:
    """One row per (term, lang), sorted; raises ``StopwordsError`` when a language has no list."""
    try:
        import stopwordsiso
    except ModuleNotFoundError as exc:  # pragma: no cover - a locked dependency
        raise StopwordsError("the 'stopwordsiso' package is not installed") from exc
    rows: set[tuple[str, str]] = set()
    for lang in langs:
        if not stopwordsiso.has_lang(lang):
            raise StopwordsError(f"stopwordsiso has no stopword list for language {lang!r}")
        for word in stopwordsiso.stopwords(lang):
            term = normal_word(word)
            if _WORD.match(term):
                rows.add((term, lang))
    ordered = sorted(rows)
    return pa.table(
        {"term": [t for t, _ in ordered], "lang": [lang for _, lang in ordered]}, schema=STOPWORD_SCHEMA
    )
