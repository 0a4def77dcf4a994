"""The transform step: ``dbt build`` of ``dbt_project/`` into the build warehouse.

``build_marts(settings)`` prepares the reference data, points dbt at this run's paths through env vars
(``dbt_env``), runs dbt programmatically and returns a summary. dbt writes its target/ and logs/ under
``<home>/dbt``, never into the repository. The result is built into ``settings.build_warehouse``;
publishing it is a later step.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from ingest.objectstore import S3Options
from ingest.store import atomic_write_text

# dbt's programmatic runner is not re-entrant: one invocation at a time per process.
_DBT_LOCK = threading.Lock()

_FAILED = {"error", "fail", "runtime error"}

# The installed distribution (pyproject.toml's project name).
DISTRIBUTION = "discourse-pipeline"


class TransformError(Exception):
    """dbt could not build the marts; the message names the failing nodes."""

    def __init__(self, message: str, summary: dict[str, Any] | None = None):
        super().__init__(message)
        self.summary = summary or {}


def dbt_project_dir(settings: Any = None) -> Path:
    """The dbt project, found without guessing from this file's place on disk.

    In order: the ``dbt_project_dir`` setting (``DISCOURSE_DBT_PROJECT_DIR``); for an editable install
    (a checkout set up with ``uv sync``), ``dbt_project/`` in the source tree the installer recorded;
    the copy packaged in the wheel (``discourse/transform/dbt_project``). The editable source comes
    first because an editable install also holds a snapshot of the packaged copy, which goes stale.
    """
    configured = getattr(settings, "dbt_project_dir", None) if settings is not None else None
    if configured:
        candidates = [Path(configured)]
    else:
        source = _editable_source_root()
        candidates = [] if source is None else [source / "dbt_project"]
        candidates.append(Path(str(resources.files("discourse.transform") / "dbt_project")))
    for path in candidates:
        if (path / "dbt_project.yml").is_file():
            return path
    raise TransformError(
        f"dbt project not found (looked in {', '.join(map(str, candidates))}); "
        "set DISCOURSE_DBT_PROJECT_DIR to the folder that holds dbt_project.yml"
    )


def _editable_source_root() -> Path | None:
    """The source tree of an editable install, from the installer's ``direct_url.json`` (PEP 610)."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    info = json.loads(raw)
    if not info.get("dir_info", {}).get("editable"):
        return None
    parsed = urlparse(info.get("url", ""))
    if parsed.scheme != "file":
        return None
    return Path(url2pathname(unquote(parsed.path)))


def dbt_paths(settings: Any) -> dict[str, Path]:
    """Where dbt writes at run time: all under ``<home>/dbt``."""
    base = Path(settings.home) / "dbt"
    return {"target": base / "target", "logs": base / "logs"}


def night_batches_file(settings: Any) -> Path:
    """The night's new and gone batches, read by the models of an incremental build
    (``dbt_project/macros/incremental.sql``)."""
    return Path(settings.home) / "dbt" / "night_batches.json"


def _last_vars_file(settings: Any) -> Path:
    """The ``--vars`` of the last dbt build (absent: none), given to ``dbt docs generate`` too: dbt
    parses the whole project again when the vars differ from the last invocation's."""
    return Path(settings.home) / "dbt" / "last_vars.json"


