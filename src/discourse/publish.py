"""Publish: the validated build warehouse replaces the one analysts query, in one atomic rename.

The published file holds the ``marts`` schema only. dbt builds ``staging`` (views over the lake, whose
``raw`` column still holds each record's original JSON, handles included), ``intermediate`` and
``reference`` next to it; they are what the marts are made from, not what analysts may read. After the
marts gate and the volume check have read the build warehouse (both run before ``publish``, in
``pipeline.run`` and in the DAG), ``publish``:

1. refuses when a view in ``marts`` reads another schema (it would break, or leak what it reads);
2. drops every other schema (``DROP SCHEMA … CASCADE``) and anything in DuckDB's ``main``;
3. writes ``marts.about`` (one row: ``demo``, ``run_id``, ``published_at``, ``pseudonymised``), so a
   demo warehouse says it is one;
4. copies what is left into a fresh file (``COPY FROM DATABASE``: the dropped tables' freed blocks do
   not travel with it), and renames that file over ``warehouse.duckdb``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.settings import Settings

PUBLISHED_SCHEMA = "marts"


class PublishError(RuntimeError):
    """The build warehouse cannot be published as it is; the published one stays in place."""


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _user_schemas(con: Any, db: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select schema_name from duckdb_schemas() where database_name = ? and not internal "
        "order by schema_name", [db]).fetchall()]


def _views_reading(con: Any, db: str, schemas: list[str]) -> list[str]:
    """Views in ``marts`` whose SQL names one of ``schemas`` (``staging.x``, ``"staging".x``)."""
    if not schemas:
        return []
    names = "|".join(re.escape(s) for s in schemas)
    pattern = re.compile(rf'(?<![\w])"?(?:{names})"?\s*\.', re.IGNORECASE)
    rows = con.execute(
        "select view_name, sql from duckdb_views() where database_name = ? and schema_name = ? "
        "and not internal", [db, PUBLISHED_SCHEMA]).fetchall()
    return sorted(f"{PUBLISHED_SCHEMA}.{name}" for name, sql in rows if pattern.search(sql or ""))


def _empty_main(con: Any, db: str) -> list[str]:
    """Drop what dbt or a plugin may have left in ``main``; returns what was dropped."""
    dropped = []
    for kind, catalog in (("view", "duckdb_views"), ("table", "duckdb_tables")):
        col = f"{kind}_name"
        for (name,) in con.execute(
                f"select {col} from {catalog}() where database_name = ? and schema_name = 'main' "
                "and not internal", [db]).fetchall():
            con.execute(f"drop {kind} if exists main.{quote_ident(name)} cascade")
            dropped.append(f"main.{name}")
    for (name, mtype) in con.execute(
            "select distinct function_name, function_type from duckdb_functions() where database_name = ? "
            "and schema_name = 'main' and not internal and function_type in ('macro', 'table_macro')",
            [db]).fetchall():
        table = "table " if mtype == "table_macro" else ""
        con.execute(f"drop macro {table}if exists main.{quote_ident(name)}")
        dropped.append(f"main.{name}")
    for (name,) in con.execute(
            "select sequence_name from duckdb_sequences() where database_name = ? and schema_name = 'main'",
            [db]).fetchall():
        con.execute(f"drop sequence if exists main.{quote_ident(name)} cascade")
        dropped.append(f"main.{name}")
    return dropped


def strip_to_marts(build: Path, about: dict[str, Any], out: Path) -> dict[str, Any]:
    """Reduce the build warehouse to ``marts`` (plus ``marts.about``) and write it, compacted, to
    ``out``. Raises ``PublishError`` (before changing anything) when a mart view reads another schema."""
    import duckdb

    out.unlink(missing_ok=True)
    Path(str(out) + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(build))
    try:
        db = con.execute("select current_database()").fetchone()[0]
        schemas = _user_schemas(con, db)
        if PUBLISHED_SCHEMA not in schemas:
            raise PublishError(f"{build}: no {PUBLISHED_SCHEMA} schema to publish")
        others = [s for s in schemas if s != PUBLISHED_SCHEMA]
        leaning = _views_reading(con, db, [*others, "main"])
        if leaning:
            raise PublishError(
                f"{', '.join(leaning)}: a view in {PUBLISHED_SCHEMA} reads a schema that is not published "
                f"({', '.join(others)}); materialise it as a table")
        for schema in others:
            con.execute(f"drop schema {quote_ident(schema)} cascade")
        dropped_main = _empty_main(con, db)
        broken = []
        for (name,) in con.execute(
                "select view_name from duckdb_views() where database_name = ? and schema_name = ? "
                "and not internal", [db, PUBLISHED_SCHEMA]).fetchall():
            try:
                con.execute(f"select * from {PUBLISHED_SCHEMA}.{quote_ident(name)} limit 0")
            except duckdb.Error as exc:
                broken.append(f"{PUBLISHED_SCHEMA}.{name}: {exc}")
        if broken:
            raise PublishError("views in marts no longer resolve: " + "; ".join(broken))
        con.execute(
            f"create or replace table {PUBLISHED_SCHEMA}.about as select ?::boolean as demo, "
            "?::varchar as run_id, ?::timestamptz as published_at, ?::boolean as pseudonymised, "
            "?::varchar as note",
            [about["demo"], about["run_id"], about["published_at"], about["pseudonymised"], about["note"]])
        comment = ("DEMO warehouse: synthetic data, public demo pseudonymisation key" if about["demo"]
                   else "published marts: which run published them, when, whether demo")
        con.execute(f"comment on table {PUBLISHED_SCHEMA}.about is '{comment}'")
        con.execute("checkpoint")
        con.execute("attach ? as publish_copy", [str(out)])
        try:
            con.execute(f"copy from database {quote_ident(db)} to publish_copy")
        finally:
            con.execute("detach publish_copy")
    finally:
        con.close()
    return {"dropped_schemas": others, "dropped_from_main": dropped_main}


def publish(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Swap the validated build warehouse into place atomically and record what was published.

    Call only after the marts gate and the volume check: the build is reduced to ``marts`` here.
    """
    build = settings.build_warehouse
    if not build.exists():
        raise FileNotFoundError(f"{build}: nothing built to publish")
    wal = Path(str(build) + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} exists: the build warehouse was not closed cleanly")
    published_at = datetime.now(UTC)
    about = {
        "demo": bool(settings.is_demo),
        "run_id": run_id,
        "published_at": published_at,
        "pseudonymised": bool(settings.pseudonymise),
        "note": ("DEMO: synthetic exports, authors pseudonymised with the public demo key; not for real data"
                 if settings.is_demo else None),
    }
    staged = build.with_name(f".{build.stem}.publish{build.suffix}")
    try:
        stripped = strip_to_marts(build, about, staged)
        os.replace(staged, settings.warehouse)
    finally:
        staged.unlink(missing_ok=True)
        Path(str(staged) + ".wal").unlink(missing_ok=True)
    build.unlink(missing_ok=True)
    info = {
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "warehouse": str(settings.warehouse),
        "demo": bool(settings.is_demo),
        "schemas": [PUBLISHED_SCHEMA],
        **stripped,
    }
    tmp = settings.home / ".published.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, settings.home / "published.json")
    return info
