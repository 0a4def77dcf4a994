"""Gates past ``gate_part_rows`` validate in parts (``quality.parts``) and report what one run would."""

from __future__ import annotations

import pytest
from builders import good_batch, write_batch, write_marts
from test_gates import _marts_rows

from discourse.settings import load_settings
from quality.gates import run_marts_gate, run_raw_gate
from quality.parts import merge_results, part_count, part_relation

BAD = "bbbbbbbbbbbbbbbbbbb2"


def _er(etype, success, result, **kwargs):
    return {"success": success, "expectation_config": {"type": etype, "kwargs": kwargs, "id": etype},
            "result": result, "exception_info": {"raised_exception": False}}


def _part(*results):
    return {"success": all(r["success"] for r in results), "results": list(results),
            "statistics": {"evaluated_expectations": len(results)}}


def test_part_count_and_relation():
    assert part_count(0, 1_000_000) == 1
    assert part_count(1_000_000, 1_000_000) == 1
    assert part_count(1_000_001, 1_000_000) == 2
    assert part_count(10_000_000, 1_000_000) == 10
    assert part_count(5_000, 1) == 5  # at least 1,000 rows a part
    assert part_relation("marts.posts", "post_uid", 2, 7) == (
        "(select * from marts.posts where hash(post_uid) % 7 = 2) as gate_part")


def test_merge_sums_counts_and_recomputes_mostly_over_the_whole():
    # Each part passes `mostly = 0.9` on its own (10% and 0% nulls); the whole also passes (5%).
    # A third part with 30% unexpected makes the whole fail, though the first two passed.
    null = "expect_column_values_to_not_be_null"
    a = _er(null, True, {"element_count": 100, "unexpected_count": 10, "unexpected_percent": 10.0,
                         "partial_unexpected_counts": [{"value": None, "count": 10}],
                         "partial_unexpected_index_list": [{"post_uid": "x:1"}]}, column="a", mostly=0.9)
    b = _er(null, True, {"element_count": 100, "unexpected_count": 0, "unexpected_percent": 0.0},
            column="a", mostly=0.9)
    c = _er(null, False, {"element_count": 100, "unexpected_count": 30, "unexpected_percent": 30.0,
                          "partial_unexpected_counts": [{"value": None, "count": 30}],
                          "partial_unexpected_index_list": [{"post_uid": "x:9"}]}, column="a", mostly=0.9)
    two = merge_results([_part(a), _part(b)])
    assert two["success"] and two["results"][0]["success"]
    assert two["results"][0]["result"]["unexpected_count"] == 10
    assert two["results"][0]["result"]["unexpected_percent"] == 5.0
    three = merge_results([_part(a), _part(b), _part(c)])
    r = three["results"][0]
    assert not three["success"] and not r["success"]
    assert r["result"]["element_count"] == 300 and r["result"]["unexpected_count"] == 40
    assert r["result"]["partial_unexpected_counts"] == [{"value": None, "count": 40}]
    assert r["result"]["partial_unexpected_index_list"] == [{"post_uid": "x:1"}, {"post_uid": "x:9"}]
    assert three["statistics"]["unsuccessful_expectations"] == 1 and three["statistics"]["parts"] == 3

    # And the other way: a part that fails `mostly` alone, in a whole that passes.
    d = _er(null, False, {"element_count": 10, "unexpected_count": 2, "unexpected_percent": 20.0},
            column="a", mostly=0.9)
    e = _er(null, True, {"element_count": 190, "unexpected_count": 0, "unexpected_percent": 0.0},
            column="a", mostly=0.9)
    assert merge_results([_part(d), _part(e)])["success"]


