"""A corrupted batch fails the raw gate: it is set aside with its reasons, the good batch beside it is
published in the same run, and the maintainers' webhook receives an alert that names the batch, its
file, what failed and what happens next."""

from __future__ import annotations

import csv

import duckdb
import pytest
from servers import HttpReceiver

from discourse.pipeline import run
from discourse.settings import load_settings
from ingest.lake import read_manifests

pytestmark = [pytest.mark.e2e]


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "created_at", "author", "lang", "url"])
        w.writerows(rows)


def test_corrupted_batch_blocks_publish_and_alerts(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    good = [(f"g{i}", f"Pelayanan bank ini bagus banget, makasih ya #{i}", f"2026-11-0{1 + i % 5}T10:00:00Z",
             f"user{i % 7}", "id", "") for i in range(40)]
    _write_csv(inbox / "good.csv", good)
    with HttpReceiver() as hook:
        s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "k",
                               "DISCOURSE_ALERT_WEBHOOK_URL": hook.url})
        first = run(s)
        assert first["published"], first.get("failed")
        published_mtime = s.warehouse.stat().st_mtime_ns

        # A batch whose dates are corrupt (decades in the future) parses, but fails the raw gate; a
        # good export arrives the same night.
        bad = [(f"b{i}", f"Promo gila-gilaan cuma hari ini {i}", "2099-01-01T00:00:00Z", f"user{i}", "id", "")
               for i in range(25)]
        _write_csv(inbox / "corrupted.csv", bad)
        more = [(f"m{i}", f"Antrian di kantor pajak lama banget hari ini {i}", "2026-11-06T09:00:00Z",
                 f"user{i % 5}", "id", "") for i in range(10)]
        _write_csv(inbox / "more.csv", more)
        second = run(s)
        requests = hook.wait_for(1, timeout=10)

    # The bad batch does not hold back the good one: the night publishes.
    assert second["published"] is True, second.get("failed")
    assert s.warehouse.stat().st_mtime_ns != published_mtime
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone()[0] == 50
        assert con.execute("select count(*) from marts.posts where post_id like 'b%'").fetchone()[0] == 0
    finally:
        con.close()

    # The failing batch is set aside with the gate's result; the good ones stay in the lake.
    rejected = list((s.lake / "_rejected").iterdir())
    assert len(rejected) == 1 and (rejected[0] / "gate.json").exists()
    assert second["gates"]["raw"]["rejected_batches"] == [rejected[0].name]
    assert sorted(m["source_file"].rsplit("/", 1)[-1] for m in read_manifests(s.manifest_dir)) == [
        "good.csv", "more.csv"]

    body = requests[-1].json()
    text = str(body)
    assert rejected[0].name in text and "corrupted.csv" in text  # the batch and its file
    assert "raw" in text and "created_at" in text
    assert "expect_column_values_to_be_between" in text or "between" in text.lower()
    assert "observed" in text.lower() and "expected" in text.lower()
    assert "tried again" in text and "every night" in text  # what happens next
    assert str(s.data_docs_dir) in text


def test_a_batch_ingested_outside_a_run_is_gated_before_it_is_published(tmp_path):
    """`discourse ingest future.csv && discourse run` must not publish a post dated 2099."""
    from ingest.lake import ingest_file

    home = tmp_path / "home"
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "k"})
    future = tmp_path / "future.csv"
    _write_csv(future, [("f1", "berita dari masa depan", "2099-05-05T00:00:00Z", "u1", "id", "")])
    ingest_file(s, future)
    summary = run(s)
    assert summary["gates"]["raw"]["rejected_batches"]
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone()[0] == 0
    finally:
        con.close()


def test_a_lake_file_that_lost_rows_fails_the_staging_gate_naming_its_batch(tmp_path):
    """Rows vanish from a committed batch's lake file after its manifest was written: the build reads
    the lake as it is, so only the staging gate can tell. It blocks publish and alerts, naming the batch."""
    import json
    from pathlib import Path

    import pyarrow.parquet as pq

    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    good = [(f"g{i}", f"Lowongan kerja remote, personal branding penting #{i}", "2026-11-02T10:00:00Z",
             f"user{i % 7}", "id", "") for i in range(30)]
    _write_csv(inbox / "good.csv", good)
    with HttpReceiver() as hook:
        s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "k",
                               "DISCOURSE_ALERT_WEBHOOK_URL": hook.url})
        first = run(s)
        # A passing night: all three stages gated, each with its Data Docs.
        assert first["published"], first.get("failed")
        for stage in ("raw", "staging", "marts"):
            assert first["gates"][stage]["success"] is True, first["gates"][stage]
        staging = first["gates"]["staging"]
        assert staging["checked"]["lake_posts"] == staging["checked"]["staging_rows"] == 30
        assert staging["checked"]["committed_batches"] == 1
        assert all(p and s.data_docs_dir in Path(p).parents
                   for p in staging["checked"]["validation_pages"].values())
        assert first["steps"].keys() >= {"dbt build", "staging gate", "marts gate"}
        published_mtime = s.warehouse.stat().st_mtime_ns
        alerts_before = len(hook.requests)

        (batch,) = [m["batch_id"] for m in read_manifests(s.manifest_dir)]
        (lake_file,) = list(s.posts_dir.rglob(f"{batch}.parquet"))
        table = pq.read_table(lake_file)
        pq.write_table(table.slice(0, 25), lake_file)  # 5 posts gone, the manifest still says 30

        more = [(f"m{i}", f"Antrian di kantor pajak lama banget hari ini {i}", "2026-11-03T09:00:00Z",
                 f"user{i % 5}", "id", "") for i in range(10)]
        _write_csv(inbox / "more.csv", more)
        second = run(s)
        requests = hook.wait_for(alerts_before + 1, timeout=10)

    assert second["published"] is False
    assert "staging gate failed" in second["failed"]
    assert s.warehouse.stat().st_mtime_ns == published_mtime  # the published marts stay
    gate = second["gates"]["staging"]
    assert gate["blocking"] and gate["checked"]["failing_batches"] == [batch]
    counts = [f for f in gate["failures"] if f["column"] == "manifest_loaded,lake_rows"]
    assert counts and f"batch {batch} (good.csv): manifest loaded 30, its lake files hold 25 rows" in (
        counts[0]["message"])
    assert "marts" not in second["gates"]  # the marts gate never ran
    assert gate["validation_page"] and json.dumps(gate)

    body = str(requests[-1].json())
    assert "staging" in body and batch in body and "good.csv" in body
    assert "manifest loaded 30" in body and str(s.data_docs_dir) in body
