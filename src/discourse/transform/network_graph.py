"""Graph algorithms on the conversation network: communities, their stance contrast, influencers.

Run by the dbt Python models ``marts/network/{community_members,communities,influencers}.py`` on
``int_post_edges`` (one row per post x target author x edge type), and by the unit tests on hand-made
tables of the same shape. The edges are filtered and aggregated in DuckDB; only the account pairs of
one topic's graph at a time reach igraph (C: Louvain, PageRank, betweenness). See docs/network.md for
the definitions.

Bounds (all dbt vars, ``network_*``):

- the window: the last ``window_days`` days ending at the newest repost/quote edge's date;
- a topic graph keeps its ``max_edges`` heaviest account pairs (ties by key); ``graph_truncated``
  says when pairs were dropped (in-degree, weighted in-degree and reach are counted in DuckDB over
  all edges, never truncated);
- betweenness is exact up to ``exact_betweenness_nodes`` nodes, else sampled from
  ``betweenness_samples`` source nodes with a fixed seed (``is_betweenness_sampled``), fewer on a
  large graph: at most ``betweenness_budget`` edge visits (sources x edges), at least one source;
- Louvain and sampling use ``seed``; graphs are built in sorted order, so results are reproducible.
- networkx is the reference: PageRank and betweenness equal its ``pagerank`` and
  ``betweenness_centrality(k, seed)`` (tests/test_network_graph.py), at a hundredth of the time.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

ALL_TOPICS = "all"
GRAPH_EDGE_TYPES = ("repost", "quote")
# Names of the temporary relations a call works through. dbt runs `communities` and `influencers` at the
# same time on cursors of one DuckDB database, so each thread gets names of its own (``_n``).
_VIEW = "__network_edges_in__"
_MEMBERS = "__network_members_in__"
_KEPT = "__network_kept__"
_RANKED = "__network_ranked_in__"
_PLACEHOLDERS = (_VIEW, _MEMBERS, _KEPT, _RANKED)
_RNG_LOCK = threading.Lock()


def _n(sql: str) -> str:
    """``sql`` with this thread's names for the temporary relations."""
    suffix = f"_{threading.get_ident()}"
    for name in _PLACEHOLDERS:
        sql = sql.replace(name, name.strip("_") + suffix)
    return sql


def _x(con: Any, sql: str, *args: Any) -> Any:
    return con.execute(_n(sql), *args)


@dataclass(frozen=True)
class NetworkParams:
    window_days: int = 30
    seed: int = 42
    max_edges: int = 200_000
    exact_betweenness_nodes: int = 1_000
    betweenness_samples: int = 50
    betweenness_budget: int = 20_000_000
    top_influencers: int = 100
    top_accounts: int = 10
    top_terms: int = 10
    min_community_size: int = 3
    max_communities: int = 50
    stance_min_gap: float = 0.2
    stance_max_overlap: float = 0.3
    stance_min_edges: int = 10

    @classmethod
    def from_config(cls, get: Any) -> NetworkParams:
        """From a dbt model's config (``dbt.config.get``): keys ``network_<field>``, rendered from vars."""
        kw = {}
        for f in fields(cls):
            v = get(f"network_{f.name}")
            if v is not None and v != "":
                kw[f.name] = float(v) if f.type == "float" else int(float(v))
        p = cls(**kw)
        if (p.window_days < 1 or p.max_edges < 1 or p.top_influencers < 1 or p.betweenness_samples < 1
                or p.betweenness_budget < 1):
            raise ValueError(f"network vars must be positive: {p}")
        return p


MEMBERS_SCHEMA = pa.schema([
    ("window_start", pa.date32()),
    ("window_end", pa.date32()),
    ("topic", pa.string()),
    ("community_id", pa.int64()),
    ("author_key", pa.string()),
    ("weighted_degree", pa.int64()),
    ("community_size", pa.int64()),
    ("graph_truncated", pa.bool_()),
])

