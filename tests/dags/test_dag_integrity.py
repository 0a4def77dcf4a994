"""DagBag integrity of the nightly DAG: it imports cleanly, is wired as documented, stays cheap to parse."""

from __future__ import annotations

from pathlib import Path

import pytest
from dag_support import airflow_env, probe

pytestmark = pytest.mark.integration  # parses the DAG under a real Airflow

DAG_ID = "discourse_nightly"
# The DAG file is parsed every few seconds by the dag-processor; once the dbt manifest is cached a
# parse should cost a JSON read, not a dbt run.
MAX_CACHED_PARSE_SECONDS = 5.0


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory, cosmos_cache: Path) -> dict:
    env = airflow_env(tmp_path_factory.mktemp("inspect"), cosmos_cache)
    return probe("inspect", env)


@pytest.fixture(scope="module")
def dag(inspected: dict) -> dict:
    assert inspected["import_errors"] == {}, inspected["import_errors"]
    assert DAG_ID in inspected["dag_ids"]
    return inspected[DAG_ID]


def test_no_import_errors(inspected: dict) -> None:
    assert inspected["import_errors"] == {}
    assert inspected["dag_ids"] == [DAG_ID]


def test_dag_id_is_file_stem(dag: dict) -> None:
    assert Path(dag["fileloc"]).stem == DAG_ID


def test_schedule_and_runs(dag: dict) -> None:
    assert dag["schedule"] == "0 2 * * *"
    assert dag["timetable"] == "CronTriggerTimetable" or "Cron" in dag["timetable"]
    assert dag["start_date_tz"] in ("UTC", "Timezone('UTC')")
    assert dag["catchup"] is False
    assert dag["max_active_runs"] == 1  # DuckDB has a single writer


def test_tags_and_docs(dag: dict) -> None:
    assert {"discourse", "nightly"} <= set(dag["tags"])
    assert dag["doc_md"] and "discourse_nightly" in dag["doc_md"]
    assert dag["params"] == ["format"]


def test_every_task_retries_with_backoff_and_alerts(dag: dict) -> None:
    for task_id, task in dag["tasks"].items():
        assert task["retries"] == 2, task_id
        assert task["retry_exponential_backoff"] == 2.0, task_id
        assert task["retry_delay_s"] == 120, task_id
        assert task["on_failure_callback"] == ["_alert_on_failure"], task_id


def test_steps_are_wired_in_order(dag: dict) -> None:
    tasks = dag["tasks"]
    assert tasks["ingest_file"]["mapped"] is True
    assert tasks["ingest_file"]["upstream"] == ["list_new_files"]
    assert tasks["raw_gate"]["upstream"] == ["ingest_file"]
    assert tasks["raw_gate"]["trigger_rule"] == "none_failed"  # an empty inbox still rebuilds
    assert tasks["prepare_transform"]["upstream"] == ["raw_gate"]
    dbt_tasks = {t: v for t, v in tasks.items() if t.startswith("dbt.")}
    roots = [t for t, v in dbt_tasks.items() if not any(u.startswith("dbt.") for u in v["upstream"])]
    assert roots and all(tasks[t]["upstream"] == ["prepare_transform"] for t in roots)
    marts_gate_up = tasks["marts_gate"]["upstream"]
    assert marts_gate_up and all(u.startswith("dbt.") for u in marts_gate_up)
    assert tasks["volume_check"]["upstream"] == ["marts_gate"]
    assert tasks["publish"]["upstream"] == ["volume_check"]
    assert tasks["report"]["upstream"] == ["publish"]


def test_dbt_is_a_cosmos_task_group_with_visible_models_and_tests(dag: dict) -> None:
    dbt_tasks = {t: v for t, v in dag["tasks"].items() if t.startswith("dbt.")}
    runs = [t for t in dbt_tasks if t.endswith(".run") or t.endswith("_run")]
    tests = [t for t in dbt_tasks if t.endswith(".test")]
    assert any(t.endswith("posts.run") for t in runs), sorted(dbt_tasks)
    assert tests, "each model's tests should be their own task"
    for task_id, task in dbt_tasks.items():
        assert task["type"].startswith("Dbt") and task["type"].endswith("LocalOperator"), task_id
        assert task["pool"] == "discourse_warehouse", task_id


def test_publish_updates_the_warehouse_asset(dag: dict) -> None:
    outlets = dag["tasks"]["publish"]["outlets"]
    assert len(outlets) == 1 and outlets[0].startswith("file://")
    assert outlets[0].endswith("/warehouse.duckdb")


def test_parse_is_cheap_once_the_manifest_is_cached(inspected: dict) -> None:
    first, second = inspected["parse_seconds"]
    assert second < MAX_CACHED_PARSE_SECONDS, inspected["parse_seconds"]


def test_dag_file_imports_nothing_heavy(tmp_path: Path, cosmos_cache: Path) -> None:
    result = probe("imports", airflow_env(tmp_path, cosmos_cache))
    assert result["heavy"] == [], result


def test_failure_callback_alerts_except_for_gates(tmp_path: Path, cosmos_cache: Path) -> None:
    env = airflow_env(tmp_path, cosmos_cache)
    result = probe("callback", env)
    assert result["after_task_failure"] == result["before"] + 1, result
    # A failed gate has sent its own, detailed alert: the callback adds none.
    assert result["after_gate_failure"] == result["after_task_failure"], result
    alert = result["alert"]
    text = str(alert)
    assert "publish" in text and "disk full" in text and DAG_ID in text
