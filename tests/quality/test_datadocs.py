"""Data Docs render offline: GX's CDN assets are vendored next to the pages and the URLs rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import good_batch, write_batch
from datadocs_browser import require_assets

from quality.datadocs import CDN_FILES, NODE_MODULES, VENDOR, localize_page, localize_site, remote_resources

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdn.jsdelivr.net/npm/vega-lite@5"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-Jj"
  crossorigin="anonymous"></script>
<style>.navbar-brand a {
  background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png')
}</style>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=x"/>
<a href="https://greatexpectations.io">a link, not a resource</a>
<script src="https://cdn.example.org/unknown.js"></script>
</body></html>
"""


def test_localize_page_points_every_known_cdn_file_at_the_vendored_copy(tmp_path):
    require_assets()
    site = tmp_path / "data_docs"
    page = site / "validations" / "suite" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(PAGE)

    changed, left = localize_page(page, site)

    html = page.read_text()
    assert changed
    assert 'href="../../../static/vendor/bootstrap/dist/css/bootstrap.min.css"' in html
    assert 'src="../../../static/vendor/vega/build/vega.min.js"' in html
    assert 'src="../../../static/vendor/vega-lite/build/vega-lite.min.js"' in html  # not vega@5's
    assert "integrity=" not in html and "crossorigin" not in html  # SRI breaks file:// scripts
    assert "url('../../../static/images/logo-long.png')" in html
    assert 'src="../../../static/images/logo-long.png"' in html and "dataContextId" not in html
    # a link to a page is not a resource; an unknown CDN file is left and reported
    assert "https://greatexpectations.io" in html
    assert left == ["https://cdn.example.org/unknown.js"]
    assert localize_page(page, site) == (False, left)  # idempotent


def test_without_the_assets_the_pages_are_left_as_gx_wrote_them(tmp_path):
    site = tmp_path / "data_docs"
    site.mkdir()
    (site / "index.html").write_text(PAGE)
    result = localize_site(site=site, node_modules=tmp_path / "no_node_modules")
    assert not result.assets and "not installed" in result.note
    assert (site / "index.html").read_text() == PAGE
    assert not (site / VENDOR).exists()


@pytest.mark.integration
def test_a_gate_writes_data_docs_that_load_nothing_from_the_internet(settings):
    require_assets()
    from quality.gates import run_raw_gate

    batch = "aaaaaaaaaaaaaaaaaaa1"
    write_batch(settings.posts_dir, batch, good_batch(batch))
    result = run_raw_gate(settings, [batch], run_id="offline-1")
    assert result.success, result.failures

    site = settings.data_docs_dir
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 3  # index, suite, validation
    for page in pages:
        assert remote_resources(page.read_text()) == [], page
    vendor = site / VENDOR
    for rel in CDN_FILES.values():
        assert (vendor / rel).stat().st_size == (NODE_MODULES / rel).stat().st_size, rel
    assert list((vendor / "@fortawesome" / "fontawesome-free" / "webfonts").glob("*.woff2"))
    assert (vendor / "bootstrap" / "LICENSE").is_file() and (vendor / "jquery" / "LICENSE.txt").is_file()

    # a second gate rewrites only what GX rewrote (the index and the new pages)
    before = {p: p.stat().st_mtime_ns for p in pages}
    run_raw_gate(settings, [batch], run_id="offline-2")
    untouched = [p for p in pages if "offline-1" in str(p) and p.stat().st_mtime_ns == before[p]]
    assert untouched, "the first run's validation page was rewritten again"
    for page in site.rglob("*.html"):
        assert remote_resources(page.read_text()) == [], page


def test_the_assets_are_pinned_to_the_versions_gx_names():
    import json

    deps = json.loads((Path(NODE_MODULES).parent / "package.json").read_text())["dependencies"]
    same_as_gx = {"jquery": "3.7.1", "bootstrap": "4.3.1", "bootstrap-table": "1.19.1",
                  "bootstrap-datepicker": "1.9.0", "@fortawesome/fontawesome-free": "6.6.0",
                  "@forevolve/bootstrap-dark": "1.1.0"}
    for name, version in same_as_gx.items():
        assert deps[name] == version, name
        urls = [url for url, rel in CDN_FILES.items() if rel.startswith(f"{name}/")]
        assert urls and any(version in url for url in urls), (name, urls)
    lock = json.loads((Path(NODE_MODULES).parent / "package-lock.json").read_text())
    assert all(v.get("integrity") for k, v in lock["packages"].items() if k)  # npm ci checks each
