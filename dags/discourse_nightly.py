"""
### discourse_nightly

The nightly run: new exports in the inbox become fresh, validated marts.

    list_new_files → ingest (one mapped task per file) → raw_gate (+ freshness_check) → prepare_transform
    → dbt_build (one `dbt build` of the whole project, as `discourse run` does)
    → staging_gate → marts_gate → volume_check → publish (updates the `discourse_warehouse` asset) → report

Each task is a few lines that call `discourse.pipeline`; the same steps run without a scheduler
as `discourse run`.

- **Gates.** Raw (tonight's lake batches), staging (staged posts against the lake: dedup held, no
  post lost, each committed batch accounted for) and marts each have a Great Expectations gate with
  its Data Docs. A failing gate sends its own alert (stage, expectation, observed vs expected,
  sample rows or the batches concerned, Data Docs) and fails its task without retries; publish
  never runs, so the previously published warehouse stays in place.
- **Failures.** Any other task that fails after its retries alerts the maintainers through the
  failure callback. When the run ends, the DAG's callbacks write its run record
  (`<home>/runs/<run_id>.json`, as `discourse run` does) and, for a failed run, send one `run` alert:
  the step, its error, the run, and which run's marts analysts see now.
- **Deadline.** A night still running `night_deadline_minutes` (default 240; 0: none) after it was
  queued sends a "night overran" warning (Airflow `DeadlineAlert`); `dagrun_timeout` stops it at 6 h.
  Airflow 3.3.2's `dag.test()` / `airflow dags test` crashes at the end of a successful run of a DAG
  with a deadline (it looks the deadline up by its definition, not the id the scheduler stores): run
  those with `DISCOURSE_NIGHT_DEADLINE_MINUTES=0`, as the tests do. The scheduler is not affected.
- **Assets.** `publish` updates the `discourse_warehouse` asset; `report` reads it, and the
  `discourse_published` DAG (dbt docs) is scheduled on it.
- **dbt.** `dbt_build` runs `dbt build` (seeds, models, data tests, in dependency order, a failing
  node skipping its descendants) in-process, into the build warehouse
  (`<home>/build/warehouse.duckdb`), never into the published one, in the `discourse_warehouse`
  pool (one slot: DuckDB has one writer). Its log holds a table of every node (status, seconds)
  and its XCom the same results; when a model or test breaks, the task fails with a message naming
  the broken model(s), which the alert repeats. A failing data test fails it at once (retrying
  would fail the same way); a model error is retried.
- **Backfill.** Every run brings the marts up to date with the whole lake (incrementally: only what
  changed since the last build, docs/incremental.md), so re-running any past date
  (clear, or `airflow backfill create`) republishes marts that include that date's data. Files
  already in the lake are not ingested twice.
- **The lake's lock, retention, delete events.** As `discourse run` holds the lake's lock from its
  cleanup to its publish, the night holds the lake from `list_new_files` to `report`: its tasks are
  separate processes, so the first one writes a hold (`<home>/.lake.hold`, `discourse.pipeline.lake_lock`)
  that every other writer (`discourse ingest`, `run`, `remap`, `forget`) waits for, and the night's own
  tasks pass; each task takes the lock itself too (ingests shared, the rest exclusively). The last
  task and the DAG's callbacks release the hold; one older than the run timeout is ignored.
  `list_new_files` runs the retention rule (`retention_days`) after settling the lake, and `raw_gate`
  applies the delete events the exports brought (`discourse.forget.apply_deletes`) before gating, as
  `discourse run` does (docs/security.md).
- **Params.** `format` forces one export format for every file of a manually triggered run
  (empty: detect each file's format from its content).

See `docs/orchestration.md`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import (
    Asset,
    DeadlineAlert,
    DeadlineReference,
    Param,
    SyncCallback,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from discourse.settings import load_settings

log = logging.getLogger(__name__)

DAG_ID = Path(__file__).stem
WAREHOUSE_POOL = "discourse_warehouse"
# How many failing nodes a dbt_build failure message names before "and N more".
NAMED_FAILURES = 5


class DbtBuildFailed(Exception):
    """``dbt build`` broke; the message names the broken model(s). ``summary`` is dbt's summary
    (not ``result``: the alert would read that as a gate's expectation failures)."""

    def __init__(self, message: str, summary: dict[str, Any] | None = None):
        super().__init__(message)
        self.summary = summary or {}


def _short(unique_id: str) -> str:
    """``model.discourse.posts`` → ``posts`` (tests keep their full generated name)."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) >= 3 else unique_id


def dbt_failure_message(summary: dict[str, Any], fallback: str) -> str:
    """One line naming the broken models, the failing nodes and dbt's first error."""
    failures = summary.get("failures") or []
    if not failures:
        return fallback
    models = list(dict.fromkeys(_short(m) for f in failures for m in f.get("models") or [f["node"]]))
    nodes = [f"{f['node']} ({f['status']})" for f in failures[:NAMED_FAILURES]]
    if len(failures) > NAMED_FAILURES:
        nodes.append(f"and {len(failures) - NAMED_FAILURES} more")
    skipped = (summary.get("counts") or {}).get("skipped", 0)
    # dbt's first message, on one line ("Runtime Error in model x (path) Binder Error: ...").
    first = " ".join(line.strip() for line in (failures[0].get("message") or "").splitlines())
    return (
        f"dbt build broke model(s) {', '.join(models)}: {', '.join(nodes)}"
        + (f"; {skipped} downstream node(s) skipped" if skipped else "")
        + (f"; first error: {first[:400]}" if first.strip() else "")
        + (f" (log: {summary['log']})" if summary.get("log") else "")
    )


def log_node_results(summary: dict[str, Any]) -> None:
    """The per-node table of a dbt build (slowest first) into the task log."""
    results = summary.get("results") or summary.get("slowest") or []
    counts, seconds = summary.get("counts"), summary.get("seconds", 0)
    log.info("dbt build: %s in %.1fs, %d node(s)", counts, seconds, len(results))
    log.info("%-80s %-12s %8s", "node", "status", "seconds")
    for r in results:
        log.info("%-80s %-12s %8.2f", r["node"], r["status"], r["seconds"])


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


# ---------------------------------------------------------------- DAG-level callbacks and the deadline


def _field(obj: Any, *names: str) -> Any:
    """The first of ``names`` set on ``obj`` (an object or, from the deadline callback, a dict)."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _published(settings: Any) -> dict[str, Any] | None:
    """What analysts see now (``<home>/published.json``), or None before the first publish."""
    import json

    try:
        return json.loads((settings.home / "published.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _alerts_of_run(settings: Any, run_id: str) -> list[dict[str, Any]]:
    """The alerts already sent for this run (failed tasks, gates, rejected batches), oldest first."""
    import json
    import re

    folder = settings.alerts_dir
    if not run_id or not folder.is_dir():
        return []
    # quality.alerts.alert_path names them <stamp>-<stage>-<run id, sanitised>[-n].json
    run = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:60]
    found = []
    for path in sorted({*folder.glob(f"*-{run}.json"), *folder.glob(f"*-{run}-*.json")}):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("run_id") == run_id:
            found.append({"file": str(path), "stage": record.get("stage"), "title": record.get("title"),
                          "extra": record.get("extra") or {}})
    return found


def night_record(settings: Any, context: dict[str, Any], state: str) -> dict[str, Any]:
    """The run record (``runs/<run_id>.json``, as ``discourse run`` writes) of a finished DAG run."""
    from datetime import UTC, datetime

    dag_run = context.get("dag_run")
    run_id = context.get("run_id") or _field(dag_run, "run_id", "dag_run_id")
    ti = context.get("ti") or context.get("task_instance")
    # started: when it began running (dag.test() sets start_date to the logical date: the later wins)
    times = [t for t in (_field(dag_run, "start_date"), _field(dag_run, "queued_at"))
             if hasattr(t, "timestamp")]
    started = max(times, key=lambda t: t.timestamp()) if times else _field(dag_run, "start_date", "queued_at")
    finished = datetime.now(UTC)
    published = _published(settings)
    record: dict[str, Any] = {
        "run_id": run_id,
        "orchestrator": "airflow",
        "dag_id": _field(dag_run, "dag_id") or DAG_ID,
        "logical_date": str(_field(dag_run, "logical_date") or ""),
        "state": state,
        "reason": context.get("reason"),
        "started_at": started.isoformat() if hasattr(started, "isoformat") else started,
        "finished_at": finished.isoformat(),
        "published": bool(published and published.get("run_id") == run_id),
        "published_run_id": (published or {}).get("run_id"),
        "alerts": [a["file"] for a in _alerts_of_run(settings, run_id)],
    }
    if hasattr(started, "timestamp"):
        record["seconds"] = round(finished.timestamp() - started.timestamp(), 2)
    if state != "success":
        task_id = _field(ti, "task_id")
        record["failed_step"] = task_id or context.get("reason")
        task_alert = next((a for a in reversed(_alerts_of_run(settings, run_id))
                           if a["extra"].get("task_id") == task_id and a["extra"].get("exception")), None)
        if task_alert:
            extra = task_alert["extra"]
            record["failed"] = f"{extra.get('exception_type')}: {extra['exception']}"
        elif any(a["stage"] in ("raw", "staging", "marts") for a in _alerts_of_run(settings, run_id)):
            record["failed"] = f"a quality gate failed at {task_id}: see its alert"
        else:
            record["failed"] = f"task {task_id or '?'} did not succeed ({context.get('reason') or 'failed'})"
    return record


def _on_night_success(context: dict[str, Any]) -> None:
    """DAG success callback: the night's run record, for the report and `discourse status`."""
    from discourse.pipeline import write_run_record

    _release_hold(context)
    try:
        write_run_record(load_settings(), night_record(load_settings(), context, "success"))
    except Exception:  # a record that cannot be written must not turn a good night into a failure
        log.exception("could not write the run record")


def _release_hold(context: dict[str, Any]) -> None:
    """The night is over: its hold on the lake goes (``discourse.pipeline.lake_lock``)."""
    from discourse.pipeline import release_night_hold

    run_id = context.get("run_id") or _field(context.get("dag_run"), "run_id", "dag_run_id")
    try:
        if run_id:
            release_night_hold(load_settings(), str(run_id))
    except Exception:  # noqa: BLE001 - a stale hold expires on its own
        log.exception("could not release the night's hold on the lake")


def _on_night_failure(context: dict[str, Any]) -> None:
    """DAG failure callback: the run record and one `run` alert for the night: the step that failed,
    its error, the run, and what analysts see now (this run's marts, or which earlier run's)."""
    from discourse.pipeline import write_run_record
    from quality.alerts import Alert, send_alert

    _release_hold(context)
    settings = load_settings()
    try:
        record = night_record(settings, context, "failed")
        write_run_record(settings, record)
        published = _published(settings)
        if record["published"]:
            seen = f"this run's marts were published at {published.get('published_at')}; a later step failed"
        elif published:
            seen = ("nothing was published by this run; the marts published by run "
                    f"{published.get('run_id')} at {published.get('published_at')} stay in place "
                    "for analysts")
        else:
            seen = "nothing has been published yet"
        others = [a for a in _alerts_of_run(settings, record["run_id"]) if a["stage"] != "run"]
        step = record["failed_step"] or "?"
        ti = context.get("ti") or context.get("task_instance")
        failed_task = _field(ti, "task_id")  # none when the run timed out (dagrun_timeout)
        send_alert(settings, Alert(
            stage="run",
            title=f"nightly run failed at {step}" if failed_task else f"nightly run failed: {step}",
            severity="error",
            summary="\n".join([
                f"Run {record['run_id']} of {record['dag_id']} failed"
                + (f" at task '{step}'" if failed_task else "")
                + (f" ({record['reason']})." if record.get("reason") else "."),
                record["failed"],
                seen[0].upper() + seen[1:] + ".",
                *([f"Alerts sent for this run: {'; '.join(a['title'] or a['stage'] for a in others)}."]
                  if others else []),
            ]),
            # default (stage run): "retried nightly: this run published nothing ..."
            next_step=("kept: this run's marts are published for analysts; the step that failed "
                       "after the publish runs again next night") if record["published"] else None,
            run_id=record["run_id"],
            extra={"dag_id": record["dag_id"], "step": step, "reason": record.get("reason"),
                   "published": published,
                   "run_record": str(settings.home / "runs" / f"{record['run_id']}.json")},
        ))
    except Exception:  # an alert that cannot be sent must not hide the run's own failure
        log.exception("could not send the run-failure alert")


def alert_night_overran(context: dict[str, Any] | None = None, **_: Any) -> None:
    """Deadline callback (Airflow ``DeadlineAlert``): the night is still running
    ``night_deadline_minutes`` after it was queued. A warning: the run goes on, and what analysts see
    stays as published until it publishes."""
    from quality.alerts import Alert, send_alert

    settings = load_settings()
    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    run_id = _field(dag_run, "dag_run_id", "run_id")
    published = _published(settings)
    minutes = settings.night_deadline_minutes
    send_alert(settings, Alert(
        stage="deadline",
        title=f"night overran: {DAG_ID} still running after {minutes} min",
        severity="warning",
        summary="\n".join([
            f"Run {run_id} of {_field(dag_run, 'dag_id') or DAG_ID} was queued at "
            f"{_field(dag_run, 'queued_at') or '?'} and is still {_field(dag_run, 'state') or 'running'} "
            f"past its deadline ({_field(deadline, 'deadline_time') or '?'}; "
            f"night_deadline_minutes={minutes}).",
            ("Analysts still see the marts published by run "
             f"{published.get('run_id')} at {published.get('published_at')}." if published
             else "Nothing has been published yet."),
            "Look at the running task's log in Airflow (a large inbox, a slow dbt model, a full disk); "
            "raise DISCOURSE_NIGHT_DEADLINE_MINUTES if nights are simply longer now.",
        ]),
        next_step="kept: the run goes on (dagrun_timeout stops it at 6 h); nothing is retried",
        run_id=run_id,
        extra={"dag_id": _field(dag_run, "dag_id") or DAG_ID, "deadline": deadline,
               "night_deadline_minutes": minutes},
    ))


SETTINGS = load_settings()
WAREHOUSE_ASSET = Asset(name="discourse_warehouse", uri=SETTINGS.warehouse.as_uri())


@dag(
    dag_id=DAG_ID,
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    on_success_callback=_on_night_success,
    on_failure_callback=_on_night_failure,
    # An alert when the night is still running `night_deadline_minutes` after it was queued (0: none).
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=SETTINGS.night_deadline_minutes),
        callback=SyncCallback(alert_night_overran),
        name="night_overran",
    ) if SETTINGS.night_deadline_minutes > 0 else None,
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
        """Inbox files not ingested yet; also clears temp files a killed run left in the lake, and
        runs the retention rule (`retention_days`), as `discourse run` does."""
        from discourse import pipeline
        from discourse.forget import forget, retention_cutoff
        from ingest.lake import cleanup_lake

        settings = load_settings()
        pipeline.ensure_home(settings)
        # the lake's lock, as `discourse run` takes it: never clean up under an ingest at work;
        # orphans, interrupted rejections, corrupt manifests are settled (docs/recovery.md). The
        # night's hold keeps other writers out until it is over (`take`).
        with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id(), take=True):
            cleanup_lake(settings)
            pipeline.settle(settings, run_id=_run_id())
            cutoff = retention_cutoff(settings)
            if cutoff is not None:  # forget what is older, before anything is built
                audit = forget(settings, before=cutoff, echo=log.info,
                               reason=f"retention_days={settings.retention_days}")
                log.info("retention: %d post(s) and %d quarantined record(s) before %s forgotten",
                         audit["posts"], audit["quarantined"], cutoff)
        files = pipeline.list_new_files(settings)
        log.info("%d new file(s) in %s", len(files), settings.inbox_location)
        return files

    @task(max_active_tis_per_dagrun=8)
    def ingest_file(path: str, fmt: str = "") -> dict[str, Any]:
        """One export file into the lake (format detected from its content unless forced)."""
        from discourse import pipeline

        settings = load_settings()
        # shared, as `discourse ingest`; the night's own hold lets it through
        with pipeline.lake_lock(settings, shared=True, echo=log.info, night=_run_id()):
            result = pipeline.ingest_one(settings, path, fmt=fmt or None)
        if result.get("error"):
            log.warning("%s: %s (left in the inbox)", path, result["error"])
        return result

    @task(trigger_rule="none_failed")  # runs on an empty inbox too: the marts are brought up to date anyway
    def raw_gate(ingested: list[dict[str, Any]]) -> dict[str, Any]:
        """Validate the lake batches not gated yet (this run's and any ingested outside a run) with
        the Great Expectations raw suite; failing batches are set aside and alerted, the rest go on."""
        from discourse import pipeline
        from discourse.forget import apply_deletes, deletes_pending

        settings = load_settings()
        results = list(ingested or [])
        batch_ids = [b for r in results for b in r.get("batch_ids", [])]
        unrecognised = [r["path"] for r in results if r.get("error")]
        with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
            # delete events (tonight's exports' or earlier ones'): their posts leave the lake first
            deletes = apply_deletes(settings, echo=log.info) if deletes_pending(settings) else None
            to_gate = sorted(set(batch_ids) | set(pipeline.ungated_batches(settings)))
            try:
                gate = pipeline.raw_gate(settings, to_gate, run_id=_run_id())
            except pipeline.GateFailed as exc:
                raise AirflowFailException(str(exc)) from exc
        return {"batch_ids": to_gate, "unrecognised": unrecognised, "success": gate.get("success", True),
                "rejected_batches": gate.get("rejected_batches", []),
                "deletes_applied": (deletes or {}).get("posts", 0)}

    @task(trigger_rule="none_failed")
    def freshness_check() -> dict[str, Any]:
        """Warn (never block) when a source stayed quiet longer than the `quiet_after` setting allows."""
        from discourse import pipeline

        settings = load_settings()
        with pipeline.lake_lock(settings, shared=True, echo=log.info, night=_run_id()):
            return pipeline.freshness_check(settings, run_id=_run_id())

    @task
    def prepare_transform() -> dict[str, str]:
        """Write the reference data dbt reads (the build warehouse keeps its history: incremental)."""
        from discourse import pipeline

        settings = load_settings()
        pipeline.ensure_home(settings)
        with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
            return pipeline.prepare_transform(settings)

    @task(pool=WAREHOUSE_POOL)
    def dbt_build() -> dict[str, Any]:
        """``dbt build`` of the whole project into the build warehouse: what ``discourse run`` runs.

        Logs every node's status and seconds and returns them (XCom ``results``). Fails naming the
        broken model(s); a failing data test fails at once, without retries.
        """
        from discourse import pipeline
        from discourse.transform import TransformError

        settings = load_settings()
        try:
            # the lake's lock exclusively, as `discourse run` holds it over its build
            with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
                summary = pipeline.transform(settings, echo=log.info)  # progress every few s
        except TransformError as exc:
            log_node_results(exc.summary)
            failed = DbtBuildFailed(dbt_failure_message(exc.summary, str(exc)), exc.summary)
            statuses = {f.get("status") for f in exc.summary.get("failures") or []}
            if statuses == {"fail"}:  # only data tests failed: the data would fail the same way
                raise AirflowFailException(str(failed)) from failed
            raise failed from exc
        log_node_results(summary)
        keys = ("success", "seconds", "counts", "by_type", "nodes", "slowest", "results", "log", "warehouse")
        return {k: summary.get(k) for k in keys}

    @task
    def staging_gate() -> dict[str, Any]:
        """Validate the staged posts against the lake (Great Expectations staging suites): dedup
        held, no post lost, and every committed batch accounted for."""
        from discourse import pipeline
        from discourse.transform import close_dbt_connections

        close_dbt_connections()  # as in marts_gate: the WAL is checkpointed before reading
        settings = load_settings()
        try:
            with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
                return pipeline.staging_gate(settings, run_id=_run_id())
        except pipeline.GateFailed as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def marts_gate() -> dict[str, Any]:
        """Validate the build warehouse (Great Expectations marts suite)."""
        from discourse import pipeline
        from discourse.transform import close_dbt_connections

        # dbt_build closes dbt-duckdb's connection when it finishes; should one still be open in
        # this process (dag.test, in-process executors), release it so the WAL is checkpointed.
        close_dbt_connections()
        settings = load_settings()
        try:
            with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
                return pipeline.marts_gate(settings, run_id=_run_id())
        except pipeline.GateFailed as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def volume_check() -> dict[str, Any]:
        """Alert (without blocking) when a platform's daily volume collapses or jumps."""
        from discourse import pipeline

        settings = load_settings()
        with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
            return pipeline.volume_check(settings, run_id=_run_id())

    @task(outlets=[WAREHOUSE_ASSET])
    def publish() -> dict[str, Any]:
        """Swap the validated build warehouse into place (atomic rename). After a `discourse forget`,
        the older snapshots and reports (which may quote the forgotten posts) go, as in `discourse run`."""
        from discourse import pipeline
        from discourse.forget import finish_pending

        settings = load_settings()
        with pipeline.lake_lock(settings, shared=False, echo=log.info, night=_run_id()):
            result = pipeline.publish(settings, run_id=_run_id())
            return {**result, "forget_finished": finish_pending(settings)}

    @task(inlets=[WAREHOUSE_ASSET])
    def report() -> dict[str, Any]:
        """Write the report on the published marts; the night is over: its hold on the lake goes."""
        from discourse import pipeline

        settings = load_settings()
        try:
            return pipeline.report(settings)
        finally:
            pipeline.release_night_hold(settings, _run_id())

    files = list_new_files()
    ingested = ingest_file.partial(fmt="{{ params.format }}").expand(path=files)
    gate = raw_gate(ingested)
    ingested >> freshness_check()
    (gate >> prepare_transform() >> dbt_build() >> staging_gate() >> marts_gate() >> volume_check()
     >> publish() >> report())


discourse_nightly()
