"""The analyst report: escaped, links only http(s) URLs, says when the warehouse is a demo, draws its charts
with plotly.js inlined once, shows each coordinated cluster once and trending terms without filler words."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import duckdb
import pytest

from discourse.report import build_report, filler_words, safe_link

POSTS = [
    # post_uid, url, risk
    ("x:1", "javascript:alert(document.cookie)", 0.9),
    ("x:2", "https://example.org/status/2?a=1&b=2", 0.8),
    ("x:3", " JaVaScRiPt:alert(1)", 0.7),
    ("x:4", "data:text/html,<script>alert(1)</script>", 0.6),
    ("x:5", 'https://example.org/"onmouseover="alert(1)', 0.5),
]
BREAKOUT = "</script><script>alert(1)</script>"
PLANTED = "VIRAL!! rebusan daun sirsak sembuhkan DBD dalam 1 malam, sebarkan sebelum dihapus"


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
                        "?, ?, ?, 'high', ['claim'])", [uid, f"teks <b>hoaks</b> {uid}", url, risk])
        con.execute("create table marts.about as select ?::boolean as demo, 'r' as run_id", [demo])
    finally:
        con.close()


def _markup(body: str) -> str:
    """The page without its scripts (plotly.js mentions links of its own)."""
    return re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.DOTALL)


def _hrefs(body: str) -> list[str]:
    """The page's links out (its table of contents links to its own sections: '#...')."""
    return [h for h in re.findall(r"href=\"([^\"]*)\"", _markup(body)) if not h.startswith("#")]


def test_only_http_urls_become_links(settings):
    _publish(settings, demo=False)
    body = build_report(settings).read_text()
    assert _hrefs(body) == ["https://example.org/status/2?a=1&amp;b=2",
                            "https://example.org/&#34;onmouseover=&#34;alert(1)"]
    assert not re.search(r"href\s*=\s*['\"]?\s*(javascript|data|vbscript):", _markup(body), re.IGNORECASE)
    # the refused URLs are shown as escaped text
    assert "javascript:alert(document.cookie)" in body
    assert "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>hoaks</b>" not in body and "teks &lt;b&gt;hoaks&lt;/b&gt;" in body
    assert "<script>alert" not in body
    assert _markup(body).count('rel="noopener noreferrer"') == 2
    assert "DEMO:" not in body


def test_safe_link():
    assert safe_link("http://a.example/x", "post").startswith('<a href="http://a.example/x"')
    assert 'rel="noopener noreferrer"' in safe_link("https://a.example/x?a=1&b=<2>")
    assert "&lt;2&gt;" in safe_link("https://a.example/x?a=1&b=<2>")
    for bad in ("javascript:alert(1)", "java\tscript:alert(1)", "//evil.example/x", "https:///x",
                "https://a.example/\nx", "vbscript:msgbox", None, ""):
        assert "<a " not in safe_link(bad, "post"), bad


def test_demo_warehouse_gets_a_banner(settings):
    _publish(settings, demo=True)
    body = build_report(settings).read_text()
    assert 'class="demo"' in body and "DEMO:" in body and "public demo key" in body


# ---------------------------------------------------------------- a warehouse with every charted mart

