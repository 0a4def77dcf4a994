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
