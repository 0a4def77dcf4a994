"""The nightly DAG's run-level behaviour: DAG success/failure callbacks, the deadline alert, and the
warehouse asset that the report and the `discourse_published` DAG follow.

A failing night is a real `dag.test()` run (SQLite metadata DB) whose first task fails at once: the
inbox is a file, not a folder. No dbt build runs, so it takes about a minute. The success callback's
run record is checked on the full nightly run of test_dag_run.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dag_support import airflow_db_migrate, airflow_env, probe

pytestmark = pytest.mark.integration

DAG_ID = "discourse_nightly"
FOLLOWER = "discourse_published"


@pytest.fixture(scope="module")
def wiring(tmp_path_factory: pytest.TempPathFactory, cosmos_cache: Path) -> dict[str, Any]:
    env = airflow_env(tmp_path_factory.mktemp("wiring"), cosmos_cache, DISCOURSE_NIGHT_DEADLINE_MINUTES="90")
    result = probe("wiring", env)
    assert result["import_errors"] == {}, result["import_errors"]
    result["home"] = env["DISCOURSE_HOME"]
    return result


def test_dag_level_callbacks(wiring: dict[str, Any]) -> None:
    nightly = wiring[DAG_ID]
    assert nightly["on_success_callback"] == ["_on_night_success"]
    assert nightly["on_failure_callback"] == ["_on_night_failure"]


def test_deadline_alert_from_the_setting(wiring: dict[str, Any]) -> None:
    deadlines = wiring[DAG_ID]["deadlines"]
    assert len(deadlines) == 1, deadlines
    d = deadlines[0]
    assert d["reference"] == "DagRunQueuedAtDeadline"  # measured from when the run was queued
    assert d["interval_s"] == 90 * 60  # DISCOURSE_NIGHT_DEADLINE_MINUTES
    assert d["callback_type"] == "SyncCallback"  # runs on the executor (a Celery worker)
    assert d["callback_path"].endswith("discourse_nightly.alert_night_overran")
    assert d["name"] == "night_overran"


def test_no_deadline_when_the_setting_is_0(tmp_path: Path, cosmos_cache: Path) -> None:
    result = probe("wiring", airflow_env(tmp_path, cosmos_cache))  # the tests' default: 0
    assert result["import_errors"] == {} and result[DAG_ID]["deadlines"] == []


def test_report_and_docs_follow_the_warehouse_asset(wiring: dict[str, Any]) -> None:
    asset = f"discourse_warehouse {Path(wiring['home']).resolve().as_uri()}/warehouse.duckdb"
    tasks = wiring[DAG_ID]["tasks"]
    assert tasks["publish"]["outlets"] == [asset]
    assert tasks["report"]["inlets"] == [asset]
    assert not any(t["outlets"] for name, t in tasks.items() if name != "publish")  # one producer
    follower = wiring[FOLLOWER]
    assert follower["timetable"] == "AssetTriggeredTimetable"
    assert follower["schedule_assets"] == [asset]
    assert follower["tasks"]["dbt_docs"]["inlets"] == [asset]
    # it reads the build warehouse the next night's dbt_build writes: the same one-slot pool
    assert follower["tasks"]["dbt_docs"]["pool"] == "discourse_warehouse"
    assert follower["tasks"]["dbt_docs"]["on_failure_callback"] == ["_alert_on_failure"]


def test_the_deadline_callback_runs_as_the_executor_runs_it(tmp_path: Path, cosmos_cache: Path) -> None:
    result = probe("deadline", airflow_env(tmp_path, cosmos_cache, DISCOURSE_NIGHT_DEADLINE_MINUTES="240"))
    assert result["ok"] is True, result["error"]
    [alert] = result["alerts"]
    assert alert["stage"] == "deadline" and alert["severity"] == "warning"
    assert alert["run_id"] == "scheduled__2026-02-21T02:00:00+00:00"
    assert "still running after 240 min" in alert["title"]
    assert "2026-02-21T06:00:01+00:00" in alert["summary"]  # the deadline it missed
    assert "Nothing has been published yet" in alert["summary"]
    assert alert["next_step"].startswith("kept: the run goes on")


@pytest.fixture(scope="module")
def failed_night(tmp_path_factory: pytest.TempPathFactory, cosmos_cache: Path) -> dict[str, Any]:
    """A nightly run whose first task fails: the inbox is a file, so the home cannot be laid out."""
    root = tmp_path_factory.mktemp("failed_night")
    env = airflow_env(root, cosmos_cache)
    home = Path(env["DISCOURSE_HOME"])
    (home / "inbox").write_text("not a folder")
    airflow_db_migrate(env)
    result = probe("run", env, "2026-02-21T02:00:00+00:00")
    alerts = [json.loads(p.read_text()) for p in sorted((home / "alerts").glob("*.json"))]
    return {"home": home, "result": result, "alerts": alerts}


def test_a_failing_task_fails_the_run(failed_night: dict[str, Any]) -> None:
    result = failed_night["result"]
    assert result["state"] == "failed", result
    assert result["task_states"]["list_new_files"] == "failed"
    assert result["task_states"]["publish"] == "upstream_failed"


def test_the_dag_failure_callback_sends_one_run_alert(failed_night: dict[str, Any]) -> None:
    run_id = failed_night["result"]["run_id"]
    by_stage: dict[str, list[dict]] = {}
    for a in failed_night["alerts"]:
        by_stage.setdefault(a["stage"], []).append(a)
    # the task's own alert (its callback) and the night's (the DAG's callback), nothing else
    assert sorted(by_stage) == ["orchestration", "run"], sorted(by_stage)
    [run_alert] = by_stage["run"]
    assert run_alert["run_id"] == run_id and run_alert["severity"] == "error"
    assert run_alert["title"] == "nightly run failed at list_new_files"
    assert run_alert["extra"]["step"] == "list_new_files" and run_alert["extra"]["dag_id"] == DAG_ID
    summary = run_alert["summary"]
    assert f"Run {run_id} of {DAG_ID} failed at task 'list_new_files'" in summary
    assert "FileExistsError" in summary  # the error, from the task's alert
    assert "Nothing has been published yet." in summary  # what analysts see
    assert "task failed: discourse_nightly.list_new_files" in summary  # the other alert it goes with
    assert run_alert["next_step"].startswith("retried nightly")
    assert run_alert["delivery"]["file"].endswith(".json")


def test_the_dag_failure_callback_writes_the_run_record(failed_night: dict[str, Any]) -> None:
    run_id = failed_night["result"]["run_id"]
    record = json.loads((failed_night["home"] / "runs" / f"{run_id}.json").read_text())
    assert record["state"] == "failed" and record["orchestrator"] == "airflow"
    assert record["failed_step"] == "list_new_files"
    assert record["failed"].startswith("FileExistsError")
    assert record["published"] is False and record["published_run_id"] is None
    assert record["reason"] == "task_failure"
    assert len(record["alerts"]) == 1 and "-orchestration-" in record["alerts"][0]
    # from the run's start_date (which dag.test() sets to the logical date) to the callback
    assert record["seconds"] >= 0 and record["started_at"] and record["finished_at"]
