"""Validate a large relation in parts, so a gate's memory does not grow with history.

A gate hands GX a pandas frame (``quality.gates``), and GX copies it when it filters rows: about
1.1 GB of peak RSS per million posts. Past ``gate_part_rows`` rows, a gate validates its relation in
``k`` parts, ``hash(post_uid) % k = i``, one checkpoint run each, and merges the results into one, as
if GX had seen the whole relation:

* every post of one ``post_uid`` falls in the same part, so uniqueness of ``post_uid`` (and of any
  key that contains it, such as ``(batch_id, post_uid)``) holds in every part exactly when it holds
  in the whole;
* a column-map expectation's counts are summed (elements, missing, unexpected), its percentage is
  recomputed from the sums and, when it has ``mostly``, so is its success: a part may fail ``mostly``
  on its own while the whole passes, and the whole may fail while every part passes;
* a table expectation (the row count) gets the summed ``observed_value``; it fails if any part
  failed. Parts are only made past ``gate_part_rows`` (at least 1,000 rows), so none is empty in
  practice, and the gates' row-count minimum is 0 or 1.

The parts share the run's ``run_id``: GX stores them under one run, which ``gx_keep_runs`` counts once.

Between parts the heap is handed back to the system (``release_memory``). Without it, the memory of
the frames that were freed stayed with the process: at 10M posts the raw gate's ten parts of 1M
rows grew the process to 5.3 GB, about 0.55 GB a part (measured 2026-12-07).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MIN_PART_ROWS = 1_000


def release_memory() -> None:
    """Collect garbage and return the freed heap to the system (glibc's ``malloc_trim``; elsewhere
    only the collection). pandas frames of strings are millions of small objects: once freed, glibc
    keeps their pages for the process unless asked, and the next part's frame lands beside them.
    Arrow's own allocator (mimalloc), when pyarrow is loaded, is asked to return its unused pages too.
    ``discourse.pipeline.run`` calls it after every step, so one step's heap does not stay under the
    next (the ingest's Arrow buffers under the dbt build)."""
    import gc
    import sys

    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def part_count(rows: int, part_rows: int) -> int:
    """How many parts ``rows`` rows are validated in: 1 up to ``part_rows`` rows."""
    part_rows = max(MIN_PART_ROWS, int(part_rows))
    return max(1, math.ceil(int(rows) / part_rows))


def part_relation(relation: str, key: str, i: int, parts: int) -> str:
    """The ``i``-th of ``parts`` parts of ``relation`` (a table, or a parenthesised subquery with
    an alias), as a parenthesised subquery: the rows whose ``hash(key) % parts`` is ``i``."""
    return f"(select * from {relation} where hash({key}) % {int(parts)} = {int(i)}) as gate_part"


def _merge_counts(items: Sequence[dict[str, Any]], cfg: dict[str, Any]) -> dict[str, Any]:
    """One column-map expectation result (GX's JSON form) from its parts' results."""
    results = [it.get("result") or {} for it in items]
    elements = sum(int(r.get("element_count") or 0) for r in results)
    has_missing = any("missing_count" in r for r in results)
    missing = sum(int(r.get("missing_count") or 0) for r in results)
    unexpected = sum(int(r.get("unexpected_count") or 0) for r in results)
    nonmissing = elements - missing
    merged: dict[str, Any] = {
        "element_count": elements,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / nonmissing if nonmissing else 0.0,
    }
    if has_missing:
        merged.update(
            missing_count=missing,
            missing_percent=100.0 * missing / elements if elements else 0.0,
            unexpected_percent_total=100.0 * unexpected / elements if elements else 0.0,
            unexpected_percent_nonmissing=merged["unexpected_percent"],
        )
    counts: dict[str, list[Any]] = {}  # repr(value) -> [value, count]
    examples: list[Any] = []
    index_rows: list[Any] = []
    names: list[str] = []
    for r in results:
        for c in r.get("partial_unexpected_counts") or []:
            counts.setdefault(repr(c.get("value")), [c.get("value"), 0])[1] += int(c.get("count") or 0)
        examples += r.get("partial_unexpected_list") or []
        index_rows += r.get("partial_unexpected_index_list") or []
        names = names or list(r.get("unexpected_index_column_names") or [])
    merged["partial_unexpected_list"] = examples[:20]
    merged["partial_unexpected_counts"] = [
        {"value": v, "count": n} for v, n in sorted(counts.values(), key=lambda vn: -vn[1])[:20]
    ]
    merged["partial_unexpected_index_list"] = index_rows[:20]
    if names:
        merged["unexpected_index_column_names"] = names
    mostly = (cfg.get("kwargs") or {}).get("mostly")
    if any(it.get("exception_info", {}).get("raised_exception") for it in items):
        success = False
    elif mostly is not None:
        success = nonmissing == 0 or (nonmissing - unexpected) / nonmissing >= float(mostly)
    else:
        success = all(bool(it.get("success")) for it in items)
    return {"success": success, "result": merged}


def merge_results(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One validation result (GX's JSON form) from the results of the same suite on each part."""
    if len(parts) == 1:
        return parts[0]
    merged = dict(parts[0])
    results = []
    for items in zip(*(p.get("results") or [] for p in parts), strict=True):
        first = dict(items[0])
        cfg = first.get("expectation_config") or {}
        res = first.get("result") or {}
        if "unexpected_count" in res or "element_count" in res:
            first.update(_merge_counts(items, cfg))
        else:
            observed = [(it.get("result") or {}).get("observed_value") for it in items]
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in observed):
                first["result"] = {**res, "observed_value": sum(observed)}
            first["success"] = all(bool(it.get("success")) for it in items)
        raised = [it for it in items if (it.get("exception_info") or {}).get("raised_exception")]
        if raised:
            first["exception_info"] = raised[0]["exception_info"]
        results.append(first)
    merged["results"] = results
    ok = sum(1 for r in results if r.get("success"))
    merged["statistics"] = {
        **(parts[0].get("statistics") or {}),
        "evaluated_expectations": len(results),
        "successful_expectations": ok,
        "unsuccessful_expectations": len(results) - ok,
        "success_percent": 100.0 * ok / len(results) if results else 100.0,
        "parts": len(parts),
    }
    merged["success"] = ok == len(results)
    return merged
