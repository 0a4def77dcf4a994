"""The GX gates on small lakes and marts built in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from builders import BASE_DAY, good_batch, post_row, write_batch, write_marts

from quality.gates import run_marts_gate, run_raw_gate

pytestmark = pytest.mark.integration

GOOD = "aaaaaaaaaaaaaaaaaaa1"
BAD = "bbbbbbbbbbbbbbbbbbb2"


def by_key(result, expectation, column):
    hits = [f for f in result.failures if f["expectation"] == expectation and f["column"] == column]
    found = [(f["expectation"], f["column"]) for f in result.failures]
    assert hits, f"no failure {expectation} on {column}: {found}"
    return hits[0]


def test_raw_gate_passes_on_a_good_batch_and_writes_data_docs(settings):
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    result = run_raw_gate(settings, [GOOD])

    assert result.success, result.failures
    assert result.stage == "raw" and result.severity == "error" and not result.blocking
    assert result.statistics["row_count"] == 41
    assert result.statistics["evaluated_expectations"] == result.statistics["successful_expectations"]
    assert result.statistics["evaluated_expectations"] >= 15
    assert result.checked["batch_ids"] == [GOOD]
    # Data Docs live under the home, at the configured directory.
    index = Path(result.data_docs_path)
    assert index == settings.data_docs_dir / "index.html" and index.is_file()
    assert Path(result.validation_page).is_file()
    assert settings.home in Path(result.validation_page).parents
    assert "raw_posts" in index.read_text()
    # Only the columns the suite needs (plus the key columns) were loaded.
    assert "raw" not in result.statistics["columns"]
    assert "hashtags" not in result.statistics["columns"]
    json.dumps(result.to_dict())


def test_raw_gate_allows_the_same_post_in_two_batches(settings):
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    write_batch(settings.posts_dir, BAD, good_batch(BAD))  # the same posts re-exported
    result = run_raw_gate(settings)  # None: the whole lake

    assert result.success, result.failures
    assert result.statistics["row_count"] == 82


def test_raw_gate_with_nothing_to_validate_succeeds_with_a_note(settings):
    result = run_raw_gate(settings, [])
    assert result.success and result.statistics["row_count"] == 0
    assert any("nothing to validate" in n for n in result.notes)

    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    result = run_raw_gate(settings, ["cccccccccccccccccccc"])
    assert result.success and result.statistics["row_count"] == 0
    assert any("cccccccccccccccccccc" in n for n in result.notes)


def test_raw_gate_names_each_broken_expectation_with_observed_values_and_rows(settings):
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    rows = good_batch(BAD, n=12)
    rows[3]["post_uid"] = rows[4]["post_uid"] = "x:dup"
    rows[3]["post_id"] = rows[4]["post_id"] = "dup"
    rows[3]["platform"] = rows[4]["platform"] = "x"
    rows[5]["created_at"] = None
    rows[6].update(platform="myspace", post_uid="myspace:" + rows[6]["post_id"])
    rows[7].update(like_count=-5, platform="x", post_uid="x:" + rows[7]["post_id"])
    rows[8]["created_at"] = datetime(1999, 12, 31, tzinfo=UTC)
    rows[9]["kind"] = "tweet"
    rows[10]["text"] = None
    rows[11]["post_uid"] = "x:not-the-same-id"
    write_batch(settings.posts_dir, BAD, rows)

    result = run_raw_gate(settings, [BAD])

    assert not result.success and result.blocking and result.severity == "error"
    assert result.checked["batch_ids"] == [BAD]  # the good batch was not read
    dup = by_key(result, "expect_compound_columns_to_be_unique", "batch_id,post_uid")
    assert dup["observed"]["unexpected_count"] == 2
    assert {r["source_record"] for r in dup["sample_rows"]} == {3, 4}
    assert all(r["post_uid"] == "x:dup" for r in dup["sample_rows"])

    null_ts = by_key(result, "expect_column_values_to_not_be_null", "created_at")
    assert null_ts["observed"]["unexpected_count"] == 1 and null_ts["expected"] == "not null"
    assert null_ts["sample_rows"] == [
        {
            "created_at": None,
            "post_uid": rows[5]["post_uid"],
            "source_file": rows[5]["source_file"],
            "source_record": 5,
        }
    ]

    platform = by_key(result, "expect_column_values_to_be_in_set", "platform")
    assert platform["observed"]["unexpected_values"] == [{"value": "myspace", "count": 1}]
    assert platform["expected"].startswith("in {x, reddit, mastodon")
    assert platform["sample_rows"][0]["platform"] == "myspace"
    assert platform["sample_rows"][0]["source_record"] == 6

    likes = by_key(result, "expect_column_values_to_be_between", "like_count")
    assert likes["observed"]["unexpected_values"][0]["value"] == -5
    assert likes["expected"].startswith("≥ 0 unless platform = 'reddit'")

    old = by_key(result, "expect_column_values_to_be_between", "created_at")
    assert old["observed"]["unexpected_count"] == 1
    assert old["sample_rows"][0]["source_record"] == 8

    kind = by_key(result, "expect_column_values_to_be_in_set", "kind")
    assert kind["observed"]["unexpected_values"][0]["value"] == "tweet"

    text = by_key(result, "expect_column_values_to_not_be_null", "text")
    assert text["sample_rows"][0]["source_record"] == 10

    uid = by_key(result, "expect_column_pair_values_to_be_equal", "post_uid,uid_from_parts")
    assert uid["sample_rows"][0]["post_uid"] == "x:not-the-same-id"
    assert uid["expected"] == "post_uid = platform || ':' || post_id"

    failed = {(f["expectation"], f["column"]) for f in result.failures}
    assert ("expect_column_values_to_not_be_null", "author_key") not in failed
    assert ("expect_column_values_to_not_be_null", "post_uid") not in failed
    # Failures keep the suite's order and all are blocking.
    assert result.failures[0]["column"] == "batch_id,post_uid"
    assert {f["severity"] for f in result.failures} == {"error"}


def test_raw_gate_flags_timestamps_in_the_future(settings):
    rows = good_batch(BAD, n=3)
    rows[0]["created_at"] = datetime.now(UTC) + timedelta(days=3)
    write_batch(settings.posts_dir, BAD, rows)
    result = run_raw_gate(settings, [BAD])
    f = by_key(result, "expect_column_values_to_be_between", "created_at")
    assert f["sample_rows"][0]["source_record"] == 0


def test_rerunning_is_idempotent(settings):
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    first = run_raw_gate(settings, [GOOD], run_id="run-1")
    second = run_raw_gate(settings, [GOOD], run_id="run-2")
    assert first.success and second.success
    assert first.validation_page != second.validation_page
    assert "run-2" in second.validation_page

    cfg = yaml.safe_load((settings.gx_dir / "great_expectations.yml").read_text())
    assert list(cfg["data_docs_sites"]) == ["local_site"]
    assert cfg["data_docs_sites"]["local_site"]["store_backend"]["base_directory"] == "data_docs/"
    assert cfg["progress_bars"] == {"globally": False, "metric_calculations": False}
    assert [p.name for p in (settings.gx_dir / "expectations").glob("*.json")] == ["raw_posts.json"]
    assert len(list((settings.gx_dir / "validation_definitions").glob("*"))) == 1
    assert len(list((settings.gx_dir / "checkpoints").glob("*"))) == 1


def test_marts_gate_passes_on_good_marts(settings):
    db = write_marts(settings.build_warehouse)
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    result = run_marts_gate(settings, db)
    assert result.success, result.failures
    assert result.stage == "marts" and result.statistics["row_count"] == 30
    assert Path(result.data_docs_path).is_file()


def _marts_rows(n=12):
    rows = []
    for i in range(n):
        rows.append(
            {
                "post_uid": f"x:{i}",
                "platform": "x",
                "post_id": str(i),
                "created_at": BASE_DAY + timedelta(hours=i),
                "kind": "post",
                "text": "t",
                "source_file": "x.jsonl",
                "source_record": i,
                "lang": "id",
                "sentiment_score": 0.1,
                "sentiment_label": "neutral",
                "topics": ["careers"],
                "primary_topic": "careers",
                "misinfo_risk_score": 0.2,
                "misinfo_risk_level": "low",
                "misinfo_reasons": [],
            }
        )
    return rows


def test_marts_gate_fails_on_out_of_range_scores_and_duplicates(settings):
    rows = _marts_rows()
    rows[2]["sentiment_score"] = 3.5
    rows[3]["post_uid"] = rows[4]["post_uid"] = "x:dup"
    rows[5]["sentiment_label"] = "meh"
    rows[6]["misinfo_risk_score"] = -0.5
    rows[7]["misinfo_risk_level"] = "extreme"
    rows[8]["primary_topic"] = "astrology"
    rows[9]["lang"] = None
    rows[10]["primary_topic"] = "personal_branding"  # a real topic, but not among its topics
    db = write_marts(settings.build_warehouse, rows)

    result = run_marts_gate(settings, db)

    assert not result.success and result.blocking
    score = by_key(result, "expect_column_values_to_be_between", "sentiment_score")
    assert score["expected"] == "between -1 and 1"
    assert score["observed"]["unexpected_values"] == [{"value": 3.5, "count": 1}]
    assert score["observed"]["element_count"] == 12
    assert score["sample_rows"] == [
        {"sentiment_score": 3.5, "post_uid": "x:2", "source_file": "x.jsonl", "source_record": 2}
    ]
    dup = by_key(result, "expect_column_values_to_be_unique", "post_uid")
    assert dup["observed"]["unexpected_count"] == 2
    assert {r["source_record"] for r in dup["sample_rows"]} == {3, 4}
    label = by_key(result, "expect_column_values_to_be_in_set", "sentiment_label")
    assert label["expected"] == "in {negative, neutral, positive}"
    by_key(result, "expect_column_values_to_be_between", "misinfo_risk_score")
    by_key(result, "expect_column_values_to_be_in_set", "misinfo_risk_level")
    topic = by_key(result, "expect_column_values_to_be_in_set", "primary_topic")
    assert topic["observed"]["unexpected_values"][0]["value"] == "astrology"
    assert by_key(result, "expect_column_values_to_not_be_null", "lang")["severity"] == "error"
    consistency = by_key(result, "expect_column_values_to_be_in_set", "primary_topic_in_topics")
    assert consistency["severity"] == "warning"
    assert {r["source_record"] for r in consistency["sample_rows"]} == {8, 10}


def test_marts_gate_warning_only_does_not_block(settings):
    rows = _marts_rows()
    rows[1]["lang"] = "Indonesian"  # present but not a code: a warning
    db = write_marts(settings.build_warehouse, rows)
    result = run_marts_gate(settings, db)
    assert not result.success
    assert result.severity == "warning" and not result.blocking
    assert [f["column"] for f in result.failures] == ["lang"]


def test_marts_gate_reports_missing_database_table_and_columns(settings):
    result = run_marts_gate(settings, settings.build_warehouse)
    assert result.blocking
    assert result.failures[0]["expectation"] == "expect_table_to_exist"
    assert "does not exist" in result.failures[0]["observed"]["error"]

    import duckdb

    settings.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.build_warehouse)) as con:
        con.execute("create schema marts; create table marts.other as select 1 as x")
    result = run_marts_gate(settings, settings.build_warehouse)
    assert result.blocking and "marts.posts is missing" in result.failures[0]["message"]

    with duckdb.connect(str(settings.build_warehouse)) as con:
        con.execute(
            "create table marts.posts as select 'x:1' as post_uid, 'x' as platform, "
            "'1' as post_id, now() as created_at, 'id' as lang"
        )
    result = run_marts_gate(settings, settings.build_warehouse)
    assert result.blocking
    missing = by_key(result, "expect_column_values_to_be_between", "sentiment_score")
    assert "missing" in missing["observed"]["error"]
    assert any("sentiment_score" in n for n in result.notes)
    assert any("marts.topics" in n for n in result.notes)


def test_marts_gate_requires_rows_only_when_the_lake_has_posts(settings):
    db = write_marts(settings.build_warehouse, rows=[])
    assert run_marts_gate(settings, db).success  # empty lake, empty marts

    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    result = run_marts_gate(settings, db)
    assert result.blocking
    count = by_key(result, "expect_table_row_count_to_be_between", None)
    assert count["observed"] == {"observed_value": 0}
    assert count["expected"] == "at least one row when the lake has posts"


def test_marts_database_is_opened_read_only(settings):
    db = write_marts(settings.build_warehouse)
    before = db.stat().st_mtime_ns
    run_marts_gate(settings, db)
    assert db.stat().st_mtime_ns == before
    assert not Path(str(db) + ".wal").exists()


def test_gx_output_is_quiet(settings, tmp_path):
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    code = (
        "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from discourse.settings import load_settings\n"
        "from quality.gates import run_raw_gate\n"
        f"r = run_raw_gate(load_settings(env={{}}, home={str(settings.home)!r}))\n"
        "assert r.success, r.failures\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "Calculating Metrics" not in out
    assert "Skipping registering" not in out
    assert "great_expectations" not in out


def test_importing_the_package_stays_light(tmp_path):
    code = (
        "import sys\n"
        "import quality, quality.suites, quality.context, quality.frames, quality.failures\n"
        "import quality.gates, quality.volume, quality.alerts\n"
        "heavy = [m for m in ('great_expectations', 'pandas', 'duckdb', 'pyarrow') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_post_row_helper_matches_the_lake_schema():
    # Guard for the fixtures themselves: every POST_SCHEMA column is filled.
    from ingest.schema import POST_SCHEMA

    row = post_row("x", "1", BASE_DAY, GOOD, 0)
    assert set(row) == set(POST_SCHEMA.names)


def test_marts_gate_works_while_this_process_holds_the_file_open(settings):
    # `discourse run` builds with dbt in-process, which can leave the file open read-write.
    import duckdb

    db = write_marts(settings.build_warehouse)
    with duckdb.connect(str(db)) as held:
        held.execute("select 1").fetchall()
        result = run_marts_gate(settings, db)
    assert result.success, result.failures


def test_marts_gate_runs_every_analyst_marts_suite(settings):
    from quality import suites

    db = write_marts(settings.build_warehouse)
    write_batch(settings.posts_dir, GOOD, good_batch(GOOD))
    result = run_marts_gate(settings, db, run_id="run-analyst")
    assert result.success, result.failures
    frames = result.statistics["frames"]
    assert set(frames) == {"marts.posts", *suites.ANALYST_MARTS}
    assert frames["marts.posts"]["row_count"] == 30 and frames["marts.riskiest_domains"]["row_count"] == 2
    stored = {p.stem for p in (settings.gx_dir / "expectations").glob("*.json")}
    assert stored == {suites.MARTS_SUITE, *(name for name, _ in suites.ANALYST_MARTS.values())}
    pages = result.checked["validation_pages"]
    assert set(pages) == {suites.MARTS_SUITE, *(name for name, _ in suites.ANALYST_MARTS.values())}
    assert all(Path(p).is_file() for p in pages.values())
    # each evaluated expectation of every suite counts
    assert result.statistics["evaluated_expectations"] == sum(
        len(s.expectations) for s in (suites.marts_posts_suite(),
                                      *(suites.analyst_mart_suite(r) for r in suites.ANALYST_MARTS)))


def test_marts_gate_blocks_on_a_broken_analyst_mart_naming_it(settings):
    import duckdb

    db = write_marts(settings.build_warehouse)
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.negative_share_daily set negative_share = 1.5 "
                    "where topic_id = 'careers'")
        con.execute("update marts.top_authors set engagement_rank = 1")
    result = run_marts_gate(settings, db)
    assert result.blocking
    share = by_key(result, "expect_column_values_to_be_between", "negative_share")
    assert share["relation"] == "marts.negative_share_daily"
    assert share["observed"]["unexpected_values"][0]["value"] == 1.5
    rank = by_key(result, "expect_column_values_to_be_unique", "engagement_rank")
    assert rank["relation"] == "marts.top_authors"
    assert any("marts.negative_share_daily" in n and "marts.top_authors" in n for n in result.notes)
    assert "marts_negative_share_daily" in result.validation_page
    # marts.posts itself passed: its failures carry its relation only when it fails
    assert all(f["relation"] != "marts.posts" for f in result.failures)


def test_marts_gate_blocks_when_an_analyst_mart_is_missing(settings):
    from quality import suites

    db = write_marts(settings.build_warehouse, analyst=False)
    result = run_marts_gate(settings, db)
    assert result.blocking
    missing = [f for f in result.failures if f["expectation"] == "expect_table_to_exist"]
    assert sorted(f["relation"] for f in missing) == sorted(suites.ANALYST_MARTS)
    assert all("is missing from" in f["message"] for f in missing)
