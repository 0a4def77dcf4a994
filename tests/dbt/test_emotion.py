"""Emotion: the SQL rules end to end over hand-written posts, the trainable overlay (numpy fit, the
Parquet contract, `discourse emotion train`, its effect on the SQL), `marts.emotion_daily` and the
report section, and the evaluation harness on a small fixture.

Nothing here needs the development sets in ../shared: the texts are written for these tests
(`tests/fixtures/emotion/labelled.csv`, its labels ours), and the overlay is trained on made-up words.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from discourse.settings import load_settings
from discourse.transform.emotion_train import (
    ABSENT_BIAS,
    EMOTIONS,
    EmotionTrainError,
    fit_overlay,
    read_emotion_labelled,
    score_emotion_labelled,
    write_overlay,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "emotion" / "labelled.csv"

TEXTS = {
    "id_anger": "gue kesel bgt sama dia, bego",
    "id_fear": "takut bangettt sama ujian besok",
    "id_joy": "seneng banget akhirnya lulus wkwk",
    "id_sad": "aku sedih hari ini",
    "id_sad_boosted": "aku sedih banget hari ini",
    "id_sad_diminished": "aku agak sedih hari ini",
    "id_love": "kangen kamu sayangku",
    "id_surprise": "kaget gak nyangka dia dateng",
    "negated_joy": "aku tidak senang dengan hasilnya",
    "negated_fear_en": "I'm not afraid anymore",
    "negation_clause": "tidak, aku takut",
    "neutral_id": "saya makan siang di kantor jam dua belas",
    "neutral_en": "the meeting starts at ten in the main building",
    "en_joy": "I am so happy today!",
    "en_anger": "this is infuriating, I hate it",
    "mixed_contrast": "happy banget tapi takut juga",
    "mixed_anger": "meetingnya annoying banget sumpah",
    "bigram": "patah hati gara gara dia",
    "emoji_sad": "akhirnya sampai rumah 😭",
    "emoji_love": "makasih ya 🥰",
    "repeat": "marah-marah terus",
    "clitic": "sedihnya gak ketulungan",
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    rows = [{"id": k, "text": v, "label": "neutral"} for k, v in TEXTS.items()]
    out = score_emotion_labelled(rows, tmp_path_factory.mktemp("emotion"))
    return {
        k: {"label": out["labels"][i], "terms": out["terms"][i],
            "scores": dict(zip(EMOTIONS, out["intensities"][i], strict=True))}
        for i, k in enumerate(TEXTS)
    }


@pytest.mark.integration
def test_labels_in_both_languages_and_code_mixed(scored):
    expected = {
        "id_anger": "anger", "id_fear": "fear", "id_joy": "joy", "id_sad": "sadness", "id_love": "love",
        "id_surprise": "surprise", "en_joy": "joy", "en_anger": "anger", "mixed_anger": "anger",
        "bigram": "sadness", "emoji_sad": "sadness", "emoji_love": "love", "repeat": "anger",
        "clitic": "sadness",
    }
    for key, label in expected.items():
        assert scored[key]["label"] == label, (key, scored[key])
    assert scored["neutral_id"]["label"] == scored["neutral_en"]["label"] == "neutral"
    assert scored["neutral_id"]["terms"] == []


@pytest.mark.integration
def test_negation_cancels_or_moves_to_the_opposite(scored):
    assert scored["negated_joy"]["label"] == "sadness"
    assert scored["negated_joy"]["terms"] == ["tidak senang:sadness+1.00"]
    assert scored["negated_fear_en"]["label"] == "neutral"
    assert scored["negated_fear_en"]["scores"]["fear"] == 0
    # clause punctuation ends the negator's scope
    assert scored["negation_clause"]["label"] == "fear"


@pytest.mark.integration
def test_boosters_slang_and_contrast(scored):
    plain = scored["id_sad"]["scores"]["sadness"]
    assert scored["id_sad_boosted"]["scores"]["sadness"] > plain
    assert plain > scored["id_sad_diminished"]["scores"]["sadness"]
    # "bgt" is normalised to the booster "banget"; "takutttt" is found through its variant
    assert scored["id_anger"]["terms"][0].startswith("kesel:anger+2.29")
    assert scored["id_fear"]["terms"] == ["takut:fear+2.79"]
    # after "tapi" the clause weighs more: fear over the boosted joy before it
    assert scored["mixed_contrast"]["label"] == "fear"
    assert scored["id_surprise"]["terms"][-1] == "tidak nyangka:surprise+2.00"


@pytest.mark.integration
def test_every_label_is_explained_by_its_terms(scored):
    for key, s in scored.items():
        if s["label"] != "neutral":
            assert any(t.split(":")[-1].startswith(s["label"]) for t in s["terms"]), (key, s)
        assert all(0 <= v <= 1 for v in s["scores"].values())


@pytest.mark.integration
def test_shipped_lexicon_on_the_fixture(tmp_path):
    """The hand-written fixture is easy on purpose: a regression check, not a benchmark."""
    rows = read_emotion_labelled(FIXTURE)
    out = score_emotion_labelled(rows, tmp_path)
    right = sum(r["label"] == p for r, p in zip(rows, out["labels"], strict=True))
    assert right / len(rows) >= 0.9, [
        (r["id"], p) for r, p in zip(rows, out["labels"], strict=True) if r["label"] != p
    ]


# ---------------------------------------------------------------- the overlay, without dbt

MADE_UP = {"anger": ["grustav", "plenk"], "joy": ["zorbik", "flimmo"], "neutral": []}
FILLER = ["kami", "pergi", "ke", "pasar", "hari", "ini", "dengan", "teman", "lama", "kota"]


def _synthetic(n: int, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = ("anger", "joy", "neutral")[i % 3]
        words = rng.sample(FILLER, 4)
        if MADE_UP[label]:
            words.insert(rng.randrange(5), rng.choice(MADE_UP[label]))
        rows.append((" ".join(words), label))
    return rows


def test_fit_overlay_learns_made_up_words():
    rows = _synthetic(90)
    fit = fit_overlay(np.zeros((90, len(EMOTIONS))), [t.split() for t, _ in rows], [g for _, g in rows])
    assert fit["classes"] == ["anger", "joy", "neutral"]
    w = fit["weights"]
    for word in MADE_UP["anger"]:
        assert w[(word, "anger")] > w.get((word, "joy"), 0) and w[(word, "anger")] > 0.3
    for word in MADE_UP["joy"]:
        assert w[(word, "joy")] > w.get((word, "anger"), 0) and w[(word, "joy")] > 0.3
    assert fit["cv_macro_f1"] > 0.9


def test_fit_overlay_rejects_too_little(tmp_path):
    with pytest.raises(EmotionTrainError, match="two classes"):
        fit_overlay(np.zeros((30, 6)), [["a"]] * 30, ["joy"] * 30)
    with pytest.raises(EmotionTrainError, match="at least 15"):
        fit_overlay(np.zeros((6, 6)), [["a"]] * 6, ["joy", "anger"] * 3)


def test_read_labelled_aliases_and_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("text,label\nhalo,Sad\nhai,trust\nyo,MARAH\n", encoding="utf-8")
    assert [r["label"] for r in read_emotion_labelled(good)] == ["sadness", "love", "anger"]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhalo,bored\n", encoding="utf-8")
    with pytest.raises(EmotionTrainError, match="unknown label"):
        read_emotion_labelled(bad)
    with pytest.raises(EmotionTrainError, match="not found"):
        read_emotion_labelled(tmp_path / "absent.csv")


def test_overlay_file_contract(tmp_path):
    fit = {
        "classes": ["anger", "neutral"],
        "bias": {"anger": -0.2, "neutral": 0.2},
        "lexicon": {("anger", "anger"): 1.5},
        "weights": {("grustav", "anger"): 0.9},
    }
    path = tmp_path / "emotion_overlay.parquet"
    write_overlay(fit, path)
    rows = duckdb.sql(f"select term, emotion, weight, source from read_parquet('{path}')").fetchall()
    by_key = {(t, e, s): w for t, e, w, s in rows}
    assert by_key[("grustav", "anger", "token")] == pytest.approx(0.9)
    assert by_key[("anger", "anger", "lexicon")] == pytest.approx(1.5)
    assert by_key[("bias", "neutral", "bias")] == pytest.approx(0.2)
    # classes the overlay was not trained on can never win
    assert by_key[("bias", "surprise", "bias")] == ABSENT_BIAS
    assert {s for _, _, _, s in rows} == {"token", "lexicon", "bias"}


# ---------------------------------------------------------------- the overlay through the CLI and the SQL

@pytest.mark.integration
def test_emotion_train_cli_writes_under_home_and_changes_sql(tmp_path):
    from discourse.cli import main

    train_csv = tmp_path / "train.csv"
    with open(train_csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(_synthetic(60))
    home = tmp_path / "home"
    assert main(["--home", str(home), "emotion", "train", str(train_csv)]) == 0
    overlay = load_settings(env={}, home=home).reference_dir / "emotion_overlay.parquet"
    assert overlay.is_file() and overlay.is_relative_to(home)
    assert not (REPO / "dbt_project" / "emotion_overlay.parquet").exists()
    probe = [{"id": "1", "text": "teman kami grustav", "label": "anger"},
             {"id": "2", "text": "pasar kota zorbik", "label": "joy"}]
    without = score_emotion_labelled(probe, tmp_path / "without")
    assert without["labels"] == ["neutral", "neutral"]
    with_overlay = score_emotion_labelled(probe, tmp_path / "with", overlay)
    assert with_overlay["labels"] == ["anger", "joy"]
    assert any(t.startswith("overlay grustav:anger+") for t in with_overlay["terms"][0])
    assert with_overlay["intensities"][0][EMOTIONS.index("anger")] > 0.5


# ---------------------------------------------------------------- the marts and the report

@pytest.mark.integration
def test_posts_and_emotion_daily(tmp_path):
    from dbt_lake import post, write_lake

    from discourse.transform import build_marts

    settings = load_settings(env={}, home=tmp_path / "home")
    day = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    write_lake(settings.posts_dir, [
        post("1", "kesel banget sama admin yang lelet", created_at=day),
        post("2", "seneng banget akhirnya lulus", created_at=day),
        post("3", "rapat mulai jam sembilan", created_at=day),
        post("4", "I am so scared of the exam", created_at=day, platform="reddit"),
    ])
    build_marts(settings)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        labels = dict(con.execute("select post_id, emotion_label from marts.posts").fetchall())
        assert labels == {"1": "anger", "2": "joy", "3": "neutral", "4": "fear"}
        terms, anger = con.execute(
            "select emotion_terms, emotion_scores.anger from marts.posts where post_id = '1'").fetchone()
        assert terms[0].startswith("kesel:anger+") and anger > 0.5
        assert con.execute("select sum(posts) from marts.emotion_daily").fetchone()[0] == 4
        x = con.execute(
            "select sum(posts), sum(emotional_posts) from marts.emotion_daily where platform = 'x'"
        ).fetchone()
        assert x == (3, 2)
    finally:
        con.close()


def test_report_charts_emotion_over_time_per_topic(settings):
    from discourse.report import build_report

    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.posts (post_uid varchar, author_key varchar, platform varchar, "
            "created_at timestamptz, text varchar)")
        con.execute("insert into marts.posts values ('x:1', 'k', 'x', now(), 'teks')")
        con.execute("""
            create table marts.emotion_daily as
            select date '2026-03-01' + (i % 5)::int as activity_date, 'x' as platform, 'id' as lang,
                   (['careers', 'politics_government'])[1 + i % 2] as topic_id, 10 as posts,
                   6 as emotional_posts, 0.3 as anger_share, 0.1 as fear_share, 0.1 as joy_share,
                   0.05 as sadness_share, 0.03 as love_share, 0.02 as surprise_share,
                   0.4 as neutral_share
            from range(10) t(i)""")
    finally:
        con.close()
    body = build_report(settings).read_text()
    assert "<h2>Emotion</h2>" in body and 'aria-label="emotion over time per topic"' in body
    assert '<div id="chart-emotion" class="plotly-graph-div"' in body
    assert "politics_government" in body and "anger" in body


# ---------------------------------------------------------------- the evaluation harness

@pytest.mark.integration
def test_eval_emotion_on_the_fixture(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    import eval_emotion

    out = tmp_path / "eval.json"
    assert eval_emotion.main(
        ["--data", str(tmp_path / "absent"), "--csv", str(FIXTURE), "--no-train", "--json", str(out)]
    ) == 0
    report = json.loads(out.read_text())
    assert report["sets"] == {"labelled.csv": 49}
    assert report["shipped_labelled.csv"]["macro_f1"] > 0.8


def test_eval_emotion_skips_without_data(tmp_path, capsys):
    sys.path.insert(0, str(REPO / "bench"))
    import eval_emotion

    assert eval_emotion.main(["--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_eval_emotion_reads_both_dev_formats(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    import eval_emotion

    folder = tmp_path / "id_public_opinion"
    folder.mkdir()
    (folder / "SadData.csv").write_bytes(b"Tweet\tLabel\r\naku sedih\tSad\r\n\tSad\r\n")
    (folder / "JoyData.csv").write_bytes(b"Tweet\tLabel\r\nsenang sekali\tJoy\r\n")
    rows = eval_emotion.read_indonesian(folder)
    assert [(r["text"], r["label"]) for r in rows] == [("senang sekali", "joy"), ("aku sedih", "sadness")]
    te = tmp_path / "te"
    te.mkdir()
    (te / "mapping.txt").write_text("0\tanger\n1\tjoy\n2\toptimism\n3\tsadness\n", encoding="utf-8")
    (te / "val_text.txt").write_text("so mad\nyay\nkeep going\nsad day\n", encoding="utf-8")
    (te / "val_labels.txt").write_text("0\n1\n2\n3\n", encoding="utf-8")
    labels = [r["label"] for r in eval_emotion.read_tweeteval(te, "val", "joy")]
    assert labels == ["anger", "joy", "joy", "sadness"]
    assert eval_emotion.read_tweeteval(te, "val", "love")[2]["label"] == "love"
    train, test = eval_emotion.stratified_split(
        [{"id": str(i), "text": "t", "label": ("a", "b")[i % 2]} for i in range(10)], 0.8, 0)
    assert len(train) == 8 and len(test) == 2 and {r["label"] for r in test} == {"a", "b"}
