"""What the conversation network costs: its dbt models (edges, author_edges, superspreaders,
amplifier_accounts, communities, community_members, influencers) rebuilt in full over a built home,
against the full nightly dbt build of the same home, and the graph models over K times the edges.

    uv run python bench/bench_network.py --posts 1000000 --json /tmp/bench_network.json
    uv run python bench/bench_network.py --home /tmp/bench/home          # a home bench_nightly --keep left
    uv run python bench/bench_network.py --home /tmp/bench/home --replicate 10   # 10x the edges

In one invocation:

1. (``--posts``) generates that many posts of every format into a fresh home and runs ``discourse
   run`` (the reference: its ``dbt build`` step is the full nightly build of that lake);
2. **network, full**: ``dbt build --full-refresh`` of ``path:models/intermediate/network`` and
   ``path:models/marts/network`` (models and their data tests), in a subprocess;
3. (``--replicate K``) **graph at K x**: the resolved edges (``intermediate.int_post_edges``) are
   replaced by K disjoint copies (author keys and post ids suffixed per copy, dates kept), and the
   network marts are rebuilt over them: what ``author_edges`` and the graph algorithms cost on the
   edges of a K times larger corpus (the copies share no account, so communities are K times as
   many; superspreaders and amplifier_accounts read marts.posts too and see only the first copy).

Every step runs in a subprocess of its own: its wall and CPU seconds and peak RSS come from
``os.wait4``; per-node seconds come from dbt's run_results.json. Ratios: network / full dbt build (the
same home, the same process run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nightly import _step  # noqa: E402  (one subprocess timer for every bench)

PSEUDONYM_KEY = "bench-network-key-0123456789abcdef"
NETWORK = "path:models/intermediate/network path:models/marts/network"
GRAPH = "path:models/marts/network"

_BUILD = r"""
import json, sys
from discourse.settings import load_settings
from discourse.transform import build_marts
s = load_settings()
summary = build_marts(s, select=sys.argv[1])
print(json.dumps({"seconds": summary["seconds"], "counts": summary["counts"]}))
"""

_REPLICATE = r"""
import sys, duckdb
path, k = sys.argv[1], int(sys.argv[2])
con = duckdb.connect(path)
con.execute("create or replace table intermediate._edges_one as select * from intermediate.int_post_edges")
cols = [r[0] for r in con.execute(
    "select column_name from duckdb_columns() where schema_name = 'intermediate' "
    "and table_name = 'int_post_edges' order by column_index").fetchall()]
suffixed = {"post_uid", "source_author_key", "target_author_key", "target_post_uid"}
exprs = ", ".join(
    (f"case when i = 0 then {c} else {c} || '~' || i end as {c}" if c in suffixed else c) for c in cols)
con.execute(f"create or replace table intermediate.int_post_edges as "
            f"select {exprs} from intermediate._edges_one, range({k}) as r(i)")
con.execute("drop table intermediate._edges_one")
print(con.execute("select count(*) from intermediate.int_post_edges").fetchone()[0])
con.close()
"""


def _node_seconds(home: Path) -> dict[str, float]:
    path = home / "dbt" / "target" / "run_results.json"
    if not path.is_file():
        return {}
    results = json.loads(path.read_text()).get("results", [])
    return {r["unique_id"].split(".")[-1]: round(r.get("execution_time") or 0.0, 2)
            for r in results if r["unique_id"].startswith("model.")}


def _counts(home: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(home / "build" / "warehouse.duckdb"), read_only=True)
    try:
        out = {"posts": con.execute("select count(*) from marts.posts").fetchone()[0]}
        for t in ("intermediate.int_post_edges", "marts.author_edges", "marts.communities",
                  "marts.influencers", "marts.superspreaders", "marts.amplifier_accounts"):
            try:
                out[t] = con.execute(f"select count(*) from {t}").fetchone()[0]
            except duckdb.Error:
                out[t] = None
    finally:
        con.close()
    return out


def _last_run(home: Path) -> dict[str, Any]:
    runs = sorted((home / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text()) if runs else {}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, help="a built home (bench_nightly --keep --work DIR: DIR/home)")
    ap.add_argument("--posts", type=int, default=200_000, help="without --home: generate and run this many")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--replicate", type=int, default=0, help="also time the graph marts over K x the edges")
    ap.add_argument("--work", type=Path, help="without --home: build the home here and keep it")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    work = None
    steps: list[dict[str, Any]] = []
    if args.home:
        home = args.home
    else:
        work = args.work or Path(tempfile.mkdtemp(prefix="bench_network_"))
        home = work / "home"
    env = {**os.environ, "DISCOURSE_HOME": str(home)}
    env.setdefault("DISCOURSE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    try:
        if not args.home:
            steps.append(_step(f"generate {args.posts:,}", [
                sys.executable, "-m", "discourse.cli", "generate", "--posts", str(args.posts),
                "--out", str(home / "inbox"), "--days", str(args.days),
                # history that ends yesterday: the raw gate refuses posts dated after the run
                "--start", (date.today() - timedelta(days=args.days + 1)).isoformat()], env))
            steps.append(_step("full run", [sys.executable, "-m", "discourse.cli", "run"], env))
        run = _last_run(home)
        full_dbt = (run.get("steps") or {}).get("dbt build")
        counts = _counts(home)
        net = _step("network, full refresh", [sys.executable, "-c", _BUILD, NETWORK], env)
        net["node_seconds"] = _node_seconds(home)
        steps.append(net)
        result: dict[str, Any] = {"home": str(home), "counts": counts, "full_dbt_build_s": full_dbt}
        if args.replicate > 1:
            rep = _step(f"replicate edges x{args.replicate}", [
                sys.executable, "-c", _REPLICATE, str(home / "build" / "warehouse.duckdb"),
                str(args.replicate)], env)
            steps.append(rep)
            graph = _step(f"graph marts over x{args.replicate} edges",
                          [sys.executable, "-c", _BUILD, GRAPH], env)
            graph["node_seconds"] = _node_seconds(home)
            steps.append(graph)
            result["replicated_counts"] = _counts(home)
        ratios = {}
        if full_dbt:
            ratios["network_over_full_dbt_wall"] = round(net["wall_s"] / full_dbt, 4)
        result.update({"steps": steps, "ratios": ratios})
    finally:
        if work is not None and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'step':40} {'wall s':>9} {'CPU s':>9} {'peak RSS MB':>12}")
    for s in steps:
        print(f"{s['step']:40} {s['wall_s']:9.1f} {s['cpu_s']:9.1f} {s['peak_rss_mb']:12.0f}")
        for node, sec in sorted((s.get("node_seconds") or {}).items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {node:36} {sec:9.2f}")
    print(json.dumps({"counts": result["counts"], "ratios": result["ratios"]}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
