"""Quality gates: validate each stage with Great Expectations and return a ``GateResult``.

How the data reaches GX. The natural place to validate is where the data is, in DuckDB, but GX
1.24.1's SQL datasource over DuckDB does not work here: its ``SqlAlchemyExecutionEngine.execute_query``
returns a cursor result after the ``with get_connection()`` block that produced it has closed the
connection, and duckdb-engine's results are not buffered, so the later ``fetchall()`` sees no rows and
every metric fails with ``MetricResolutionError: list index out of range`` (its column-reflection
fallback also drops the schema name, ``SELECT * FROM posts`` instead of ``marts.posts``). Fixing that
means patching GX internals, so the gates use a pandas DataFrame datasource fed by DuckDB instead,
loading only what the suite needs (``quality.frames``).

Measured on a shared 2-core machine (``pytest -m bench tests/quality/test_perf.py``): one 1M-row lake
batch (16 of its 30 columns loaded), 17 raw expectations: load 0.5-1.0 s, validate + Data Docs 2.5-4.6 s;
a 1M-row ``marts.posts``, 17 expectations: 0.4 s + 2.2 s. The frame is ~300 MB; peak RSS ~1.1 GB,
because GX copies the frame when it filters rows. Importing GX costs another 5-15 s per process when
no bytecode is cached. Memory grows linearly, so the marts gate is sized for a few million posts;
beyond that, validate ``marts.posts`` per platform (``post_uid`` starts with the platform, so
uniqueness per platform is global uniqueness).

Each gate loads its frame (``quality.frames``), runs the stage's checkpoint (``quality.context``), and
turns failed expectations into failure records (``quality.failures``). The alert is built by
``quality.alerts`` from the ``GateResult``, so its content is exactly what maintainers need. The
volume check (``quality.volume``) reuses ``validate_frame`` and ``nothing_to_validate``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality import suites
from quality.context import data_docs_index, run_checkpoint
from quality.failures import failure_from
from quality.frames import (
    connect,
    lake_files,
    lake_has_posts,
    lake_root,
    load_frame,
    parquet_relation,
    quote_ident,
    relation_exists,
)

if TYPE_CHECKING:
    import duckdb
    import great_expectations as gx
    import pandas as pd

    from discourse.settings import Settings

STAGE_SEVERITY = {"raw": "error", "staging": "error", "marts": "error", "volume": "warning"}
STAGE_SUITES = {
    "raw": suites.raw_posts_suite,
    "staging": suites.staging_posts_suite,
    "marts": suites.marts_posts_suite,
    "volume": suites.volume_suite,
}
MARTS_RELATION = "marts.posts"
STAGING_RELATION = "staging.stg_lake__posts"


@dataclass
class GateResult:
    """What a gate found. ``success`` is False when any expectation failed; ``severity`` says whether
    that blocks publish (``error``) or only alerts (``warning``)."""

    stage: str
    success: bool
    severity: str = "error"
    failures: list[dict[str, Any]] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)
    data_docs_path: str | None = None
    validation_page: str | None = None
    suite: str | None = None
    notes: list[str] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["blocking"] = self.blocking
        return d


# ---------------------------------------------------------------- the runner


def validate_frame(
    settings: Settings,
    stage: str,
    frame: pd.DataFrame,
    *,
    suite: gx.ExpectationSuite,
    key_columns: list[str],
    parameters: dict[str, Any],
    missing: list[str],
    relation: str,
    notes: list[str],
    checked: dict[str, Any],
    run_id: str | None,
    load_seconds: float,
) -> GateResult:
    """Validate ``frame`` (read from ``relation``) with the stage's checkpoint; failures in suite order.

    ``missing`` are suite columns absent from ``relation``; ``notes`` and ``checked`` go into the
    result as given (a note on the missing columns is added).
    """
    t0 = time.perf_counter()
    run = run_checkpoint(
        settings, stage, frame, suite=suite, key_columns=key_columns, parameters=parameters, run_id=run_id
    )
    validate_seconds = time.perf_counter() - t0
    result = run.result.to_json_dict()

    order = {e.id: i for i, e in enumerate(run.suite.expectations)}

    def rank(er: dict[str, Any]) -> int:
        return order.get((er.get("expectation_config") or {}).get("id"), len(order))

    missing_set = set(missing)
    failures = [
        failure_from(er, missing_set, relation)
        for er in sorted(result.get("results", []), key=rank)
        if not er.get("success")
    ]
    stats = dict(result.get("statistics") or {})
    stats.update(
        row_count=int(len(frame)),
        columns=list(frame.columns),
        seconds={"load": round(load_seconds, 3), "validate": round(validate_seconds, 3)},
    )
    nominal = STAGE_SEVERITY[stage]
    severity = (
        "error"
        if any(f["severity"] == "error" for f in failures) and nominal == "error"
        else ("warning" if failures else nominal)
    )
    if missing:
        notes.append(f"columns missing from {relation}: {', '.join(missing)}")
    return GateResult(
        stage=stage,
        success=not failures,
        severity=severity,
        failures=failures,
        statistics=stats,
        data_docs_path=data_docs_index(settings),
        validation_page=run.validation_page,
        suite=suite.name,
        notes=notes,
        checked=checked,
    )


def nothing_to_validate(
    settings: Settings,
    stage: str,
    suite_name: str,
    note: str,
    checked: dict[str, Any],
    notes: list[str] | None = None,
) -> GateResult:
    """Success without running GX: there is nothing to validate (``note`` says why)."""
    return GateResult(
        stage=stage,
        success=True,
        severity=STAGE_SEVERITY[stage],
        statistics={
            "evaluated_expectations": 0,
            "successful_expectations": 0,
            "unsuccessful_expectations": 0,
            "row_count": 0,
        },
        data_docs_path=data_docs_index(settings),
        suite=suite_name,
        notes=[note, *(notes or [])],
        checked=checked,
    )


def _structural_failure(
    settings: Settings, stage: str, suite_name: str, relation: str, problem: str, checked: dict[str, Any]
) -> GateResult:
    """The relation to validate is not there at all: a blocking failure, without running GX."""
    return GateResult(
        stage=stage,
        success=False,
        severity=STAGE_SEVERITY[stage],
        failures=[
            {
                "expectation": "expect_table_to_exist",
                "column": None,
                "kwargs": {"relation": relation},
                "observed": {"error": problem},
                "expected": f"{relation} exists",
                "severity": STAGE_SEVERITY[stage],
                "message": problem,
                "sample_rows": [],
            }
        ],
        statistics={
            "evaluated_expectations": 0,
            "successful_expectations": 0,
            "unsuccessful_expectations": 1,
            "row_count": 0,
        },
        data_docs_path=data_docs_index(settings),
        suite=suite_name,
        checked=checked,
    )


def _run_on_relation(
    settings: Settings,
    stage: str,
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    parameters: dict[str, Any],
    key_columns: Sequence[str],
    notes: list[str],
    checked: dict[str, Any],
    run_id: str | None,
) -> GateResult:
    suite = STAGE_SUITES[stage]()
    t0 = time.perf_counter()
    frame, missing, keys = load_frame(con, relation, suites.suite_columns(suite), key_columns)
    load_seconds = time.perf_counter() - t0
    return validate_frame(
        settings,
        stage,
        frame,
        suite=suite,
        key_columns=keys,
        parameters=parameters,
        missing=missing,
        relation=relation,
        notes=notes,
        checked=checked,
        run_id=run_id,
        load_seconds=load_seconds,
    )


def _created_at_max() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def run_raw_gate(
    settings: Settings, batch_ids: list[str] | None = None, *, run_id: str | None = None
) -> GateResult:
    """Validate lake posts: the given batches, or the whole lake when ``batch_ids`` is None.

    An empty selection (no new batches, or batches whose every record was quarantined) succeeds with a
    note: nothing to validate is not a failure.
    """
    files = lake_files(settings, batch_ids)
    checked: dict[str, Any] = {"posts_dir": str(lake_root(settings)), "files": len(files)}
    notes: list[str] = []
    if batch_ids is not None:
        found = sorted({Path(f).stem for f in files})
        checked["batch_ids"] = found
        absent = sorted(set(batch_ids) - set(found))
        if absent:
            notes.append(f"no lake posts for batch(es) {', '.join(absent)}")
    if not files:
        what = "the lake has no posts" if batch_ids is None else "no posts in the selected batches"
        return nothing_to_validate(
            settings, "raw", suites.RAW_SUITE, f"nothing to validate: {what}", checked, notes
        )
    with connect(settings=settings) as con:
        return _run_on_relation(
            settings,
            "raw",
            con,
            parquet_relation(lake_root(settings) if batch_ids is None else files),
            parameters={"created_at_max": _created_at_max()},
            key_columns=suites.POST_KEY_COLUMNS,
            notes=notes,
            checked=checked,
            run_id=run_id,
        )


def _topic_ids(con: duckdb.DuckDBPyConnection, notes: list[str]) -> list[str]:
    if not relation_exists(con, "marts.topics"):
        notes.append("marts.topics is missing: every non-null primary_topic fails")
        return []
    cols = [d[0] for d in con.sql("select * from marts.topics limit 0").description]
    id_col = next((c for c in ("topic_id", "id") if c in cols), None)
    if id_col is None:
        notes.append("marts.topics has no topic_id/id column: every non-null primary_topic fails")
        return []
    return [
        r[0]
        for r in con.sql(
            f"select distinct {quote_ident(id_col)} from marts.topics where {quote_ident(id_col)} is not null"
        ).fetchall()
    ]


def run_marts_gate(settings: Settings, db_path: Path, *, run_id: str | None = None) -> GateResult:
    """Validate ``marts.posts`` in the DuckDB file ``db_path`` (opened read-only)."""
    db_path = Path(db_path)
    checked = {"db_path": str(db_path), "relation": MARTS_RELATION}
    if not db_path.exists():
        return _structural_failure(
            settings, "marts", suites.MARTS_SUITE, MARTS_RELATION, f"{db_path} does not exist", checked
        )
    notes: list[str] = []
    with connect(db_path) as con:
        if not relation_exists(con, MARTS_RELATION):
            return _structural_failure(
                settings,
                "marts",
                suites.MARTS_SUITE,
                MARTS_RELATION,
                f"{MARTS_RELATION} is missing from {db_path}",
                checked,
            )
        has_posts = lake_has_posts(settings)
        params = {"min_rows": 1 if has_posts else 0, "topic_ids": _topic_ids(con, notes)}
        return _run_on_relation(
            settings,
            "marts",
            con,
            MARTS_RELATION,
            parameters=params,
            key_columns=suites.POST_KEY_COLUMNS,
            notes=notes,
            checked=checked,
            run_id=run_id,
        )


def run_staging_gate(
    settings: Settings, db_path: Path, relation: str = STAGING_RELATION, *, run_id: str | None = None
) -> GateResult:
    """Validate the staged posts (``relation`` in ``db_path``): unique ``post_uid`` across batches."""
    db_path = Path(db_path)
    checked = {"db_path": str(db_path), "relation": relation}
    if not db_path.exists():
        return _structural_failure(
            settings, "staging", suites.STAGING_SUITE, relation, f"{db_path} does not exist", checked
        )
    with connect(db_path) as con:
        if not relation_exists(con, relation):
            return _structural_failure(
                settings,
                "staging",
                suites.STAGING_SUITE,
                relation,
                f"{relation} is missing from {db_path}",
                checked,
            )
        return _run_on_relation(
            settings,
            "staging",
            con,
            relation,
            parameters={"created_at_max": _created_at_max()},
            key_columns=suites.POST_KEY_COLUMNS,
            notes=[],
            checked=checked,
            run_id=run_id,
        )
