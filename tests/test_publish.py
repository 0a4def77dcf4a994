"""Publish leaves only ``marts`` in the warehouse analysts query: no staging view over the lake's raw
JSON, no intermediate or reference tables, nothing in ``main``; and it says whether it is a demo."""

from __future__ import annotations

import json

import duckdb
import pytest

from discourse.publish import PublishError, publish


def _build(settings, *, mart_view_on_staging: bool = False) -> None:
    """A build warehouse shaped like dbt's: a staging view over a Parquet 'lake' whose raw JSON holds
    the author's handle, intermediate and reference tables, and the marts."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    lake = settings.home / "lake.parquet"
    settings.build_warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(settings.build_warehouse))
    try:
        con.execute(
            f"copy (select 'x:1' as post_uid, 'k1' as author_key, "
            f"'{{\"author\": \"alice_handle\"}}' as raw) to '{lake}' (format parquet)")
        con.execute("create schema staging; create schema intermediate; create schema reference; "
                    "create schema marts")
        con.execute(f"create view staging.stg_lake__posts as select * from read_parquet('{lake}')")
        con.execute("create table intermediate.int_posts as select post_uid, author_key, raw "
                    "from staging.stg_lake__posts")
        con.execute("create table reference.lexicon as select 'baik' as term, 1.0 as weight")
        con.execute("create table main.leftover as select 1 as x")
        con.execute("create table marts.posts as select post_uid, author_key from intermediate.int_posts")
        con.execute("create view marts.posts_by_author as select author_key, count(*) as n "
                    "from marts.posts group by 1")
        if mart_view_on_staging:
            con.execute("create view marts.leaky as select raw from staging.stg_lake__posts")
    finally:
        con.close()


def _schemas(path) -> dict[str, list[str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2").fetchall()
        names = [r[0] for r in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()").fetchall()]
    finally:
        con.close()
    out: dict[str, list[str]] = {n: [] for n in names}
    for schema, table in rows:
        out[schema].append(table)
    return out


def test_published_warehouse_holds_only_marts(settings):
    _build(settings)
    info = publish(settings, "run-1")
    assert settings.build_warehouse.exists()  # the build keeps its history for the next night
    schemas = _schemas(settings.warehouse)
    assert set(schemas) == {"marts", "main"}
    assert schemas["main"] == []
    assert schemas["marts"] == ["about", "posts", "posts_by_author", "snapshots"]
    assert sorted(info["unpublished_schemas"]) == ["intermediate", "reference", "staging"]
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        # The reproduction: handles beside keys through the staging view. Gone.
        with pytest.raises(duckdb.CatalogException):
            con.execute("select json_extract_string(raw, '$.author'), author_key "
                        "from staging.stg_lake__posts").fetchall()
        assert con.execute("select count(*) from marts.posts_by_author").fetchone() == (1,)
        about = con.execute("select demo, run_id, pseudonymised from marts.about").fetchone()
    finally:
        con.close()
    assert about == (False, "run-1", True)
    assert b"alice_handle" not in settings.warehouse.read_bytes()
    assert json.loads((settings.home / "published.json").read_text())["schemas"] == ["marts"]


def test_demo_publish_is_marked_as_demo(settings):
    _build(settings)
    publish(settings.with_(is_demo=True), "demo-run")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        demo, note = con.execute("select demo, note from marts.about").fetchone()
        comment = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'about'"
        ).fetchone()[0]
    finally:
        con.close()
    assert demo is True and "demo key" in note
    assert "DEMO" in comment


def test_a_mart_view_on_staging_is_refused_and_the_published_warehouse_kept(settings):
    _build(settings)
    publish(settings, "run-1")
    before = settings.warehouse.read_bytes()
    _build(settings, mart_view_on_staging=True)
    with pytest.raises(PublishError, match="marts.leaky"):
        publish(settings, "run-2")
    assert settings.warehouse.read_bytes() == before
    # Refused before anything changed: the build still has its staging schema for a look.
    assert "staging" in _schemas(settings.build_warehouse)


def _posts_build(settings, days: list[str | None], extra: str = "") -> None:
    settings.build_warehouse.unlink(missing_ok=True)
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.build_warehouse))
    try:
        con.execute("create schema marts")
        values = ", ".join(f"('x:{i}', {'null' if d is None else repr(d)}::date, "
                           f"'text {i}{extra if d == days[-1] else ''}')" for i, d in enumerate(days))
        con.execute(f"create table marts.posts as select * from (values {values}) "
                    "t(post_uid, created_date, text)")
        con.execute("create table marts.daily as "
                    "select created_date, count(*) as n from marts.posts group by 1")
    finally:
        con.close()


def test_a_night_rewrites_only_the_dates_that_changed_and_old_snapshots_are_pruned(settings):
    days = ["2026-03-01", "2026-03-01", "2026-03-02", "2026-03-03"]
    _posts_build(settings, days)
    first = publish(settings, "run-1")
    assert first["files_written"] == 4  # three dates of posts and the daily mart
    _posts_build(settings, [*days, "2026-03-04"])
    second = publish(settings, "run-2")
    assert (second["files_written"], second["files_reused"]) == (2, 3)  # the new date and the daily mart
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone() == (5,)
        assert con.execute("select run_id from marts.about").fetchone() == ("run-2",)
        runs = con.execute("select run_id from marts.snapshots order by published_at").fetchall()
        assert [r[0] for r in runs] == ["run-1", "run-2"]
    finally:
        con.close()
    kept = settings.with_(publish_keep_snapshots=2)
    for n in range(3, 6):
        _posts_build(settings, [*days, "2026-03-04"], extra=f" v{n}")  # the last date changes each night
        publish(kept, f"run-{n}")
    snaps = sorted(p.stem for p in (settings.home / "published" / "snapshots").glob("*.json"))
    assert snaps == ["run-4", "run-5"]
    files = sorted(p.relative_to(settings.home / "published" / "marts").as_posix()
                   for p in (settings.home / "published" / "marts").rglob("*.parquet"))
    # the unchanged dates still come from run-1; the changed date and the daily mart from runs 4 and 5
    assert "posts/created_date=2026-03-01/run-1.parquet" in files
    assert not any("run-2" in f or "run-3" in f for f in files)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select text from marts.posts where created_date = '2026-03-04'").fetchone() == (
            "text 4 v5",)
    finally:
        con.close()


def test_changed_dates_are_written_in_one_pass_and_a_crashed_pass_leaves_nothing(settings, monkeypatch):
    """The changed dates of posts come from one partitioned copy (a date with a NULL created_date
    too); the hidden folder of a pass that crashed is removed by the next publish."""
    import discourse.publish as pub

    _posts_build(settings, ["2026-03-01", "2026-03-02", None])
    copies = []
    real = pub._write_dates
    monkeypatch.setattr(pub, "_write_dates", lambda *a: copies.append((a[-3], a[-1])) or real(*a))
    publish(settings, "run-1")
    assert copies == [("posts", ["2026-03-01", "2026-03-02", "none"])]
    marts = settings.home / "published" / "marts"
    written = sorted(p.relative_to(marts / "posts").as_posix() for p in (marts / "posts").rglob("*.parquet"))
    assert written == [
        "created_date=2026-03-01/run-1.parquet", "created_date=2026-03-02/run-1.parquet",
        "created_date=none/run-1.parquet"]
    leftover = marts / "posts" / ".tmp-run-0" / "created_date=2026-03-01"
    leftover.mkdir(parents=True)
    (leftover / "part_0.parquet").write_bytes(b"partial")
    publish(settings, "run-2")
    assert not (marts / "posts" / ".tmp-run-0").exists()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        assert con.execute("select count(*), count(created_date) from marts.posts").fetchone() == (3, 2)
    finally:
        con.close()


def test_analysts_read_a_snapshot_without_file_access(settings):
    from discourse.cli import connect_analyst

    _posts_build(settings, ["2026-03-01", "2026-03-02"])
    publish(settings, "run-1")
    _posts_build(settings, ["2026-03-01", "2026-03-02", "2026-03-03"])
    publish(settings, "run-2")
    con = connect_analyst(settings)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone() == (3,)
        snapshot_file = next((settings.home / "published" / "marts" / "posts").rglob("*.parquet"))
        for sql in (f"select * from read_parquet('{snapshot_file}')",
                    f"copy (select 1) to '{snapshot_file}'",
                    "set enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
    finally:
        con.close()
    # "as of" an earlier run
    from discourse.publish import open_published

    old = open_published(settings, as_of="run-1")
    try:
        assert old.execute("select count(*) from marts.posts").fetchone() == (2,)
    finally:
        old.close()


def test_column_descriptions_reach_the_published_warehouse(settings):
    """dbt's persist_docs writes descriptions as DuckDB comments; publish carries them to the views."""
    _build(settings)
    con = duckdb.connect(str(settings.build_warehouse))
    try:
        con.execute("comment on table marts.posts is 'One row per post.'")
        con.execute("comment on column marts.posts.author_key is 'Pseudonymised author (keyed hash).'")
    finally:
        con.close()
    publish(settings, "run-docs")
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select column_name, comment from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'posts' order by column_index").fetchall()
        table = con.execute(
            "select comment from duckdb_views() where schema_name = 'marts' and view_name = 'posts'"
        ).fetchone()
    finally:
        con.close()
    assert rows == [("post_uid", None), ("author_key", "Pseudonymised author (keyed hash).")]
    assert table == ("One row per post.",)