def publish_analyst_marts(warehouse, *, hostile: str = BREAKOUT) -> None:
    """A small warehouse with the marts the report charts: 14 days of posts on two platforms, one of them
    and a topic label named ``hostile``, a coordinated cluster of 15 copies of one post, trending terms
    with filler words among them."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema marts")
        con.execute("""
            create table marts.posts as
            select 'x:' || i as post_uid, 'author' || (i % 37) as author_key,
                   case when i % 3 = 0 then ? else 'x' end as platform,
                   timestamptz '2026-11-01 08:00:00+00' + to_hours(i % 14 * 24 + i % 11) as created_at,
                   case when i < 15 then ? else 'pos ' || i || ' ' || ? end as text,
                   'https://example.org/p/' || i as url,
                   (['id', 'en', 'mixed'])[1 + i % 3] as lang,
                   (['negative', 'neutral', 'positive'])[1 + i % 3] as sentiment_label,
                   ((i % 3) - 1) * 0.5 as sentiment_score,
                   (['politics_government', 'health', 'hostile_topic', null])[1 + i % 4] as primary_topic,
                   case when i < 15 then 0.9 else (i % 10) / 10.0 end as misinfo_risk_score,
                   case when i < 15 or i % 10 >= 8 then 'high' else 'low' end as misinfo_risk_level,
                   case when i < 15 then ['posted near-verbatim by 15 accounts'] else ['cue'] end
                       as misinfo_reasons,
                   case when i < 15 then 'c1' end as cluster_id,
                   case when i < 15 then ['fc-1'] else [] end as matched_claim_ids
            from range(300) t(i)""", [hostile, PLANTED, hostile])
        con.execute("""
            create table marts.topics as
            select * from (values ('politics_government', 'Government and politics'), ('health', 'Health'),
                                  ('hostile_topic', ?)) t(topic_id, label_en)""", [hostile])
        con.execute("""
            create table marts.coordinated_clusters as
            select 'c1' as cluster_id, 1 as priority_rank, 15 as n_posts, 15 as n_accounts,
                   ['x', 'telegram'] as platforms, timestamptz '2026-11-01 08:00:00+00' as first_seen_at,
                   timestamptz '2026-11-01 10:00:00+00' as last_seen_at, 120 as span_minutes,
                   ? as sample_text, (select list(post_uid) from marts.posts where cluster_id = 'c1')
                       as post_uids""", [PLANTED])
        con.execute("""
            create table marts.emotion_daily as
            select date '2026-11-01' + (i % 14)::int as activity_date, 'x' as platform, 'id' as lang,
                   (['politics_government', 'health', 'hostile_topic'])[1 + i % 3] as topic_id, 10 as posts,
                   6 as emotional_posts, 0.3 as anger_share, 0.1 as fear_share, 0.1 as joy_share,
                   0.05 as sadness_share, 0.03 as love_share, 0.02 as surprise_share, 0.4 as neutral_share
            from range(42) t(i)""")
        con.execute("""
            create table marts.topic_daily as
            select date '2026-11-05' as activity_date, 'x' as platform, 'health' as topic_id, 30 as volume,
                   4.0 as baseline_median, 8.5 as spike_score, true as is_spike""")
        con.execute("""
            create table marts.trending_terms as
            select date '2026-11-10' as activity_date, term, term_type, post_count, 0.0 as baseline_median,
                   spike_score, true as is_trending
            from (values ('yang', 'term', 90, 40.0), ('udah', 'term', 80, 30.0), ('banget', 'term', 70, 25.0),
                         ('ok', 'term', 60, 20.0), ('tokokita', 'term', 50, 15.0),
                         ('tokokita', 'hashtag', 45, 14.0), ('kebocoran tokokita', 'bigram', 30, 12.0),
                         ('yang bocor', 'bigram', 28, 11.0), ('kebocoran', 'term', 20, 10.0))
                 t(term, term_type, post_count, spike_score)""")
    finally:
        con.close()


@pytest.fixture
def analyst_report(settings):
    publish_analyst_marts(settings.warehouse)
    return build_report(settings).read_text(encoding="utf-8")


def _scripts(body: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", body, re.DOTALL)


def test_charts_are_plotly_with_plotly_js_inlined_once(analyst_report):
    from plotly.offline import get_plotlyjs

    body = analyst_report
    charts = re.findall(r'<div id="(chart-[a-z-]+)" class="plotly-graph-div"', body)
    assert charts == ["chart-volume", "chart-sentiment-lang", "chart-sentiment-daily",
                      "chart-sentiment-topics", "chart-emotion", "chart-topics", "chart-topics-daily",
                      "chart-risk"]
    assert body.count(get_plotlyjs()[:300]) == 1  # the library, once
    scripts = _scripts(body)
    assert len(scripts) == len(charts) + 1 and body.count("<script") == len(scripts)
    markup = _markup(body)
    assert "<img" not in markup and "data:image/png" not in markup  # no matplotlib PNGs left
    # offline: nothing is loaded from anywhere
    assert not re.search(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=", markup)
    assert not re.search(r"url\(\s*['\"]?https?:", markup)


def _figure(body: str, chart_id: str) -> tuple[list, dict]:
    """The data and layout plotly draws in ``chart_id``, decoded from the page."""
    script = next(s for s in _scripts(body) if f'"{chart_id}"' in s)
    call = script.split("Plotly.newPlot(", 1)[1]
    decoder = json.JSONDecoder()
    rest = call.split(",", 1)[1].lstrip()
    data, end = decoder.raw_decode(rest)
    layout, _ = decoder.raw_decode(rest[end:].lstrip(", \n"))
    return data, layout


def test_trends_have_topic_names_axis_titles_and_an_outside_legend(analyst_report):
    body = analyst_report
    data, layout = _figure(body, "chart-topics-daily")
    assert {t["name"] for t in data} >= {"Government and politics", "Health"}
    assert "politics_government" not in {t["name"] for t in data}
    assert layout["xaxis"]["title"]["text"] == "date (UTC)" and layout["yaxis"]["title"]["text"] == "posts"
    assert layout["legend"]["x"] > 1  # right of the plot area, never over the data
    data, layout = _figure(body, "chart-sentiment-topics")
    assert "Health" in {t["name"] for t in data} and layout["legend"]["title"]["text"] == "topic"
    data, layout = _figure(body, "chart-emotion")
    titles = {a["text"] for a in layout["annotations"]}
    assert {"Government and politics", "Health"} <= titles
    assert {t["name"] for t in data if t.get("showlegend", True)} == {
        "anger", "fear", "joy", "sadness", "love", "surprise"}
    for section in ("Volume", "Sentiment", "Emotion", "Topics", "Misinformation risk", "Coordinated clusters",
                    "Topic spikes", "Trending terms", "Quarantined records", "Ingest by export format",
                    "Data-quality alerts"):
        assert f"<h2>{section}</h2>" in body, section
    spikes = body.split("<h2>Topic spikes</h2>", 1)[1].split("</section>", 1)[0]
    assert "<td>Health</td>" in spikes


def test_no_data_string_breaks_out_of_a_script(analyst_report):
    body = analyst_report
    assert BREAKOUT not in body and "<script>alert" not in body
    # in chart JSON the platform and topic name are escaped for the script and for plotly's own
    # pseudo-HTML (so they show as typed); in tables, for HTML
    assert "\\u003c\\u002fscript\\u003e" in body or "&lt;\\u002fscript&gt;" in body
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body
    for script in _scripts(body):
        assert "</script" not in script.lower() and "<!--" not in script
    data, _layout = _figure(body, "chart-volume")
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in {t["name"] for t in data}


def test_a_coordinated_cluster_is_shown_once_with_its_posts_behind_a_toggle(analyst_report):
    body = analyst_report
    clusters = body.split("<h2>Coordinated clusters</h2>", 1)[1].split("</section>", 1)[0]
    table, details = clusters.split("<details>", 1)
    assert table.count(PLANTED) == 1 and "<td>c1</td>" in table
    assert clusters.count("<details>") == 1 and "Cluster 1 (c1): 15 posts" in details
    assert details.count(PLANTED) == 15  # the posts, behind the toggle
    risky = body.split("<h3>Riskiest posts</h3>", 1)[1].split("</section>", 1)[0]
    assert risky.count(PLANTED) == 1  # one row for the story, its copies counted
    row = next(r for r in risky.split("<tr>") if PLANTED in r)
    assert '<td class="num">15</td>' in row
    # the whole page: the sample once, the 15 posts once each
    assert body.count(PLANTED) == 1 + 1 + 15


def test_trending_terms_leave_out_filler_words(analyst_report, settings):
    filler = filler_words(settings)
    assert {"yang", "the", "udah", "banget"} <= filler and "tokokita" not in filler
    section = analyst_report.split("<h2>Trending terms</h2>", 1)[1].split("</section>", 1)[0]
    terms = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", section)
    assert terms == ["#tokokita", "kebocoran tokokita", "kebocoran"]
    assert "Left out here: 6 trending rows" in section


def test_the_report_does_not_load_matplotlib(settings):
    publish_analyst_marts(settings.warehouse)
    code = ("import sys; from discourse.report import build_report; "
            "from discourse.settings import load_settings; "
            f"build_report(load_settings(env={{'DISCOURSE_HOME': {str(settings.home)!r}, "
            "'DISCOURSE_PSEUDONYM_KEY': 'test-key'})); print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_network_layout_is_the_same_in_every_process():
    """The drawn network's positions do not depend on the process's string hashing (PYTHONHASHSEED):
    a community smaller than half the graph used to be laid out in set order."""
    code = (
        "import json, networkx as nx; from discourse.report_network import _grouped_layout; "
        "g = nx.Graph(); cid = {}\n"
        "for c in range(4):\n"
        "    keys = [f'k{c}_{i}' for i in range(7)]\n"
        "    cid.update({k: c + 1 for k in keys})\n"
        "    g.add_edges_from((keys[i], keys[(i * 3 + 1) % 7], {'weight': 1 + i % 2}) for i in range(7))\n"
        "g.add_edge('k0_0', 'k1_0', weight=1); g.add_edge('k2_3', 'k3_5', weight=2)\n"
        "pos = _grouped_layout(g, cid, [1, 2, 3, 4])\n"
        "print(json.dumps({k: [repr(float(x)), repr(float(y))] for k, (x, y) in sorted(pos.items())}))")
    outs = []
    for seed in ("1", "2", "3"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        outs.append(out.stdout)
    assert len(json.loads(outs[0])) == 28
    assert outs[0] == outs[1] == outs[2]
