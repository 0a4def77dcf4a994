"""The trained misinformation text model through the real dbt build.

* Without a trained model the marts are exactly those of the project before the text model existed
  (its misinfo models at commit ``BEFORE``, everything else as now). The comparison pins that
  SQL: a later change to ``int_posts_scored_misinfo`` for another reason retires it.
* Training (``train_misinfo``) on a generated split, then a nightly build: the planner rebuilds the
  model's descendants only, and the result equals a full build; the SQL probability is the trainer's
  own, it separates a held-out split, and the reason appears exactly when it passes the threshold.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest
from dbt_lake import post, write_lake

from discourse.settings import load_settings
from discourse.transform import build_marts
from discourse.transform.increments import plan_build
from discourse.transform.misinfo_train import (
    MODEL_FILENAME,
    TERMS_SQL,
    probability,
    roc_auc,
    train_misinfo,
    verdict_is_false,
)
from discourse.transform.runner import dbt_project_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_misinfo_train import generated_claims  # noqa: E402

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BEFORE = "22a5a2ba1055fc5f27f8a024731bb32afbf28aa8"  # the last commit without the text model
MISINFO = "models/intermediate/misinfo"
NEW_FILES = ("int_misinfo_text_model", "int_posts_scored_misinfo_text")
THRESHOLD, MAX_WEIGHT = 0.7, 0.5  # the defaults of vars misinfo_text_threshold / misinfo_text_max_weight
REASON = "wording resembles claims rated false in generated claims"


def _settings(home: Path, project: Path | None = None):
    env = {"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "test-key"}
    if project is not None:
        env["DISCOURSE_DBT_PROJECT_DIR"] = str(project)
    return load_settings(env=env)


def _lake_rows(test_claims: list[tuple[str, str]]) -> list[dict]:
    start = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)
    rows = [
        post(f"claim{i}", text, created_at=start + timedelta(minutes=7 * i))
        for i, (text, _) in enumerate(test_claims)
    ]
    rows += [
        post("chain", "TOLONG SEBARKAN SEBELUM DIHAPUS!!! vaksin covid heboh", platform="telegram"),
        post("link", "baca ini soal harga beras http://bit.ly/abc", links=["http://bit.ly/abc"]),
        post("plain", "rapat warga kota minggu ini di balai desa"),
    ]
    return rows


def _write_batch(settings, rows: list[dict], batch_id: str) -> None:
    """Lake files and the manifest that commits them (the planner sees batches by their manifests)."""
    rows = [{**r, "batch_id": batch_id, "source_file": f"{batch_id}.jsonl"} for r in rows]
    write_lake(settings.posts_dir, rows)
    settings.manifest_dir.mkdir(parents=True, exist_ok=True)
    entry = {
        "batch_id": batch_id,
        "source_file": f"{batch_id}.jsonl",
        "export_format": "test",
        "platform": "x",
        "records_in": len(rows),
        "loaded": len(rows),
        "quarantined": 0,
        "duplicates_within_batch": 0,
        "skipped": {},
        "skipped_total": 0,
        "ingested_at": "2026-02-21T01:00:00+00:00",
    }
    (settings.manifest_dir / f"{batch_id}.json").write_text(json.dumps(entry), encoding="utf-8")


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        out = {}
        for t in tables:
            cols = con.execute(
                "select column_name, data_type from duckdb_columns() where schema_name = 'marts' "
                "and table_name = ? order by column_index",
                [t],
            ).fetchall()
            exprs = [f'round("{c}", 6)' if ty in ("DOUBLE", "FLOAT") else f'"{c}"' for c, ty in cols]
            # built_at-like columns differ between builds by nature
            exprs = [e for (c, _), e in zip(cols, exprs, strict=True) if not c.endswith("built_at")]
            out[t] = sorted(con.execute(f'select {", ".join(exprs)} from marts."{t}"').fetchall(), key=repr)
        return out
    finally:
        con.close()


def _copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return target


def _project_before(current: Path, tmp_path: Path) -> Path:
    """The current dbt project with its misinformation models as they were at ``BEFORE``."""
    project = _copy_project(current, tmp_path / "project_before")
    for name in NEW_FILES:
        for suffix in (".sql", ".yml"):
            (project / MISINFO / f"{name}{suffix}").unlink()
    for suffix in (".sql", ".yml"):
        rel = f"dbt_project/{MISINFO}/int_posts_scored_misinfo{suffix}"
        try:
            old = subprocess.run(
                ["git", "-C", str(REPO), "show", f"{BEFORE}:{rel}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            pytest.skip(f"git history with commit {BEFORE[:10]} is not available")
        (project / MISINFO / f"int_posts_scored_misinfo{suffix}").write_text(old, encoding="utf-8")
    return project


@pytest.fixture(scope="module")
def claims():
    rows = generated_claims(360, seed=11)
    return rows[:240], rows[240:]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A snapshot of the dbt project: the planner must see no edit made meanwhile in the checkout."""
    return _copy_project(dbt_project_dir(), tmp_path_factory.mktemp("project") / "dbt_project")


@pytest.fixture(scope="module")
def untrained(tmp_path_factory, claims, project):
    """A home built without a trained model, its marts and its risk scores."""
    home = tmp_path_factory.mktemp("untrained")
    settings = _settings(home, project)
    _write_batch(settings, _lake_rows(claims[1]), "batch-a")
    build_marts(settings)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        scores = dict(con.execute("select post_uid, misinfo_risk_score from marts.posts").fetchall())
    finally:
        con.close()
    return settings, _marts(settings.build_warehouse), scores


