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
no bytecode is cached. Memory grows linearly with the frame, so past ``gate_part_rows`` rows (default
1M) the raw and marts gates validate their relation in parts by hash of ``post_uid`` and merge the
results exactly (``quality.parts``): a gate's peak memory is that of one part, whatever the history.

Each gate loads its frame (``quality.frames``), runs the stage's checkpoint (``quality.context``), and
turns failed expectations into failure records (``quality.failures``). The staging gate is the
exception to "only the columns a suite needs": its checks (dedup held, no post lost, per-batch
accounting) are about counts, so DuckDB computes them over the lake and the staging view and GX gets
two small aggregate frames (one row in all, one row per batch), whatever the number of posts. The
alert is built by ``quality.alerts`` from the ``GateResult``, so its content is exactly what
maintainers need. The volume check (``quality.volume``) reuses ``validate_frame`` and
``nothing_to_validate``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality import parts, posts_scope, suites
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
    staging_frames,
    staging_samples,
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
    checkpoint: str | None = None,
) -> GateResult:
    """Validate ``frame`` (read from ``relation``) with the stage's checkpoint; failures in suite order.

    ``missing`` are suite columns absent from ``relation``; ``notes`` and ``checked`` go into the
    result as given (a note on the missing columns is added). ``checkpoint`` names the GX checkpoint
    and asset when a stage validates more than one frame (default: the stage).
    """
    t0 = time.perf_counter()
    run = run_checkpoint(
        settings,
        checkpoint or stage,
        frame,
        suite=suite,
        key_columns=key_columns,
        parameters=parameters,
        run_id=run_id,
    )
    return gate_result(
        settings,
        stage,
        run.result.to_json_dict(),
        run=run,
        suite=suite,
        rows=len(frame),
        columns=list(frame.columns),
        missing=missing,
        relation=relation,
        notes=notes,
        checked=checked,
        seconds={"load": round(load_seconds, 3), "validate": round(time.perf_counter() - t0, 3)},
    )


