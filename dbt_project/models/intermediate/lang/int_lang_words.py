"""English and Indonesian marker words derived from installed packages on every build.

A dbt Python model so that no word list is copied into the repository: `discourse.transform.word_lang` reads
wordfreq's English and Indonesian word frequencies, PySastrawi's Indonesian root words and the
stopwordsiso lists, and keeps the words that clearly belong to one language (rules in that module).

On top of those, rarer English words (per-token language evidence, docs/language.md): words of wordfreq's
large English list with a Zipf frequency from RARE_MIN_ZIPF up to the common-word cut-off (3.3) that
Indonesian text never uses (absent from wordfreq's Indonesian list), are not Indonesian root words or
stopwords and have at least RARE_MIN_LETTERS letters ("overpriced", "speechless", "hydrated"); and
Indonesian words that are not root words (affixed and colloquial forms: "dulu", "gimana", "lowongan",
"kebiasaan", "ngerti") with a Zipf frequency of at least 3.3 in Indonesian, at least ID_FORM_MIN_LEAD
more than in English and below ID_FORM_MAX_ZIPF_EN in English (wordfreq's large English list: words English
text practically never uses; names of Indonesian places and brands that English text mentions, "jakarta",
"bali", "bogor", stay out), not English stopwords.
"""

RARE_MIN_ZIPF = 2.5
RARE_MIN_LETTERS = 4
ID_FORM_MIN_LEAD = 2.0
ID_FORM_MAX_ZIPF_EN = 1.5


def rare_english_rows(en_large, id_freq, id_roots, id_stopwords, known, min_zipf=RARE_MIN_ZIPF):
    """(term, zipf_en) of English words rarer than the common-word lists, unknown to Indonesian."""
    import math
    import re

    from discourse.transform.word_lang import MIN_ZIPF

    word = re.compile(r"^[a-z]+(?:'[a-z]+)*$")
    rows = []
    for raw, freq in en_large.items():
        term = raw.strip().lower().replace("\u2019", "'")
        if freq <= 0 or term in known or not word.match(term) or len(term) < RARE_MIN_LETTERS:
            continue
        z = math.log10(freq * 1e9)
        unknown_to_id = term not in id_freq and term not in id_roots and term not in id_stopwords
        if min_zipf <= z < MIN_ZIPF and unknown_to_id:
            rows.append((term, round(z, 2)))
    return sorted(set(rows))


def indonesian_form_rows(
    id_freq, en_large, en_stopwords, known, min_lead=ID_FORM_MIN_LEAD, max_zipf_en=ID_FORM_MAX_ZIPF_EN
):
    """(term, zipf_en, zipf_id) of frequent Indonesian words the root-word rule leaves out."""
    import math
    import re

    from discourse.transform.word_lang import MIN_ZIPF

    word = re.compile(r"^[a-z]{2,}$")
    rows = {}
    for raw, freq in id_freq.items():
        term = raw.strip().lower()
        if freq <= 0 or term in known or term in en_stopwords or not word.match(term):
            continue
        z_id = math.log10(freq * 1e9)
        z_en = math.log10(en_large[term] * 1e9) if en_large.get(term, 0) > 0 else 0.0
        if z_id >= MIN_ZIPF and z_id - z_en >= min_lead and z_en < max_zipf_en:
            rows[term] = (round(z_en, 2), round(z_id, 2))
    return sorted((t, ze, zi) for t, (ze, zi) in rows.items())


def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow as pa
    from wordfreq import get_frequency_dict

    from discourse.transform.stopwords import stopword_table
    from discourse.transform.word_lang import WORD_LANG_SCHEMA, sastrawi_roots, word_language_table

    common = word_language_table()
    known = set(common.column("term").to_pylist())
    id_freq = get_frequency_dict("id", wordlist="small")
    en_large = get_frequency_dict("en", wordlist="large")
    stop = stopword_table(("id", "en")).to_pylist()
    rare = rare_english_rows(
        en_large,
        {w.strip().lower() for w in id_freq},
        sastrawi_roots(),
        {r["term"] for r in stop if r["lang"] == "id"},
        known,
    )
    forms = indonesian_form_rows(id_freq, en_large, {r["term"] for r in stop if r["lang"] == "en"}, known)
    extra = pa.table(
        {
            "term": [t for t, _ in rare] + [t for t, _, _ in forms],
            "lang": ["en"] * len(rare) + ["id"] * len(forms),
            "zipf_en": [z for _, z in rare] + [ze for _, ze, _ in forms],
            "zipf_id": [0.0] * len(rare) + [zi for _, _, zi in forms],
        },
        schema=WORD_LANG_SCHEMA,
    )
    # the two extra lists are disjoint: the rare English words are unseen in Indonesian, the forms are not
    return pa.concat_tables([common, extra]).sort_by("term")
