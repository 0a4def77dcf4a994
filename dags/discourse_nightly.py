"""
### discourse_nightly

The nightly run: new exports in the inbox become fresh, validated marts.

    list_new_files → ingest (one mapped task per file) → raw_gate → prepare_transform
    → dbt (astronomer-cosmos task group: every seed, model and its tests is a task)
    → marts_gate → volume_check → publish (updates the `discourse_warehouse` asset) → report

Each task is a few lines that call `discourse.pipeline`; the same steps run without a scheduler
as `discourse run`.

- **Gates.** A failing Great Expectations gate sends its own alert (stage, expectation, observed
  vs expected, sample rows, Data Docs) and fails its task without retries; publish never runs, so
  the previously published warehouse stays in place.
- **Failures.** Any other task that fails after its retries alerts the maintainers through the
  failure callback.
- **dbt.** Builds into the build warehouse (`<home>/build/warehouse.duckdb`), never into the
  published one. dbt tasks run in the `discourse_warehouse` pool (one slot): DuckDB has one
  writer. The project is loaded from dbt's own `manifest.json`, which is regenerated with
  `dbt parse` only when a file of the dbt project changes, so parsing this file stays cheap.
- **Backfill.** Every run rebuilds all marts from the whole lake, so re-running any past date
  (clear, or `airflow backfill create`) republishes marts that include that date's data. Files
  already in the lake are not ingested twice.
- **Params.** `format` forces one export format for every file of a manually triggered run
  (empty: detect each file's format from its content).

See `docs/orchestration.md`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pendulum
import yaml
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos import settings as cosmos_settings
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from discourse.settings import load_settings
from discourse.transform import dbt_env, dbt_project_dir

log = logging.getLogger(__name__)

DAG_ID = Path(__file__).stem
WAREHOUSE_POOL = "discourse_warehouse"
# The dbt of this interpreter's environment (scripts may live elsewhere, e.g. pip --user installs).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
if not DBT_EXECUTABLE.exists():
    DBT_EXECUTABLE = Path(shutil.which("dbt") or DBT_EXECUTABLE)
# dbt's and cosmos's usage tracking would try to reach the network.
NO_TRACKING = {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
_SKIP_IN_PROJECT = {"target", "logs", "dbt_packages", "__pycache__"}


def _project_digest(project_dir: Path) -> str:
    """A hash of everything in the dbt project that can change its graph, plus dbt's version."""
    digest = hashlib.sha256(version("dbt-core").encode())
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if not path.is_file() or rel.parts[0] in _SKIP_IN_PROJECT or rel.name.startswith("."):
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def dbt_manifest(project_dir: Path, env: dict[str, str]) -> Path:
    """dbt's ``manifest.json`` for the project, made by ``dbt parse`` only when the project changed.

    The manifest is cached per project digest under cosmos's cache dir (``[cosmos] cache_dir``),
    so the scheduler's frequent parses read one JSON file instead of running dbt. ``dbt parse``
    needs no warehouse connection and no network; it writes nothing into the project dir.
    """
    cache = Path(cosmos_settings.cache_dir) / f"{DAG_ID}_manifest" / _project_digest(project_dir)
    manifest = cache / "manifest.json"
    if manifest.is_file():
        return manifest
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [
            sys.executable,
            "-c",
            "from dbt.cli.main import cli; cli()",  # this interpreter's dbt
            "parse",
            "--quiet",
            "--no-partial-parse",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            tmp,
            "--log-path",
            tmp,
        ]
        proc = subprocess.run(
            cmd,
            env={**os.environ, **env, **NO_TRACKING},
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
            raise RuntimeError(f"dbt parse failed for {project_dir}:\n" + "\n".join(tail))
        os.replace(Path(tmp) / "manifest.json", manifest)  # atomic: concurrent parsers agree
    return manifest


def _alert_on_failure(context: dict[str, Any]) -> None:
    """Task failure callback (after the last retry): alert the maintainers."""
    from discourse import pipeline

    exc = context.get("exception")
    if isinstance(exc, AirflowFailException) and isinstance(exc.__cause__, pipeline.GateFailed):
        return  # the gate has already sent a detailed alert
    try:
        pipeline.alert_task_failure(load_settings(), context)
    except Exception:  # an alert that cannot be sent must not hide the task's own error
        log.exception("could not send the task-failure alert")


def _run_id() -> str:
    return get_current_context()["run_id"]


SETTINGS = load_settings()
DBT_PROJECT_DIR = dbt_project_dir(SETTINGS)
DBT_ENV = {**dbt_env(SETTINGS), **NO_TRACKING}
PROFILE_NAME = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["profile"]
WAREHOUSE_ASSET = Asset(name="discourse_warehouse", uri=SETTINGS.warehouse.as_uri())


@dag(
    dag_id=DAG_ID,
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={
        "owner": "discourse",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": _alert_on_failure,
    },
    params={
        "format": Param(
            "",
            type="string",
            description="Force this export format for every new file (empty: auto-detect).",
        ),
    },
    doc_md=__doc__,
    tags=["discourse", "nightly", "dbt", "great-expectations"],
)
def discourse_nightly() -> None:
    @task
    def list_new_files() -> list[str]:
        """Inbox files not ingested yet; also clears temp files a killed run left in the lake."""
        from discourse import pipeline
        from ingest.lake import cleanup_temp_files

        settings = load_settings()
        pipeline.ensure_home(settings)
        cleanup_temp_files(settings.lake)
        files = pipeline.list_new_files(settings)
        log.info("%d new file(s) in %s", len(files), settings.inbox)
        return files

    @task(max_active_tis_per_dagrun=8)
    def ingest_file(path: str, fmt: str = "") -> dict[str, Any]:
        """One export file into the lake (format detected from its content unless forced)."""
        from discourse import pipeline

        result = pipeline.ingest_one(load_settings(), path, fmt=fmt or None)
        if result.get("error"):
            log.warning("%s: %s (left in the inbox)", path, result["error"])
        return result

    @task(trigger_rule="none_failed")  # runs on an empty inbox too: the marts are rebuilt anyway
    def raw_gate(ingested: list[dict[str, Any]]) -> dict[str, Any]:
        """Validate the new lake batches (Great Expectations raw suite)."""
        from discourse import pipeline

        results = list(ingested or [])
        batch_ids = [b for r in results for b in r.get("batch_ids", [])]
        unrecognised = [r["path"] for r in results if r.get("error")]
        try:
            gate = pipeline.raw_gate(load_settings(), batch_ids, run_id=_run_id())
        except pipeline.GateFailed as exc:
            raise AirflowFailException(str(exc)) from exc
        return {"batch_ids": batch_ids, "unrecognised": unrecognised, "success": gate.get("success", True)}

    @task
    def prepare_transform() -> dict[str, str]:
        """Empty the build warehouse and write the reference data dbt reads."""
        from discourse import pipeline

        settings = load_settings()
        pipeline.reset_build(settings)
        pipeline.ensure_home(settings)
        env = pipeline.prepare_transform(settings)
        # The dbt tasks got their env when this file was parsed; it must be what we prepared.
        differs = {k: v for k, v in env.items() if DBT_ENV.get(k) != v}
        if differs:
            raise RuntimeError(f"dbt env at parse time differs from the prepared one: {differs}")
        return env

    dbt_build = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=dbt_manifest(DBT_PROJECT_DIR, DBT_ENV),
            env_vars=DBT_ENV,  # cosmos passes these to every dbt task it runs
        ),
        profile_config=ProfileConfig(
            profile_name=PROFILE_NAME,
            target_name=SETTINGS.dbt_target,
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=DBT_EXECUTABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # A test on two nodes (relationships, ...) gets its own task after both; run with
            # the first node's tests it would query a model not built yet.
            should_detach_multiple_parents_tests=True,
            dbt_deps=False,
            # Per-table assets inside the build warehouse mean nothing outside this run; the
            # published warehouse is the asset (see publish). Skipping them also saves ~2 s a task.
            emit_datasets=False,
        ),
        operator_args={
            "append_env": True,
            "install_deps": False,
            "pool": WAREHOUSE_POOL,
        },
    )

    @task
    def marts_gate() -> dict[str, Any]:
        """Validate the build warehouse (Great Expectations marts suite)."""
        from discourse import pipeline
        from discourse.transform import close_dbt_connections

        # When the dbt tasks ran in this very process (dag.test, in-process executors), dbt-duckdb
        # still holds the warehouse open with an un-checkpointed WAL; release it first. In a
        # worker process of its own this is a no-op (the dbt task's process closed it on exit).
        close_dbt_connections()
        try:
            return pipeline.marts_gate(load_settings(), run_id=_run_id())
        except pipeline.GateFailed as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def volume_check() -> dict[str, Any]:
        """Alert (without blocking) when a platform's daily volume collapses or jumps."""
        from discourse import pipeline

        return pipeline.volume_check(load_settings(), run_id=_run_id())

    @task(outlets=[WAREHOUSE_ASSET])
    def publish() -> dict[str, Any]:
        """Swap the validated build warehouse into place (atomic rename)."""
        from discourse import pipeline

        return pipeline.publish(load_settings(), run_id=_run_id())

    @task
    def report() -> dict[str, Any]:
        """Write the report on the published marts."""
        from discourse import pipeline

        return pipeline.report(load_settings())

    files = list_new_files()
    ingested = ingest_file.partial(fmt="{{ params.format }}").expand(path=files)
    gate = raw_gate(ingested)
    gate >> prepare_transform() >> dbt_build >> marts_gate() >> volume_check() >> publish() >> report()


discourse_nightly()
