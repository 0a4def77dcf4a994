"""Train the misinformation text model: term weights fitted on claims labelled true or false.

``train_misinfo(settings, path, name=None)`` reads a CSV with ``text`` and ``label`` columns, where the
label is the claim's verdict. The verdicts are folded onto two classes (``VERDICTS``):

* **true**: ``true``, ``1``, and the LIAR/PolitiFact ratings ``mostly-true`` and ``half-true``;
* **false**: ``false``, ``0``, and ``barely-true``, ``mostly-false``, ``pants-fire`` (also spelled
  ``pants-on-fire``).

Case, spaces and underscores do not matter ("Pants on Fire" = ``pants-fire``). ``1`` means *true*: the
label is the claim's truth value, not a "is misinformation" flag. Rows with an empty text, another
verdict ("mixture", "unproven", "full-flop") or no word tokens are skipped and counted with their
reason, never silently; a file left with one class is an error.

The texts are tokenised by the project's own dbt models (``int_posts_tokenised`` over a temporary
lake, and the ``slang_normalisation`` seed), so the features are exactly those the nightly SQL computes
(``int_posts_scored_misinfo_text``): each post's distinct normalised tokens and adjacent token pairs
(``"miracle cure"``), kept when seen in at least ``min_df`` training texts (at most ``max_terms``, most
frequent first). The model is an L2-regularised logistic regression on term presence, fitted with
L-BFGS (scipy) with the two classes weighted equally, so the probability is the wording's evidence
under equal priors, whatever the true/false mix of the training file. The regularisation strength is
chosen by stratified 5-fold cross-validation on ROC AUC; the AUC reported is that of the out-of-fold
predictions at the chosen strength (slightly optimistic: the strength was picked on the same folds).

The model is a Parquet file, ``<reference_dir>/misinfo_text_model.parquet`` (where dbt picks it up at
the next build; a changed file rebuilds exactly its descendants), with columns ``term`` (varchar),
``weight`` (double) and ``source``: ``term`` rows are term weights (log-odds of *false*), the ``param``
row ``bias`` is the intercept, and the ``name`` row carries the training set's name in ``term`` (its
``weight`` is the number of rows used). Delete the file to go back to the shipped score.
"""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILENAME = "misinfo_text_model.parquet"

# Verdict spellings (lower case, spaces and underscores as hyphens) -> is the claim false?
VERDICTS: dict[str, bool] = {
    "true": False,
    "1": False,
    "mostly-true": False,
    "half-true": False,
    "false": True,
    "0": True,
    "barely-true": True,
    "mostly-false": True,
    "pants-fire": True,
    "pants-on-fire": True,
}
SELECT = "+int_posts_tokenised slang_normalisation"
LAMBDAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)

# Each post's distinct terms, as int_posts_scored_misinfo_text computes them: every token in the slang
# seed's standard form (of the token, else of its cut-to-one-letter variant, else the token itself),
# and every pair of adjacent normalised tokens joined by a space.
TERMS_SQL = """
with m as (
    select map_from_entries(list(struct_pack(k := slang, v := standard))) as standard_of
    from reference.slang_normalisation
),
normalised as (
    select
        p.post_uid,
        list_transform(
            p.tokens, lambda t, i: coalesce(m.standard_of[t], m.standard_of[p.token_alts[i]], t)
        ) as norm_tokens
    from intermediate.int_posts_tokenised as p
    cross join m
)
select post_uid, list_distinct(list_concat(
    norm_tokens,
    list_transform(norm_tokens[2:], lambda t, i: norm_tokens[i] || ' ' || t)
)) as terms
from normalised
"""


class MisinfoTrainError(Exception):
    """The labelled CSV is unusable (missing columns, one class only, too few rows)."""


def verdict_is_false(label: str | None) -> bool | None:
    """True for a false claim, False for a true one, None for a verdict outside ``VERDICTS``."""
    key = "-".join((label or "").strip().lower().replace("_", " ").replace("-", " ").split())
    return VERDICTS.get(key)


