"""How well the project's misinformation risk separates labelled hoaxes from other posts.

The CSV needs a text column and a gold verdict column (``text``/``label`` unless overridden);
``LABEL=CSV`` gives every row of a file one verdict. Verdicts are folded onto two classes:

* ``misinfo``: hoax/hoaks, false/salah/keliru, fake/palsu, misleading/menyesatkan, disinformasi,
  misinformasi, satire/parody (when ``--satire-is-misinfo``), pants-on-fire, ``1``/``yes``;
* ``reliable``: valid/fakta/benar, true/correct, real, mostly-true, ``0``/``no``.

``--label-map`` adds or overrides entries (``"HOAX=misinfo,FAKTA=reliable"``); other verdicts (for
example "mixture" or "unproven") are reported and left out.

The rows become a small Parquet lake in a temporary home and the real dbt models are built over it
(``dbt build --select +int_posts_scored_misinfo``: link credibility, fact-checked claim matching, hoax
cues and coordination, with their tests), so the weights and thresholds are exactly the nightly run's.
Reported:

* ROC AUC of ``misinfo_risk_score`` (how often a random hoax scores above a random reliable post; ties
  count half): threshold-free, so it measures the score itself;
* accuracy, precision/recall/F1 per class and the confusion matrix of the shipped levels, a post being
  predicted ``misinfo`` when its ``misinfo_risk_level`` is in ``--positive-levels`` (default medium and
  high);
* the level distribution per gold class, and the commonest reasons given for the hoaxes caught.

The rows have no authors, times or links beyond what their text holds, so coordination and link
credibility only count where the texts carry them: this measures the text-borne signals (claims and
cues) first of all.

    uv run python bench/eval_misinfo.py labelled_hoaxes.csv --label-column verdict --json out.json
    uv run python bench/eval_misinfo.py misinfo=hoaxes.csv reliable=news.csv

With ``--train TRAIN.csv`` the trainable text model is measured too: ``TRAIN.csv`` (``text,label``,
verdicts true/false, 1/0 or LIAR's six ratings; see ``discourse.transform.misinfo_train``) is trained
through ``train_misinfo``, the function behind ``discourse misinfo train``, into the temporary home,
and the test rows are scored by the same dbt build with that model in place. The test verdicts are then
read the trainer's way first (``1`` = a true claim, LIAR ratings folded as in training), then through
the map above. Reported in addition: the ROC AUC of the text model's probability
(``int_posts_scored_misinfo_text``) and of the final ``misinfo_risk_score``, and the training summary
(rows used and skipped, vocabulary, cross-validated AUC on the training file).

    uv run python bench/eval_misinfo.py --train liar_train.csv liar_test.csv --name LIAR

Exits 0 with a message when an input is absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evalkit import (  # noqa: E402
    EvalError,
    add_common_arguments,
    build_models,
    by_row,
    inputs_missing,
    norm_label,
    parse_label_map,
    query,
    read_inputs,
    render,
    scores,
)

SELECT = "+int_posts_scored_misinfo"
SQL = (
    "select post_uid, misinfo_risk_score, misinfo_risk_level, misinfo_reasons "
    "from intermediate.int_posts_scored_misinfo"
)
TEXT_SQL = "select post_uid, misinfo_text_probability from intermediate.int_posts_scored_misinfo_text"
CLASSES = ("misinfo", "reliable")
_NAMES = {
    "misinfo": (
        "misinfo misinformation misinformasi disinformation disinformasi hoax hoaks hoaxes hoax_news"
        " false salah keliru fake palsu fake_news berita_palsu berita_bohong bohong misleading"
        " menyesatkan konten_menyesatkan pants_on_fire pants_fire mostly_false incorrect 1 yes ya"
    ),
    "reliable": (
        "reliable valid fakta fact benar true correct real asli mostly_true accurate akurat"
        " berita_benar not_hoax bukan_hoaks 0 no tidak"
    ),
}
DEFAULT_MAP = {norm_label(n): cls for cls, names in _NAMES.items() for n in names.split()}
SATIRE = ("satire", "satir", "parody", "parodi")


def map_verdict(label: str, label_map: dict[str, str], satire_is_misinfo: bool) -> str | None:
    key = norm_label(label)
    if key in label_map:
        code = norm_label(label_map[key])
        return code if code in CLASSES else DEFAULT_MAP.get(code)
    if key in SATIRE:
        return "misinfo" if satire_is_misinfo else None
    return DEFAULT_MAP.get(key)


def roc_auc(gold: list[str], score: list[float], positive: str = "misinfo") -> float | None:
    """Rank-based AUC (Mann-Whitney U), ties counted half; None without both classes."""
    pairs = sorted(zip(score, gold, strict=True), key=lambda p: p[0])
    n_pos = sum(1 for g in gold if g == positive)
    n_neg = len(gold) - n_pos
    if not n_pos or not n_neg:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # average 1-based rank of the tie group
        rank_sum += mid * sum(1 for k in range(i, j) if pairs[k][1] == positive)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def map_test_verdict(label: str, label_map: dict[str, str], satire_is_misinfo: bool) -> str | None:
    """A test verdict read as the text model's trainer reads it, else through ``map_verdict``."""
    from discourse.transform.misinfo_train import verdict_is_false

    if norm_label(label) not in label_map:
        is_false = verdict_is_false(label)
        if is_false is not None:
            return "misinfo" if is_false else "reliable"
    return map_verdict(label, label_map, satire_is_misinfo)


