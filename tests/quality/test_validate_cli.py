"""`discourse validate --stage staging`: the staging gate by hand, on the build warehouse."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from test_staging_gate import stage, two_nights

from discourse.cli import main as cli_main


def test_staging_without_a_build_is_a_clear_error(settings, capsys):
    assert cli_main(["--home", str(settings.home), "validate", "--stage", "staging"]) != 0
    err = capsys.readouterr().err
    assert "no build warehouse" in err and str(settings.build_warehouse) in err


@pytest.mark.integration
def test_validate_staging_passes_then_names_the_batch_that_lost_posts(settings, capsys):
    two_nights(settings)
    stage(settings)
    assert cli_main(["--home", str(settings.home), "validate", "--stage", "staging"]) == 0
    assert "staging: passed" in capsys.readouterr().out

    (lake_file, *_) = sorted(settings.posts_dir.rglob("aaaaaaaaaaaaaaaaaaa1.parquet"))
    table = pq.read_table(lake_file)
    pq.write_table(table.slice(0, table.num_rows - 1), lake_file)  # a post gone after the commit
    assert cli_main(["--home", str(settings.home), "validate", "--stage", "staging"]) == 1
    out = capsys.readouterr().out
    assert "staging: FAILED" in out and "manifest_loaded" in out
