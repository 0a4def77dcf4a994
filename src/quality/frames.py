"""Loading the frames the gates validate, from DuckDB: the lake's Parquet files or a warehouse.

The load is kept small (``quality.gates`` explains why GX gets a pandas frame at all):

* only the columns the suite references (``suites.suite_columns``) plus the key columns used for
  sample rows are read; derived columns (``suites.DERIVED_COLUMNS``) are computed by DuckDB while
  reading;
* the raw gate reads only the Parquet files of the batches it is given (one file per partition and
  batch, ``lake_files``), so a nightly run validates tonight's batches, not the whole lake.

The lake may be on object storage (``lake_url``): its files are then ``s3://`` URLs, read by DuckDB
through the filesystem ``connect(settings=...)`` registers (``ingest.objectstore``).

Warehouses are opened read-only. Nothing heavy is imported at module level.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.objectstore import lake_store
from quality import suites

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from discourse.settings import Settings

log = logging.getLogger(__name__)

LAKE_GLOB = "platform=*/created_date=*/*.parquet"


def connect(db_path: Path | None = None, *, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB (for the lake), or ``db_path`` opened read-only; the session is in UTC.

    With ``settings`` whose lake is on object storage, the connection reads its ``s3://`` files (the
    lake's, or those the build warehouse's staging views read)."""
    import duckdb

    store = lake_store(settings) if settings is not None else None
    if db_path is None:
        con = duckdb.connect(":memory:")
    else:
        try:
            con = duckdb.connect(str(db_path), read_only=True)
        except duckdb.ConnectionException as exc:
            # This process already holds the file open read-write (dbt run in-process, e.g. by
            # `discourse run`); DuckDB then only hands out connections to that same instance.
            # The gates still only read.
            if "different configuration" not in str(exc):
                raise
            log.debug("%s is open read-write in this process; reading through that instance", db_path)
            con = duckdb.connect(str(db_path))
    if store is not None:  # the lake itself, or a warehouse whose staging views read it
        store.register(con)
    if settings is not None:
        from discourse.settings import apply_duckdb_limits

        apply_duckdb_limits(con, settings, spill="gate")
    con.execute("set TimeZone = 'UTC'")
    return con


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def parquet_relation(files: Sequence[Path | str] | Path | str, *, hive: bool = False) -> str:
    """``read_parquet`` over a list of files, or over the lake's glob when given its root (a folder, or
    an ``s3://`` URL: ``lake_root``)."""
    if isinstance(files, Path):
        source = _lit(str(files / LAKE_GLOB))
    elif isinstance(files, str):
        source = _lit(files.rstrip("/") + "/" + LAKE_GLOB)
    else:
        source = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
    return f"read_parquet({source}, union_by_name = true, hive_partitioning = {str(hive).lower()})"


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether the table or view ``relation`` (``schema.name``, default schema ``main``) exists."""
    schema, _, name = relation.rpartition(".")
    rows = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
        [schema or "main", name],
    ).fetchall()
    return bool(rows)


def load_frame(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], key_columns: Sequence[str]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read only ``columns`` (plus present key columns) of ``relation`` into pandas.

    Returns the frame, the suite columns that are missing from the relation, and the key columns
    that are present (used for sample rows).
    """
    available = [d[0] for d in con.sql(f"select * from {relation} limit 0").description]
    select: list[str] = []
    missing: list[str] = []
    for name in columns:
        if name in suites.DERIVED_COLUMNS:
            expr, needs = suites.DERIVED_COLUMNS[name]
            if all(n in available for n in needs):
                select.append(f"{expr} as {quote_ident(name)}")
            else:
                missing.append(name)
        elif name in available:
            select.append(quote_ident(name))
        else:
            missing.append(name)
    keys = [k for k in key_columns if k in available]
    select += [quote_ident(k) for k in keys if k not in columns]
    if not select:
        select = ["1 as _row"]
    # Plain numpy dtypes on purpose: integer columns with nulls become float64, because GX only
    # vectorises range checks for numpy numbers (pandas' nullable Int64 goes through a Python
    # call per value, ~1 s per million). ``quality.failures`` turns integral floats back into ints
    # for alerts. Narrow integers are widened for the same reason: GX's fast path checks for
    # int64/float64.
    table = con.sql(f"select {', '.join(select)} from {relation}").to_arrow_table()
    table = _widen_integers(table)
    frame = table.to_pandas(split_blocks=True, self_destruct=True)  # frees Arrow buffers as it goes
    del table
    return frame, missing, keys


def _widen_integers(table: Any) -> Any:
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_integer(f.type) and f.type != pa.int64():
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return table


def lake_root(settings: Settings) -> Path | str:
    """The root of the lake's posts: the local folder, or its ``s3://`` URL."""
    store = lake_store(settings)
    return settings.posts_dir if store is None else store.uri("posts")


