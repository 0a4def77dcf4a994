"""Accuracy of the project's topics (``primary_topic``, ``topics``) against a topic-labelled CSV.

The CSV needs a text column and a gold category column (``text``/``label`` unless overridden);
``LABEL=CSV`` gives every row of a file one gold label. Gold categories are mapped onto the taxonomy's
``topic_id`` values (seed ``topic_taxonomy``): each ``topic_id`` and its Indonesian and English labels
stand for themselves, and a built-in map takes the usual news-category names in both languages
(politik/politics, ekonomi/bisnis/economy/business/finance, olahraga/sport, hiburan/selebriti/
entertainment, teknologi/tekno/sains/tech/sci-tech, kesehatan/health, pendidikan/education,
hukum/kriminal/crime, bencana/lingkungan/environment, hoaks/hoax, ...). ``--label-map`` adds or
overrides entries (``"sport=sports,tekno=science_technology"`` or a two-column CSV). Labels that map
to nothing are reported and left out of the scores (``--unknown-as-other``: scored as ``other``,
i.e. no topic expected, for categories the taxonomy does not cover such as automotive).

``--coverage-only`` needs no labels: it reports how many texts get any topic and the distribution of
primary topics. ``--parallel`` takes two files that translate each other row by row (same ids, e.g.
NusaX's Indonesian and English files) and reports how often both sides get the same topics: a
bilingual taxonomy should not depend on the language a post is written in, and the topics found on
one side only point at missing keywords.

The rows are written as a small Parquet lake (platform ``generic``) in a temporary home and the real
dbt models are built over it (``dbt build --select +int_posts_tagged_topics``, tests included), so the
keywords, weights and thresholds are exactly the nightly run's. Reported: accuracy and macro-F1 of
``primary_topic`` (``other`` when no topic matched) over the gold classes, per-class
precision/recall/F1 and the confusion matrix, the share of texts whose gold topic is among their
``topics`` (hit@any), and coverage (the share of texts with any topic, overall and per gold class).

    uv run python bench/eval_topics.py headlines.csv --label-column category
    uv run python bench/eval_topics.py news.csv --label-map "news=politics_government" --json out.json
    uv run python bench/eval_topics.py --coverage-only ../shared/data/dev/sentiment/nusax_english_valid.csv
    uv run python bench/eval_topics.py --coverage-only --parallel nusax_indonesian_train.csv \
        nusax_english_train.csv

Exits 0 with a message when an input is absent (the labelled sets are not part of the repository).
"""

from __future__ import annotations

import argparse
import csv
import json
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

SELECT = "+int_posts_tagged_topics"
SQL = "select post_uid, primary_topic, topics, topic_terms from intermediate.int_posts_tagged_topics"

# Usual category names of labelled news and social-media sets, in Indonesian and English.
_NAMES = {
    "politics_government": (
        "politik politics political pemerintahan government pemerintah pemilu election elections"
        " politik_pemerintahan politics_government government_politics politik_dan_pemerintahan"
        " kebijakan_publik"
    ),
    "economy": (
        "ekonomi economy economics economic bisnis business finance financial finansial keuangan"
        " money uang market markets pasar ekbis ekonomi_bisnis bisnis_ekonomi economy_business"
        " business_economy business_finance ekonomi_keuangan ekonomi_dan_bisnis"
        " ekonomi_dan_keuangan finance_economy money_finance"
    ),
    "sports": (
        "olahraga olah_raga sport sports sepakbola sepak_bola football soccer bola olahraga_sepakbola"
    ),
    "entertainment": (
        "hiburan entertainment selebriti selebritas seleb celebrity celebrities showbiz film"
        " films movie movies musik music hiburan_selebriti entertainment_celebrity"
        " arts_entertainment entertainment_arts infotainment"
    ),
    "science_technology": (
        "teknologi technology tech tekno sains science sci/tech sci_tech scitech sci_and_tech"
        " science_tech sains_teknologi sains_dan_teknologi science_technology"
        " science_and_technology iptek inet gadget tekno_sains technology_science"
    ),
    "health": "kesehatan health sehat medis medical health_medical kesehatan_medis",
    "education": "pendidikan education edukasi pendidikan_edukasi education_schools",
    "law_crime": (
        "hukum kriminal kriminalitas law crime legal hukum_kriminal law_crime crime_law"
        " hukum_dan_kriminal peristiwa_hukum"
    ),
    "disaster_environment": (
        "bencana bencana_alam lingkungan lingkungan_hidup environment environmental disaster"
        " disasters climate iklim cuaca weather bencana_lingkungan"
    ),
    "misinformation": (
        "hoaks hoax hoaxes misinformasi disinformasi misinformation disinformation fake_news"
        " berita_palsu berita_bohong"
    ),
    "cybercrime_safety": (
        "kejahatan_siber kejahatan_dunia_maya cybercrime cyber_crime cybersecurity cyber_security"
        " keamanan_siber online_safety keamanan_daring"
    ),
    "mental_health": "kesehatan_mental mental_health wellbeing kesejahteraan_mental",
    "careers_jobs": (
        "karier karir career careers jobs job lowongan lowongan_kerja pekerjaan employment"
        " recruitment rekrutmen"
    ),
    "volunteering_community": (
        "relawan kerelawanan volunteer volunteering komunitas community sosial_kemanusiaan"
    ),
    "personal_branding": "personal_branding branding_diri citra_diri self_presentation",
    "business_customer_care": (
        "customer_care customer_service layanan_pelanggan keluhan_pelanggan complaint complaints keluhan"
    ),
    "food_drink": (
        "makanan minuman kuliner food drink drinks food_drink food_and_drink food_&_dining"
        " food_dining dining restaurant restaurants restoran makanan_minuman makanan_dan_minuman"
    ),
    "travel_tourism": (
        "perjalanan wisata pariwisata travel tourism travel_tourism travel_&_adventure"
        " travel_adventure travel_and_tourism perjalanan_wisata perjalanan_dan_wisata"
    ),
    "other": "other others lainnya lain_lain none tidak_ada",
}
DEFAULT_MAP = {norm_label(name): topic for topic, names in _NAMES.items() for name in names.split()}


