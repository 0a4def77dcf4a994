"""Sentiment rules end to end: the real dbt models built over hand-written posts (no overlay)."""

from __future__ import annotations

import pytest

from discourse.transform.sentiment_train import score_labelled

pytestmark = pytest.mark.integration

TEXTS = {
    "plain_pos": "makanannya bagus",
    "negated_id": "makanannya tidak bagus",
    "negated_slang": "makanannya gak bagus",
    "negated_en": "the food is not good",
    "negated_nt": "the food isn't good",
    "boost_id": "makanannya bagus banget",
    "boost_slang": "makanannya bagus bgt",
    "dimin_id": "makanannya agak bagus",
    "contrast_id": "tempatnya bagus tapi pelayanannya lambat dan mengecewakan",
    "contrast_en": "the place is nice but the service is slow and disappointing",
    "slang_norm": "pelayanannya bgs",
    "repeated": "mantappp",
    "repeated_plain": "mantap",
    "redup": "orangnya baik2",
    "emoji_pos": "akhirnya sampai rumah 😍",
    "emoji_neg": "akhirnya sampai rumah 😢",
    "mixed": "the vibes nya enak banget, so worth it",
    "caps": "makanannya BAGUS",
    "caps_base": "makanannya bagus sekali",
    "exclaim": "makanannya bagus!!!",
    "neutral": "saya makan siang di kantor jam dua belas",
    "neutral_en": "the meeting starts at ten in the main building",
    "supplement_neg": "the soup was bland and overpriced",
    "supplement_pos": "tasty food and a cozy room",
    "supplement_negated": "the noodles were not tasty",
    "supplement_bigram": "never again",
    "not_only": "they sell not only tea",
    "friend_mention": "my friend works at the bank",
    "biasa_saja": "rasanya biasa saja",
    "negation_clause": "no, the food was good",
    "negation_same_clause": "the food was not good",
    "irrealis_pos": "the food should have been good",
    "irrealis_id": "kalau makanannya enak pasti ramai",
    "irrealis_neg": "they should be ashamed",
    "question_pos": "is the food good?",
    "question_then_answer": "is the food good? yes, it was delicious",
    "like_preposition": "it looks like a train station",
    "like_verb": "i like this place",
    "courtesy": "good afternoon, please send your order number via dm. thank you",
    "less_tasty": "the noodles were less tasty",
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    rows = [{"id": k, "text": v, "label": "neutral"} for k, v in TEXTS.items()]
    out = score_labelled(rows, tmp_path_factory.mktemp("sentiment"))
    return {
        k: {"label": out["labels"][i], "score": out["scores"][i], "terms": out["terms"][i]}
        for i, k in enumerate(TEXTS)
    }


def test_negation_flips(scored):
    assert scored["plain_pos"]["label"] == "positive"
    for key in ("negated_id", "negated_slang", "negated_en", "negated_nt"):
        assert scored[key]["label"] == "negative", (key, scored[key])
    assert any(t.startswith("gak bagus:") for t in scored["negated_slang"]["terms"])


def test_intensifier_and_diminisher(scored):
    base = scored["plain_pos"]["score"]
    assert scored["boost_id"]["score"] > base
    assert scored["boost_slang"]["score"] == pytest.approx(scored["boost_id"]["score"])
    assert 0 < scored["dimin_id"]["score"] < base


def test_contrast_weighs_the_later_clause(scored):
    assert scored["contrast_id"]["label"] == "negative", scored["contrast_id"]
    assert scored["contrast_en"]["label"] == "negative", scored["contrast_en"]


def test_slang_repeated_letters_and_reduplication(scored):
    assert scored["slang_norm"]["label"] == "positive"
    assert any(t.startswith("bagus:") for t in scored["slang_norm"]["terms"])
    # an elongated word ("mantappp") is found through its one-letter form and emphasised
    assert scored["repeated"]["score"] > scored["repeated_plain"]["score"] > 0
    assert scored["repeated"]["label"] == "positive"
    assert scored["redup"]["label"] == "positive"


def test_emoji(scored):
    assert scored["emoji_pos"]["label"] == "positive"
    assert scored["emoji_neg"]["label"] == "negative"


def test_code_mixed(scored):
    assert scored["mixed"]["label"] == "positive"
    terms = " ".join(scored["mixed"]["terms"])
    assert "enak" in terms and "worth" in terms


def test_caps_and_exclamation_emphasise(scored):
    assert scored["caps"]["score"] > scored["plain_pos"]["score"]
    assert scored["exclaim"]["score"] > scored["plain_pos"]["score"]


def test_neutral_texts(scored):
    assert scored["neutral"]["label"] == "neutral"
    assert scored["neutral_en"]["label"] == "neutral"
    assert scored["neutral"]["terms"] == []


def test_english_supplement(scored):
    """`lexicon_en_supplement` adds everyday review words VADER lacks and re-weights a few."""
    assert scored["supplement_neg"]["label"] == "negative", scored["supplement_neg"]
    terms = " ".join(scored["supplement_neg"]["terms"])
    assert "bland:" in terms and "overpriced:" in terms
    assert scored["supplement_pos"]["label"] == "positive", scored["supplement_pos"]
    assert scored["supplement_negated"]["label"] == "negative"
    assert any(t.startswith("not tasty:") for t in scored["supplement_negated"]["terms"])
    assert scored["supplement_bigram"]["label"] == "negative"
    assert any(t.startswith("never again:") for t in scored["supplement_bigram"]["terms"])


def test_supplement_neutralises_and_reweights(scored):
    # "not only" is a zero-weight bigram: its "not" negates nothing and nothing is scored
    assert scored["not_only"]["label"] == "neutral", scored["not_only"]
    # "friend" is mostly a mention: weaker than VADER's 2.2
    friend = [t for t in scored["friend_mention"]["terms"] if t.startswith("friend:")]
    assert friend and 0 < float(friend[0].split(":")[1]) < 1.0


def test_indonesian_flat_verdict(scored):
    assert scored["biasa_saja"]["label"] == "negative", scored["biasa_saja"]
    assert any(t.startswith("biasa saja:") for t in scored["biasa_saja"]["terms"])


def test_negation_stops_at_clause_punctuation(scored):
    assert scored["negation_clause"]["label"] == "positive", scored["negation_clause"]
    assert scored["negation_same_clause"]["label"] == "negative", scored["negation_same_clause"]


def test_irrealis_blocks_positive_words_only(scored):
    """A positive word after "should", "would", "if", "kalau" ... in its clause, or in a question,
    describes what is missing; a negative one still counts."""
    for key in ("irrealis_pos", "irrealis_id", "question_pos"):
        assert scored[key]["label"] == "neutral", (key, scored[key])
        assert scored[key]["terms"] == [], (key, scored[key])
    assert scored["irrealis_neg"]["label"] == "negative", scored["irrealis_neg"]
    assert scored["question_then_answer"]["label"] == "positive", scored["question_then_answer"]
    assert any(t.startswith("delicious:") for t in scored["question_then_answer"]["terms"])


def test_negative_words_weigh_more(scored):
    # negativity bias: "not good" counts 1.5 × (−0.74 × good), more than 0.74 × good
    good = float(scored["negation_clause"]["terms"][0].split(":")[1])
    bad = float(scored["negation_same_clause"]["terms"][0].split(":")[1])
    assert bad < 0 < good and abs(bad) > abs(good) * 0.74


def test_like_courtesy_and_less(scored):
    assert scored["like_preposition"]["label"] == "neutral", scored["like_preposition"]
    assert scored["like_verb"]["label"] == "positive", scored["like_verb"]
    assert scored["courtesy"]["label"] == "neutral", scored["courtesy"]
    assert scored["less_tasty"]["label"] == "negative", scored["less_tasty"]
    assert any(t.startswith("less tasty:") for t in scored["less_tasty"]["terms"])
