"""Accuracy of the project's SQL sentiment against a labelled CSV.

The CSV needs a ``text`` and a ``label`` column (negative/neutral/positive; neg/neu/pos and -1/0/1
are accepted too) and may have an ``id``. Its rows are written as a small Parquet lake in a temporary
home and the real dbt models are built over it (``dbt build --select +int_posts_scored_sentiment``, so
tokenisation, lexicons and rules are exactly those of the nightly run, and their tests run too). The
script prints macro-F1 over the three classes, per-class precision/recall/F1 and the confusion matrix,
and the same figures for VADER (vaderSentiment, as shipped) on the same texts as a baseline.

``--overlay PARQUET`` evaluates with a trained sentiment overlay (the file written by
``discourse.transform.sentiment_train.train_overlay``); ``--train CSV`` first trains one on that CSV (in a
temporary directory, or at ``--save-overlay PATH``) and evaluates with it. Without either, the shipped
lexicons alone are measured.

    uv run python bench/eval_sentiment.py ../shared/data/dev/sentiment/nusax_indonesian_valid.csv
    uv run python bench/eval_sentiment.py valid.csv --train train.csv --json out.json

Exits 0 with a message when the CSV is absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from discourse.transform.sentiment_train import LABELS, read_labelled, score_labelled, train_overlay


def scores(gold: list[str], pred: list[str]) -> dict[str, Any]:
    matrix = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        matrix[g][p] += 1
    per_class = {}
    for c in LABELS:
        tp = matrix[c][c]
        fp = sum(matrix[g][c] for g in LABELS if g != c)
        fn = sum(matrix[c][p] for p in LABELS if p != c)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    accuracy = sum(matrix[c][c] for c in LABELS) / len(gold)
    macro_f1 = sum(v["f1"] for v in per_class.values()) / len(LABELS)
    return {"macro_f1": macro_f1, "accuracy": accuracy, "per_class": per_class, "confusion": matrix}


def render(name: str, result: dict[str, Any], seconds: float, n: int) -> str:
    lines = [
        f"{name}: macro-F1 {result['macro_f1']:.3f}  accuracy {result['accuracy']:.3f}"
        f"  ({n} texts, {seconds:.2f} s)"
    ]
    lines.append("  class      precision  recall  f1     support")
    for c, v in result["per_class"].items():
        lines.append(
            f"  {c:<10} {v['precision']:>9.3f}  {v['recall']:>6.3f}  {v['f1']:.3f}  {v['support']:>7}"
        )
    lines.append("  confusion (rows: gold, columns: predicted)")
    lines.append("  " + " " * 10 + "".join(f"{p:>10}" for p in LABELS))
    for g in LABELS:
        lines.append(f"  {g:<10}" + "".join(f"{result['confusion'][g][p]:>10}" for p in LABELS))
    return "\n".join(lines)


def vader_predictions(rows: list[dict[str, str]]) -> tuple[list[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    out = []
    for row in rows:
        c = analyzer.polarity_scores(row["text"])["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="labelled CSV with text,label (and optionally id)")
    parser.add_argument("--overlay", type=Path, help="a trained sentiment overlay (Parquet) to use")
    parser.add_argument("--train", type=Path, help="train an overlay on this labelled CSV first")
    parser.add_argument("--save-overlay", type=Path, help="with --train: keep the overlay here")
    parser.add_argument("--project-dir", type=Path, help="another dbt project (default: the repository's)")
    parser.add_argument("--no-vader", action="store_true", help="skip the VADER baseline")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"skipped: {args.csv} not found (labelled sets are not part of the repository)")
        return 0
    if args.overlay and args.train:
        parser.error("--overlay and --train are exclusive")
    if args.overlay and not args.overlay.is_file():
        raise SystemExit(f"overlay {args.overlay}: not found")
    rows = read_labelled(args.csv)
    gold = [r["label"] for r in rows]
    report: dict[str, Any] = {"file": str(args.csv), "n": len(rows)}
    with tempfile.TemporaryDirectory(prefix="eval_sentiment_") as tmp:
        overlay = args.overlay
        if args.train:
            from discourse.settings import load_settings

            settings = load_settings(env={}, home=Path(tmp) / "train_home")
            overlay = args.save_overlay or Path(tmp) / "sentiment_overlay.parquet"
            report["training"] = train_overlay(settings, args.train, overlay, project=args.project_dir)
            print("overlay trained:", json.dumps(report["training"]))
        report["overlay"] = str(overlay) if overlay else None
        scored = score_labelled(rows, Path(tmp) / "eval", overlay, args.project_dir)
    pred, seconds = scored["labels"], scored["seconds"]
    report["sql"] = {**scores(gold, pred), "seconds_dbt_build": seconds}
    name = "project SQL sentiment (dbt" + (", overlay)" if overlay else ")")
    print(render(name, report["sql"], seconds, len(rows)))
    if not args.no_vader:
        vpred, vseconds = vader_predictions(rows)
        report["vader"] = {**scores(gold, vpred), "seconds": vseconds}
        print(render("VADER baseline", report["vader"], vseconds, len(rows)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
