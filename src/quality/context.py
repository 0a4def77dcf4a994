"""The Great Expectations project the gates run in: context, Data Docs site, lock, checkpoints.

Runs use a file-backed GX context under ``settings.gx_dir`` with one pandas datasource and, per
stage, one dataframe asset, batch definition, ``ValidationDefinition`` and ``Checkpoint`` (all
add-or-update, so re-running is idempotent). The checkpoint's action updates Data Docs under
``settings.data_docs_dir``. ``run_checkpoint`` does all of that under ``gx_lock`` and validates one
in-memory frame; turning its result into a ``GateResult`` is ``quality.gates``' job.

The one GX internal touched here is ``pandas_execution_engine.HASH_THRESHOLD`` (see
``unfingerprinted_batches``); ``tests/quality/test_context.py`` fails when GX's behaviour around it
changes.

GX writes its files in place (``open(path, "w")`` then write), so a process killed inside a write
leaves an empty or truncated ``great_expectations.yml`` or store JSON, and every later context fails
(``InvalidDataContextConfigError``). No crash may need a human (``docs/recovery.md``), so:

* after every checkpoint run the project config is copied, atomically, to
  ``great_expectations.yml.last-good``;
* ``.writing`` marks the span in which GX writes; it is removed when the checkpoint run is done;
* ``repair_project`` runs before every context (under ``gx_lock``): an unreadable project config is
  replaced by the last good copy (or set aside, so GX scaffolds a fresh one that ``gx_context`` and
  ``stage_checkpoint`` configure again); after a crash (``.writing`` left behind) every store JSON
  that no longer parses is set aside as ``<name>.corrupt-<time>`` (GX re-creates suites, validation
  definitions and checkpoints on the next add-or-update; a lost validation result only loses its
  Data Docs page) and Data Docs are rebuilt.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from ingest.crashpoint import crash_point
from quality import suites

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

    from discourse.settings import Settings

log = logging.getLogger(__name__)

DATASOURCE = "discourse_frames"
DOCS_SITE = "local_site"
PARTIAL_UNEXPECTED = 10  # values GX keeps per failing expectation (the alert shows failures.SAMPLE_ROWS)
GX_YML = "great_expectations.yml"
LAST_GOOD = GX_YML + ".last-good"
WRITING = ".writing"


@contextmanager
def gx_lock(settings: Settings) -> Iterator[None]:
    """One process at a time edits the GX project files (great_expectations.yml, stores, docs)."""
    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.gx_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _config_ok(path: Path) -> bool:
    """Whether ``path`` is a readable GX project config (a YAML mapping with a ``config_version``)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("config_version") is not None


def _set_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    os.replace(path, aside)
    log.warning("%s was unreadable (a crash inside a write?): set aside as %s", path, aside.name)
    return aside


def _atomic_copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    data = src.read_bytes()
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dest)


def repair_project(settings: Settings) -> list[str]:
    """Undo what a crash inside a GX write left (see the module doc). Call under ``gx_lock``.

    Returns what was repaired, one line each (empty when the project was sound)."""
    gx_dir = Path(settings.gx_dir)
    done: list[str] = []
    yml = gx_dir / GX_YML
    good = gx_dir / LAST_GOOD
    if yml.exists() and not _config_ok(yml):
        aside = _set_aside(yml)
        if good.exists() and _config_ok(good):
            _atomic_copy(good, yml)
            done.append(f"{GX_YML}: unreadable, set aside as {aside.name}; restored from {LAST_GOOD}")
        else:
            done.append(f"{GX_YML}: unreadable, set aside as {aside.name}; GX creates a fresh one")
    if (gx_dir / WRITING).exists():
        docs = Path(settings.data_docs_dir)
        for path in sorted(gx_dir.rglob("*.json")):
            if docs in path.parents:
                continue
            try:
                json.loads(path.read_bytes())
            except (OSError, ValueError):
                aside = _set_aside(path)
                done.append(f"{path.relative_to(gx_dir)}: unreadable, set aside as {aside.name}")
    return done


