"""Accuracy of the project's SQL emotion (``emotion_label``) against labelled tweets.

Three figures, each macro-F1 over the classes the gold set has (a prediction outside them, e.g.
``surprise`` on a set without it, counts as a miss):

1. **shipped, Indonesian**: the shipped lexicon and rules on every row of the Indonesian
   public-opinion set (``id_public_opinion/*Data.csv``: tab-separated ``Tweet``/``Label``; Anger,
   Fear, Joy, Love, Sad, Neutral → anger, fear, joy, love, sadness, neutral);
2. **shipped, English**: the same on TweetEval emotion's validation split
   (``tweeteval_emotion/val_{text,labels}.txt`` with ``mapping.txt``; anger, joy, sadness as they are,
   optimism → joy by default, ``--optimism love`` maps it to love/trust instead);
3. **trained, Indonesian**: an overlay trained (``discourse.transform.emotion_train.train_overlay``) on
   a stratified ``--train-share`` of the Indonesian set (``--seed``), scored on the held-out rest; the
   shipped figure on the same held-out rows is printed beside it. ``--english-train`` also trains on
   TweetEval's train split and scores its validation split.

The rows are written as a small Parquet lake in a temporary home and the real dbt models are built over
it (``dbt build --select +int_posts_scored_emotion``, tests included), so tokenisation, lexicon and
rules are exactly the nightly run's. Both development sets' licences forbid shipping anything derived
from them: the figures are measurements only; nothing is written into the repository.

    uv run python bench/eval_emotion.py                         # ../shared/data/dev/emotion
    uv run python bench/eval_emotion.py --data DIR --json out.json --errors 20
    uv run python bench/eval_emotion.py --csv labelled.csv      # any CSV with text,label

Exits 0 with a message when the data are absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evalkit import render, scores  # noqa: E402

from discourse.transform.emotion_train import (  # noqa: E402
    LABELS,
    read_emotion_labelled,
    score_emotion_labelled,
    train_overlay,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "emotion"
ID_LABELS = {"anger": "anger", "fear": "fear", "joy": "joy", "love": "love", "sad": "sadness",
             "neutral": "neutral"}


def read_indonesian(folder: Path) -> list[dict[str, str]]:
    """Every ``*Data.csv`` of the Indonesian set, labels mapped onto ours."""
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("*Data.csv")):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for n, rec in enumerate(csv.DictReader(fh, delimiter="\t"), start=1):
                text = (rec.get("Tweet") or "").strip()
                label = ID_LABELS.get((rec.get("Label") or "").strip().lower())
                if text and label:
                    rows.append({"id": f"{path.stem}:{n}", "text": text, "label": label})
    return rows


def read_tweeteval(folder: Path, split: str, optimism: str) -> list[dict[str, str]]:
    """TweetEval emotion's ``split`` (train or val), labels mapped onto ours."""
    names = {}
    for line in (folder / "mapping.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            idx, name = line.split("\t", 1)
            names[idx.strip()] = name.strip()
    ours = {"anger": "anger", "joy": "joy", "sadness": "sadness", "optimism": optimism}
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
    rows = []
    for n, (text, label) in enumerate(zip(texts, labels, strict=False), start=1):
        if text.strip() and label.strip():
            rows.append({"id": f"{split}:{n}", "text": text.strip(), "label": ours[names[label.strip()]]})
    return rows


def stratified_split(rows: list[dict[str, str]], share: float, seed: int) -> tuple[list, list]:
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted({r["label"] for r in rows}):
        part = [r for r in rows if r["label"] == label]
        rng.shuffle(part)
        cut = round(len(part) * share)
        train += part[:cut]
        test += part[cut:]
    return train, test


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "label"])
        for r in rows:
            w.writerow([r["id"], r["text"], r["label"]])


