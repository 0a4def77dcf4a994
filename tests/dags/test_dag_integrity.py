"""DagBag integrity of the nightly DAG: it imports cleanly, is wired as documented, stays cheap to parse."""

from __future__ import annotations

from pathlib import Path

import pytest
from dag_support import airflow_env, probe

pytestmark = pytest.mark.integration  # parses the DAG under a real Airflow

DAG_ID = "discourse_nightly"


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
    assert inspected["dag_ids"] == [DAG_ID, "discourse_published"]  # the latter follows the warehouse asset


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
    assert tasks["dbt_build"]["upstream"] == ["prepare_transform"]
    # Every stage has its gate: staging is validated after the build, before the marts.
    assert tasks["staging_gate"]["upstream"] == ["dbt_build"]
    assert tasks["marts_gate"]["upstream"] == ["staging_gate"]
    assert tasks["volume_check"]["upstream"] == ["marts_gate"]
    assert tasks["publish"]["upstream"] == ["volume_check"]
    assert tasks["report"]["upstream"] == ["publish"]
    # Freshness warns beside the main line; it never blocks it.
    assert tasks["freshness_check"]["upstream"] == ["ingest_file"]
    assert tasks["freshness_check"]["trigger_rule"] == "none_failed"


def test_every_stage_has_a_gate(dag: dict) -> None:
    gates = sorted(t for t in dag["tasks"] if t.endswith("_gate"))
    assert gates == ["marts_gate", "raw_gate", "staging_gate"]
    assert "staging_gate" in dag["doc_md"]


def test_dbt_is_one_build_task_in_the_warehouse_pool(dag: dict) -> None:
    """One `dbt build` task (what `discourse run` runs), not a task per dbt node: see
    docs/orchestration.md for the measurements behind this."""
    tasks = dag["tasks"]
    assert tasks["dbt_build"]["pool"] == "discourse_warehouse"
    assert not any(t.startswith("dbt.") for t in tasks), sorted(tasks)
    assert not any(v["type"].startswith("Dbt") for v in tasks.values())
    others = {t: v["pool"] for t, v in tasks.items() if t != "dbt_build"}
    assert "discourse_warehouse" not in others.values(), others


def test_publish_updates_the_warehouse_asset(dag: dict) -> None:
    outlets = dag["tasks"]["publish"]["outlets"]
    assert len(outlets) == 1 and outlets[0].startswith("file://")
    assert outlets[0].endswith("/warehouse.duckdb")


def test_dag_file_imports_nothing_heavy(tmp_path: Path, cosmos_cache: Path) -> None:
    """The dag-processor parses the file every 30 s and each worker before every task: parsing it
    imports no dbt, cosmos, DuckDB, GX, ... and runs nothing (how long it takes is not asserted)."""
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