@contextmanager
def _writing(settings: Settings) -> Iterator[None]:
    """Mark the span in which GX writes its stores; on success keep a copy of the good config."""
    gx_dir = Path(settings.gx_dir)
    marker = gx_dir / WRITING
    marker.touch()
    yield
    yml = gx_dir / GX_YML
    if yml.exists() and _config_ok(yml):
        _atomic_copy(yml, gx_dir / LAST_GOOD)
    marker.unlink(missing_ok=True)


def _fault_truncate(path: Path, point: str) -> None:
    """Crash trials only (``DISCOURSE_CRASH_AT=<point>``): when this is the hit that kills, first do
    what GX's in-place write does first (truncate the file), as a kill -9 inside that write would."""

    def truncate() -> None:
        if path.exists():
            with open(path, "w", encoding="utf-8"):
                pass

    crash_point(point, before_kill=truncate)


def validations_dir(settings: Settings) -> Path:
    """Where GX's validation results store keeps its JSON (``<suite>/<run>/<run time>/<batch>.json``)."""
    return Path(settings.gx_dir) / "uncommitted" / "validations"


def prune_validations(settings: Settings, suite_name: str, keep: int) -> int:
    """Keep the validation results of ``suite_name``'s last ``keep`` runs, and their Data Docs pages;
    delete the older ones. Returns how many runs went. Call under ``gx_lock``.

    Every night adds a result per checkpoint, and GX rebuilds the Data Docs index from every result in
    the store at each checkpoint: with 300 nights kept, one checkpoint's Data Docs took 9.9 s instead
    of 1.8 s. Runs are ordered by their newest run time (GX's ``<run time>`` folder, an ISO-8601
    stamp); the run alerts and run records name are never the pruned ones (they are the newest).
    """
    keep = max(0, int(keep))
    root = validations_dir(settings) / suite_name
    if not root.is_dir():
        return 0
    runs = []
    for run in root.iterdir():
        if run.is_dir():
            stamps = [t.name for t in run.iterdir() if t.is_dir()]
            runs.append((max(stamps, default=""), run.name))
    runs.sort()
    old = runs[:len(runs) - keep]
    pages = Path(settings.data_docs_dir) / "validations" / suite_name
    for _, name in old:
        shutil.rmtree(root / name, ignore_errors=True)
        shutil.rmtree(pages / name, ignore_errors=True)
    return len(old)


def docs_site_config(settings: Settings) -> dict[str, Any]:
    """The Data Docs site config: a local site under ``settings.data_docs_dir``, no how-to buttons."""
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
    ``gx_lock``; repeated calls only rewrite the config when it differs.
    """
    gx = suites.import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    repaired = repair_project(settings)
    ctx = gx.get_context(mode="file", context_root_dir=str(settings.gx_dir))
    site = docs_site_config(settings)
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
    if repaired:
        try:  # pages of results set aside, or half-written, are rebuilt from what is left
            ctx.build_data_docs(site_names=[DOCS_SITE])
        except Exception as exc:  # noqa: BLE001 - Data Docs are a view; the gate itself goes on
            log.warning("rebuilding Data Docs after a crash failed: %s", exc)
    return ctx


def stage_checkpoint(
    ctx: Any, stage: str, suite: gx.ExpectationSuite, key_columns: list[str]
) -> tuple[Any, gx.ExpectationSuite]:
    """Add-or-update the stage's suite, asset, batch definition, validation definition, checkpoint.

    Returns the checkpoint and the suite as stored (its expectations carry GX ids).
    """
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


@contextmanager
def unfingerprinted_batches() -> Iterator[None]:
    """Keep GX from fingerprinting the frames validated inside this block.

    GX 1.24's ``PandasExecutionEngine.get_batch_data_and_markers`` hashes every frame whose shallow
    ``memory_usage()`` is below its module constant ``HASH_THRESHOLD`` (1e9 bytes) with
    ``pd.util.hash_pandas_object`` (falling back to pickling the whole frame when a value is
    unhashable), only to store the digest as the ``pandas_data_fingerprint`` batch marker in the
    validation result. Every batch goes through that method: the dataframe asset's ``get_batch``
    calls it unconditionally, and neither the datasource, the asset, its batch definition, the batch
    parameters nor the engine's config has a switch for it. So the only lever is the constant.

    Without this: the results and Data Docs are the same except for that marker, but a 1M-row raw
    frame (16 columns) costs 2-4.5 s more per validation on a shared 2-core machine, about as much
    as the validation itself. Nothing here reads the fingerprint: ``GateResult.checked`` says what
    was read.

    The override is scoped to the block (the previous value is restored) and only applied while
    ``gx_lock`` is held, so gates in one process never interleave. If a GX release drops the
    constant, this logs a warning and validates anyway (slower); ``tests/quality/test_context.py``
    fails first.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    if not hasattr(engine, "HASH_THRESHOLD"):
        log.warning("great_expectations has no pandas HASH_THRESHOLD any more: frames are fingerprinted")
        yield
        return
    saved = engine.HASH_THRESHOLD
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = saved