def check_classes(is_false: list[bool]) -> None:
    """Raise unless both classes are present."""
    if all(is_false) or not any(is_false):
        only = "false" if is_false and is_false[0] else "true"
        raise MisinfoTrainError(f"training needs claims rated true and false; every usable row is {only}")


def read_verdicts(path: Path | str) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    """The usable rows (``{"row", "text", "is_false"}``) and the skipped row numbers by reason."""
    path = Path(path)
    if not path.is_file():
        raise MisinfoTrainError(f"{path}: not found")
    csv.field_size_limit(1 << 24)
    rows: list[dict[str, Any]] = []
    skipped: dict[str, list[int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise MisinfoTrainError(f"{path}: missing column(s) {sorted(missing)}")
        for n, row in enumerate(reader, start=1):
            text = row.get("text") or ""
            verdict = verdict_is_false(row.get("label"))
            if not text.strip():
                skipped.setdefault("empty text", []).append(n)
            elif verdict is None:
                skipped.setdefault(f"unknown verdict {(row.get('label') or '').strip()!r}", []).append(n)
            else:
                rows.append({"row": n, "text": text, "is_false": verdict})
    return rows, skipped


def text_terms(rows: list[dict[str, Any]], work: Path, project: Path | None = None) -> list[list[str]]:
    """Each row's terms, tokenised by the project's dbt models in a home under ``work``."""
    import duckdb

    from discourse.transform.sentiment_train import build_labelled

    settings, _ = build_labelled(rows, work, SELECT, {MODEL_FILENAME: None}, project)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        found = dict(con.execute(TERMS_SQL).fetchall())
    finally:
        con.close()
    return [list(found.get(f"generic:{i}") or []) for i in range(len(rows))]


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Rank-based ROC AUC (Mann-Whitney U, ties counted half) of ``score`` for ``y == 1``."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        raise ValueError("ROC AUC needs both classes")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def vocabulary(terms: list[list[str]], min_df: int = 2, max_terms: int = 50_000) -> list[str]:
    """Terms seen in at least ``min_df`` texts, the ``max_terms`` most frequent (ties by term), sorted."""
    df = Counter(t for ts in terms for t in set(ts))
    kept = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))[:max_terms]
    return sorted(kept)


def _design(terms: list[list[str]], vocab: list[str]) -> Any:
    from scipy import sparse

    index = {t: j for j, t in enumerate(vocab)}
    indptr, cols = [0], []
    for ts in terms:
        cols.extend(sorted({index[t] for t in ts if t in index}))
        indptr.append(len(cols))
    data = np.ones(len(cols))
    return sparse.csr_matrix(
        (data, np.array(cols, dtype=np.int64), np.array(indptr)), shape=(len(terms), len(vocab))
    )


def fit_logistic(x: Any, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """L2 logistic regression, classes weighted equally: minimises the weighted mean log-loss plus
    ``lam / 2 × ‖w‖²`` (the intercept is not penalised) with L-BFGS. Returns (weights, intercept)."""
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(y, dtype=float)
    n_pos = y.sum()
    sample_w = np.where(y == 1, 0.5 / n_pos, 0.5 / (len(y) - n_pos))
    sign = 2 * y - 1
    d = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        margin = sign * (x @ w + b)
        value = float(sample_w @ np.logaddexp(0, -margin) + lam / 2 * w @ w)
        g = -sample_w * sign * expit(-margin)
        grad = np.concatenate([x.T @ g + lam * w, [g.sum()]])
        return value, grad

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:d], float(res.x[d])


def _folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Stratified fold numbers: each class shuffled and dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % k
    return fold


