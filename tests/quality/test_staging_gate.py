"""The staging gate on small lakes: manifests, lake files and a staging view built like dbt's
``stg_lake__posts`` (newest ``ingested_at`` wins), in a build warehouse in tmp_path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from builders import good_batch, write_batch

from quality.gates import STAGING_RELATION, run_staging_gate

pytestmark = pytest.mark.integration

OLD = "aaaaaaaaaaaaaaaaaaa1"
NEW = "bbbbbbbbbbbbbbbbbbb2"

# What dbt's staging model does, reduced to the columns the gate reads.
DEDUP_VIEW = """
create or replace view {relation} as
select post_uid, batch_id, ingested_at
from read_parquet('{glob}', union_by_name = true, hive_partitioning = false)
qualify row_number() over (partition by post_uid order by ingested_at desc, batch_id desc) = 1
"""
NO_DEDUP_VIEW = """
create or replace view {relation} as
select post_uid, batch_id, ingested_at
from read_parquet('{glob}', union_by_name = true, hive_partitioning = false)
"""


def commit(settings, batch_id: str, rows: list[dict], *, loaded: int | None = None) -> list[Path]:
    """Write a batch's lake files, then its manifest (the commit point), as the lake writer does."""
    files = write_batch(settings.posts_dir, batch_id, rows)
    settings.manifest_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "batch_id": batch_id,
        "source_file": f"{batch_id}.jsonl",
        "loaded": len(rows) if loaded is None else loaded,
        "files": [str(f.relative_to(settings.lake)) for f in files],
    }
    (settings.manifest_dir / f"{batch_id}.json").write_text(json.dumps(manifest))
    return files


def stage(settings, view: str = DEDUP_VIEW) -> Path:
    db = settings.build_warehouse
    db.parent.mkdir(parents=True, exist_ok=True)
    glob = str(settings.posts_dir / "**" / "*.parquet")
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists staging")
        con.execute(view.format(relation=STAGING_RELATION, glob=glob))
    return db


def two_nights(settings) -> tuple[list[dict], list[dict]]:
    """Batch OLD, then batch NEW re-exporting half of OLD's posts plus new ones."""
    old = good_batch(OLD, n=20)
    new = [dict(r, batch_id=NEW, ingested_at=datetime(2026, 3, 11, tzinfo=UTC)) for r in old[:10]]
    new += [
        dict(
            r,
            batch_id=NEW,
            post_id=r["post_id"] + "n",
            post_uid=r["post_uid"] + "n",
            ingested_at=datetime(2026, 3, 11, tzinfo=UTC),
        )
        for r in old[10:15]
    ]
    commit(settings, OLD, old)
    commit(settings, NEW, new)
    return old, new


def failure(result, column):
    hits = [f for f in result.failures if f["column"] == column]
    assert hits, [(f["expectation"], f["column"]) for f in result.failures]
    return hits[0]


def test_passes_when_staging_is_the_lake_deduplicated(settings):
    old, new = two_nights(settings)
    result = run_staging_gate(settings, stage(settings))

    assert result.success, result.failures
    assert result.stage == "staging" and not result.blocking
    assert result.statistics["evaluated_expectations"] == 7
    assert result.checked["lake_posts"] == result.checked["staging_rows"] == 21 + 5
    assert result.checked["committed_batches"] == 2 and result.statistics["row_count"] == 2
    # Data Docs for both suites of the stage.
    pages = result.checked["validation_pages"]
    assert all(Path(p).is_file() for p in pages.values()), pages
    index = Path(result.data_docs_path).read_text()
    assert "staging_posts" in index and "staging_batches" in index
    # Only aggregates reached pandas: one row in all, one row per batch.
    frames = result.statistics["frames"]
    assert frames["staging_posts"]["row_count"] == 1 and frames["staging_batches"]["row_count"] == 2
    json.dumps(result.to_dict())


def test_an_empty_lake_passes(settings):
    result = run_staging_gate(
        settings,
        stage(
            settings,
            "create or replace view {relation} as select "
            "null::varchar as post_uid, null::varchar as batch_id, "
            "null::timestamptz as ingested_at where false",
        ),
    )
    assert result.success, result.failures
    assert result.checked["staging_rows"] == 0


