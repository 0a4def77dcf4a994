"""Do the network marts hold exactly the edges an X API v2 export states?

The edges are counted a second time, independently of the adapter and dbt, straight from the raw
twarc2 JSON, the way a reviewer would count them:

* ``reply``: the replying tweet's ``in_reply_to_user_id``, else the author of the ``replied_to``
  tweet;
* ``repost`` / ``quote``: the author of the ``retweeted`` / ``quoted`` tweet;
* a referenced tweet's author is looked up anywhere in the files: the tweets of ``data``, every
  page's ``includes.tweets``, and the references twarc's flattened form inlines;
* ``mention``: every account in the tweet's own ``entities.mentions`` (and
  ``note_tweet.entities.mentions``), by id, else by lower-cased handle;

one edge per distinct (tweet, type, target), over the tweets of ``data`` (pages and streams) or the
flattened lines. The files are then ingested through the CLI into a fresh home (``discourse ingest``
then ``discourse run``, with a throw-away pseudonym key), and ``intermediate.int_post_edges`` /
``marts.author_edges`` are counted by type for the posts of those files. Any difference is reported;
the edges the marts resolved from the lake (a retweet whose original is not in its page's
``includes`` but is a tweet of the export) are shown apart.

    uv run python bench/eval_network.py                      # ../shared/data/exports/x_v2/*.jsonl
    uv run python bench/eval_network.py my_export.jsonl --json out.json

Exits 0 with a message when no input file exists (the samples are not part of the repository).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GLOB = REPO.parent / "shared" / "data" / "exports" / "x_v2"
REF_KINDS = {"replied_to": "reply", "retweeted": "repost", "quoted": "quote"}


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.name.endswith(".zst"):
        import zstandard

        return io.TextIOWrapper(
            zstandard.ZstdDecompressor().stream_reader(path.open("rb")), encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _tweets_of_line(obj: dict) -> tuple[list[dict], dict[str, str]]:
    """The tweets a twarc2 line carries, and its included tweets' authors (id -> author_id)."""
    included: dict[str, str] = {}
    for inc in (obj.get("includes") or {}).get("tweets") or []:
        if isinstance(inc, dict) and inc.get("id") and inc.get("author_id"):
            included[str(inc["id"])] = str(inc["author_id"])
    data = obj.get("data")
    if isinstance(data, list):
        return [t for t in data if isinstance(t, dict)], included
    if isinstance(data, dict):
        return [data], included
    if "id" in obj and "created_at" in obj:  # twarc's flattened form: referenced tweets inlined
        for ref in obj.get("referenced_tweets") or []:
            if isinstance(ref, dict) and ref.get("id") and ref.get("author_id"):
                included.setdefault(str(ref["id"]), str(ref["author_id"]))
        return [obj], included
    return [], included


def _mentions(tw: dict) -> set[str]:
    found: set[str] = set()
    for ents in ((tw.get("entities") or {}), ((tw.get("note_tweet") or {}).get("entities") or {})):
        for m in ents.get("mentions") or []:
            if not isinstance(m, dict):
                continue
            if m.get("id"):
                found.add(str(m["id"]))
            elif m.get("username"):
                found.add("@" + str(m["username"]).lower())
    # one account by id and by handle in the two entity lists is one target
    handles_with_ids = {
        "@" + str(m["username"]).lower()
        for ents in ((tw.get("entities") or {}), ((tw.get("note_tweet") or {}).get("entities") or {}))
        for m in ents.get("mentions") or []
        if isinstance(m, dict) and m.get("id") and m.get("username")
    }
    return found - handles_with_ids


def _lines(files: list[Path]):
    for path in files:
        with _open_text(path) as fh:
            for line in fh:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    yield obj


