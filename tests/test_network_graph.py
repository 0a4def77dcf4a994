"""Graph code of the network marts (``discourse.transform.network_graph``) on hand-made edge tables
of ``int_post_edges``' shape: two obvious camps, PageRank order, windows, an empty graph."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from discourse.transform.network_graph import (
    COMMUNITIES_SCHEMA,
    INFLUENCERS_SCHEMA,
    MEMBERS_SCHEMA,
    NetworkParams,
    communities,
    community_members,
    influencers,
    network_window,
)

EDGE_DDL = """
create table edges (
    post_uid varchar, platform varchar, created_at timestamptz, created_date date,
    source_author_key varchar, target_author_key varchar, target_by_handle boolean, edge_type varchar,
    primary_topic varchar, topics varchar[], hashtags varchar[], domains varchar[],
    sentiment_score double, misinfo_risk_score double
)
"""
DAY = date(2026, 11, 20)


def _con(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(EDGE_DDL)
    for i, (src, dst, etype, topic, tags, doms, sent, risk, day) in enumerate(rows):
        at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(seconds=i)
        con.execute(
            "insert into edges values (?, 'x', ?, ?, ?, ?, false, ?, ?, ?, ?, ?, ?, ?)",
            [f"x:{i}", at, day, src, dst, etype, topic, [topic] if topic else [], tags, doms, sent, risk])
    return con


def _camps() -> list[tuple]:
    """Camp A (a0..a5) reposts a0 and each other with #dukung and praise; camp B (b0..b5) the same
    with #tolak and anger; one quote bridges them. Plus replies and mentions, which are not graph edges."""
    rows = []
    for camp, tag, sent, dom in (("a", "dukung", 0.6, "kompas.com"), ("b", "tolak", -0.5, "infowars.com")):
        keys = [f"{camp}{i}" for i in range(6)]
        for s in keys:
            for t in keys + [keys[0]]:  # everyone reposts everyone, and the leader twice
                if s != t:
                    risk = 0.1 if camp == "a" else 0.7
                    rows.append((s, t, "repost", "government", [tag], [dom], sent, risk, DAY))
    rows.append(("a3", "b2", "quote", "government", ["debat"], [], 0.0, 0.2, DAY))
    rows.append(("a1", "b1", "reply", "government", [], [], -0.9, 0.0, DAY))
    rows.append(("b1", "a1", "mention", "government", [], [], -0.9, 0.0, DAY))
    rows.append(("a1", "a1", "repost", "government", [], [], 0.0, 0.0, DAY))  # self-loop: dropped
    return rows


def test_two_obvious_camps_are_two_opposed_communities():
    con = _con(_camps())
    params = NetworkParams(min_community_size=3)
    members = community_members(con, con.table("edges"), params)
    assert members.schema == MEMBERS_SCHEMA
    gov = [r for r in members.to_pylist() if r["topic"] == "government"]
    groups = {}
    for r in gov:
        groups.setdefault(r["community_id"], set()).add(r["author_key"])
    assert sorted(map(sorted, groups.values())) == [[f"a{i}" for i in range(6)], [f"b{i}" for i in range(6)]]
    # 'all' repeats the topic graph here (every edge has a topic)
    every = {r["author_key"] for r in members.to_pylist() if r["topic"] == "all"}
    assert every == {r["author_key"] for r in gov}

    comms = communities(con, con.table("edges"), members, params)
    assert comms.schema == COMMUNITIES_SCHEMA
    rows = {(r["topic"], r["community_id"]): r for r in comms.to_pylist()}
    c1, c2 = rows[("government", 1)], rows[("government", 2)]
    a, b = (c1, c2) if c1["top_hashtags"] == ["dukung"] else (c2, c1)
    assert a["top_hashtags"] == ["dukung"] and b["top_hashtags"] == ["tolak"]
    assert a["top_domains"] == ["kompas.com"] and b["top_domains"] == ["infowars.com"]
    assert a["size"] == b["size"] == 6
    assert a["top_accounts"][0] == "a0" and b["top_accounts"][0] == "b0"  # everyone reposts the leader
    assert a["mean_sentiment"] == pytest.approx(0.6) and b["mean_risk"] == pytest.approx(0.7)
    assert a["stance_rival_community"] == b["community_id"]
    assert a["stance_sentiment_gap"] == pytest.approx(1.1)
    assert b["stance_sentiment_gap"] == pytest.approx(-1.1)
    assert a["stance_hashtag_overlap"] == 0.0
    assert a["opposed_camps"] and b["opposed_camps"]
    # the bridge quote is between camps, so it is in neither community's internal edges
    assert a["edges"] + b["edges"] == sum(1 for r in _camps() if r[2] == "repost" and r[0] != r[1])


