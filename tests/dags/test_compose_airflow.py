"""docker-compose.yml: the Airflow side of the production-like deployment, checked by parsing (no
Docker engine here). The settings, the `web` and `analyst` services and `docker compose config` are
checked in tests/test_compose.py.
"""

from __future__ import annotations

import re

import pytest
import yaml
from dag_support import REPO

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
INIT = REPO / "docker" / "init.sh"
ENV_EXAMPLE = REPO / "docker" / "env.example"
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env(service: dict) -> dict[str, str]:
    return {k: str(v) for k, v in service["environment"].items()}


def test_services_present(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name


def test_images_are_pinned(compose: dict) -> None:
    services = compose["services"]
    assert re.fullmatch(r"postgres:\d+\.\d+.*", services["postgres"]["image"])
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+.*", services["redis"]["image"])
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        service = services[name]
        assert service["build"]["args"]["AIRFLOW_IMAGE"] == "apache/airflow:3.3.2-python3.11", name
        assert service["build"]["args"]["AIRFLOW_VERSION"] == "3.3.2", name
        assert "3.3.2" in service["image"], name
    dockerfile = DOCKERFILE.read_text()
    assert "ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11" in dockerfile
    assert "FROM ${AIRFLOW_IMAGE}" in dockerfile
    assert "uv export --frozen --no-dev" in dockerfile  # the image installs what uv.lock pins


def test_celery_executor_on_postgres_and_redis(compose: dict) -> None:
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = _env(compose["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        # Airflow 3: workers' task tokens are signed with this; it must be one value everywhere.
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "false", name
        assert env["DO_NOT_TRACK"] == "1", name
        assert env["DISCOURSE_HOME"] == "/data/discourse", name
        assert env["DISCOURSE_PSEUDONYM_KEY"].startswith("${DISCOURSE_PSEUDONYM_KEY:?"), name


def test_volumes_mount_the_code_and_the_shared_home(compose: dict) -> None:
    assert "discourse-home" in compose["volumes"] and "postgres-db" in compose["volumes"]
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        service = compose["services"][name]
        mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
        assert mounts["/opt/airflow/dags"] == "./dags", name
        assert mounts["/opt/discourse/src"] == "./src", name
        assert mounts["/opt/discourse/dbt_project"] == "./dbt_project", name
        assert mounts["/data/discourse"] == "discourse-home", name
        assert _env(service)["PYTHONPATH"] == "/opt/discourse/src", name
        for host in mounts.values():
            if host.startswith("./"):
                assert (REPO / host).is_dir(), f"{name} mounts missing {host}"


def test_init_migrates_and_creates_the_warehouse_pool(compose: dict) -> None:
    init = compose["services"]["airflow-init"]
    assert init["restart"] == "no"
    assert "/opt/discourse/docker/init.sh" in " ".join(init["command"])
    script = INIT.read_text()
    assert "airflow db migrate" in script
    assert "airflow pools set discourse_warehouse 1" in script
    dag = (REPO / "dags" / "discourse_nightly.py").read_text()
    assert 'WAREHOUSE_POOL = "discourse_warehouse"' in dag


def test_services_start_in_order_and_have_healthchecks(compose: dict) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", *AIRFLOW_SERVICES):
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"] >= 3, name
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    assert services["airflow-worker"]["deploy"]["replicas"] >= 2
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]


def test_every_required_variable_is_in_the_env_example() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    documented = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required and required <= documented, required - documented