@dataclass
class CheckpointRun:
    """One stage's checkpoint run: GX's validation result, the suite as stored, its Data Docs page."""

    result: Any  # ExpectationSuiteValidationResult
    suite: gx.ExpectationSuite
    validation_page: str | None


def run_checkpoint(
    settings: Settings,
    stage: str,
    frame: pd.DataFrame,
    *,
    suite: gx.ExpectationSuite,
    key_columns: list[str],
    parameters: dict[str, Any],
    run_id: str | None,
) -> CheckpointRun:
    """Validate ``frame`` against ``suite`` through the stage's checkpoint (updating Data Docs)."""
    suites.import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    gx_dir = Path(settings.gx_dir)
    with gx_lock(settings):
        ctx = gx_context(settings)
        with _writing(settings):
            # the store-write fault truncates a suite the checkpoint re-reads: a crash there is caught
            # by ``repair_project`` on the next run; ``config-write`` truncates the project config
            _fault_truncate(gx_dir / GX_YML, f"gx.{stage}.config-write")
            checkpoint, saved = stage_checkpoint(ctx, stage, suite, key_columns)
            suite_files = sorted((gx_dir / "expectations").glob("*.json"))
            _fault_truncate(suite_files[0] if suite_files else gx_dir / "none", f"gx.{stage}.store-write")
            # this run adds one: the store keeps the last `gx_keep_runs`
            prune_validations(settings, suite.name, max(1, int(getattr(settings, "gx_keep_runs", 30))) - 1)
            with unfingerprinted_batches():
                cp_result = checkpoint.run(
                    batch_parameters={"dataframe": frame},
                    expectation_parameters=parameters,
                    run_id=RunIdentifier(run_name=run_id) if run_id else None,
                )
            _forget_frames(checkpoint)
            crash_point(f"gx.{stage}.validated")
            (vri, vr), *_ = cp_result.run_results.items()
            urls = ctx.get_docs_sites_urls(resource_identifier=vri, site_name=DOCS_SITE)
            from quality.datadocs import localize_after_build  # the pages render offline

            localize_after_build(settings)
    page = _file_url_to_path(urls[0].get("site_url")) if urls else None
    return CheckpointRun(result=vr, suite=saved, validation_page=page)


def _forget_frames(checkpoint: Any) -> None:
    """Drop the validated frame from GX's batch caches. The pandas datasource's execution engine keeps
    the last batch it loaded for as long as the context lives, and the file context lives for the
    process: after a gate of a million-row part, about 1 GB stayed held through the dbt build."""
    for vd in checkpoint.validation_definitions:
        engine = vd.data.data_asset.datasource.execution_engine
        if engine is not None:
            engine.batch_manager.reset_batch_cache()
            engine.batch_manager.batch_data_cache.clear()


def _file_url_to_path(url: str | None) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else url


def data_docs_index(settings: Settings) -> str | None:
    """The Data Docs index page, once a checkpoint has written it."""
    p = settings.data_docs_dir / "index.html"
    return str(p) if p.exists() else None
