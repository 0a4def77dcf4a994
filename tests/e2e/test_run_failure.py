"""A run that fails outside the gates (here: a dbt target that does not exist) still alerts once,
names the step and the error, says what stays published, leaves a run record, and exits non-zero."""

from __future__ import annotations

import csv
import json

import pytest
from servers import HttpReceiver

from discourse.cli import main as cli_main

pytestmark = [pytest.mark.e2e]


def test_a_dbt_failure_alerts_and_leaves_a_run_record(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    with open(home / "inbox" / "posts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "created_at", "author"])
        w.writerows([(f"p{i}", f"kerja remote enak banget #{i}", "2026-11-02T10:00:00Z", f"u{i % 3}")
                     for i in range(12)])
    with HttpReceiver() as hook:
        for key, value in {"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "k",
                           "DISCOURSE_ALERT_WEBHOOK_URL": hook.url, "DISCOURSE_DBT_TARGET": "prod"}.items():
            monkeypatch.setenv(key, value)
        rc = cli_main(["run"])
        bodies = [r.body.decode("utf-8", "replace") for r in hook.requests]
    err = capsys.readouterr().err
    assert rc == 1
    assert "dbt build" in err or "TransformError" in err or "prod" in err, err

    records = sorted((home / "runs").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["failed_step"] == "dbt build"
    assert record["published"] is False
    assert record["ingest"] and record["ingest"][0]["loaded"] == 12  # what happened before the failure
    assert "seconds" in record and "finished_at" in record

    alerts = [json.loads(p.read_text()) for p in sorted((home / "alerts").glob("*.json"))]
    run_alerts = [a for a in alerts if a.get("stage") == "run"]
    assert len(run_alerts) == 1
    text = run_alerts[0]["summary"]
    assert record["run_id"] in text and "dbt build" in text and "nothing has been published yet" in text
    assert any(record["run_id"] in b and "dbt build" in b for b in bodies)