def gate_result(
    settings: Settings,
    stage: str,
    result: dict[str, Any],
    *,
    run: Any,
    suite: gx.ExpectationSuite,
    rows: int,
    columns: list[str],
    missing: list[str],
    relation: str,
    notes: list[str],
    checked: dict[str, Any],
    seconds: dict[str, float],
) -> GateResult:
    """The ``GateResult`` of a validation ``result`` (GX's JSON form) of ``rows`` rows of ``relation``:
    failures in suite order. ``run`` is the (last) checkpoint run, for its suite and page."""
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
    stats.update(row_count=int(rows), columns=columns, seconds=seconds)
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
    label: str | None = None,
) -> GateResult:
    """Validate ``relation`` (a table, or a parenthesised subquery with an alias, then named
    ``label`` in the result) with the stage's suite."""
    suite = STAGE_SUITES[stage]()
    columns = suites.suite_columns(suite)
    part_rows = int(getattr(settings, "gate_part_rows", 1_000_000))
    rows = con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    n_parts = parts.part_count(rows, part_rows)
    # One checkpoint run per part: the whole relation up to ``gate_part_rows`` rows (``quality.parts``)
    results: list[dict[str, Any]] = []
    load_seconds = validate_seconds = 0.0
    for i in range(n_parts):
        t0 = time.perf_counter()
        part = relation if n_parts == 1 else parts.part_relation(relation, "post_uid", i, n_parts)
        frame, missing, keys = load_frame(con, part, columns, key_columns)
        t1 = time.perf_counter()
        run = run_checkpoint(settings, stage, frame, suite=suite, key_columns=keys,
                             parameters=parameters, run_id=run_id)
        results.append(run.result.to_json_dict())
        out_columns = list(frame.columns)
        del frame
        parts.release_memory()  # the frame's heap goes back before the next part or step
        load_seconds += t1 - t0
        validate_seconds += time.perf_counter() - t1
    if n_parts > 1:
        notes.append(f"{label or relation}: {rows:,} rows validated in {n_parts} parts of at most about "
                     f"{part_rows:,} (gate_part_rows), by hash of post_uid")
        checked["parts"] = n_parts
    return gate_result(
        settings,
        stage,
        parts.merge_results(results),
        run=run,
        suite=suite,
        rows=rows,
        columns=out_columns,
        missing=missing,
        relation=label or relation,
        notes=notes,
        checked=checked,
        seconds={"load": round(load_seconds, 3), "validate": round(validate_seconds, 3)},
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
    """Validate ``marts.posts`` and the analyst marts (``suites.ANALYST_MARTS``) in the DuckDB file
    ``db_path`` (opened read-only), each with its own suite and checkpoint, in one result."""
    db_path = Path(db_path)
    checked = {"db_path": str(db_path), "relation": MARTS_RELATION}
    if not db_path.exists():
        return _structural_failure(
            settings, "marts", suites.MARTS_SUITE, MARTS_RELATION, f"{db_path} does not exist", checked
        )
    notes: list[str] = []
    with connect(db_path) as con:
        from discourse.settings import apply_duckdb_limits

        apply_duckdb_limits(con, settings, spill="gate")
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
        relation = _scoped_posts(settings, con, db_path, has_posts, notes, checked)
        if relation != MARTS_RELATION:
            params["min_rows"] = 0  # a night may rewrite no post; the table's own rows were counted
        posts = _run_on_relation(
            settings,
            "marts",
            con,
            relation,
            parameters=params,
            key_columns=suites.POST_KEY_COLUMNS,
            notes=notes,
            checked=checked,
            run_id=run_id,
            label=MARTS_RELATION,
        )
        analyst = [
            _run_analyst_mart(settings, con, db_path, relation, params["topic_ids"], run_id)
            for relation in suites.ANALYST_MARTS
        ]
    result = _merge_marts(posts, analyst)
    if result.success:
        posts_scope.mark_validated(settings)
    return result


AFFECTED_POSTS = "intermediate.int_posts_affected"


def _scoped_posts(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    has_posts: bool,
    notes: list[str],
    checked: dict[str, Any],
) -> str:
    """``marts.posts``, or only its rows the last build rewrote (``quality.posts_scope``): after an
    incremental build of the build warehouse whose predecessors all passed this gate."""
    checked["scope"] = posts_scope.ALL
    try:
        same = Path(db_path).resolve() == Path(settings.build_warehouse).resolve()
    except OSError:
        same = False
    if not same or posts_scope.scope(settings) != posts_scope.AFFECTED:
        return MARTS_RELATION
    if not relation_exists(con, AFFECTED_POSTS):
        notes.append(f"{AFFECTED_POSTS} is missing: every row of {MARTS_RELATION} is validated")
        return MARTS_RELATION
    total = con.execute(f"select count(*) from {MARTS_RELATION}").fetchall()[0][0]
    if has_posts and total == 0:
        return MARTS_RELATION  # the whole table fails its row count: validate it whole
    rewritten = con.execute(
        f"select count(*) from {MARTS_RELATION} where post_uid in (select post_uid from {AFFECTED_POSTS})"
    ).fetchall()[0][0]
    checked.update(scope=posts_scope.AFFECTED, rows_in_table=int(total), rows_validated=int(rewritten))
    notes.append(
        f"{MARTS_RELATION}: the {rewritten:,} rows tonight's incremental build rewrote (of {total:,}); "
        "the others passed an earlier gate unchanged"
    )
    return (f"(select * from {MARTS_RELATION} where post_uid in "
            f"(select post_uid from {AFFECTED_POSTS})) as rewritten_posts")


def _run_analyst_mart(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    relation: str,
    topic_ids: list[str],
    run_id: str | None,
) -> GateResult:
    """One of ``suites.ANALYST_MARTS`` through its own checkpoint (named after its suite); a mart
    that is missing is a blocking failure: the published warehouse would lose a table analysts use."""
    name, keys = suites.ANALYST_MARTS[relation]
    checked = {"db_path": str(db_path), "relation": relation}
    if not relation_exists(con, relation):
        return _structural_failure(
            settings, "marts", name, relation, f"{relation} is missing from {db_path}", checked
        )
    suite = suites.analyst_mart_suite(relation)
    t0 = time.perf_counter()
    frame, missing, present = load_frame(con, relation, suites.suite_columns(suite), keys)
    load_seconds = time.perf_counter() - t0
    return validate_frame(
        settings,
        "marts",
        frame,
        suite=suite,
        key_columns=present,
        parameters={"topic_ids": topic_ids},
        missing=missing,
        relation=relation,
        notes=[],
        checked=checked,
        run_id=run_id,
        load_seconds=load_seconds,
        checkpoint=name,
    )


def _merge_marts(posts: GateResult, analyst: list[GateResult]) -> GateResult:
    """One marts result: ``marts.posts`` first, then each analyst mart. ``row_count`` stays that of
    ``marts.posts``; ``statistics["frames"]`` has every relation's rows; each failure names its
    relation (``relation``), and the notes name the analyst marts that failed."""
    parts = [posts, *analyst]
    stats = dict(posts.statistics)
    for key in ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations"):
        stats[key] = sum(int(r.statistics.get(key) or 0) for r in parts)
    ok = stats["evaluated_expectations"]
    stats["success_percent"] = 100.0 * stats["successful_expectations"] / ok if ok else 100.0
    stats["frames"] = {
        str(r.checked.get("relation")): {"suite": r.suite, "row_count": r.statistics.get("row_count")}
        for r in parts
    }
    failures: list[dict[str, Any]] = []
    for r in parts:
        failures += [{**f, "relation": f.get("relation") or r.checked.get("relation")} for f in r.failures]
    notes = list(posts.notes)
    for r in analyst:
        notes += [f"{r.checked.get('relation')}: {n}" for n in r.notes]
    bad = [str(r.checked.get("relation")) for r in analyst if r.failures]
    if bad:
        notes.append(f"analyst mart(s) failing: {', '.join(bad)}")
    severity = (
        "error" if any(f["severity"] == "error" for f in failures) else ("warning" if failures else "error")
    )
    checked = dict(posts.checked)
    checked["analyst_marts"] = [str(r.checked.get("relation")) for r in analyst]
    checked["validation_pages"] = {r.suite: r.validation_page for r in parts if r.validation_page}
    failing_page = next((r.validation_page for r in parts if r.failures and r.validation_page), None)
    return GateResult(
        stage="marts",
        success=not failures,
        severity=severity,
        failures=failures,
        statistics=stats,
        data_docs_path=next((r.data_docs_path for r in reversed(parts) if r.data_docs_path), None),
        validation_page=failing_page or posts.validation_page,
        suite=" + ".join(str(r.suite) for r in parts),
        notes=notes,
        checked=checked,
    )


def run_staging_gate(
    settings: Settings,
    db_path: Path,
    relation: str = STAGING_RELATION,
    *,
    run_id: str | None = None,
    night: bool = False,
) -> GateResult:
    """Validate the staged posts (``relation`` in ``db_path``, the build warehouse) against the lake.

    Two small frames are aggregated in DuckDB (``quality.frames.staging_frames``) and validated with
    two suites, both of stage ``staging`` and in one result: ``staging_posts`` (dedup held, no post
    lost: one row) and ``staging_batches`` (per committed batch: the manifest's count against its lake
    files, and its posts present in staging, from it or from a newer batch). The failure messages name
    the batches and a few post_uids; the notes list the failing batches, so the alert names them.

    ``night``: the caller (the nightly run) accepts the night's scope: after an incremental build
    of the build warehouse whose predecessors all passed this gate (``quality.posts_scope``), the
    posts the night staged (``intermediate.int_posts_delta``) are reconciled with the lake rows of
    the same posts instead of the whole lake; every batch's manifest is still compared with its lake
    files' row counts, read from their Parquet footers.
    """
    from ingest.lake import lake_manifests

    db_path = Path(db_path)
    keys: str | None = None
    scope_note: str | None = None
    if night and _is_build_warehouse(settings, db_path):
        scope, lake_changed, delta_batches = posts_scope.staging_scope(settings)
        if scope == posts_scope.NIGHT:
            relation = posts_scope.NIGHT_STAGED
            if lake_changed:
                keys = f"select post_uid from {posts_scope.NIGHT_KEYS}"
            else:  # nothing staged tonight: int_posts_delta is an earlier night's
                keys = "select cast(null as varchar) as post_uid where false"
                relation = f"(select * from {posts_scope.NIGHT_STAGED} where false)"
            scope_note = (
                f"incremental night ({len(delta_batches)} new or re-mapped batch(es)): the posts it "
                f"staged ({posts_scope.NIGHT_STAGED}) against the lake rows of the same posts; every "
                "batch's manifest against its lake files' row counts (Parquet footers)"
            )
    checked: dict[str, Any] = {"db_path": str(db_path), "relation": relation,
                               "scope": posts_scope.NIGHT if keys is not None else posts_scope.ALL}
    if not db_path.exists():
        return _structural_failure(
            settings, "staging", suites.STAGING_SUITE, relation, f"{db_path} does not exist", checked
        )
    t0 = time.perf_counter()
    manifests = lake_manifests(settings)
    ids = {str(m["batch_id"]) for m in manifests}
    all_files = lake_files(settings, None)
    files = [f for f in all_files if _file_stem(f) in ids]
    checked.update(posts_dir=str(lake_root(settings)), committed_batches=len(ids), files=len(files))
    notes: list[str] = []
    if len(files) < len(all_files):
        notes.append(f"{len(all_files) - len(files)} lake file(s) belong to no committed batch")
    if scope_note:
        notes.append(scope_note)
    with connect(db_path, settings=settings) as con:
        needed = [relation] if keys is None else [posts_scope.NIGHT_STAGED, posts_scope.NIGHT_KEYS]
        missing = [r for r in needed if not relation_exists(con, r)]
        if missing:
            return _structural_failure(
                settings,
                "staging",
                suites.STAGING_SUITE,
                relation,
                f"{', '.join(missing)} missing from {db_path}",
                checked,
            )
        batches, totals = staging_frames(con, relation, manifests, files, keys=keys)
        load_seconds = time.perf_counter() - t0
        bad = _failing_batches(batches)
        totals_row = {k: int(v) for k, v in totals.iloc[0].items()}
        samples = (
            staging_samples(con, bad[:5])
            if bad or totals_row["staging_rows"] != totals_row["staging_posts"]
            else {"duplicated": [], "lost": {}}
        )
    checked.update(totals_row)
    checked["batches"] = len(batches)
    if bad:
        checked["failing_batches"] = bad
        notes.append(f"failing batch(es): {', '.join(bad[:10])}" + (" …" if len(bad) > 10 else ""))
    common = {"missing": [], "relation": relation, "checked": checked, "run_id": run_id}
    posts = validate_frame(
        settings,
        "staging",
        totals,
        suite=suites.staging_posts_suite(),
        key_columns=list(totals.columns),
        parameters={},
        notes=[],
        load_seconds=load_seconds,
        **common,
    )
    per_batch = validate_frame(
        settings,
        "staging",
        batches,
        suite=suites.staging_batches_suite(),
        key_columns=[*suites.BATCH_KEY_COLUMNS, *STAGING_BATCH_FIGURES],
        parameters={},
        notes=[],
        load_seconds=0.0,
        checkpoint="staging_batches",
        **common,
    )
    _explain_staging_failures(posts.failures, per_batch.failures, batches, totals_row, samples)
    result = _merge_staging(posts, per_batch, notes)
    if result.success and _is_build_warehouse(settings, db_path):
        posts_scope.mark_staging_validated(settings)
    return result


def _is_build_warehouse(settings: Settings, db_path: Path) -> bool:
    try:
        return Path(db_path).resolve() == Path(settings.build_warehouse).resolve()
    except OSError:
        return False


STAGING_BATCH_FIGURES = (
    "manifest_loaded",
    "lake_rows",
    "staged_rows",
    "posts_lost",
    "posts_staged_from_older_batch",
)


def _file_stem(f: Path | str) -> str:
    name = str(f).rsplit("/", 1)[-1]
    return name[: -len(".parquet")] if name.endswith(".parquet") else name


def _failing_batches(batches: pd.DataFrame) -> list[str]:
    """Batch ids failing any per-batch check, in batch order."""
    loaded = batches["manifest_loaded"]
    wrong = (
        ~batches["is_committed"]
        | (loaded.notna() & (loaded != batches["lake_rows"]))
        | (batches["posts_lost"] > 0)
        | (batches["posts_staged_from_older_batch"] > 0)
    )
    return [str(b) for b in batches.loc[wrong, "batch_id"]]


def _batch_label(row: Any) -> str:
    src = row.get("source_file")
    return f"batch {row['batch_id']}" + (f" ({Path(str(src).split('!')[0]).name})" if src else "")


def _explain_staging_failures(
    posts: list[dict[str, Any]],
    per_batch: list[dict[str, Any]],
    batches: pd.DataFrame,
    totals: dict[str, int],
    samples: dict[str, Any],
) -> None:
    """Rewrite the staging failures' messages in the data's terms, naming batches and post_uids."""
    rows = batches.to_dict("records")
    for f in posts:
        if f["column"] == "staging_rows,staging_posts":
            dup = "; ".join(
                f"{d['post_uid']} in {', '.join(map(str, d['batches']))}" for d in samples["duplicated"]
            )
            f["message"] = (
                f"dedup broke: staging has {totals['staging_rows']:,} rows for "
                f"{totals['staging_posts']:,} distinct post_uids" + (f"; e.g. {dup}" if dup else "")
            )
        elif f["column"] == "lake_posts,staging_rows":
            off = [
                f"{_batch_label(r)}: {r['posts_lost']:,} lost"
                if r["posts_lost"]
                else f"{_batch_label(r)}: no manifest, {r['staged_rows']:,} staged rows"
                for r in rows
                if r["posts_lost"] or not r["is_committed"]
            ]
            f["message"] = (
                f"staging holds {totals['staging_rows']:,} rows but the committed lake has "
                f"{totals['lake_posts']:,} distinct post_uids" + (f" ({'; '.join(off[:5])})" if off else "")
            )
        elif f["column"] == "staging_null_uids":
            f["message"] = f"{totals['staging_null_uids']:,} staged row(s) have no post_uid"
    for f in per_batch:
        col = f["column"]
        if col == "is_committed":
            hit = [r for r in rows if not r["is_committed"]]
            f["message"] = "posts staged from batch(es) without a manifest (not committed): " + "; ".join(
                f"batch {r['batch_id']} ({r['staged_rows']:,} staged rows)" for r in hit[:5]
            )
        elif col == "manifest_loaded,lake_rows":
            # manifest_loaded is NaN where it is not compared (a batch outside a night's scope)
            hit = [r for r in rows if r["is_committed"] and r["manifest_loaded"] == r["manifest_loaded"]
                   and r["manifest_loaded"] is not None and r["manifest_loaded"] != r["lake_rows"]]
            f["message"] = "manifest and lake disagree: " + "; ".join(
                f"{_batch_label(r)}: manifest loaded {int(r['manifest_loaded']):,}, "
                f"its lake files hold {r['lake_rows']:,} rows"
                for r in hit[:5]
            )
        elif col == "posts_lost":
            hit = [r for r in rows if r["posts_lost"]]
            f["message"] = "posts missing from staging: " + "; ".join(
                f"{_batch_label(r)}: {r['posts_lost']:,}"
                + (
                    f", e.g. {', '.join(samples['lost'].get(str(r['batch_id']), []))}"
                    if samples["lost"].get(str(r["batch_id"]))
                    else ""
                )
                for r in hit[:5]
            )
        elif col == "posts_staged_from_older_batch":
            hit = [r for r in rows if r["posts_staged_from_older_batch"]]
            f["message"] = "the newest ingested_at did not win: " + "; ".join(
                f"{_batch_label(r)}: {r['posts_staged_from_older_batch']:,} post(s) staged from an "
                "older batch"
                for r in hit[:5]
            )


def _merge_staging(posts: GateResult, per_batch: GateResult, notes: list[str]) -> GateResult:
    """One staging result from its two validations (the totals' first, then the batches')."""
    stats: dict[str, Any] = {}
    for key in ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations"):
        stats[key] = int(posts.statistics.get(key) or 0) + int(per_batch.statistics.get(key) or 0)
    ok = stats["evaluated_expectations"]
    stats["success_percent"] = 100.0 * stats["successful_expectations"] / ok if ok else 100.0
    stats["row_count"] = per_batch.statistics.get("row_count", 0)  # the batches checked
    stats["frames"] = {
        suites.STAGING_SUITE: {k: posts.statistics.get(k) for k in ("row_count", "columns")},
        suites.STAGING_BATCHES_SUITE: {k: per_batch.statistics.get(k) for k in ("row_count", "columns")},
    }
    stats["seconds"] = {
        "load": posts.statistics["seconds"]["load"],
        "validate": round(
            posts.statistics["seconds"]["validate"] + per_batch.statistics["seconds"]["validate"], 3
        ),
    }
    failures = posts.failures + per_batch.failures
    severity = (
        "error" if any(f["severity"] == "error" for f in failures) else ("warning" if failures else "error")
    )
    checked = dict(posts.checked)
    checked["validation_pages"] = {
        suites.STAGING_SUITE: posts.validation_page,
        suites.STAGING_BATCHES_SUITE: per_batch.validation_page,
    }
    failing_page = next((r.validation_page for r in (posts, per_batch) if r.failures), None)
    return GateResult(
        stage="staging",
        success=not failures,
        severity=severity,
        failures=failures,
        statistics=stats,
        data_docs_path=per_batch.data_docs_path,
        validation_page=failing_page or posts.validation_page,
        suite=f"{suites.STAGING_SUITE} + {suites.STAGING_BATCHES_SUITE}",
        notes=notes,
        checked=checked,
    )