def test_author_edges_are_published_by_day_like_posts(settings):
    """author_edges grows with history as posts does: a file per day, rewritten only for the days whose
    edges changed; a snapshot written before it was dated (posts' fingerprints under
    ``posts_fingerprints``) still lets the next night reuse the posts files."""
    def build(edges: list[tuple[str, str, str]]) -> None:
        _posts_build(settings, ["2026-03-01", "2026-03-02"])
        con = duckdb.connect(str(settings.build_warehouse))
        try:
            values = ", ".join(f"({d!r}::date, {s!r}, {t!r}, 'repost', 1)" for d, s, t in edges)
            con.execute(f"create table marts.author_edges as select * from (values {values}) "
                        "t(day, source_author_key, target_author_key, edge_type, weight)")
        finally:
            con.close()

    edges = [("2026-03-01", "a", "b"), ("2026-03-01", "c", "b"), ("2026-03-02", "a", "c")]
    build(edges)
    publish(settings, "run-1")
    marts = settings.home / "published" / "marts"
    assert sorted(p.relative_to(marts / "author_edges").as_posix()
                  for p in (marts / "author_edges").rglob("*.parquet")) == [
        "day=2026-03-01/run-1.parquet", "day=2026-03-02/run-1.parquet"]
    # as an older publish wrote it: the posts' fingerprints alone, under their old key
    snap_file = settings.home / "published" / "snapshots" / "run-1.json"
    snap = json.loads(snap_file.read_text())
    snap["posts_fingerprints"] = snap["fingerprints"].pop("posts")
    del snap["fingerprints"]["author_edges"]
    snap_file.write_text(json.dumps(snap))
    build([*edges, ("2026-03-03", "b", "a")])
    second = publish(settings, "run-2")
    snap = json.loads((settings.home / "published" / "snapshots" / "run-2.json").read_text())
    assert sorted(snap["marts"]["posts"]) == [
        "marts/posts/created_date=2026-03-01/run-1.parquet",
        "marts/posts/created_date=2026-03-02/run-1.parquet"]
    assert sorted(snap["marts"]["author_edges"]) == [  # no fingerprints of author_edges in run-1: all new
        "marts/author_edges/day=2026-03-01/run-2.parquet", "marts/author_edges/day=2026-03-02/run-2.parquet",
        "marts/author_edges/day=2026-03-03/run-2.parquet"]
    build([*edges, ("2026-03-03", "b", "a"), ("2026-03-03", "c", "a")])
    third = publish(settings, "run-3")
    snap = json.loads((settings.home / "published" / "snapshots" / "run-3.json").read_text())
    assert sorted(snap["marts"]["author_edges"]) == [
        "marts/author_edges/day=2026-03-01/run-2.parquet", "marts/author_edges/day=2026-03-02/run-2.parquet",
        "marts/author_edges/day=2026-03-03/run-3.parquet"]
    assert (second["files_written"], third["files_written"]) == (4, 2)  # the changed days + the daily mart
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        counts = con.execute("select count(*), count(distinct day) from marts.author_edges").fetchone()
        assert counts == (5, 3)
        cols = [r[0] for r in con.execute("describe marts.author_edges").fetchall()]
        assert cols == ["day", "source_author_key", "target_author_key", "edge_type", "weight"]
    finally:
        con.close()
