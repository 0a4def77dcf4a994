"""The incremental invariant: the marts after a sequence of incremental nights equal one full build of
the same lake, exactly (floats rounded), for every mart.

The nights, on generated exports of every format: a first full build; late posts (dated weeks
before the first night) plus an export ingested twice (duplicates) plus a new day; a rejected batch;
an imported domain list (reference data: only its descendants are rebuilt); a re-mapped batch; and a
night with nothing new (nothing is built).
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from discourse import pipeline
from discourse.settings import load_settings
from discourse.transform import build_marts
from discourse.transform.importers import import_domains
from discourse.transform.increments import plan_build
from discourse.transform.runner import dbt_project_dir
from ingest.lake import read_manifests
from ingest.remap import remap
from synth.corpus import generate

pytestmark = pytest.mark.integration

KEY = "incremental-test-key"


def _settings(home: Path, part_posts: int | None = None):
    env = {"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY}
    if part_posts is not None:
        env["DISCOURSE_DBT_PART_POSTS"] = str(part_posts)
    if os.environ.get("DISCOURSE_DBT_PROJECT_DIR"):
        env["DISCOURSE_DBT_PROJECT_DIR"] = os.environ["DISCOURSE_DBT_PROJECT_DIR"]
    return load_settings(env=env)


def _ingest(settings, folder: Path) -> list[str]:
    batches = []
    for path in sorted(folder.iterdir()):
        if "_ground_truth" in path.name:
            continue
        res = pipeline.ingest_one(settings, str(path))
        assert not res.get("error"), res
        batches += res["batch_ids"]
    return batches


def _marts(con: duckdb.DuckDBPyConnection, db: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = 'marts' "
        "order by 1", [db]).fetchall()]


def _normalised(con: duckdb.DuckDBPyConnection, db: str, table: str) -> str:
    cols = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'marts' "
        "and table_name = ? order by column_index", [db, table]).fetchall()
    exprs = [f'round("{c}", 6) as "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in cols]
    return f"select {', '.join(exprs)} from {db}.marts.\"{table}\""


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int, int, int]]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        assert _marts(con, "a") == _marts(con, "b")
        out = {}
        for table in _marts(con, "a"):
            qa, qb = _normalised(con, "a", table), _normalised(con, "b", table)
            only_a = con.execute(f"select count(*) from ({qa} except all {qb})").fetchone()[0]
            only_b = con.execute(f"select count(*) from ({qb} except all {qa})").fetchone()[0]
            rows_a = con.execute(f"select count(*) from a.marts.\"{table}\"").fetchone()[0]
            rows_b = con.execute(f"select count(*) from b.marts.\"{table}\"").fetchone()[0]
            out[table] = (rows_a, rows_b, only_a, only_b)
        return out
    finally:
        con.close()


def _assert_same_as_full_build(settings, tmp_path: Path, label: str) -> None:
    full_home = tmp_path / f"full-{label}"
    full_home.mkdir()
    shutil.copytree(settings.lake, full_home / "lake")
    if settings.reference_dir.exists():
        shutil.copytree(settings.reference_dir, full_home / "reference")
    full = _settings(full_home)
    build_marts(full, full_refresh=True)
    diffs = _differences(settings.build_warehouse, full.build_warehouse)
    bad = {t: d for t, d in diffs.items() if d[2] or d[3] or d[0] != d[1]}
    assert not bad, (f"after {label}: marts differ from a full build "
                     f"(rows inc, rows full, only inc, only full): {bad}")
    assert diffs["posts"][0] > 0


def _compiled_test(settings, name: str) -> str:
    """The SQL dbt last compiled for the data test ``name`` (its file under the target path)."""
    found = sorted(settings.home.rglob(f"target/compiled/**/{name}.sql"))
    assert found, name
    return found[0].read_text(encoding="utf-8")


def test_incremental_nights_equal_one_full_build(tmp_path: Path) -> None:
    # The nights build the models that can be built in parts (dbt_project/macros/post_parts.sql) in
    # parts of 400 posts; the full builds they are compared with build them in one statement.
    settings = _settings(tmp_path / "home", part_posts=400)
    pipeline.ensure_home(settings)
    project = dbt_project_dir(settings)

    # Night 1: history, built in full.
    first = tmp_path / "exports-1"
    generate(first, 1500, seed=7, start=date(2026, 3, 1), days=12)
    _ingest(settings, first)
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "full"
    # A full build tests whole tables.
    assert "int_posts_affected" not in _compiled_test(settings, "not_null_posts_post_uid")
    # 1,500 posts in parts of 400: four parts, the model's statement builds part 0
    assert "hash(post_uid) % 4 = /*post_part*/0" in _compiled_test(settings, "int_posts_tagged_topics")

    # Night 2: a new day, late posts from weeks before, and an export that arrives a second time.
    second = tmp_path / "exports-2"
    generate(second, 500, seed=11, start=date(2026, 2, 10), days=3,
             formats=("x_v2", "reddit", "telegram"))
    generate(second / "newday", 500, seed=12, start=date(2026, 3, 13), days=1,
             formats=("mastodon", "bluesky"))
    for p in (second / "newday").iterdir():
        p.rename(second / f"newday_{p.name}")
    (second / "newday").rmdir()
    again = next(p for p in sorted(first.iterdir()) if p.name.startswith("reddit"))
    # The same records again, in a file that is not byte-identical (so it is not skipped as seen).
    (second / f"again_{again.name}").write_bytes(again.read_bytes() + b"\n")
    new_batches = _ingest(settings, second)
    plan = plan_build(settings, project)
    assert plan.mode == "incremental" and set(plan.delta_batches) == set(new_batches)
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "incremental"
    # An incremental night tests the rows it rewrote (dbt_project/macros/incremental_tests.sql) ...
    assert "int_posts_affected" in _compiled_test(settings, "not_null_posts_post_uid")
    assert "int_affected_dates" in _compiled_test(settings, "not_null_sentiment_daily_activity_date")
    # ... and whole tables where a model is rebuilt whole.
    clusters = _compiled_test(settings, "not_null_coordinated_clusters_cluster_id")
    assert "int_posts_affected" not in clusters and "int_affected_dates" not in clusters
    _assert_same_as_full_build(settings, tmp_path, "late posts and duplicates")
    # Every mart is compared; emerging stories must not be an empty comparison (the planted ones).
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        days = con.execute("select count(distinct activity_date) from marts.emerging_stories").fetchone()[0]
        assert days >= 2
    finally:
        con.close()

    # Night 3: batches are rejected (set aside as the raw gate does): every batch holding posts of
    # coordinated clusters but one, so clusters shrink or vanish.
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        holders = [r[0] for r in con.execute(
            "select batch_id from marts.posts where cluster_id is not null "
            "group by 1 order by count(*) desc, 1").fetchall()]
    finally:
        con.close()
    assert len(holders) >= 2
    pipeline.reject_batches(settings, holders[:-1], {"stage": "raw"})
    summary = build_marts(settings)
    assert summary["plan"]["gone_batches"] == len(holders) - 1
    _assert_same_as_full_build(settings, tmp_path, "rejections of clustered posts")
    # Night 4: reference data: an imported domain list rebuilds what reads it, nothing else.
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("domain,rating\nbit.ly,0.1\nkompas.com,0.95\ndetik.com,0.05\n", encoding="utf-8")
    import_domains(settings, ratings, "csv", source="test list")
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "incremental"
    assert summary["plan"]["refresh"] == ["source:reference_imports.domains_extra"]
    # Night 5: a batch is re-mapped in place.
    entry = sorted(read_manifests(settings.manifest_dir), key=lambda e: e["batch_id"])[0]
    remap(settings, batch_ids=[entry["batch_id"]])
    build_marts(settings)
    _assert_same_as_full_build(settings, tmp_path, "rejection, reference change and remap")

    # A night with nothing new plans nothing.
    plan = plan_build(settings, project)
    assert plan.mode == "incremental" and not plan.lake_changed and not plan.refresh


def test_posts_left_behind_by_a_dissolved_cluster_are_updated(tmp_path: Path) -> None:
    """Six accounts post one text within minutes, three in each of two batches: a coordinated
    cluster. Rejecting one batch dissolves it (three accounts are below the minimum); the three posts
    of the other batch did not change in the lake, yet their cluster_id and risk must."""
    from datetime import UTC, datetime, timedelta

    from dbt_lake import post, write_lake

    settings = _settings(tmp_path / "home")
    pipeline.ensure_home(settings)
    text = "Sebarkan sekarang juga berita penting ini sebelum dihapus oleh mereka semua"
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    rows = []
    for batch, offset in (("batch-a", 0), ("batch-b", 3)):
        for i in range(3):
            rows.append(post(f"{batch}-{i}", text, batch_id=batch, author_key=f"acct-{offset + i}",
                             created_at=t0 + timedelta(minutes=5 * (offset + i))))
        rows.append(post(f"{batch}-other", f"Postingan biasa dari {batch} tentang cuaca hari ini",
                         batch_id=batch, author_key=f"other-{batch}", created_at=t0))
    files = write_lake(settings.posts_dir, rows)
    settings.manifest_dir.mkdir(parents=True, exist_ok=True)
    for batch in ("batch-a", "batch-b"):
        mine = [str(f.relative_to(settings.lake)) for f in files if f.stem == batch]
        (settings.manifest_dir / f"{batch}.json").write_text(
            json.dumps({"batch_id": batch, "files": mine, "records_in": 4, "loaded": 4, "quarantined": 0,
                        "duplicates_within_batch": 0, "ingested_at": "2026-03-03T00:00:00Z"}))
    build_marts(settings)
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts where cluster_id is not null").fetchone() == (6,)
    finally:
        con.close()
    # batch-b is rejected: its files and manifest leave the lake
    for f in files:
        if f.stem == "batch-b":
            f.unlink()
    (settings.manifest_dir / "batch-b.json").unlink()
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "incremental" and summary["plan"]["gone_batches"] == 1
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone() == (4,)
        assert con.execute("select count(*) from marts.posts where cluster_id is not null").fetchone() == (0,)
        assert con.execute("select count(*) from marts.coordinated_clusters").fetchone() == (0,)
    finally:
        con.close()
    _assert_same_as_full_build(settings, tmp_path, "a dissolved cluster")


def test_a_late_post_joins_a_family_through_a_new_smaller_bucket_head(tmp_path: Path) -> None:
    """Four accounts post two near-identical texts A and B on an old day (below the five accounts a
    cluster needs): one family, linked through the smaller of the two. A late post of a third
    variant C whose text_hash is smaller than both becomes the head of their buckets: every link
    moves to it, the family becomes C's and the five accounts a cluster on that old day. Rejecting C
    again moves the heads back and dissolves the cluster. Each night equals a full build."""
    from datetime import UTC, datetime, timedelta

    from dbt_lake import post, write_lake

    settings = _settings(tmp_path / "home")
    pipeline.ensure_home(settings)
    base = ("pesan berantai ini bilang vaksin baru dari luar negeri mengandung bahan berbahaya yang "
            "sengaja disembunyikan pejabat kesehatan jadi jangan mau divaksin sebelum membaca "
            "penjelasan lengkap dari dokter di grup kami nomor")
    # Variants differing in the last word only (about 0.93 alike): C is the one with the smallest
    # text_hash (md5_number, as int_posts_fingerprinted computes it; the texts are already normalised).
    variants = [f"{base} {i}" for i in range(20)]
    hashes = dict(duckdb.execute(
        "select t, md5_number(t) from unnest(?) as v(t)", [variants]).fetchall())
    ordered = sorted(variants, key=hashes.__getitem__)
    text_c, text_a, text_b = ordered[0], ordered[1], ordered[2]
    day = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    def write_batch(batch: str, rows: list[dict]) -> list[Path]:
        files = write_lake(settings.posts_dir, rows)
        settings.manifest_dir.mkdir(parents=True, exist_ok=True)
        (settings.manifest_dir / f"{batch}.json").write_text(json.dumps({
            "batch_id": batch, "files": [str(f.relative_to(settings.lake)) for f in files],
            "records_in": len(rows), "loaded": len(rows), "quarantined": 0,
            "duplicates_within_batch": 0, "ingested_at": "2026-03-12T00:00:00Z"}))
        return files

    # Night 1: A by three accounts and B by one within minutes, and a later day.
    write_batch("batch-a", [
        *(post(f"a-{i}", text_a, batch_id="batch-a", author_key=f"acct-{i}",
               created_at=day + timedelta(minutes=5 * i)) for i in range(3)),
        post("b-0", text_b, batch_id="batch-a", author_key="acct-3", created_at=day + timedelta(minutes=15)),
        post("later", "Cuaca cerah sepanjang hari di kota kami minggu ini", batch_id="batch-a",
             author_key="other-a", created_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC)),
    ])
    build_marts(settings)

    def clustered() -> tuple[list, list]:
        con = duckdb.connect(str(settings.build_warehouse), read_only=True)
        try:
            members = con.execute("select post_uid, cluster_id from marts.posts "
                                  "where cluster_id is not null order by 1").fetchall()
            heads = {r[0] for r in con.execute(
                "select distinct cast(head as varchar) from intermediate.int_text_links").fetchall()}
            families = {r[0] for r in con.execute(
                "select distinct cast(family as varchar) from intermediate.int_posts_clustered").fetchall()}
            return members, heads, families
        finally:
            con.close()

    members, heads, _ = clustered()
    assert members == [] and heads == {str(min(hashes[text_a], hashes[text_b]))}

    # Night 2: the late post of C on the old day, and a new day.
    files_c = write_batch("batch-c", [
        post("c-0", text_c, batch_id="batch-c", author_key="acct-4", created_at=day + timedelta(minutes=20)),
        post("newday", "Pasar malam dibuka lagi akhir pekan ini dengan banyak jajanan", batch_id="batch-c",
             author_key="other-c", created_at=datetime(2026, 3, 11, 9, 0, tzinfo=UTC)),
    ])
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "incremental"
    members, heads, families = clustered()
    assert [m[0] for m in members] == ["x:a-0", "x:a-1", "x:a-2", "x:b-0", "x:c-0"]
    # C heads the buckets it shares with A and B (a band where C's slots differ keeps A or B's head)
    assert len({m[1] for m in members}) == 1 and str(hashes[text_c]) in heads
    assert families == {str(hashes[text_c])}
    _assert_same_as_full_build(settings, tmp_path, "a new smaller bucket head")

    # Night 3: C is rejected: the heads move back and the cluster dissolves.
    for f in files_c:
        f.unlink()
    (settings.manifest_dir / "batch-c.json").unlink()
    summary = build_marts(settings)
    assert summary["plan"]["mode"] == "incremental" and summary["plan"]["gone_batches"] == 1
    members, heads, families = clustered()
    assert members == [] and families == set()
    assert heads == {str(min(hashes[text_a], hashes[text_b]))}
    _assert_same_as_full_build(settings, tmp_path, "the head rejected again")
