"""What `discourse query` and `discourse export` do for analysts, on an already locked-down connection
(``discourse.cli.connect_analyst``): saved queries shipped with the package, export filters mapped onto a
mart's columns, a `--where` predicate checked to be one expression over that mart, and the writers
(CSV, JSON Lines, Parquet) fed from DuckDB in Arrow batches (the connection cannot write files).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

QUERIES_DIR = Path(__file__).parent / "queries"
EXPORT_FORMATS = ("csv", "jsonl", "parquet")
# --out's extension → format; "json" is DuckDB's newline-delimited JSON, so JSON Lines too.
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
                    ".parquet": "parquet", ".pq": "parquet"}
BATCH_ROWS = 50_000


class AnalystError(Exception):
    """A request that cannot be served; the message is one line for the analyst."""


# ---------------------------------------------------------------- saved queries

@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    sql: str


def saved_queries(folder: Path = QUERIES_DIR) -> dict[str, SavedQuery]:
    """The saved queries, by name: ``<name>.sql`` files whose first ``--`` comment line is the
    one-line description."""
    out = {}
    for path in sorted(folder.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        comments = [line[2:].strip() for line in sql.splitlines() if line.startswith("--")]
        out[path.stem] = SavedQuery(path.stem, comments[0] if comments else "", sql)
    return out


def saved_query(name: str) -> SavedQuery:
    queries = saved_queries()
    if name not in queries:
        raise AnalystError(f"no saved query {name!r}; the saved queries are: {', '.join(queries)}")
    return queries[name]


# ---------------------------------------------------------------- marts and their columns

def marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'marts' order by 1").fetchall()]


def mart_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """Column name → DuckDB type name, in table order."""
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'marts' and table_name = ? "
        "order by ordinal_position", [name]).fetchall())


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_nested(data_type: str) -> bool:
    t = data_type.upper()
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION"))


# ---------------------------------------------------------------- filters

# Each filter goes to the first of these columns the mart has.
FILTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "since": ("activity_date", "period_start_date", "created_date", "created_at"),
    "until": ("activity_date", "period_start_date", "created_date", "created_at"),
    "platform": ("platform", "platforms"),
    "topic": ("topic_id", "primary_topic"),
    "lang": ("lang",),
}


def _day(flag: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AnalystError(f"--{flag} {value!r}: expected a date, YYYY-MM-DD") from None


def filter_clauses(mart: str, columns: dict[str, str], filters: dict[str, str | None]
                   ) -> tuple[list[str], list[Any]]:
    """SQL conditions (with ``?`` parameters) for the given filters on this mart's columns. A filter
    the mart has no column for is an error naming what it would need."""
    clauses: list[str] = []
    params: list[Any] = []
    for flag, value in filters.items():
        if value is None:
            continue
        col = next((c for c in FILTER_COLUMNS[flag] if c in columns), None)
        if col is None:
            raise AnalystError(
                f"--{flag} does not apply to marts.{mart}: it has none of the columns "
                f"{', '.join(FILTER_COLUMNS[flag])} (its columns: {', '.join(columns)}); use --where")
        q, dtype = quote_ident(col), columns[col].upper()
        if flag in ("since", "until"):
            day = _day(flag, value)
            if dtype == "DATE":
                clauses.append(f"{q} {'>=' if flag == 'since' else '<='} ?::date")
                params.append(day.isoformat())
            else:  # a timestamp: the whole UTC day is included
                bound = day if flag == "since" else day + timedelta(days=1)
                cast = "timestamptz" if "TIME ZONE" in dtype or dtype == "TIMESTAMPTZ" else "timestamp"
                clauses.append(f"{q} {'>=' if flag == 'since' else '<'} ?::{cast}")
                params.append(f"{bound.isoformat()} 00:00:00" + ("+00" if cast == "timestamptz" else ""))
        else:
            values = [v.strip() for v in value.split(",") if v.strip()]
            if not values:
                raise AnalystError(f"--{flag}: no value given")
            if is_nested(dtype):
                clauses.append(f"list_has_any({q}, ?::varchar[])")
            else:
                clauses.append(f"list_contains(?::varchar[], {q}::varchar)")
            params.append(values)
    return clauses, params


# ---------------------------------------------------------------- --where

# Scalar functions that read files, settings or the environment, or run SQL from a string. External
# access is off on the connection anyway; this refuses them before anything runs.
DENIED_FUNCTION = re.compile(
    r"^(read_|parquet_|sniff_|glob$|getenv$|query$|query_table$|json_execute_serialized_sql$|"
    r"json_deserialize_sql$|current_setting$|duckdb_|pragma_|which_secret$|iceberg_|delta_)",
    re.IGNORECASE,
)


def _strip_locations(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_locations(v) for k, v in node.items() if not k.startswith("query_location")}
    if isinstance(node, list):
        return [_strip_locations(v) for v in node]
    return node


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _serialize(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    return json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchall()[0][0])


def where_query(con: duckdb.DuckDBPyConnection, mart: str, predicate: str) -> str:
    """``select * from marts.<mart> where (<predicate>)``, once DuckDB's parser agrees it is exactly
    that: one SELECT statement whose only difference from ``where (true)`` is the predicate, with no
    subquery (so no other table) and no function that reads files, settings or runs SQL. Binding it
    against the mart's columns happens when it runs."""
    import duckdb

    table = f"marts.{quote_ident(mart)}"
    sql = f"select * from {table} where (\n{predicate}\n)"
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise AnalystError("--where refused: one expression only, no `;` or further statements")
        tree = _serialize(con, sql)
    except duckdb.Error as exc:
        raise AnalystError(f"--where refused: {str(exc).splitlines()[0]}") from None
    if tree.get("error"):
        raise AnalystError(f"--where refused: not an expression ({tree.get('error_message', '')})")
    statements = tree.get("statements") or []
    if len(statements) != 1:
        raise AnalystError("--where refused: one expression only, not several statements")
    node = _strip_locations(statements[0])
    reference = _strip_locations(_serialize(con, f"select * from {table} where (true)")["statements"][0])
    where = node["node"].pop("where_clause", None) if isinstance(node.get("node"), dict) else None
    reference["node"].pop("where_clause", None)
    for part in _walk(where):
        cls = part.get("class")
        if cls == "SUBQUERY":
            raise AnalystError("--where refused: no subqueries; filter on this mart's columns only")
        if cls == "PARAMETER":
            raise AnalystError("--where refused: no parameters (?); write the value in the predicate")
        if cls in ("FUNCTION", "WINDOW") and DENIED_FUNCTION.match(str(part.get("function_name", ""))):
            raise AnalystError(f"--where refused: function {part['function_name']}() is not allowed")
    if where is None or node != reference:
        raise AnalystError(f"--where refused: it must be one expression over marts.{mart}'s columns")
    return sql


