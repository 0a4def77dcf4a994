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


def stage_night(settings, *, drop: int = 0, older_wins: bool = False) -> Path:
    """The build warehouse after an incremental night that brought batch NEW (``two_nights``): the
    keys it staged (NEW's posts) and their rows as the night staged them (newest copy wins, unless
    ``older_wins``; the first ``drop`` posts left out), and the record saying the night's scope."""
    from quality import posts_scope

    db = stage(settings)
    glob = str(settings.posts_dir / "**" / "*.parquet")
    order = "ingested_at asc, batch_id asc" if older_wins else "ingested_at desc, batch_id desc"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists intermediate")
        con.execute(
            f"create or replace table {posts_scope.NIGHT_KEYS} as select distinct post_uid "
            f"from read_parquet('{glob}', union_by_name = true, hive_partitioning = false) "
            f"where batch_id = '{NEW}'"
        )
        con.execute(
            f"create or replace table {posts_scope.NIGHT_STAGED} as "
            f"select post_uid, batch_id, ingested_at "
            f"from read_parquet('{glob}', union_by_name = true, hive_partitioning = false) "
            f"where post_uid in (select post_uid from {posts_scope.NIGHT_KEYS}) "
            f"qualify row_number() over (partition by post_uid order by {order}) = 1 "
            f"order by post_uid offset {drop}"
        )
    posts_scope.record_staging(settings, night=True, validated_before=True, lake_changed=True,
                               delta_batches=[NEW])
    return db


def test_a_night_reconciles_the_posts_it_staged(settings):
    from quality import posts_scope

    two_nights(settings)
    db = stage_night(settings)
    result = run_staging_gate(settings, db, night=True)
    assert result.success, result.failures
    assert result.checked["scope"] == posts_scope.NIGHT
    # NEW's 15 posts: 10 also in OLD, 5 new; both batches counted against their manifests.
    assert result.checked["lake_posts"] == result.checked["staging_rows"] == 15
    assert result.checked["batches"] == 2
    assert any("incremental night" in n for n in result.notes)
    assert json.loads(posts_scope.staging_record_path(settings).read_text())["validated"] is True

    # The caller decides: without ``night`` the gate reconciles the whole lake.
    whole = run_staging_gate(settings, db)
    assert whole.success and whole.checked["scope"] == posts_scope.ALL
    assert whole.checked["lake_posts"] == whole.checked["staging_rows"] > 15


def test_a_night_that_lost_a_post_or_kept_an_older_copy_fails_naming_its_batch(settings):
    two_nights(settings)
    lost = run_staging_gate(settings, stage_night(settings, drop=1), night=True)
    assert lost.blocking
    assert NEW in failure(lost, "posts_lost")["message"]

    older = run_staging_gate(settings, stage_night(settings, older_wins=True), night=True)
    assert older.blocking
    assert NEW in failure(older, "posts_staged_from_older_batch")["message"]


def test_a_night_still_counts_every_batch_against_its_manifest(settings):
    two_nights(settings)
    # NEW's manifest says one row more than its lake files hold: the night's own batch.
    manifest = settings.manifest_dir / f"{NEW}.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "loaded": data["loaded"] + 1}))
    result = run_staging_gate(settings, stage_night(settings), night=True)
    assert result.blocking
    assert NEW in failure(result, "manifest_loaded,lake_rows")["message"]
    manifest.write_text(json.dumps(data))
    # An older batch's lake file lost rows after its night: none of its posts is tonight's, and the
    # file's footer still tells (the night's posts alone would not).
    old_file = next(settings.posts_dir.rglob(f"{OLD}.parquet"))
    table = pq.read_table(old_file)
    pq.write_table(table.slice(0, table.num_rows - 2), old_file)
    result = run_staging_gate(settings, stage_night(settings), night=True)
    assert result.blocking and result.checked["scope"] == "night"
    assert result.checked["failing_batches"] == [OLD]
    assert "its lake files hold" in failure(result, "manifest_loaded,lake_rows")["message"]


def test_the_night_scope_needs_every_earlier_gate_passed(settings):
    from quality import posts_scope

    two_nights(settings)
    db = stage_night(settings)
    posts_scope.record_staging(settings, night=True, validated_before=False, lake_changed=True,
                               delta_batches=[NEW])
    result = run_staging_gate(settings, db, night=True)
    assert result.success and result.checked["scope"] == posts_scope.ALL
    # A night that staged nothing (only a reference refresh, or nothing new) reconciles nothing.
    posts_scope.record_staging(settings, night=True, validated_before=True, lake_changed=False,
                               delta_batches=[])
    empty = run_staging_gate(settings, db, night=True)
    assert empty.success and empty.checked["scope"] == posts_scope.NIGHT
    assert empty.checked["lake_posts"] == empty.checked["staging_rows"] == 0
