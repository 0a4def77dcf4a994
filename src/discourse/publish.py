"""Publish: the validated build warehouse's marts replace the ones analysts query, in one atomic rename.

The published file holds the ``marts`` schema only. dbt builds ``staging`` (views over the lake, whose
``raw`` column still holds each record's original JSON, handles included), ``intermediate`` and
``reference`` next to it; they are what the marts are made from, not what analysts may read. The
build warehouse persists between nights (the incremental models keep their history there), so
publishing reads it and changes nothing in it. After the marts gate and the volume check have read
the build warehouse (both run before ``publish``, in ``pipeline.run`` and in the DAG), ``publish``:

1. refuses when a view in ``marts`` reads another schema (it would break, or leak what it reads);
2. copies every table and view of ``marts`` (views as tables) into a fresh file, with their comments;
3. writes ``marts.about`` there (one row: ``demo``, ``run_id``, ``published_at``, ``pseudonymised``),
   so a demo warehouse says it is one;
4. renames that file over ``warehouse.duckdb``.
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


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def strip_to_marts(build: Path, about: dict[str, Any], out: Path) -> dict[str, Any]:
    """Copy the build warehouse's ``marts`` (plus ``marts.about``) into a new file ``out``, leaving the
    build as it is. Raises ``PublishError`` (before writing anything) when a mart view reads another
    schema."""
    import duckdb

    out.unlink(missing_ok=True)
    Path(str(out) + ".wal").unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute("attach ? as build (read_only)", [str(build)])
        schemas = _user_schemas(con, "build")
        if PUBLISHED_SCHEMA not in schemas:
            raise PublishError(f"{build}: no {PUBLISHED_SCHEMA} schema to publish")
        others = [s for s in schemas if s != PUBLISHED_SCHEMA]
        leaning = _views_reading(con, "build", [*others, "main"])
        if leaning:
            raise PublishError(
                f"{', '.join(leaning)}: a view in {PUBLISHED_SCHEMA} reads a schema that is not published "
                f"({', '.join(others)}); materialise it as a table")
        relations = con.execute(
            "select table_name, comment from duckdb_tables() "
            "where database_name = 'build' and schema_name = ? "
            "union all select view_name, comment from duckdb_views() where database_name = 'build' "
            "and schema_name = ? and not internal order by 1",
            [PUBLISHED_SCHEMA, PUBLISHED_SCHEMA]).fetchall()
        con.execute("attach ? as publish_copy", [str(out)])
        try:
            con.execute(f"create schema publish_copy.{PUBLISHED_SCHEMA}")
            broken = []
            for name, comment in relations:
                if name == "about":
                    continue
                target = f"publish_copy.{PUBLISHED_SCHEMA}.{quote_ident(name)}"
                try:
                    source = f"build.{PUBLISHED_SCHEMA}.{quote_ident(name)}"
                    con.execute(f"create table {target} as select * from {source}")
                except duckdb.Error as exc:
                    broken.append(f"{PUBLISHED_SCHEMA}.{name}: {exc}")
                    continue
                if comment:
                    con.execute(f"comment on table {target} is {_literal(comment)}")
                for column, col_comment in con.execute(
                        "select column_name, comment from duckdb_columns() where database_name = 'build' "
                        "and schema_name = ? and table_name = ? and comment is not null",
                        [PUBLISHED_SCHEMA, name]).fetchall():
                    con.execute(
                        f"comment on column {target}.{quote_ident(column)} is {_literal(col_comment)}")
            if broken:
                raise PublishError("marts that cannot be read: " + "; ".join(broken))
            con.execute(
                f"create table publish_copy.{PUBLISHED_SCHEMA}.about as select ?::boolean as demo, "
                "?::varchar as run_id, ?::timestamptz as published_at, ?::boolean as pseudonymised, "
                "?::varchar as note",
                [about["demo"], about["run_id"], about["published_at"], about["pseudonymised"],
                 about["note"]])
            comment = ("DEMO warehouse: synthetic data, public demo pseudonymisation key" if about["demo"]
                       else "published marts: which run published them, when, whether demo")
            con.execute(f"comment on table publish_copy.{PUBLISHED_SCHEMA}.about is {_literal(comment)}")
            con.execute("checkpoint publish_copy")
        finally:
            con.execute("detach publish_copy")
    finally:
        con.close()
    return {"unpublished_schemas": others}


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
