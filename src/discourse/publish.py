"""Publish: the validated marts become the ones analysts query, atomically, without copying history.

dbt builds ``staging`` (views over the lake, whose ``raw`` column still holds each record's original
JSON, handles included), ``intermediate`` and ``reference`` next to ``marts`` in the build warehouse,
which persists between nights (the incremental models keep their history there). Analysts get the
``marts`` only, as an immutable snapshot per run:

* ``<home>/published/marts/<mart>/<run_id>.parquet``: each mart, written whole (they are aggregates,
  small next to the posts);
* ``<home>/published/marts/posts/created_date=<date>/``: ``posts``, by date. A date whose rows
  did not change since the previous snapshot (a fingerprint per date: row count and the sum of the
  rows' hashes) keeps the files an earlier run wrote. A date that changed gets a **patch**: a file of
  the rows that are new or changed (``<run_id>.parquet``) and a file of the hashes of the rows that
  left (``<run_id>.removed.parquet``), found by comparing the rows' hashes with the published ones;
  so a night that adds 1%, even spread over every date, writes about 1%. Every published row carries
  two hidden columns, its hash (``_publish_hash``) and the publish sequence number that wrote it
  (``_publish_seq``); the analysts' view drops them and leaves out a row whose hash a later
  ``removed`` file names. A date is written whole again (its **base**) when it is new, when its
  patches reach about ``PATCH_LIMIT`` of its rows (``patch_limit``) or ``MAX_LAYERS``
  files, when the mart's columns changed, when a post left it (``DATED_KEYS``), and after a forget:
  no file may keep a deleted or forgotten post, even a hidden one. All the files of one
  pass come from one scan of the mart (a partitioned ``COPY`` into a hidden folder, then renamed
  into place). ``author_edges`` (one row per day x account pair x edge type, the other mart that
  grows with history) is published the same way by ``day`` (``DATED_MARTS``);
* ``<home>/published/snapshots/<run_id>.json``: which files make up that run's marts;
* ``warehouse.duckdb``: a small DuckDB file with one view per mart over its snapshot files,
  ``marts.about`` (``demo``, ``run_id``, ``published_at``, ``pseudonymised``, ``note``) and
  ``marts.snapshots`` (the retained runs), written to a temporary name and renamed into place. An
  analyst session open on the old file keeps reading the old snapshot's files.

The last ``publish_keep_snapshots`` snapshots are kept (``discourse.publish.snapshot_marts`` gives a
retained run's files, for "as of" queries); files no retained snapshot uses are then deleted.

After the marts gate and the volume check have read the build warehouse (both run before
``publish``, in ``pipeline.run`` and in the DAG), ``publish`` refuses when a view in ``marts`` reads
another schema (it would break, or leak what it reads), before writing anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.crash import crash_point
from discourse.settings import Settings, apply_duckdb_limits

PUBLISHED_SCHEMA = "marts"
# ``<home>/state/<this>``: a forget waits for the next publish (written by ``discourse.forget``).
FORGET_PENDING = "forget_pending.json"
# Marts that grow with history, published a file per date (the column), rewritten only for the dates
# whose rows changed. Every other mart is an aggregate, written whole each run.
DATED_MARTS = {"posts": "created_date", "author_edges": "day"}
# The column that names a dated mart's record (a post): a date from which one of them left the mart
# (deleted by its platform, rejected, forgotten, re-dated) is written whole, so that no file keeps it,
# even hidden behind a ``removed`` file. A mart without one (``author_edges``: counts between
# pseudonymised accounts) keeps a replaced row hidden until its date is written whole.
DATED_KEYS = {"posts": "post_uid"}
# The snapshot layout: 2 = dated marts with hidden row hashes, patches and removed files. A snapshot of
# an older layout is read as it is, but the next publish writes every date of a dated mart whole.
SNAPSHOT_FORMAT = 2
HASH_COL = "_publish_hash"
SEQ_COL = "_publish_seq"
# A date is written whole again once its patches (rows added plus rows removed since its base) reach
# about this share of its base rows (``patch_limit``), or it has this many files: the view's anti-join
# and its list of files stay small.
PATCH_LIMIT = 0.2
MAX_LAYERS = 24


def patch_limit(key: str) -> float:
    """The patch share past which date ``key`` is written whole: between 0.5 and 1.5 times
    ``PATCH_LIMIT``, by a hash of the date, so that dates a run of nights patches alike reach their
    limits on different nights rather than all being written whole on one."""
    return PATCH_LIMIT * (0.5 + (zlib.crc32(key.encode()) % 1000) / 1000)


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


def snapshot_root(settings: Settings) -> Path:
    return Path(settings.home) / "published"


def _snapshot_file(settings: Settings, run_id: str) -> Path:
    return snapshot_root(settings) / "snapshots" / f"{run_id}.json"


def read_snapshots(settings: Settings) -> list[dict[str, Any]]:
    """The retained snapshots, oldest first."""
    folder = snapshot_root(settings) / "snapshots"
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda snap: snap.get("published_at", ""))


def _snapshot(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    snaps = read_snapshots(settings)
    if run_id is not None:
        snaps = [snap for snap in snaps if snap.get("run_id") == run_id]
    if not snaps:
        raise PublishError(f"no retained snapshot {run_id or ''}".strip())
    return snaps[-1]


def snapshot_marts(settings: Settings, run_id: str | None = None) -> dict[str, list[Path]]:
    """Each mart's data files in a retained snapshot (the latest when ``run_id`` is None). For a
    dated mart these include rows a later patch replaced: read a mart through ``open_published`` or
    the warehouse's views, which leave them out (``snapshot_removed`` gives the files naming them)."""
    snap = _snapshot(settings, run_id)
    root = snapshot_root(settings)
    return {name: [root / rel for rel in files] for name, files in snap["marts"].items()}


