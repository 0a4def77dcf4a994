"""English and Indonesian marker words derived from installed packages (nothing is downloaded).

Language identification (``int_posts_detected_lang``) counts each post's Indonesian and English
"marker" words: they correct fastText on short posts and decide when a post is code-mixed. The hand-
written seed ``lang_markers`` holds a few hundred function words per language; code-mixed posts mostly
mix in English *content* words ("submit CV ke tiga company", "kerja remote lebih flexible"), which a
seed of that size cannot cover. This module derives two large word lists:

* word frequencies from ``wordfreq`` (Apache-2.0 code; its word lists are CC BY-SA 4.0, built from
  Wikipedia, subtitles, news, books, web text, Twitter and Reddit): the Zipf frequency of a word in
  English and in Indonesian (log10 of occurrences per billion words);
* the Indonesian root-word dictionary of ``PySastrawi`` (MIT): about 30,000 standard Indonesian roots,
  loanwords that Indonesian spells as English does ("data", "video", "program", "hotel") among them;
* the Indonesian and English stopword lists of ``stopwordsiso`` (MIT).

Rules (``en_rule`` and ``id_rule`` below; the thresholds are arguments):

* **English**: Zipf ≥ 3.3 in English (about 2 per million words), not more than 1.0 more frequent in
  Indonesian than in English, not an Indonesian root word and not an Indonesian stopword. An English
  word that Indonesian posts borrow as is ("online", "meeting", "deadline", "mood") stays English,
  which is what a code-mix label needs; a loanword in the Indonesian dictionary does not.
* **Indonesian**: Zipf ≥ 3.3 in Indonesian, at least 1.5 more frequent there than in English, and not
  an English stopword.

Only single words in the tokeniser's normal form (letters, an inner apostrophe) are kept. The seed
markers and the Indonesian sentiment lexicon take precedence over these lists in the dbt model.
"""

from __future__ import annotations

import math
import re
from importlib import resources

import pyarrow as pa

from discourse.transform.stopwords import normal_word, stopword_table

WORD_LANG_SCHEMA = pa.schema(
    [
        pa.field("term", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("zipf_en", pa.float64(), nullable=False),
        pa.field("zipf_id", pa.float64(), nullable=False),
    ]
)
MIN_ZIPF = 3.3
EN_MAX_ID_LEAD = 1.0
ID_MIN_LEAD = 1.5
_WORD = re.compile(r"^[^\W\d_]{2,}(?:'[^\W\d_]+)*$")


class WordLangError(Exception):
    """The word lists could not be read."""


def zipf(freq: float) -> float:
    """wordfreq's Zipf scale: log10 of occurrences per billion words (0 for an unseen word)."""
    return math.log10(freq * 1e9) if freq > 0 else 0.0


def en_rule(zipf_en: float, zipf_id: float, *, is_id_root: bool, is_id_stopword: bool) -> bool:
    return (
        zipf_en >= MIN_ZIPF and zipf_id - zipf_en < EN_MAX_ID_LEAD and not is_id_root and not is_id_stopword
    )


def id_rule(zipf_en: float, zipf_id: float, *, is_id_root: bool, is_en_stopword: bool) -> bool:
    return zipf_id >= MIN_ZIPF and zipf_id - zipf_en >= ID_MIN_LEAD and is_id_root and not is_en_stopword


def sastrawi_roots() -> set[str]:
    """PySastrawi's Indonesian root words (``Sastrawi/Stemmer/data/kata-dasar.txt``)."""
    try:
        text = resources.files("Sastrawi").joinpath("Stemmer/data/kata-dasar.txt").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise WordLangError("PySastrawi's root-word list not found: is 'pysastrawi' installed?") from exc
    return {w.strip().lower() for w in text.splitlines() if w.strip()}


def _frequencies(lang: str) -> dict[str, float]:
    try:
        from wordfreq import get_frequency_dict
    except ModuleNotFoundError as exc:  # pragma: no cover - a locked dependency
        raise WordLangError("the 'wordfreq' package is not installed") from exc
    return get_frequency_dict(lang, wordlist="small")


def classify(
    en_freq: dict[str, float],
    id_freq: dict[str, float],
    id_roots: set[str],
    id_stopwords: set[str],
    en_stopwords: set[str],
) -> pa.Table:
    """One row per marker word: (term, lang, zipf_en, zipf_id), sorted by term."""
    en = {normal_word(w): f for w, f in en_freq.items()}
    idn = {normal_word(w): f for w, f in id_freq.items()}
    rows: list[tuple[str, str, float, float]] = []
    for term in sorted(set(en) | set(idn)):
        if not _WORD.match(term):
            continue
        z_en, z_id = zipf(en.get(term, 0.0)), zipf(idn.get(term, 0.0))
        if en_rule(z_en, z_id, is_id_root=term in id_roots, is_id_stopword=term in id_stopwords):
            rows.append((term, "en", round(z_en, 2), round(z_id, 2)))
        elif id_rule(z_en, z_id, is_id_root=term in id_roots, is_en_stopword=term in en_stopwords):
            rows.append((term, "id", round(z_en, 2), round(z_id, 2)))
    return pa.table(
        {
            "term": [r[0] for r in rows],
            "lang": [r[1] for r in rows],
            "zipf_en": [r[2] for r in rows],
            "zipf_id": [r[3] for r in rows],
        },
        schema=WORD_LANG_SCHEMA,
    )


def word_language_table() -> pa.Table:
    """The marker words of both languages from the installed packages (see the module docstring)."""
    stop = stopword_table(("id", "en")).to_pylist()
    return classify(
        _frequencies("en"),
        _frequencies("id"),
        sastrawi_roots(),
        {r["term"] for r in stop if r["lang"] == "id"},
        {r["term"] for r in stop if r["lang"] == "en"},
    )
