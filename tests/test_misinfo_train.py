"""The trainable misinformation text model: verdicts, skipped rows, the fit and its held-out AUC."""

from __future__ import annotations

import csv
import random

import duckdb
import numpy as np
import pytest

from discourse.settings import load_settings
from discourse.transform.misinfo_train import (
    MODEL_FILENAME,
    MisinfoTrainError,
    fit_text_model,
    probability,
    read_verdicts,
    roc_auc,
    train_misinfo,
    verdict_is_false,
)

# Generated claims with a real but noisy signal: false claims lean on sensational wording, true ones
# on sourced, measured wording; both share topics, and either kind of wording appears in the other
# class too (so the AUC is well above 0.5 but not 1).
TOPICS = [
    "vaksin covid",
    "harga beras",
    "banjir jakarta",
    "pemilu daerah",
    "air minum",
    "listrik desa",
    "obat herbal",
    "gempa bumi",
    "sekolah negeri",
    "jalan tol",
]
SENSATIONAL = [
    "heboh",
    "terbukti ampuh",
    "dirahasiakan pemerintah",
    "viral",
    "mengejutkan",
    "konspirasi",
    "pasti sembuh",
    "dokter tidak mau",
    "awas bahaya",
    "100 persen",
]
MEASURED = [
    "menurut data",
    "laporan resmi",
    "kementerian menyatakan",
    "berdasarkan survei",
    "hasil penelitian",
    "dikutip dari",
    "rata rata",
    "pada tahun",
    "sekitar persen",
    "menurut badan",
]
FILLER = ["yang", "ini", "di", "dan", "untuk", "kami", "warga", "kota", "baru", "minggu"]


