"""`discourse network export`: the published conversation network as a graph file for Gephi or networkx.

Reads ``marts.author_edges`` (one row per source account, target account, edge type and day) through
the analyst connection, aggregates the chosen days and edge types per (source, target) pair in DuckDB,
and writes a directed graph with networkx:

- ``gexf`` (Gephi's own format; loads with ``networkx.read_gexf``), ``graphml``, or ``csv``: an edge
  table at ``--out`` and a node table beside it (``<stem>.nodes.csv``), the two tables Gephi's
  spreadsheet import takes;
- edge attributes: ``weight`` (posts), one count per edge type (``repost``, ``quote``, ``reply``,
  ``mention``), ``days`` (distinct days), ``first_at``, ``last_at`` (UTC, ISO) and ``platforms``;
- node attributes: ``weighted_in``, ``weighted_out``, ``by_handle`` (the key was hashed from a handle,
  not an id) and, when ``marts.community_members`` has the account, ``community`` (its Louvain
  community in the topic's graph, or in the ``all`` graph without ``--topic``, latest window).

Filters: ``--since``/``--until`` (inclusive dates), or ``--window-days N`` (the last N days ending at the
newest edge); ``--types`` (default all four); ``--topic T``: only edges between accounts of topic T's
repost+quote network in ``marts.community_members`` (``author_edges`` has no topic: an edge is a pair
of accounts over all their posts, so the topic selects accounts, and their edges of any topic).
Node ids are pseudonymised author keys; no handle is exported.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

EDGE_TYPES = ("repost", "quote", "reply", "mention")
FORMATS = ("gexf", "graphml", "csv")


class NetworkExportError(Exception):
    pass


@dataclass(frozen=True)
class EdgeFilter:
    topic: str | None = None
    since: date | None = None
    until: date | None = None
    window_days: int | None = None
    types: tuple[str, ...] = EDGE_TYPES


def parse_types(text: str | None) -> tuple[str, ...]:
    if not text:
        return EDGE_TYPES
    types = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    bad = [t for t in types if t not in EDGE_TYPES]
    if bad or not types:
        raise NetworkExportError(f"--types {text!r}: choose from {', '.join(EDGE_TYPES)}")
    return types


def parse_date(text: str | None, flag: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise NetworkExportError(f"{flag} {text!r}: expected a date, YYYY-MM-DD") from None


def _has_table(con: Any, name: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?",
        [name]).fetchall()[0][0])


def _topic_accounts(con: Any, topic: str) -> str:
    """SQL for the accounts of ``topic``'s network in the latest window of ``marts.community_members``."""
    if not _has_table(con, "community_members"):
        raise NetworkExportError("--topic needs marts.community_members, which is not published yet")
    topics = [r[0] for r in con.execute(
        "select distinct topic from marts.community_members order by 1").fetchall()]
    if topic not in topics:
        raise NetworkExportError(f"--topic {topic!r}: no network for it in marts.community_members "
                                 f"(topics: {', '.join(topics) or 'none'})")
    return ("select author_key from marts.community_members where topic = $topic "
            "and window_end = (select max(window_end) from marts.community_members)")