def test_marts_unchanged_without_a_trained_model(tmp_path, untrained, claims, project):
    settings, marts, _ = untrained
    assert not (settings.reference_dir / MODEL_FILENAME).exists()
    before = _settings(tmp_path / "before", _project_before(project, tmp_path))
    _write_batch(before, _lake_rows(claims[1]), "batch-a")
    build_marts(before)
    old = _marts(before.build_warehouse)
    assert set(old) == set(marts)
    for table in marts:
        assert marts[table] == old[table], f"mart {table} differs without a trained model"
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        text_rows = con.execute("select count(*) from intermediate.int_posts_scored_misinfo_text").fetchone()
        assert text_rows[0] == 0
        risky = con.execute("select count(*) from marts.posts where misinfo_risk_score > 0").fetchone()[0]
        assert risky >= 2  # the chain message and the shortener still score as before
    finally:
        con.close()


def test_trained_model_scores_in_sql(tmp_path, untrained, claims, project):
    settings, _, scores_before = untrained
    train_csv = tmp_path / "train.csv"
    with open(train_csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(claims[0])
    summary = train_misinfo(settings, train_csv, name="generated claims")
    assert summary["rows_used"] == len(claims[0]) and summary["cv_auc"] > 0.7

    # the planner sees a reference change: only the model's descendants are rebuilt
    plan = plan_build(settings, dbt_project_dir(settings))
    assert plan.mode == "incremental" and plan.refresh == ["int_misinfo_text_model"], plan.describe()
    result = build_marts(settings)
    assert result["plan"]["refresh"] == ["int_misinfo_text_model"]

    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        sql_p = dict(
            con.execute(
                "select post_uid, misinfo_text_probability from intermediate.int_posts_scored_misinfo_text"
            ).fetchall()
        )
        terms = dict(con.execute(TERMS_SQL).fetchall())
        model = con.execute(
            f"select term, weight, source from read_parquet('{settings.reference_dir / MODEL_FILENAME}')"
        ).fetchall()
        posts = {
            uid: (score, reasons)
            for uid, score, reasons in con.execute(
                "select post_uid, misinfo_risk_score, misinfo_reasons from marts.posts"
            ).fetchall()
        }
    finally:
        con.close()
    assert set(sql_p) == set(posts)

    # the SQL computes the trainer's probability
    fit = {
        "weights": {t: w for t, w, s in model if s == "term"},
        "bias": next(w for t, w, s in model if s == "param" and t == "bias"),
    }
    for uid, p in sql_p.items():
        assert p == pytest.approx(probability(fit, terms[uid] or []), abs=1e-9), uid

    # it separates the held-out split
    test = claims[1]
    gold = np.array([verdict_is_false(v) for _, v in test], dtype=int)
    auc = roc_auc(gold, np.array([sql_p[f"x:claim{i}"] for i in range(len(test))]))
    assert auc > 0.75, auc

    # the reason appears exactly above the threshold, and adds its documented weight to the score
    fired = 0
    for uid, p in sql_p.items():
        score, reasons = posts[uid]
        text_reasons = [r for r in reasons if r.startswith(REASON)]
        weight = round(MAX_WEIGHT * (p - THRESHOLD) / (1 - THRESHOLD), 4) if p > THRESHOLD else 0.0
        if weight > 0:
            fired += 1
            assert len(text_reasons) == 1 and f"(text model probability {p:.2f}" in text_reasons[0]
            expected = 1 - (1 - scores_before[uid]) * (1 - weight)
            assert score == pytest.approx(expected, abs=2e-4), uid
        else:
            assert not text_reasons and score == scores_before[uid], uid
    assert fired > 0

    # the refreshed marts equal a full build of the same lake and reference data
    full = _settings(tmp_path / "full", project)
    shutil.copytree(settings.lake, full.lake)
    shutil.copytree(settings.reference_dir, full.reference_dir)
    build_marts(full, full_refresh=True)
    assert _marts(full.build_warehouse) == _marts(settings.build_warehouse)

    # a later night with a new batch scores the new posts with the model, incrementally
    start = datetime(2026, 2, 22, 9, 0, tzinfo=UTC)
    late = [
        post(f"late{i}", text, created_at=start + timedelta(minutes=i))
        for i, (text, _) in enumerate(test[:20])
    ]
    _write_batch(settings, late, "batch-b")
    result = build_marts(settings)
    assert result["plan"]["mode"] == "incremental" and result["plan"]["delta_batches"] == 1
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        late_p = dict(
            con.execute(
                "select post_uid, misinfo_text_probability from intermediate.int_posts_scored_misinfo_text"
                " where post_uid like 'x:late%'"
            ).fetchall()
        )
    finally:
        con.close()
    assert late_p == pytest.approx({f"x:late{i}": sql_p[f"x:claim{i}"] for i in range(20)}, abs=1e-12)
    full_again = _settings(tmp_path / "full-again", project)
    shutil.copytree(settings.lake, full_again.lake)
    shutil.copytree(settings.reference_dir, full_again.reference_dir)
    build_marts(full_again, full_refresh=True)
    assert _marts(full_again.build_warehouse) == _marts(settings.build_warehouse)