def _remote_lake_files(settings: Settings) -> list[str]:
    from ingest.lake import lake_paths

    return lake_paths(settings, f"posts/{LAKE_GLOB}")


def lake_files(settings: Settings, batch_ids: list[str] | None) -> list[Path] | list[str]:
    """The lake's post files of ``batch_ids`` (every batch when None), sorted: paths, or ``s3://`` URLs
    when the lake is on object storage."""
    if lake_store(settings) is not None:
        urls = _remote_lake_files(settings)
        if batch_ids is None:
            return urls
        wanted = {f"{b}.parquet" for b in batch_ids}
        return [u for u in urls if u.rsplit("/", 1)[-1] in wanted]
    root = settings.posts_dir
    if not root.is_dir():
        return []
    if batch_ids is None:
        return sorted(root.glob(LAKE_GLOB))
    files: list[Path] = []
    for bid in dict.fromkeys(batch_ids):
        files += root.glob(f"platform=*/created_date=*/{bid}.parquet")
    return sorted(files)


def lake_has_posts(settings: Settings) -> bool:
    if lake_store(settings) is not None:
        return bool(_remote_lake_files(settings))
    root = settings.posts_dir
    return root.is_dir() and next(root.glob(LAKE_GLOB), None) is not None


# ---------------------------------------------------------------- staging: aggregates, not posts

STAGING_LAKE_TABLE = "_staging_gate_lake"
STAGING_ROWS_TABLE = "_staging_gate_staged"
STAGING_COUNTS_TABLE = "_staging_gate_counts"
STAGING_MANIFEST_VIEW = "_staging_gate_manifests"


