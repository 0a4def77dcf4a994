"""Train the emotion overlay: token weights per class fitted on a labelled CSV.

``train_overlay(settings, csv_path, out=None)`` reads a CSV with ``text`` and ``label`` columns (anger,
fear, joy, sadness, love, surprise, neutral; common synonyms such as "sad", "happy", "trust",
"marah", "sedih" are accepted), labels its texts with the project's own dbt models
(``+int_posts_scored_emotion`` built over a temporary lake, so tokenisation, slang normalisation and
the shipped lexicon are exactly those of the nightly run), and fits a multinomial logistic model

    z_c = bias_c + Σ_e w_{e,c} × intensity_e + Σ_t w_{t,c}      (c: the classes, e: the six emotions)

over the shipped lexicon's six intensities (``emotion_scores`` without an overlay) and the post's
distinct normalised tokens (``int_posts_tokenised.tokens`` mapped through ``slang_normalisation``, as
the SQL does; tokens seen in at least ``min_df`` texts, stopwords left out except emotion terms and
modifiers). The loss is the class-balanced cross-entropy with an L2 penalty on the token weights (the
classes of a labelled set are rarely balanced, and macro-F1 weighs them equally); it is minimised with
L-BFGS in numpy over a sparse token matrix. The penalty is chosen by stratified k-fold
cross-validation on the training CSV only (out-of-fold macro-F1). Classes absent from the CSV get a
bias of ``ABSENT_BIAS``: the overlay never predicts a class it was not shown.

The overlay is a Parquet file (default ``<reference_dir>/emotion_overlay.parquet``, where dbt picks it
up at the next build; never in the repository) with columns ``term``, ``emotion`` (the class),
``weight`` and ``source`` (``token``, ``lexicon``: term is the emotion whose intensity is the
feature, ``bias``: term ``bias``). Delete the file to go back to the shipped lexicon alone.

The CSV reading, the temporary lake and build, the normalised tokens, the vocabulary, the stopwords and
the atomic Parquet writer are shared with ``sentiment_train``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.transform.sentiment_train import (
    NORM_TOKENS_SQL,
    build_labelled,
    macro_f1,
    read_labelled,
    stopwords,
    token_vocabulary,
    write_parquet_atomically,
)

EMOTIONS = ("anger", "fear", "joy", "sadness", "love", "surprise")
LABELS = (*EMOTIONS, "neutral")
ALIASES = {
    **{label: label for label in LABELS},
    "angry": "anger",
    "marah": "anger",
    "disgust": "anger",
    "afraid": "fear",
    "scared": "fear",
    "takut": "fear",
    "happy": "joy",
    "happiness": "joy",
    "senang": "joy",
    "bahagia": "joy",
    "sad": "sadness",
    "sedih": "sadness",
    "trust": "love",
    "love/trust": "love",
    "cinta": "love",
    "surprised": "surprise",
    "kaget": "surprise",
    "none": "neutral",
    "netral": "neutral",
    "no emotion": "neutral",
}
OVERLAY_FILENAME = "emotion_overlay.parquet"
ABSENT_BIAS = -30.0
SELECT = "+int_posts_scored_emotion"


class EmotionTrainError(Exception):
    """The labelled CSV is unusable (missing columns, unknown labels, too few rows or classes)."""


def read_emotion_labelled(path: Path | str) -> list[dict[str, str]]:
    """Rows of a labelled CSV as ``{"id", "text", "label"}`` with the label one of ``LABELS``."""
    return read_labelled(path, ALIASES, EmotionTrainError)


_SCORED_SQL = """
select
    post_uid,
    emotion_label,
    emotion_terms,
    [{fields}] as intensities