def build_graph(con: Any, flt: EdgeFilter) -> Any:
    """The filtered ``marts.author_edges`` as a networkx DiGraph (see the module docstring)."""
    import networkx as nx

    if not _has_table(con, "author_edges"):
        raise NetworkExportError("marts.author_edges is not published yet; run `discourse run` first")
    params: dict[str, Any] = {"types": list(flt.types)}
    where = ["edge_type in (select unnest($types))"]
    since, until = flt.since, flt.until
    if flt.window_days is not None:
        if flt.window_days < 1:
            raise NetworkExportError("--window-days must be at least 1")
        if since or until:
            raise NetworkExportError("give --window-days or --since/--until, not both")
        last = con.execute("select max(day) from marts.author_edges").fetchall()[0][0]
        if last is not None:
            since, until = last - timedelta(days=flt.window_days - 1), last
    if since and until and since > until:
        raise NetworkExportError(f"--since {since} is after --until {until}")
    if since:
        where.append("day >= $since")
        params["since"] = since
    if until:
        where.append("day <= $until")
        params["until"] = until
    if flt.topic:
        accounts = _topic_accounts(con, flt.topic)
        where.append(f"source_author_key in ({accounts}) and target_author_key in ({accounts})")
        params["topic"] = flt.topic
    counts = ", ".join(f"coalesce(sum(weight) filter (where edge_type = '{t}'), 0)::bigint as {t}"
                       for t in EDGE_TYPES)
    rows = con.execute(
        f"""select source_author_key, target_author_key, bool_or(target_by_handle), sum(weight)::bigint,
                   {counts}, count(distinct day), min(first_at), max(last_at),
                   list_sort(list_distinct(flatten(list(platforms))))
            from marts.author_edges where {' and '.join(where)}
            group by 1, 2 order by 1, 2""", params).fetchall()
    g = nx.DiGraph()
    by_handle: set[str] = set()
    for src, dst, handle, weight, *rest in rows:
        per_type = dict(zip(EDGE_TYPES, rest[: len(EDGE_TYPES)], strict=True))
        days, first_at, last_at, platforms = rest[len(EDGE_TYPES):]
        g.add_edge(src, dst, weight=int(weight), **{t: int(v) for t, v in per_type.items()}, days=int(days),
                   first_at=_iso(first_at), last_at=_iso(last_at), platforms=",".join(platforms or []))
        if handle:
            by_handle.add(dst)
    for node in g.nodes:
        g.nodes[node]["weighted_in"] = int(g.in_degree(node, weight="weight"))
        g.nodes[node]["weighted_out"] = int(g.out_degree(node, weight="weight"))
        g.nodes[node]["by_handle"] = node in by_handle
    if g.number_of_nodes() and _has_table(con, "community_members"):
        topic = flt.topic or "all"
        for key, cid in con.execute(
                "select author_key, community_id from marts.community_members where topic = $topic "
                "and window_end = (select max(window_end) from marts.community_members)",
                {"topic": topic}).fetchall():
            if key in g:
                g.nodes[key]["community"] = int(cid)
    return g


def _iso(v: Any) -> str:
    return "" if v is None else v.isoformat()


def write_graph(g: Any, fmt: str, out: Path) -> list[Path]:
    """Write ``g`` as ``fmt`` to ``out`` (csv: also ``<stem>.nodes.csv``), each file atomically."""
    import networkx as nx

    if fmt not in FORMATS:
        raise NetworkExportError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    targets = [out]
    if fmt == "csv":
        targets.append(out.with_name(f"{out.stem}.nodes.csv"))
    tmps = [t.with_name(f".{t.name}.tmp") for t in targets]
    try:
        if fmt == "gexf":
            nx.write_gexf(g, tmps[0])
        elif fmt == "graphml":
            nx.write_graphml(g, tmps[0])
        else:
            edge_cols = ["weight", *EDGE_TYPES, "days", "first_at", "last_at", "platforms"]
            with tmps[0].open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["source", "target", *edge_cols])
                for s, t, d in g.edges(data=True):
                    w.writerow([s, t, *(d[c] for c in edge_cols)])
            with tmps[1].open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["id", "weighted_in", "weighted_out", "by_handle", "community"])
                for n, d in g.nodes(data=True):
                    w.writerow([n, d["weighted_in"], d["weighted_out"], d["by_handle"],
                                d.get("community", "")])
        for tmp, target in zip(tmps, targets, strict=True):
            tmp.replace(target)
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    return targets


def export_network(con: Any, out: Path, fmt: str | None, flt: EdgeFilter) -> tuple[int, int, list[Path]]:
    """Build and write the graph; returns (nodes, edges, files written)."""
    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise NetworkExportError(f"cannot tell the format from {out.name!r}; give --format "
                                 f"({', '.join(FORMATS)})")
    g = build_graph(con, flt)
    files = write_graph(g, fmt, out)
    return g.number_of_nodes(), g.number_of_edges(), files
