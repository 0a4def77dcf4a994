"""Helpers shared by the adapter tests: read an export through an adapter, index the posts it gave, and
check what the lake makes of an export (a remap round trip, the generator's ground truth)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.registry import AdapterChunk, get
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import Source, expand


def read_chunks(fmt: str, path: Path | Source, options: dict[str, Any] | None = None) -> list[AdapterChunk]:
    """The chunks adapter ``fmt`` reads from ``path`` (a file holding one source) or a source, each
    checked against the adapter schemas."""
    if isinstance(path, Source):
        source = path
    else:
        sources = expand(path)
        assert len(sources) == 1
        source = sources[0]
    chunks = list(get(fmt).read(source, dict(options or {})))
    for c in chunks:
        assert c.posts.schema == ADAPTER_SCHEMA
        assert c.quarantine.schema == QUARANTINE_ADAPTER_SCHEMA
    return chunks


def collect(chunks: list[AdapterChunk]) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """All posts, all quarantined records (in chunk order) and the skipped counts summed by reason."""
    if not chunks:
        return ADAPTER_SCHEMA.empty_table(), QUARANTINE_ADAPTER_SCHEMA.empty_table(), {}
    posts = pa.concat_tables([c.posts for c in chunks])
    quarantine = pa.concat_tables([c.quarantine for c in chunks])
    skipped: dict[str, int] = {}
    for c in chunks:
        for reason, n in c.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    return posts, quarantine, skipped


def read_export(fmt: str, path: Path | Source, **options: Any) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """``collect(read_chunks(...))``: what adapter ``fmt`` makes of ``path`` with ``options``."""
    return collect(read_chunks(fmt, path, options))


def by_id(posts: pa.Table, key: str = "post_id", unique: bool = True) -> dict[str, dict]:
    """The posts as dicts by ``key``; with ``unique``, no two posts may share one."""
    rows = posts.to_pylist()
    if unique:
        assert len({r[key] for r in rows}) == len(rows)
    return {r[key]: r for r in rows}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------ lake

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def lake_rows(settings: Any, batch_id: str, kind: str = "posts") -> list[dict]:
    """A batch's rows in the lake (``posts`` or ``quarantine``), in a stable order."""
    import pyarrow.parquet as pq

    base = settings.posts_dir if kind == "posts" else settings.quarantine_dir
    files = sorted(base.rglob(f"{batch_id}.parquet"))
    if not files:
        return []
    t = pa.concat_tables([pq.read_table(f, partitioning=None) for f in files])
    key = "post_uid" if kind == "posts" else "source_record"
    return t.sort_by([(key, "ascending"), ("source_record", "ascending")]).to_pylist()


def assert_remap_reproduces(settings: Any, entry: dict[str, Any]) -> None:
    """With the adapter unchanged, ``remap`` of the ingested batch ``entry`` gives back exactly the rows
    and the counts of the ingest, and leaves nothing behind."""
    from ingest.lake import read_manifests
    from ingest.remap import remap

    before = lake_rows(settings, entry["batch_id"])
    q_before = lake_rows(settings, entry["batch_id"], "quarantine")
    [done] = remap(settings, batch_ids=[entry["batch_id"]])
    after = lake_rows(settings, entry["batch_id"])
    assert after == before
    assert lake_rows(settings, entry["batch_id"], "quarantine") == q_before
    [m] = [m for m in read_manifests(settings.manifest_dir) if m["batch_id"] == entry["batch_id"]]
    for k in ("records_in", "loaded", "quarantined", "duplicates_within_batch", "skipped", "files",
              "ingested_at", "source_file"):
        assert m[k] == entry[k], k
    assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"]
    assert m["remapped_at"] and m["remaps"][-1]["loaded_after"] == entry["loaded"]
    assert done["loaded_before"] == done["loaded_after"] == entry["loaded"]
    assert not list(settings.lake.rglob("*.tmp")) and not list(settings.manifest_dir.glob("*.remap.json"))


def assert_lake_matches_truth(settings: Any, out: Path, truth: dict[str, Any]) -> None:
    """Every file the generator wrote into ``out``, through the real lake code, gives exactly its ground
    truth (``_ground_truth.json``): loaded, quarantined (and where), skipped by reason, posts per
    platform and kind, and per day."""
    from collections import Counter, defaultdict

    import duckdb

    from ingest.lake import ingest_file

    for name, f in truth["files"].items():
        entries = ingest_file(settings, out / name)
        assert {e["export_format"] for e in entries} == {f["format"]}, name
        skipped: Counter = Counter()
        for e in entries:
            skipped.update(e["skipped"])
        assert sum(e["loaded"] for e in entries) == f["valid_posts"], name
        assert sum(e["quarantined"] for e in entries) == f["malformed"], name
        assert sum(e["duplicates_within_batch"] for e in entries) == 0, name
        assert dict(skipped) == f["skipped"], name
    con = duckdb.connect()
    lake = settings.lake
    quarantined = sorted(lake.glob("quarantine/**/*.parquet"))
    rows = con.execute(
        "select source_file, source_record from read_parquet(?, union_by_name = true)",
        [[str(p) for p in quarantined]],
    ).fetchall() if quarantined else []
    got = sorted((Path(f.split("!")[0]).name, r) for f, r in rows)
    planted = sorted(
        (name, m.get("record", m.get("row", m.get("line"))))
        for name, f in truth["files"].items()
        for m in f["malformed_records"]
    )
    assert got == planted
    kinds = con.execute(
        "select platform, kind, count(*), count(distinct post_uid), count(author_key) "
        "from read_parquet(?, hive_partitioning = true, union_by_name = true) group by all",
        [str(lake / "posts" / "**" / "*.parquet")],
    ).fetchall()
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for platform, kind, n, distinct, authors in kinds:
        assert n == distinct
        assert authors == n or (platform == "reddit" and authors >= n * 0.9), (platform, kind)
        by_kind[platform][kind] = n
    assert by_kind == {p: v["kind"] for p, v in truth["aggregates"]["by_platform"].items()}
    daily = con.execute(
        "select strftime(created_at at time zone 'UTC', '%Y-%m-%d'), platform, count(*) "
        "from read_parquet(?, hive_partitioning = true, union_by_name = true) group by all",
        [str(lake / "posts" / "**" / "*.parquet")],
    ).fetchall()
    per_day: dict[str, dict[str, int]] = {d: {} for d in truth["dates"]}
    for day, platform, n in daily:
        per_day[day][platform] = n
    assert per_day == truth["aggregates"]["daily_platform_counts"]
    con.close()
