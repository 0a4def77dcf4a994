"""Sentiment and topic coverage of the project on English tweets (TweetEval emotion as a proxy).

TweetEval's emotion set has no sentiment labels; its four emotions stand in for polarity: joy and
optimism are positive, anger and sadness negative. The project's SQL sentiment (the shipped lexicons
and rules, no overlay) is built over the chosen split (``dbt build --select +int_posts_scored_sentiment
+int_posts_tagged_topics`` in a temporary home, tests included) and reported as:

* **binary F1**: macro-F1 over positive/negative of the tweets the project does not call neutral (a
  neutral answer is no polarity claim; how many there are is reported beside it);
* **F1 with neutral as a miss**: the same over every tweet, a neutral prediction counting as wrong
  for either class;
* **neutral share**: the tweets scored neutral;
* **topic coverage**: the share of tweets that get any topic, and the primary-topic distribution.

Only development splits are read (``val`` by default, ``--split train`` for the larger one); the test
split is never used. The set's licence forbids shipping anything derived from it: the figures are
measurements only, nothing is written into the repository.

    uv run python bench/eval_english_tweets.py                     # ../shared/data/dev/emotion/...
    uv run python bench/eval_english_tweets.py --split train --errors 20 --json out.json

Exits 0 with a message when the data are absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evalkit import build_models, query, render, scores  # noqa: E402

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "emotion" / "tweeteval_emotion"
)
POLARITY = {"joy": "positive", "optimism": "positive", "anger": "negative", "sadness": "negative"}


def read_tweets(folder: Path, split: str) -> list[dict[str, str]]:
    """The split's tweets with their emotion mapped to polarity (``label``) and kept (``emotion``)."""
    names = {}
    for line in (folder / "mapping.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            idx, name = line.split("\t", 1)
            names[idx.strip()] = name.strip()
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
    rows = []
    for n, (text, label) in enumerate(zip(texts, labels, strict=False), start=1):
        emotion = names.get(label.strip(), "")
        if text.strip() and emotion in POLARITY:
            rows.append(
                {"id": f"{split}:{n}", "text": text.strip(), "label": POLARITY[emotion], "emotion": emotion}
            )
    return rows


def polarity_figures(gold: list[str], pred: list[str]) -> dict[str, Any]:
    """Binary F1 over the non-neutral predictions, F1 with neutral as a miss, the neutral count."""
    kept = [(g, p) for g, p in zip(gold, pred, strict=True) if p != "neutral"]
    classes = ["negative", "positive"]
    binary = scores([g for g, _ in kept], [p for _, p in kept], classes) if kept else None
    all_rows = scores(gold, pred, classes)
    neutral = len(gold) - len(kept)
    return {
        "binary_f1": binary["macro_f1"] if binary else 0.0,
        "binary": binary,
        "f1_neutral_as_miss": all_rows["macro_f1"],
        "all": all_rows,
        "neutral": neutral,
        "neutral_share": neutral / len(gold) if gold else 0.0,
        "n": len(gold),
    }


def coverage(primary: list[str]) -> dict[str, Any]:
    with_topic = [p for p in primary if p != "other"]
    return {
        "coverage": len(with_topic) / len(primary) if primary else 0.0,
        "primary_topics": dict(Counter(with_topic).most_common()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the tweeteval_emotion folder")
    parser.add_argument("--split", choices=("val", "train"), default="val", help="development split to score")
    parser.add_argument("--project-dir", type=Path, help="another dbt project (default: the repository's)")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print N misclassified tweets")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if not (args.data / f"{args.split}_text.txt").is_file():
        print(f"skipped: {args.data} has no {args.split} split (labelled sets are not in the repository)")
        return 0
    rows = read_tweets(args.data, args.split)
    with tempfile.TemporaryDirectory(prefix="eval_english_tweets_") as tmp:
        warehouse, seconds = build_models(
            rows, Path(tmp), "+int_posts_scored_sentiment +int_posts_tagged_topics", args.project_dir
        )
        sentiment = {
            uid: (label, terms)
            for uid, label, terms in query(
                warehouse,
                "select post_uid, sentiment_label, sentiment_terms"
                " from intermediate.int_posts_scored_sentiment",
            )
        }
        topics = dict(
            query(warehouse, "select post_uid, primary_topic from intermediate.int_posts_tagged_topics")
        )
    uids = [f"generic:{i}" for i in range(len(rows))]
    gold = [r["label"] for r in rows]
    pred = [sentiment.get(u, ("neutral", []))[0] for u in uids]
    report: dict[str, Any] = {
        "file": str(args.data),
        "split": args.split,
        "seconds_dbt_build": seconds,
        "sentiment": polarity_figures(gold, pred),
        "topics": coverage([topics.get(u, "other") for u in uids]),
    }
    s = report["sentiment"]
    print(
        f"TweetEval emotion {args.split} as polarity (joy+optimism positive, anger+sadness negative): "
        f"{s['n']} tweets, {seconds:.1f} s build"
    )
    print(
        f"  binary F1 over non-neutral predictions {s['binary_f1']:.3f}; neutral {s['neutral']}"
        f" ({s['neutral_share']:.1%}); F1 with neutral as a miss {s['f1_neutral_as_miss']:.3f}"
    )
    if s["binary"]:
        print(render("  non-neutral predictions", s["binary"]))
    t = report["topics"]
    print(f"  topic coverage {t['coverage']:.3f}; primary topics {t['primary_topics']}")
    if args.errors:
        wrong = [
            (r, sentiment.get(u, ("neutral", []))[1])
            for r, u, p in zip(rows, uids, pred, strict=True)
            if p not in (r["label"], "neutral")
        ]
        for r, terms in wrong[: args.errors]:
            other = "negative" if r["label"] == "positive" else "positive"
            print(f"  [{r['emotion']} -> {other}] {list(terms)} | {r['text'][:140]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
