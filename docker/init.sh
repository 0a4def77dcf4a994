#!/usr/bin/env bash
# One-shot setup run by the `airflow-init` compose service before any other Airflow service starts:
# migrate the metadata DB, create the pool that serialises DuckDB writers, create the admin user,
# lay out the discourse home, and parse the DAGs once (which fails loudly on an import error and
# caches the dbt manifest for every other container). Safe to run again.
set -euo pipefail

airflow db migrate

# dbt tasks write one DuckDB file, which allows a single writer.
airflow pools set discourse_warehouse 1 "dbt tasks of discourse_nightly: DuckDB has one writer"

# The FAB auth manager's CLI leaves an existing user alone.
if [[ "${AIRFLOW__CORE__AUTH_MANAGER:-}" == *FabAuthManager ]]; then
  airflow users create --role Admin \
    --username "${_AIRFLOW_WWW_USER_USERNAME}" --password "${_AIRFLOW_WWW_USER_PASSWORD}" \
    --firstname Discourse --lastname Admin --email "${_AIRFLOW_WWW_USER_EMAIL:-admin@localhost}"
fi

mkdir -p "${DISCOURSE_HOME}/inbox"

for dag_file in "${AIRFLOW__CORE__DAGS_FOLDER:-/opt/airflow/dags}"/discourse_*.py; do
  python "${dag_file}"
done
echo "airflow-init: done"
