"""Package-derived language marker words (src/discourse/word_lang.py)."""

from __future__ import annotations

from discourse.transform.word_lang import classify, word_language_table, zipf


def _per_billion(z: float) -> float:
    return 10**z / 1e9


def test_rules_on_small_lists():
    en = {
        w: _per_billion(z)
        for w, z in {
            "online": 5.2,
            "deadline": 4.1,
            "data": 5.3,
            "dong": 3.1,
            "the": 7.7,
            "rare": 2.0,
            "kalau": 1.0,
            "don\u2019t": 5.9,
            "co2": 4.0,
        }.items()
    }
    idn = {
        w: _per_billion(z)
        for w, z in {
            "online": 5.3,
            "deadline": 3.7,
            "data": 5.4,
            "dong": 5.6,
            "the": 5.8,
            "kalau": 6.4,
            "samarinda": 4.0,
            "dan": 7.4,
        }.items()
    }
    table = classify(en, idn, id_roots={"data", "kalau", "dan"}, id_stopwords={"dan"}, en_stopwords={"the"})
    got = dict(zip(table.column("term").to_pylist(), table.column("lang").to_pylist(), strict=True))
    assert got["online"] == "en"  # borrowed as is: English, though as common in Indonesian posts
    assert got["deadline"] == "en"
    assert got["the"] == "en"
    assert got["don't"] == "en"  # curly apostrophe brought to the tokeniser's normal form
    assert got["kalau"] == "id"  # an Indonesian root, far more common in Indonesian
    assert "data" not in got  # a loanword of the Indonesian dictionary marks neither language
    assert "dong" not in got  # far more common in Indonesian, but no root word: neither
    assert "samarinda" not in got  # a name, not a root word
    assert "rare" not in got  # too rare in English
    assert "co2" not in got  # not a word token
    assert got["dan"] == "id"  # Indonesian stopwords may mark Indonesian, never English
    assert table.num_rows == len(got) == 6


def test_zipf_scale():
    assert zipf(0) == 0.0
    assert abs(zipf(1e-6) - 3.0) < 1e-9


def test_installed_packages_give_large_lists():
    table = word_language_table()
    got = dict(zip(table.column("term").to_pylist(), table.column("lang").to_pylist(), strict=True))
    langs = table.column("lang").to_pylist()
    assert langs.count("en") > 10_000 and langs.count("id") > 3_000
    assert got.get("meeting") == "en" and got.get("deadline") == "en" and got.get("which") == "en"
    assert got.get("makan") == "id"
    assert "data" not in got and "video" not in got  # Indonesian dictionary loanwords
    assert len(set(table.column("term").to_pylist())) == table.num_rows
