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

    With ``settings`` whose lake is on object storage, the in-memory connection reads its ``s3://``
    files."""
    import duckdb

    if db_path is None:
        con = duckdb.connect(":memory:")
        store = lake_store(settings) if settings is not None else None
        if store is not None:
            store.register(con)
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
