"""A corrupted batch fails the raw gate: publish is skipped, the old marts stay readable, the batch
is set aside, and the maintainers' webhook receives an alert that names what failed."""

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

        # A batch whose dates are corrupt (decades in the future) parses, but fails the raw gate.
        bad = [(f"b{i}", f"Promo gila-gilaan cuma hari ini {i}", "2099-01-01T00:00:00Z", f"user{i}", "id", "")
               for i in range(25)]
        _write_csv(inbox / "corrupted.csv", bad)
        second = run(s)
        requests = hook.wait_for(1, timeout=10)

    assert second["published"] is False
    assert "raw gate failed" in second["failed"]
    assert s.warehouse.stat().st_mtime_ns == published_mtime
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.posts").fetchone()[0] == 40
    finally:
        con.close()

    # The failing batch is set aside, the good one stays in the lake.
    rejected = list((s.lake / "_rejected").iterdir())
    assert len(rejected) == 1 and (rejected[0] / "gate.json").exists()
    assert [m["source_file"].endswith("good.csv") for m in read_manifests(s.manifest_dir)] == [True]

    body = requests[-1].json()
    text = str(body)
    assert "raw" in text and "created_at" in text
    assert "expect_column_values_to_be_between" in text or "between" in text.lower()
    assert "observed" in text.lower() and "expected" in text.lower()
    assert str(s.data_docs_dir) in text