COMMUNITIES_SCHEMA = pa.schema([
    ("window_start", pa.date32()),
    ("window_end", pa.date32()),
    ("topic", pa.string()),
    ("community_id", pa.int64()),
    ("size", pa.int64()),
    ("edges", pa.int64()),
    ("account_pairs", pa.int64()),
    ("top_accounts", pa.list_(pa.string())),
    ("top_hashtags", pa.list_(pa.string())),
    ("top_domains", pa.list_(pa.string())),
    ("mean_sentiment", pa.float64()),
    ("mean_risk", pa.float64()),
    ("stance_rival_community", pa.int64()),
    ("stance_sentiment_gap", pa.float64()),
    ("stance_hashtag_overlap", pa.float64()),
    ("opposed_camps", pa.bool_()),
])

INFLUENCERS_SCHEMA = pa.schema([
    ("window_start", pa.date32()),
    ("window_end", pa.date32()),
    ("topic", pa.string()),
    ("influence_rank", pa.int64()),
    ("author_key", pa.string()),
    ("in_degree", pa.int64()),
    ("weighted_in_degree", pa.int64()),
    ("reach", pa.int64()),
    ("pagerank", pa.float64()),
    ("betweenness", pa.float64()),
    ("is_betweenness_sampled", pa.bool_()),
    ("betweenness_samples", pa.int64()),
    ("community_id", pa.int64()),
    ("graph_nodes", pa.int64()),
    ("graph_truncated", pa.bool_()),
])


def _use_edges(con: Any, edges: Any) -> None:
    """Expose the edge relation (a DuckDB relation or a table name) as a temporary view."""
    if isinstance(edges, str):
        _x(con, f"create or replace temp view {_VIEW} as select * from {edges}")
    else:
        edges.create_view(_n(_VIEW), replace=True)


def network_window(con: Any, edges: Any, window_days: int) -> tuple[date, date] | None:
    """(first, last) date of the window: ``window_days`` days ending at the newest graph edge's date."""
    _use_edges(con, edges)
    end = _x(con,
        f"select max(created_date) from {_VIEW} where edge_type in ('repost', 'quote') "
        "and source_author_key <> target_author_key").fetchall()[0][0]
    if end is None:
        return None
    return end - timedelta(days=window_days - 1), end


_TOPIC_EDGES = f"""
    with e as (
        select post_uid, edge_type, source_author_key as s, target_author_key as t, primary_topic,
               hashtags, domains, sentiment_score, misinfo_risk_score
        from {_VIEW}
        where edge_type in ('repost', 'quote') and source_author_key <> target_author_key
          and created_date between $start and $end
    ), topic_edges as (
        select *, primary_topic as topic from e where primary_topic is not null
        union all
        select *, '{ALL_TOPICS}' as topic from e
    )
"""


def _kept_by_topic(con: Any, start: date, end: date, max_edges: int, directed: bool):
    """Yield (topic, [(u, v, weight)], truncated) one topic at a time, in topic order: the topic graph's
    heaviest ``max_edges`` account pairs (undirected, ``u < v``) or arcs (directed: reposter, author),
    weighted by posts. Staged in a temporary table so that only one topic's edges are in Python."""
    u, v = ("s", "t") if directed else ("least(s, t)", "greatest(s, t)")
    _x(con,
        "create or replace temp table __network_kept__ as " + _TOPIC_EDGES + f"""
        , pairs as (select topic, {u} as u, {v} as v, count(*) as w from topic_edges group by all),
        ranked as (
            select *, row_number() over (partition by topic order by w desc, u, v) as rn,
                   count(*) over (partition by topic) as n_pairs
            from pairs
        )
        select topic, u, v, w, n_pairs from ranked where rn <= $max_edges
        """, {"start": start, "end": end, "max_edges": max_edges})
    try:
        topics = _x(con,
            "select topic, any_value(n_pairs) from __network_kept__ group by 1 order by 1").fetchall()
        for topic, n_pairs in topics:
            rows = _x(con,
                "select u, v, w from __network_kept__ where topic = ? order by u, v", [topic]).fetchall()
            yield topic, rows, n_pairs > max_edges
    finally:
        _x(con, "drop table if exists __network_kept__")


