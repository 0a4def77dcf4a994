"""Per-token language evidence (docs/language.md): the extra word lists of the dbt Python model
`int_lang_words`, the Indonesian affix macro of macros/lang.sql run in DuckDB, and the share-based gold
labels of bench/eval_language.py. The dbt rule itself is covered by the unit tests in
int_posts_detected_lang.yml (run with every dbt build)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import jinja2
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import eval_language  # noqa: E402


def _per_billion(z: float) -> float:
    return 10**z / 1e9


@pytest.fixture(scope="module")
def words_model():
    path = ROOT / "dbt_project/models/intermediate/lang/int_lang_words.py"
    spec = importlib.util.spec_from_file_location("int_lang_words_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def affix_candidates():
    env = jinja2.Environment()
    macros = env.from_string((ROOT / "dbt_project/macros/lang.sql").read_text(encoding="utf-8")).module
    expr = macros.lang_affix_candidates("w")
    mixing = macros.lang_mixing_affix("w")
    con = duckdb.connect()

    def run(word: str) -> tuple[set[str], bool]:
        cands, mixed = con.execute(f"select {expr}, {mixing} from (select ? as w)", [word]).fetchone()
        return set(cands), mixed

    yield run
    con.close()


def test_rare_english_words(words_model):
    en_large = {
        w: _per_billion(z)
        for w, z in {
            "overpriced": 3.12,  # rare English, unseen in Indonesian: kept
            "speechless": 3.26,
            "online": 5.2,  # common: already in the main list (known)
            "zzz": 2.9,  # too short
            "introvert": 2.91,  # Indonesian text uses it: left out
            "obscurity": 2.0,  # too rare
            "mantan": 2.7,  # an Indonesian root: left out
        }.items()
    }
    rows = words_model.rare_english_rows(en_large, {"introvert"}, {"mantan"}, set(), known={"online"})
    assert [t for t, _ in rows] == ["overpriced", "speechless"]
    assert dict(rows)["overpriced"] == pytest.approx(3.12, abs=0.01)


def test_indonesian_forms(words_model):
    id_freq = {
        w: _per_billion(z)
        for w, z in {
            "dulu": 5.82,  # not a root word, far more Indonesian: kept
            "lowongan": 4.55,
            "jakarta": 5.86,  # a name English text mentions too (Zipf 3.67 there): left out
            "sampe": 4.28,  # colloquial "sampai", rare in English (1.44): kept
            "online": 5.27,  # English leads: left out
            "the": 4.0,  # an English stopword
            "ab": 2.0,  # too rare
            "kerja": 5.5,  # a root word: already known
        }.items()
    }
    en_large = {
        w: _per_billion(z) for w, z in {"dulu": 1.42, "jakarta": 3.67, "online": 5.19, "sampe": 1.44}.items()
    }
    rows = words_model.indonesian_form_rows(id_freq, en_large, {"the"}, known={"kerja"})
    assert [t for t, _, _ in rows] == ["dulu", "lowongan", "sampe"]
    assert rows[0][1:] == pytest.approx((1.42, 5.82), abs=0.01)


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("ditemukan", "temu"),  # di- -kan
        ("makanannya", "makan"),  # -an -nya
        ("menulis", "tulis"),  # meN- with the t restored
        ("mengirim", "kirim"),  # meng- with the k restored
        ("ngirim", "kirim"),  # colloquial ng-
        ("nyari", "cari"),  # colloquial ny- for c
        ("ngerasain", "rasa"),  # nge- -in
        ("diperhatikan", "hati"),  # di-per- -kan
        ("terdekat", "dekat"),
        ("pekerjaan", "kerja"),  # pe- -an
    ],
)
def test_affix_candidates_reach_the_root(affix_candidates, word, root):
    candidates, _ = affix_candidates(word)
    assert root in candidates
    assert word not in candidates and all(len(c) >= 3 for c in candidates)


def test_affix_on_english_stems(affix_candidates):
    for word, stem in [("deadlinenya", "deadline"), ("disubmit", "submit"), ("postingan", "posting")]:
        candidates, mixing = affix_candidates(word)
        assert stem in candidates and mixing
    # an English word with no Indonesian affix is not a mixed token
    assert affix_candidates("overpriced")[1] is False


def test_gold_labels_by_share():
    tags = {"lang1": "id", "lang2": "en"}
    f = eval_language.label_from_tags
    seventy_thirty = " ".join(["lang1"] * 7 + ["lang2"] * 3)
    ninety_ten = " ".join(["lang1"] * 9 + ["lang2"])
    assert f(seventy_thirty, tags, min_share=0.2) == "mixed"
    assert f(ninety_ten, tags, min_share=0.2) == "id"
    assert f(ninety_ten, tags) == "mixed"  # without a share, any English token makes it mixed
    four_one = "lang2 lang2 lang2 lang2 lang1"
    assert f(four_one, tags, min_share=0.2) == "mixed"  # exactly 20%
    assert f(four_one, tags, min_share=0.25) == "en"
    # a mixed token counts for both languages
    assert f("lang1 lang1 lang1 mixed", tags, min_share=0.2) == "mixed"


def test_synthetic_dev_set_is_labelled():
    path = ROOT / "tests/fixtures/eval/language_codemixed_synthetic.csv"
    rows = eval_language.read_inputs([str(path)], "text", None, "id", ["tags"], False)
    golds = [eval_language.label_from_tags(r["tags"], {}, 1, (), 0.2) for r in rows]
    assert len(rows) >= 150 and None not in golds
    assert {g: golds.count(g) for g in set(golds)}.keys() == {"id", "en", "mixed"}
