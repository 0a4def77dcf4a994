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
    edges changed; a snapshot of an older layout (no hidden row hashes) is followed by one publish
    that writes every date whole."""
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
    # as an older publish wrote it: no layout version
    snap_file = settings.home / "published" / "snapshots" / "run-1.json"
    snap = json.loads(snap_file.read_text())
    del snap["format"]
    snap_file.write_text(json.dumps(snap))
    build([*edges, ("2026-03-03", "b", "a")])
    second = publish(settings, "run-2")
    snap = json.loads((settings.home / "published" / "snapshots" / "run-2.json").read_text())
    assert sorted(snap["marts"]["posts"]) == [
        "marts/posts/created_date=2026-03-01/run-2.parquet",
        "marts/posts/created_date=2026-03-02/run-2.parquet"]
    assert sorted(snap["marts"]["author_edges"]) == [  # the older layout: every date written whole
        "marts/author_edges/day=2026-03-01/run-2.parquet", "marts/author_edges/day=2026-03-02/run-2.parquet",
        "marts/author_edges/day=2026-03-03/run-2.parquet"]
    build([*edges, ("2026-03-03", "b", "a"), ("2026-03-03", "c", "a")])
    third = publish(settings, "run-3")
    snap = json.loads((settings.home / "published" / "snapshots" / "run-3.json").read_text())
    assert sorted(snap["marts"]["author_edges"]) == [
        "marts/author_edges/day=2026-03-01/run-2.parquet", "marts/author_edges/day=2026-03-02/run-2.parquet",
        "marts/author_edges/day=2026-03-03/run-3.parquet"]
    # run-2: every date of both dated marts and the daily mart; run-3: the changed day and the daily mart
    assert (second["files_written"], third["files_written"]) == (6, 2)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        counts = con.execute("select count(*), count(distinct day) from marts.author_edges").fetchone()
        assert counts == (5, 3)
        cols = [r[0] for r in con.execute("describe marts.author_edges").fetchall()]
        assert cols == ["day", "source_author_key", "target_author_key", "edge_type", "weight"]
    finally:
        con.close()


def _rows_build(settings, rows: list[tuple], columns: str = "post_uid, created_date, text") -> None:
    """A build warehouse whose ``marts.posts`` holds ``rows`` (post_uid, created_date, text[, more])."""
    import pyarrow as pa

    settings.build_warehouse.unlink(missing_ok=True)
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    names = [c.strip() for c in columns.split(",")]
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})
    con = duckdb.connect(str(settings.build_warehouse))
    try:
        con.execute("create schema marts")
        con.register("incoming", table)
        con.execute("create table marts.posts as select * replace (created_date::date as created_date) "
                    "from incoming")
        con.execute("create table marts.daily as select created_date, count(*) as n "
                    "from marts.posts group by 1")
    finally:
        con.close()


def _published_rows(settings, as_of: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """marts.posts as the warehouse's view and as the analysts' connection show it, sorted."""
    from discourse.publish import open_published

    rows = []
    if as_of is None:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            rows = sorted(con.execute("select * from marts.posts").fetchall(), key=repr)
        finally:
            con.close()
    con = open_published(settings, as_of=as_of)
    try:
        analyst = sorted(con.execute("select * from marts.posts").fetchall(), key=repr)
    finally:
        con.close()
    return rows, analyst


def test_a_changed_date_gets_a_patch_not_a_rewrite(settings):
    """A few changed, new and re-dated rows on a big date: a patch of those rows and a file of the
    replaced rows' hashes; the base stays, the views show exactly the build's rows, hidden columns
    and all, and the earlier run stays readable as of its snapshot. A date a post left altogether
    (deleted, rejected, forgotten) is written whole: no file keeps the post, hidden or not."""
    from datetime import date

    rows = [(f"x:{i}", date(2026, 3, 1 + i % 2), f"text {i}") for i in range(200)]
    _rows_build(settings, rows)
    publish(settings, "run-1")
    first = sorted(rows, key=repr)
    changed = [(u, d, t + " edited") if u in ("x:6", "x:8") else (u, d, t) for u, d, t in rows]
    changed = [(u, date(2026, 3, 3), t) if u == "x:0" else (u, d, t) for u, d, t in changed]  # re-dated
    changed.append(("x:900", date(2026, 3, 1), "late post"))
    _rows_build(settings, changed)
    info = publish(settings, "run-2")
    assert info["dates_patched"] == 1
    snap = json.loads((settings.home / "published" / "snapshots" / "run-2.json").read_text())
    assert sorted(snap["marts"]["posts"]) == [
        "marts/posts/created_date=2026-03-01/run-1.parquet",
        "marts/posts/created_date=2026-03-01/run-2.parquet",
        "marts/posts/created_date=2026-03-02/run-1.parquet",
        "marts/posts/created_date=2026-03-03/run-2.parquet"]
    assert snap["removed"]["posts"] == ["marts/posts/created_date=2026-03-01/run-2.removed.parquet"]
    # 3 rows added or edited; 2 replaced and 1 re-dated, removed
    assert snap["dated"]["posts"]["2026-03-01"]["patch"] == 3 + 3
    patch = settings.home / "published" / snap["marts"]["posts"][1]
    assert duckdb.connect().execute(f"select count(*) from '{patch}'").fetchall() == [(3,)]
    view, analyst = _published_rows(settings)
    assert view == analyst == sorted(changed, key=repr)
    assert _published_rows(settings, as_of="run-1")[1] == first
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        columns = [r[0] for r in con.execute("describe marts.posts").fetchall()]
        assert columns == ["post_uid", "created_date", "text"]
        # the removed rows are left out by a plain anti join, not a correlated subquery (which DuckDB
        # plans as a delim join reading every column of every row: 50 times slower at 5M posts)
        plan = str(con.execute("explain select count(*) from marts.posts").fetchall()).upper()
        assert "ANTI" in plan and "DELIM" not in plan
    finally:
        con.close()
    # a post deleted from 03-02: that date is written whole, the other keeps its patch
    gone = [r for r in changed if r[0] != "x:1"]
    _rows_build(settings, gone)
    assert publish(settings, "run-3")["dates_patched"] == 0
    snap = json.loads((settings.home / "published" / "snapshots" / "run-3.json").read_text())
    assert snap["dated"]["posts"]["2026-03-02"]["files"] == [
        "marts/posts/created_date=2026-03-02/run-3.parquet"]
    assert len(snap["dated"]["posts"]["2026-03-01"]["files"]) == 2
    texts = duckdb.connect().execute("select text from read_parquet(?)", [
        [str(settings.home / "published" / rel) for rel in snap["marts"]["posts"]]]).fetchall()
    assert ("text 1",) not in texts
    assert _published_rows(settings)[0] == sorted(gone, key=repr)


def test_patches_over_many_nights_equal_the_build_and_compact_past_the_limit(settings):
    """Random nights (edits, new, removed and re-dated rows, a row identical to another, a new column):
    after each publish the published posts equal the build's, through the warehouse and the analysts'
    connection, and every retained earlier run shows its own build. A date is written whole when its
    patches pass the limit, when a row is duplicated, and when the columns change."""
    import random
    from datetime import date, timedelta

    from discourse.publish import MAX_LAYERS, PATCH_LIMIT

    rng = random.Random(11)
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(6)]
    rows = {f"x:{i}": (days[i % 6], f"text {i}") for i in range(600)}
    history: dict[str, list[tuple]] = {}
    kinds = {"patched": 0, "whole": 0}
    for night in range(1, 13):
        if night > 1:
            uids = sorted(rows)
            for uid in rng.sample(uids, rng.randint(1, 8)):
                rows[uid] = (rows[uid][0], rows[uid][1] + f" n{night}")
            for uid in rng.sample(uids, rng.randint(0, 4)):
                rows.pop(uid, None)
            for i in range(rng.randint(0, 6)):
                rows[f"x:{night}-{i}"] = (rng.choice(days), f"new {night} {i}")
            if night % 4 == 0:
                uid = rng.choice(sorted(rows))
                rows[uid] = (days[(days.index(rows[uid][0]) + 1) % 6], rows[uid][1])  # re-dated
        if night == 7:  # one night touches a third of a date: past the limit
            for uid in [u for u in sorted(rows) if rows[u][0] == days[2]][::3]:
                rows[uid] = (rows[uid][0], rows[uid][1] + " bulk")
        table = [(uid, d, t) for uid, (d, t) in sorted(rows.items())]
        if night == 9:  # a row identical to another: its date is written whole
            table.append(table[0])
        if night == 11:  # a new column: every date written whole
            _rows_build(settings, [(*r, len(r[2])) for r in table], "post_uid, created_date, text, n")
        elif night == 12:
            _rows_build(settings, [(*r, len(r[2])) for r in table], "post_uid, created_date, text, n")
        else:
            _rows_build(settings, table)
        run = f"run-{night:02d}"
        info = publish(settings.with_(publish_keep_snapshots=4), run)
        snap = json.loads((settings.home / "published" / "snapshots" / f"{run}.json").read_text())
        con = duckdb.connect(str(settings.build_warehouse), read_only=True)
        try:
            expected = sorted(con.execute("select * from marts.posts").fetchall(), key=repr)
        finally:
            con.close()
        view, analyst = _published_rows(settings)
        assert view == analyst == expected, run
        history[run] = expected
        # no file of the snapshot keeps a post that left the mart, even hidden
        files = [str(settings.home / "published" / rel) for rel in snap["marts"]["posts"]]
        kept = duckdb.connect().execute(
            "select distinct post_uid from read_parquet(?, union_by_name = true)", [files]).fetchall()
        assert {r[0] for r in kept} == {r[0] for r in expected}, run
        for entry in snap["dated"]["posts"].values():
            assert len(entry["files"]) + len(entry["removed"]) <= MAX_LAYERS
            assert entry["patch"] <= 1.5 * PATCH_LIMIT * entry["base"]
        whole = [k for k, e in snap["dated"]["posts"].items() if e["files"][0].endswith(f"/{run}.parquet")]
        kinds["patched"] += info["dates_patched"]
        kinds["whole"] += len(whole)
        if night == 7:
            assert str(days[2]) in whole
        if night == 9:
            assert str(table[0][1]) in whole
        if night == 11:
            assert len(whole) == 6
    for run in sorted(history)[-4:]:
        assert _published_rows(settings, as_of=run)[1] == history[run], run
    assert kinds["patched"] > 20 and kinds["whole"] >= 6 + 6 + 2


def test_the_publish_after_a_forget_leaves_no_patched_date(settings):
    """After a forget every changed or patched date is written whole: no published file keeps a
    removed row, hidden or not."""
    from datetime import date

    from discourse.forget import _mark_pending

    rows = [(f"x:{i}", date(2026, 3, 1 + i % 3), f"text {i}") for i in range(300)]
    _rows_build(settings, rows)
    publish(settings, "run-1")
    rows = [(u, d, t + " edited") if u in ("x:1", "x:2") else (u, d, t) for u, d, t in rows]
    _rows_build(settings, rows)
    publish(settings, "run-2")  # 03-02 and 03-03 patched
    _mark_pending(settings, "2026-03-05T00:00:00+00:00")
    rows = [r for r in rows if r[0] != "x:4"]  # the forgotten author's post, on 03-02
    _rows_build(settings, rows)
    info = publish(settings, "run-3")
    assert info["dates_patched"] == 0
    snap = json.loads((settings.home / "published" / "snapshots" / "run-3.json").read_text())
    assert sorted(snap["marts"]["posts"]) == [
        "marts/posts/created_date=2026-03-01/run-1.parquet",  # untouched since run-1: kept
        "marts/posts/created_date=2026-03-02/run-3.parquet",
        "marts/posts/created_date=2026-03-03/run-3.parquet"]
    assert snap["removed"]["posts"] == []
    texts = duckdb.connect().execute("select text from read_parquet(?)", [
        [str(settings.home / "published" / rel) for rel in snap["marts"]["posts"]]]).fetchall()
    assert ("text 4",) not in texts and ("text 1",) not in texts


def test_analysts_read_a_patched_mart_without_file_access(settings):
    """`discourse query`'s connection (no file access, locked) reads a patched date right: the
    replaced row left out, the hidden columns dropped."""
    from datetime import date

    from discourse.cli import connect_analyst

    rows = [(f"x:{i}", date(2026, 3, 1), f"text {i}") for i in range(20)]
    _rows_build(settings, rows)
    publish(settings, "run-1")
    rows[3] = ("x:3", date(2026, 3, 1), "text 3 edited")
    _rows_build(settings, rows)
    assert publish(settings, "run-2")["dates_patched"] == 1
    con = connect_analyst(settings)
    try:
        assert sorted(con.execute("select * from marts.posts").fetchall(), key=repr) == sorted(rows, key=repr)
        with pytest.raises(duckdb.Error):
            con.execute("set enable_external_access = true")
    finally:
        con.close()