def louvain_members(pairs: list[tuple[str, str, int]], seed: int) -> list[tuple[int, str, int, int]]:
    """(community_id, author_key, weighted_degree, community_size) of an undirected weighted graph.

    Communities by Louvain (igraph's multilevel modularity optimisation, its random node order drawn
    from ``random.Random(seed)``), numbered 1.. by size (largest first), ties by their smallest account
    key."""
    import igraph as ig

    pairs = sorted((a, b, int(w)) for a, b, w in pairs if a != b)
    if not pairs:
        return []
    names, g = _igraph(pairs, directed=False)
    g.simplify(combine_edges="sum")  # (a, b) and (b, a) given apart are one pair
    with _RNG_LOCK:  # igraph's random number generator is one per process
        ig.set_random_number_generator(random.Random(seed))
        try:
            membership = g.community_multilevel(weights="weight").membership
        finally:
            ig.set_random_number_generator(random)
    groups: dict[int, list[str]] = {}
    for i, c in enumerate(membership):
        groups.setdefault(c, []).append(names[i])
    comms = sorted((sorted(c) for c in groups.values()), key=lambda c: (-len(c), c[0]))
    strength = dict(zip(names, g.strength(weights="weight"), strict=True))
    return [(cid, k, int(strength[k]), len(c)) for cid, c in enumerate(comms, 1) for k in c]


def _igraph(arcs: list[tuple[str, str, int]], directed: bool) -> tuple[list[str], Any]:
    """(node names, igraph Graph) of ``arcs`` (name, name, weight), edge attribute ``weight``. Nodes are
    numbered in order of first appearance (source, then target, arc by arc), as networkx would add them."""
    import igraph as ig

    index: dict[str, int] = {}
    for s, t, _ in arcs:
        index.setdefault(s, len(index))
        index.setdefault(t, len(index))
    g = ig.Graph(n=len(index), edges=[(index[s], index[t]) for s, t, _ in arcs], directed=directed)
    g.es["weight"] = [int(w) for _, _, w in arcs]
    return list(index), g


def pagerank(g: Any) -> list[float]:
    """PageRank (damping 0.85) of a directed igraph graph weighted by ``weight``; a node without
    out-arcs spreads its rank over every node, as networkx does. Exact (PRPACK), not iterated to a
    tolerance."""
    return list(g.pagerank(damping=0.85, weights="weight", directed=True, implementation="prpack"))


def betweenness(und: Any, sources: list[int] | None) -> list[float]:
    """Normalised betweenness (endpoints excluded) of an undirected, unweighted igraph graph: exact over
    every source when ``sources`` is None, else estimated from those sources, with networkx's scaling
    (``betweenness_centrality(k=len(sources), normalized=True)``): a sampled source is scaled by
    1 / ((k - 1)(n - 2)), any other node by 1 / (k (n - 2))."""
    n = und.vcount()
    if sources is not None and len(sources) == n:
        sources = None
    # igraph counts each unordered pair once (ordered pairs / 2); networkx counts ordered pairs
    raw = [2.0 * v for v in (und.betweenness(directed=False) if sources is None
                             else und.betweenness(directed=False, sources=sources))]
    big_n = n - 1  # pairs (s, t) that can pass through v: v is neither endpoint
    if big_n < 2:
        return raw
    if sources is None:
        scale = 1 / (big_n * (big_n - 1))
        return [v * scale for v in raw]
    k = len(sources)
    scale_source = 1 / ((k - 1) * (big_n - 1)) if k > 1 else math.nan
    scale_other = 1 / (k * (big_n - 1))
    chosen = set(sources)
    return [v * (scale_source if i in chosen else scale_other) for i, v in enumerate(raw)]


def community_members(con: Any, edges: Any, params: NetworkParams) -> pa.Table:
    """Every account of each topic's repost+quote graph in the window, with its Louvain community."""
    win = network_window(con, edges, params.window_days)
    if win is None:
        return MEMBERS_SCHEMA.empty_table()
    start, end = win
    cols: dict[str, list] = {f.name: [] for f in MEMBERS_SCHEMA}
    for topic, pairs, truncated in _kept_by_topic(con, start, end, params.max_edges, directed=False):
        for cid, key, deg, size in louvain_members(pairs, params.seed):
            for name, v in zip(cols, (start, end, topic, cid, key, deg, size, truncated), strict=True):
                cols[name].append(v)
    return pa.table(cols, schema=MEMBERS_SCHEMA)


def _register_members(con: Any, members: Any) -> None:
    if isinstance(members, str):
        _x(con, f"create or replace temp view {_MEMBERS} as select * from {members}")
    elif isinstance(members, pa.Table):
        con.register(_n(_MEMBERS), members)
    else:
        members.create_view(_n(_MEMBERS), replace=True)


