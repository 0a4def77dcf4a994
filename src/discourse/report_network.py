"""The report's conversation-network section (``network_section``), from the published network marts.

- a drawing of the largest communities of the ``all`` repost+quote graph (``marts.community_members``,
  edges from ``marts.author_edges`` over the same window), laid out offline with networkx (each
  community in a disk of its own on a circle, ``spring_layout`` with a fixed seed inside it) and
  drawn as an interactive plotly chart, one colour (and one legend entry, to hide or show it) per
  community, each account's key, community and degree on hover;
- the communities and, per topic, whether its two largest communities look like opposed camps;
- the top influencers (``marts.influencers``), superspreaders (``marts.superspreaders``, the latest
  months and all time) and buzzer-like amplifiers (``marts.amplifier_accounts``).

Each part is skipped when its mart is missing or empty. Accounts are pseudonymised keys, shown
shortened (the first 12 hex digits; ``discourse query`` finds the full key with ``like '<prefix>%'``).
Same conventions as the rest of the report (``discourse.report_html``): text from the data is escaped.
Returns HTML fragments (``Markup``), the first one holding the section's heading.
"""

from __future__ import annotations

import math
from typing import Any

from discourse.report_html import Markup, chart, columns, has_table, label, section, style_figure, table

DRAW_COMMUNITIES = 8  # largest communities drawn
DRAW_MEMBERS = 40  # busiest members drawn per community
_PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#bf3989", "#4d8b96", "#d4a72c")


def _key(k: Any) -> str:
    return "" if k is None else str(k)[:12]


def _r(v: Any, nd: int = 3) -> Any:
    return None if v is None else round(float(v), nd)


def network_section(con: Any) -> list[Markup]:
    """HTML fragments of the network section; [] when no network mart is published."""
    parts: list[Markup] = []
    if has_table(con, "marts.community_members"):
        parts += _communities(con)
    if has_table(con, "marts.influencers"):
        parts += _influencers(con)
    if has_table(con, "marts.superspreaders"):
        parts += _superspreaders(con)
    if has_table(con, "marts.amplifier_accounts"):
        parts += _amplifiers(con)
    if not parts:
        return []
    intro = ("Who reposts, quotes, replies to and mentions whom. Accounts are pseudonymised keys (first 12 "
             "characters shown). Communities, influence, superspreading and buzzer scores are signals for "
             "analysts to read, not verdicts about accounts; see docs/network.md.")
    return [section("Conversation network", intro=intro), *parts]


def _communities(con: Any) -> list[Markup]:
    win = con.execute("select max(window_start), max(window_end) from marts.community_members "
                      "where topic = 'all'").fetchall()[0]
    if win[1] is None:
        return []
    start, end = win
    out: list[Markup] = []
    comms = [r[0] for r in con.execute(
        "select community_id from marts.community_members where topic = 'all' and window_end = ? "
        "group by 1 order by any_value(community_size) desc, 1 limit ?", [end, DRAW_COMMUNITIES]).fetchall()]
    members = con.execute(
        "select author_key, community_id, weighted_degree from ("
        "  select *, row_number() over (partition by community_id "
        "    order by weighted_degree desc, author_key) as rn"
        "  from marts.community_members where topic = 'all' and window_end = ? "
        "  and community_id in (select unnest(?))) where rn <= ? order by community_id, author_key",
        [end, comms, DRAW_MEMBERS]).fetchall()
    if members and has_table(con, "marts.author_edges"):
        keys = [m[0] for m in members]
        edges = con.execute(
            "select least(source_author_key, target_author_key) as a, "
            "greatest(source_author_key, target_author_key) as b, "
            "sum(weight) from marts.author_edges where edge_type in ('repost', 'quote') "
            "and day between ? and ? and source_author_key <> target_author_key "
            "and source_author_key in (select unnest(?)) and target_author_key in (select unnest(?)) "
            "group by 1, 2 order by 1, 2", [start, end, keys, keys]).fetchall()
        if edges:
            out.append(_drawing(members, edges, comms, start, end))
    if has_table(con, "marts.communities"):
        rows = con.execute(
            "select community_id, size, edges, top_hashtags[1:5], top_domains[1:3], mean_sentiment, "
            "mean_risk, "
            "opposed_camps from marts.communities where topic = 'all' and window_end = ? "
            "order by community_id limit 12", [end]).fetchall()
        out.append(section("Communities (all topics)", table(
            [(c, n, e, tags, doms, _r(s), _r(r), "" if o is None else ("yes" if o else "no"))
             for c, n, e, tags, doms, s, r, o in rows],
            ["community", "accounts", "edges", "top hashtags", "top domains", "mean sentiment", "mean risk",
             "opposed camps"]), level=3))
        camps = con.execute(
            "select c.topic, c.size, r.size, c.stance_sentiment_gap, c.stance_hashtag_overlap, "
            "c.opposed_camps "
            "from marts.communities c join marts.communities r on r.topic = c.topic "
            "and r.window_end = c.window_end and r.community_id = c.stance_rival_community "
            "where c.community_id = 1 and c.window_end = ? and c.topic <> 'all' "
            "order by c.opposed_camps desc, abs(c.stance_sentiment_gap) desc nulls last, c.topic limit 15",
            [end]).fetchall()
        out.append(section("Two largest camps per topic", table(
            [(t, a, b, _r(g), _r(o), "yes" if x else "no") for t, a, b, g, o, x in camps],
            ["topic", "largest", "runner-up", "sentiment gap", "hashtag overlap", "opposed camps"]),
            intro="Opposed camps: their mean sentiment differs by at least the configured gap and their top "
                  "hashtags barely overlap.", level=3))
    return out


