"""The language and topic accuracy harness (bench/eval_language.py, bench/eval_topics.py, bench/_evalkit.py).

Label mapping, token-tag derivation and scoring are checked without dbt; the end-to-end runs (marked
``integration``) build the real dbt models over the small hand-written fixtures in tests/fixtures/eval/.
The fixtures only exercise the harness: they are not a benchmark.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "eval"
sys.path.insert(0, str(REPO / "bench"))

import _evalkit  # noqa: E402
import eval_language  # noqa: E402
import eval_topics  # noqa: E402


def test_parse_label_map_inline_and_csv(tmp_path):
    assert _evalkit.parse_label_map("Sport=sports, Tekno = science_technology,") == {
        "sport": "sports",
        "tekno": "science_technology",
    }
    path = tmp_path / "map.csv"
    path.write_text(
        "gold,code\nSci/Tech,science_technology\nWorld News,politics_government\n", encoding="utf-8"
    )
    assert _evalkit.parse_label_map(str(path)) == {
        "sci/tech": "science_technology",
        "world_news": "politics_government",
    }
    with pytest.raises(_evalkit.EvalError):
        _evalkit.parse_label_map("sport")
    assert _evalkit.parse_label_map(None) == {}


def test_scores_per_class_and_confusion():
    gold = ["id", "id", "id", "en", "en", "mixed"]
    pred = ["id", "id", "en", "en", "other", "mixed"]
    r = _evalkit.scores(gold, pred, ["id", "en", "mixed"])
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["per_class"]["id"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert r["per_class"]["en"]["precision"] == pytest.approx(0.5)
    assert r["per_class"]["mixed"]["f1"] == pytest.approx(1.0)
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 1.0) / 3)
    assert r["confusion"]["en"] == {"id": 0, "en": 1, "mixed": 0, "other": 1}
    assert sum(sum(row.values()) for row in r["confusion"].values()) == len(gold)
    text = _evalkit.render("x", r)
    assert "macro-F1 0.767" in text and "other" in text


def test_read_inputs_fixed_label_and_columns():
    rows = _evalkit.read_inputs([f"id={FIXTURES / 'language.csv'}"])
    assert len(rows) == 18 and {r["label"] for r in rows} == {"id"}
    assert rows[0]["file"] == "language.csv"
    rows = _evalkit.read_inputs([str(FIXTURES / "topics.csv")], label_column="category")
    assert rows[0]["label"] == "politik"
    with pytest.raises(_evalkit.EvalError, match="missing column"):
        _evalkit.read_inputs([str(FIXTURES / "topics.csv")])


def test_language_label_mapping():
    m = eval_language.map_label
    assert [m(x, {}) for x in ("ID", "in", "Indonesian", "eng", "EN", "Mix", "code-mixed", "id-en")] == [
        "id",
        "id",
        "id",
        "en",
        "en",
        "mixed",
        "mixed",
        "mixed",
    ]
    assert m("fr", {}) == "other" and m("und", {}) == "other"
    assert m("klingon", {}) is None
    assert m("lang1", {"lang1": "id"}) == "id"
    assert m("ID", {"id": "mixed"}) == "mixed"  # the user's map wins
    assert eval_language.project_class("ms") == "other"
    assert eval_language.project_class("mixed") == "mixed"


def test_language_labels_from_token_tags():
    tags = {"lang1": "id", "lang2": "en", "ne": "other"}
    f = eval_language.label_from_tags
    assert f("lang1 lang1 lang1", tags) == "id"
    assert f("['lang2', 'lang2', 'lang1', 'lang1']", tags) == "mixed"
    assert f("lang2 lang2 lang1", tags, min_tokens=2) == "en"
    assert f("ne ne", tags) == "other"
    assert f("xx yy", tags) == "other"  # two-letter tags are ISO codes of other languages
    assert f("symbol punct", tags) is None


def test_topic_label_mapping():
    topics = eval_topics.taxonomy()
    m = eval_topics.map_label
    expected = {
        "politik": "politics_government",
        "Politics": "politics_government",
        "ekonomi": "economy",
        "Business": "economy",
        "olahraga": "sports",
        "Sport": "sports",
        "hiburan": "entertainment",
        "Entertainment": "entertainment",
        "teknologi": "science_technology",
        "Sci/Tech": "science_technology",
        "tech": "science_technology",
        "kesehatan": "health",
        "Health": "health",
        "pendidikan": "education",
        "education": "education",
        "Olahraga": "sports",
        "Science and technology": "science_technology",  # the taxonomy's own English label
        "health": "health",
    }
    assert {k: m(k, {}, topics) for k in expected} == expected
    assert m("otomotif", {}, topics) is None
    assert m("otomotif", {"otomotif": "science_technology"}, topics) == "science_technology"
    assert m("news", {"news": "Politik"}, topics) == "politics_government"  # a label as the target


def test_missing_input_is_skipped(capsys):
    assert eval_language.main(["/nonexistent/labelled.csv"]) == 0
    assert eval_topics.main(["/nonexistent/labelled.csv"]) == 0
    assert "skipped" in capsys.readouterr().out


@pytest.mark.integration
def test_eval_language_end_to_end(tmp_path, capsys):
    out = tmp_path / "lang.json"
    assert eval_language.main([str(FIXTURES / "language.csv"), "--json", str(out), "--errors", "5"]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["task"] == "language" and report["n_rows"] == 18
    assert report["unknown_labels"] == {"klingon": 1}
    assert report["n"] == 17
    assert set(report["per_class"]) == {"id", "en", "mixed", "other"}
    assert sum(sum(r.values()) for r in report["confusion"].values()) == 17
    # the harness must see what the model says: plain Indonesian and English are easy
    assert report["per_class"]["id"]["recall"] == 1.0
    assert report["per_class"]["en"]["recall"] == 1.0
    assert report["predicted_codes"]["other"].keys() >= {"fr", "de"}
    text = capsys.readouterr().out
    assert "macro-F1" in text and "confusion" in text


@pytest.mark.integration
def test_eval_language_token_tags(tmp_path):
    out = tmp_path / "tags.json"
    argv = [
        str(FIXTURES / "language_tags.csv"),
        "--token-tags",
        "tags",
        "--label-map",
        "lang1=id,lang2=en,ne=other",
    ]
    assert eval_language.main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {c: v["support"] for c, v in report["per_class"].items()} == {
        "id": 1,
        "en": 1,
        "mixed": 2,
        "other": 1,
    }


@pytest.mark.integration
def test_eval_topics_end_to_end(tmp_path, capsys):
    out = tmp_path / "topics.json"
    argv = [str(FIXTURES / "topics.csv"), "--label-column", "category", "--json", str(out)]
    assert eval_topics.main(argv) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    # kuliner (food) is a topic since food_drink joined the taxonomy; otomotif is still not one
    assert report["unknown_labels"] == {"otomotif": 1}
    assert report["n"] == 23
    assert set(report["per_class"]) == {
        "politics_government",
        "economy",
        "sports",
        "entertainment",
        "science_technology",
        "health",
        "education",
        "disaster_environment",
        "food_drink",
    }
    assert 0 < report["coverage"] <= 1 and 0 <= report["hit_any"] <= 1
    assert report["hit_any"] >= report["accuracy"]
    assert sum(report["primary_topics"].values()) == 23
    assert "coverage" in capsys.readouterr().out


@pytest.mark.integration
def test_eval_topics_coverage_only_parallel(tmp_path):
    id_csv = tmp_path / "id.csv"
    en_csv = tmp_path / "en.csv"
    id_csv.write_text(
        "id,text\n1,Timnas menang di pertandingan piala\n2,hari ini cerah sekali\n", encoding="utf-8"
    )
    en_csv.write_text(
        "id,text\n1,The national team wins the cup match\n2,it is sunny today\n", encoding="utf-8"
    )
    out = tmp_path / "par.json"
    assert (
        eval_topics.main(["--coverage-only", "--parallel", str(id_csv), str(en_csv), "--json", str(out)]) == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["parallel"]["pairs"] == 2
    assert report["coverage"] == pytest.approx(0.5)
    assert report["parallel"]["same_primary"] == pytest.approx(1.0)


def test_language_keep_codes():
    keep = ("ms", "jv")
    assert eval_language.map_label("Malay", {"malay": "ms"}, keep) == "ms"
    assert eval_language.map_label("su", {}, keep) == "other"
    assert eval_language.project_class("jv", keep) == "jv"
    assert eval_language.project_class("su", keep) == "other"
    rows = [{"gold": g, "file": "f.csv"} for g in ("id", "ms", "ms", "other")]
    result = eval_language.evaluate(
        rows, [("id", "detected"), ("ms", "detected"), ("id", "markers"), ("de", "x")], keep
    )
    assert list(result["per_class"]) == ["id", "ms", "other"]
    assert result["per_class"]["ms"]["recall"] == pytest.approx(0.5)
    assert result["predicted_codes"]["ms"] == {"ms": 1, "id": 1}


import eval_misinfo  # noqa: E402


def test_misinfo_verdicts_and_auc():
    assert eval_misinfo.map_verdict("HOAKS", {}, False) == "misinfo"
    assert eval_misinfo.map_verdict("Pants on Fire", {}, False) == "misinfo"
    assert eval_misinfo.map_verdict("fakta", {}, False) == "reliable"
    assert eval_misinfo.map_verdict("satire", {}, False) is None
    assert eval_misinfo.map_verdict("satire", {}, True) == "misinfo"
    assert eval_misinfo.map_verdict("unproven", {}, False) is None
    assert eval_misinfo.map_verdict("unproven", {"unproven": "reliable"}, False) == "reliable"
    gold = ["misinfo", "misinfo", "reliable", "reliable"]
    assert eval_misinfo.roc_auc(gold, [0.9, 0.5, 0.1, 0.0]) == 1.0
    assert eval_misinfo.roc_auc(gold, [0.0, 0.0, 0.0, 0.0]) == 0.5  # all tied: chance
    assert eval_misinfo.roc_auc(gold, [0.5, 0.1, 0.5, 0.0]) == pytest.approx(0.625)
    assert eval_misinfo.roc_auc(["misinfo"], [1.0]) is None


@pytest.mark.integration
def test_misinfo_end_to_end(tmp_path, capsys):
    out = tmp_path / "misinfo.json"
    rc = eval_misinfo.main([str(FIXTURES / "misinfo.csv"), "--label-column", "verdict", "--json", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "'unproven' 1" in printed  # an unmapped verdict is reported, not guessed
    res = json.loads(out.read_text())
    assert res["n"] == 10
    # the chain-message hoaxes of the fixture carry the cues the seed knows: they must outrank the news
    assert res["roc_auc"] > 0.9
    assert res["per_class"]["misinfo"]["recall"] >= 0.6
    assert res["per_class"]["reliable"]["recall"] == 1.0
    assert res["top_reasons_caught"]
