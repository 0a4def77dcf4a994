"""A real night (`discourse run` on generated exports) gates raw, staging and marts (with the analyst
marts) and writes Data Docs that headless Chromium renders with the network cut off."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from datadocs_browser import distinct_colours, dump_dom, require_assets, screenshot

from discourse.cli import main as cli_main
from discourse.pipeline import run
from discourse.settings import load_settings
from quality import suites
from quality.datadocs import remote_resources
from synth import generate

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory):
    require_assets()
    home = tmp_path_factory.mktemp("datadocs") / "home"
    generate(home / "inbox" / "gen", posts=1500, seed=5, days=6)
    s = load_settings(env={"DISCOURSE_HOME": str(home),
                           "DISCOURSE_PSEUDONYM_KEY": "datadocs-e2e-key-0123456789"})
    return s, run(s)


def test_every_stage_is_gated_with_its_data_docs(night):
    s, summary = night
    assert summary.get("failed") is None, summary.get("failed")
    for stage in ("raw", "staging", "marts"):
        assert summary["gates"][stage]["success"] is True, summary["gates"][stage].get("failures")
    marts = summary["gates"]["marts"]
    assert set(marts["statistics"]["frames"]) == {"marts.posts", *suites.ANALYST_MARTS}
    pages = marts["checked"]["validation_pages"]
    assert set(pages) == {suites.MARTS_SUITE, *(name for name, _ in suites.ANALYST_MARTS.values())}
    assert all(Path(p).is_file() and summary["run_id"] in p for p in pages.values())


def test_validate_checks_the_staging_stage(night, capsys, monkeypatch):
    s, _ = night
    monkeypatch.delenv("DISCOURSE_HOME", raising=False)
    assert cli_main(["--home", str(s.home), "validate", "--stage", "staging"]) == 0
    out = capsys.readouterr().out
    assert "staging: passed" in out and "marts:" not in out


def test_data_docs_load_nothing_from_the_internet(night):
    s, _ = night
    pages = list(s.data_docs_dir.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert remote_resources(html) == [], page
        assert not re.search(r"""<(?:script|link)\b[^>]*(?:src|href)=["']?https?://""", html), page


def test_index_and_validation_page_render_offline_in_chromium(night, tmp_path):
    s, summary = night
    index = s.data_docs_dir / "index.html"
    dom = dump_dom(index, tmp_path / "profile")
    # bootstrap-table builds the results table from data in the page: only with its script loaded
    assert 'class="bootstrap-table bootstrap4"' in dom
    body = dom.split('id="section-1-content-block-2-1-body-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr\b[^>]*data-index=", body)
    assert len(rows) >= 7, "one row per validation: raw, staging (2), marts (5)"
    for suite in ("raw_posts", "staging_posts", "staging_batches", "marts_posts", "marts_top_authors"):
        assert suite in body, suite

    page = Path(summary["gates"]["marts"]["validation_page"])
    vdom = dump_dom(page, tmp_path / "profile")
    assert vdom.count('class="bootstrap-table bootstrap4"') >= 5
    assert "marts_posts" in vdom

    shots = tmp_path / "shots"
    shots.mkdir()
    for name, target in (("index", index), ("validation", page)):
        png = screenshot(target, shots / f"{name}.png", tmp_path / "profile")
        assert png.stat().st_size > 20_000
        assert distinct_colours(png) > 50, f"{name}: the page looks unstyled"
    keep = s.home.parent / "screenshots"  # left beside the home for a person to look at
    shutil.copytree(shots, keep, dirs_exist_ok=True)