def _drawing(members: list, edges: list, comms: list, start: Any, end: Any) -> Markup:
    import networkx as nx
    import plotly.graph_objects as go

    g = nx.Graph()
    cid = {k: c for k, c, _d in members}
    deg = {k: d for k, _c, d in members}
    g.add_nodes_from(sorted(cid))
    for a, b, w in edges:
        g.add_edge(a, b, weight=int(w))
    pos = _grouped_layout(g, cid, comms)
    colour = {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(comms)}
    fig = go.Figure()
    ex: list[float | None] = []
    ey: list[float | None] = []
    for a, b in g.edges:
        ex += [float(pos[a][0]), float(pos[b][0]), None]
        ey += [float(pos[a][1]), float(pos[b][1]), None]
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name="reposts and quotes", hoverinfo="skip",
                             line={"width": 0.8, "color": "rgba(87, 96, 106, 0.45)"}))
    top = max(deg.values()) or 1
    for c in comms:
        nodes = [n for n in g.nodes if cid[n] == c]
        if not nodes:
            continue
        fig.add_trace(go.Scatter(
            x=[float(pos[n][0]) for n in nodes], y=[float(pos[n][1]) for n in nodes], mode="markers",
            name=f"community {c}", text=[label(_key(n)) for n in nodes], customdata=[deg[n] for n in nodes],
            marker={"color": colour[c], "line": {"width": 0},
                    "size": [6 + 22 * (deg[n] / top) for n in nodes]},
            hovertemplate=f"account %{{text}}<br>community {c}<br>weighted degree %{{customdata}}"
                          "<extra></extra>"))
    style_figure(fig, f"Largest communities of the repost+quote network, {start} to {end} "
                      f"(up to {DRAW_MEMBERS} busiest accounts each)", height=620, legend="community",
                 hover="closest")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    return chart(fig, "chart-network", "network of the largest communities")


def _grouped_layout(g: Any, cid: dict[str, Any], comms: list) -> dict[str, tuple[float, float]]:
    """Each community in a disk of its own, the disks on a circle, largest first (clockwise from the
    top). A disk's radius grows with the square root of its drawn accounts; inside it the community's
    accounts are laid out by ``spring_layout`` (fixed seed) on its own edges. One layout of the whole
    graph piles the large communities on top of each other in the middle, since they are densely
    connected to each other; this keeps every community readable and the edges between them visible."""
    import networkx as nx

    groups = [[n for n in sorted(g.nodes) if cid[n] == c] for c in comms]
    groups = [nodes for nodes in groups if nodes]
    largest = max(len(nodes) for nodes in groups)
    radii = [0.15 + 0.3 * math.sqrt(len(nodes) / largest) for nodes in groups]
    k = len(groups)
    if k == 1:
        centres = [(0.0, 0.0)]
    else:
        # adjacent disks must not touch: the chord between neighbours exceeds the sum of their radii
        need = max(radii[i] + radii[(i + 1) % k] for i in range(k)) * 1.15
        ring = max(1.0, need / (2 * math.sin(math.pi / k)))
        centres = [(ring * math.sin(2 * math.pi * i / k), ring * math.cos(2 * math.pi * i / k))
                   for i in range(k)]
    pos: dict[str, tuple[float, float]] = {}
    for nodes, r, (cx, cy) in zip(groups, radii, centres, strict=True):
        if len(nodes) == 1:
            pos[nodes[0]] = (cx, cy)
            continue
        # A graph of its own in sorted node order: a subgraph view of less than half of the graph
        # iterates its nodes in set order, which changes from process to process (string hashing), and
        # so would the layout.
        sub = nx.Graph()
        sub.add_nodes_from(nodes)
        inside = set(nodes)
        sub.add_weighted_edges_from(sorted((a, b, w) for a, b, w in g.edges(data="weight")
                                           if a in inside and b in inside))
        inner = nx.spring_layout(sub, seed=42, weight="weight", k=1.5 / math.sqrt(len(nodes)), iterations=80)
        span = max(math.hypot(float(x), float(y)) for x, y in inner.values()) or 1.0
        for n, (x, y) in inner.items():
            pos[n] = (cx + r * float(x) / span, cy + r * float(y) / span)
    return pos


