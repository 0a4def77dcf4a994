"""Accuracy of the project's per-post language (``lang``) against a language-labelled CSV.

The CSV needs a text column and a gold language column (``text``/``label`` unless overridden), or
give a whole file one gold label with ``LABEL=CSV`` (e.g. ``id=nusax_indonesian_valid.csv``). Gold
labels are mapped onto the project's classes ``id``, ``en``, ``mixed`` and ``other``: a built-in map
takes the usual names (``id``/``ind``/``indonesian``, ``en``/``eng``/``english``, ``mixed``/``mix``/
``code-mixed``/``cs``/``id-en``, ``other``/``und``) and any other two- or three-letter code counts as
``other``; ``--label-map`` adds or overrides entries (``"lang1=id,lang2=en,ne=other"``). Labels that map
to nothing are reported and left out of the scores.

Token-level sets: ``--token-tags COLUMN`` derives each sentence's gold label from that column's tags
(separated by spaces or commas, a Python/JSON list form is fine): tags are mapped as above, a text with
at least ``--mix-min-tokens`` Indonesian and as many English tokens is ``mixed`` (with
``--mix-min-share 0.2``, only when the minority language is also at least 20% of the Indonesian and
English tokens), otherwise the language with more tokens, otherwise ``other``.

The rows are written as a small Parquet lake (platform ``generic``, no declared language unless
``--declared-column``) in a temporary home and the real dbt models are built over it (``dbt build
--select +int_posts_detected_lang``, tests included), so tokenisation, fastText detection, marker words
and the code-mix rule are exactly the nightly run's. Predicted codes other than id/en/mixed count as
``other`` (``--keep-codes ms,jv,su`` scores those as classes of their own); the raw codes behind each
gold class are listed too (e.g. Indonesian detected as ``ms``).
``--max-words N`` keeps only each text's first N words: short posts are where detection is hardest.

    uv run python bench/eval_language.py id=../shared/data/dev/sentiment/nusax_indonesian_valid.csv \\
        en=../shared/data/dev/sentiment/nusax_english_valid.csv
    uv run python bench/eval_language.py tweets.csv --label-column lang --label-map "ID=id,EN=en,MIX=mixed"
    uv run python bench/eval_language.py cm.csv --token-tags tags --label-map "lang1=id,lang2=en" \\
        --json out.json

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

CLASSES = ("id", "en", "mixed", "other")
SELECT = "+int_posts_detected_lang"

_NAMES = {
    "id": "id in ind indonesian indonesia bahasa_indonesia indo bahasa",
    "en": "en eng english inggris bahasa_inggris",
    "mixed": (
        "mixed mix code_mixed codemixed code_mix codemix cm cs code_switched code_switching id_en en_id"
        " ind_eng eng_ind idn_eng campur campuran mixed_id_en mixed_en_id id+en en+id"
    ),
    "other": "other others oth lainnya und unk unknown zxx mul",
}
DEFAULT_MAP = {name: code for code, names in _NAMES.items() for name in names.split()}

SQL = "select post_uid, lang, lang_method from intermediate.int_posts_detected_lang"


def map_label(label: str, label_map: dict[str, str], keep: tuple[str, ...] = ()) -> str | None:
    """A gold label as one of CLASSES (or a ``keep`` code), or None when it maps to nothing."""
    key = norm_label(label)
    code = label_map.get(key) or DEFAULT_MAP.get(key)
    if code is None and re.fullmatch(r"[a-z]{2,3}", key):
        code = key
    if code is None:
        return None
    code = norm_label(code)
    code = DEFAULT_MAP.get(code, code)
    if code in CLASSES or code in keep:
        return code
    return "other" if re.fullmatch(r"[a-z]{2,3}", code) else None


def label_from_tags(
    tags: str,
    label_map: dict[str, str],
    min_tokens: int = 1,
    keep: tuple[str, ...] = (),
    min_share: float = 0.0,
) -> str | None:
    """A sentence label from token-level tags; None when no tag maps to anything.

    ``mixed`` needs ``min_tokens`` of each language and, with ``min_share``, the minority language at
    least that share of the Indonesian and English tokens.
    """
    counts: Counter[str] = Counter()
    for tag in re.split(r"[\s,;|]+", re.sub(r"[\[\]'\"]", " ", tags or "")):
        if tag:
            c = map_label(tag, label_map, keep)
            if c == "mixed":  # a mixed token (e.g. an Indonesian affix on an English stem) is both
                counts["id"] += 1
                counts["en"] += 1
            elif c:
                counts[c] += 1
    if not counts:
        return None
    if (
        counts["id"] >= min_tokens
        and counts["en"] >= min_tokens
        and min(counts["id"], counts["en"]) >= min_share * (counts["id"] + counts["en"])
    ):
        return "mixed"
    if counts["id"] or counts["en"]:
        return "id" if counts["id"] >= counts["en"] else "en"
    return counts.most_common(1)[0][0]


def project_class(lang: str | None, keep: tuple[str, ...] = ()) -> str:
    """A predicted ``lang`` as a scored class: id, en, mixed, a ``keep`` code, else other."""
    return lang if lang in ("id", "en", "mixed") or (lang and lang in keep) else "other"


def evaluate(
    rows: list[dict[str, str]], predicted: list[tuple[str, str]], keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Scores of ``rows`` (gold in ``row["gold"]``) against ``(lang, lang_method)`` per row."""
    gold = [r["gold"] for r in rows]
    pred = [project_class(lang, keep) for lang, _ in predicted]
    classes = [c for c in (*CLASSES[:3], *keep, "other") if c in gold]
    result = scores(gold, pred, classes)
    # lenient: a mixed text may also be called by either of its languages
    result["lenient_accuracy"] = sum(
        1 for g, p in zip(gold, pred, strict=True) if g == p or (g == "mixed" and p in ("id", "en"))
    ) / len(gold)
    result["predicted_codes"] = {
        g: dict(
            Counter(
                lang for r, (lang, _) in zip(rows, predicted, strict=True) if r["gold"] == g
            ).most_common()
        )
        for g in classes
    }
    result["methods"] = dict(Counter(m for _, m in predicted).most_common())
    by_file: dict[str, Any] = {}
    for f in dict.fromkeys(r["file"] for r in rows):
        idx = [i for i, r in enumerate(rows) if r["file"] == f]
        by_file[f] = {
            "n": len(idx),
            "accuracy": sum(1 for i in idx if gold[i] == pred[i]) / len(idx),
            "predicted": dict(Counter(predicted[i][0] for i in idx).most_common()),
        }
    result["by_file"] = by_file
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--token-tags", metavar="COLUMN", help="derive gold labels from token-level tags")
    parser.add_argument("--mix-min-tokens", type=int, default=1, help="with --token-tags (default: 1)")
    parser.add_argument(
        "--mix-min-share",
        type=float,
        default=0.0,
        help="with --token-tags: mixed needs the minority language at least this share of the id/en"
        " tokens (e.g. 0.2; default: 0, any share)",
    )
    parser.add_argument("--declared-column", help="a column holding the platform's declared language")
    parser.add_argument(
        "--keep-codes",
        metavar="CODES",
        help='score these ISO codes as classes of their own instead of "other" (e.g. "ms,jv,su")',
    )
    parser.add_argument(
        "--max-words",
        type=int,
        metavar="N",
        help="keep only each text's first N words (a stress test: short posts are the hard case)",
    )
    args = parser.parse_args(argv)
    missing = inputs_missing(args.inputs)
    if missing:
        names = ", ".join(map(str, missing))
        print(f"skipped: {names} not found (labelled sets are not part of the repository)")
        return 0
    try:
        label_map = parse_label_map(args.label_map)
        extra = [c for c in (args.token_tags, args.declared_column) if c]
        rows = read_inputs(
            args.inputs,
            args.text_column,
            args.label_column,
            args.id_column,
            extra,
            need_label=not args.token_tags,
        )
    except EvalError as exc:
        raise SystemExit(str(exc)) from exc
    keep = tuple(dict.fromkeys(norm_label(c) for c in (args.keep_codes or "").split(",") if c.strip()))
    unknown: Counter[str] = Counter()
    for r in rows:
        if args.token_tags and r["label"] == "":
            r["gold"] = label_from_tags(
                r[args.token_tags], label_map, args.mix_min_tokens, keep, args.mix_min_share
            )
        else:
            r["gold"] = map_label(r["label"], label_map, keep)
        if r["gold"] is None:
            unknown[r["label"] if not args.token_tags else (r[args.token_tags] or "")[:40]] += 1
    kept = [r for r in rows if r["gold"] is not None]
    if args.max_words:
        for r in kept:
            r["text"] = " ".join(r["text"].split()[: args.max_words])
    if unknown:
        left_out = dict(unknown.most_common(20))
        print(f"{sum(unknown.values())} row(s) with unknown gold labels left out: {left_out}")
    if not kept:
        raise SystemExit("no row has a usable gold label (see --label-map)")
    with tempfile.TemporaryDirectory(prefix="eval_language_") as tmp:
        warehouse, seconds = build_models(kept, Path(tmp), SELECT, args.project_dir, args.declared_column)
        found = {uid: (lang, method) for uid, lang, method in query(warehouse, SQL)}
    predicted = by_row(kept, found, ("und", "none"))
    result = evaluate(kept, predicted, keep)
    report: dict[str, Any] = {
        "task": "language",
        "inputs": args.inputs,
        "n_rows": len(rows),
        "max_words": args.max_words,
        "unknown_labels": dict(unknown),
        "seconds_dbt_build": seconds,
        **result,
    }
    print(render("project lang (dbt " + SELECT + ")", result, f"dbt build {seconds:.1f} s"))
    if "mixed" in result["predicted_codes"]:
        print(f"  lenient accuracy (a mixed text called id or en counts): {result['lenient_accuracy']:.3f}")
    print("  predicted codes per gold class:")
    for g, codes in result["predicted_codes"].items():
        print(f"    {g:<6} " + ", ".join(f"{c}: {n}" for c, n in codes.items()))
    print("  decided by: " + ", ".join(f"{m}: {n}" for m, n in result["methods"].items()))
    if len(result["by_file"]) > 1:
        for f, v in result["by_file"].items():
            print(f"  {f}: accuracy {v['accuracy']:.3f} ({v['n']} texts)")
    if args.errors:
        wrong = [
            (r, p) for r, p in zip(kept, predicted, strict=True) if project_class(p[0], keep) != r["gold"]
        ]
        print(f"  first {min(args.errors, len(wrong))} of {len(wrong)} errors (gold -> lang/method):")
        for r, (lang, method) in wrong[: args.errors]:
            print(f"    {r['gold']} -> {lang}/{method}: {r['text'][:140]!r}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