def communities(con: Any, edges: Any, members: Any, params: NetworkParams) -> pa.Table:
    """One row per kept community (size >= ``min_community_size``, the ``max_communities`` largest per
    topic): size, internal edges, top accounts, hashtags and domains, mean sentiment and risk of its
    internal edge posts, and for each topic's two largest communities their stance contrast."""
    win = network_window(con, edges, params.window_days)
    if win is None:
        return COMMUNITIES_SCHEMA.empty_table()
    start, end = win
    _register_members(con, members)
    p = {"start": start, "end": end, "min_size": params.min_community_size,
         "max_comms": params.max_communities, "top_k": params.top_accounts, "top_terms": params.top_terms}
    rows = _x(con,
        _TOPIC_EDGES + f"""
        , kept as (
            select topic, community_id, any_value(community_size) as size
            from {_MEMBERS}
            where community_size >= $min_size and community_id <= $max_comms
            group by all
        ), inner_edges as (
            select te.*, ms.community_id
            from topic_edges te
            join {_MEMBERS} ms on ms.topic = te.topic and ms.author_key = te.s
            join {_MEMBERS} mt on mt.topic = te.topic and mt.author_key = te.t
                and mt.community_id = ms.community_id
            semi join kept k on k.topic = te.topic and k.community_id = ms.community_id
        ), stats as (
            select topic, community_id, count(*) as edges,
                   count(distinct (least(s, t), greatest(s, t))) as account_pairs,
                   -- summed as decimals, as the daily marts do: a float sum depends on the scan order (local
                   -- disk and object storage, an incremental night and a full build differ in the last bits)
                   round(avg(sentiment_score::decimal(18, 4)), 4) as mean_sentiment,
                   round(avg(misinfo_risk_score::decimal(18, 4)), 4) as mean_risk
            from inner_edges group by all
        ), tags as (
            select topic, community_id, tag, count(*) as n
            from (select topic, community_id, lower(unnest(hashtags)) as tag from inner_edges)
            where tag is not null and tag <> '' group by all
        ), doms as (
            select topic, community_id, dom, count(*) as n
            from (select topic, community_id, lower(unnest(domains)) as dom from inner_edges)
            where dom is not null and dom <> '' group by all
        ), top_tags as (
            select topic, community_id, list(tag order by n desc, tag)[1:$top_terms] as top_hashtags
            from tags group by all
        ), top_doms as (
            select topic, community_id, list(dom order by n desc, dom)[1:$top_terms] as top_domains
            from doms group by all
        ), top_accts as (
            select m.topic, m.community_id,
                   list(m.author_key order by m.weighted_degree desc, m.author_key)[1:$top_k] as top_accounts
            from {_MEMBERS} m semi join kept k on k.topic = m.topic and k.community_id = m.community_id
            group by all
        )
        select k.topic, k.community_id, k.size, coalesce(s.edges, 0), coalesce(s.account_pairs, 0),
               a.top_accounts, coalesce(tt.top_hashtags, []), coalesce(td.top_domains, []),
               s.mean_sentiment, s.mean_risk
        from kept k
        left join stats s using (topic, community_id)
        left join top_accts a using (topic, community_id)
        left join top_tags tt using (topic, community_id)
        left join top_doms td using (topic, community_id)
        order by k.topic, k.community_id
        """, p).fetchall()
    by_topic: dict[str, list] = {}
    for r in rows:
        by_topic.setdefault(r[0], []).append(list(r))
    cols: dict[str, list] = {f.name: [] for f in COMMUNITIES_SCHEMA}
    for topic in sorted(by_topic):
        comms = by_topic[topic]
        stance: dict[int, tuple] = {}
        if len(comms) >= 2:
            c1, c2 = comms[0], comms[1]  # ordered by community_id: the two largest
            stance = {c1[1]: stance_contrast(c1, c2, params), c2[1]: stance_contrast(c2, c1, params)}
        for c in comms:
            rival = stance.get(c[1], (None, None, None, None))
            vals = (start, end, *c, *rival)
            for name, v in zip(cols, vals, strict=True):
                cols[name].append(v)
    return pa.table(cols, schema=COMMUNITIES_SCHEMA)


