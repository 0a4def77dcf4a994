"""The trainable sentiment overlay: fitting (numpy), the Parquet contract, and its effect on the SQL."""

from __future__ import annotations

import csv
import random

import duckdb
import numpy as np
import pytest

from discourse.settings import load_settings
from discourse.transform.sentiment_train import (
    SentimentTrainError,
    fit_overlay,
    fit_thresholds,
    read_labelled,
    score_labelled,
    train_overlay,
)

# Made-up words with no entry in any shipped lexicon: only training can give them a polarity.
POS_WORDS = ["zorbik", "flimmo", "quandel"]
NEG_WORDS = ["grustav", "plenk", "vorsh"]
FILLER = ["kami", "pergi", "ke", "pasar", "hari", "ini", "dengan", "teman", "lama", "kota"]


def _synthetic(n: int, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = ("negative", "neutral", "positive")[i % 3]
        words = rng.sample(FILLER, 4)
        if label == "positive":
            words.insert(rng.randrange(5), rng.choice(POS_WORDS))
        elif label == "negative":
            words.insert(rng.randrange(5), rng.choice(NEG_WORDS))
        rows.append((" ".join(words), label))
    return rows


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        for i, (text, label) in enumerate(rows):
            w.writerow([i, text, label])


def test_fit_overlay_recovers_polarities():
    rows = _synthetic(90)
    tokens = [text.split() for text, _ in rows]
    gold = [label for _, label in rows]
    fit = fit_overlay(np.zeros(len(rows)), tokens, gold, min_df=2)
    for w in POS_WORDS:
        assert fit["weights"][w] > 0.3
    for w in NEG_WORDS:
        assert fit["weights"][w] < -0.3
    assert all(abs(fit["weights"].get(w, 0.0)) < 0.2 for w in FILLER)
    assert fit["threshold_negative"] < fit["threshold_positive"]
    assert fit["cv_macro_f1"] > 0.9


def test_fit_overlay_keeps_lexicon_stopwords():
    """A stopword is no feature unless it is a lexicon or modifier term ("good", "no" are stopwords)."""
    rows = _synthetic(60)
    tokens = [text.split() for text, _ in rows]
    gold = [label for _, label in rows]
    dropped = fit_overlay(np.zeros(len(rows)), tokens, gold, stopwords={"zorbik"}, repeats=2)
    assert "zorbik" not in dropped["weights"]
    kept = fit_overlay(
        np.zeros(len(rows)), tokens, gold, stopwords={"zorbik"}, keep_terms={"zorbik"}, repeats=2
    )
    assert kept["weights"]["zorbik"] > 0.3


def test_fit_thresholds_separates_classes():
    z = np.array([-2.0, -1.5, -1.0, 0.0, 0.1, -0.1, 1.0, 1.5, 2.0])
    gold = ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3
    lo, hi, f1 = fit_thresholds(z, gold)
    assert f1 == pytest.approx(1.0)
    assert -1.0 <= lo < -0.1 and 0.1 <= hi < 1.0


def test_fit_overlay_rejects_missing_class():
    with pytest.raises(SentimentTrainError, match="all three labels"):
        fit_overlay(np.zeros(30), [["a"]] * 30, ["positive", "negative"] * 15)


def test_read_labelled_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhalo,maybe\n", encoding="utf-8")
    with pytest.raises(SentimentTrainError, match="unknown label"):
        read_labelled(bad)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("text\nhalo\n", encoding="utf-8")
    with pytest.raises(SentimentTrainError, match="missing column"):
        read_labelled(nocol)
    with pytest.raises(SentimentTrainError, match="not found"):
        read_labelled(tmp_path / "absent.csv")


@pytest.mark.integration
def test_train_overlay_changes_sql_scores(tmp_path):
    train_csv = tmp_path / "train.csv"
    _write_csv(train_csv, _synthetic(60))
    settings = load_settings(env={}, home=tmp_path / "home")
    summary = train_overlay(settings, train_csv)
    overlay = settings.reference_dir / "sentiment_overlay.parquet"
    assert summary["path"] == str(overlay) and overlay.is_file()
    con = duckdb.connect()
    weights = dict(
        con.execute(f"select term, weight from read_parquet('{overlay}') where source = 'token'").fetchall()
    )
    params = dict(
        con.execute(f"select term, weight from read_parquet('{overlay}') where source = 'param'").fetchall()
    )
    con.close()
    assert set(params) == {"lexicon_scale", "bias", "threshold_negative", "threshold_positive"}
    assert weights["zorbik"] > 0 and weights["vorsh"] < 0
    # The shipped lexicons know none of these words: without the overlay all is neutral.
    probe = [
        {"id": "1", "text": "teman kami zorbik", "label": "positive"},
        {"id": "2", "text": "pasar kota vorsh", "label": "negative"},
    ]
    without = score_labelled(probe, tmp_path / "without")
    assert without["labels"] == ["neutral", "neutral"]
    with_overlay = score_labelled(probe, tmp_path / "with", overlay)
    assert with_overlay["labels"] == ["positive", "negative"]
    assert with_overlay["scores"][0] > 0 > with_overlay["scores"][1]
    assert any(t.startswith("overlay zorbik:+") for t in with_overlay["terms"][0])