def staging_frames(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    manifests: list[dict[str, Any]],
    files: Sequence[Path | str],
    *,
    keys: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two small frames the staging gate validates, aggregated in DuckDB.

    ``manifests`` are the committed batches (``ingest.lake.lake_manifests``) and ``files`` their post
    files in the lake; ``relation`` is the staged posts (``staging.stg_lake__posts``, a view over the
    lake). Only ``post_uid``, ``batch_id`` and ``ingested_at`` are read, into two temp tables, and
    every figure is a count over them, so the frames have one row per batch and one row in all,
    whatever the size of the lake.

    * **totals** (one row): ``lake_posts`` (distinct ``post_uid`` in the committed batches' files),
      ``staging_rows``, ``staging_posts`` (distinct ``post_uid`` in staging), ``staging_null_uids``.
    * **batches** (one row per batch that is committed or staged): ``batch_id``, ``source_file``,
      ``is_committed`` (it has a manifest), ``manifest_loaded``, ``lake_rows`` (rows of its lake
      files, named ``<batch_id>.parquet``), ``staged_rows`` (staging rows taken from it),
      ``posts_lost`` (its post_uids missing from staging) and ``posts_staged_from_older_batch`` (its
      post_uids staged from a batch with an older ``ingested_at``: the newest did not win).

    ``keys`` (a query of ``post_uid``s) scopes the posts to those: an incremental night's
    (``quality.posts_scope``), whose ``relation`` holds only them. The lake side then reads those
    posts' rows only, and ``lake_rows`` (every committed batch's, against its manifest) comes from
    the files' Parquet footers, not their rows: a file that lost rows since its manifest was written
    is still found, whichever night it belongs to.
    """
    import pyarrow as pa

    committed = pa.table(
        {
            "batch_id": pa.array([str(m["batch_id"]) for m in manifests], pa.string()),
            "source_file": pa.array([m.get("source_file") for m in manifests], pa.string()),
            "manifest_loaded": pa.array([m.get("loaded") for m in manifests], pa.int64()),
        }
    )
    con.register(STAGING_MANIFEST_VIEW, committed)
    if files:
        # The batch of a lake row is the file it is in (``<batch_id>.parquet``): that is what the
        # manifest's count is about, whatever the row's own batch_id column says.
        source = (
            f"select regexp_extract(filename, '([^/]+)\\.parquet$', 1) as batch_id, "
            f"cast(post_uid as varchar) as post_uid, cast(ingested_at as timestamptz) as ingested_at "
            f"from read_parquet([{', '.join(_lit(str(f)) for f in files)}], filename = true, "
            f"union_by_name = true, hive_partitioning = false)"
        )
    else:
        source = (
            "select null::varchar as batch_id, null::varchar as post_uid, "
            "null::timestamptz as ingested_at where false"
        )
    if keys is not None:
        source = f"select * from ({source}) where post_uid in (select post_uid from ({keys}))"
        counts = (
            f"select regexp_extract(file_name, '([^/]+)\\.parquet$', 1) as batch_id, "
            f"sum(num_rows)::bigint as lake_rows "
            f"from parquet_file_metadata([{', '.join(_lit(str(f)) for f in files)}]) group by 1"
            if files else "select null::varchar as batch_id, 0::bigint as lake_rows where false"
        )
    else:
        counts = f"select batch_id, count(*) as lake_rows from {STAGING_LAKE_TABLE} group by batch_id"
    con.execute(f"create or replace temp table {STAGING_LAKE_TABLE} as {source}")
    con.execute(f"create or replace temp table {STAGING_COUNTS_TABLE} as {counts}")
    con.execute(
        f"create or replace temp table {STAGING_ROWS_TABLE} as "
        f"select cast(post_uid as varchar) as post_uid, cast(batch_id as varchar) as batch_id, "
        f"cast(ingested_at as timestamptz) as ingested_at from {relation}"
    )
    try:
        totals = con.sql(
            f"""
            select
                (select count(distinct post_uid) from {STAGING_LAKE_TABLE}) as lake_posts,
                count(*) as staging_rows,
                count(distinct post_uid) as staging_posts,
                count(*) filter (where post_uid is null) as staging_null_uids
            from {STAGING_ROWS_TABLE}
            """
        ).df()
        batches = con.sql(
            f"""
            with lake_counts as (
                select batch_id, lake_rows from {STAGING_COUNTS_TABLE}
            ),
            lake_posts as (
                select distinct batch_id, post_uid, ingested_at from {STAGING_LAKE_TABLE}
            ),
            placement as (
                select
                    l.batch_id,
                    count(*) filter (where s.post_uid is null) as posts_lost,
                    count(*) filter (
                        where s.batch_id <> l.batch_id
                        and (s.ingested_at < l.ingested_at
                             or (s.ingested_at = l.ingested_at and s.batch_id < l.batch_id))
                    ) as posts_staged_from_older_batch
                from lake_posts as l
                left join {STAGING_ROWS_TABLE} as s on s.post_uid = l.post_uid
                group by l.batch_id
            ),
            staged_counts as (
                select batch_id, count(*) as staged_rows
                from {STAGING_ROWS_TABLE}
                group by batch_id
            ),
            keys as (
                select batch_id from {STAGING_MANIFEST_VIEW}
                union
                select batch_id from lake_counts
                union
                select batch_id from staged_counts
            )
            select
                k.batch_id,
                m.source_file,
                m.batch_id is not null as is_committed,
                m.manifest_loaded,
                coalesce(c.lake_rows, 0) as lake_rows,
                coalesce(s.staged_rows, 0) as staged_rows,
                coalesce(p.posts_lost, 0) as posts_lost,
                coalesce(p.posts_staged_from_older_batch, 0) as posts_staged_from_older_batch
            from keys as k
            left join {STAGING_MANIFEST_VIEW} as m on m.batch_id is not distinct from k.batch_id
            left join lake_counts as c on c.batch_id is not distinct from k.batch_id
            left join staged_counts as s on s.batch_id is not distinct from k.batch_id
            left join placement as p on p.batch_id is not distinct from k.batch_id
            order by k.batch_id
            """
        ).df()
    finally:
        con.unregister(STAGING_MANIFEST_VIEW)
    # Plain numpy dtypes (see ``load_frame``): a batch without a manifest makes manifest_loaded float.
    for col in ("lake_rows", "staged_rows", "posts_lost", "posts_staged_from_older_batch"):
        batches[col] = batches[col].astype("int64")
    if batches["manifest_loaded"].notna().all():
        batches["manifest_loaded"] = batches["manifest_loaded"].astype("int64")
    else:
        batches["manifest_loaded"] = batches["manifest_loaded"].astype("float64")
    batches["is_committed"] = batches["is_committed"].astype(bool)
    totals = totals.astype("int64")
    return batches, totals


def staging_samples(
    con: duckdb.DuckDBPyConnection, batch_ids: Sequence[str], limit: int = 5
) -> dict[str, Any]:
    """A few post_uids behind a failing staging check, for the alert (read from the temp tables
    ``staging_frames`` left on ``con``): duplicated in staging, and lost per given batch."""
    dup = con.sql(
        f"select post_uid, list(distinct batch_id order by batch_id) as batches from {STAGING_ROWS_TABLE} "
        f"group by post_uid having count(*) > 1 order by post_uid limit {int(limit)}"
    ).fetchall()
    lost: dict[str, list[str]] = {}
    for bid in batch_ids:
        rows = con.execute(
            f"select distinct l.post_uid from {STAGING_LAKE_TABLE} as l "
            f"anti join {STAGING_ROWS_TABLE} as s on s.post_uid = l.post_uid "
            f"where l.batch_id = ? order by 1 limit {int(limit)}",
            [bid],
        ).fetchall()
        if rows:
            lost[bid] = [r[0] for r in rows]
    return {"duplicated": [{"post_uid": u, "batches": list(b)} for u, b in dup], "lost": lost}
