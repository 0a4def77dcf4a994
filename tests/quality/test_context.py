"""The GX project set-up, and the one GX internal it touches (``HASH_THRESHOLD``).

If ``test_gx_fingerprints_in_memory_frames_by_default`` fails after a GX upgrade, GX no longer hashes
the frames it is given: drop ``quality.context.unfingerprinted_batches``. If the other two fail, GX
renamed or moved the constant: the gates still work, but spend seconds per million rows hashing.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from quality import suites
from quality.context import DOCS_SITE, gx_context, gx_lock, run_checkpoint, unfingerprinted_batches

FINGERPRINT = "pandas_data_fingerprint"


def _batch_markers(frame: pd.DataFrame) -> dict:
    gx = suites.import_gx()
    ctx = gx.get_context(mode="ephemeral")
    asset = ctx.data_sources.add_pandas("frames").add_dataframe_asset("frame")
    batch_def = asset.add_batch_definition_whole_dataframe("whole_frame")
    return dict(batch_def.get_batch(batch_parameters={"dataframe": frame}).batch_markers)


def _threshold() -> float:
    suites.import_gx()
    from great_expectations.execution_engine import pandas_execution_engine

    return pandas_execution_engine.HASH_THRESHOLD


@pytest.mark.integration  # a real GX checkpoint
def test_gx_fingerprints_in_memory_frames_by_default():
    # The reason for the override: the dataframe asset hashes every frame under 1 GB.
    assert FINGERPRINT in _batch_markers(pd.DataFrame({"x": [1, 2, 3]}))


def test_unfingerprinted_batches_skips_the_hash_and_restores_the_threshold():
    before = _threshold()
    with unfingerprinted_batches():
        markers = _batch_markers(pd.DataFrame({"x": [1, 2, 3]}))
    assert FINGERPRINT not in markers
    assert "ge_load_time" in markers
    assert _threshold() == before


def test_checkpoint_runs_validate_without_fingerprinting(settings):
    frame = pd.DataFrame(
        {"platform": ["x", "reddit"], "day": ["2026-03-01"] * 2, "relative_change": [0.1, -2.0]}
    )
    before = _threshold()
    run = run_checkpoint(
        settings,
        "volume",
        frame,
        suite=suites.volume_suite(),
        key_columns=["platform", "day"],
        parameters={"min_relative_change": -0.8, "max_relative_change": 0.8},
        run_id="ctx-test",
    )
    assert _threshold() == before
    markers = dict(run.result.meta.get("batch_markers") or {})
    assert "ge_load_time" in markers and FINGERPRINT not in markers
    assert not run.result.success
    assert run.suite.expectations and all(e.id for e in run.suite.expectations)
    assert run.validation_page and run.validation_page.endswith(".html")


def test_context_is_configured_once_and_idempotently(settings):
    with gx_lock(settings):
        gx_context(settings)
        config = (settings.gx_dir / "great_expectations.yml").read_text()
        gx_context(settings)
    assert (settings.gx_dir / "great_expectations.yml").read_text() == config
    parsed = yaml.safe_load(config)
    assert list(parsed["data_docs_sites"]) == [DOCS_SITE]
    assert parsed["progress_bars"] == {"globally": False, "metric_calculations": False}


@pytest.mark.integration  # real GX checkpoints and Data Docs
def test_the_store_keeps_the_last_runs_of_each_suite(tmp_path):
    from discourse.settings import load_settings
    from quality.context import validations_dir

    settings = load_settings(env={}, home=str(tmp_path / "home"), gx_keep_runs=2)
    frame = pd.DataFrame({"platform": ["x"], "day": ["2026-03-01"], "relative_change": [0.1]})
    for n in range(4):
        run_checkpoint(settings, "volume", frame, suite=suites.volume_suite(),
                       key_columns=["platform", "day"],
                       parameters={"min_relative_change": -0.8, "max_relative_change": 0.8},
                       run_id=f"night-{n}")
    suite = suites.volume_suite().name
    kept = sorted(p.name for p in (validations_dir(settings) / suite).iterdir())
    assert kept == ["night-2", "night-3"]
    pages = sorted(p.name for p in (settings.data_docs_dir / "validations" / suite).iterdir())
    assert pages == ["night-2", "night-3"]
    index = (settings.data_docs_dir / "index.html").read_text()
    assert "night-3" in index and "night-0" not in index and "night-1" not in index
