"""Train the sentiment overlay: token weights and thresholds fitted on a labelled CSV.

``train_overlay(settings, csv_path, out=None)`` reads a CSV with ``text`` and ``label`` columns
(negative/neutral/positive; neg/neu/pos and -1/0/1 are accepted), scores its texts with the project's
own dbt models (``+int_posts_scored_sentiment`` built over a temporary lake, so tokenisation, slang
normalisation and the shipped lexicons are exactly those of the nightly run), and fits

    z = lexicon_scale × lexicon_score + bias + Σ weight(token)      (distinct normalised tokens)

by L2-regularised least squares on the ordinal target −1/0/+1 (numpy, closed form). The regularisation
strength is chosen by 5-fold cross-validation repeated over ``repeats`` fold assignments (out-of-fold
predictions averaged), and the two thresholds (z ≤ threshold_negative → negative, z ≥
threshold_positive → positive) maximise macro-F1 over the out-of-fold predictions, so they are not
fitted on predictions of texts the weights have seen. (An ordinal logistic model and unigram+bigram
features were tried on the same cross-validation and scored no better, so the simpler fit stays.)

Features are the distinct normalised tokens (``int_posts_tokenised.tokens`` mapped through the
``slang_normalisation`` seed, as the SQL does) seen in at least ``min_df`` texts, stopwords excluded
(``stopwordsiso``, Indonesian and English) except sentiment modifiers (negators such as "tidak", "not"
are informative) and lexicon terms of every shipped lexicon ("good", "no", "please" are English
stopwords, but carry or cancel sentiment).

The overlay is a Parquet file (default ``<reference_dir>/sentiment_overlay.parquet``, where dbt picks
it up at the next build) with columns ``term`` (varchar), ``weight`` (double), ``source`` (``token`` for
a token weight, ``param`` for ``lexicon_scale``, ``bias``, ``threshold_negative``,
``threshold_positive``). Delete the file to go back to the shipped lexicons alone.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")
ALIASES = {
    "negative": "negative",
    "neg": "negative",
    "-1": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "0": "neutral",
    "positive": "positive",
    "pos": "positive",
    "1": "positive",
}
OVERLAY_FILENAME = "sentiment_overlay.parquet"
PARAMS = ("lexicon_scale", "bias", "threshold_negative", "threshold_positive")


class SentimentTrainError(Exception):
    """The labelled CSV is unusable (missing columns, unknown labels, too few rows or classes)."""


def read_labelled(
    path: Path | str,
    aliases: dict[str, str] = ALIASES,
    error: type[Exception] = SentimentTrainError,
) -> list[dict[str, str]]:
    """Rows of a labelled CSV as ``{"id", "text", "label"}`` with the label in canonical form.

    ``aliases`` maps lower-case labels to canonical ones (sentiment's by default); problems raise
    ``error``. ``discourse emotion train`` reads its CSV with its own labels through this too.
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: not found")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise error(f"{path}: missing column(s) {sorted(missing)}")
        rows = []
        for n, row in enumerate(reader, start=1):
            label = aliases.get((row["label"] or "").strip().lower())
            if label is None:
                raise error(f"{path}: row {n}: unknown label {row['label']!r}")
            rows.append({"id": (row.get("id") or str(n)).strip(), "text": row["text"] or "", "label": label})
    if not rows:
        raise error(f"{path}: no rows")
    return rows


def write_labelled_lake(
    posts_dir: Path, rows: Sequence[dict[str, str]], declared_column: str | None = None
) -> None:
    """The labelled texts as canonical lake posts (platform ``generic``, uid ``generic:<i>``), one batch.

    ``lang_declared`` is taken from ``declared_column`` when given, else left empty (so the language
    is detected, as for a generic CSV without a language column).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingest.schema import POST_SCHEMA

    created = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    records = []
    for i, row in enumerate(rows):
        rec: dict[str, Any] = {f.name: None for f in POST_SCHEMA}
        rec.update(
            post_uid=f"generic:{i}",
            platform="generic",
            post_id=str(i),
            created_at=created,
            text=row["text"],
            lang_declared=(row.get(declared_column) or None) if declared_column else None,
            kind="post",
            hashtags=[],
            mentions=[],
            links=[],
            media_count=0,
            source_file="labelled.csv",
            source_record=i + 1,
            export_format="generic",
            batch_id="labelled",
            ingested_at=now,
        )
        records.append(rec)
    out = posts_dir / "platform=generic" / "created_date=2026-01-01" / "labelled.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records, schema=POST_SCHEMA), out)


# The scoring's normal form of each token, as the overlays use it (int_posts_scored_sentiment,
# int_posts_scored_emotion): the slang seed's standard form of the token or of its cut-to-one-letter
# variant, else the token itself; each post's distinct normalised tokens.
NORM_TOKENS_SQL = """
with m as (
    select map_from_entries(list(struct_pack(k := slang, v := standard))) as standard_of
    from reference.slang_normalisation
)
select
    p.post_uid,
    list_distinct(list_transform(
        p.tokens, lambda t, i: coalesce(m.standard_of[t], m.standard_of[p.token_alts[i]], t)
    )) as norm_tokens
from intermediate.int_posts_tokenised as p
cross join m
"""


def build_labelled(
    rows: Sequence[dict[str, str]],
    work: Path,
    select: str,
    overlays: dict[str, Path | None],
    project: Path | None = None,
) -> tuple[Any, float]:
    """``dbt build --select <select>`` of the project over ``rows`` in a fresh home under ``work``.

    ``overlays`` maps an overlay file name in the home's reference directory to the file to use, or
    to None to build without it. Returns the home's settings (its ``build_warehouse`` holds the
    models; posts are ``generic:<row index>``) and the build's seconds.
    """
    import shutil
    import time

    from discourse.settings import load_settings
    from discourse.transform import dbt_args, run_dbt
    from discourse.transform.reference import prepare_reference

    settings = load_settings(env={}, home=work / "home", dbt_threads=2)
    write_labelled_lake(settings.posts_dir, rows)
    prepare_reference(settings)
    for name, source in overlays.items():
        target = Path(settings.reference_dir) / name
        if source is not None:
            shutil.copyfile(source, target)
        elif target.exists():
            target.unlink()
    started = time.perf_counter()
    # "cautious": only the data tests whose parents are all built here. Unit tests check the SQL, not
    # these texts (the nightly build leaves them out too), and some need parents not selected here.
    args = dbt_args(settings, "build", select, project)
    run_dbt(settings, [*args, "--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"])
    return settings, time.perf_counter() - started


def score_labelled(
    rows: list[dict[str, str]],
    work: Path,
    overlay: Path | None = None,
    project: Path | None = None,
) -> dict[str, Any]:
    """Build ``+int_posts_scored_sentiment`` over ``rows`` in a home under ``work``.

    Returns per row (in order) the SQL label, score (``sentiment_score``), ``sentiment_terms`` and
    normalised tokens, plus the build time. ``scores`` are the lexicon scores when no overlay is used.
    With ``overlay``, that file is used as the home's overlay; ``project`` is another dbt project
    directory (default: ``dbt_project_dir(settings)``).
    """
    import duckdb

    settings, seconds = build_labelled(
        rows, work, "+int_posts_scored_sentiment", {OVERLAY_FILENAME: overlay}, project
    )
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        tokens = dict(con.execute(NORM_TOKENS_SQL).fetchall())
        scored = {
            uid: (label, terms, score)
            for uid, label, terms, score in con.execute(
                "select post_uid, sentiment_label, sentiment_terms, sentiment_score"
                " from intermediate.int_posts_scored_sentiment"
            ).fetchall()
        }
        modifiers = {r[0] for r in con.execute("select term from reference.sentiment_modifiers").fetchall()}
        # every lexicon term: "good", "no", "please" are English stopwords but carry (or cancel) sentiment
        lexicon = {
            r[0]
            for r in con.execute(
                "select term from reference.lexicon_id union select term from reference.lexicon_en_supplement"
                " union select term from staging.stg_reference__vader_lexicon"
            ).fetchall()
        }
    finally:
        con.close()
    uids = [f"generic:{i}" for i in range(len(rows))]
    return {
        "labels": [scored[u][0] for u in uids],
        "terms": [scored[u][1] for u in uids],
        "scores": np.array([scored[u][2] for u in uids], dtype=float),
        "tokens": [tokens[u] or [] for u in uids],
        "keep_terms": modifiers | lexicon,
        "seconds": seconds,
    }


def macro_f1(gold: list[str], pred: list[str], labels: Sequence[str] = LABELS) -> float:
    f1s = []
    for c in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(labels)


def _labels_for(z: np.ndarray, lo: float, hi: float) -> list[str]:
    return ["positive" if v >= hi else "negative" if v <= lo else "neutral" for v in z]


def fit_thresholds(z: np.ndarray, gold: list[str]) -> tuple[float, float, float]:
    """The (low, high) cut-points on z maximising macro-F1, searched over z's quantiles."""
    cands = np.unique(np.quantile(z, np.linspace(0.02, 0.98, 49)))
    best = (-1.0, -0.5, 0.5)
    for i, lo in enumerate(cands):
        for hi in cands[i + 1 :]:
            f = macro_f1(gold, _labels_for(z, lo, hi))
            # strict improvement only: among ties the first (lowest) cut-points are kept
            if f > best[0] + 1e-12:
                best = (f, float(lo), float(hi))
    return best[1], best[2], best[0]


