"""The enrichment benchmark (bench/bench_enrich.py): importable, and a tiny run under `-m bench`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import bench_enrich  # noqa: E402


def test_measure_reports_wall_cpu_and_rss():
    out = bench_enrich.measure(lambda: {"posts": 3})
    assert out["posts"] == 3
    assert out["seconds"] >= 0 and out["cpu_seconds"] >= 0
    assert out["peak_rss_mb"] > 0


def test_vader_reference_scores_every_text():
    pytest.importorskip("vaderSentiment")
    out = bench_enrich.vader(["good day", "awful service", ""])
    assert out["posts"] == 3


def test_floor_token_pattern_is_the_projects():
    """The floor queries tokenise with the dbt project's own token pattern."""
    macro = (REPO / "dbt_project" / "macros" / "text.sql").read_text()
    body = macro.split("{% macro token_pattern() -%}", 1)[1].split("{%- endmacro %}", 1)[0].strip()
    assert body == bench_enrich.TOKEN_PATTERN_SQL


def test_floors_time_every_query(tmp_path):
    """Each floor query runs on a warehouse's marts.posts and counts what it should."""
    from types import SimpleNamespace

    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.posts as select * from (values ('Good day :)'), ('awful, AWFUL service'), (''))"
        " as t(text)"
    )
    con.close()
    reference = tmp_path / "reference"
    reference.mkdir()
    pq.write_table(
        pa.table({"term": ["good", "awful", ":)"], "weight": [1.9, -2.0, 2.0]}),
        reference / "vader_lexicon.parquet",
    )
    settings = SimpleNamespace(build_warehouse=warehouse, reference_dir=reference)
    out = bench_enrich.floors(settings, threads=1, fasttext=False)
    assert set(out) == set(bench_enrich.FLOOR_QUERIES)
    assert all(f["posts"] == 3 and f["seconds"] >= 0 for f in out.values())
    assert out["tokenise (one regex pass)"]["rows"] == 6  # good, day, :), awful, awful, service
    assert out["tokenise + one lexicon join"]["rows"] == 2  # two posts hold a lexicon word


@pytest.mark.bench
def test_tiny_run(tmp_path):
    out = tmp_path / "result.json"
    args = ["--posts", "2000", "--no-build", "--workdir", str(tmp_path), "--json", str(out)]
    assert bench_enrich.main(args) == 0
    result = json.loads(out.read_text())
    assert result["posts"] == result["enrichment"]["posts"] == result["vader"]["posts"] > 0
    assert result["ratio_wall"] > 0 and result["ratio_cpu"] > 0
    assert any(n["node"] == "posts" for n in result["enrichment"]["nodes"])
    assert set(result["floors"]) == {*bench_enrich.FLOOR_QUERIES, "fastText language ID"}