def snapshot_removed(settings: Settings, run_id: str | None = None) -> dict[str, list[Path]]:
    """Each dated mart's ``removed`` files (hashes of rows that left) in a retained snapshot."""
    snap = _snapshot(settings, run_id)
    root = snapshot_root(settings)
    return {name: [root / rel for rel in files] for name, files in snap.get("removed", {}).items()}


def _hidden_columns(snap: dict[str, Any], name: str) -> bool:
    """Whether the snapshot's files of mart ``name`` carry the hidden hash and sequence columns."""
    return int(snap.get("format", 1)) >= 2 and name in snap.get("dated", {})


def mart_select(data: str, removed: str | None, hidden: bool) -> str:
    """The SQL of a published mart's view: ``data`` and ``removed`` are relations (a
    ``read_parquet(...)`` call or a registered dataset). Rows whose hash a later ``removed`` file
    names are left out, and the hidden columns dropped."""
    if not hidden:
        return f"select * from {data}"
    sql = f"select * exclude ({HASH_COL}, {SEQ_COL}) from {data} as d"
    if removed:
        # An explicit anti join: a correlated NOT EXISTS is planned as a delim join that materialises
        # every column of every row (5 s instead of 0.1 s for a count over 5M posts).
        sql += (f" anti join {removed} as r on r.{HASH_COL} = d.{HASH_COL} "
                f"and r.{SEQ_COL} > d.{SEQ_COL}")
    return sql


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _write_parquet(con: Any, query: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    con.execute(f"copy ({query}) to {_literal(str(tmp))} (format parquet, compression zstd)")
    crash_point("publish.parquet-copied")
    os.replace(tmp, path)


def write_snapshot(settings: Settings, build: Path, run_id: str, *, compact: bool = False) -> dict[str, Any]:
    """Write this run's marts as Parquet (``DATED_MARTS`` as patches of the changed dates) and its
    snapshot manifest. ``compact``: write every changed or patched date of a dated mart whole (after a
    forget). Raises ``PublishError`` (before writing anything) when a mart view reads another schema."""
    import duckdb

    root = snapshot_root(settings)
    previous = read_snapshots(settings)
    before = previous[-1] if previous else {}
    seq = int(before.get("seq", 0)) + 1
    con = duckdb.connect()
    apply_duckdb_limits(con, settings, spill="publish")
    try:
        con.execute("attach ? as build (read_only)", [str(build)])
        schemas = _user_schemas(con, "build")
        if PUBLISHED_SCHEMA not in schemas:
            raise PublishError(f"{build}: no {PUBLISHED_SCHEMA} schema to publish")
        others = [sch for sch in schemas if sch != PUBLISHED_SCHEMA]
        leaning = _views_reading(con, "build", [*others, "main"])
        if leaning:
            raise PublishError(
                f"{', '.join(leaning)}: a view in {PUBLISHED_SCHEMA} reads a schema that is not published "
                f"({', '.join(others)}); materialise it as a table")
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'build' and schema_name = ? "
            "union select view_name from duckdb_views() where database_name = 'build' "
            "and schema_name = ? and not internal order by 1",
            [PUBLISHED_SCHEMA, PUBLISHED_SCHEMA]).fetchall() if r[0] not in ("about", "snapshots")]
        comments = dict(con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'build' "
            "and schema_name = ? and comment is not null", [PUBLISHED_SCHEMA]).fetchall())
        # Column descriptions (dbt's persist_docs): carried to the analysts' views.
        column_comments: dict[str, dict[str, str]] = {}
        for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() where database_name = 'build' "
                "and schema_name = ? and comment is not null and comment <> '' order by 1, column_index",
                [PUBLISHED_SCHEMA]).fetchall():
            column_comments.setdefault(table, {})[column] = comment
        marts: dict[str, list[str]] = {}
        removed: dict[str, list[str]] = {}
        dated: dict[str, dict[str, dict[str, Any]]] = {}
        fingerprints: dict[str, dict[str, list[Any]]] = {}
        columns: dict[str, list[str]] = {}
        written = reused = patched = 0
        for name in names:
            source = f"build.{PUBLISHED_SCHEMA}.{quote_ident(name)}"
            described = con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'build' "
                "and schema_name = ? and table_name = ? order by column_index",
                [PUBLISHED_SCHEMA, name]).fetchall()
            columns[name] = [f"{c} {t}" for c, t in described]
            date_col = DATED_MARTS.get(name)
            if date_col in [c for c, _ in described]:
                prior = _prior(before, name, columns[name])
                is_table = bool(con.execute(
                    "select count(*) from duckdb_tables() where database_name = 'build' and schema_name = ? "
                    "and table_name = ?", [PUBLISHED_SCHEMA, name]).fetchone()[0])
                out = _write_dated(con, source, root, run_id, seq, name, date_col, prior, compact, is_table)
                marts[name], removed[name], dated[name], fingerprints[name] = (
                    out["files"], out["removed"], out["dates"], out["fingerprints"])
                written += out["written"]
                reused += out["reused"]
                patched += out["patched"]
                continue
            rel = f"marts/{_safe_name(name)}/{_safe_name(run_id)}.parquet"
            _write_parquet(con, f"select * from {source}", root / rel)
            marts[name] = [rel]
            written += 1
    except duckdb.Error as exc:
        raise PublishError(f"could not write the snapshot of {build}: {exc}") from exc
    finally:
        con.close()
    snapshot = {"format": SNAPSHOT_FORMAT, "seq": seq, "run_id": run_id,
                "published_at": datetime.now(UTC).isoformat(), "marts": marts, "removed": removed,
                "dated": dated, "fingerprints": fingerprints, "columns": columns, "comments": comments,
                "column_comments": column_comments}
    path = _snapshot_file(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(snapshot, indent=1, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return {"snapshot": snapshot, "files_written": written, "files_reused": reused,
            "dates_patched": patched, "unpublished_schemas": others}


def _prior(before: dict[str, Any], name: str, columns: list[str]) -> dict[str, Any]:
    """A dated mart's per-date state in the snapshot ``before``: fingerprints and, per date, its files,
    removed files and row counts. Empty (every date is written whole) when ``before`` is of an older
    layout or the mart's columns changed since."""
    if not _hidden_columns(before, name) or before.get("columns", {}).get(name) != columns:
        return {"fingerprints": {}, "dates": {}}
    return {"fingerprints": before.get("fingerprints", {}).get(name, {}),
            "dates": before.get("dated", {}).get(name, {})}


def _read_parquet(root: Path, rels: list[str]) -> str:
    """``read_parquet`` over the published files ``rels`` (relative to ``root``)."""
    paths = ", ".join(_literal(str((root / rel).resolve())) for rel in rels)
    return f"read_parquet([{paths}], hive_partitioning = false)"


def _write_dated(con: Any, source: str, root: Path, run_id: str, seq: int, name: str, date_col: str,
                 prior: dict[str, Any], compact: bool, is_table: bool = True) -> dict[str, Any]:
    """A dated mart by ``date_col``: an unchanged date keeps its files; a changed one gets a patch (its
    new and changed rows, and the hashes of the rows that left) or, past the limits, a new base."""
    col = quote_ident(date_col)
    # One scan of the mart: every row's date key and hash (and, for a table, its row id, to fetch the
    # patch's rows without hashing the mart again); the fingerprints are their sums per date.
    rid = "rowid" if is_table else "null::bigint"
    con.execute(f"create or replace temp table _rows as select coalesce({col}::varchar, 'none') as k, "
                f"hash(p) as h, {rid} as rid from {source} as p")
    now = {k: [n, h] for k, n, h in con.execute(
        "select k, count(*), sum(h)::varchar from _rows group by 1").fetchall()}
    old_fp, old_dates = prior["fingerprints"], prior["dates"]
    dates: dict[str, dict[str, Any]] = {}
    whole: list[str] = []
    candidates: list[str] = []
    reused = 0
    for key, fp in sorted(now.items()):
        entry = old_dates.get(key)
        present = entry is not None and entry.get("files") and all(
            (root / rel).exists() for rel in [*entry["files"], *entry.get("removed", [])])
        layered = bool(present and (entry.get("removed") or len(entry["files"]) > 1))
        if present and old_fp.get(key) == fp and not (compact and layered):
            dates[key] = entry
            reused += 1
        elif present and not compact:
            candidates.append(key)
        else:
            whole.append(key)
    patches: dict[str, tuple[int, int]] = {}
    if candidates:
        patches, more_whole = _diff_dates(con, source, root, name, candidates, old_dates)
        whole += more_whole
    written = 0
    if whole:
        bases = _write_dates(
                con, f"select p.*, hash(p) as {HASH_COL}, {seq}::bigint as {SEQ_COL} from {source} as p",
                root, run_id, name, date_col, whole)
        for key in whole:
            if not bases.get(key):
                raise PublishError(f"publish: no {name} file was written for {date_col} {key}")
            dates[key] = {"files": bases[key], "removed": [], "base": now[key][0], "patch": 0}
            written += len(bases[key])
    if patches:
        added = [k for k, (a, _r) in patches.items() if a]
        gone = [k for k, (_a, r) in patches.items() if r]
        rows = (f"select p.*, a.h as {HASH_COL}, {seq}::bigint as {SEQ_COL} from {source} as p "
                "join _added as a on p.rowid = a.rid") if is_table else (
            f"select * from (select p.*, hash(p) as {HASH_COL}, {seq}::bigint as {SEQ_COL} "
            f"from {source} as p) where {HASH_COL} in (select h from _added)")
        new_files = _write_dates(con, rows, root, run_id, name, date_col, added) if added else {}
        gone_files = _write_dates(
            con, f"select d as {col}, h as {HASH_COL}, {seq}::bigint as {SEQ_COL} from _removed",
            root, run_id, name, date_col, gone, suffix=".removed") if gone else {}
        for key, (a, r) in patches.items():
            entry = old_dates[key]
            dates[key] = {"files": [*entry["files"], *new_files.get(key, [])],
                          "removed": [*entry.get("removed", []), *gone_files.get(key, [])],
                          "base": entry["base"], "patch": entry.get("patch", 0) + a + r}
            written += len(new_files.get(key, [])) + len(gone_files.get(key, []))
    for table in ("_rows", "_published", "_added", "_removed"):
        con.execute(f"drop table if exists {table}")
    if not dates:  # no rows: an empty file keeps the view's columns
        rel = f"marts/{_safe_name(name)}/empty/{_safe_name(run_id)}.parquet"
        _write_parquet(con, f"select p.*, hash(p) as {HASH_COL}, {seq}::bigint as {SEQ_COL} "
                            f"from {source} as p where false", root / rel)
        dates["empty"] = {"files": [rel], "removed": [], "base": 0, "patch": 0}
        written += 1
    return {"files": sorted(f for e in dates.values() for f in e["files"]),
            "removed": sorted(f for e in dates.values() for f in e["removed"]),
            "dates": dates, "fingerprints": now, "written": written, "reused": reused,
            "patched": len(patches)}


def _diff_dates(con: Any, source: str, root: Path, name: str, keys: list[str], old_dates: dict[str, Any]
                ) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Compare the build's row hashes of the dates ``keys`` with the published ones (their files less
    the rows a ``removed`` file names). Leaves ``_added`` (hashes to write) and ``_removed`` (date,
    hash) for the dates that get a patch; returns those dates' (added, removed) counts, and the dates
    to write whole instead: past the limits, with duplicate rows (which a hash cannot tell apart), or
    (``DATED_KEYS``) with a record that left the mart."""
    files = [rel for k in keys for rel in old_dates[k]["files"]]
    gone = [rel for k in keys for rel in old_dates[k].get("removed", [])]
    data = _read_parquet(root, files)
    removed = _read_parquet(root, gone)
    where = (f" anti join {removed} as r on r.{HASH_COL} = d.{HASH_COL} "
             f"and r.{SEQ_COL} > d.{SEQ_COL}") if gone else ""
    col = quote_ident(DATED_MARTS[name])
    key_col = DATED_KEYS.get(name)
    record = f"d.{quote_ident(key_col)}" if key_col else "null::varchar"
    con.execute(f"create or replace temp table _published as select coalesce(d.{col}::varchar, 'none') as k, "
                f"d.{col} as v, d.{HASH_COL} as h, {record} as key from {data} as d{where}")
    left = set()
    if key_col:  # the dates of records that are published and no longer in the mart
        # The mart's keys are looked up for the replaced rows only (a semi join probing the mart with
        # a small build side), not loaded whole into a hash table.
        mart_key = quote_ident(key_col)
        left = {r[0] for r in con.execute(f"""
            with replaced as (select p.k, p.key from _published as p
                              anti join _rows as b on b.k = p.k and b.h = p.h),
            still as (select {mart_key} as key from {source} where {mart_key} in (select key from replaced))
            select distinct r.k from replaced as r left join still as s on s.key = r.key
            where s.key is null""").fetchall()}
    wanted = "(" + ", ".join(_literal(k) for k in keys) + ")"
    stats = con.execute(f"""
        with b as (select k, h from _rows where k in {wanted}),
        added as (select k, count(*) as n
                  from (select k, h from b except select k, h from _published) group by 1),
        removed as (select k, count(*) as n
                    from (select k, h from _published except select k, h from b) group by 1),
        dups as (select k, sum(n) as n from (
                   select k, count(*) - count(distinct h) as n from b group by 1
                   union all select k, count(*) - count(distinct h) from _published group by 1) group by 1)
        select w.k, coalesce(added.n, 0), coalesce(removed.n, 0), coalesce(dups.n, 0)
        from (select unnest({_list(keys)}) as k) as w
        left join added using (k) left join removed using (k) left join dups using (k)""").fetchall()
    patches: dict[str, tuple[int, int]] = {}
    whole: list[str] = []
    for key, added, removed, dups in stats:
        entry = old_dates[key]
        layers = len(entry["files"]) + len(entry.get("removed", [])) + 2
        share = (entry.get("patch", 0) + added + removed) / max(int(entry.get("base", 0)), 1)
        if dups or key in left or layers > MAX_LAYERS or share > patch_limit(key):
            whole.append(key)
        elif added or removed:
            patches[key] = (int(added), int(removed))
        else:  # same rows, same hashes, another fingerprint: cannot happen; write it whole to be sure
            whole.append(key)
    kept = "(" + ", ".join(_literal(k) for k in patches) + ")" if patches else "('')"
    con.execute(f"create or replace temp table _added as select b.rid, b.h from _rows as b "
                f"where b.k in {kept} and not exists "
                f"(select 1 from _published as p where p.k = b.k and p.h = b.h)")
    con.execute(f"create or replace temp table _removed as select p.v as d, p.h from _published as p "
                f"where p.k in {kept} and not exists "
                f"(select 1 from _rows as b where b.k = p.k and b.h = p.h)")
    return patches, whole


def _list(keys: list[str]) -> str:
    return "[" + ", ".join(_literal(k) for k in keys) + "]"


def _write_dates(con: Any, query: str, root: Path, run_id: str, name: str, date_col: str,
                 keys: list[str], suffix: str = "") -> dict[str, list[str]]:
    """Write the rows of ``query`` (a dated mart's columns) for the dates ``keys`` (each date as text,
    ``none`` for a null date), a file per date, in one scan: ``posts`` is not stored in date order,
    so a query per date would read the whole table once per date. The files land in a hidden folder
    first and are renamed into place, so a crash leaves no partial file where a snapshot could name it
    (``prune_snapshots`` removes the folder). A date whose query has no rows gets no file."""
    mart_dir = root / "marts" / _safe_name(name)
    staging = mart_dir / f".tmp-{_safe_name(run_id)}{suffix}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    col = quote_ident(date_col)
    dates = [k for k in keys if k != "none"]
    where = []
    if dates:
        where.append(f"{col} in (" + ", ".join(f"{_literal(k)}::date" for k in dates) + ")")
    if "none" in keys:
        where.append(f"{col} is null")
    con.execute(
        f"copy (select * from ({query}) where {' or '.join(where)}) to {_literal(str(staging))} "
        f"(format parquet, compression zstd, partition_by ({col}), write_partition_columns true, "
        "filename_pattern 'part_{i}')")
    crash_point("publish.parquet-copied")
    files: dict[str, list[str]] = {}
    for key in keys:
        folder = staging / f"{date_col}={'__HIVE_DEFAULT_PARTITION__' if key == 'none' else key}"
        parts = sorted(folder.glob("*.parquet"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
        for i, part in enumerate(parts):
            stem = _safe_name(run_id) if i == 0 else f"{_safe_name(run_id)}_{i}"
            rel = f"marts/{_safe_name(name)}/{date_col}={key}/{stem}{suffix}.parquet"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, root / rel)
            files.setdefault(key, []).append(rel)
    shutil.rmtree(staging, ignore_errors=True)
    return files


def write_warehouse(settings: Settings, about: dict[str, Any], out: Path) -> None:
    """The analysts' DuckDB file: a view per mart over the latest snapshot, ``marts.about`` and
    ``marts.snapshots``."""
    import duckdb

    out.unlink(missing_ok=True)
    Path(str(out) + ".wal").unlink(missing_ok=True)
    snaps = read_snapshots(settings)
    latest = snaps[-1]
    root = snapshot_root(settings)
    con = duckdb.connect(str(out))
    try:
        con.execute(f"create schema {PUBLISHED_SCHEMA}")
        for name, files in sorted(latest["marts"].items()):
            gone = latest.get("removed", {}).get(name)
            target = f"{PUBLISHED_SCHEMA}.{quote_ident(name)}"
            con.execute(f"create view {target} as "
                        + mart_select(_read_parquet(root, files), _read_parquet(root, gone) if gone else None,
                                      _hidden_columns(latest, name)))
            comment = latest.get("comments", {}).get(name)
            if comment:
                con.execute(f"comment on view {target} is {_literal(comment)}")
            for column, text in latest.get("column_comments", {}).get(name, {}).items():
                con.execute(f"comment on column {target}.{quote_ident(column)} is {_literal(text)}")
        con.execute(
            f"create table {PUBLISHED_SCHEMA}.about as select ?::boolean as demo, ?::varchar as run_id, "
            "?::timestamptz as published_at, ?::boolean as pseudonymised, ?::varchar as note",
            [about["demo"], about["run_id"], about["published_at"], about["pseudonymised"], about["note"]])
        comment = ("DEMO warehouse: synthetic data, public demo pseudonymisation key" if about["demo"]
                   else "published marts: which run published them, when, whether demo")
        con.execute(f"comment on table {PUBLISHED_SCHEMA}.about is {_literal(comment)}")
        con.execute(f"create table {PUBLISHED_SCHEMA}.snapshots (run_id varchar, published_at timestamptz)")
        for snap in snaps:
            con.execute(f"insert into {PUBLISHED_SCHEMA}.snapshots values (?, ?::timestamptz)",
                        [snap["run_id"], snap["published_at"]])
        con.execute(f"comment on table {PUBLISHED_SCHEMA}.snapshots is "
                    f"{_literal('the retained published snapshots (discourse query --as-of RUN_ID)')}")
        con.execute("checkpoint")
    finally:
        con.close()


def prune_snapshots(settings: Settings, keep: int) -> dict[str, int]:
    """Keep the newest ``keep`` snapshots; delete the files none of them uses."""
    snaps = read_snapshots(settings)
    root = snapshot_root(settings)
    dropped = snaps[:-keep] if keep > 0 else []
    for snap in dropped:
        _snapshot_file(settings, snap["run_id"]).unlink(missing_ok=True)
    kept = snaps[-keep:] if keep > 0 else snaps
    used = {str((root / rel).resolve()) for snap in kept
            for group in ("marts", "removed") for files in snap.get(group, {}).values() for rel in files}
    removed = 0
    marts_dir = root / "marts"
    for path in marts_dir.rglob("*.parquet") if marts_dir.is_dir() else []:
        if str(path.resolve()) not in used:
            path.unlink(missing_ok=True)
            removed += 1
    for path in marts_dir.rglob(".*.parquet.tmp") if marts_dir.is_dir() else []:
        path.unlink(missing_ok=True)  # a copy a crashed publish left (docs/recovery.md)
    for path in marts_dir.glob("*/.tmp-*") if marts_dir.is_dir() else []:
        shutil.rmtree(path, ignore_errors=True)  # the dated files a crashed publish was writing
    folders = [p for p in marts_dir.rglob("*") if p.is_dir()] if marts_dir.is_dir() else []
    for folder in sorted(folders, reverse=True):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    return {"snapshots_dropped": len(dropped), "files_removed": removed}


def writer_pid(path: Path) -> int | None:
    """The process holding DuckDB's write lock on ``path`` (a read-write session), or None.

    DuckDB locks its file with ``fcntl``: a read lock per read-only session, a write lock for a
    read-write one. ``F_GETLK`` asks, without taking anything, whether a read lock would conflict,
    which only a write lock does, and names its holder."""
    import fcntl
    import struct

    if not path.exists():
        return None
    if os.uname().sysname != "Linux":
        return None  # the struct below is Linux's; elsewhere a writer is not detected
    layout = "hhlli4x"  # struct flock: l_type, l_whence, l_start, l_len, l_pid (padded to 32 bytes)
    with open(path, "rb") as fh:
        probe = struct.pack(layout, fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        l_type, _, _, _, pid = struct.unpack(layout, fcntl.fcntl(fh, fcntl.F_GETLK, probe))
    return None if l_type == fcntl.F_UNLCK else int(pid)


def refuse_if_written(path: Path, wait_s: float | None = None) -> None:
    """Wait up to ``wait_s`` (default: ``DISCOURSE_PUBLISH_WRITER_WAIT_S``, else 30 s) for a
    read-write session on the published ``path`` to close; refuse (``PublishError``) if it stays.

    Renaming a new file over it would strand that session's ``<path>.wal`` beside a file it does not
    belong to, and every reader of the new file would fail until the session closed. Read-only
    sessions are no obstacle (they keep reading the old file). A ``.wal`` with no session (one killed
    while writing) belongs to the file being replaced and is removed."""
    import time

    if wait_s is None:
        wait_s = float(os.environ.get("DISCOURSE_PUBLISH_WRITER_WAIT_S") or 30)
    deadline = time.monotonic() + wait_s
    while (pid := writer_pid(path)) is not None:
        if time.monotonic() >= deadline:
            raise PublishError(
                f"{path} is open read-write by process {pid} (an analyst's session?): not replaced, "
                "so that its write-ahead log cannot break the readers of the new file. The snapshot "
                "of this run is written; close that session (or open the warehouse read-only: "
                "`discourse query`), and the next run publishes. The previous marts stay in place.")
        time.sleep(0.5)
    wal = Path(str(path) + ".wal")
    if wal.exists():  # a session killed while writing: its log belongs to the file being replaced
        wal.unlink(missing_ok=True)


def publish(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Publish the validated build warehouse's marts as a new snapshot and swap the analysts' file.

    Call only after the marts gate and the volume check.
    """
    build = settings.build_warehouse
    if not build.exists():
        raise FileNotFoundError(f"{build}: nothing built to publish")
    wal = Path(str(build) + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} exists: the build warehouse was not closed cleanly")
    published_at = datetime.now(UTC)
    run_id = run_id or published_at.strftime("%Y%m%dT%H%M%S%fZ")
    about = {
        "demo": bool(settings.is_demo),
        "run_id": run_id,
        "published_at": published_at,
        "pseudonymised": bool(settings.pseudonymise),
        "note": ("DEMO: synthetic exports, authors pseudonymised with the public demo key; not for real data"
                 if settings.is_demo else None),
    }
    # After a forget no published file may keep the forgotten rows, not even behind a patch.
    forgotten = (Path(settings.home) / "state" / FORGET_PENDING).exists()
    written = write_snapshot(settings, build, run_id, compact=forgotten)
    crash_point("publish.snapshot-written")
    staged = settings.warehouse.with_name(f".{settings.warehouse.stem}.publish{settings.warehouse.suffix}")
    try:
        write_warehouse(settings, about, staged)
        crash_point("publish.staged")
        refuse_if_written(settings.warehouse)
        os.replace(staged, settings.warehouse)
        crash_point("publish.swapped")
    finally:
        staged.unlink(missing_ok=True)
        Path(str(staged) + ".wal").unlink(missing_ok=True)
    pruned = prune_snapshots(settings, max(2, int(getattr(settings, "publish_keep_snapshots", 7))))
    crash_point("publish.pruned")
    info = {
        "run_id": run_id,
        "published_at": published_at.isoformat(),
        "warehouse": str(settings.warehouse),
        "demo": bool(settings.is_demo),
        "schemas": [PUBLISHED_SCHEMA],
        "files_written": written["files_written"],
        "files_reused": written["files_reused"],
        "dates_patched": written["dates_patched"],
        "unpublished_schemas": written["unpublished_schemas"],
        **pruned,
    }
    tmp = settings.home / ".published.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, settings.home / "published.json")
    return info


def _setting(value: Any) -> str:
    return _literal(value) if isinstance(value, str) else str(value).lower()


def open_published(settings: Settings, *, as_of: str | None = None, config: dict[str, Any] | None = None):
    """A DuckDB connection on the published marts (the latest snapshot, or the retained run ``as_of``)
    that needs no file access from SQL: each mart's snapshot files are registered as Arrow datasets
    behind ``marts.<mart>`` views, ``marts.about`` and ``marts.snapshots`` are copied in, and then
    ``config`` (e.g. external access off, locked) is applied. A warehouse published before snapshots
    existed is opened read-only as it is."""
    import duckdb
    import pyarrow.dataset as ds

    if not settings.warehouse.exists():
        raise PublishError(f"{settings.warehouse}: no published marts yet; run `discourse run` first")
    snaps = read_snapshots(settings)
    if not snaps:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        for key, value in (config or {}).items():
            con.execute(f"set {key} = {_setting(value)}")
        return con
    con = duckdb.connect()
    con.execute("attach ? as published (read_only)", [str(settings.warehouse)])
    run_id = as_of or con.execute(f"select run_id from published.{PUBLISHED_SCHEMA}.about").fetchone()[0]
    con.execute(f"create schema {PUBLISHED_SCHEMA}")
    for table in ("about", "snapshots"):
        con.execute(f"create table {PUBLISHED_SCHEMA}.{table} as "
                    f"select * from published.{PUBLISHED_SCHEMA}.{table}")
    con.execute("detach published")
    if as_of:
        con.execute(f"update {PUBLISHED_SCHEMA}.about set run_id = ?", [as_of])
    snap = _snapshot(settings, run_id)
    gone_files = snapshot_removed(settings, run_id)
    for name, files in sorted(snapshot_marts(settings, run_id).items()):
        handle = f"_published_{_safe_name(name)}"
        con.register(handle, ds.dataset([str(p) for p in files], format="parquet"))
        gone = None
        if gone_files.get(name):
            gone = f"_published_{_safe_name(name)}_removed"
            con.register(gone, ds.dataset([str(p) for p in gone_files[name]], format="parquet"))
        con.execute(f"create view {PUBLISHED_SCHEMA}.{quote_ident(name)} as "
                    + mart_select(handle, gone, _hidden_columns(snap, name)))
    for key, value in (config or {}).items():
        con.execute(f"set {key} = {_setting(value)}")
    return con
