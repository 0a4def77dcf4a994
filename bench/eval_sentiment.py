"""Accuracy of the project's SQL sentiment against a labelled CSV.

The CSV needs a ``text`` and a ``label`` column (negative/neutral/positive; neg/neu/pos and -1/0/1
are accepted too) and may have an ``id``. Its rows are written as a small Parquet lake in a temporary
home and the real dbt models are built over it (``dbt build --select +int_posts_scored_sentiment``, so
tokenisation, lexicons and rules are exactly those of the nightly run, and their tests run too). The
script prints macro-F1 over the three classes, per-class precision/recall/F1 and the confusion matrix,
and the same figures for VADER (vaderSentiment, as shipped) on the same texts as a baseline.

``--overlay CSV`` (repeatable) adds rows (term,weight[,lang]) to the Indonesian lexicon for this
evaluation only: the dbt project is copied to the temporary directory and the overlay merged into the
copy's ``seeds/lexicon_id.csv`` (overlay rows win), so lexicon extensions can be tried without
touching the repository.

    uv run python bench/eval_sentiment.py ../shared/data/dev/sentiment/nusax_indonesian_valid.csv
    uv run python bench/eval_sentiment.py data.csv --overlay extra_terms.csv --json out.json

Exits 0 with a message when the CSV is absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def read_labelled(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{path}: missing column(s) {sorted(missing)}")
        rows = []
        for n, row in enumerate(reader, start=1):
            label = ALIASES.get((row["label"] or "").strip().lower())
            if label is None:
                raise SystemExit(f"{path}: row {n}: unknown label {row['label']!r}")
            rows.append({"id": (row.get("id") or str(n)).strip(), "text": row["text"] or "", "label": label})
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return rows


def write_lake(posts_dir: Path, rows: list[dict[str, str]]) -> None:
    """The labelled texts as canonical posts (platform `generic`), one batch, one partition."""
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
            kind="post",
            hashtags=[],
            mentions=[],
            links=[],
            media_count=0,
            source_file="labelled.csv",
            source_record=i,
            export_format="generic",
            batch_id="eval",
            ingested_at=now,
        )
        records.append(rec)
    out = posts_dir / "platform=generic" / "created_date=2026-01-01" / "eval.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records, schema=POST_SCHEMA), out)


def overlay_project(work: Path, overlays: list[Path]) -> Path:
    """A copy of the dbt project whose lexicon_id seed includes the overlay rows."""
    from discourse.transform import dbt_project_dir

    project = work / "dbt_project"
    shutil.copytree(dbt_project_dir(), project)
    seed = project / "seeds" / "lexicon_id.csv"
    with open(seed, newline="", encoding="utf-8") as fh:
        merged = {r["term"].strip().lower(): r for r in csv.DictReader(fh)}
    for path in overlays:
        with open(path, newline="", encoding="utf-8") as fh:
            for n, r in enumerate(csv.DictReader(fh), start=1):
                try:
                    term, weight = r["term"].strip().lower(), float(r["weight"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise SystemExit(f"{path}: row {n}: need term,weight[,lang]: {exc}") from exc
                merged[term] = {
                    "term": term,
                    "weight": f"{weight:g}",
                    "lang": (r.get("lang") or "id").strip() or "id",
                }
    with open(seed, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["term", "weight", "lang"], lineterminator="\n")
        w.writeheader()
        w.writerows(merged.values())
    return project


def sql_predictions(rows: list[dict[str, str]], work: Path, overlays: list[Path]) -> tuple[list[str], float]:
    import duckdb

    from discourse.settings import load_settings
    from discourse.transform import dbt_args, run_dbt

    settings = load_settings(env={}, home=work / "home", dbt_threads=2)
    write_lake(settings.posts_dir, rows)
    from discourse.reference import prepare_reference

    prepare_reference(settings)
    project = overlay_project(work, overlays) if overlays else None
    started = time.perf_counter()
    # "cautious": only the tests whose parents are all built here
    args = dbt_args(settings, "build", "+int_posts_scored_sentiment", project)
    run_dbt(settings, [*args, "--indirect-selection", "cautious"])
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        got = dict(
            con.execute(
                "select post_uid, sentiment_label from intermediate.int_posts_scored_sentiment"
            ).fetchall()
        )
    finally:
        con.close()
    return [got[f"generic:{i}"] for i in range(len(rows))], seconds


def vader_predictions(rows: list[dict[str, str]]) -> tuple[list[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    out = []
    for row in rows:
        c = analyzer.polarity_scores(row["text"])["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out, time.perf_counter() - started


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="labelled CSV with text,label (and optionally id)")
    parser.add_argument(
        "--overlay",
        type=Path,
        action="append",
        default=[],
        help="extra Indonesian lexicon rows (term,weight[,lang]); repeatable",
    )
    parser.add_argument("--no-vader", action="store_true", help="skip the VADER baseline")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"skipped: {args.csv} not found (labelled sets are not part of the repository)")
        return 0
    for path in args.overlay:
        if not path.is_file():
            raise SystemExit(f"overlay {path}: not found")
    rows = read_labelled(args.csv)
    gold = [r["label"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="eval_sentiment_") as tmp:
        pred, seconds = sql_predictions(rows, Path(tmp), args.overlay)
    report: dict[str, Any] = {
        "file": str(args.csv),
        "n": len(rows),
        "overlays": [str(p) for p in args.overlay],
    }
    report["sql"] = {**scores(gold, pred), "seconds_dbt_build": seconds}
    print(render("project SQL sentiment (dbt)", report["sql"], seconds, len(rows)))
    if not args.no_vader:
        vpred, vseconds = vader_predictions(rows)
        report["vader"] = {**scores(gold, vpred), "seconds": vseconds}
        print(render("VADER baseline", report["vader"], vseconds, len(rows)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
