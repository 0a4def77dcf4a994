"""Publish: the validated marts become the ones analysts query, atomically, without copying history.

dbt builds ``staging`` (views over the lake, whose ``raw`` column still holds each record's original
JSON, handles included), ``intermediate`` and ``reference`` next to ``marts`` in the build warehouse,
which persists between nights (the incremental models keep their history there). Analysts get the
``marts`` only, as an immutable snapshot per run:

* ``<home>/published/marts/<mart>/<run_id>.parquet``: each mart, written whole (they are aggregates,
  small next to the posts);
* ``<home>/published/marts/posts/created_date=<date>/<run_id>.parquet``: ``posts``, one file per
  date, written only for the dates whose rows changed since the previous snapshot (a fingerprint per
  date: row count and the sum of the rows' hashes); every other date keeps the file an earlier run
  wrote, so a night that adds 1% writes about 1%. The changed dates are written in one scan of the
  mart (a partitioned ``COPY`` into a hidden folder, then renamed into place): ``posts`` is not
  stored in date order, so a query per date would read the whole mart once per changed date.
  ``author_edges`` (one row per day x account pair x edge type, the other mart that grows with
  history) is published the same way by ``day`` (``DATED_MARTS``);
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.crash import crash_point
from discourse.settings import Settings, apply_duckdb_limits

PUBLISHED_SCHEMA = "marts"
# Marts that grow with history, published a file per date (the column), rewritten only for the dates
# whose rows changed. Every other mart is an aggregate, written whole each run.
DATED_MARTS = {"posts": "created_date", "author_edges": "day"}


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


def snapshot_marts(settings: Settings, run_id: str | None = None) -> dict[str, list[Path]]:
    """Each mart's files in a retained snapshot (the latest when ``run_id`` is None)."""
    snaps = read_snapshots(settings)
    if run_id is not None:
        snaps = [snap for snap in snaps if snap.get("run_id") == run_id]
    if not snaps:
        raise PublishError(f"no retained snapshot {run_id or ''}".strip())
    root = snapshot_root(settings)
    return {name: [root / rel for rel in files] for name, files in snaps[-1]["marts"].items()}


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _write_parquet(con: Any, query: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    con.execute(f"copy ({query}) to {_literal(str(tmp))} (format parquet, compression zstd)")
    crash_point("publish.parquet-copied")
    os.replace(tmp, path)


def _date_key(value: Any) -> str:
    return "none" if value is None else str(value)


def write_snapshot(settings: Settings, build: Path, run_id: str) -> dict[str, Any]:
    """Write this run's marts as Parquet (``DATED_MARTS`` only for changed dates) and its snapshot manifest.
    Raises ``PublishError`` (before writing anything) when a mart view reads another schema."""
    import duckdb

    root = snapshot_root(settings)
    previous = read_snapshots(settings)
    before = previous[-1] if previous else {}
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
        fingerprints: dict[str, dict[str, list[Any]]] = {}
        written = reused = 0
        for name in names:
            source = f"build.{PUBLISHED_SCHEMA}.{quote_ident(name)}"
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'build' and schema_name = ? "
                "and table_name = ?", [PUBLISHED_SCHEMA, name]).fetchall()]
            date_col = DATED_MARTS.get(name)
            if date_col in columns:
                marts[name], fingerprints[name], w, r = _write_dated(
                    con, source, root, run_id, name, date_col, _fingerprints(before, name))
                written += w
                reused += r
                continue
            rel = f"marts/{_safe_name(name)}/{_safe_name(run_id)}.parquet"
            _write_parquet(con, f"select * from {source}", root / rel)
            marts[name] = [rel]
            written += 1
    except duckdb.Error as exc:
        raise PublishError(f"could not write the snapshot of {build}: {exc}") from exc
    finally:
        con.close()
    snapshot = {"run_id": run_id, "published_at": datetime.now(UTC).isoformat(), "marts": marts,
                "fingerprints": fingerprints, "comments": comments,
                "column_comments": column_comments}
    path = _snapshot_file(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(snapshot, indent=1, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return {"snapshot": snapshot, "files_written": written, "files_reused": reused,
            "unpublished_schemas": others}


def _fingerprints(before: dict[str, Any], name: str) -> dict[str, Any]:
    """A dated mart's per-date fingerprints and files in the snapshot ``before`` (a snapshot written
    before ``author_edges`` was dated kept the posts' fingerprints under ``posts_fingerprints``)."""
    fps = before.get("fingerprints", {}).get(name)
    if fps is None and name == "posts":
        fps = before.get("posts_fingerprints")
    return {"fingerprints": fps or {}, "files": before.get("marts", {}).get(name, [])}


def _write_dated(con: Any, source: str, root: Path, run_id: str, name: str, date_col: str,
                 before: dict[str, Any]) -> tuple[list[str], dict[str, list[Any]], int, int]:
    """A dated mart by ``date_col``: a new file for a date whose fingerprint changed, else the old one."""
    col = quote_ident(date_col)
    rows = con.execute(
        f"select {col}, count(*), sum(hash(p))::varchar from {source} as p group by 1").fetchall()
    now = {_date_key(d): [n, h] for d, n, h in rows}
    old_fp = before["fingerprints"]
    old_files: dict[str, list[str]] = {}
    for rel in before["files"]:
        part = Path(rel).parent.name
        if part.startswith(f"{date_col}="):
            old_files.setdefault(part.split("=", 1)[1], []).append(rel)
    files, written, reused = [], 0, 0
    changed = []
    for key, fp in sorted(now.items()):
        kept = old_files.get(key, [])
        if old_fp.get(key) == fp and kept and all((root / rel).exists() for rel in kept):
            files += old_files[key]
            reused += 1
        else:
            changed.append(key)
    if changed:
        files += _write_dates(con, source, root, run_id, name, date_col, changed)
        written += len(changed)
    if not files:  # no rows: an empty file keeps the view's columns
        rel = f"marts/{_safe_name(name)}/empty/{_safe_name(run_id)}.parquet"
        _write_parquet(con, f"select * from {source} where false", root / rel)
        files.append(rel)
        written += 1
    return sorted(files), now, written, reused


def _write_dates(con: Any, source: str, root: Path, run_id: str, name: str, date_col: str,
                 keys: list[str]) -> list[str]:
    """Write the rows of a dated mart for the dates ``keys`` (``_date_key`` form), a file per date, in
    one scan of the mart: ``posts`` is not stored in date order, so a query per date would read the
    whole table once per changed date. The files land in a hidden folder first and are renamed into
    place, so a crash leaves no partial file where a snapshot could name it (``prune_snapshots``
    removes the folder)."""
    mart_dir = root / "marts" / _safe_name(name)
    staging = mart_dir / f".tmp-{_safe_name(run_id)}"
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
        f"copy (select * from {source} where {' or '.join(where)}) to {_literal(str(staging))} "
        f"(format parquet, compression zstd, partition_by ({col}), write_partition_columns true, "
        "filename_pattern 'part_{i}')")
    crash_point("publish.parquet-copied")
    files = []
    for key in keys:
        folder = staging / f"{date_col}={'__HIVE_DEFAULT_PARTITION__' if key == 'none' else key}"
        parts = sorted(folder.glob("*.parquet"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
        if not parts:
            raise PublishError(f"publish: no {name} file was written for {date_col} {key}")
        for i, part in enumerate(parts):
            fname = f"{_safe_name(run_id)}.parquet" if i == 0 else f"{_safe_name(run_id)}_{i}.parquet"
            rel = f"marts/{_safe_name(name)}/{date_col}={key}/{fname}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, root / rel)
            files.append(rel)
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
            paths = ", ".join(_literal(str((root / rel).resolve())) for rel in files)
            target = f"{PUBLISHED_SCHEMA}.{quote_ident(name)}"
            con.execute(
                f"create view {target} as select * from read_parquet([{paths}], hive_partitioning = false)")
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
    used = {str((root / rel).resolve()) for snap in kept for files in snap["marts"].values() for rel in files}
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
    written = write_snapshot(settings, build, run_id)
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
    for name, files in sorted(snapshot_marts(settings, run_id).items()):
        handle = f"_published_{_safe_name(name)}"
        con.register(handle, ds.dataset([str(p) for p in files], format="parquet"))
        con.execute(f"create view {PUBLISHED_SCHEMA}.{quote_ident(name)} as select * from {handle}")
    for key, value in (config or {}).items():
        con.execute(f"set {key} = {_setting(value)}")
    return con
