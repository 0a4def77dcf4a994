"""Alerts people can act on: the batch and file, what happens next, public links, and repeats grouped
into one reminder a day (through the real local HTTP receiver and SMTP server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from quality.alerts import (
    NEXT_BLOCKED,
    NEXT_KEPT,
    NEXT_REJECTED,
    NEXT_RETRIED,
    NEXT_RUN,
    Alert,
    alert_for_task_failure,
    alert_from_gate,
    fingerprint,
    next_step,
    public_link,
    render_text,
    send_alert,
    slack_payload,
)
from quality.gates import GateResult

BATCH = "0f3a9c2b71d4e5a6b7c8"
OTHER = "99aa88bb77cc66dd55ee"
NIGHT1 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def rejected_batch(settings, batch: str = BATCH, when: datetime = NIGHT1, run_id: str = "run-1",
                   unexpected: int = 25) -> Alert:
    """The alert ``pipeline._alert_rejected_batch`` builds for a batch that failed the raw gate."""
    page = settings.data_docs_dir / "validations" / "raw_posts" / run_id / "page.html"
    result = GateResult(
        stage="raw",
        success=False,
        severity="error",
        suite="raw_posts",
        failures=[{
            "expectation": "expect_column_values_to_be_between",
            "column": "created_at",
            "observed": {"unexpected_count": unexpected, "element_count": 25, "unexpected_percent": 100.0},
            "expected": "between 2006-01-01 and one day after the run",
            "severity": "error",
            "sample_rows": [{"created_at": "2099-01-01", "post_uid": "generic:b1",
                             "source_file": "/srv/inbox/corrupted.csv", "source_record": 1}],
        }],
        statistics={"evaluated_expectations": 17, "row_count": 25},
        validation_page=str(page),
    )
    alert = alert_from_gate(result, run_id)
    alert.title = f"raw gate rejected batch {batch} (corrupted.csv)"
    alert.severity = "warning"
    alert.created_at = when.isoformat(timespec="seconds")
    alert.extra = {**alert.extra, "batch_id": batch, "source_file": "/srv/inbox/corrupted.csv",
                   "next": "retried nightly"}
    return alert


def with_docs(settings):
    """A Data Docs index and a report, as a run leaves them."""
    settings.data_docs_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_docs_dir / "index.html").write_text("<html></html>")
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "latest.html").write_text("<html></html>")
    return settings


def records(settings) -> list[dict]:
    """The alert files in the order they were written."""
    paths = sorted(settings.alerts_dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in paths]


# ---------------------------------------------------------------- anatomy


def test_text_names_the_batch_and_file_and_what_happens_next(settings):
    text = render_text(rejected_batch(settings))
    assert f"batch: {BATCH}" in text and "file: corrupted.csv" in text
    assert f"Next: {NEXT_REJECTED}" in text
    payload = slack_payload(rejected_batch(settings))
    head = payload["blocks"][1]["text"]["text"]
    assert BATCH in head and "corrupted.csv" in head and "*Next:* rejected" in head


def test_a_staging_failure_names_its_failing_batches():
    result = GateResult(
        stage="staging", success=False, severity="error",
        failures=[{"expectation": "expect_column_values_to_be_between", "column": "posts_lost",
                   "observed": {"unexpected_count": 1}, "expected": "0", "severity": "error",
                   "sample_rows": [{"batch_id": BATCH, "source_file": "/srv/inbox/good.csv"}]}],
        checked={"failing_batches": [BATCH]},
    )
    alert = alert_from_gate(result, "run-2")
    text = render_text(alert)
    assert f"batch: {BATCH}" in text and "file: good.csv" in text
    assert f"Next: {NEXT_BLOCKED}" in text


def test_every_kind_of_alert_says_what_happens_next(settings):
    ingest = Alert(stage="ingest", title="Ingest failed: x.jsonl", severity="error", summary="boom",
                   extra={"path": "/srv/inbox/x.jsonl", "status": "failed"})
    assert next_step(ingest) == NEXT_RETRIED and "file: x.jsonl" in render_text(ingest)
    volume = Alert(stage="volume", title="volume anomaly: x", severity="warning", summary="",
                   failures=[{"expectation": "expect_column_values_to_be_between",
                              "column": "relative_change",
                              "sample_rows": [{"platform": "x", "day": "2026-11-01"}]}])
    assert next_step(volume) == NEXT_KEPT and "platform: x" in render_text(volume)
    task = alert_for_task_failure(RuntimeError("dbt exited 1"), dag_id="discourse_nightly",
                                  task_id="dbt_build", run_id="manual__1")
    assert next_step(task) == NEXT_RUN
    marts = Alert(stage="marts", title="marts gate failed", severity="error", summary="")
    assert next_step(marts) == NEXT_BLOCKED
    told = Alert(stage="run", title="t", severity="error", summary="", next_step="retried nightly: x")
    assert next_step(told) == "retried nightly: x"


def test_links_go_through_the_public_base_url(settings):
    s = with_docs(settings.with_(public_base_url="https://discourse.example.org/ops/"))
    assert send_alert(s, rejected_batch(s)) == ["file"]
    (rec,) = records(s)
    links = rec["links"]
    assert links["data_docs"] == (
        "https://discourse.example.org/ops/gx/data_docs/validations/raw_posts/run-1/page.html")
    assert links["data_docs_index"] == "https://discourse.example.org/ops/gx/data_docs/index.html"
    assert links["report"] == "https://discourse.example.org/ops/reports/latest.html"
    assert str(s.home) not in rec["text"]  # no worker path in what people read
    assert "Report: https://discourse.example.org/ops/reports/latest.html" in rec["text"]
    # a path outside the home, or an URL, stays as it is
    assert public_link(s, "/elsewhere/x.html") == "/elsewhere/x.html"
    assert public_link(s, "https://x.example/y") == "https://x.example/y"


def test_links_fall_back_to_the_worker_path_without_a_base_url(settings):
    s = with_docs(settings)
    send_alert(s, rejected_batch(s))
    (rec,) = records(s)
    assert rec["links"]["data_docs_index"] == str(s.data_docs_dir / "index.html")
    assert rec["text"].rstrip().endswith(f"Data Docs: {rec['data_docs_path']}")


def test_the_base_url_is_a_setting_read_from_the_environment(tmp_path):
    from discourse.settings import load_settings

    s = load_settings(env={"DISCOURSE_HOME": str(tmp_path), "DISCOURSE_PUBLIC_BASE_URL": "http://h:8080",
                           "DISCOURSE_ALERT_REPEAT_DAYS": "3"})
    assert s.public_base_url == "http://h:8080" and s.alert_repeat_days == 3


# ---------------------------------------------------------------- grouping


def test_the_fingerprint_ignores_the_run_time_and_figures_but_not_the_batch(settings):
    a = rejected_batch(settings, run_id="run-1", unexpected=25)
    b = rejected_batch(settings, run_id="run-2", when=NIGHT1 + timedelta(days=1), unexpected=7)
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(rejected_batch(settings, batch=OTHER))
    other_check = rejected_batch(settings)
    other_check.failures[0]["column"] = "author_key"
    assert fingerprint(a) != fingerprint(other_check)


def test_repeats_are_grouped_into_one_reminder_a_day(settings, http_receiver, smtp_server):
    s = with_docs(settings.with_(alert_webhook_url=http_receiver.url, smtp_host=smtp_server.host,
                                 smtp_port=smtp_server.port, smtp_to="ops@example.org",
                                 public_base_url="https://dq.example.org"))

    # night 1: new, sent in full
    assert send_alert(s, rejected_batch(s, run_id="run-1")) == ["file", "webhook", "email"]
    (first,) = http_receiver.wait_for(1)
    full = first.json()["text"]
    assert "still failing" not in full and "expect_column_values_to_be_between" in full

    # the same night again (a second run): recorded, not sent
    assert send_alert(s, rejected_batch(s, when=NIGHT1 + timedelta(hours=2), run_id="run-2")) == ["file"]
    assert len(http_receiver.requests) == 1 and len(smtp_server.messages) == 1

    # night 2: a short reminder to both sinks
    night2 = NIGHT1 + timedelta(days=1)
    assert send_alert(s, rejected_batch(s, when=night2, run_id="run-3")) == ["file", "webhook", "email"]
    reminder = http_receiver.wait_for(2)[1].json()["text"]
    assert reminder.startswith("[discourse] WARNING raw: still failing (2 nights): raw gate rejected batch")
    assert f"batch: {BATCH}" in reminder and "file: corrupted.csv" in reminder
    assert "Next: rejected" in reminder and "https://dq.example.org/gx/data_docs/" in reminder
    assert "Failures:" not in reminder  # short
    mails = smtp_server.wait_for(2)
    assert "still failing (2 nights)" in mails[1].message["Subject"]

    # another batch the same night is a problem of its own: sent in full
    send_alert(s, rejected_batch(s, batch=OTHER, when=night2, run_id="run-3"))
    assert "still failing" not in http_receiver.wait_for(3)[2].json()["text"]

    # night 4 (a night without it between): still the same group, 3 nights seen
    send_alert(s, rejected_batch(s, when=NIGHT1 + timedelta(days=3), run_id="run-5"))
    assert "still failing (3 nights)" in http_receiver.wait_for(4)[3].json()["text"]

    recs = records(s)
    assert [r["group"]["kind"] for r in recs] == ["new", "suppressed", "reminder", "new", "reminder"]
    assert all(recs[1]["delivery"][k].startswith("suppressed") for k in ("webhook", "email"))
    assert recs[2]["group"]["first_alert"] == (s.alerts_dir / recs[0]["delivery"]["file"]).name
    state = json.loads((s.alerts_dir / "groups.state").read_text())
    group = state[fingerprint(rejected_batch(s))]
    assert group["occurrences"] == 4 and len(group["days"]) == 3


def test_after_the_repeat_window_it_is_new_again(settings, http_receiver):
    s = settings.with_(alert_webhook_url=http_receiver.url, alert_repeat_days=2)
    send_alert(s, rejected_batch(s))
    send_alert(s, rejected_batch(s, when=NIGHT1 + timedelta(days=5), run_id="run-9"))
    texts = [r.json()["text"] for r in http_receiver.wait_for(2)]
    assert not any("still failing" in t for t in texts)
    assert [r["group"]["kind"] for r in records(s)] == ["new", "new"]
    # groups not seen within the window are dropped from the state
    assert len(json.loads((s.alerts_dir / "groups.state").read_text())) == 1


def test_an_undelivered_alert_is_not_counted_as_sent(settings):
    from servers import HttpReceiver

    with HttpReceiver(statuses=[400]) as hook:  # the receiver refuses: nobody was told
        s = settings.with_(alert_webhook_url=hook.url)
        send_alert(s, rejected_batch(s))
    with HttpReceiver() as hook:
        s = settings.with_(alert_webhook_url=hook.url)
        assert send_alert(s, rejected_batch(s, when=NIGHT1 + timedelta(hours=1))) == ["file", "webhook"]
        assert "still failing" in hook.wait_for(1)[0].json()["text"]


def test_a_quiet_source_is_named_and_its_nightly_warning_grouped(settings, http_receiver):
    from quality.freshness import check_freshness

    now = datetime.now(UTC)
    manifests = [{"batch_id": BATCH, "platforms": {"reddit": 3}, "export_format": "reddit", "loaded": 3,
                  "ingested_at": (now - timedelta(days=5)).isoformat()}]
    result = check_freshness("*=3d", manifests, now=now)
    assert not result.success
    s = settings.with_(alert_webhook_url=http_receiver.url)
    alert = alert_from_gate(result, "run-1")
    assert "platform: reddit" in render_text(alert) and next_step(alert) == NEXT_KEPT
    send_alert(s, alert)
    send_alert(s, alert_from_gate(result, "run-2"))  # the same night: grouped, not sent again
    assert len(http_receiver.wait_for(1)) == 1
    assert [r["group"]["kind"] for r in records(s)] == ["new", "suppressed"]