from intermediate.int_posts_scored_emotion
""".format(fields=", ".join(f"emotion_scores.{e}" for e in EMOTIONS))


def score_emotion_labelled(
    rows: list[dict[str, str]],
    work: Path,
    overlay: Path | None = None,
    project: Path | None = None,
) -> dict[str, Any]:
    """Build ``+int_posts_scored_emotion`` over ``rows`` in a home under ``work``.

    Returns per row (in order) the SQL ``labels``, ``terms`` (``emotion_terms``), ``intensities``
    (``emotion_scores`` as an n × 6 array: the lexicon intensities without an overlay, the overlay's
    probabilities with one) and normalised ``tokens``; ``keep_terms`` (emotion terms and modifiers)
    and the build's ``seconds``. With ``overlay``, that file is the home's overlay; ``project`` is
    another dbt project directory.
    """
    import duckdb

    settings, seconds = build_labelled(rows, work, SELECT, {OVERLAY_FILENAME: overlay}, project)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        tokens = dict(con.execute(NORM_TOKENS_SQL).fetchall())
        scored = {r[0]: r[1:] for r in con.execute(_SCORED_SQL).fetchall()}
        keep = {
            r[0]
            for r in con.execute(
                "select term from intermediate.int_emotion_lexicon"
                " union select term from reference.sentiment_modifiers"
            ).fetchall()
        }
    finally:
        con.close()
    uids = [f"generic:{i}" for i in range(len(rows))]
    return {
        "labels": [scored[u][0] for u in uids],
        "terms": [scored[u][1] for u in uids],
        "intensities": np.array([scored[u][2] for u in uids], dtype=float).reshape(len(uids), len(EMOTIONS)),
        "tokens": [tokens[u] or [] for u in uids],
        "keep_terms": keep,
        "seconds": seconds,
    }


class _Features:
    """Dense lexicon intensities plus binary token indicators kept as sparse (row, column) pairs."""

    def __init__(self, dense: np.ndarray, tokens: list[list[str]], index: dict[str, int]):
        self.n, self.n_dense = dense.shape
        self.dense = dense
        self.d = len(index)
        rows, cols = [], []
        for i, toks in enumerate(tokens):
            for t in set(toks):
                j = index.get(t)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
        self.rows = np.array(rows, dtype=np.int64)
        self.cols = np.array(cols, dtype=np.int64)

    def subset(self, mask: np.ndarray) -> _Features:
        out = object.__new__(_Features)
        keep = mask[self.rows]
        renumber = np.cumsum(mask) - 1
        out.n, out.n_dense, out.d = int(mask.sum()), self.n_dense, self.d
        out.dense = self.dense[mask]
        out.rows = renumber[self.rows[keep]]
        out.cols = self.cols[keep]
        return out

    def token_sums(self, w: np.ndarray) -> np.ndarray:
        """Σ over each row's tokens of ``w[token]`` (w: d × k) → n × k."""
        k = w.shape[1]
        out = np.empty((self.n, k))
        picked = w[self.cols]
        for c in range(k):
            out[:, c] = np.bincount(self.rows, weights=picked[:, c], minlength=self.n)
        return out

    def token_grad(self, g: np.ndarray) -> np.ndarray:
        """Σ over each token's rows of ``g[row]`` (g: n × k) → d × k."""
        k = g.shape[1]
        out = np.empty((self.d, k))
        picked = g[self.rows]
        for c in range(k):
            out[:, c] = np.bincount(self.cols, weights=picked[:, c], minlength=self.d)
        return out


