"""Shared pieces of the accuracy harness (bench/eval_*.py).

* ``read_rows``: a labelled CSV's rows as ``{"id", "text", "label"}`` (column names overridable).
* ``parse_label_map``: ``"gold=code,gold2=code2"`` or a two-column CSV file into a dict.
* ``build_models``: the rows as a one-batch Parquet lake in a temporary home, then ``dbt build`` of the
  real project over it with the given selection (tests included, ``--indirect-selection cautious`` so
  only tests whose parents are all built run), returning the build warehouse to query.
* ``scores`` and ``render``: accuracy, macro-F1, per-class precision/recall/F1 and the confusion
  matrix for any set of classes, and their text form.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

csv.field_size_limit(1 << 24)


class EvalError(Exception):
    """The labelled CSV or an option is unusable."""


def norm_label(value: str | None) -> str:
    """A gold label's lookup form: stripped, lower case, inner spaces and hyphens as underscores."""
    return "_".join((value or "").strip().lower().replace("-", " ").split())


def read_rows(
    path: Path | str,
    text_column: str = "text",
    label_column: str | None = "label",
    id_column: str = "id",
    extra_columns: Sequence[str] = (),
) -> list[dict[str, str]]:
    """The CSV's rows as ``{"id", "text", "label", *extra_columns}``; rows with no text are skipped.

    Without ``label_column`` every label is ``""``.
    """
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path}: not found")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = set(reader.fieldnames or [])
        missing = {text_column, *([label_column] if label_column else []), *extra_columns} - fields
        if missing:
            raise EvalError(f"{path}: missing column(s) {sorted(missing)} (has {sorted(fields)})")
        rows = []
        for n, row in enumerate(reader, start=1):
            text = row[text_column] or ""
            if not text.strip():
                continue
            out = {
                "id": (row.get(id_column) or str(n)).strip(),
                "text": text,
                "label": (row[label_column] or "").strip() if label_column else "",
            }
            for c in extra_columns:
                out[c] = row[c] or ""
            rows.append(out)
    if not rows:
        raise EvalError(f"{path}: no rows with text")
    return rows


def parse_label_map(spec: str | None) -> dict[str, str]:
    """``"sport=sports, tekno=science_technology"`` or the path of a CSV (``gold,code``, header optional).

    Keys are in ``norm_label`` form; values are kept as given (project codes).
    """
    if not spec:
        return {}
    pairs: list[tuple[str, str]] = []
    path = Path(spec)
    if "=" not in spec and path.is_file():
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for i, rec in enumerate(csv.reader(fh)):
                if len(rec) < 2 or not rec[0].strip():
                    continue
                if i == 0 and norm_label(rec[0]) in {"gold", "label", "from", "source"}:
                    continue
                pairs.append((rec[0], rec[1]))
    else:
        for item in spec.split(","):
            if not item.strip():
                continue
            if "=" not in item:
                raise EvalError(f"--label-map: {item.strip()!r} is not gold=code (or the file is missing)")
            gold, code = item.split("=", 1)
            pairs.append((gold, code))
    return {norm_label(g): code.strip() for g, code in pairs if code.strip()}


def write_lake(posts_dir: Path, rows: Sequence[dict[str, str]], declared_column: str | None = None) -> None:
    """The texts as canonical lake posts of platform ``generic`` (uid ``generic:<i>``), one batch; the
    same lake ``discourse sentiment train`` builds (``lang_declared`` from ``declared_column``)."""
    from discourse.transform.sentiment_train import write_labelled_lake

    write_labelled_lake(posts_dir, rows, declared_column)


def build_models(
    rows: Sequence[dict[str, str]],
    work: Path,
    select: str,
    project: Path | None = None,
    declared_column: str | None = None,
) -> tuple[Path, float]:
    """``dbt build --select <select>`` of the project over ``rows`` in a home under ``work``.

    Returns the build warehouse (a DuckDB file; posts are ``generic:<row index>``) and the seconds the
    build took.
    """
    from discourse.settings import load_settings
    from discourse.transform import dbt_args, run_dbt
    from discourse.transform.reference import prepare_reference

    settings = load_settings(env={}, home=Path(work) / "home", dbt_threads=2)
    write_lake(settings.posts_dir, rows, declared_column)
    prepare_reference(settings)
    started = time.perf_counter()
    args = dbt_args(settings, "build", select, project)
    run_dbt(settings, [*args, "--indirect-selection", "cautious"])
    return Path(settings.build_warehouse), time.perf_counter() - started


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def by_row(rows: Sequence[Any], results: dict[str, Any], default: Any = None) -> list[Any]:
    """``results`` keyed by post uid, as a list in the CSV's row order."""
    return [results.get(f"generic:{i}", default) for i in range(len(rows))]


