"""The report links only http(s) URLs and says when the warehouse is a demo."""

from __future__ import annotations

import re

import duckdb

from discourse.report import build_report, safe_link

POSTS = [
    # post_uid, url, risk
    ("x:1", "javascript:alert(document.cookie)", 0.9),
    ("x:2", "https://example.org/status/2?a=1&b=2", 0.8),
    ("x:3", " JaVaScRiPt:alert(1)", 0.7),
    ("x:4", "data:text/html,<script>alert(1)</script>", 0.6),
    ("x:5", 'https://example.org/"onmouseover="alert(1)', 0.5),
]


def _publish(settings, *, demo: bool) -> None:
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.posts (post_uid varchar, author_key varchar, platform varchar, "
            "created_at timestamptz, text varchar, url varchar, misinfo_risk_score double, "
            "misinfo_risk_level varchar, misinfo_reasons varchar[])")
        for uid, url, risk in POSTS:
            con.execute("insert into marts.posts values (?, 'k', 'x', timestamptz '2026-11-02 10:00:00+00', "
                        "'teks <b>hoaks</b>', ?, ?, 'high', ['claim'])", [uid, url, risk])
        con.execute("create table marts.about as select ?::boolean as demo, 'r' as run_id", [demo])
    finally:
        con.close()


def test_only_http_urls_become_links(settings):
    _publish(settings, demo=False)
    body = build_report(settings).read_text()
    hrefs = re.findall(r"href=\"([^\"]*)\"", body)
    assert hrefs == ["https://example.org/status/2?a=1&amp;b=2",
                     "https://example.org/&quot;onmouseover=&quot;alert(1)"]
    assert "href='javascript" not in body.lower() and 'href="javascript' not in body.lower()
    assert "href=\"data:" not in body
    # the refused URLs are shown as escaped text
    assert "javascript:alert(document.cookie)" in body
    assert "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>" not in body and "teks &lt;b&gt;hoaks&lt;/b&gt;" in body
    assert 'rel="noopener noreferrer"' in body
    assert "DEMO:" not in body


def test_safe_link():
    assert safe_link("http://a.example/x", "post").startswith('<a href="http://a.example/x"')
    for bad in ("javascript:alert(1)", "java\tscript:alert(1)", "//evil.example/x", "https:///x",
                "https://a.example/\nx", "vbscript:msgbox", None, ""):
        assert "<a " not in safe_link(bad, "post"), bad


def test_demo_warehouse_gets_a_banner(settings):
    _publish(settings, demo=True)
    body = build_report(settings).read_text()
    assert "class='demo'" in body and "DEMO:" in body and "public demo key" in body