def x_v2_edges(files: list[Path]) -> dict[str, set[tuple[str, str]]]:
    """Per type, the distinct (tweet id, target) interactions the raw twarc2 files state.

    Two passes: first every tweet's author anywhere in the files (the tweets of ``data``, the
    ``includes.tweets`` of every page, flattened lines with their inlined references), then the
    interactions of the tweets of ``data`` (or flattened lines), their targets looked up there."""
    authors: dict[str, str] = {}
    for obj in _lines(files):
        tweets, included = _tweets_of_line(obj)
        authors.update(included)
        for tw in tweets:
            if tw.get("id") and tw.get("author_id"):
                authors.setdefault(str(tw["id"]), str(tw["author_id"]))
    edges: dict[str, set[tuple[str, str]]] = {k: set() for k in ("reply", "repost", "quote", "mention")}
    for obj in _lines(files):
        tweets, _ = _tweets_of_line(obj)
        for tw in tweets:
            tid = tw.get("id")
            if not tid or not tw.get("created_at") or not tw.get("author_id"):
                continue
            tid = str(tid)
            if tw.get("in_reply_to_user_id"):  # stated on the reply itself
                edges["reply"].add((tid, str(tw["in_reply_to_user_id"])))
            for ref in tw.get("referenced_tweets") or []:
                kind = REF_KINDS.get(ref.get("type")) if isinstance(ref, dict) else None
                if kind is None or (kind == "reply" and tw.get("in_reply_to_user_id")):
                    continue
                target = authors.get(str(ref.get("id")))
                if target:
                    edges[kind].add((tid, target))
            for target in _mentions(tw):
                edges["mention"].add((tid, target))
    return edges


def count_x_v2_edges(files: list[Path]) -> Counter:
    return Counter({kind: len(pairs) for kind, pairs in x_v2_edges(files).items() if pairs})


def marts_edges(warehouse: Path, source_files: list[str]) -> dict[str, dict[str, int]]:
    """Per type, the edges of the posts ingested from ``source_files``: all, and resolved from the lake."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select e.edge_type, count(*), count(*) filter (where e.target_from_lake) "
            "from intermediate.int_post_edges as e join marts.posts as p on p.post_uid = e.post_uid "
            "where p.export_format = 'x_v2' and p.source_file in (select unnest(?)) group by 1",
            [source_files]).fetchall()
        total = dict(con.execute(
            "select edge_type, sum(weight)::bigint from marts.author_edges group by 1").fetchall())
    finally:
        con.close()
    return {"edges": {r[0]: r[1] for r in rows}, "from_lake": {r[0]: r[2] for r in rows},
            "author_edges_weight": total}


def run(files: list[Path], home: Path) -> dict[str, Any]:
    env = {**os.environ, "DISCOURSE_HOME": str(home),
           "DISCOURSE_PSEUDONYM_KEY": "eval-network-throwaway-key-0123456789"}
    subprocess.run([sys.executable, "-m", "discourse.cli", "ingest", *map(str, files)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "discourse.cli", "run"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    import duckdb

    con = duckdb.connect(str(home / "build" / "warehouse.duckdb"), read_only=True)
    try:
        source_files = [r[0] for r in con.execute(
            "select distinct source_file from marts.posts where export_format = 'x_v2'").fetchall()]
    finally:
        con.close()
    got = marts_edges(home / "build" / "warehouse.duckdb", source_files)
    expected = count_x_v2_edges(files)
    kinds = sorted(set(expected) | set(got["edges"]))
    by_type = {k: {"raw": expected.get(k, 0), "marts": got["edges"].get(k, 0),
                   "marts_from_lake": got["from_lake"].get(k, 0),
                   "author_edges_weight": got["author_edges_weight"].get(k, 0)} for k in kinds}
    equal = all(v["raw"] == v["marts"] - v["marts_from_lake"] for v in by_type.values())
    return {"files": [str(f) for f in files], "by_type": by_type, "stated_edges_equal": equal,
            "all_edges_equal": all(v["raw"] == v["marts"] for v in by_type.values())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="twarc2 .jsonl files (default: the shared samples)")
    ap.add_argument("--json", type=Path, help="write the result here too")
    args = ap.parse_args(argv)
    files = args.files or sorted(DEFAULT_GLOB.glob("*.jsonl"))
    files = [f for f in files if f.is_file()]
    if not files:
        print(f"eval_network: no X v2 export given and none under {DEFAULT_GLOB}; nothing to check")
        return 0
    with tempfile.TemporaryDirectory(prefix="eval-network-") as tmp:
        result = run(files, Path(tmp))
    print(f"{'type':8} {'raw':>7} {'marts':>7} {'lake':>6} {'weight':>7}")
    for kind, v in result["by_type"].items():
        print(f"{kind:8} {v['raw']:>7} {v['marts']:>7} {v['marts_from_lake']:>6} "
              f"{v['author_edges_weight']:>7}")
    print(f"stated edges equal: {result['stated_edges_equal']}; all edges equal: {result['all_edges_equal']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if result["all_edges_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