def fit_text_model(
    terms: list[list[str]],
    is_false: list[bool],
    *,
    min_df: int = 2,
    max_terms: int = 50_000,
    lambdas: tuple[float, ...] = LAMBDAS,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the model (module docstring): vocabulary, cross-validated strength and AUC, final fit."""
    from scipy.special import expit

    y = np.array(is_false, dtype=float)
    n_false = int(y.sum())
    check_classes(list(is_false))
    if min(n_false, len(y) - n_false) < folds:
        raise MisinfoTrainError(
            f"training needs at least {folds} usable rows of each class, got {len(y) - n_false} true"
            f" and {n_false} false"
        )
    vocab = vocabulary(terms, min_df, max_terms)
    if not vocab:
        raise MisinfoTrainError(f"no term occurs in {min_df} or more texts: nothing to learn from")
    x = _design(terms, vocab)
    fold = _folds(y, folds, seed)
    best: tuple[float, float] | None = None
    for lam in lambdas:
        oof = np.zeros(len(y))
        for k in range(folds):
            tr, te = fold != k, fold == k
            w, b = fit_logistic(x[tr], y[tr], lam)
            oof[te] = expit(x[te] @ w + b)
        auc = roc_auc(y, oof)
        if best is None or auc > best[0] + 1e-9:
            best = (auc, lam)
    assert best is not None
    cv_auc, lam = best
    w, b = fit_logistic(x, y, lam)
    weights = {t: float(w[j]) for j, t in enumerate(vocab) if abs(w[j]) >= 1e-4}
    return {"weights": weights, "bias": b, "lambda": lam, "cv_auc": cv_auc, "vocabulary": len(vocab)}


def probability(fit: dict[str, Any], terms: list[str]) -> float:
    """The model's probability that a text with these terms is a false claim (as the SQL computes it)."""
    from scipy.special import expit

    return float(expit(fit["bias"] + sum(fit["weights"].get(t, 0.0) for t in set(terms))))


def write_model(fit: dict[str, Any], name: str, rows: int, path: Path) -> None:
    import pyarrow as pa

    from discourse.transform.sentiment_train import write_parquet_atomically

    terms = [*fit["weights"], "bias", name]
    weights = [*fit["weights"].values(), float(fit["bias"]), float(rows)]
    sources = ["term"] * len(fit["weights"]) + ["param", "name"]
    write_parquet_atomically(
        {"term": (pa.string(), terms), "weight": (pa.float64(), weights), "source": (pa.string(), sources)},
        path,
    )


def train_misinfo(settings: Any, path: Path, name: str | None = None) -> dict[str, Any]:
    """Fit the text model on the labelled CSV at ``path`` and write it to the reference directory.

    ``name`` names the training set in the reasons the score gives (default: the file's stem).
    Returns what was done: name, rows used and skipped (with reasons), vocabulary, cross-validated
    AUC, where the model was written.
    """
    path = Path(path)
    name = (name or path.stem).strip() or path.stem
    rows, skipped = read_verdicts(path)
    if not rows:
        raise MisinfoTrainError(f"{path}: no usable row ({_skip_text(skipped)})")
    check_classes([row["is_false"] for row in rows])
    with tempfile.TemporaryDirectory(prefix="misinfo_train_") as tmp:
        terms = text_terms(rows, Path(tmp), getattr(settings, "dbt_project_dir", None))
    for row, ts in zip(rows, terms, strict=True):
        if not ts:
            skipped.setdefault("no word tokens", []).append(row["row"])
    used = [(row, ts) for row, ts in zip(rows, terms, strict=True) if ts]
    fit = fit_text_model([ts for _, ts in used], [row["is_false"] for row, _ in used])
    target = Path(settings.reference_dir) / MODEL_FILENAME
    write_model(fit, name, len(used), target)
    n_false = sum(1 for row, _ in used if row["is_false"])
    return {
        "name": name,
        "path": str(target),
        "rows_used": len(used),
        "rows_false": n_false,
        "rows_true": len(used) - n_false,
        "rows_skipped": sum(len(v) for v in skipped.values()),
        "skipped": {reason: {"rows": len(ns), "first": ns[:5]} for reason, ns in sorted(skipped.items())},
        "vocabulary": fit["vocabulary"],
        "terms": len(fit["weights"]),
        "lambda": fit["lambda"],
        "cv_auc": round(fit["cv_auc"], 4),
        "auc_method": "stratified 5-fold cross-validation (out-of-fold probabilities)",
    }


def _skip_text(skipped: dict[str, list[int]]) -> str:
    return "; ".join(f"{reason}: {len(ns)} row(s)" for reason, ns in sorted(skipped.items())) or "empty file"