# ---------------------------------------------------------------- export

def export_format(out: Path, fmt: str | None) -> str:
    if fmt:
        fmt = "jsonl" if fmt == "json" else fmt
    else:
        fmt = FORMAT_BY_SUFFIX.get(out.suffix.lower(), "parquet" if not out.suffix else None)
    if fmt not in EXPORT_FORMATS:
        raise AnalystError(f"cannot tell the format from {out.name!r}; use --format csv, jsonl or parquet")
    return fmt


def export_query(con: duckdb.DuckDBPyConnection, mart: str, *, where: str | None = None,
                 filters: dict[str, str | None] | None = None) -> tuple[str, list[Any], dict[str, str]]:
    """The SELECT of the rows to export, its parameters and the mart's columns."""
    names = marts(con)
    if mart not in names:
        raise AnalystError(f"{mart!r} is not a mart; the marts are: {', '.join(names)}")
    columns = mart_columns(con, mart)
    clauses, params = filter_clauses(mart, columns, filters or {})
    source = f"({where_query(con, mart, where)})" if where and where.strip() else f"marts.{quote_ident(mart)}"
    sql = f"select * from {source} as t" + (f" where {' and '.join(clauses)}" if clauses else "")
    return sql, params, columns


def write_export(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], columns: dict[str, str],
                 fmt: str, path: Path) -> int:
    """Run ``sql`` and write its rows to ``path``; returns the row count. Nested values are JSON in
    CSV; JSON Lines is DuckDB's ``to_json`` of each row; Parquet keeps the types."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt == "jsonl":
        cur = con.execute(f"select to_json(export_row)::varchar from ({sql}) as export_row", params)
        n = 0
        with path.open("w", encoding="utf-8", newline="\n") as f:
            while rows := cur.fetchmany(BATCH_ROWS):
                f.writelines(r[0] + "\n" for r in rows)
                n += len(rows)
        return n
    if fmt == "csv":
        proj = ", ".join(f"to_json({quote_ident(c)})::varchar as {quote_ident(c)}" if is_nested(t)
                         else quote_ident(c) for c, t in columns.items())
        sql = f"select {proj} from ({sql}) as q"
    reader = con.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
    n = 0
    if fmt == "parquet":
        with pq.ParquetWriter(path, reader.schema, compression="zstd") as w:
            for batch in reader:
                w.write_batch(batch)
                n += batch.num_rows
    else:
        with pacsv.CSVWriter(path, reader.schema) as w:
            for batch in reader:
                w.write_batch(batch)
                n += batch.num_rows
    return n