def stance_contrast(c: list, rival: list, params: NetworkParams) -> tuple:
    """(rival community_id, sentiment gap, hashtag Jaccard, opposed camps) of ``c`` against ``rival``.

    Rows are (topic, community_id, size, edges, pairs, accounts, hashtags, domains, sentiment, risk).
    The gap is this community's mean sentiment minus the rival's. Opposed camps: the absolute gap is at
    least ``stance_min_gap`` and the top-hashtag Jaccard at most ``stance_max_overlap``, and both camps
    have at least ``stance_min_edges`` internal edge posts (fewer are too little evidence: a handful of
    posts gives a noisy mean and disjoint hashtags by chance). Two camps without hashtags have
    overlap 0."""
    tags_a, tags_b = set(c[6]), set(rival[6])
    union = tags_a | tags_b
    overlap = len(tags_a & tags_b) / len(union) if union else 0.0
    if c[8] is None or rival[8] is None:
        return rival[1], None, overlap, False
    gap = round(float(c[8]) - float(rival[8]), 6)
    enough = min(c[3], rival[3]) >= params.stance_min_edges
    opposed = enough and abs(gap) >= params.stance_min_gap and overlap <= params.stance_max_overlap
    return rival[1], gap, overlap, opposed


def influencers(con: Any, edges: Any, members: Any, params: NetworkParams) -> pa.Table:
    """The ``top_influencers`` accounts per topic by PageRank on the directed, weighted repost+quote
    graph (reposter -> original author), with in-degrees, reach, betweenness and community."""
    win = network_window(con, edges, params.window_days)
    if win is None:
        return INFLUENCERS_SCHEMA.empty_table()
    start, end = win
    _register_members(con, members)
    ranked: list[tuple] = []
    for topic, arcs, truncated in _kept_by_topic(con, start, end, params.max_edges, directed=True):
        names, g = _igraph(arcs, directed=True)
        del arcs
        pr = pagerank(g)
        top = sorted(range(len(names)), key=lambda i: (-pr[i], names[i]))[: params.top_influencers]
        n = len(names)
        sampled = n > params.exact_betweenness_nodes
        und = g.as_undirected(mode="collapse")  # reposts both ways are one undirected pair
        # sampled: as many sources as the budget of edge visits allows (each is one BFS over the graph)
        affordable = params.betweenness_budget // max(und.ecount(), 1)
        k = max(1, min(params.betweenness_samples, n, affordable)) if sampled else None
        # the sources networkx's betweenness_centrality(k=k, seed=seed) draws from the same node order
        sources = random.Random(params.seed).sample(range(n), k) if sampled else None
        bc = betweenness(und, sources)
        del und, g
        ranked += [(topic, rank, names[i], float(pr[i]), float(bc[i]), sampled, k, n, truncated)
                   for rank, i in enumerate(top, 1)]
    # exact counts over all the window's edges, for the ranked accounts only
    keys = pa.schema([("topic", pa.string()), ("t", pa.string())])
    con.register(_n(_RANKED), pa.table([[r[0] for r in ranked], [r[2] for r in ranked]], schema=keys))
    exact = {(r[0], r[1]): r[2:] for r in _x(con,
        _TOPIC_EDGES + f"""
        select r.topic, r.t, count(distinct te.s), count(te.s),
               count(distinct te.s) filter (where te.edge_type = 'repost'), any_value(m.community_id)
        from __network_ranked_in__ r
        left join topic_edges te on te.topic = r.topic and te.t = r.t
        left join {_MEMBERS} m on m.topic = r.topic and m.author_key = r.t
        group by all
        """, {"start": start, "end": end}).fetchall()}
    con.unregister(_n(_RANKED))
    cols: dict[str, list] = {f.name: [] for f in INFLUENCERS_SCHEMA}
    for topic, rank, key, pr_v, bc_v, sampled, k, n, truncated in ranked:
        in_deg, w_in, reach, cid = exact[(topic, key)]
        vals = (start, end, topic, rank, key, in_deg, w_in, reach, pr_v, bc_v, sampled, k, cid, n, truncated)
        for name, v in zip(cols, vals, strict=True):
            cols[name].append(v)
    return pa.table(cols, schema=INFLUENCERS_SCHEMA)