def _influencers(con: Any) -> list[Markup]:
    rows = con.execute(
        "select influence_rank, author_key, in_degree, weighted_in_degree, reach, pagerank, betweenness, "
        "is_betweenness_sampled, community_id from marts.influencers where topic = 'all' "
        "and window_end = (select max(window_end) from marts.influencers) order by influence_rank limit 15"
    ).fetchall()
    if not rows:
        return []
    return [section("Top influencers (all topics)", table(
        [(r, _key(k), i, w, reach, _r(p, 4), f"{b:.4f}{'*' if s else ''}", c)
         for r, k, i, w, reach, p, b, s, c in rows],
        ["rank", "account", "in-degree", "weighted in-degree", "reach", "PageRank", "betweenness",
         "community"]),
        intro="By PageRank on who reposts and quotes whom; reach = distinct accounts that reposted them. "
              "Betweenness marked * is estimated from sampled sources.", level=3)]


def _superspreaders(con: Any) -> list[Markup]:
    periods = [r[0] for r in con.execute(
        "select distinct period from marts.superspreaders where period <> 'all' order by 1 desc limit 2"
    ).fetchall()]
    cols = columns(con, "marts.superspreaders")
    share = "low_cred_share" if "low_cred_share" in cols else "null"
    domains = "low_cred_domains" if "low_cred_domains" in cols else "[]"
    out = []
    for period in ["all", *periods]:
        rows = con.execute(
            f"select rank, author_key, fib_index, low_cred_posts, {share}, {domains} "
            "from marts.superspreaders where period = ? and fib_index > 0 order by rank limit 10",
            [period]).fetchall()
        if rows:
            when = "all time" if period == "all" else str(period)
            out.append(section(when, table(
                [(r, _key(k), f, n, _r(s), d) for r, k, f, n, s, d in rows],
                ["rank", "account", "FIB-index", "low-credibility posts", "low-cred share of link posts",
                 "sites"]), level=4))
    if not out:
        return []
    return [section("Superspreaders of low-credibility links", *out, level=3,
                    intro="FIB-index h: h of the account's posts linking to low-credibility sites were each "
                          "reposted at least h times.")]


def _amplifiers(con: Any) -> list[Markup]:
    cols = columns(con, "marts.amplifier_accounts")
    want = [("rank", "rank"), ("author_key", "account"), ("amplifier_score", "score"),
            ("amplifier_reasons", "reasons"), ("reposts", "reposts"), ("repost_share", "repost share"),
            ("lockstep_share", "lockstep share"), ("repeat_partners", "repeat partners"),
            ("hour_entropy", "hour entropy"), ("burstiness", "burstiness")]
    have = [(c, h) for c, h in want if c in cols]
    if not {"author_key", "amplifier_score"} <= {c for c, _h in have}:
        return []
    order = "rank" if "rank" in cols else "amplifier_score desc, author_key"
    rows = con.execute(f"select {', '.join(c for c, _h in have)} from marts.amplifier_accounts "
                       f"where amplifier_score > 0 order by {order} limit 15").fetchall()
    if not rows:
        return []
    names = [c for c, _h in have]
    fixed = []
    for r in rows:
        fixed.append(tuple(_key(v) if c == "author_key" else _r(v) if isinstance(v, float) else v
                           for c, v in zip(names, r, strict=True)))
    return [section("Buzzer-like amplifiers", table(fixed, [h for _c, h in have]), level=3,
                    intro="Accounts that repost in lockstep with others, mostly repost, post at "
                          "machine-regular hours or sit in coordinated clusters. A score to prioritise "
                          "reading, not a verdict: read the reasons and the accounts' posts.")]
