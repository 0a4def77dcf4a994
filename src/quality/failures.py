"""GX validation results → the failure records a ``GateResult`` carries and alerts show.

A failure is a JSON-safe dict: ``expectation``, ``column``, ``kwargs``, ``observed``, ``expected``
(a human-readable statement, ``describe_expected``), ``severity`` (``error`` blocks publish,
``warning`` only alerts), a one-line ``message`` and up to ``SAMPLE_ROWS`` ``sample_rows`` (the key
columns of failing rows).
"""

from __future__ import annotations

import math
from typing import Any

from quality import suites

SAMPLE_ROWS = 5


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _clean(v: Any) -> Any:
    """JSON-safe missing values: GX serialises pandas' NaT/NaN as strings or floats."""
    if v is None or v in ("NaT", "nan", "NaN", "<NA>"):
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else (int(v) if v.is_integer() else v)
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def describe_expected(etype: str, kwargs: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """A human-readable statement of what an expectation wants."""
    if meta and meta.get("expected"):
        return str(meta["expected"])
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if etype == "expect_column_values_to_not_be_null":
        return "not null"
    if etype == "expect_column_values_to_be_unique":
        return "unique"
    if etype == "expect_compound_columns_to_be_unique":
        return f"unique ({', '.join(kwargs.get('column_list', []))})"
    if etype == "expect_column_pair_values_to_be_equal":
        return f"{kwargs.get('column_A')} = {kwargs.get('column_B')}"
    if etype == "expect_column_to_exist":
        return "column present"
    if etype == "expect_column_values_to_match_regex":
        return f"matching /{kwargs.get('regex')}/"
    if etype.endswith("_to_be_in_set"):
        values = list(kwargs.get("value_set") or [])
        shown = ", ".join(_fmt(v) for v in values[:12]) + (", …" if len(values) > 12 else "")
        return f"in {{{shown}}}"
    if etype.endswith("_to_be_between"):
        what = "row count " if etype.startswith("expect_table_row_count") else ""
        if lo is not None and hi is not None:
            return f"{what}between {_fmt(lo)} and {_fmt(hi)}"
        if lo is not None:
            return f"{what}>= {_fmt(lo)}"
        if hi is not None:
            return f"{what}<= {_fmt(hi)}"
    args = {k: v for k, v in kwargs.items() if k != "batch_id"}
    return f"{etype}({args})"


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for v in info.values():
        if isinstance(v, dict) and v.get("raised_exception"):
            return str(v.get("exception_message") or "exception")
    return None


def failure_from(er: dict[str, Any], missing: set[str], relation: str) -> dict[str, Any]:
    """The failure record of one failed expectation result (GX's JSON form).

    ``missing`` are the suite columns absent from ``relation``: an expectation on one of them is
    reported as the missing column rather than as GX's error.
    """
    cfg = er.get("expectation_config") or {}
    etype = cfg.get("type") or cfg.get("expectation_type") or "?"
    kwargs = {k: v for k, v in (cfg.get("kwargs") or {}).items() if k != "batch_id"}
    res = er.get("result") or {}
    column = _column_of(kwargs)
    expected = describe_expected(etype, kwargs, cfg.get("meta"))
    involved = set((column or "").split(",")) - {""}
    gone = sorted(involved & missing)
    observed: dict[str, Any]
    if gone:
        observed = {"error": f"column {', '.join(gone)} missing from {relation}"}
        message = f"{column}: missing from {relation}"
    elif (err := _exception_message(er.get("exception_info"))) is not None:
        observed = {"error": err}
        message = f"{column or etype}: could not be evaluated ({err})"
    elif "unexpected_count" in res:
        observed = {
            "unexpected_count": res.get("unexpected_count"),
            "unexpected_percent": round(float(res.get("unexpected_percent") or 0.0), 4),
            "element_count": res.get("element_count"),
            "unexpected_values": [
                {"value": _clean(c.get("value")), "count": c.get("count")}
                for c in (res.get("partial_unexpected_counts") or [])[:SAMPLE_ROWS]
            ],
        }
        if res.get("missing_count"):
            observed["missing_count"] = res["missing_count"]
        examples = ", ".join(_fmt(v["value"]) for v in observed["unexpected_values"][:3])
        message = (
            f"{column}: {observed['unexpected_count']:,} of {observed['element_count']:,} rows "
            f"({observed['unexpected_percent']:.4g}%) fail, expected {expected}"
            + (f"; e.g. {examples}" if examples else "")
        )
    else:
        observed = {"observed_value": res.get("observed_value")}
        message = f"{column or 'table'}: observed {_fmt(res.get('observed_value'))}, expected {expected}"
    return {
        "expectation": etype,
        "column": column,
        "kwargs": kwargs,
        "observed": observed,
        "expected": expected,
        "severity": suites.expectation_severity(cfg),
        "message": message,
        "sample_rows": [
            {k: _clean(v) for k, v in row.items()}
            for row in (res.get("partial_unexpected_index_list") or [])[:SAMPLE_ROWS]
        ],
    }
