"""The inputs digest that lets a night with nothing new skip the build (discourse.transform.state)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from discourse.transform import dbt_project_dir
from discourse.transform.state import inputs_digest, published_inputs, record_published_inputs


def _project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_same_inputs_give_the_same_digest(settings, tmp_path):
    project = _project(tmp_path)
    assert inputs_digest(settings, project)["digest"] == inputs_digest(settings, project)["digest"]


def test_each_input_changes_the_digest(settings, tmp_path):
    project = _project(tmp_path)
    seen = {inputs_digest(settings, project)["digest"]}

    def changed(part: str) -> None:
        d = inputs_digest(settings, project)
        assert d["digest"] not in seen, part
        seen.add(d["digest"])

    settings.manifest_dir.mkdir(parents=True)
    (settings.manifest_dir / "batch-a.json").write_text("{}")
    changed("a new batch")
    (settings.lake / "_rejected" / "batch-a").mkdir(parents=True)
    (settings.lake / "_rejected" / "batch-a" / "gate.json").write_text("{}")
    changed("a rejected batch")
    seeds = project / "seeds" / "topic_keywords.csv"
    seeds.write_text(seeds.read_text() + "\n")
    changed("a seed")
    yml = project / "dbt_project.yml"
    yml.write_text(yml.read_text().replace("topic_min_score: 1.0", "topic_min_score: 1.5"))
    changed("a dbt var")
    settings.reference_dir.mkdir(parents=True)
    (settings.reference_dir / "sentiment_overlay.parquet").write_bytes(b"weights")
    changed("a trained overlay")
    (settings.reference_dir / "sentiment_overlay.parquet").write_bytes(b"other weights")
    changed("a retrained overlay")


def test_run_time_output_is_not_an_input(settings, tmp_path):
    project = _project(tmp_path)
    before = inputs_digest(settings, project)["digest"]
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    (settings.reference_dir).mkdir(parents=True)
    (settings.reference_dir / ".x.parquet.123.tmp").write_bytes(b"half written")
    assert inputs_digest(settings, project)["digest"] == before


def test_recorded_inputs_round_trip(settings, tmp_path):
    assert published_inputs(settings) is None
    d = inputs_digest(settings, _project(tmp_path))
    record_published_inputs(settings, d, "run-1")
    got = published_inputs(settings)
    assert got["digest"] == d["digest"] and got["run_id"] == "run-1"


def test_docs_get_the_vars_of_the_last_build_so_that_dbt_reuses_its_parse(settings):
    """dbt parses the whole project again when the command line's vars differ from the last
    invocation's: ``dbt docs generate`` is given the vars of the build before it, and a build without
    vars forgets them."""
    from discourse.transform.runner import _last_vars, _record_vars, dbt_args, night_batches_file

    assert _last_vars(settings) == []
    (settings.home / "dbt").mkdir(parents=True)
    night = json.dumps({"night_batches": str(night_batches_file(settings))})
    _record_vars(settings, [*dbt_args(settings, "build"), "--vars", night, "--exclude", "x"])
    assert _last_vars(settings) == ["--vars", night]
    _record_vars(settings, [*dbt_args(settings, "build"), "--full-refresh"])
    assert _last_vars(settings) == []
