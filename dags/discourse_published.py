"""
### discourse_published

What follows each publish of the warehouse: scheduled on the `discourse_warehouse` asset, which the
nightly DAG's `publish` task updates, so it runs once per published night (and never for a night
that published nothing).

    dbt_docs → the warehouse's documentation at `<home>/docs/index.html` (`discourse serve`: /docs/)

`dbt_docs` runs `dbt docs generate --static` on the manifest and catalog the night's build left
(reused when neither the dbt project nor the warehouse's columns changed) in the `discourse_warehouse`
pool: it reads the build warehouse, which the next night's `dbt_build` writes. A failure alerts the
maintainers through the failure callback; the published marts are not touched.

See `docs/operations.md` and `docs/orchestration.md`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, task

from discourse.settings import load_settings

log = logging.getLogger(__name__)

DAG_ID = Path(__file__).stem
WAREHOUSE_POOL = "discourse_warehouse"
# The nightly DAG's asset: the same name and URI (dags/discourse_nightly.py).
WAREHOUSE_ASSET = Asset(name="discourse_warehouse", uri=load_settings().warehouse.as_uri())


def _alert_on_failure(context: dict[str, Any]) -> None:
    """Task failure callback (after the last retry): alert the maintainers."""
    from discourse import pipeline

    try:
        pipeline.alert_task_failure(load_settings(), context)
    except Exception:  # an alert that cannot be sent must not hide the task's own error
        log.exception("could not send the task-failure alert")


@dag(
    dag_id=DAG_ID,
    schedule=[WAREHOUSE_ASSET],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args={
        "owner": "discourse",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": _alert_on_failure,
    },
    doc_md=__doc__,
    tags=["discourse", "published", "dbt"],
)
def discourse_published() -> None:
    @task(pool=WAREHOUSE_POOL, inlets=[WAREHOUSE_ASSET])
    def dbt_docs() -> dict[str, Any]:
        """The published warehouse's dbt docs (``discourse.pipeline.dbt_docs``)."""
        from discourse import pipeline

        result = pipeline.dbt_docs(load_settings(), echo=log.info)
        if result.get("error"):
            raise RuntimeError(f"dbt docs were not generated: {result['error']}")
        return result

    dbt_docs()


discourse_published()
