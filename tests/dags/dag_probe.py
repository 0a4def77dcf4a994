"""Runs in a subprocess with its own AIRFLOW_HOME (see conftest.airflow_env) and prints one JSON line.

Airflow reads its configuration once per process, so every check that parses or runs the DAG
happens here rather than in the pytest process.

    python dag_probe.py inspect          # DagBag: import errors, DAG and task attributes, parse times
    python dag_probe.py imports          # which heavy modules executing the DAG file pulled in
    python dag_probe.py callback         # the failure callback: alerts, except for gate failures
    python dag_probe.py run [YYYY-MM-DD] # dag.test(): one full run, task states, dbt_build's XCom
    python dag_probe.py wiring           # DAG-level callbacks, the deadline, assets of every DAG
    python dag_probe.py deadline         # the deadline callback, called as Airflow calls it

``run`` turns retries off first: in a test a failing task should fail the run at once instead of
waiting out the DAG's retry delays.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

DAG_ID = "discourse_nightly"
HEAVY = (
    "duckdb",
    "pyarrow",
    "pandas",
    "polars",
    "great_expectations",
    "numpy",
    "matplotlib",
    "dbt.cli",
    "dbt.adapters",
    "sqlglot",
    "cosmos",
)
# Tasks whose return value (XCom) `run` reports.
XCOM_TASKS = ("dbt_build",)


def _dags_folder() -> Path:
    return Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])


def _bag() -> tuple[Any, float]:
    from airflow.dag_processing.dagbag import DagBag

    t0 = time.perf_counter()
    bag = DagBag(dag_folder=str(_dags_folder()))
    return bag, time.perf_counter() - t0


def inspect() -> dict[str, Any]:
    import airflow.sdk  # noqa: F401  (so the parse times below are the DAG file's own)

    bag, first = _bag()
    bag2, second = _bag()
    out: dict[str, Any] = {
        "import_errors": {str(k): v for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
        "parse_seconds": [round(first, 3), round(second, 3)],
    }
    dag = bag.dags.get(DAG_ID)
    if dag is None:
        return out
    tasks = {}
    for t in dag.tasks:
        callbacks = t.on_failure_callback
        if callbacks is not None and not isinstance(callbacks, list):
            callbacks = [callbacks]
        tasks[t.task_id] = {
            "type": type(t).__name__,
            "retries": t.retries,
            "retry_exponential_backoff": t.retry_exponential_backoff,
            "retry_delay_s": t.retry_delay.total_seconds() if t.retry_delay else None,
            "on_failure_callback": [getattr(c, "__name__", repr(c)) for c in callbacks or []],
            "pool": t.pool,
            "trigger_rule": getattr(t.trigger_rule, "value", str(t.trigger_rule)),
            "outlets": [getattr(o, "uri", repr(o)) for o in (t.outlets or [])],
            "upstream": sorted(t.upstream_task_ids),
            "mapped": "MappedOperator" in type(t).__name__,
        }
    out[DAG_ID] = {
        "fileloc": dag.fileloc,
        "schedule": str(dag.schedule),
        "timetable": type(dag.timetable).__name__,
        "start_date_tz": str(dag.start_date.tzinfo) if dag.start_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md,
        "params": sorted(dag.params.keys()),
        "tasks": tasks,
    }
    return out


def imports() -> dict[str, Any]:
    path = _dags_folder() / f"{DAG_ID}.py"
    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401

    t1 = time.perf_counter()
    # Airflow itself may import some of these (installed providers' hooks: cosmos registers one);
    # what counts is what executing the DAG file adds.
    preloaded = {m for m in HEAVY if m in sys.modules}
    spec = importlib.util.spec_from_file_location("dag_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    t2 = time.perf_counter()
    return {
        "heavy": sorted(m for m in HEAVY if m in sys.modules and m not in preloaded),
        "preloaded_by_airflow": sorted(preloaded),
        "airflow_sdk_import_s": round(t1 - t0, 3),
        "dag_module_exec_s": round(t2 - t1, 3),
    }


def callback() -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from discourse import pipeline
    from discourse.settings import load_settings

    spec = importlib.util.spec_from_file_location("dag_under_test", _dags_folder() / f"{DAG_ID}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    alerts = load_settings().alerts_dir

    def count() -> int:
        return len(list(alerts.glob("*.json"))) if alerts.is_dir() else 0

    class TI:
        dag_id, task_id, run_id, try_number, max_tries, map_index = (
            DAG_ID,
            "publish",
            "manual__probe",
            3,
            2,
            -1,
        )

    before = count()
    module._alert_on_failure({"ti": TI(), "exception": RuntimeError("disk full")})
    after_task_failure = count()
    try:
        try:
            raise pipeline.GateFailed({"stage": "marts", "failures": []})
        except pipeline.GateFailed as gate:
            raise AirflowFailException(str(gate)) from gate
    except AirflowFailException as exc:
        module._alert_on_failure({"ti": TI(), "exception": exc})
    after_gate_failure = count()
    written = sorted(alerts.glob("*.json"))
    return {
        "before": before,
        "after_task_failure": after_task_failure,
        "after_gate_failure": after_gate_failure,
        "alert": json.loads(written[-1].read_text()) if written else None,
    }


def _names(callbacks: Any) -> list[str]:
    if callbacks is None:
        return []
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
    return [getattr(c, "__name__", repr(c)) for c in callbacks]


def wiring() -> dict[str, Any]:
    """DAG-level callbacks, the deadline and the asset wiring of both DAGs, as the DagBag parsed them."""
    bag, _ = _bag()
    out: dict[str, Any] = {"import_errors": {str(k): v for k, v in bag.import_errors.items()}}
    for dag_id, dag in bag.dags.items():
        deadlines = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline] if dag.deadline else []
        condition = getattr(dag.timetable, "asset_condition", None)
        out[dag_id] = {
            "on_success_callback": _names(dag.on_success_callback),
            "on_failure_callback": _names(dag.on_failure_callback),
            "deadlines": [
                {
                    "reference": type(d.reference).__name__,
                    "interval_s": d.interval.total_seconds(),
                    "callback_type": type(d.callback).__name__,
                    "callback_path": d.callback.path,
                    "name": d.name,
                }
                for d in deadlines
            ],
            "timetable": type(dag.timetable).__name__,
            "schedule_assets": sorted(
                f"{a.name} {a.uri}" for a in getattr(condition, "objects", [condition])
            ) if condition is not None else [],
            "tasks": {
                t.task_id: {
                    "inlets": sorted(f"{a.name} {a.uri}" for a in t.inlets or []),
                    "outlets": sorted(f"{a.name} {a.uri}" for a in t.outlets or []),
                    "pool": t.pool,
                    "on_failure_callback": _names(t.on_failure_callback),
                }
                for t in dag.tasks
            },
        }
    return out


def deadline() -> dict[str, Any]:
    """The deadline callback as Airflow runs it on a missed deadline: by the path the parsed DAG
    recorded, through the executor's ``execute_callback`` (which loads a callback defined in a DAG
    file from the bundle), with the context ``Deadline.handle_miss`` builds (the DAG run as the REST
    API shows it, and the deadline)."""
    import structlog
    from airflow.sdk.execution_time.callback_supervisor import execute_callback

    from discourse.settings import load_settings

    bag, _ = _bag()
    alert = bag.dags[DAG_ID].deadline
    alert = alert[0] if isinstance(alert, list) else alert
    context = {
        "dag_run": {
            "dag_run_id": "scheduled__2026-02-21T02:00:00+00:00",
            "dag_id": DAG_ID,
            "queued_at": "2026-02-21T02:00:01+00:00",
            "start_date": "2026-02-21T02:00:02+00:00",
            "state": "running",
        },
        "deadline": {"id": "0195-deadline", "deadline_time": "2026-02-21T06:00:01+00:00"},
    }
    ok, error = execute_callback(
        alert.callback.path,
        {**alert.callback.kwargs, "context": context},
        f"{DAG_ID}.py",
        _dags_folder(),
        structlog.get_logger("deadline"),
    )
    alerts = sorted(load_settings().alerts_dir.glob("*.json"))
    return {"ok": ok, "error": error, "path": alert.callback.path,
            "alerts": [json.loads(p.read_text()) for p in alerts]}


def run(logical_date: str | None = None) -> dict[str, Any]:
    import pendulum

    bag, _ = _bag()
    if DAG_ID not in bag.dags:
        return {"state": None, "import_errors": {str(k): v for k, v in bag.import_errors.items()}}
    dag = bag.dags[DAG_ID]
    for t in dag.tasks:
        t.retries = 0
    when = pendulum.parse(logical_date) if logical_date else pendulum.now("UTC")
    t0 = time.perf_counter()
    dr = dag.test(logical_date=when)
    seconds = time.perf_counter() - t0
    tis = {}
    for ti in dr.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        tis[key] = str(ti.state) if ti.state is not None else None
    return {
        "state": str(dr.state),
        "run_id": dr.run_id,
        "seconds": round(seconds, 1),  # for information; the tests assert no durations
        "task_states": tis,
        "xcom": _return_values(dr.run_id, XCOM_TASKS),
    }


def _return_values(run_id: str, task_ids: tuple[str, ...]) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(run_id=run_id, key="return_value", dag_ids=DAG_ID, task_ids=list(task_ids))
    with create_session() as session:
        return {x.task_id: XComModel.deserialize_value(x) for x in session.scalars(query)}


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    commands = {"inspect": inspect, "imports": imports, "callback": callback, "run": run, "wiring": wiring,
                "deadline": deadline}
    result = commands[cmd](*args)
    print("PROBE-RESULT " + json.dumps(result, default=str))