def generated_claims(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, verdict) rows, verdicts spelled in the LIAR way and as plain true/false."""
    rng = random.Random(seed)
    false_verdicts = ["false", "pants-fire", "barely-true", "FALSE", "0"]
    true_verdicts = ["true", "mostly-true", "half-true", "True", "1"]
    rows = []
    for i in range(n):
        is_false = i % 2 == 0
        own, other = (SENSATIONAL, MEASURED) if is_false else (MEASURED, SENSATIONAL)
        words = [rng.choice(TOPICS), *rng.sample(FILLER, rng.randint(1, 5))]
        words += rng.sample(own, rng.choice([0, 1, 1, 2]))  # a quarter carry none of their own cues
        if rng.random() < 0.3:
            words.append(rng.choice(other))
        rng.shuffle(words)
        rows.append((" ".join(words), rng.choice(false_verdicts if is_false else true_verdicts)))
    return rows


def _write(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _terms(text: str) -> list[str]:
    toks = text.split()
    return sorted(set(toks) | {f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)})


def test_verdict_mapping_is_explicit():
    for label in ("true", "TRUE", "1", "mostly-true", "Mostly True", "half_true", "half-true"):
        assert verdict_is_false(label) is False, label
    for label in ("false", "0", "barely-true", "Barely True", "pants-fire", "Pants on Fire", "mostly-false"):
        assert verdict_is_false(label) is True, label
    for label in ("mixture", "unproven", "", None, "2", "hoax?"):
        assert verdict_is_false(label) is None, label


def test_read_verdicts_skips_bad_rows_with_reasons(tmp_path):
    path = tmp_path / "claims.csv"
    _write(
        path,
        [
            ("vaksin aman", "true"),
            ("  ", "false"),
            ("beras mahal", "mixture"),
            ("obat ajaib", "pants-fire"),
            ("air bersih", ""),
        ],
    )
    rows, skipped = read_verdicts(path)
    assert [(r["row"], r["is_false"]) for r in rows] == [(1, False), (4, True)]
    assert skipped == {"empty text": [2], "unknown verdict 'mixture'": [3], "unknown verdict ''": [5]}


def test_read_verdicts_errors(tmp_path):
    with pytest.raises(MisinfoTrainError, match="not found"):
        read_verdicts(tmp_path / "absent.csv")
    bad = tmp_path / "bad.csv"
    _write(bad, [("x", "true")], header=("claim", "label"))
    with pytest.raises(MisinfoTrainError, match="missing column"):
        read_verdicts(bad)


def test_one_class_is_a_clear_error():
    terms = [_terms(t) for t, _ in generated_claims(20, 1)]
    with pytest.raises(MisinfoTrainError, match="true and false; every usable row is false"):
        fit_text_model(terms, [True] * 20)
    with pytest.raises(MisinfoTrainError, match="at least 5 usable rows of each class"):
        fit_text_model(terms, [True] * 17 + [False] * 3)


def test_roc_auc_counts_ties_half():
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.2, 0.1])) == 1.0
    assert roc_auc(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.1, 0.5, 0.2])) == 0.5


def test_fit_learns_the_signal_on_a_held_out_split():
    rows = generated_claims(400, seed=3)
    train, test = rows[:300], rows[300:]
    fit = fit_text_model([_terms(t) for t, _ in train], [verdict_is_false(v) for _, v in train])
    assert fit["weights"]["heboh"] > 0 and fit["weights"]["laporan resmi"] < 0
    assert 0.6 < fit["cv_auc"] < 1.0
    gold = np.array([verdict_is_false(v) for _, v in test], dtype=int)
    held_out = roc_auc(gold, np.array([probability(fit, _terms(t)) for t, _ in test]))
    assert held_out > 0.75, held_out
    # the cues pull apart; filler words, which carry no signal, weigh far less on average
    w = fit["weights"]
    spread = np.mean([w.get(c, 0.0) for c in SENSATIONAL]) - np.mean([w.get(c, 0.0) for c in MEASURED])
    assert spread > 2 * np.mean([abs(w.get(f, 0.0)) for f in FILLER])


def test_equal_priors_make_the_class_mix_irrelevant():
    rows = generated_claims(300, seed=5)
    # keep every false claim but only a third of the true ones
    kept = [r for i, r in enumerate(rows) if verdict_is_false(r[1]) or i % 6 == 1]
    fit = fit_text_model([_terms(t) for t, _ in kept], [verdict_is_false(v) for _, v in kept])
    # a text with no known term sits near 0.5, not near the file's share of false claims
    assert abs(probability(fit, ["zzz"]) - 0.5) < 0.15


@pytest.mark.integration
def test_train_misinfo_writes_the_model_under_home(tmp_path):
    path = tmp_path / "claims.csv"
    rows = generated_claims(160, seed=7)
    _write(path, [*rows, ("", "false"), ("harga beras", "mixture"), ("!!! ??", "true")])
    settings = load_settings(env={}, home=tmp_path / "home")
    summary = train_misinfo(settings, path, name="generated claims")
    model = settings.reference_dir / MODEL_FILENAME
    assert summary["path"] == str(model) and model.is_file()
    assert summary["name"] == "generated claims"
    assert summary["rows_used"] == 160 and summary["rows_skipped"] == 3
    assert set(summary["skipped"]) == {"empty text", "unknown verdict 'mixture'", "no word tokens"}
    assert summary["skipped"]["no word tokens"] == {"rows": 1, "first": [163]}
    assert summary["rows_false"] == summary["rows_true"] == 80
    assert summary["vocabulary"] > 50 and summary["cv_auc"] > 0.7
    stored = duckdb.sql(f"select source, term, weight from read_parquet('{model}')").fetchall()
    assert ("name", "generated claims", 160.0) in stored
    assert {s for s, _, _ in stored} == {"term", "param", "name"}
    weights = {t: w for s, t, w in stored if s == "term"}
    assert weights["heboh"] > 0 > weights["laporan resmi"]


def test_train_misinfo_one_class_file_fails(tmp_path):
    path = tmp_path / "claims.csv"
    _write(path, [(t, "false") for t, _ in generated_claims(30, seed=2)] + [("beras", "unproven")])
    with pytest.raises(MisinfoTrainError, match="claims rated true and false"):
        train_misinfo(load_settings(env={}, home=tmp_path / "home"), path)
    assert not (tmp_path / "home" / "reference" / MODEL_FILENAME).exists()


@pytest.mark.integration
def test_bench_trains_then_scores_a_held_out_split(tmp_path, capsys):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import eval_misinfo

    rows = generated_claims(400, seed=13)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _write(train, rows[:300])
    _write(test, rows[300:])
    out = tmp_path / "eval.json"
    rc = eval_misinfo.main(["--train", str(train), str(test), "--name", "generated", "--json", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "text model probability on the test rows: ROC AUC" in printed
    res = json.loads(out.read_text())
    assert res["n"] == 100 and res["training"]["rows_used"] == 300
    assert res["text_roc_auc"] > 0.75
    # the final score: the shipped signals plus the text signal where it passes its threshold
    assert res["roc_auc"] > 0.65 and res["text_fired"] > 0
