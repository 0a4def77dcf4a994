"""Quality gates: validate each stage with Great Expectations and return a ``GateResult``.

How the data reaches GX. DESIGN.md asks to validate where the data is. GX 1.24.1's SQL datasource over
DuckDB does not work here: its ``SqlAlchemyExecutionEngine.execute_query`` returns a cursor result after
the ``with get_connection()`` block that produced it has closed the connection, and duckdb-engine's
results are not buffered, so the later ``fetchall()`` sees no rows and every metric fails with
``MetricResolutionError: list index out of range`` (its column-reflection fallback also drops the
schema name, ``SELECT * FROM posts`` instead of ``marts.posts``). Fixing that means patching GX
internals, so the gates use a pandas DataFrame datasource fed by DuckDB instead, keeping the load small:

* only the columns the suite references (``suites.suite_columns``) plus the key columns used for sample
  rows are read; derived columns (``suites.DERIVED_COLUMNS``) are computed by DuckDB while reading;
* the raw gate reads only the Parquet files of the batches it is given (one file per partition and
  batch), so a nightly run validates tonight's batches, not the whole lake.

Measured on a shared 2-core machine (``pytest -m bench tests/quality/test_perf.py``): one 1M-row lake
batch (16 of its 30 columns loaded), 17 raw expectations: load 0.5-1.0 s, validate + Data Docs 2.5-4.6 s;
a 1M-row ``marts.posts``, 17 expectations: 0.4 s + 2.2 s. The frame is ~300 MB; peak RSS ~1.1 GB,
because GX copies the frame when it filters rows. Importing GX costs another 5-15 s per process when
no bytecode is cached. Memory grows linearly, so the marts gate is sized for a few million posts;
beyond that, validate ``marts.posts`` per platform (``post_uid`` starts with the platform, so
uniqueness per platform is global uniqueness).

Runs use a file-backed GX context under ``settings.gx_dir`` with one pandas datasource, one dataframe
asset, ``ValidationDefinition`` and ``Checkpoint`` per stage (all add-or-update, so re-running is
idempotent); the checkpoint's action updates Data Docs under ``settings.data_docs_dir``. The alert is
built by ``quality.alerts`` from the ``GateResult``, so its content is exactly what maintainers need.
"""

from __future__ import annotations

import fcntl
import logging
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from quality import suites

if TYPE_CHECKING:
    import duckdb
    import great_expectations as gx
    import pandas as pd

    from discourse.settings import Settings

log = logging.getLogger(__name__)

DATASOURCE = "discourse_frames"
DOCS_SITE = "local_site"
SAMPLE_ROWS = 5
PARTIAL_UNEXPECTED = 10  # values GX keeps per failing expectation (the alert shows SAMPLE_ROWS)

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


# ---------------------------------------------------------------- GX context


@contextmanager
def _gx_lock(settings: Settings) -> Iterator[None]:
    """One process at a time edits the GX project files (great_expectations.yml, stores, docs)."""
    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.gx_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _docs_site_config(settings: Settings) -> dict[str, Any]:
    try:
        base = settings.data_docs_dir.relative_to(settings.gx_dir).as_posix() + "/"
    except ValueError:
        base = str(settings.data_docs_dir) + "/"
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": base},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def gx_context(settings: Settings) -> Any:
    """The file-backed GX context under ``settings.gx_dir``, configured for this project.

    Data Docs are written to ``settings.data_docs_dir`` and progress bars are off. Call it under
    ``_gx_lock``; repeated calls only rewrite the config when it differs.
    """
    gx = suites.import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory frame under 1 GB by hashing all its values (~4 s per million
    # rows here) just to store the hash as a batch marker; GateResult.checked says what was read.
    pandas_execution_engine.HASH_THRESHOLD = 0

    ctx = gx.get_context(mode="file", context_root_dir=str(settings.gx_dir))
    site = _docs_site_config(settings)
    sites = dict(ctx.variables.data_docs_sites or {})
    for name in [n for n in sites if n != DOCS_SITE]:
        ctx.delete_data_docs_site(name)
    if DOCS_SITE not in sites:
        ctx.add_data_docs_site(DOCS_SITE, site)
    elif sites[DOCS_SITE] != site:
        ctx.update_data_docs_site(DOCS_SITE, site)
    bars = ctx.variables.progress_bars
    if not bars or bars.get("globally") is not False or bars.get("metric_calculations") is not False:
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        ctx.variables.save()
    return ctx


def _checkpoint(
    ctx: Any, stage: str, suite: gx.ExpectationSuite, key_columns: list[str]
) -> tuple[Any, gx.ExpectationSuite]:
    """Add-or-update the stage's suite, asset, batch definition, validation definition, checkpoint."""
    gx = suites.import_gx()

    suite = ctx.suites.add_or_update(suite)
    try:
        ds = ctx.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        ds = ctx.data_sources.add_pandas(DATASOURCE)
    asset_name = f"{stage}_frame"
    try:
        asset = ds.get_asset(asset_name)
    except LookupError:
        asset = ds.add_dataframe_asset(asset_name)
    try:
        batch_def = asset.get_batch_definition("whole_frame")
    except (KeyError, LookupError, ValueError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole_frame")
    vd = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{stage}_gate", data=batch_def, suite=suite)
    )
    checkpoint = ctx.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{stage}_gate",
            validation_definitions=[vd],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE])],
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": key_columns,
                "partial_unexpected_count": PARTIAL_UNEXPECTED,
                "return_unexpected_index_query": False,
            },
        )
    )
    return checkpoint, suite


