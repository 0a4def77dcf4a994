"""End to end: `dag.test()` of the nightly DAG on fixture exports, with a SQLite metadata DB.

Each run happens in a subprocess with its own AIRFLOW_HOME and DISCOURSE_HOME (see dag_support).
The fixtures in tests/fixtures/dag/ are two generic exports and a file no adapter recognises:

- posts_export.csv: 10 records → 8 posts (one empty text is quarantined, one exact duplicate)
- more_posts.jsonl: 5 posts, one of which (id 1004) repeats a post of the CSV export
- notes.txt: not an export; its ingest task reports it and it stays in the inbox

A second run uses a deliberately broken copy of the dbt project (``DISCOURSE_DBT_PROJECT_DIR``) and
checks that the failure names the broken model. No test asserts how long a run takes: speed is
measured by bench/bench_airflow.py.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from dag_support import REPO, airflow_db_migrate, airflow_env, probe

pytestmark = pytest.mark.integration

FIXTURES = REPO / "tests" / "fixtures" / "dag"
EXPECTED_POST_IDS = {f"generic:{i}" for i in (*range(1001, 1009), *range(2001, 2005))}
# The mart the broken-project run breaks, and what breaks it: a column no model has.
BROKEN_MODEL = "topic_daily"


def _published_posts(home: Path) -> list[str]:
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return [r[0] for r in con.sql("select post_uid from marts.posts order by 1").fetchall()]


def _assert_succeeded(result: dict) -> None:
    failed = {t: s for t, s in result["task_states"].items() if s not in ("success", "skipped")}
    assert result["state"] == "success" and not failed, json.dumps(result, indent=1)


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory, cosmos_cache: Path) -> dict:
    """One nightly run on the fixture exports; the tests below read what it left behind."""
    root = tmp_path_factory.mktemp("nightly")
    env = airflow_env(root, cosmos_cache)
    home = Path(env["DISCOURSE_HOME"])
    (home / "inbox").mkdir(parents=True)
    for f in FIXTURES.iterdir():
        shutil.copy(f, home / "inbox" / f.name)
    t0 = time.perf_counter()
    airflow_db_migrate(env)
    migrate_s = time.perf_counter() - t0
    result = probe("run", env, "2026-02-21T02:00:00+00:00")
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    result["migrate_seconds"] = round(migrate_s, 1)
    print(
        f"\nnightly dag.test: {result['wall_seconds']}s wall "
        f"({result['migrate_seconds']}s db migrate, {result.get('seconds')}s dag.test)"
    )
    return {"env": env, "home": home, "result": result}


def test_nightly_run_succeeds(nightly: dict) -> None:
    result = nightly["result"]
    _assert_succeeded(result)
    states = result["task_states"]
    assert states["ingest_file[0]"] == states["ingest_file[1]"] == states["ingest_file[2]"] == "success"
    assert "ingest_file[3]" not in states
    assert states["prepare_transform"] == states["dbt_build"] == states["marts_gate"] == "success"


def test_nightly_run_reports_every_dbt_node(nightly: dict) -> None:
    """dbt_build returns (XCom) and logs a result per dbt node: seeds, models and their tests."""
    build = nightly["result"]["xcom"]["dbt_build"]
    results = build["results"]
    assert len(results) == build["nodes"] > 50
    by_node = {r["node"]: r for r in results}
    assert by_node["model.discourse.posts"]["status"] == "success"
    assert by_node["model.discourse.posts"]["seconds"] >= 0
    kinds = {r["node"].split(".", 1)[0] for r in results}
    assert {"seed", "model", "test"} <= kinds, kinds
    assert not {r["status"] for r in results} & {"error", "fail", "runtime error", "skipped"}, build["counts"]
    assert build["success"] is True and build["warehouse"].endswith("build/warehouse.duckdb")


def test_nightly_run_publishes_deduplicated_marts(nightly: dict) -> None:
    home = nightly["home"]
    assert _published_posts(home) == sorted(EXPECTED_POST_IDS)
    # The build warehouse stays: its incremental models hold the history the next night adds to.
    assert (home / "build" / "warehouse.duckdb").exists()
    published = json.loads((home / "published.json").read_text())
    assert published["run_id"] == nightly["result"]["run_id"]


def test_nightly_run_success_callback_writes_the_run_record(nightly: dict) -> None:
    run_id = nightly["result"]["run_id"]
    record = json.loads((nightly["home"] / "runs" / f"{run_id}.json").read_text())
    assert record["state"] == "success" and record["orchestrator"] == "airflow"
    assert record["published"] is True and record["published_run_id"] == run_id
    assert "failed" not in record


def test_nightly_run_leaves_unrecognised_files_in_the_inbox(nightly: dict) -> None:
    inbox = nightly["home"] / "inbox"
    assert (inbox / "notes.txt").exists()
    # The exports are in the lake's manifest now, so the next run does not see them as new.
    from discourse import pipeline
    from discourse.settings import load_settings

    settings = load_settings(env={"DISCOURSE_HOME": str(nightly["home"]), "DISCOURSE_PSEUDONYM_KEY": "test"})
    assert pipeline.list_new_files(settings) == [str(inbox / "notes.txt")]


def test_nightly_run_writes_the_report(nightly: dict) -> None:
    reports = nightly["home"] / "reports"
    assert any(p.is_file() and p.stat().st_size > 0 for p in reports.rglob("*"))


@pytest.mark.e2e
def test_rerunning_a_past_date_rebuilds_the_marts(nightly: dict) -> None:
    """Backfill semantics: a run for an earlier logical date, with nothing new in the inbox, still
    rebuilds every mart from the whole lake and republishes it."""
    _assert_succeeded(nightly["result"])
    home = nightly["home"]
    (home / "inbox" / "notes.txt").unlink()
    before = (home / "warehouse.duckdb").stat().st_mtime_ns
    result = probe("run", nightly["env"], "2026-02-19T02:00:00+00:00")
    _assert_succeeded(result)
    states = result["task_states"]
    assert states["ingest_file"] == "skipped"  # nothing new: the mapped task expands to nothing
    assert states["raw_gate"] == states["publish"] == states["report"] == "success"
    assert (home / "warehouse.duckdb").stat().st_mtime_ns > before
    assert _published_posts(home) == sorted(EXPECTED_POST_IDS)
    assert json.loads((home / "published.json").read_text())["run_id"] == result["run_id"]


# ---------------------------------------------------------------- a model that breaks


def _broken_project(dest: Path) -> Path:
    """A copy of the dbt project whose BROKEN_MODEL selects a column that does not exist."""
    from discourse.transform import dbt_project_dir

    project = dest / "dbt_project"
    shutil.copytree(
        dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    model = project / "models" / "marts" / f"{BROKEN_MODEL}.sql"
    assert model.is_file(), model
    model.write_text("select no_such_column from {{ ref('posts') }}\n")
    return project


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, cosmos_cache: Path) -> dict[str, Any]:
    """One nightly run with a broken mart: dbt_build fails and nothing is published."""
    root = tmp_path_factory.mktemp("broken")
    env = airflow_env(root, cosmos_cache, DISCOURSE_DBT_PROJECT_DIR=str(_broken_project(root)))
    home = Path(env["DISCOURSE_HOME"])
    (home / "inbox").mkdir(parents=True)
    for f in FIXTURES.glob("*_export.csv"):
        shutil.copy(f, home / "inbox" / f.name)
    airflow_db_migrate(env)
    result = probe("run", env, "2026-02-22T02:00:00+00:00")
    alerts = [json.loads(p.read_text()) for p in sorted((home / "alerts").rglob("*.json"))]
    return {"home": home, "result": result, "alerts": alerts}


def test_a_broken_model_fails_the_build_and_nothing_is_published(broken: dict[str, Any]) -> None:
    result = broken["result"]
    states = result["task_states"]
    assert result["state"] == "failed", json.dumps(result, indent=1)
    assert states["raw_gate"] == states["prepare_transform"] == "success"
    assert states["dbt_build"] == "failed"
    for downstream in ("marts_gate", "volume_check", "publish", "report"):
        assert states[downstream] == "upstream_failed", (downstream, states)
    assert not (broken["home"] / "warehouse.duckdb").exists()


def test_a_broken_model_is_named_in_the_exception_and_the_alert(broken: dict[str, Any]) -> None:
    task_alerts = [a for a in broken["alerts"] if a.get("stage") == "orchestration"]
    assert len(task_alerts) == 1, broken["alerts"]
    alert = task_alerts[0]
    extra = alert["extra"]
    assert extra["task_id"] == "dbt_build"
    # The task's exception, as the alert carries it (and the task log shows it).
    assert extra["exception_type"] == "DbtBuildFailed"
    assert f"broke model(s) {BROKEN_MODEL}" in extra["exception"], extra["exception"]
    assert f"model.discourse.{BROKEN_MODEL} (error)" in extra["exception"]
    assert "no_such_column" in extra["exception"]  # dbt's own first error line
    assert f"model.discourse.{BROKEN_MODEL}" in alert["summary"]
