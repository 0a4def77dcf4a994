"""The marts gate after an incremental build validates only the posts it rewrote, and everything
again whenever an earlier build's rows were not validated (``quality.posts_scope``)."""

from __future__ import annotations

import duckdb
import pytest
from builders import good_batch, write_batch, write_marts

from quality import posts_scope
from quality.gates import run_marts_gate

pytestmark = pytest.mark.integration  # real GX checkpoints on a real DuckDB file

GOOD = "aaaaaaaaaaaaaaaaaaa1"


def _warehouse(settings, affected: list[str]):
    """Good marts, one post out of range (x:1003's sentiment_score), and the affected posts."""
    db = write_marts(settings.build_warehouse)
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    con = duckdb.connect(str(db))
    try:
        con.execute("update marts.posts set sentiment_score = 7 where post_uid = 'x:1003'")
        con.execute("create schema if not exists intermediate")
        con.execute("create or replace table intermediate.int_posts_affected (post_uid varchar)")
        for uid in affected:
            con.execute("insert into intermediate.int_posts_affected values (?)", [uid])
    finally:
        con.close()
    return db


def _night(settings, *, incremental: bool) -> str:
    before = posts_scope.begin_build(settings)
    return posts_scope.record_build(settings, affected_only=incremental, validated_before=before)


def test_an_incremental_build_after_a_validated_one_checks_only_its_rows(settings):
    db = _warehouse(settings, ["x:1000", "x:1001"])
    assert _night(settings, incremental=False) == posts_scope.ALL
    full = run_marts_gate(settings, db)
    assert not full.success  # the bad row is seen by the gate over every row
    assert full.checked["scope"] == "all" and full.statistics["row_count"] == 30

    # That gate failed: the next incremental build's gate still checks every row.
    assert _night(settings, incremental=True) == posts_scope.ALL
    assert not run_marts_gate(settings, db).success

    # Repaired, validated in full; then an incremental night checks its two rows only.
    con = duckdb.connect(str(db))
    con.execute("update marts.posts set sentiment_score = 0.5 where post_uid = 'x:1003'")
    con.close()
    _night(settings, incremental=False)
    assert run_marts_gate(settings, db).success
    assert _night(settings, incremental=True) == posts_scope.AFFECTED
    scoped = run_marts_gate(settings, db)
    assert scoped.success
    assert scoped.checked["scope"] == "affected"
    assert scoped.checked["rows_validated"] == 2 and scoped.checked["rows_in_table"] == 30
    assert scoped.statistics["row_count"] == 2
    assert any("rewrote" in n for n in scoped.notes)


def test_a_bad_rewritten_row_fails_the_scoped_gate(settings):
    db = _warehouse(settings, ["x:1003"])
    con = duckdb.connect(str(db))
    con.execute("update marts.posts set sentiment_score = 0.5 where post_uid = 'x:1003'")
    con.close()
    _night(settings, incremental=False)
    assert run_marts_gate(settings, db).success
    con = duckdb.connect(str(db))
    con.execute("update marts.posts set sentiment_score = 7 where post_uid = 'x:1003'")
    con.close()
    assert _night(settings, incremental=True) == posts_scope.AFFECTED
    result = run_marts_gate(settings, db)
    assert not result.success
    assert result.checked["rows_validated"] == 1
    assert any(f.get("column") == "sentiment_score" for f in result.failures)
    # ... and the gate that failed leaves the next build's gate checking everything
    assert _night(settings, incremental=True) == posts_scope.ALL