def _file_url_to_path(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url


def _index_path(settings: Settings) -> str | None:
    p = settings.data_docs_dir / "index.html"
    return str(p) if p.exists() else None


# ---------------------------------------------------------------- loading frames


def _connect(db_path: Path | None = None) -> duckdb.DuckDBPyConnection:
    import duckdb

    if db_path is None:
        con = duckdb.connect(":memory:")
    else:
        try:
            con = duckdb.connect(str(db_path), read_only=True)
        except duckdb.ConnectionException as exc:
            # This process already holds the file open read-write (dbt run in-process, e.g. by
            # `discourse run`); DuckDB then only hands out connections to that same instance.
            # The gates still only read.
            if "different configuration" not in str(exc):
                raise
            log.debug("%s is open read-write in this process; reading through that instance", db_path)
            con = duckdb.connect(str(db_path))
    con.execute("set TimeZone = 'UTC'")
    return con


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


LAKE_GLOB = "platform=*/created_date=*/*.parquet"


def _parquet_relation(files: Sequence[Path] | Path, *, hive: bool = False) -> str:
    """``read_parquet`` over a list of files, or over the lake's glob when given its root."""
    if isinstance(files, Path):
        source = _lit(str(files / LAKE_GLOB))
    else:
        source = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
    return f"read_parquet({source}, union_by_name = true, hive_partitioning = {str(hive).lower()})"


def _load_frame(
    con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], key_columns: Sequence[str]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read only ``columns`` (plus present key columns) of ``relation`` into pandas.

    Returns the frame, the suite columns that are missing from the relation, and the key columns
    that are present (used for sample rows).
    """
    available = [d[0] for d in con.sql(f"select * from {relation} limit 0").description]
    select: list[str] = []
    missing: list[str] = []
    for name in columns:
        if name in suites.DERIVED_COLUMNS:
            expr, needs = suites.DERIVED_COLUMNS[name]
            if all(n in available for n in needs):
                select.append(f"{expr} as {_q(name)}")
            else:
                missing.append(name)
        elif name in available:
            select.append(_q(name))
        else:
            missing.append(name)
    keys = [k for k in key_columns if k in available]
    select += [_q(k) for k in keys if k not in columns]
    if not select:
        select = ["1 as _row"]
    # Plain numpy dtypes on purpose: integer columns with nulls become float64, because GX only
    # vectorises range checks for numpy numbers (pandas' nullable Int64 goes through a Python
    # call per value, ~1 s per million). ``_clean`` turns integral floats back into ints for alerts.
    # Narrow integers are widened for the same reason: GX's fast path checks for int64/float64.
    table = con.sql(f"select {', '.join(select)} from {relation}").to_arrow_table()
    table = _widen_integers(table)
    frame = table.to_pandas(split_blocks=True, self_destruct=True)  # frees Arrow buffers as it goes
    del table
    return frame, missing, keys


def _widen_integers(table: Any) -> Any:
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if pa.types.is_integer(f.type) and f.type != pa.int64():
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return table


def _lake_files(settings: Settings, batch_ids: list[str] | None) -> list[Path]:
    root = settings.posts_dir
    if not root.is_dir():
        return []
    if batch_ids is None:
        return sorted(root.glob(LAKE_GLOB))
    files: list[Path] = []
    for bid in dict.fromkeys(batch_ids):
        files += root.glob(f"platform=*/created_date=*/{bid}.parquet")
    return sorted(files)


def _lake_has_posts(settings: Settings) -> bool:
    root = settings.posts_dir
    return root.is_dir() and next(root.glob(LAKE_GLOB), None) is not None


# ---------------------------------------------------------------- result → failures


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _clean(v: Any) -> Any:
    """JSON-safe missing values: GX serialises pandas' NaT/NaN as strings or floats."""
    if v is None or v in ("NaT", "nan", "NaN", "<NA>"):
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else (int(v) if v.is_integer() else v)
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return kwargs["column"]
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def describe_expected(etype: str, kwargs: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """A human-readable statement of what an expectation wants."""
    if meta and meta.get("expected"):
        return str(meta["expected"])
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if etype == "expect_column_values_to_not_be_null":
        return "not null"
    if etype == "expect_column_values_to_be_unique":
        return "unique"
    if etype == "expect_compound_columns_to_be_unique":
        return f"unique ({', '.join(kwargs.get('column_list', []))})"
    if etype == "expect_column_pair_values_to_be_equal":
        return f"{kwargs.get('column_A')} = {kwargs.get('column_B')}"
    if etype == "expect_column_to_exist":
        return "column present"
    if etype == "expect_column_values_to_match_regex":
        return f"matching /{kwargs.get('regex')}/"
    if etype.endswith("_to_be_in_set"):
        values = list(kwargs.get("value_set") or [])
        shown = ", ".join(_fmt(v) for v in values[:12]) + (", …" if len(values) > 12 else "")
        return f"in {{{shown}}}"
    if etype.endswith("_to_be_between"):
        what = "row count " if etype.startswith("expect_table_row_count") else ""
        if lo is not None and hi is not None:
            return f"{what}between {_fmt(lo)} and {_fmt(hi)}"
        if lo is not None:
            return f"{what}>= {_fmt(lo)}"
        if hi is not None:
            return f"{what}<= {_fmt(hi)}"
    args = {k: v for k, v in kwargs.items() if k != "batch_id"}
    return f"{etype}({args})"


def _exception_message(info: Any) -> str | None:
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for v in info.values():
        if isinstance(v, dict) and v.get("raised_exception"):
            return str(v.get("exception_message") or "exception")
    return None


def _failure_from(er: dict[str, Any], missing: set[str], relation: str) -> dict[str, Any]:
    cfg = er.get("expectation_config") or {}
    etype = cfg.get("type") or cfg.get("expectation_type") or "?"
    kwargs = {k: v for k, v in (cfg.get("kwargs") or {}).items() if k != "batch_id"}
    res = er.get("result") or {}
    column = _column_of(kwargs)
    expected = describe_expected(etype, kwargs, cfg.get("meta"))
    involved = set((column or "").split(",")) - {""}
    gone = sorted(involved & missing)
    observed: dict[str, Any]
    if gone:
        observed = {"error": f"column {', '.join(gone)} missing from {relation}"}
        message = f"{column}: missing from {relation}"
    elif (err := _exception_message(er.get("exception_info"))) is not None:
        observed = {"error": err}
        message = f"{column or etype}: could not be evaluated ({err})"
    elif "unexpected_count" in res:
        observed = {
            "unexpected_count": res.get("unexpected_count"),
            "unexpected_percent": round(float(res.get("unexpected_percent") or 0.0), 4),
            "element_count": res.get("element_count"),
            "unexpected_values": [
                {"value": _clean(c.get("value")), "count": c.get("count")}
                for c in (res.get("partial_unexpected_counts") or [])[:SAMPLE_ROWS]
            ],
        }
        if res.get("missing_count"):
            observed["missing_count"] = res["missing_count"]
        examples = ", ".join(_fmt(v["value"]) for v in observed["unexpected_values"][:3])
        message = (
            f"{column}: {observed['unexpected_count']:,} of {observed['element_count']:,} rows "
            f"({observed['unexpected_percent']:.4g}%) fail, expected {expected}"
            + (f"; e.g. {examples}" if examples else "")
        )
    else:
        observed = {"observed_value": res.get("observed_value")}
        message = f"{column or 'table'}: observed {_fmt(res.get('observed_value'))}, expected {expected}"
    return {
        "expectation": etype,
        "column": column,
        "kwargs": kwargs,
        "observed": observed,
        "expected": expected,
        "severity": suites.expectation_severity(cfg),
        "message": message,
        "sample_rows": [
            {k: _clean(v) for k, v in row.items()}
            for row in (res.get("partial_unexpected_index_list") or [])[:SAMPLE_ROWS]
        ],
    }


# ---------------------------------------------------------------- the runner


def _validate(
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
    from great_expectations.core.run_identifier import RunIdentifier

    t0 = time.perf_counter()
    with _gx_lock(settings):
        ctx = gx_context(settings)
        checkpoint, saved = _checkpoint(ctx, stage, suite, key_columns)
        cp_result = checkpoint.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            run_id=RunIdentifier(run_name=run_id) if run_id else None,
        )
        (vri, vr), *_ = cp_result.run_results.items()
        urls = ctx.get_docs_sites_urls(resource_identifier=vri, site_name=DOCS_SITE)
    validate_seconds = time.perf_counter() - t0
    result = vr.to_json_dict()

    order = {e.id: i for i, e in enumerate(saved.expectations)}

    def rank(er: dict[str, Any]) -> int:
        return order.get((er.get("expectation_config") or {}).get("id"), len(order))

    missing_set = set(missing)
    failures = [
        _failure_from(er, missing_set, relation)
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
        data_docs_path=_index_path(settings),
        validation_page=_file_url_to_path(urls[0].get("site_url")) if urls else None,
        suite=suite.name,
        notes=notes,
        checked=checked,
    )


def _nothing_to_validate(
    settings: Settings,
    stage: str,
    suite_name: str,
    note: str,
    checked: dict[str, Any],
    notes: list[str] | None = None,
) -> GateResult:
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
        data_docs_path=_index_path(settings),
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
        data_docs_path=_index_path(settings),
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
    frame, missing, keys = _load_frame(con, relation, suites.suite_columns(suite), key_columns)
    load_seconds = time.perf_counter() - t0
    return _validate(
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
    files = _lake_files(settings, batch_ids)
    checked: dict[str, Any] = {"posts_dir": str(settings.posts_dir), "files": len(files)}
    notes: list[str] = []
    if batch_ids is not None:
        found = sorted({f.stem for f in files})
        checked["batch_ids"] = found
        absent = sorted(set(batch_ids) - set(found))
        if absent:
            notes.append(f"no lake posts for batch(es) {', '.join(absent)}")
    if not files:
        what = "the lake has no posts" if batch_ids is None else "no posts in the selected batches"
        return _nothing_to_validate(
            settings, "raw", suites.RAW_SUITE, f"nothing to validate: {what}", checked, notes
        )
    with _connect() as con:
        return _run_on_relation(
            settings,
            "raw",
            con,
            _parquet_relation(settings.posts_dir if batch_ids is None else files),
            parameters={"created_at_max": _created_at_max()},
            key_columns=suites.POST_KEY_COLUMNS,
            notes=notes,
            checked=checked,
            run_id=run_id,
        )


def _relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, _, name = relation.rpartition(".")
    rows = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
        [schema or "main", name],
    ).fetchall()
    return bool(rows)


def _topic_ids(con: duckdb.DuckDBPyConnection, notes: list[str]) -> list[str]:
    if not _relation_exists(con, "marts.topics"):
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
            f"select distinct {_q(id_col)} from marts.topics where {_q(id_col)} is not null"
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
    with _connect(db_path) as con:
        if not _relation_exists(con, MARTS_RELATION):
            return _structural_failure(
                settings,
                "marts",
                suites.MARTS_SUITE,
                MARTS_RELATION,
                f"{MARTS_RELATION} is missing from {db_path}",
                checked,
            )
        lake_has_posts = _lake_has_posts(settings)
        params = {"min_rows": 1 if lake_has_posts else 0, "topic_ids": _topic_ids(con, notes)}
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
    with _connect(db_path) as con:
        if not _relation_exists(con, relation):
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


# ---------------------------------------------------------------- volume anomaly check


def daily_counts(settings: Settings, db_path: Path | None) -> tuple[dict[str, dict[date, int]], str]:
    """Posts per platform per UTC day, from ``marts.posts`` when ``db_path`` has it, else the lake.

    The marts count each post once; the lake fallback counts a post once per batch that carries it.
    """
    if db_path is not None and Path(db_path).exists():
        with _connect(Path(db_path)) as con:
            if _relation_exists(con, MARTS_RELATION):
                rows = con.sql(
                    "select platform, created_at::date as day, count(*) from marts.posts "
                    "where created_at is not null group by all"
                ).fetchall()
                return _by_platform(rows), f"{MARTS_RELATION} in {db_path}"
    if not _lake_has_posts(settings):
        return {}, str(settings.posts_dir)
    with _connect() as con:
        rel = _parquet_relation(settings.posts_dir, hive=True)
        rows = con.sql(
            f"select platform, created_date::date as day, count(*) from {rel} group by all"
        ).fetchall()
    return _by_platform(rows), str(settings.posts_dir)


def _by_platform(rows: list[tuple[Any, Any, int]]) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = {}
    for platform, day, n in rows:
        if platform is not None and day is not None:
            out.setdefault(str(platform), {})[day] = int(n)
    return out


def volume_table(
    counts: dict[str, dict[date, int]],
    *,
    as_of: date | None = None,
    baseline_days: int = 7,
    lookback_days: int = 28,
    min_baseline_days: int = 3,
    min_baseline_posts: float = 10,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Per platform: posts on ``as_of`` against the median of its trailing baseline.

    ``as_of`` defaults to the latest day with posts on any platform, so a platform that stopped
    arriving altogether counts 0 that day. The baseline is the median daily count of the platform's
    ``baseline_days`` most recent days with posts before ``as_of`` and within ``lookback_days`` of it.
    Platforms with fewer than ``min_baseline_days`` such days, or a baseline median below
    ``min_baseline_posts``, are not judged (too little history to tell noise from breakage).
    """
    notes: list[str] = []
    days = [d for per in counts.values() for d in per]
    if not days:
        return [], ["no posts to count"]
    as_of = as_of or max(days)
    rows = []
    for platform in sorted(counts):
        per = counts[platform]
        prior = sorted((d for d in per if as_of - timedelta(days=lookback_days) <= d < as_of), reverse=True)[
            :baseline_days
        ]
        if len(prior) < min_baseline_days:
            notes.append(
                f"{platform}: {len(prior)} day(s) of history before {as_of}, "
                f"need {min_baseline_days}; not judged"
            )
            continue
        baseline = float(statistics.median(per[d] for d in prior))
        if baseline < min_baseline_posts:
            notes.append(
                f"{platform}: baseline median {baseline:g} posts/day is below "
                f"{min_baseline_posts:g}; not judged"
            )
            continue
        posts = per.get(as_of, 0)
        rows.append(
            {
                "platform": platform,
                "day": as_of.isoformat(),
                "posts": posts,
                "baseline_median": baseline,
                "baseline_days": len(prior),
                "baseline_from": min(prior).isoformat(),
                "relative_change": round((posts - baseline) / baseline, 6),
            }
        )
    return rows, notes


def check_volume(
    settings: Settings,
    db_path: Path | None = None,
    *,
    as_of: date | None = None,
    run_id: str | None = None,
) -> GateResult:
    """Warn when a platform's daily volume drops or jumps sharply against its trailing baseline.

    With ``t = settings.volume_change_threshold`` and ``change = (posts - baseline) / baseline``, a
    platform is flagged when ``|change| > t``: for t = 0.8, fewer than 20 % or more than 180 % of the
    baseline median (see ``volume_table`` for the day and the baseline). Severity ``warning``: it
    alerts, it never blocks publish. Note the latest day may be incomplete when an export was cut
    mid-day; that shows as a drop.
    """
    import pandas as pd

    t0 = time.perf_counter()
    counts, source = daily_counts(settings, db_path)
    rows, notes = volume_table(counts, as_of=as_of)
    threshold = float(settings.volume_change_threshold)
    checked = {
        "source": source,
        "threshold": threshold,
        "as_of": rows[0]["day"] if rows else (as_of.isoformat() if as_of else None),
        "platforms": rows,
    }
    if not rows:
        return _nothing_to_validate(
            settings,
            "volume",
            suites.VOLUME_SUITE,
            "no platform has enough history to judge its volume",
            checked,
            notes,
        )
    frame = pd.DataFrame(rows)
    suite = suites.volume_suite()
    result = _validate(
        settings,
        "volume",
        frame,
        suite=suite,
        key_columns=["platform", "day", "posts", "baseline_median"],
        parameters={"min_relative_change": -threshold, "max_relative_change": threshold},
        missing=[],
        relation=source,
        notes=notes,
        checked=checked,
        run_id=run_id,
        load_seconds=time.perf_counter() - t0,
    )
    flagged = {r["platform"]: r for r in rows if abs(r["relative_change"]) > threshold}
    for f in result.failures:
        if f["column"] == "relative_change" and flagged:
            f["message"] = "; ".join(
                f"{p}: {r['posts']:,} posts on {r['day']} vs baseline median "
                f"{r['baseline_median']:g} ({r['relative_change']:+.0%})"
                for p, r in flagged.items()
            )
            f["expected"] = (
                f"within ±{threshold:.0%} of the trailing median "
                f"({1 - threshold:.0%}–{1 + threshold:.0%} of baseline)"
            )
    return result