def taxonomy(project: Path | None = None) -> dict[str, str]:
    """Each topic's id and its Indonesian and English labels (lookup form) -> topic_id."""
    if project is None:
        from discourse.transform import dbt_project_dir

        project = dbt_project_dir()
    out: dict[str, str] = {}
    with open(Path(project) / "seeds" / "topic_taxonomy.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for key in ("topic_id", "label_id", "label_en"):
                if row.get(key):
                    out.setdefault(norm_label(row[key]), row["topic_id"])
    return out


def map_label(label: str, label_map: dict[str, str], topics: dict[str, str]) -> str | None:
    """A gold category as a topic_id, or None when it maps to nothing."""
    key = norm_label(label)
    code = label_map.get(key) or topics.get(key) or DEFAULT_MAP.get(key)
    if code is None:
        return None
    code_key = norm_label(code)
    return topics.get(code_key) or DEFAULT_MAP.get(code_key)


def coverage_summary(predicted: list[tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    n = len(predicted)
    with_topic = sum(1 for _, topics, _ in predicted if topics)
    return {
        "n": n,
        "coverage": with_topic / n if n else 0.0,
        "mean_topics": sum(len(t) for _, t, _ in predicted) / n if n else 0.0,
        "primary_topics": dict(Counter(p for p, _, _ in predicted).most_common()),
        "top_terms": dict(Counter(t for _, _, terms in predicted for t in terms).most_common(25)),
    }


def evaluate(rows: list[dict[str, str]], predicted: list[tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    gold = [r["gold"] for r in rows]
    primary = [p for p, _, _ in predicted]
    classes = sorted(set(gold), key=lambda c: (c == "other", c))
    result = scores(gold, primary, classes)
    result["hit_any"] = sum(1 for g, (_, t, _) in zip(gold, predicted, strict=True) if g in t) / len(gold)
    result["coverage_by_class"] = {
        c: sum(1 for g, (_, t, _) in zip(gold, predicted, strict=True) if g == c and t) / gold.count(c)
        for c in classes
    }
    return result


def parallel_agreement(
    rows: list[dict[str, str]], predicted: list[tuple[str, list[str], list[str]]]
) -> dict[str, Any]:
    """Topic agreement between the two input files' rows paired by id (translations of each other)."""
    files = list(dict.fromkeys(r["file"] for r in rows))
    if len(files) != 2:
        raise EvalError("--parallel needs exactly two input files")
    side = [{r["id"]: p for r, p in zip(rows, predicted, strict=True) if r["file"] == f} for f in files]
    ids = [i for i in side[0] if i in side[1]]
    if not ids:
        raise EvalError("--parallel: the two files share no id")
    same_primary = sum(1 for i in ids if side[0][i][0] == side[1][i][0])
    jaccard = []
    only: dict[str, Counter[str]] = {files[0]: Counter(), files[1]: Counter()}
    for i in ids:
        a, b = set(side[0][i][1]), set(side[1][i][1])
        jaccard.append(len(a & b) / len(a | b) if a | b else 1.0)
        only[files[0]].update(a - b)
        only[files[1]].update(b - a)
    return {
        "files": files,
        "pairs": len(ids),
        "same_primary": same_primary / len(ids),
        "mean_jaccard": sum(jaccard) / len(ids),
        "coverage": {f: sum(1 for i in ids if s[i][1]) / len(ids) for f, s in zip(files, side, strict=True)},
        "topic_only_in": {f: dict(c.most_common()) for f, c in only.items()},
        "disagreements": [
            (i, side[0][i][0], side[1][i][0], side[0][i][2][:3], side[1][i][2][:3])
            for i in ids
            if side[0][i][0] != side[1][i][0]
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--coverage-only", action="store_true", help="no gold labels: coverage and distribution"
    )
    parser.add_argument(
        "--unknown-as-other",
        action="store_true",
        help="score gold labels no map knows as 'other' (no topic expected) instead of leaving them out",
    )
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="two inputs that translate each other row by row (same ids): topic agreement between them",
    )
    args = parser.parse_args(argv)
    missing = inputs_missing(args.inputs)
    if missing:
        names = ", ".join(map(str, missing))
        print(f"skipped: {names} not found (labelled sets are not part of the repository)")
        return 0
    try:
        label_map = parse_label_map(args.label_map)
        rows = read_inputs(
            args.inputs,
            args.text_column,
            args.label_column,
            args.id_column,
            need_label=not args.coverage_only,
        )
    except EvalError as exc:
        raise SystemExit(str(exc)) from exc
    topics = taxonomy(args.project_dir)
    unknown: Counter[str] = Counter()
    if args.coverage_only:
        kept = rows
    else:
        for r in rows:
            r["gold"] = map_label(r["label"], label_map, topics)
            if r["gold"] is None:
                unknown[r["label"]] += 1
                if args.unknown_as_other:
                    r["gold"] = "other"
        kept = [r for r in rows if r["gold"] is not None]
        if unknown and args.unknown_as_other:
            print(
                f"{sum(unknown.values())} row(s) with unknown gold labels scored as 'other': {dict(unknown)}"
            )
        elif unknown:
            print(
                f"{sum(unknown.values())} row(s) with unknown gold labels left out (see --label-map): "
                f"{dict(unknown.most_common(20))}"
            )
        if not kept:
            raise SystemExit("no row has a usable gold label (see --label-map)")
    with tempfile.TemporaryDirectory(prefix="eval_topics_") as tmp:
        warehouse, seconds = build_models(kept, Path(tmp), SELECT, args.project_dir)
        found = {uid: (p, list(t), list(terms)) for uid, p, t, terms in query(warehouse, SQL)}
    predicted = by_row(kept, found, ("other", [], []))
    report: dict[str, Any] = {
        "task": "topic",
        "inputs": args.inputs,
        "n_rows": len(rows),
        "unknown_labels": dict(unknown),
        "seconds_dbt_build": seconds,
    }
    summary = coverage_summary(predicted)
    if not args.coverage_only:
        result = evaluate(kept, predicted)
        report.update(result)
        print(
            render("project topics (dbt " + SELECT + ", primary_topic)", result, f"dbt build {seconds:.1f} s")
        )
        print(f"  gold topic among the post's topics (hit@any): {result['hit_any']:.3f}")
        print(
            "  coverage per gold class: "
            + ", ".join(f"{c}: {v:.2f}" for c, v in result["coverage_by_class"].items())
        )
    report["coverage"] = summary["coverage"]
    report["mean_topics"] = summary["mean_topics"]
    report["primary_topics"] = summary["primary_topics"]
    report["top_terms"] = summary["top_terms"]
    print(
        f"coverage (texts with any topic): {summary['coverage']:.3f} of {summary['n']}"
        f"  (mean topics per text {summary['mean_topics']:.2f}; dbt build {seconds:.1f} s)"
    )
    print("  primary topics: " + ", ".join(f"{t}: {n}" for t, n in summary["primary_topics"].items()))
    print("  most matched terms: " + ", ".join(f"{t} ({n})" for t, n in summary["top_terms"].items()))
    if args.parallel:
        try:
            agree = parallel_agreement(kept, predicted)
        except EvalError as exc:
            raise SystemExit(str(exc)) from exc
        report["parallel"] = agree
        a, b = agree["files"]
        print(
            f"parallel {a} / {b}: {agree['pairs']} pairs, same primary topic {agree['same_primary']:.3f},"
            f" mean Jaccard of topic sets {agree['mean_jaccard']:.3f}, coverage "
            + " / ".join(f"{v:.3f}" for v in agree["coverage"].values())
        )
        for f, topics_only in agree["topic_only_in"].items():
            print(f"  topics only in {f}: " + ", ".join(f"{t}: {n}" for t, n in topics_only.items()))
        for i, pa, pb, ta, tb in agree["disagreements"][: args.errors]:
            print(f"    id {i}: {pa} {ta} / {pb} {tb}")
    if args.errors and not args.coverage_only:
        wrong = [(r, p) for r, p in zip(kept, predicted, strict=True) if p[0] != r["gold"]]
        print(f"  first {min(args.errors, len(wrong))} of {len(wrong)} errors (gold -> primary [terms]):")
        for r, (p, _, terms) in wrong[: args.errors]:
            print(f"    {r['gold']} -> {p} {terms[:4]}: {r['text'][:120]!r}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