def test_merge_uses_nonmissing_rows_for_percentages_and_sums_table_observations():
    in_set = "expect_column_values_to_be_in_set"
    a = _er(in_set, False, {"element_count": 10, "missing_count": 2, "unexpected_count": 2,
                            "unexpected_percent": 25.0,
                            "partial_unexpected_counts": [{"value": "meh", "count": 2}]}, column="s")
    b = _er(in_set, False, {"element_count": 10, "missing_count": 0, "unexpected_count": 1,
                            "unexpected_percent": 10.0,
                            "partial_unexpected_counts": [{"value": "meh", "count": 1}]}, column="s")
    rows = "expect_table_row_count_to_be_between"
    ra = _er(rows, True, {"observed_value": 10}, min_value=1)
    rb = _er(rows, True, {"observed_value": 10}, min_value=1)
    merged = merge_results([_part(a, ra), _part(b, rb)])
    s, n = merged["results"]
    assert not s["success"]
    assert s["result"]["missing_count"] == 2 and s["result"]["unexpected_count"] == 3
    assert s["result"]["unexpected_percent"] == pytest.approx(100 * 3 / 18)
    assert s["result"]["partial_unexpected_counts"] == [{"value": "meh", "count": 3}]
    assert n["success"] and n["result"]["observed_value"] == 20


def _summary(result):
    return sorted(
        (f["expectation"], f["column"], f["observed"].get("unexpected_count"),
         f["observed"].get("element_count"), f["severity"])
        for f in result.failures
    )


@pytest.mark.integration
def test_raw_gate_in_parts_reports_what_one_run_reports(tmp_path):
    whole = load_settings(env={}, home=str(tmp_path / "whole"))
    parted = load_settings(env={}, home=str(tmp_path / "parted"), gate_part_rows=1_000)
    rows = good_batch(BAD, n=2_500)
    for i in (3, 1_700):  # a duplicate pair (both rows land in the same part)
        rows[i]["post_uid"] = rows[i + 1]["post_uid"] = "x:dup"
        rows[i]["post_id"] = rows[i + 1]["post_id"] = "dup"
        rows[i]["platform"] = rows[i + 1]["platform"] = "x"
    for i in range(10, 2_500, 97):
        rows[i]["kind"] = "tweet"
    rows[20]["created_at"] = None
    for s in (whole, parted):
        write_batch(s.posts_dir, BAD, rows)

    one = run_raw_gate(whole, [BAD])
    split = run_raw_gate(parted, [BAD])

    assert "parts" not in one.checked and split.checked["parts"] == 3
    assert any("validated in 3 parts" in n for n in split.notes)
    assert not one.success and not split.success
    assert _summary(split) == _summary(one)
    dup = [f for f in split.failures if f["column"] == "batch_id,post_uid"][0]
    assert dup["observed"]["unexpected_count"] == 4
    assert {r["post_uid"] for r in dup["sample_rows"]} == {"x:dup"}
    assert split.statistics["row_count"] == one.statistics["row_count"] == len(rows)
    assert split.statistics["parts"] == 3


@pytest.mark.integration
def test_marts_gate_in_parts_reports_what_one_run_reports(tmp_path):
    results = []
    for name, part_rows in (("whole", 1_000_000), ("parted", 1_000)):
        s = load_settings(env={}, home=str(tmp_path / name), gate_part_rows=part_rows)
        rows = _marts_rows(2_200)
        rows[2]["sentiment_score"] = 3.5
        rows[300]["post_uid"] = rows[301]["post_uid"] = "x:dup"
        rows[1_500]["sentiment_label"] = "meh"
        rows[2_000]["lang"] = None
        write_batch(s.posts_dir, BAD, good_batch(BAD, n=5))
        results.append(run_marts_gate(s, write_marts(s.build_warehouse, rows)))
    one, split = results
    assert split.checked["parts"] == 3
    assert not one.success and one.blocking and not split.success and split.blocking
    assert _summary(split) == _summary(one)
    assert split.statistics["row_count"] == 2_200


def test_no_frame_outlives_its_gate(tmp_path):
    """GX's pandas engine caches the last batch it validated for as long as the context lives (the
    process): the gate drops it, so a 1M-row part is not carried into the dbt build."""
    import gc

    import pandas as pd

    settings = load_settings(env={}, home=str(tmp_path / "home"), gate_part_rows=1_000)
    write_batch(settings.posts_dir, BAD, good_batch(BAD, n=2_500))
    assert run_raw_gate(settings, [BAD]).statistics["parts"] == 3
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) >= 500]
    assert alive == []