def evaluate(name: str, rows: list[dict[str, str]], pred: list[str], errors: int = 0,
             terms: list[list[str]] | None = None) -> dict[str, Any]:
    gold = [r["label"] for r in rows]
    classes = [c for c in LABELS if c in set(gold)]
    result = scores(gold, pred, classes)
    result["predicted"] = dict(Counter(pred))
    print(render(name, result))
    if errors:
        shown = 0
        for i, (r, p) in enumerate(zip(rows, pred, strict=True)):
            if r["label"] != p and shown < errors:
                shown += 1
                extra = f"  {terms[i]}" if terms else ""
                print(f"    gold {r['label']:<8} pred {p:<8} {r['text'][:110]!r}{extra}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder with id_public_opinion/ and tweeteval_emotion/ (default: %(default)s)")
    parser.add_argument("--csv", type=Path, action="append", default=[],
                        help="also score this CSV (text,label; our labels or their synonyms)")
    parser.add_argument("--optimism", choices=("joy", "love"), default="joy",
                        help="our class for TweetEval's optimism (default: joy)")
    parser.add_argument("--train-share", type=float, default=0.8, help="Indonesian share to train on")
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified split")
    parser.add_argument("--no-train", action="store_true", help="only the shipped figures")
    parser.add_argument("--english-train", action="store_true",
                        help="also train on TweetEval train and score its validation split")
    parser.add_argument("--project-dir", type=Path, help="another dbt project (default: the repository's)")
    parser.add_argument("--errors", type=int, default=0, metavar="N",
                        help="print N misclassified texts per set")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    id_dir, en_dir = args.data / "id_public_opinion", args.data / "tweeteval_emotion"
    sets: dict[str, list[dict[str, str]]] = {}
    if id_dir.is_dir():
        sets["id"] = read_indonesian(id_dir)
    if (en_dir / "val_text.txt").is_file():
        sets["en_val"] = read_tweeteval(en_dir, "val", args.optimism)
    for path in args.csv:
        if path.is_file():
            sets[path.name] = read_emotion_labelled(path)
        else:
            print(f"skipped: {path} not found")
    if not sets:
        print(f"skipped: no labelled emotion data in {args.data} (not part of the repository)")
        return 0
    report: dict[str, Any] = {"data": str(args.data), "sets": {k: len(v) for k, v in sets.items()}}

    with tempfile.TemporaryDirectory(prefix="eval_emotion_") as tmp_name:
        tmp = Path(tmp_name)
        # 1–2. the shipped lexicon: one build over every set
        everything = [r for rows in sets.values() for r in rows]
        shipped = score_emotion_labelled(everything, tmp / "shipped", project=args.project_dir)
        report["seconds_dbt_build_shipped"] = round(shipped["seconds"], 2)
        start, by_set = 0, {}
        for name, rows in sets.items():
            pred = shipped["labels"][start : start + len(rows)]
            terms = shipped["terms"][start : start + len(rows)]
            by_set[name] = pred
            report[f"shipped_{name}"] = evaluate(f"shipped lexicon, {name}", rows, pred, args.errors, terms)
            start += len(rows)

        # 3. trained on a split of the Indonesian set, scored on the held-out rest
        trainings = []
        if not args.no_train and "id" in sets:
            trainings.append(("id", *stratified_split(sets["id"], args.train_share, args.seed)))
        if args.english_train and (en_dir / "train_text.txt").is_file() and "en_val" in sets:
            trainings.append(("en", read_tweeteval(en_dir, "train", args.optimism), sets["en_val"]))
        for name, train, test in trainings:
            from discourse.settings import load_settings

            train_csv = tmp / f"{name}_train.csv"
            write_csv(train, train_csv)
            overlay = tmp / f"{name}_overlay.parquet"
            settings = load_settings(env={}, home=tmp / f"{name}_train_home")
            summary = train_overlay(settings, train_csv, overlay, project=args.project_dir)
            print(f"overlay trained on {len(train)} {name} rows:", json.dumps(summary))
            held = score_emotion_labelled(test, tmp / f"{name}_held", overlay, args.project_dir)
            report[f"trained_{name}"] = {
                "training": summary,
                "train_rows": len(train),
                "test_rows": len(test),
                **evaluate(f"trained overlay, {name} held-out", test, held["labels"], args.errors,
                           held["terms"]),
            }
            if name == "id":
                ids = {r["id"]: i for i, r in enumerate(sets["id"])}
                base = [by_set["id"][ids[r["id"]]] for r in test]
                report["shipped_id_held_out"] = evaluate("shipped lexicon, id held-out", test, base)

    print("\nsummary (macro-F1):")
    for key in ("shipped_id", "shipped_en_val", "trained_id", "shipped_id_held_out", "trained_en"):
        if key in report:
            print(f"  {key:<22} {report[key]['macro_f1']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
