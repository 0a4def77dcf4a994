"""The production metadata path, run natively (no Docker engine here): the compose init script
against a fresh Postgres database, a CeleryExecutor worker taking a smoke DAG's tasks from Redis,
and the real ``discourse_nightly`` fanning its ingest out over two Celery workers.

These need PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379,
plus the drivers the Airflow image ships with: apache-airflow-providers-postgres (psycopg2 and
asyncpg) and apache-airflow-providers-celery (celery, redis), which are the project's ``prod``
extra (``make test`` installs it):

    ./scripts/uv.sh run --frozen --extra prod pytest tests/dags/test_production_services.py
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
from dag_support import BIN, DAGS, REPO, airflow_env, run_cmd

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


def _unavailable(service: str, addr: tuple[str, int], modules: tuple[str, ...]) -> str:
    """Why a test needing SERVICE on ADDR and MODULES cannot run here ('' when it can)."""
    why = []
    if missing := _missing(*modules):
        why.append(f"{', '.join(missing)} not importable (the prod extra: uv run --extra prod ...)")
    if not _reachable(addr):
        why.append(f"{service} not reachable on {addr[0]}:{addr[1]}")
    return "; ".join(why)


_NO_POSTGRES = _unavailable("PostgreSQL", PG, ("psycopg2", "asyncpg"))
_NO_CELERY = _unavailable("Redis", REDIS, ("celery", "redis", "airflow.providers.celery"))
needs_postgres = pytest.mark.skipif(bool(_NO_POSTGRES), reason=f"needs PostgreSQL: {_NO_POSTGRES}")
needs_celery = pytest.mark.skipif(bool(_NO_CELERY), reason=f"needs Redis and Celery: {_NO_CELERY}")


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


def _celery_env(
    tmp_path: Path, cosmos_cache: Path, db_url: str, api_port: int, name: str, **extra: str
) -> dict[str, str]:
    """CeleryExecutor on Redis with the api-server on ``api_port``, isolated from any other run on
    this machine: the tasks go to a queue of this test's own (``[operators] default_queue`` is what
    tasks are sent to and what ``--queues`` must name), and every broker key carries a prefix of its
    own (kombu's ``global_keyprefix``), so no other test's worker can take these tasks nor this test's
    workers theirs, whichever Redis database they share. Results go to the test's Postgres database."""
    token = uuid.uuid4().hex[:12]
    return _production_env(
        tmp_path,
        cosmos_cache,
        db_url,
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CELERY__BROKER_URL=f"redis://{REDIS[0]}:{REDIS[1]}/11",
        AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX=f"discourse-test-{token}:",
        AIRFLOW__CELERY__RESULT_BACKEND=db_url.replace("postgresql+psycopg2", "db+postgresql"),
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=f"{name}-{token}",
        AIRFLOW__API_AUTH__JWT_SECRET=uuid.uuid4().hex,
        AIRFLOW__API__PORT=str(api_port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        **extra,
    )


def _start(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """``airflow ARGS`` in a process group of its own, its output in <AIRFLOW_HOME>/<name>.log."""
    with open(Path(env["AIRFLOW_HOME"]) / f"{name}.log", "w") as out:
        return subprocess.Popen(
            [str(BIN / "airflow"), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group started here (celery's pool children and serve-logs with it),
    SIGKILL what is still there after 30 s."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # the group may outlive its leader (a task's supervisor, a pool child)
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=30)


def _flush_broker(env: dict[str, str]) -> None:
    """Delete the broker keys of this test (its own prefix) from Redis."""
    import redis

    prefix = env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX"]
    client = redis.Redis.from_url(env["AIRFLOW__CELERY__BROKER_URL"])
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


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
    env = _celery_env(
        tmp_path,
        cosmos_cache,
        postgres_db,
        port,
        "smoke",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(_free_port()),
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
            "worker": [
                "celery",
                "worker",
                "--concurrency",
                "2",
                "--queues",
                env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"],
            ],
        }.items():
            procs.append(_start(name, args, env))
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
        _stop(procs)
        _flush_broker(env)


# Each Celery worker of the fan-out test reports its own name as the task instances' hostname:
# both run on this one machine, where the default (the FQDN) would be the same for both.
WORKER_IDENTITY = """
import os
import socket


def hostname() -> str:
    return os.environ.get("DISCOURSE_TEST_WORKER") or socket.getfqdn()
"""

NIGHTLY = "discourse_nightly"


def _pg(db_url: str):
    import psycopg2

    return psycopg2.connect(db_url.replace("postgresql+psycopg2", "postgresql"))


def _query(db_url: str, sql: str, *params: object) -> list[tuple]:
    con = _pg(db_url)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def _wait_for(what: str, check, timeout: float, logs: Path, interval: float = 2) -> object:
    """Poll ``check()`` until it returns something truthy; fail naming WHAT, with the logs' tails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(interval)
    tails = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in sorted(logs.glob("*.log"))
    )
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


@pytest.mark.e2e
@needs_postgres
@needs_celery
def test_discourse_nightly_fans_ingest_out_over_two_celery_workers(
    tmp_path: Path, cosmos_cache: Path, postgres_db: str
) -> None:
    """The real ``discourse_nightly`` (this repo's dags/) on CeleryExecutor: Postgres metadata DB,
    Redis broker, scheduler, dag-processor, api-server and two Celery workers (concurrency 1 each)
    on one generated inbox. The run succeeds; the mapped ingest tasks ran on both workers; every
    inbox file became a batch in the shared lake; one ``dbt_build`` published marts holding every
    post the generator says is loadable."""
    from synth.corpus import generate

    t0 = time.perf_counter()
    port = _free_port()
    identity = tmp_path / "worker_identity"
    identity.mkdir()
    (identity / "discourse_test_worker.py").write_text(WORKER_IDENTITY)
    env = _celery_env(
        tmp_path,
        cosmos_cache,
        postgres_db,
        port,
        "nightly",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="1",
        # only the triggered run: no scheduled run for the last cron interval when the DAG is unpaused
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        # the production DAG has its DeadlineAlert (the scheduler stores it; only dag.test() trips on it)
        DISCOURSE_NIGHT_DEADLINE_MINUTES="240",
    )
    home = Path(env["DISCOURSE_HOME"])
    truth = generate(home / "inbox", posts=600, seed=11)
    inbox_files = sorted(truth["files"])
    loadable = sum(f["valid_posts"] for f in truth["files"].values())
    assert loadable == truth["posts"] == 600 and len(inbox_files) > 2

    airflow = str(BIN / "airflow")
    run_cmd([airflow, "db", "migrate"], env, timeout=300)
    run_cmd([airflow, "pools", "set", "discourse_warehouse", "1", "DuckDB has one writer"], env)
    logs = Path(env["AIRFLOW_HOME"])
    queue = env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    workers = {f"worker-{c}-{uuid.uuid4().hex[:6]}": f"worker-{c}" for c in "ab"}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start("api-server", ["api-server", "--port", str(port)], env))
        procs.append(_start("scheduler", ["scheduler"], env))
        procs.append(_start("dag-processor", ["dag-processor"], env))
        for name, log_name in workers.items():
            worker_env = {
                **env,
                "DISCOURSE_TEST_WORKER": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "discourse_test_worker.hostname",
                "PYTHONPATH": os.pathsep.join(p for p in (str(identity), env.get("PYTHONPATH")) if p),
                # each worker serves its task logs on a port of its own
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            }
            procs.append(
                _start(
                    log_name,
                    [
                        "celery",
                        "worker",
                        "--concurrency",
                        "1",
                        "--queues",
                        queue,
                        "--celery-hostname",
                        f"{name}@%h",
                        "--without-mingle",
                        "--without-gossip",
                    ],
                    worker_env,
                )
            )

        def ready() -> bool:
            exited = [p.args for p in procs if p.poll() is not None]
            assert not exited, f"an Airflow process exited early: {exited}"
            return all(" ready." in (logs / f"{n}.log").read_text(errors="replace") for n in workers.values())

        _wait_for("both Celery workers to be ready", ready, 240, logs)

        def parsed() -> bool:
            errors = _query(postgres_db, "select filename, stacktrace from import_error")
            assert not errors, f"DAG import errors: {errors}"
            return bool(_query(postgres_db, "select 1 from serialized_dag where dag_id = %s", NIGHTLY))

        _wait_for(f"the dag-processor to serialise {NIGHTLY}", parsed, 240, logs)
        run_id = f"celery_fanout_{uuid.uuid4().hex[:8]}"
        run_cmd([airflow, "dags", "unpause", NIGHTLY], env)
        t_trigger = time.perf_counter()
        run_cmd([airflow, "dags", "trigger", NIGHTLY, "--run-id", run_id], env)

        def finished() -> str | None:
            rows = _query(
                postgres_db, "select state from dag_run where dag_id = %s and run_id = %s", NIGHTLY, run_id
            )
            return rows[0][0] if rows and rows[0][0] in ("success", "failed") else None

        state = _wait_for(f"run {run_id} to finish", finished, 1200, logs, interval=3)
        run_wall = time.perf_counter() - t_trigger
        tis = _query(
            postgres_db,
            "select task_id, map_index, state, hostname, try_number from task_instance "
            "where dag_id = %s and run_id = %s order by task_id, map_index",
            NIGHTLY,
            run_id,
        )
        table = "\n".join(" ".join(str(c) for c in t) for t in tis)
        assert state == "success", f"run {run_id}: {state}\n{table}"
        assert tis and all(t[2] == "success" for t in tis), table

        # the mapped ingest: one task instance per inbox file, spread over both workers
        ingests = [t for t in tis if t[0] == "ingest_file"]
        assert len(ingests) == len(inbox_files), table
        assert all(t[2] == "success" for t in ingests), table
        per_worker = {name: sum(t[3] == name for t in ingests) for name in workers}
        assert all(per_worker.values()), f"ingest did not fan out over both workers: {per_worker}\n{table}"
        assert {t[3] for t in tis} <= set(workers), f"a task ran outside the two workers:\n{table}"
        for name, log_name in workers.items():  # each worker's own Celery log shows it took ingest tasks
            assert "ingest_file" in (logs / f"{log_name}.log").read_text(errors="replace"), name

        # exactly one dbt build, by one worker, and this run is the only one
        builds = [t for t in tis if t[0] == "dbt_build"]
        assert len(builds) == 1 and builds[0][2] == "success" and builds[0][4] == 1, table
        runs = _query(postgres_db, "select run_id from dag_run where dag_id = %s", NIGHTLY)
        assert runs == [(run_id,)]

        # every inbox file is a batch in the shared lake, accounting for every record
        from ingest.lake import read_manifests

        manifests = read_manifests(home / "lake" / "_manifest")
        assert sorted(Path(m["source_path"]).name for m in manifests) == inbox_files
        for m in manifests:
            assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"], m
        assert sum(m["loaded"] for m in manifests) == loadable

        # the published marts hold every loadable post once
        import duckdb

        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            posts, uids = con.execute("select count(*), count(distinct post_uid) from marts.posts").fetchone()
        finally:
            con.close()
        assert posts == uids == loadable
        assert list((home / "reports").glob("report-*.html"))
        print(
            f"\n{NIGHTLY} on CeleryExecutor: {len(inbox_files)} files, {posts} posts; ingest per worker "
            f"{per_worker}; run {run_wall:.0f}s from trigger to success, test {time.perf_counter() - t0:.0f}s"
        )
    finally:
        _stop(procs)
        _flush_broker(env)