def _ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """Least squares with an L2 penalty on every column but the first (the lexicon score) and the
    intercept (the first column is penalised only lightly)."""
    n, d = x.shape
    xm = x.mean(axis=0)
    ym = y.mean()
    xc = x - xm
    penalty = np.full(d, lam)
    penalty[0] = 1e-3
    a = xc.T @ xc + np.diag(penalty)
    w = np.linalg.solve(a, xc.T @ (y - ym))
    return w, float(ym - xm @ w)


def fit_overlay(
    lexicon_scores: np.ndarray,
    tokens: list[list[str]],
    gold: list[str],
    *,
    keep_terms: set[str] | frozenset[str] = frozenset(),
    stopwords: set[str] | frozenset[str] = frozenset(),
    min_df: int = 2,
    lambdas: tuple[float, ...] = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0),
    folds: int = 5,
    repeats: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit token weights, scale, bias and thresholds (see the module docstring). Pure numpy."""
    n = len(gold)
    if n != len(tokens) or n != len(lexicon_scores):
        raise SentimentTrainError("scores, tokens and labels differ in length")
    present = {g for g in gold}
    if present != set(LABELS):
        raise SentimentTrainError(f"training needs all three labels, got {sorted(present)}")
    if n < 3 * folds:
        raise SentimentTrainError(f"training needs at least {3 * folds} labelled texts, got {n}")
    vocab = token_vocabulary(tokens, min_df=min_df, stopwords=stopwords, keep_terms=keep_terms)
    index = {t: j + 1 for j, t in enumerate(vocab)}
    x = np.zeros((n, len(vocab) + 1))
    x[:, 0] = lexicon_scores
    for i, toks in enumerate(tokens):
        for t in set(toks):
            j = index.get(t)
            if j is not None:
                x[i, j] = 1.0
    y = np.array([{"negative": -1.0, "neutral": 0.0, "positive": 1.0}[g] for g in gold])
    rng = np.random.default_rng(seed)
    fold_ofs = [rng.permutation(n) % folds for _ in range(repeats)]
    best: tuple[float, float, np.ndarray] | None = None
    for lam in lambdas:
        # out-of-fold predictions, averaged over `repeats` different fold assignments (a steadier choice)
        oof = np.zeros(n)
        for fold_of in fold_ofs:
            for k in range(folds):
                tr, te = fold_of != k, fold_of == k
                w, b = _ridge(x[tr], y[tr], lam)
                oof[te] += (x[te] @ w + b) / repeats
        lo, hi, f = fit_thresholds(oof, gold)
        if best is None or f > best[0]:
            best = (f, lam, oof)
    assert best is not None
    cv_f1, lam, oof = best
    lo, hi, _ = fit_thresholds(oof, gold)
    w, b = _ridge(x, y, lam)
    weights = {t: float(w[index[t]]) for t in vocab if abs(w[index[t]]) >= 1e-4}
    return {
        "weights": weights,
        "lexicon_scale": float(w[0]),
        "bias": b,
        "threshold_negative": lo,
        "threshold_positive": hi,
        "lambda": lam,
        "cv_macro_f1": cv_f1,
        "vocabulary": len(vocab),
    }


def token_vocabulary(
    tokens: list[list[str]],
    *,
    min_df: int = 2,
    stopwords: set[str] | frozenset[str] = frozenset(),
    keep_terms: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """The sorted feature tokens: seen in at least ``min_df`` texts, stopwords left out unless they
    are in ``keep_terms`` (lexicon and modifier terms)."""
    df: dict[str, int] = {}
    for toks in tokens:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    return sorted(t for t, c in df.items() if c >= min_df and (t not in stopwords or t in keep_terms))


def stopwords() -> set[str]:
    """Indonesian and English stopwords (``stopwordsiso``), lower case."""
    import stopwordsiso

    return {w.lower() for w in stopwordsiso.stopwords(["id", "en"])}


def write_parquet_atomically(columns: dict[str, tuple[Any, list[Any]]], path: Path) -> None:
    """A Parquet file of ``{name: (arrow type, values)}``, written to a temporary name then renamed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {name: values for name, (_, values) in columns.items()},
        schema=pa.schema([(name, typ) for name, (typ, _) in columns.items()]),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_overlay(fit: dict[str, Any], path: Path) -> None:
    import pyarrow as pa

    terms = list(fit["weights"]) + list(PARAMS)
    weights = [fit["weights"][t] for t in fit["weights"]] + [float(fit[p]) for p in PARAMS]
    sources = ["token"] * len(fit["weights"]) + ["param"] * len(PARAMS)
    write_parquet_atomically(
        {"term": (pa.string(), terms), "weight": (pa.float64(), weights), "source": (pa.string(), sources)},
        path,
    )


