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


@pytest.mark.bench
def test_tiny_run(tmp_path):
    out = tmp_path / "result.json"
    args = ["--posts", "2000", "--no-build", "--workdir", str(tmp_path), "--json", str(out)]
    assert bench_enrich.main(args) == 0
    result = json.loads(out.read_text())
    assert result["posts"] == result["enrichment"]["posts"] == result["vader"]["posts"] > 0
    assert result["ratio_wall"] > 0 and result["ratio_cpu"] > 0
    assert any(n["node"] == "posts" for n in result["enrichment"]["nodes"])
