"""Alerts reach a real local HTTP receiver and a real local SMTP server; broken sinks never raise."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from servers import HttpReceiver, SmtpServer, free_port

from quality.alerts import (
    Alert,
    WebhookError,
    alert_for_task_failure,
    alert_from_gate,
    post_webhook,
    redact_url,
    render_text,
    send_alert,
    slack_payload,
)
from quality.gates import GateResult


def marts_failure(settings) -> GateResult:
    """A failing marts result as ``run_marts_gate`` returns it."""
    return GateResult(
        stage="marts",
        success=False,
        severity="error",
        suite="marts_posts",
        failures=[
            {
                "expectation": "expect_column_values_to_be_between",
                "column": "sentiment_score",
                "kwargs": {"column": "sentiment_score", "min_value": -1, "max_value": 1},
                "observed": {
                    "unexpected_count": 1,
                    "unexpected_percent": 8.3333,
                    "element_count": 12,
                    "unexpected_values": [{"value": 3.5, "count": 1}],
                },
                "expected": "between -1 and 1",
                "severity": "error",
                "message": "sentiment_score: 1 of 12 rows (8.333%) fail, expected between -1 and 1",
                "sample_rows": [
                    {"sentiment_score": 3.5, "post_uid": "x:2", "source_file": "x.jsonl", "source_record": 2}
                ],
            },
            {
                "expectation": "expect_column_values_to_be_unique",
                "column": "post_uid",
                "kwargs": {"column": "post_uid"},
                "observed": {
                    "unexpected_count": 2,
                    "unexpected_percent": 16.6667,
                    "element_count": 12,
                    "unexpected_values": [{"value": "x:dup", "count": 2}],
                },
                "expected": "unique",
                "severity": "error",
                "message": "post_uid: 2 of 12 rows fail, expected unique",
                "sample_rows": [{"post_uid": "x:dup", "source_file": "x.jsonl", "source_record": 3}],
            },
        ],
        statistics={
            "evaluated_expectations": 17,
            "successful_expectations": 15,
            "unsuccessful_expectations": 2,
            "row_count": 12,
        },
        data_docs_path=str(settings.data_docs_dir / "index.html"),
        validation_page=str(settings.data_docs_dir / "validations" / "marts_posts" / "x.html"),
    )


def test_alert_from_gate_names_stage_expectations_and_docs(settings):
    alert = alert_from_gate(marts_failure(settings), "run-42")
    assert alert.stage == "marts" and alert.severity == "error" and alert.run_id == "run-42"
    assert (
        alert.title == "marts gate failed: sentiment_score: column_values_to_be_between, "
        "post_uid: column_values_to_be_unique"
    )
    assert "2 of 17 expectations failed on 12 rows" in alert.summary
    assert "Publish is blocked" in alert.summary
    assert alert.data_docs_path.endswith("x.html")
    text = render_text(alert)
    for needle in (
        "ERROR marts:",
        "expect_column_values_to_be_between on sentiment_score",
        "expected: between -1 and 1",
        "values 3.5",
        'post_uid="x:2"',
        "source_record=2",
        "Data Docs: ",
        "run: run-42",
    ):
        assert needle in text, needle


def test_send_alert_without_sinks_writes_the_json_file(settings):
    sinks = send_alert(settings, alert_from_gate(marts_failure(settings), "run-1"))
    assert sinks == ["file"]
    (path,) = list(settings.alerts_dir.glob("*.json"))
    assert "-marts-run-1" in path.name
    data = json.loads(path.read_text())
    assert data["stage"] == "marts" and data["failures"][0]["observed"]["unexpected_count"] == 1
    assert data["delivery"] == {"file": str(path)}
    assert not list(settings.alerts_dir.glob(".*tmp"))
    # A second alert in the same second gets its own file.
    send_alert(settings, alert_from_gate(marts_failure(settings), "run-1"))
    assert len(list(settings.alerts_dir.glob("*.json"))) == 2


def test_alert_reaches_the_webhook_with_readable_slack_content(settings, http_receiver):
    s = settings.with_(alert_webhook_url=http_receiver.url)
    sinks = send_alert(s, alert_from_gate(marts_failure(s), "run-7"))

    assert sinks == ["file", "webhook"]
    (req,) = http_receiver.wait_for(1)
    assert req.method == "POST" and req.path == "/hooks/alerts"
    assert req.headers["Content-Type"].startswith("application/json")
    body = req.json()
    assert set(body) == {"text", "blocks"}
    for needle in (
        "marts",
        "expect_column_values_to_be_between",
        "sentiment_score",
        "between -1 and 1",
        "3.5",
        "x:2",
        str(s.data_docs_dir),
    ):
        assert needle in body["text"], needle
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds[0] == "header" and kinds[-1] == "context"
    failure_block = body["blocks"][2]["text"]["text"]
    assert "*expect_column_values_to_be_between* on `sentiment_score`" in failure_block
    assert "expected: between -1 and 1" in failure_block
    assert "observed: 1 of 12 rows" in failure_block and "3.5" in failure_block
    assert "```" in failure_block and "x:2" in failure_block
    assert "Data Docs:" in body["blocks"][-1]["elements"][0]["text"]
    data = json.loads(next(s.alerts_dir.glob("*.json")).read_text())
    assert data["delivery"]["webhook"] == "sent"


def test_webhook_is_retried_once_after_a_server_error(settings):
    with HttpReceiver(statuses=[503, 200]) as hook:
        s = settings.with_(alert_webhook_url=hook.url)
        sinks = send_alert(s, alert_from_gate(marts_failure(s), "run-8"))
        assert sinks == ["file", "webhook"]
        assert len(hook.wait_for(2)) == 2


def test_webhook_rejection_is_reported_not_raised(settings):
    with HttpReceiver(statuses=[400]) as hook:
        s = settings.with_(alert_webhook_url=hook.url)
        sinks = send_alert(s, alert_from_gate(marts_failure(s), "run-9"))
        assert sinks == ["file"]
        assert len(hook.requests) == 1  # a 4xx is not retried
    data = json.loads(next(s.alerts_dir.glob("*.json")).read_text())
    assert data["delivery"]["webhook"].startswith("error:") and "400" in data["delivery"]["webhook"]


def test_unreachable_webhook_and_smtp_do_not_raise(settings, caplog):
    port = free_port()  # nothing listens there
    s = settings.with_(
        alert_webhook_url=f"http://127.0.0.1:{port}/hook",
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_to="ops@example.org",
    )
    sinks = send_alert(s, alert_from_gate(marts_failure(s), "run-10"))
    assert sinks == ["file"]
    data = json.loads(next(s.alerts_dir.glob("*.json")).read_text())
    assert data["delivery"]["webhook"].startswith("error:")
    assert data["delivery"]["email"].startswith("error:")
    assert "webhook not reached" in caplog.text and "not sent" in caplog.text


def test_alert_reaches_the_smtp_server(settings, smtp_server):
    s = settings.with_(
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_from="pipeline@example.org",
        smtp_to="ops@example.org, analyst@example.org",
    )
    sinks = send_alert(s, alert_from_gate(marts_failure(s), "run-11"))

    assert sinks == ["file", "email"]
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "pipeline@example.org"
    assert mail.rcpt_tos == ["ops@example.org", "analyst@example.org"]
    assert mail.message["Subject"].startswith("[discourse] ERROR marts: marts gate failed")
    body = mail.body_text()
    for needle in (
        "expect_column_values_to_be_between on sentiment_score",
        "expected: between -1 and 1",
        "observed: 1 of 12 rows",
        "3.5",
        'post_uid="x:2"',
        "Data Docs:",
    ):
        assert needle in body, needle
    attached = json.loads(mail.attachments()["alert.json"])
    assert attached["failures"][1]["column"] == "post_uid"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_login(settings):
    with SmtpServer(auth={"alerts": "s3cret"}) as server:
        s = settings.with_(
            smtp_host=server.host,
            smtp_port=server.port,
            smtp_to="ops@example.org",
            smtp_user="alerts",
            smtp_password="s3cret",
        )
        assert send_alert(s, alert_from_gate(marts_failure(s))) == ["file", "email"]
        assert len(server.wait_for(1)) == 1
        wrong = s.with_(smtp_password="nope")
        assert send_alert(wrong, alert_from_gate(marts_failure(s))) == ["file"]
        assert len(server.messages) == 1


def _raise(exc):
    try:
        raise exc
    except type(exc) as caught:
        return caught


def test_alert_for_task_failure_from_an_airflow_like_context(settings, http_receiver):
    ti = SimpleNamespace(
        dag_id="discourse_nightly",
        task_id="marts_gate",
        run_id="scheduled__1",
        try_number=3,
        max_tries=2,
        map_index=-1,
    )
    exc = _raise(RuntimeError("dbt build failed: 2 models errored"))
    alert = alert_for_task_failure({"ti": ti, "exception": exc, "logical_date": "2026-03-08T00:00:00+00:00"})
    assert alert.stage == "orchestration" and alert.severity == "error"
    assert alert.title == "task failed: discourse_nightly.marts_gate"
    assert alert.run_id == "scheduled__1"
    assert alert.extra["try_number"] == 3 and alert.extra["max_tries"] == 2
    assert alert.extra["exception_type"] == "RuntimeError"
    assert any("dbt build failed" in line for line in alert.extra["traceback"])
    assert "try 3 of 3" in alert.summary

    s = settings.with_(alert_webhook_url=http_receiver.url)
    assert send_alert(s, alert) == ["file", "webhook"]
    text = http_receiver.wait_for(1)[0].json()["text"]
    assert "discourse_nightly.marts_gate" in text and "RuntimeError: dbt build failed" in text
    assert "Traceback" in text


def test_alert_for_task_failure_from_a_bare_exception_carrying_a_gate_result(settings):
    class GateFailedLike(Exception):
        def __init__(self, result):
            self.result = result
            super().__init__("marts gate failed")

    exc = GateFailedLike(marts_failure(settings).to_dict())
    alert = alert_for_task_failure(exc, dag_id="d", task_id="t", run_id="r")
    assert alert.title == "task failed: d.t"
    assert [f["column"] for f in alert.failures] == ["sentiment_score", "post_uid"]
    assert alert.data_docs_path.endswith("x.html")
    assert "expected: between -1 and 1" in render_text(alert)


def test_slack_payload_is_bounded_for_many_failures():
    failures = [
        {
            "expectation": f"expect_{i}",
            "column": f"c{i}",
            "expected": "x" * 5000,
            "observed": {"observed_value": 1},
            "sample_rows": [],
        }
        for i in range(12)
    ]
    alert = Alert(stage="raw", title="raw gate failed", severity="error", summary="s", failures=failures)
    payload = slack_payload(alert)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 1 + 5
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "and 7 more" in payload["text"]


# ---------------------------------------------------------------- the webhook URL is a secret

SECRET_PARTS = ("alerts:S3cr3tPw", "S3cr3tPw", "T0KEN1234", "B0KEN5678", "XyZsecretToken99", "QueryTok3n",
                "services/")


def _secret_url(port: int) -> str:
    return (f"http://alerts:S3cr3tPw@127.0.0.1:{port}/services/T0KEN1234/B0KEN5678/XyZsecretToken99"
            "?token=QueryTok3n")


def _assert_clean(text: str, where: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"{part!r} leaked into {where}"


def test_redact_url_keeps_scheme_and_host_only():
    assert redact_url("https://hooks.example/services/T0/B0/XyZ") == "https://hooks.example/…(redacted)"
    assert redact_url("https://u:p@hooks.example:8443/x?token=t") == "https://hooks.example:8443/…(redacted)"
    assert redact_url("https://hooks.example") == "https://hooks.example/"
    assert "p@" not in redact_url("https://u:p@[::1]:99999/x")  # a bad port never echoes the URL
    assert redact_url(None) == ""


def test_basic_auth_userinfo_is_sent_as_a_header_not_in_the_url(settings):
    with HttpReceiver() as hook:
        url = f"http://alerts:S3cr3t%2Fpw@127.0.0.1:{hook.port}/hooks/alerts?channel=ops"
        s = settings.with_(alert_webhook_url=url)
        assert send_alert(s, alert_from_gate(marts_failure(s), "run-auth")) == ["file", "webhook"]
        (req,) = hook.wait_for(1)
    expected = base64.b64encode(b"alerts:S3cr3t/pw").decode()
    assert req.headers["Authorization"] == f"Basic {expected}"
    assert req.path == "/hooks/alerts?channel=ops" and "S3cr3t" not in req.path
    assert req.json()["blocks"][0]["type"] == "header"
    record = next(s.alerts_dir.glob("*.json")).read_text()
    assert "S3cr3t" not in record and json.loads(record)["delivery"]["webhook"] == "sent"


def test_a_failing_webhook_never_shows_its_secrets(settings, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with HttpReceiver(statuses=[500]) as hook:
        s = settings.with_(alert_webhook_url=_secret_url(hook.port))
        # The alert itself mentions the URL (an exception text, say): the record is scrubbed too.
        alert = alert_for_task_failure(RuntimeError(f"could not post to {s.alert_webhook_url}"),
                                       dag_id="d", task_id="t", run_id="r")
        assert send_alert(s, alert) == ["file"]
        assert len(hook.wait_for(2)) == 2  # retried once, then given up
        assert hook.requests[0].headers["Authorization"].startswith("Basic ")
    unreachable = settings.with_(alert_webhook_url=_secret_url(free_port()))
    assert send_alert(unreachable, alert_from_gate(marts_failure(s), "run-x")) == ["file"]

    files = sorted(s.alerts_dir.glob("*.json"))
    assert len(files) == 2
    for path in files:
        text = path.read_text()
        _assert_clean(text, path.name)
        webhook = json.loads(text)["delivery"]["webhook"]
        assert webhook.startswith("error: webhook http://127.0.0.1:") and "/…(redacted)" in webhook
    assert "could not post to http://127.0.0.1:" in files[0].read_text() or \
        "could not post to http://127.0.0.1:" in files[1].read_text()
    assert "webhook not reached" in caplog.text
    _assert_clean(caplog.text, "the log")
    out, err = capfd.readouterr()
    _assert_clean(out + err, "stdout/stderr")


def test_webhook_error_and_its_chain_carry_no_secret():
    url = _secret_url(free_port())
    with pytest.raises(WebhookError) as info:
        post_webhook(url, {"text": "x"}, retries=0)
    exc = info.value
    _assert_clean(str(exc), "the exception")
    assert exc.__cause__ is None and exc.__suppress_context__
    assert "127.0.0.1" in str(exc)


@pytest.mark.integration
def test_a_failing_gate_alerts_both_sinks_end_to_end(settings, http_receiver, smtp_server):
    from builders import write_marts

    from quality.gates import run_marts_gate

    rows_db = write_marts(settings.build_warehouse)
    import duckdb

    with duckdb.connect(str(rows_db)) as con:
        con.execute("update marts.posts set sentiment_score = 3.5 where post_uid = 'x:1003'")
    result = run_marts_gate(settings, rows_db)
    assert result.blocking

    s = settings.with_(
        alert_webhook_url=http_receiver.url,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_to="ops@example.org",
    )
    assert send_alert(s, alert_from_gate(result, "run-e2e")) == ["file", "webhook", "email"]
    text = http_receiver.wait_for(1)[0].json()["text"]
    assert "sentiment_score" in text and "3.5" in text and "x:1003" in text
    assert "between -1 and 1" in text
    docs = text.split("Data Docs: ")[1].strip()
    assert Path(docs).is_file() and settings.data_docs_dir in Path(docs).parents
    assert "x:1003" in smtp_server.wait_for(1)[0].body_text()
