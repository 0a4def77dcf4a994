"""The transform stage: everything dbt runs or needs.

- ``runner``: ``dbt build`` of the dbt project into the build warehouse (``build_marts``), the env
  and arguments dbt is run with (also used by the Airflow DAG through cosmos), and where the project is.
- ``dbt_plugin``: the dbt-duckdb plugin that registers the language-detection UDF.
- ``word_lang``, ``stopwords``: word lists the dbt Python models build from installed packages.
- ``reference``: reference data derived from installed packages (VADER's lexicon and emoji).
- ``importers``: public domain-credibility lists and fact-checked claims, imported for dbt to read.
- ``sentiment_train``: the trained sentiment overlay.
- ``codegen``: the dbt files generated from the canonical schema (``python -m discourse.transform.codegen``).
"""

from discourse.transform.runner import (
    TransformError,
    build_marts,
    close_dbt_connections,
    dbt_args,
    dbt_env,
    dbt_paths,
    dbt_project_dir,
    generate_docs,
    run_dbt,
    run_unit_tests,
)

__all__ = [
    "TransformError",
    "build_marts",
    "close_dbt_connections",
    "dbt_args",
    "dbt_env",
    "dbt_paths",
    "dbt_project_dir",
    "generate_docs",
    "run_dbt",
    "run_unit_tests",
]