def test_camps_with_the_same_mood_and_hashtags_are_not_opposed():
    rows = [r for r in _camps() if r[2] != "quote"]
    rows = [(s, t, e, topic, ["pemilu"], d, 0.3, risk, day)
            for s, t, e, topic, _tags, d, _s, risk, day in rows]
    con = _con(rows)
    params = NetworkParams()
    members = community_members(con, con.table("edges"), params)
    comms = communities(con, con.table("edges"), members, params).to_pylist()
    gov = [c for c in comms if c["topic"] == "government"]
    assert len(gov) == 2
    assert all(c["stance_hashtag_overlap"] == 1.0 and not c["opposed_camps"] for c in gov)


def test_pagerank_order_in_degree_and_reach():
    # hub is reposted by five accounts, mid by two, leaf by one; hub also quoted once by mid
    rows = [(f"u{i}", "hub", "repost", "careers", [], [], 0.0, 0.0, DAY) for i in range(5)]
    rows += [("u1", "hub", "repost", "careers", [], [], 0.0, 0.0, DAY)]  # u1 twice: weight 2
    rows += [("mid", "hub", "quote", "careers", [], [], 0.0, 0.0, DAY)]
    rows += [("u0", "mid", "repost", "careers", [], [], 0.0, 0.0, DAY),
             ("u2", "mid", "repost", "careers", [], [], 0.0, 0.0, DAY),
             ("u3", "leaf", "repost", "careers", [], [], 0.0, 0.0, DAY)]
    con = _con(rows)
    params = NetworkParams(top_influencers=3)
    members = community_members(con, con.table("edges"), params)
    inf = influencers(con, con.table("edges"), members, params)
    assert inf.schema == INFLUENCERS_SCHEMA
    top = [r for r in inf.to_pylist() if r["topic"] == "careers"]
    assert [r["author_key"] for r in top] == ["hub", "mid", "leaf"]
    assert [r["influence_rank"] for r in top] == [1, 2, 3]
    hub = top[0]
    # mid quoted the hub: an in-degree, not reach
    assert (hub["in_degree"], hub["weighted_in_degree"], hub["reach"]) == (6, 7, 5)
    assert hub["pagerank"] > top[1]["pagerank"] > top[2]["pagerank"]
    assert not hub["is_betweenness_sampled"] and hub["betweenness_samples"] is None
    assert hub["community_id"] is not None and hub["graph_nodes"] == 8
    assert top[1]["betweenness"] > 0  # mid bridges u0/u2 and hub


def test_betweenness_is_sampled_above_the_threshold_with_a_fixed_seed():
    rows = [(f"u{i}", f"u{(i + 1) % 30}", "repost", "careers", [], [], 0.0, 0.0, DAY) for i in range(30)]
    con = _con(rows)
    params = NetworkParams(exact_betweenness_nodes=10, betweenness_samples=5, top_influencers=30)
    members = community_members(con, con.table("edges"), params)
    first = influencers(con, con.table("edges"), members, params).to_pylist()
    again = influencers(con, con.table("edges"), members, params).to_pylist()
    assert first == again
    assert all(r["is_betweenness_sampled"] and r["betweenness_samples"] == 5 for r in first)


def test_window_ends_at_the_newest_edge_and_drops_older_edges():
    old = DAY - timedelta(days=40)
    rows = [("x1", "x2", "repost", "careers", [], [], 0.0, 0.0, old),
            ("y1", "y2", "repost", "careers", [], [], 0.0, 0.0, DAY),
            ("y3", "y2", "repost", "careers", [], [], 0.0, 0.0, DAY - timedelta(days=29)),
            ("z1", "z2", "reply", "careers", [], [], 0.0, 0.0, DAY + timedelta(days=3))]  # replies: no graph
    con = _con(rows)
    assert network_window(con, "edges", 30) == (DAY - timedelta(days=29), DAY)
    members = community_members(con, con.table("edges"), NetworkParams(window_days=30))
    assert {r["author_key"] for r in members.to_pylist()} == {"y1", "y2", "y3"}


def test_truncated_graph_keeps_the_heaviest_pairs_and_says_so():
    rows = [("a", "b", "repost", "careers", [], [], 0.0, 0.0, DAY)] * 3
    rows += [(f"c{i}", "d", "repost", "careers", [], [], 0.0, 0.0, DAY) for i in range(4)]
    con = _con(rows)
    params = NetworkParams(max_edges=2)
    members = community_members(con, con.table("edges"), params).to_pylist()
    careers = [r for r in members if r["topic"] == "careers"]
    assert all(r["graph_truncated"] for r in careers)
    assert {"a", "b"} <= {r["author_key"] for r in careers}
    inf = influencers(con, con.table("edges"), community_members(con, "edges", params), params).to_pylist()
    d = next(r for r in inf if r["topic"] == "careers" and r["author_key"] == "d")
    assert d["in_degree"] == 4 and d["graph_truncated"]  # in-degree counted over all edges