def test_rows_removed_from_a_lake_file_after_its_manifest_fail_naming_the_batch(settings):
    two_nights(settings)
    # Rows of OLD that no newer batch carries vanish from its file after the manifest was written.
    victim = next(f for f in settings.posts_dir.rglob(f"{OLD}.parquet") if pq.read_table(f).num_rows >= 3)
    table = pq.read_table(victim)
    pq.write_table(table.slice(0, table.num_rows - 2), victim)

    result = run_staging_gate(settings, stage(settings))
    assert result.blocking
    counts = failure(result, "manifest_loaded,lake_rows")
    assert OLD in counts["message"] and "manifest loaded 21" in counts["message"]
    assert "19 rows" in counts["message"]
    assert [r["batch_id"] for r in counts["sample_rows"]] == [OLD]
    assert NEW not in counts["message"]
    assert OLD in " ".join(result.notes)  # the alert's summary names the batch


def test_a_manifest_count_that_does_not_match_fails_naming_the_batch(settings):
    commit(settings, OLD, good_batch(OLD, n=8), loaded=12)
    result = run_staging_gate(settings, stage(settings))
    assert result.blocking
    f = failure(result, "manifest_loaded,lake_rows")
    assert f"batch {OLD} ({OLD}.jsonl): manifest loaded 12, its lake files hold 9 rows" in f["message"]
    assert len(result.failures) == 1


def test_staging_without_dedup_fails_with_duplicated_uids(settings):
    two_nights(settings)
    result = run_staging_gate(settings, stage(settings, NO_DEDUP_VIEW))
    assert result.blocking
    dedup = failure(result, "staging_rows,staging_posts")
    assert "dedup broke: staging has 36 rows for 26 distinct post_uids" in dedup["message"]
    assert OLD in dedup["message"] and NEW in dedup["message"]
    # The older copies were staged too: the newest did not win for NEW's re-exported posts.
    older = failure(result, "posts_staged_from_older_batch")
    assert NEW in older["message"]


def test_staging_that_loses_posts_or_keeps_the_older_copy_fails(settings):
    two_nights(settings)
    lossy = """
    create or replace view {relation} as
    select post_uid, batch_id, ingested_at
    from read_parquet('{glob}', union_by_name = true, hive_partitioning = false)
    where post_uid not like '%n'
    qualify row_number() over (partition by post_uid order by ingested_at asc, batch_id asc) = 1
    """
    result = run_staging_gate(settings, stage(settings, lossy))
    assert result.blocking
    lost = failure(result, "posts_lost")
    assert f"batch {NEW}" in lost["message"] and "e.g." in lost["message"]
    assert OLD not in lost["message"]
    total = failure(result, "lake_posts,staging_rows")
    assert "staging holds 21 rows but the committed lake has 26 distinct post_uids" in total["message"]
    older = failure(result, "posts_staged_from_older_batch")
    assert f"batch {NEW}" in older["message"] and "10 post(s)" in older["message"]


def test_posts_of_an_uncommitted_file_fail_as_not_committed(settings):
    commit(settings, OLD, good_batch(OLD, n=6))
    write_batch(
        settings.posts_dir,
        NEW,
        [dict(r, batch_id=NEW, post_uid=r["post_uid"] + "7") for r in good_batch(NEW, n=3)],
    )  # no manifest
    result = run_staging_gate(settings, stage(settings))
    assert result.blocking
    f = failure(result, "is_committed")
    assert NEW in f["message"]
    assert any("belong to no committed batch" in n for n in result.notes)


def test_missing_warehouse_or_relation_is_a_structural_failure(settings):
    result = run_staging_gate(settings, settings.build_warehouse)
    assert result.blocking and result.failures[0]["expectation"] == "expect_table_to_exist"
    settings.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.build_warehouse)).close()
    result = run_staging_gate(settings, settings.build_warehouse)
    assert result.blocking and STAGING_RELATION in result.failures[0]["message"]
