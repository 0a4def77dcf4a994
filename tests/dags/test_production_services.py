"""The production metadata path, run natively (no Docker engine here): the compose init script
against a fresh Postgres database, and a CeleryExecutor worker taking tasks from Redis.

These need PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379,
plus the drivers the Airflow image ships with: apache-airflow-providers-postgres (psycopg2 and
asyncpg) and apache-airflow-providers-celery (celery, redis). They are not dependencies of the
project's own environment; run them with e.g.

    uv run --with apache-airflow-providers-postgres --with apache-airflow-providers-celery \\
        pytest tests/dags/test_production_services.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dag_support import BIN, REPO, airflow_env, run_cmd

pytestmark = pytest.mark.integration

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def _reachable(addr: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(addr, timeout=2):
            return True
    except OSError:
        return False


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


needs_postgres = pytest.mark.skipif(
    bool(_missing("psycopg2", "asyncpg")) or not _reachable(PG),
    reason="needs PostgreSQL on 127.0.0.1:5432 and psycopg2 + asyncpg "
    "(uv run --with apache-airflow-providers-postgres ...)",
)
needs_celery = pytest.mark.skipif(
    bool(_missing("celery", "redis", "airflow.providers.celery")) or not _reachable(REDIS),
    reason="needs Redis on 127.0.0.1:6379 and apache-airflow-providers-celery "
    "(uv run --with apache-airflow-providers-celery ...)",
)


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A fresh database for this test, dropped afterwards; yields its SQLAlchemy URL."""
    import psycopg2

    name = f"discourse_airflow_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@{PG[0]}:{PG[1]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def _airflow_json(args: list[str], env: dict[str, str]) -> list | dict | None:
    """Run an ``airflow ... -o json`` command; its JSON (stdout only, logs go to stderr)."""
    proc = subprocess.run(
        [str(BIN / "airflow"), *args, "-o", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(("[", "{")):
            return json.loads(line)
    return None


def _production_env(tmp_path: Path, cosmos_cache: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = airflow_env(tmp_path, cosmos_cache, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=db_url, **extra)
    env.pop("AIRFLOW__CORE__AUTH_MANAGER", None)
    return env


@needs_postgres
def test_compose_init_script_migrates_a_fresh_postgres(
    tmp_path: Path, cosmos_cache: Path, postgres_db: str
) -> None:
    env = _production_env(tmp_path, cosmos_cache, postgres_db)
    t0 = time.perf_counter()
    proc = run_cmd(["bash", str(REPO / "docker" / "init.sh")], env, timeout=600)
    print(f"\ninit.sh on a fresh Postgres database: {time.perf_counter() - t0:.1f}s")
    assert "airflow-init: done" in proc.stdout
    pool = _airflow_json(["pools", "get", "discourse_warehouse"], env)[0]
    assert int(pool["slots"]) == 1
    import psycopg2

    with psycopg2.connect(postgres_db.replace("postgresql+psycopg2", "postgresql")) as con:
        with con.cursor() as cur:
            cur.execute("select count(*) from alembic_version")
            assert cur.fetchone()[0] == 1
            cur.execute(
                "select count(*) from information_schema.tables where table_name in "
                "('dag_run', 'task_instance', 'xcom', 'slot_pool', 'variable')"
            )
            assert cur.fetchone()[0] == 5
    assert (Path(env["DISCOURSE_HOME"]) / "inbox").is_dir()


SMOKE_DAG = """
from __future__ import annotations

import socket

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     tags=["smoke"])
def celery_smoke():
    @task
    def files() -> list[str]:
        return ["a", "b", "c"]

    @task
    def work(name: str) -> str:
        return f"{name}@{socket.gethostname()}"

    @task
    def collect(results: list[str]) -> int:
        assert sorted(r.split("@")[0] for r in results) == ["a", "b", "c"]
        return len(results)

    collect(work.expand(name=files()))


celery_smoke()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_postgres
@needs_celery
def test_celery_worker_runs_mapped_tasks_from_redis(
    tmp_path: Path, cosmos_cache: Path, postgres_db: str
) -> None:
    """Scheduler, dag-processor, api-server and a Celery worker, as compose runs them: a mapped
    DAG goes from the scheduler through Redis to the worker and back."""
    dags = tmp_path / "smoke_dags"
    dags.mkdir()
    (dags / "celery_smoke.py").write_text(SMOKE_DAG)
    port = _free_port()
    redis_db = 11
    env = _production_env(
        tmp_path,
        cosmos_cache,
        postgres_db,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CELERY__BROKER_URL=f"redis://{REDIS[0]}:{REDIS[1]}/{redis_db}",
        AIRFLOW__CELERY__RESULT_BACKEND=postgres_db.replace("postgresql+psycopg2", "db+postgresql"),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        AIRFLOW__CELERY__DEFAULT_QUEUE=f"smoke-{uuid.uuid4().hex[:8]}",
        AIRFLOW__API_AUTH__JWT_SECRET=uuid.uuid4().hex,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
    )
    airflow = str(BIN / "airflow")
    run_cmd([airflow, "db", "migrate"], env, timeout=300)
    logs = Path(env["AIRFLOW_HOME"])
    procs: list[subprocess.Popen] = []
    try:
        for name, args in {
            "api-server": ["api-server", "--port", str(port)],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
            "worker": ["celery", "worker", "--concurrency", "2"],
        }.items():
            out = open(logs / f"{name}.log", "w")
            procs.append(
                subprocess.Popen(
                    [airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # the dag-processor has to serialise it first
            listed = _airflow_json(["dags", "list"], env) or []
            if any(d.get("dag_id") == "celery_smoke" for d in listed):
                break
            time.sleep(3)
        run_cmd([airflow, "dags", "unpause", "celery_smoke"], env)
        run_cmd([airflow, "dags", "trigger", "celery_smoke"], env)
        state = None
        while time.monotonic() < deadline:
            runs = _airflow_json(["dags", "list-runs", "celery_smoke"], env) or []
            state = runs[0]["state"] if runs else None
            if state in ("success", "failed"):
                break
            time.sleep(3)
        worker_log = (logs / "worker.log").read_text(errors="replace")
        assert state == "success", f"run state {state}; worker log tail:\n{worker_log[-4000:]}"
        assert "celery_smoke" in worker_log  # the worker, not the scheduler, ran the tasks
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