def train_text_model(train_csv: Path, work: Path, name: str | None, project: Path | None) -> dict[str, Any]:
    """Train the text model into the home ``build_models`` will build in (``work/home``)."""
    from discourse.settings import load_settings
    from discourse.transform.misinfo_train import train_misinfo

    overrides: dict[str, Any] = {"home": work / "home", "dbt_threads": 2}
    if project is not None:
        overrides["dbt_project_dir"] = project
    return train_misinfo(load_settings(env={}, **overrides), train_csv, name)


def evaluate(rows: list[dict[str, str]], work: Path, positive_levels: set[str],
             project: Path | None = None, text_model: bool = False) -> dict[str, Any]:
    warehouse, seconds = build_models(rows, work, SELECT, project)
    found = {uid: (float(s or 0), lvl or "none", list(r or [])) for uid, s, lvl, r in query(warehouse, SQL)}
    results = by_row(rows, found, (0.0, "none", []))
    gold = [r["verdict"] for r in rows]
    pred = ["misinfo" if lvl in positive_levels else "reliable" for _, lvl, _ in results]
    out = scores(gold, pred, CLASSES)
    out["roc_auc"] = roc_auc(gold, [s for s, _, _ in results])
    if text_model:
        probs = dict(query(warehouse, TEXT_SQL))
        text_p = [float(p) for p in by_row(rows, probs, 0.0)]
        out["text_roc_auc"] = roc_auc(gold, text_p)
        out["text_fired"] = sum(
            1 for _, _, rs in results if any(r.startswith("wording resembles claims rated false") for r in rs)
        )
    out["levels"] = {c: dict(Counter(lvl for g, (_, lvl, _) in zip(gold, results, strict=True) if g == c))
                     for c in CLASSES}
    reasons: Counter[str] = Counter()
    for g, p, (_, _, rs) in zip(gold, pred, results, strict=True):
        if g == p == "misinfo":
            for reason in rs:
                # the kind of reason: quoted cues, names and numbers folded
                reasons[re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", reason))[:100]] += 1
    out["top_reasons_caught"] = reasons.most_common(10)
    out["build_seconds"] = round(seconds, 1)
    out["errors"] = [
        {"text": r["text"][:200], "gold": g, "level": lvl, "score": s}
        for r, g, (s, lvl, _) in zip(rows, gold, results, strict=True)
        if (g == "misinfo") != (lvl in positive_levels)
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap)
    ap.add_argument("--positive-levels", default="medium,high",
                    help="risk levels counted as predicting misinformation (default: medium,high)")
    ap.add_argument("--satire-is-misinfo", action="store_true",
                    help="count satire/parody verdicts as misinfo")
    ap.add_argument("--train", type=Path, metavar="TRAIN.csv",
                    help="train the text model on this CSV first (text,label: true/false verdicts)")
    ap.add_argument("--name", help="the training set's name in the reasons (default: the file's stem)")
    a = ap.parse_args(argv)
    missing = inputs_missing([*a.inputs, *([str(a.train)] if a.train else [])])
    if missing:
        print(f"skipped: {', '.join(map(str, missing))} not found (labelled sets are not in the repository)")
        return 0
    try:
        label_map = parse_label_map(a.label_map)
        rows = read_inputs(a.inputs, a.text_column, a.label_column, a.id_column)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown: Counter[str] = Counter()
    kept = []
    mapper = map_test_verdict if a.train else map_verdict
    for r in rows:
        v = mapper(r["label"], label_map, a.satire_is_misinfo)
        if v is None:
            unknown[r["label"]] += 1
            continue
        kept.append({**r, "verdict": v})
    if unknown:
        print("verdicts left out (map them with --label-map): "
              + ", ".join(f"{k!r} {n}" for k, n in unknown.most_common()))
    if not kept:
        print("error: no row has a usable verdict", file=sys.stderr)
        return 2
    levels = {x.strip() for x in a.positive_levels.split(",") if x.strip()}
    with tempfile.TemporaryDirectory(prefix="eval-misinfo-") as tmp:
        training = None
        if a.train:
            try:
                training = train_text_model(a.train, Path(tmp), a.name, a.project_dir)
            except Exception as exc:  # noqa: BLE001 - reported as the harness's error
                print(f"error: training on {a.train} failed: {exc}", file=sys.stderr)
                return 2
        res = evaluate(kept, Path(tmp), levels, a.project_dir, text_model=training is not None)
    auc = res["roc_auc"]
    if training is not None:
        res["training"] = training
        print(f"text model trained on {a.train}: {training['rows_used']} rows used "
              f"({training['rows_false']} false, {training['rows_true']} true), {training['rows_skipped']} "
              f"skipped, vocabulary {training['vocabulary']}, cross-validated AUC {training['cv_auc']:.3f}")
        for reason, info in training["skipped"].items():
            print(f"  skipped {info['rows']} row(s): {reason} (rows {', '.join(map(str, info['first']))}...)")
        t_auc = res["text_roc_auc"]
        print("text model probability on the test rows: ROC AUC "
              + (f"{t_auc:.3f}" if t_auc is not None else "n/a (one class only)")
              + f"; its reason fired on {res['text_fired']} of {res['n']} rows")
    print(render("misinformation risk", res,
                 f"ROC AUC {auc:.3f}" if auc is not None else "ROC AUC n/a (one class only)"))
    for c, dist in res["levels"].items():
        print(f"  levels of gold {c}: " + ", ".join(f"{k} {v}" for k, v in sorted(dist.items())))
    if res["top_reasons_caught"]:
        print("  reasons given for the hoaxes caught: "
              + "; ".join(f"{r} ({n})" for r, n in res["top_reasons_caught"]))
    for e in res["errors"][: a.errors]:
        print(f"  [{e['gold']} -> {e['level']} {e['score']:.2f}] {e['text']}")
    if a.json:
        a.json.write_text(json.dumps({k: v for k, v in res.items()}, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