def _unpack(theta: np.ndarray, f: _Features, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = theta[:k]
    wd = theta[k : k + f.n_dense * k].reshape(f.n_dense, k)
    wt = theta[k + f.n_dense * k :].reshape(f.d, k)
    return b, wd, wt


def _logits(theta: np.ndarray, f: _Features, k: int) -> np.ndarray:
    b, wd, wt = _unpack(theta, f, k)
    return b + f.dense @ wd + f.token_sums(wt)


def _loss_grad(
    theta: np.ndarray, f: _Features, y: np.ndarray, sw: np.ndarray, k: int, lam: float
) -> tuple[float, np.ndarray]:
    z = _logits(theta, f, k)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(f.n)
    total = sw.sum()
    loss = -(sw * np.log(p[rows, y] + 1e-300)).sum() / total
    g = p
    g[rows, y] -= 1.0
    g *= (sw / total)[:, None]
    _, _, wt = _unpack(theta, f, k)
    loss += 0.5 * lam * float((wt * wt).sum()) / total
    grad = np.concatenate(
        [g.sum(axis=0), (f.dense.T @ g).ravel(), (f.token_grad(g) + lam * wt / total).ravel()]
    )
    return loss, grad


def _lbfgs(fun: Any, x0: np.ndarray, max_iter: int = 300, memory: int = 10, tol: float = 1e-6) -> np.ndarray:
    """Minimise a smooth convex ``fun(x) -> (value, gradient)`` (L-BFGS, backtracking Armijo search)."""
    x = x0.copy()
    fx, g = fun(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        if np.linalg.norm(g, np.inf) < tol:
            break
        q = g.copy()
        alphas = []
        for s, yv in zip(reversed(s_hist), reversed(y_hist), strict=True):
            a = (s @ q) / (yv @ s)
            alphas.append(a)
            q -= a * yv
        if s_hist:
            q *= (s_hist[-1] @ y_hist[-1]) / (y_hist[-1] @ y_hist[-1])
        for (s, yv), a in zip(zip(s_hist, y_hist, strict=True), reversed(alphas), strict=True):
            q += s * (a - (yv @ q) / (yv @ s))
        d = -q
        slope = g @ d
        if slope >= 0:  # not a descent direction: restart from the gradient
            s_hist.clear()
            y_hist.clear()
            d, slope = -g, -(g @ g)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= fx + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, yv = x_new - x, g_new - g
        if s @ yv > 1e-12:
            s_hist.append(s)
            y_hist.append(yv)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        converged = abs(fx - f_new) <= tol * max(1.0, abs(fx))
        x, fx, g = x_new, f_new, g_new
        if converged:
            break
    return x


def _fit(f: _Features, y: np.ndarray, k: int, lam: float) -> np.ndarray:
    counts = np.bincount(y, minlength=k).astype(float)
    # class-balanced sample weights: every present class weighs the same in the loss
    sw = (len(y) / (np.count_nonzero(counts) * np.maximum(counts, 1.0)))[y]
    theta0 = np.zeros(k + f.n_dense * k + f.d * k)
    return _lbfgs(lambda t: _loss_grad(t, f, y, sw, k, lam), theta0)


def _stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


def fit_overlay(
    intensities: np.ndarray,
    tokens: list[list[str]],
    gold: Sequence[str],
    *,
    keep_terms: set[str] | frozenset[str] = frozenset(),
    stopwords: set[str] | frozenset[str] = frozenset(),
    min_df: int = 2,
    lambdas: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0),
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit biases, lexicon weights and token weights per class (see the module docstring). Numpy only.

    ``intensities`` is n × 6 (the lexicon's emotion intensities), ``gold`` labels from ``LABELS``.
    """
    n = len(gold)
    if n != len(tokens) or n != len(intensities):
        raise EmotionTrainError("intensities, tokens and labels differ in length")
    unknown = sorted(set(gold) - set(LABELS))
    if unknown:
        raise EmotionTrainError(f"unknown labels {unknown}")
    present = [c for c in LABELS if c in set(gold)]
    if len(present) < 2:
        raise EmotionTrainError(f"training needs at least two classes, got {present}")
    if n < 3 * folds:
        raise EmotionTrainError(f"training needs at least {3 * folds} labelled texts, got {n}")
    vocab = token_vocabulary(tokens, min_df=min_df, stopwords=stopwords, keep_terms=keep_terms)
    index = {t: j for j, t in enumerate(vocab)}
    feats = _Features(np.asarray(intensities, dtype=float), tokens, index)
    k = len(present)
    y = np.array([present.index(g) for g in gold])
    fold_of = _stratified_folds(y, folds, seed)
    best: tuple[float, float] | None = None
    for lam in lambdas:
        oof = np.empty(n, dtype=np.int64)
        for fold in range(folds):
            tr, te = fold_of != fold, fold_of == fold
            theta = _fit(feats.subset(tr), y[tr], k, lam)
            oof[te] = _logits(theta, feats.subset(te), k).argmax(axis=1)
        f1 = macro_f1([present[i] for i in y], [present[i] for i in oof], present)
        if best is None or f1 > best[0] + 1e-12:
            best = (f1, lam)
    assert best is not None
    cv_f1, lam = best
    b, wd, wt = _unpack(_fit(feats, y, k, lam), feats, k)
    return {
        "classes": present,
        "bias": {c: float(b[j]) for j, c in enumerate(present)},
        "lexicon": {(e, c): float(wd[i, j]) for i, e in enumerate(EMOTIONS) for j, c in enumerate(present)},
        "weights": {
            (t, c): float(wt[index[t], j])
            for t in vocab
            for j, c in enumerate(present)
            if abs(wt[index[t], j]) >= 1e-3
        },
        "lambda": lam,
        "cv_macro_f1": cv_f1,
        "vocabulary": len(vocab),
    }


def write_overlay(fit: dict[str, Any], path: Path) -> None:
    """The overlay Parquet file (columns term, emotion, weight, source); absent classes get
    ``ABSENT_BIAS``."""
    import pyarrow as pa

    rows = [(t, c, w, "token") for (t, c), w in fit["weights"].items()]
    rows += [(e, c, w, "lexicon") for (e, c), w in fit["lexicon"].items()]
    rows += [("bias", c, fit["bias"].get(c, ABSENT_BIAS), "bias") for c in LABELS]
    write_parquet_atomically(
        {
            "term": (pa.string(), [r[0] for r in rows]),
            "emotion": (pa.string(), [r[1] for r in rows]),
            "weight": (pa.float64(), [float(r[2]) for r in rows]),
            "source": (pa.string(), [r[3] for r in rows]),
        },
        path,
    )


def train_overlay(
    settings: Any,
    csv_path: Path | str,
    out: Path | str | None = None,
    *,
    project: Path | None = None,
) -> dict[str, Any]:
    """Fit the overlay on ``csv_path`` and write it to ``out`` (default: the home's reference
    directory, where the next dbt build uses it). Returns a summary: path, rows, classes, terms,
    the cross-validated macro-F1 and the shipped lexicon's macro-F1 on the same texts."""
    rows = read_emotion_labelled(csv_path)
    gold = [r["label"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="emotion_train_") as tmp:
        scored = score_emotion_labelled(rows, Path(tmp), project=project)
    fit = fit_overlay(
        scored["intensities"],
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
        "classes": fit["classes"],
        "terms": len({t for t, _ in fit["weights"]}),
        "vocabulary": fit["vocabulary"],
        "lambda": fit["lambda"],
        "cv_macro_f1": round(fit["cv_macro_f1"], 4),
        "lexicon_macro_f1": round(macro_f1(gold, scored["labels"], fit["classes"]), 4),
    }