@pytest.mark.parametrize("rows", [[], [("a", "b", "reply", "careers", [], [], 0.0, 0.0, DAY),
                                       ("a", "a", "repost", "careers", [], [], 0.0, 0.0, DAY)]])
def test_empty_graph_gives_no_rows(rows):
    con = _con(rows)
    params = NetworkParams()
    members = community_members(con, con.table("edges"), params)
    assert members.num_rows == 0 and members.schema == MEMBERS_SCHEMA
    assert communities(con, con.table("edges"), members, params).num_rows == 0
    assert influencers(con, con.table("edges"), members, params).num_rows == 0


def test_params_from_dbt_config():
    cfg = {"network_window_days": "7", "network_stance_min_gap": "0.5", "network_seed": None}
    p = NetworkParams.from_config(cfg.get)
    assert p.window_days == 7 and p.stance_min_gap == 0.5 and p.seed == NetworkParams().seed
    with pytest.raises(ValueError, match="positive"):
        NetworkParams.from_config({"network_window_days": "0"}.get)


def test_camps_on_too_few_posts_are_not_called_opposed():
    con = _con(_camps())
    params = NetworkParams(stance_min_edges=36)  # each camp has 35 internal reposts
    members = community_members(con, con.table("edges"), params)
    gov = [c for c in communities(con, con.table("edges"), members, params).to_pylist()
           if c["topic"] == "government"]
    assert [c["edges"] for c in gov] == [35, 35]
    assert all(c["stance_hashtag_overlap"] == 0.0 and not c["opposed_camps"] for c in gov)


def _random_arcs(nodes: int, arcs: int, seed: int) -> list[tuple[str, str, int]]:
    import random

    rng = random.Random(seed)
    out = {(f"a{rng.randrange(nodes):03d}", f"a{rng.randrange(nodes):03d}") for _ in range(arcs)}
    return sorted((s, t, rng.randint(1, 4)) for s, t in out if s != t)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pagerank_and_betweenness_match_networkx(seed):
    """The igraph computation gives networkx's PageRank (to its tolerance) and networkx's betweenness,
    exact and sampled from the same sources with the same scaling (the reference implementation)."""
    import random

    import networkx as nx

    from discourse.transform.network_graph import _igraph, betweenness, pagerank

    arcs = _random_arcs(120, 300, seed)
    nxg = nx.DiGraph()
    for s, t, w in arcs:
        nxg.add_edge(s, t, weight=w)
    names, g = _igraph(arcs, directed=True)
    assert names == list(nxg.nodes)  # the same node order, so the same sampled sources
    pr = pagerank(g)
    ref_pr = nx.pagerank(nxg, alpha=0.85, weight="weight", tol=1e-12)
    assert max(abs(pr[i] - ref_pr[k]) for i, k in enumerate(names)) < 1e-9
    und, nx_und = g.as_undirected(mode="collapse"), nx.Graph(nxg)
    exact = betweenness(und, None)
    ref = nx.betweenness_centrality(nx_und, normalized=True)
    assert max(abs(exact[i] - ref[k]) for i, k in enumerate(names)) < 1e-12
    assert max(ref.values()) > 0
    k = 17
    sources = random.Random(42).sample(range(len(names)), k)
    sampled = betweenness(und, sources)
    ref = nx.betweenness_centrality(nx_und, k=k, normalized=True, seed=42)
    assert max(abs(sampled[i] - ref[n]) for i, n in enumerate(names)) < 1e-12


def test_louvain_finds_planted_groups_reproducibly():
    """Four dense groups of 15 accounts, joined by single pairs: four communities, the same ones with the
    same seed, each account's weighted degree its summed pair weights."""
    from discourse.transform.network_graph import louvain_members

    pairs = [(f"g{g}_{i:02d}", f"g{g}_{j:02d}", 2)
             for g in range(4) for i in range(15) for j in range(i + 1, 15)]
    pairs += [("g0_00", "g1_00", 1), ("g1_00", "g2_00", 1), ("g2_00", "g3_00", 1)]
    rows = louvain_members(pairs, seed=42)
    assert rows == louvain_members(list(reversed(pairs)), seed=42)
    by_comm: dict[int, set[str]] = {}
    for cid, key, _, size in rows:
        by_comm.setdefault(cid, set()).add(key)
        assert size == 15
    groups = sorted(sorted({k.split("_")[0] for k in c}) for c in by_comm.values())
    assert groups == [["g0"], ["g1"], ["g2"], ["g3"]]
    degree = {key: deg for _, key, deg, _ in rows}
    assert degree["g0_05"] == 28 and degree["g1_00"] == 30