def dbt_env(settings: Any) -> dict[str, str]:
    """The env vars ``dbt_project/profiles.yml`` and the sources read (also for Airflow/cosmos)."""
    return {
        "DISCOURSE_DBT_DB": str(settings.build_warehouse),
        "DISCOURSE_LAKE": settings.lake_location,  # a folder, or s3://bucket/prefix (docs/scaling.md)
        "DISCOURSE_REFERENCE": str(settings.reference_dir),
        "DISCOURSE_DBT_THREADS": str(settings.dbt_threads),
        "DISCOURSE_DUCKDB_MEMORY_LIMIT": str(settings.duckdb_memory_limit),
        "DISCOURSE_DUCKDB_THREADS": str(settings.duckdb_threads or os.cpu_count() or 1),
        "DISCOURSE_DUCKDB_TEMP_DIRECTORY": str(settings.duckdb_spill_dir),
        "DISCOURSE_DBT_PART_POSTS": str(getattr(settings, "dbt_part_posts", 1_000_000)),
        # what the marts publish about accounts (dbt_project/macros/privacy.sql)
        "DISCOURSE_PUBLISH_URLS": str(bool(getattr(settings, "publish_urls", False))).lower(),
        "DISCOURSE_PUBLISH_HANDLES": str(bool(getattr(settings, "publish_handles", False))).lower(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # the lake's store (endpoint, region) for the dbt plugin; credentials only in run_dbt's env
        **(S3Options.from_settings(settings).env(secrets=False) if settings.lake_url else {}),
    }


def dbt_args(
    settings: Any,
    command: str = "build",
    select: str | None = None,
    project_dir: Path | None = None,
) -> list[str]:
    """dbt CLI arguments for this run (``project_dir`` defaults to ``dbt_project_dir(settings)``)."""
    project = Path(project_dir) if project_dir else dbt_project_dir(settings)
    paths = dbt_paths(settings)
    args = [
        command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target",
        settings.dbt_target,
        "--target-path",
        str(paths["target"]),
        "--log-path",
        str(paths["logs"]),
        "--threads",
        str(settings.dbt_threads),
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
        # Node-by-node progress goes to <home>/dbt/logs/dbt.log; the console gets warnings and errors.
        "--log-level",
        "warn",
    ]
    if select:
        args += ["--select", select]
    return args


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _summarise(results: list[Any], seconds: float) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    by_type: dict[str, Counter[str]] = {}
    failures: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for r in results:
        node = r.node
        status = str(getattr(r.status, "value", r.status))
        rtype = str(getattr(node.resource_type, "value", node.resource_type))
        counts[status] += 1
        by_type.setdefault(rtype, Counter())[status] += 1
        timings.append({"node": node.unique_id, "status": status, "seconds": round(r.execution_time or 0, 3)})
        if status in _FAILED:
            failures.append(
                {
                    "node": node.unique_id,
                    "status": status,
                    "message": (r.message or "").strip()[:2000],
                    "failures": getattr(r, "failures", None),
                    # The model (seed, ...) that broke: the node itself, or what a failing test tests.
                    "models": _tested_nodes(node) if rtype in ("test", "unit_test") else [node.unique_id],
                }
            )
    timings.sort(key=lambda t: -t["seconds"])
    return {
        "success": not failures,
        "seconds": round(seconds, 3),
        "counts": dict(counts),
        "by_type": {k: dict(v) for k, v in sorted(by_type.items())},
        "failures": failures,
        "slowest": timings[:10],
        "nodes": len(results),
        # Every node's result, slowest first: {"node", "status", "seconds"}.
        "results": timings,
    }


def _tested_nodes(node: Any) -> list[str]:
    """The models, seeds or snapshots a test node depends on (what a failing test says is broken)."""
    depends = getattr(getattr(node, "depends_on", None), "nodes", None) or []
    tested = [n for n in depends if n.split(".", 1)[0] in ("model", "seed", "snapshot", "source")]
    return tested or [node.unique_id]


def close_dbt_connections() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open after a run.

    dbt-duckdb caches its environment (and the open database) at class level; left open, the
    warehouse file stays locked in this process and its WAL is not checkpointed, so it could not
    be opened read-only or published right after the build.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None


# ``progress(done, total, node, status)``: called as each dbt node finishes.
NodeProgress = Callable[[int, int, str, str], None]


class _NodeCounter:
    """Counts finished nodes from dbt's own events (``NodeFinished``; totals from the start lines)."""

    def __init__(self, progress: NodeProgress):
        self.progress, self.done, self.total = progress, 0, 0

    def __call__(self, event: Any) -> None:
        try:
            name = event.info.name
            data = event.data
            total = getattr(data, "total", 0)
            if isinstance(total, int) and total > self.total:
                self.total = total
            if name != "NodeFinished":
                return
            info = data.node_info
            self.done += 1
            self.progress(self.done, max(self.total, self.done), info.unique_id, info.node_status)
        except Exception:  # progress must never break a build
            return


def run_dbt(settings: Any, args: list[str], progress: NodeProgress | None = None) -> dict[str, Any]:
    """Run one dbt command with this run's env; returns the summary or raises ``TransformError``.

    ``progress`` is called as each node finishes, with dbt's own counts."""
    from dbt.cli.main import dbtRunner

    for p in dbt_paths(settings).values():
        p.mkdir(parents=True, exist_ok=True)
    Path(settings.build_warehouse).parent.mkdir(parents=True, exist_ok=True)
    Path(settings.duckdb_spill_dir).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    secrets = S3Options.from_settings(settings).env(secrets=True) if settings.lake_url else {}
    with _DBT_LOCK, _environment({**dbt_env(settings), **secrets}):
        try:
            res = dbtRunner(callbacks=[_NodeCounter(progress)] if progress else None).invoke(args)
        finally:
            close_dbt_connections()
    seconds = time.perf_counter() - started
    if args and args[0] == "build":
        _record_vars(settings, args)
    results = list(getattr(res.result, "results", None) or [])
    summary = _summarise(results, seconds)
    summary["command"] = args[0]
    summary["log"] = str(dbt_paths(settings)["logs"] / "dbt.log")
    if res.exception is not None:
        summary["success"] = False
        raise TransformError(
            f"dbt {args[0]} failed: {type(res.exception).__name__}: {res.exception} (log: {summary['log']})",
            summary,
        )
    if summary["failures"] or not res.success:
        summary["success"] = False
        names = ", ".join(f"{f['node']} ({f['status']})" for f in summary["failures"]) or "unknown"
        first = summary["failures"][0]["message"].splitlines()[0] if summary["failures"] else ""
        raise TransformError(
            f"dbt {args[0]} failed on {len(summary['failures'])} node(s): {names}"
            + (f"; first error: {first}" if first else "")
            + f" (log: {summary['log']})",
            summary,
        )
    return summary


def _record_vars(settings: Any, args: list[str]) -> None:
    path = _last_vars_file(settings)
    value = args[args.index("--vars") + 1] if "--vars" in args[:-1] else None
    if value is None:
        path.unlink(missing_ok=True)
        return
    atomic_write_text(path, value)


def _last_vars(settings: Any) -> list[str]:
    """``["--vars", <the last build's vars>]``, or [] when it had none."""
    try:
        value = _last_vars_file(settings).read_text()
        json.loads(value)
    except (OSError, ValueError):
        return []
    return ["--vars", value]


def build_marts(
    settings: Any,
    select: str | None = None,
    *,
    unit_tests: bool = False,
    progress: NodeProgress | None = None,
    full_refresh: bool = False,
) -> dict[str, Any]:
    """``dbt build`` (seeds, models and data tests) into ``settings.build_warehouse``, incrementally.

    The build warehouse persists between nights: ``increments.plan_build`` decides whether tonight
    is a full build or an incremental one (only the changed batches, and the descendants of changed
    reference data; ``discourse.transform.increments``). ``full_refresh`` forces a full build;
    ``select`` (a dbt selector) builds just that, fully.

    dbt's unit tests check the SQL, not the data: they do not change between nights, so the nightly
    build leaves them out (they cost about a third of a small night's dbt time). ``unit_tests=True``
    runs them too, as the test suite and ``run_unit_tests`` do.

    Returns ``{"success", "seconds", "counts": {status: n}, "by_type": {resource: {status: n}},
    "failures": [], "slowest": [...], "reference": {...}, "warehouse": path, "plan": {...}}``; raises
    ``TransformError`` naming the failing nodes when anything errors or a test fails.
    """
    from discourse.transform.increments import LAKE_MODELS, LAKE_VIEWS, plan_build, write_record
    from discourse.transform.reference import prepare_reference
    from quality import posts_scope

    reference = prepare_reference(settings)
    extra = [] if unit_tests else ["--exclude-resource-type", "unit_test"]
    project = dbt_project_dir(settings)
    plan = plan_build(settings, project, full_refresh=full_refresh or select is not None)
    write_record(settings, None, clean=False)  # until this build finishes
    validated_before = posts_scope.begin_build(settings)
    staging_before = posts_scope.begin_staging(settings)
    if plan.mode == "full":
        args = [*dbt_args(settings, "build", select), "--full-refresh", *extra]
        summary = run_dbt(settings, args, progress)
    else:
        summaries = []
        if plan.lake_changed:
            night = night_batches_file(settings)
            atomic_write_text(night, json.dumps({"delta_batches": plan.delta_batches,
                                                 "gone_batches": plan.gone_batches}))
            # The same vars every night (the path), so that dbt reuses the parsed project.
            delta = json.dumps({"night_batches": str(night)})
            summaries.append(run_dbt(
                settings,
                [*dbt_args(settings, "build", LAKE_MODELS), "--exclude", LAKE_VIEWS, "--vars", delta, *extra],
                progress))
        if plan.refresh:
            selector = " ".join(f"{node}+" for node in plan.refresh)
            summaries.append(run_dbt(
                settings, [*dbt_args(settings, "build", selector), "--full-refresh", *extra], progress))
        summary = _combine(summaries)
    if select is None:
        write_record(settings, plan.inputs, clean=True)
    # What the marts gate validates of marts.posts: the posts this build rewrote, or every one.
    summary["marts_gate_scope"] = posts_scope.record_build(
        settings, affected_only=select is None and plan.mode != "full" and not plan.refresh,
        validated_before=validated_before)
    # What the staging gate reconciles: the posts this night staged, or every one.
    summary["staging_gate_scope"] = posts_scope.record_staging(
        settings, night=select is None and plan.mode != "full" and not plan.refresh,
        validated_before=staging_before, lake_changed=plan.lake_changed,
        delta_batches=list(plan.delta_batches))
    summary["reference"] = reference
    summary["warehouse"] = str(settings.build_warehouse)
    summary["plan"] = plan.as_dict()
    summary["plan_text"] = plan.describe()
    return summary


def generate_docs(settings: Any) -> dict[str, Any]:
    """``dbt docs generate --static``: the project's documentation (every model, column, test and the
    lineage graph) as one self-contained HTML file that opens offline, published to
    ``<home>/docs/index.html`` (atomically: the previous file stays until the new one is complete).
    Reads the manifest the night's build left in the target folder (``--no-compile``) and the
    warehouse's catalog; reused when neither the project nor the warehouse's columns changed."""
    import hashlib

    import duckdb

    from discourse.transform.state import tree_hash

    started = time.perf_counter()
    out_dir = Path(settings.home) / "docs"
    out = out_dir / "index.html"
    stamp = out_dir / ".inputs"
    # The site changes only with the project or the warehouse's columns (DuckDB keeps no table
    # statistics for the catalog): a night that adds rows reuses it.
    h = hashlib.sha256(tree_hash(dbt_project_dir(settings)).encode())
    h.update(metadata.version("dbt-core").encode())
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        for row in con.execute(
                "select schema_name, table_name, column_name, data_type, coalesce(comment, '') "
                "from duckdb_columns() where database_name = current_database() order by 1, 2, column_index"
        ).fetchall():
            h.update("\0".join(map(str, row)).encode())
    finally:
        con.close()
    key = h.hexdigest()
    if out.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        return {"path": str(out), "seconds": round(time.perf_counter() - started, 2),
                "bytes": out.stat().st_size, "reused": True}
    args = ["docs", *dbt_args(settings, "generate"), "--static", "--no-compile", *_last_vars(settings)]
    summary = run_dbt(settings, args)
    built = dbt_paths(settings)["target"] / "static_index.html"
    if not built.is_file():
        raise TransformError(f"dbt docs generate wrote no {built}", summary)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".index.html.tmp"
    shutil.copyfile(built, tmp)
    os.replace(tmp, out)
    stamp.write_text(key)
    return {"path": str(out), "seconds": round(time.perf_counter() - started, 2),
            "bytes": out.stat().st_size, "reused": False, "dbt_seconds": summary["seconds"]}


def _combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary for the passes of an incremental build (none: nothing to build)."""
    if not summaries:
        return {"success": True, "seconds": 0.0, "counts": {}, "by_type": {}, "failures": [],
                "slowest": [], "nodes": 0, "results": [], "command": "build"}
    if len(summaries) == 1:
        return summaries[0]
    counts: Counter[str] = Counter()
    by_type: dict[str, Counter[str]] = {}
    results: list[dict[str, Any]] = []
    for s in summaries:
        counts.update(s["counts"])
        for rtype, c in s["by_type"].items():
            by_type.setdefault(rtype, Counter()).update(c)
        results += s["results"]
    results.sort(key=lambda t: -t["seconds"])
    return {**summaries[-1], "seconds": round(sum(s["seconds"] for s in summaries), 3),
            "counts": dict(counts), "by_type": {k: dict(v) for k, v in sorted(by_type.items())},
            "failures": [f for s in summaries for f in s["failures"]], "slowest": results[:10],
            "nodes": len(results), "results": results}


def run_unit_tests(settings: Any) -> dict[str, Any]:
    """Every dbt unit test, on an empty build of the models they test and those models' parents
    (``--empty``: the columns, no rows; no data tests).

    The SQL logic's own tests, without data: what CI runs, not the nightly job. Raises
    ``TransformError`` naming the failing unit tests.
    """
    from discourse.transform.increments import write_record
    from discourse.transform.reference import prepare_reference
    from quality import posts_scope

    prepare_reference(settings)
    write_record(settings, None, clean=False)  # empty tables: the next night builds in full
    posts_scope.begin_build(settings)  # ... and its marts gate validates every row
    posts_scope.begin_staging(settings)  # ... and so does its staging gate
    args = dbt_args(settings, "build", "+test_type:unit")
    return run_dbt(settings, [*args, "--exclude-resource-type", "test", "--empty"])