def scores(
    gold: Sequence[str],
    pred: Sequence[str],
    classes: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 (over ``classes``, default: the gold classes), per-class P/R/F1, confusion.

    The confusion matrix has a row per class and a column per class plus any other predicted value.
    """
    if len(gold) != len(pred):
        raise EvalError("gold and predicted labels differ in length")
    if classes is None:
        classes = sorted(set(gold))
    classes = list(classes)
    columns = classes + sorted(set(pred) - set(classes))
    matrix = {g: {p: 0 for p in columns} for g in sorted(set(classes) | set(gold), key=_order(classes))}
    for g, p in zip(gold, pred, strict=True):
        matrix[g][p] += 1
    per_class = {}
    for c in classes:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    n = len(gold)
    accuracy = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n if n else 0.0
    macro_f1 = sum(v["f1"] for v in per_class.values()) / len(per_class) if per_class else 0.0
    return {"accuracy": accuracy, "macro_f1": macro_f1, "n": n, "per_class": per_class, "confusion": matrix}


def _order(classes: list[str]):
    def key(c: str) -> tuple[int, str]:
        return (classes.index(c), "") if c in classes else (len(classes), c)

    return key


def render(name: str, result: dict[str, Any], extra: str = "") -> str:
    """The text report of a ``scores`` result."""
    width = max([10, *(len(c) + 1 for c in result["confusion"])])
    cell = min(width, 11)  # columns: class names cut to 10 characters
    lines = [
        f"{name}: accuracy {result['accuracy']:.3f}  macro-F1 {result['macro_f1']:.3f}"
        f"  ({result['n']} texts{', ' + extra if extra else ''})"
    ]
    lines.append(f"  {'class':<{width}} precision  recall  f1     support")
    for c, v in result["per_class"].items():
        lines.append(
            f"  {c:<{width}} {v['precision']:>9.3f}  {v['recall']:>6.3f}  {v['f1']:.3f}  {v['support']:>7}"
        )
    columns = list(next(iter(result["confusion"].values()), {}))
    lines.append("  confusion (rows: gold, columns: predicted)")
    lines.append("  " + " " * width + "".join(f"{p[: cell - 1]:>{cell}}" for p in columns))
    for g, row in result["confusion"].items():
        lines.append(f"  {g:<{width}}" + "".join(f"{row[p]:>{cell}}" for p in columns))
    return "\n".join(lines)


def split_input(spec: str) -> tuple[str | None, Path]:
    """``PATH`` or ``LABEL=PATH`` (every row of that file gets gold label LABEL)."""
    if "=" in spec and not Path(spec).exists():
        label, path = spec.split("=", 1)
        return label.strip(), Path(path)
    return None, Path(spec)


def read_inputs(
    specs: Sequence[str],
    text_column: str = "text",
    label_column: str = "label",
    id_column: str = "id",
    extra_columns: Sequence[str] = (),
    need_label: bool = True,
) -> list[dict[str, str]]:
    """Rows of every input (``PATH`` or ``LABEL=PATH``), each with ``file`` set to its file's name."""
    rows: list[dict[str, str]] = []
    for spec in specs:
        fixed, path = split_input(spec)
        if not path.is_file():
            raise EvalError(f"{path}: not found")
        use_label = label_column if fixed is None and need_label else None
        part = read_rows(path, text_column, use_label, id_column, extra_columns)
        for r in part:
            r["file"] = path.name
            if fixed is not None:
                r["label"] = fixed
        rows.extend(part)
    return rows


def inputs_missing(specs: Sequence[str]) -> list[Path]:
    return [p for p in (split_input(s)[1] for s in specs) if not p.is_file()]


def add_common_arguments(parser: Any) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="CSV",
        help="labelled CSV (text,label[,id]); LABEL=CSV gives every row of that file the gold label LABEL",
    )
    parser.add_argument("--text-column", default="text", help="the text column (default: text)")
    parser.add_argument("--label-column", default="label", help="the gold label column (default: label)")
    parser.add_argument("--id-column", default="id", help="the id column, if any (default: id)")
    parser.add_argument(
        "--label-map",
        help='gold labels onto the project\'s codes: "gold=code,gold2=code2" or a CSV file (gold,code); '
        "applied before the built-in map",
    )
    parser.add_argument("--project-dir", type=Path, help="another dbt project (default: the repository's)")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print N misclassified texts")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
