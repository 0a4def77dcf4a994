"""`discourse network export`: the published author_edges as GEXF, GraphML or CSV, round-tripped
through networkx, with communities as node attributes and the filters applied."""

from __future__ import annotations

import csv

import duckdb
import networkx as nx
import pytest

from discourse.cli import main

# (source, target, by_handle, type, day, weight, platforms)
EDGES = [
    ("a", "b", False, "repost", "2026-11-01", 2, ["x"]),
    ("a", "b", False, "repost", "2026-11-03", 1, ["x"]),
    ("a", "b", False, "mention", "2026-11-03", 1, ["x", "bluesky"]),
    ("c", "b", False, "quote", "2026-11-02", 1, ["x"]),
    ("b", "a", False, "reply", "2026-11-04", 3, ["reddit"]),
    ("d", "h1", True, "mention", "2026-11-04", 1, ["mastodon"]),
    ("e", "d", False, "repost", "2026-10-01", 4, ["x"]),
]


@pytest.fixture
def published(settings):
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute("""create table marts.author_edges (source_author_key varchar, target_author_key varchar,
            target_by_handle boolean, edge_type varchar, day date, weight bigint, first_at timestamptz,
            last_at timestamptz, platforms varchar[], sample_post_uids varchar[])""")
        for i, (s, t, h, e, d, w, p) in enumerate(EDGES):
            con.execute("insert into marts.author_edges values (?, ?, ?, ?, ?, ?, ?::timestamptz, "
                        "?::timestamptz, ?, ?)",
                        [s, t, h, e, d, w, f"{d} 08:00:00+00", f"{d} 09:00:00+00", p, [f"x:{i}"]])
        con.execute("""create table marts.community_members as
            select * from (values
              (date '2026-10-06', date '2026-11-04', 'all', 1, 'a', 3, 3, false),
              (date '2026-10-06', date '2026-11-04', 'all', 1, 'b', 4, 3, false),
              (date '2026-10-06', date '2026-11-04', 'all', 1, 'c', 1, 3, false),
              (date '2026-10-06', date '2026-11-04', 'government', 2, 'a', 3, 2, false),
              (date '2026-10-06', date '2026-11-04', 'government', 2, 'b', 3, 2, false))
            t(window_start, window_end, topic, community_id, author_key, weighted_degree, community_size,
              graph_truncated)""")
    finally:
        con.close()
    return settings


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    for name in ("DISCOURSE_HOME", "DISCOURSE_CONFIG", "DISCOURSE_IS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")


def _cli(settings, *args):
    return main(["--home", str(settings.home), *args])


def test_gexf_round_trips_in_networkx(published, tmp_path, capsys):
    out = tmp_path / "net.gexf"
    assert _cli(published, "network", "export", "--out", str(out)) == 0
    assert "6 accounts and 5 edges" in capsys.readouterr().out
    g = nx.read_gexf(out)
    pairs = {(s, t) for s, t, *_ in EDGES}
    assert g.number_of_edges() == len(pairs)
    assert g.number_of_nodes() == len({k for p in pairs for k in p})
    ab = g.edges["a", "b"]
    assert (ab["weight"], ab["repost"], ab["mention"], ab["quote"], ab["days"]) == (4, 3, 1, 0, 2)
    assert ab["platforms"] == "bluesky,x" and ab["first_at"].startswith("2026-11-01T08:00")
    assert g.nodes["b"]["community"] == 1 and "community" not in g.nodes["e"]
    assert g.nodes["h1"]["by_handle"] and not g.nodes["a"]["by_handle"]
    assert g.nodes["b"]["weighted_in"] == 5 and g.nodes["b"]["weighted_out"] == 3


