"""The report of a real night (`discourse run` on generated exports) renders in headless Chromium with the
network cut off: no console errors, every chart drawn, and a post text or platform written to end a
<script> stays text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from browser import distinct_colours, drawn_charts, screenshot, visit

from discourse.pipeline import run
from discourse.report import build_report
from discourse.settings import load_settings
from synth import generate

pytestmark = [pytest.mark.e2e]

BREAKOUT = "</script><script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("report-browser") / "home"
    generate(home / "inbox" / "gen", posts=2000, seed=5, days=8)
    s = load_settings(env={"DISCOURSE_HOME": str(home),
                           "DISCOURSE_PSEUDONYM_KEY": "report-browser-e2e-key-0123456789"})
    summary = run(s)
    assert summary.get("failed") is None, summary.get("failed")
    # Hostile strings where the report puts data into chart JSON (a platform, a topic name) and into
    # tables (a post's text). The published marts are views over Parquet: these two become views over
    # edited copies.
    con = duckdb.connect(str(s.warehouse))
    try:
        con.execute("create schema hostile")
        con.execute("create table hostile.posts as select * replace ("
                    "  case when post_uid in (select post_uid from marts.posts order by post_uid limit 5) "
                    "    then $1 else platform end as platform, "
                    "  case when post_uid in (select post_uid from marts.posts order by post_uid limit 5) "
                    "    then $1 else text end as text) from marts.posts", [BREAKOUT])
        con.execute("create table hostile.topics as select * replace (label_en || $1 as label_en) "
                    "from marts.topics", [BREAKOUT])
        con.execute("create or replace view marts.posts as select * from hostile.posts")
        con.execute("create or replace view marts.topics as select * from hostile.topics")
    finally:
        con.close()
    return build_report(s)


def test_the_report_renders_offline_without_console_errors(report, tmp_path):
    html = report.read_text(encoding="utf-8")
    in_file = len(re.findall(r'class="plotly-graph-div"', html))
    assert in_file >= 9, "volume, sentiment (3), emotion, topics (2), risk, network"
    page = visit(report, tmp_path / "profile")
    assert page.console == [], "\n".join(page.console)
    charts, drawn = drawn_charts(page.dom)
    assert charts == in_file and drawn == charts, (charts, drawn)
    assert "<script>alert(1)</script>" not in page.dom
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.dom  # shown as text
    # a cluster's posts are behind a toggle
    assert re.search(r"<details><summary>Cluster 1 \(", page.dom)


def test_the_report_looks_like_a_report(report, tmp_path):
    png = screenshot(report, tmp_path / "report.png", tmp_path / "profile")
    assert png.stat().st_size > 100_000
    assert distinct_colours(png) > 200, "the page looks unstyled or its charts did not draw"
    keep = report.parent.parent.parent / "screenshots"  # left beside the home for a person to look at
    keep.mkdir(exist_ok=True)
    shutil.copy(png, keep / png.name)