def train_overlay(
    settings: Any,
    csv_path: Path | str,
    out: Path | str | None = None,
    *,
    project: Path | None = None,
) -> dict[str, Any]:
    """Fit the overlay on ``csv_path`` and write it to ``out`` (default: the reference directory, where
    the next dbt build uses it). Returns a summary: path, rows, terms, parameters, cross-validated
    macro-F1 and the shipped lexicons' macro-F1 on the same texts."""
    rows = read_labelled(csv_path)
    gold = [r["label"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="sentiment_train_") as tmp:
        scored = score_labelled(rows, Path(tmp), project=project)
    fit = fit_overlay(
        scored["scores"],
        scored["tokens"],
        gold,
        keep_terms=scored["keep_terms"],
        stopwords=stopwords(),
    )
    target = Path(out) if out is not None else Path(settings.reference_dir) / OVERLAY_FILENAME
    write_overlay(fit, target)
    return {
        "path": str(target),
        "rows": len(rows),
        "terms": len(fit["weights"]),
        "vocabulary": fit["vocabulary"],
        **{p: fit[p] for p in PARAMS},
        "lambda": fit["lambda"],
        "cv_macro_f1": round(fit["cv_macro_f1"], 4),
        "lexicon_macro_f1": round(macro_f1(gold, scored["labels"]), 4),
    }