def test_graphml_and_csv(published, tmp_path):
    assert _cli(published, "network", "export", "--out", str(tmp_path / "g.graphml")) == 0
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert g.number_of_edges() == 5 and g.edges["b", "a"]["reply"] == 3
    assert _cli(published, "network", "export", "--out", str(tmp_path / "g.csv"),
                "--types", "repost,quote") == 0
    edges = list(csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8")))
    nodes = list(csv.DictReader((tmp_path / "g.nodes.csv").open(encoding="utf-8")))
    assert {(e["source"], e["target"]) for e in edges} == {("a", "b"), ("c", "b"), ("e", "d")}
    assert next(e for e in edges if e["source"] == "a")["weight"] == "3"  # the mention is not counted
    assert {n["id"] for n in nodes} == {"a", "b", "c", "d", "e"}
    assert not list(tmp_path.glob(".*.tmp"))


def test_filters(published, tmp_path):
    out = tmp_path / "w.gexf"
    assert _cli(published, "network", "export", "--out", str(out), "--window-days", "2") == 0
    assert set(nx.read_gexf(out).edges) == {("a", "b"), ("b", "a"), ("d", "h1")}  # 2026-11-03..04
    assert _cli(published, "network", "export", "--out", str(out), "--since", "2026-11-02",
                "--until", "2026-11-02") == 0
    assert set(nx.read_gexf(out).edges) == {("c", "b")}
    assert _cli(published, "network", "export", "--out", str(out), "--topic", "government") == 0
    g = nx.read_gexf(out)
    assert set(g.edges) == {("a", "b"), ("b", "a")} and g.nodes["a"]["community"] == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--topic", "sports"], "no network for it"),
    (["--types", "like"], "choose from"),
    (["--since", "yesterday"], "YYYY-MM-DD"),
    (["--window-days", "3", "--since", "2026-11-01"], "not both"),
    (["--since", "2026-11-05", "--until", "2026-11-01"], "after"),
])
def test_bad_arguments_are_one_clear_error(published, tmp_path, capsys, args, message):
    out = tmp_path / "x.gexf"
    assert _cli(published, "network", "export", "--out", str(out), *args) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unknown_extension_and_missing_mart(published, settings, tmp_path, capsys):
    assert _cli(published, "network", "export", "--out", str(tmp_path / "g.xlsx")) == 1
    assert "--format" in capsys.readouterr().err
    con = duckdb.connect(str(settings.warehouse))
    con.execute("drop table marts.author_edges")
    con.close()
    assert _cli(published, "network", "export", "--out", str(tmp_path / "g.gexf")) == 1
    assert "author_edges is not published" in capsys.readouterr().err


# ---------------------------------------------------------------- the report's network section

def test_report_section_draws_and_tabulates_what_is_published(published, settings):
    from discourse.report_network import network_section

    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("""create table marts.influencers as select date '2026-10-06' as window_start,
            date '2026-11-04' as window_end, 'all' as topic, 1 as influence_rank, 'b' as author_key,
            2 as in_degree, 4 as weighted_in_degree, 1 as reach, 0.4 as pagerank, 0.5 as betweenness,
            true as is_betweenness_sampled, 100 as betweenness_samples, 1 as community_id""")
        con.execute("""create table marts.superspreaders as select 'all' as period,
            null::date as period_start, 'a' as author_key, 3 as fib_index, 4 as low_cred_posts,
            5 as link_posts, 0.8 as low_cred_share,
            ['hoax.example'] as low_cred_domains, 1 as rank""")
        con.execute("""create table marts.amplifier_accounts as select 'c' as author_key,
            0.7 as amplifier_score, ['reposts in lockstep <script>'] as amplifier_reasons, 1 as rank""")
        parts = network_section(con)
    finally:
        con.close()
    page = "\n".join(parts)
    assert parts[0].startswith("<h2>Conversation network</h2>") and "not verdicts" in parts[0]
    assert '<div id="chart-network" class="plotly-graph-div"' in page  # the drawn communities
    assert "Top influencers" in page and "0.5000*" in page  # sampled betweenness is marked
    assert "Superspreaders" in page and "hoax.example" in page
    assert "Buzzer-like amplifiers" in page and "reposts in lockstep &lt;script&gt;" in page
    assert "lockstep <script>" not in page


def test_report_section_is_empty_without_network_marts(settings):
    from discourse.report_network import network_section

    con = duckdb.connect()
    con.execute("create schema marts")
    assert network_section(con) == []


def test_export_network_is_the_same_command(published, tmp_path, capsys):
    """`discourse export network ...`, as the issue spells it, writes the same graph."""
    out = tmp_path / "alias.gexf"
    assert _cli(published, "export", "network", "--out", str(out), "--since", "2026-11-02",
                "--format", "gexf") == 0
    assert set(nx.read_gexf(out).edges) == {("a", "b"), ("c", "b"), ("b", "a"), ("d", "h1")}
    assert _cli(published, "export", "network", "--out", str(out), "--where", "weight > 1") == 1
    assert "--where does not apply" in capsys.readouterr().err
    rc = _cli(published, "export", "author_edges", "--out", str(tmp_path / "e.gexf"), "--format", "gexf")
    assert rc == 1
    assert "is for the network" in capsys.readouterr().err
