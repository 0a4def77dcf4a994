"""Alerts for maintainers: a failed or warning gate, a volume anomaly, a task that failed after retries.

``send_alert`` always writes the alert as JSON under ``settings.alerts_dir`` (atomically), then posts it
to a Slack-compatible webhook (``settings.alert_webhook_url``) and emails it over SMTP
(``settings.smtp_host`` and ``settings.smtp_to``) when those are configured. A sink that cannot be
reached is logged and recorded in the JSON file; it never fails the run.

The webhook URL is a secret (Slack-style URLs carry their token in the path; some receivers take it in
the query or as ``https://user:password@host/...``). It never appears in an alert record, a log line or
an exception: ``redact_url`` shows only scheme and host, and ``Redactor`` scrubs every configured secret
(the URL and its parts, the SMTP password, the pseudonym key) from what is written or logged. Userinfo in
the URL is sent as an ``Authorization: Basic`` header and stripped from the request URL.

The content is built here from the gate result rather than by a GX action, so every sink says the same
thing: the stage, each failing expectation with observed versus expected, a few sample rows, and the
path to Data Docs.

Every alert also names what it concerns (``subject_line``: batch, file, platform), says what happens
next (``next_step``: retried nightly, rejected, blocked, kept) and links the Data Docs and the report
through ``settings.public_base_url`` (``public_link``; the worker's path when unset). Repeats are
grouped by ``fingerprint`` (``send_alert``): docs/quality.md has the anatomy and the policy.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit, urlunsplit

import tenacity

if TYPE_CHECKING:
    from discourse.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 10.0
WEBHOOK_RETRY_DELAY = 1.0
SMTP_TIMEOUT = 15.0
FAILURES_SHOWN = 5
SAMPLE_ROWS_SHOWN = 3
SLACK_TEXT_LIMIT = 2900  # Slack caps a section's text at 3000 characters
TRACEBACK_LINES = 25


@dataclass
class Alert:
    stage: str  # raw, staging, marts, volume, orchestration
    title: str
    severity: str  # "error" blocked something; "warning" did not
    summary: str
    failures: list[dict[str, Any]] = field(default_factory=list)
    data_docs_path: str | None = None
    run_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    # What happens next (retried nightly / rejected / kept / blocked); default: ``next_step(alert)``.
    next_step: str | None = None
    # Where to look, as public URLs (``settings.public_base_url``) or worker paths: set by ``send_alert``.
    links: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- building alerts


def alert_from_gate(result: Any, run_id: str | None = None) -> Alert:
    """An alert from a ``GateResult`` (or its ``to_dict()``)."""
    r = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    stage = r.get("stage", "?")
    severity = r.get("severity") or "error"
    failures = list(r.get("failures") or [])
    stats = r.get("statistics") or {}
    names = list(dict.fromkeys(_short_name(f) for f in failures))
    if not failures:
        title = f"{stage} gate passed"
    elif stage == "volume":
        title = "volume anomaly: " + ", ".join(
            sorted({str(s.get("platform")) for f in failures for s in f.get("sample_rows", [])}) or names
        )
    else:
        verb = "failed" if severity == "error" else "warning"
        title = f"{stage} gate {verb}: " + ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
    lines = []
    if failures:
        rows = stats.get("row_count")
        on_rows = f" on {rows:,} rows" if isinstance(rows, int) else ""
        lines.append(
            f"{len(failures)} of {stats.get('evaluated_expectations', '?')} expectations failed"
            f"{on_rows} (suite {r.get('suite') or stage})."
        )
        if severity == "error":
            lines.append("Publish is blocked: the previously published marts stay in place.")
        else:
            lines.append("Warning only: publish is not blocked.")
    lines += [str(n) for n in r.get("notes") or []]
    extra = {k: r.get(k) for k in ("suite", "checked", "statistics", "validation_page", "notes") if r.get(k)}
    return Alert(
        stage=stage,
        title=title,
        severity=severity,
        summary="\n".join(lines),
        failures=failures,
        data_docs_path=r.get("validation_page") or r.get("data_docs_path"),
        run_id=run_id,
        extra=extra,
    )


def _short_name(failure: dict[str, Any]) -> str:
    name = str(failure.get("expectation", "?")).removeprefix("expect_")
    col = failure.get("column")
    return f"{col}: {name}" if col else name


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - properties of foreign objects may need config to evaluate
        return None


def alert_for_task_failure(
    context: Mapping[str, Any] | BaseException,
    *,
    run_id: str | None = None,
    dag_id: str | None = None,
    task_id: str | None = None,
    try_number: int | None = None,
) -> Alert:
    """An ``orchestration`` alert for a task that failed, from an Airflow callback context (or just
    the exception). Names the DAG, task, run, try and the exception with its traceback tail."""
    if isinstance(context, BaseException):
        ctx: Mapping[str, Any] = {"exception": context}
    else:
        ctx = context
    ti = ctx.get("ti") or ctx.get("task_instance")
    dag_run = ctx.get("dag_run")
    exc = ctx.get("exception")
    dag_id = dag_id or _get(ti, "dag_id") or _get(ctx.get("dag"), "dag_id") or ctx.get("dag_id")
    task_id = task_id or _get(ti, "task_id") or _get(ctx.get("task"), "task_id") or ctx.get("task_id")
    run_id = run_id or _get(ti, "run_id") or _get(dag_run, "run_id") or ctx.get("run_id")
    try_number = try_number if try_number is not None else _get(ti, "try_number")
    max_tries = _get(ti, "max_tries")
    map_index = _get(ti, "map_index")
    extra: dict[str, Any] = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": try_number,
        "max_tries": max_tries,
    }
    if map_index not in (None, -1):
        extra["map_index"] = map_index
    logical = ctx.get("logical_date") or _get(dag_run, "logical_date")
    if logical is not None:
        extra["logical_date"] = str(logical)
    log_url = _get(ti, "log_url")
    if isinstance(log_url, str):
        extra["log_url"] = log_url
    failures: list[dict[str, Any]] = []
    if exc is not None:
        extra["exception_type"] = type(exc).__name__ if isinstance(exc, BaseException) else None
        extra["exception"] = str(exc)
        if isinstance(exc, BaseException) and exc.__traceback__ is not None:
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            extra["traceback"] = "".join(tb).splitlines()[-TRACEBACK_LINES:]
        # A gate that raised carries its result: pass its failures on.
        gate = getattr(exc, "result", None)
        if isinstance(gate, Mapping):
            failures = list(gate.get("failures") or [])
            extra["gate"] = {k: gate.get(k) for k in ("stage", "suite", "data_docs_path", "validation_page")}
    task = f"{dag_id or '?'}.{task_id or '?'}"
    tries = f"try {try_number}" + (f" of {max_tries + 1}" if isinstance(max_tries, int) else "")
    exc_line = f"{extra.get('exception_type') or 'Error'}: {extra.get('exception', 'unknown')}"
    summary = "\n".join(
        [
            f"Task {task} failed in run {run_id or '?'} ({tries}).",
            exc_line,
        ]
    )
    gate_info = extra.get("gate") or {}
    return Alert(
        stage="orchestration",
        title=f"task failed: {task}",
        severity="error",
        summary=summary,
        failures=failures,
        data_docs_path=gate_info.get("validation_page") or gate_info.get("data_docs_path"),
        run_id=run_id,
        extra=extra,
    )


# ---------------------------------------------------------------- what an alert concerns, what happens next

SUBJECT_SHOWN = 3
# Stages whose failures are about platforms or sources (their sample rows name them): the platform is
# part of what the alert concerns, so of its fingerprint.
PLATFORM_STAGES = ("volume", "freshness")


def _names(values: Any) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values] if values else []
    return [str(v) for v in values if v not in (None, "")]


def _file_label(path: str) -> str:
    """A source file as people know it: its name, with a zip member after ``!`` kept."""
    outer, _, member = str(path).partition("!")
    name = Path(outer).name or outer
    return f"{name}!{member}" if member else name


def alert_subject(alert: Alert, *, samples: bool = True) -> dict[str, list[str]]:
    """The batches, files and platforms an alert concerns, from its ``extra`` (set by whoever built
    it: ``batch_id``, ``source_file``, ``path``...), the gate's ``checked`` figures (failing batches),
    and, when ``samples``, the failures' sample rows. ``samples=False`` is the alert's identity (sample
    rows change from night to night; the batch a rejection names does not)."""
    x = alert.extra or {}
    checked = x.get("checked") or {}
    batches = _names(x.get("batch_id")) + _names(x.get("batch_ids")) + _names(checked.get("failing_batches"))
    files = _names(x.get("source_file")) + _names(x.get("path"))
    platforms = _names(x.get("platform")) + _names(x.get("platforms"))
    rows = [r for f in alert.failures for r in (f.get("sample_rows") or []) if isinstance(r, Mapping)]
    if alert.stage in PLATFORM_STAGES:
        platforms += _names([r.get("platform") for r in rows])
    if alert.stage == "freshness":  # one failure per quiet source, named in ``column``
        platforms += _names([f.get("column") for f in alert.failures])
    if samples:
        batches += _names([r.get("batch_id") for r in rows])
        files += _names([r.get("source_file") for r in rows])
    return {
        "batches": list(dict.fromkeys(batches)),
        "files": list(dict.fromkeys(files)),
        "platforms": list(dict.fromkeys(platforms)),
    }


def _some(values: list[str]) -> str:
    shown = ", ".join(values[:SUBJECT_SHOWN])
    return shown + (f" (+{len(values) - SUBJECT_SHOWN} more)" if len(values) > SUBJECT_SHOWN else "")


def subject_line(alert: Alert) -> str:
    """``batch: … · file: … · platform: …`` for the alert's text, or "" when it concerns none."""
    subject = alert_subject(alert)
    parts = []
    if subject["batches"]:
        parts.append(("batch: " if len(subject["batches"]) == 1 else "batches: ") + _some(subject["batches"]))
    if subject["files"]:
        labels = list(dict.fromkeys(_file_label(f) for f in subject["files"]))
        parts.append(("file: " if len(labels) == 1 else "files: ") + _some(labels))
    if subject["platforms"]:
        parts.append("platform: " + _some(subject["platforms"]))
    return " · ".join(parts)


NEXT_RETRIED = ("retried nightly: the file stays in the inbox and every run tries it again until it "
                "loads; fix or replace the export (after fixing an adapter: `discourse ingest --force`)")
NEXT_REJECTED = ("rejected: the batch is set aside under lake/_rejected/ and the rest of the night is "
                 "published; the export stays in the inbox and is retried nightly until it passes: fix "
                 "it and drop it again (or fix the adapter, then `discourse remap` / `--force`)")
NEXT_BLOCKED = ("blocked: nothing was published by this run and the previously published marts are kept "
                "for analysts; the next nightly run retries once the cause is fixed")
NEXT_RUN = ("retried nightly: this run published nothing and the previously published marts are kept; "
            "new exports stay in the inbox and the next run retries")
NEXT_KEPT = "kept: the data is published as it is; this is a warning to look into, nothing is retried"


def next_step(alert: Alert) -> str:
    """What happens next, in the words of ``NEXT_*``: retried nightly, rejected, blocked (the previous
    marts kept) or kept. ``alert.next_step`` wins when the sender said it."""
    if alert.next_step:
        return alert.next_step
    x = alert.extra or {}
    if alert.stage == "raw" and x.get("batch_id") and (x.get("next") == "retried nightly" or
                                                       alert.severity == "warning"):
        return NEXT_REJECTED
    if alert.stage == "ingest":
        return NEXT_RETRIED
    if alert.stage in ("run", "orchestration"):
        return NEXT_RUN
    if alert.severity == "error":
        return NEXT_BLOCKED
    return NEXT_KEPT


def public_link(settings: Settings, path: str | Path | None) -> str | None:
    """``path`` as people reach it: ``<public_base_url>/<path under home>`` when the base URL is set
    and the path is under ``settings.home``, else the path itself (an URL stays as it is)."""
    if not path:
        return None
    text = str(path)
    if "://" in text:
        return text
    base = (getattr(settings, "public_base_url", None) or "").strip().rstrip("/")
    if not base:
        return text
    try:
        rel = Path(text).resolve().relative_to(Path(settings.home).resolve())
    except ValueError:
        return text
    return f"{base}/{quote(rel.as_posix())}"


def alert_links(settings: Settings, alert: Alert) -> dict[str, str]:
    """The Data Docs page of the alert (its validation page, else the index), the Data Docs index and
    the latest report, each through ``public_link``; a page that does not exist yet is left out
    (except the report, which the run writes after its gates)."""
    links: dict[str, str] = {}
    index = Path(settings.data_docs_dir) / "index.html"
    page = alert.data_docs_path
    if page:
        links["data_docs"] = public_link(settings, page) or ""
    if index.exists() and (not page or Path(str(page)) != index):
        links["data_docs_index"] = public_link(settings, index) or ""
    report = Path(settings.reports_dir) / "latest.html"
    if report.exists() or alert.run_id:  # a run writes its report after its gates
        links["report"] = public_link(settings, report) or ""
    return {k: v for k, v in links.items() if v}


LINK_LABELS = {"data_docs": "Data Docs", "data_docs_index": "Data Docs index", "report": "Report"}


def link_items(alert: Alert) -> list[str]:
    """``Data Docs: …``, ``Data Docs index: …``, ``Report: …`` (those the alert has, in that order)."""
    links = dict(alert.links)
    if not links and alert.data_docs_path:
        links["data_docs"] = alert.data_docs_path
    return [f"{label}: {links[key]}" for key, label in LINK_LABELS.items() if links.get(key)]


def link_lines(alert: Alert) -> list[str]:
    """The text's closing link lines, the alert's own Data Docs page last."""
    items = link_items(alert)
    return ["", *reversed(items)] if items else []


# ---------------------------------------------------------------- grouping repeats

STATE_FILE = "groups.state"  # JSON; not *.json, which globs of the alert files match
IDENTITY_EXTRA = ("dag_id", "task_id", "step", "exception_type", "status", "export_format")


def fingerprint(alert: Alert) -> str:
    """What makes two alerts the same problem: the stage, the failing checks (expectation, column,
    relation), what it concerns (batches, files, platforms: ``alert_subject(samples=False)``) and, for
    task, run and ingest failures, the task/step and the error's type. Never the run id, the time or
    the observed figures, which change every night."""
    checks = sorted({
        (str(f.get("expectation")), str(f.get("column")), str(f.get("relation") or ""))
        for f in alert.failures
    })
    subject = alert_subject(alert, samples=False)
    parts = {
        "stage": alert.stage,
        "checks": checks,
        "batches": sorted(subject["batches"]),
        "files": sorted(subject["files"]),
        "platforms": sorted(subject["platforms"]),
        "what": {k: str(alert.extra[k]) for k in IDENTITY_EXTRA if alert.extra.get(k) is not None},
    }
    if not checks and not any(subject.values()) and not parts["what"]:
        parts["title"] = alert.title  # nothing structured to go by
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:16]


@dataclass
class Repeat:
    """How ``send_alert`` treats an alert: ``new`` (sent in full), ``reminder`` (a repeat on a new
    day: a short "still failing (n nights)" message), ``suppressed`` (a repeat already reminded of
    today: recorded, not sent)."""

    kind: str
    fingerprint: str
    nights: int = 1
    occurrences: int = 1
    first_seen: str | None = None
    first_alert: str | None = None


def _parse_time(text: str | None) -> datetime:
    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@contextmanager
def _state_lock(settings: Settings) -> Iterator[None]:
    Path(settings.alerts_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(settings.alerts_dir) / ".state.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_state(settings: Settings) -> dict[str, Any]:
    try:
        data = json.loads((Path(settings.alerts_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def classify_repeat(state: dict[str, Any], fp: str, when: datetime, window_days: int) -> Repeat:
    """New, reminder or suppressed, from the group's entry in ``state`` (not changed here)."""
    entry = state.get(fp)
    if not isinstance(entry, dict) or (when - _parse_time(entry.get("last_seen"))).total_seconds() > (
        window_days * 86400
    ):
        return Repeat("new", fp, first_seen=when.isoformat(timespec="seconds"))
    days = set(entry.get("days") or []) | {when.date().isoformat()}
    sent_today = entry.get("last_sent") and _parse_time(entry["last_sent"]).date() == when.date()
    return Repeat(
        "suppressed" if sent_today else "reminder",
        fp,
        nights=len(days),
        occurrences=int(entry.get("occurrences") or 1) + 1,
        first_seen=entry.get("first_seen"),
        first_alert=entry.get("first_alert"),
    )


def _record_repeat(
    settings: Settings, state: dict[str, Any], alert: Alert, rep: Repeat, when: datetime,
    path: Path, delivered: bool,
) -> None:
    """Update the group's entry and drop groups not seen within the window; atomic write."""
    stamp = when.isoformat(timespec="seconds")
    entry = state.get(rep.fingerprint) if rep.kind != "new" else None
    if not isinstance(entry, dict):
        entry = {"first_seen": stamp, "first_alert": path.name, "days": [], "occurrences": 0}
    entry["days"] = sorted(set(entry.get("days") or []) | {when.date().isoformat()})[-366:]
    entry["occurrences"] = int(entry.get("occurrences") or 0) + 1
    entry.update(stage=alert.stage, title=alert.title, last_seen=stamp, last_alert=path.name)
    if delivered:
        entry["last_sent"] = stamp
    state[rep.fingerprint] = entry
    window = int(getattr(settings, "alert_repeat_days", 7))
    keep = {
        k: v for k, v in state.items()
        if isinstance(v, dict) and (when - _parse_time(v.get("last_seen"))).total_seconds() <= window * 86400
    }
    _atomic_write_json(Path(settings.alerts_dir) / STATE_FILE, keep)


def reminder_alert(alert: Alert, rep: Repeat) -> Alert:
    """The short message for a repeat: what it is, since when, what it concerns, next step, links."""
    since = (rep.first_seen or "?")[:10]
    return Alert(
        stage=alert.stage,
        title=f"still failing ({rep.nights} nights): {alert.title}",
        severity=alert.severity,
        summary=f"Same problem as the alert of {since} (first alert {rep.first_alert or '?'}); seen "
        f"{rep.occurrences} times on {rep.nights} nights. Reminded at most once a day; the full "
        "details of tonight's occurrence are in the alert file.",
        data_docs_path=alert.data_docs_path,
        run_id=alert.run_id,
        extra={k: alert.extra[k] for k in ("batch_id", "batch_ids", "source_file", "path", "platform",
                                            "checked", "log_url") if k in alert.extra},
        created_at=alert.created_at,
        next_step=next_step(alert),
        links=dict(alert.links),
    )


# ---------------------------------------------------------------- rendering


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_json(v)}" for k, v in row.items())


def _failure_lines(f: dict[str, Any]) -> list[str]:
    col = f" on {f['column']}" if f.get("column") else ""
    lines = [
        f"- {f.get('expectation')}{col} [{f.get('severity', 'error')}]",
        f"  expected: {f.get('expected')}",
        f"  observed: {_observed_text(f.get('observed') or {})}",
    ]
    if f.get("message"):
        lines.append(f"  {f['message']}")
    rows = f.get("sample_rows") or []
    if rows:
        lines.append("  sample rows:")
        lines += [f"    {_row_text(r)}" for r in rows[:SAMPLE_ROWS_SHOWN]]
    return lines


def _observed_text(obs: dict[str, Any]) -> str:
    if "error" in obs:
        return str(obs["error"])
    if "unexpected_count" in obs:
        vals = ", ".join(_json(v.get("value")) for v in obs.get("unexpected_values", [])[:5])
        text = (
            f"{obs['unexpected_count']:,} of {obs.get('element_count', 0):,} rows "
            f"({obs.get('unexpected_percent', 0):.4g}%) unexpected"
        )
        return text + (f"; values {vals}" if vals else "")
    if "observed_value" in obs:
        return _json(obs["observed_value"])
    return _json(obs)


def render_text(alert: Alert) -> str:
    """The plain-text alert: the email body and the webhook's fallback ``text``."""
    lines = [f"[discourse] {alert.severity.upper()} {alert.stage}: {alert.title}"]
    if alert.run_id:
        lines.append(f"run: {alert.run_id}")
    subject = subject_line(alert)
    if subject:
        lines.append(subject)
    if alert.summary:
        lines += ["", alert.summary]
    lines += ["", f"Next: {next_step(alert)}"]
    if alert.failures:
        lines += ["", "Failures:"]
        for f in alert.failures[:FAILURES_SHOWN]:
            lines += _failure_lines(f)
        if len(alert.failures) > FAILURES_SHOWN:
            lines.append(f"... and {len(alert.failures) - FAILURES_SHOWN} more (see Data Docs)")
    if alert.stage == "orchestration" and alert.extra.get("traceback"):
        lines += ["", "Traceback (last lines):", *alert.extra["traceback"][-10:]]
    if alert.extra.get("log_url"):
        lines.append(f"log: {alert.extra['log_url']}")
    lines += link_lines(alert)
    return "\n".join(lines)


def _clip(text: str, limit: int = SLACK_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook body: ``text`` (fallback) plus Block Kit ``blocks``."""
    icon = ":rotating_light:" if alert.severity == "error" else ":warning:"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _clip(f"{alert.stage}: {alert.title}", 150)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _clip(
                    f"{icon} *{alert.severity.upper()}* · stage `{alert.stage}`"
                    + (f" · run `{alert.run_id}`" if alert.run_id else "")
                    + (f"\n{_md_escape(subject_line(alert))}" if subject_line(alert) else "")
                    + f"\n*Next:* {_md_escape(next_step(alert))}"
                    + (f"\n{_md_escape(alert.summary)}" if alert.summary else "")
                ),
            },
        },
    ]
    for f in alert.failures[:FAILURES_SHOWN]:
        col = f" on `{f['column']}`" if f.get("column") else ""
        text = (
            f"*{f.get('expectation')}*{col}\n"
            f"expected: {_md_escape(str(f.get('expected')))}\n"
            f"observed: {_md_escape(_observed_text(f.get('observed') or {}))}"
        )
        rows = f.get("sample_rows") or []
        if rows:
            sample = "\n".join(_row_text(r) for r in rows[:SAMPLE_ROWS_SHOWN])
            text += f"\nsample rows:\n```{_md_escape(sample)}```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}})
    if len(alert.failures) > FAILURES_SHOWN:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"... and {len(alert.failures) - FAILURES_SHOWN} more failures",
                    }
                ],
            }
        )
    if alert.stage == "orchestration" and alert.extra.get("traceback"):
        tb = "\n".join(alert.extra["traceback"][-10:])
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(f"```{_md_escape(tb)}```")}}
        )
    ctx_bits = link_items(alert)
    if alert.extra.get("log_url"):
        ctx_bits.append(f"log: {alert.extra['log_url']}")
    if ctx_bits:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(_md_escape(b), 1900)} for b in ctx_bits],
            }
        )
    return {"text": render_text(alert), "blocks": blocks}


def email_message(settings: Settings, alert: Alert) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[discourse] {alert.severity.upper()} {alert.stage}: {alert.title}"[:200]
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(_recipients(settings))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="discourse.local")
    msg.set_content(render_text(alert))
    msg.add_attachment(
        json.dumps(alert.to_dict(), indent=1, ensure_ascii=False, default=str).encode("utf-8"),
        maintype="application",
        subtype="json",
        filename="alert.json",
    )
    return msg


def _recipients(settings: Settings) -> list[str]:
    return [a.strip() for a in (settings.smtp_to or "").split(",") if a.strip()]


# ---------------------------------------------------------------- sinks


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def alert_path(settings: Settings, alert: Alert) -> Path:
    stamp = re.sub(r"[^0-9TZ]", "", alert.created_at.replace("+00:00", "Z"))
    run = re.sub(r"[^A-Za-z0-9_.-]", "_", alert.run_id or "norun")[:60]
    base = f"{stamp}-{alert.stage}-{run}"
    path = settings.alerts_dir / f"{base}.json"
    n = 1
    while path.exists():
        n += 1
        path = settings.alerts_dir / f"{base}-{n}.json"
    return path


REDACTED = "…(redacted)"


def redact_url(url: str | None) -> str:
    """``url`` safe to show: scheme, host and port only; userinfo, path, query and fragment hidden.

    ``https://user:pw@hooks.example/services/T0/B0/XyZ?token=t`` → ``https://hooks.example/…(redacted)``.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return f"(unparseable URL){REDACTED}"
    if not parts.scheme or not host:
        return f"(URL){REDACTED}"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    hidden = parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    return f"{parts.scheme}://{netloc}" + (f"/{REDACTED}" if hidden else "/")


def _url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL that must never be shown: the URL itself (with and without its
    userinfo), the userinfo, the path and its token-like segments, the query and its values."""
    out = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    out.append(urlunsplit(parts._replace(netloc=_netloc_without_userinfo(parts))))
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        out += [userinfo + "@", userinfo, unquote(userinfo)]
        if parts.password:
            out += [parts.password, unquote(parts.password)]
    if len(parts.path) >= 8:  # shorter paths ("/hook") carry no token worth scrubbing everywhere
        out.append(parts.path)
    out += [seg for seg in parts.path.split("/") if len(seg) >= 8]
    if parts.query:
        out.append(parts.query)
        out += [v for _, v in parse_qsl(parts.query, keep_blank_values=True) if len(v) >= 4]
    if parts.fragment:
        out.append(parts.fragment)
    return out


def _netloc_without_userinfo(parts: SplitResult) -> str:
    return parts.netloc.rsplit("@", 1)[-1]


MIN_SECRET_CHARS = 6


class Redactor:
    """Scrubs configured secrets from text (and from nested dicts/lists of text) before it is written,
    logged or raised. A whole URL becomes its ``redact_url`` form; any other secret part ``…(redacted)``."""

    def __init__(self, urls: list[str | None] = (), secrets: list[str | None] = ()) -> None:
        pairs: dict[str, str] = {}
        for url in urls:
            if not url:
                continue
            shown = redact_url(url)
            for i, part in enumerate(_url_secrets(url)):
                if part and part not in pairs:
                    pairs[part] = shown if i < 2 else REDACTED
        for secret in secrets:
            # A secret of a few characters cannot be scrubbed without mangling ordinary words (a
            # test key "k" would turn every "k" into a marker); such keys are too weak to protect.
            if secret and len(secret) >= MIN_SECRET_CHARS and secret not in pairs:
                pairs[secret] = REDACTED
        # Longest first, so a URL is replaced whole before any of its parts.
        self._pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        return cls(
            urls=[getattr(settings, "alert_webhook_url", None)],
            secrets=[getattr(settings, name, None) for name in (
                "smtp_password", "pseudonym_key", "s3_secret_access_key", "s3_session_token")],
        )

    def text(self, value: Any) -> str:
        text = str(value)
        for secret, shown in self._pairs:
            if secret in text:
                text = text.replace(secret, shown)
        return text

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(k) if isinstance(k, str) else k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


class WebhookError(RuntimeError):
    """The webhook was not reached; the message names the host only, never the URL's secret parts."""


class _Transient(Exception):
    """A failure worth one more try: a network error, a 5xx or a 429."""


def _webhook_request(url: str, body: bytes) -> urllib.request.Request:
    """The POST request; userinfo in ``url`` becomes an ``Authorization: Basic`` header and is
    stripped from the URL that is sent."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "discourse-alerts"}
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the webhook URL must be an http(s) URL with a host")
    if "@" in parts.netloc:
        user = unquote(parts.username or "")
        password = unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        url = urlunsplit(parts._replace(netloc=_netloc_without_userinfo(parts)))
    return urllib.request.Request(url, data=body, method="POST", headers=headers)


def _post_once(req: urllib.request.Request, timeout: float) -> None:
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured URL
            resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        # the receiver rejected the payload; sending it again will not help
        raise WebhookError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _Transient(f"{type(exc.reason).__name__}: {exc.reason}") from None
    except (OSError, TimeoutError) as exc:
        raise _Transient(f"{type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # http.client.InvalidURL and friends: a bad URL, not worth a retry
        raise WebhookError(f"{type(exc).__name__}: {exc}") from None


def post_webhook(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float = WEBHOOK_TIMEOUT,
    retries: int = 1,
    retry_delay: float = WEBHOOK_RETRY_DELAY,
) -> None:
    """POST ``payload`` as JSON; retry once on a network error or a 5xx/429 (``tenacity``).

    Raises ``WebhookError`` on failure, whose message shows the URL redacted and carries no chained
    exception that could (urllib's errors hold the full URL).
    """
    shown = redact_url(url)
    scrub = Redactor(urls=[url])
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        req = _webhook_request(url, body)
    except ValueError as exc:
        raise WebhookError(f"webhook {shown}: {scrub.text(exc)}") from None
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=tenacity.wait_fixed(retry_delay),
        retry=tenacity.retry_if_exception_type(_Transient),
        reraise=True,
    )
    try:
        retrying(_post_once, req, timeout)
    except (WebhookError, _Transient) as exc:
        raise WebhookError(f"webhook {shown}: {scrub.text(exc)}") from None


def send_email(settings: Settings, alert: Alert) -> None:
    """Send over SMTP: implicit TLS on port 465, else plain with optional STARTTLS; login if a user
    is set. Raises on failure."""
    msg = email_message(settings, alert)
    host, port = settings.smtp_host, int(settings.smtp_port)
    if port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with smtp:
        if port != 465 and settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg, from_addr=settings.smtp_from, to_addrs=_recipients(settings))


def send_alert(settings: Settings, alert: Alert) -> list[str]:
    """Deliver ``alert`` to every configured sink; returns the sinks it reached.

    ``file`` is always attempted first (so the alert survives a hung sink) and rewritten at the end
    with the delivery outcome of the other sinks (``webhook``, ``email``). Every configured secret is
    scrubbed from the record, the payloads and the log lines (see ``Redactor``).

    Repeats are grouped (``fingerprint``, state in ``<alerts>/groups.state``): an alert whose group was
    seen within ``settings.alert_repeat_days`` goes out as a short "still failing (n nights)" reminder
    at most once per UTC day, and is only recorded (``delivery``: ``suppressed``) otherwise. The file
    is written either way, with the group in ``group``.
    """
    scrub = Redactor.for_settings(settings)
    alert = Alert(**scrub.data(alert.to_dict()))
    if not alert.links:
        alert.links = scrub.data(alert_links(settings, alert))
    alert.next_step = next_step(alert)
    when = _parse_time(alert.created_at)
    window = int(getattr(settings, "alert_repeat_days", 7))
    with _state_lock(settings):
        state = _read_state(settings)
        rep = classify_repeat(state, fingerprint(alert), when, window)
        reached, path = _deliver(settings, alert, rep, scrub)
        sinks = [k for k in ("webhook", "email") if _configured(settings, k)]
        delivered = rep.kind != "suppressed" and (not sinks or any(k in reached for k in sinks))
        try:
            _record_repeat(settings, state, alert, rep, when, path, delivered)
        except OSError as exc:
            log.error("alert: could not update the alert state: %s", scrub.text(exc))
    return reached


def _configured(settings: Settings, sink: str) -> bool:
    if sink == "webhook":
        return bool(settings.alert_webhook_url)
    return bool(settings.smtp_host and _recipients(settings))


def _deliver(settings: Settings, alert: Alert, rep: Repeat, scrub: Redactor) -> tuple[list[str], Path]:
    """Write the alert file, then send ``alert`` (new), its reminder, or nothing (suppressed)."""
    reached: list[str] = []
    delivery: dict[str, str] = {}
    path = alert_path(settings, alert)
    if rep.kind == "new":
        rep.first_alert = path.name
    record = {**alert.to_dict(), "text": render_text(alert), "delivery": delivery,
              "group": asdict(rep)}
    delivery["file"] = str(path)
    try:
        _atomic_write_json(path, record)
        reached.append("file")
    except OSError as exc:
        log.error("alert: could not write %s: %s", path, scrub.text(exc))
        delivery["file"] = f"error: {scrub.text(exc)}"
    outgoing = alert if rep.kind == "new" else reminder_alert(alert, rep)
    if rep.kind == "suppressed":
        for sink in ("webhook", "email"):
            if _configured(settings, sink):
                delivery[sink] = (f"suppressed: repeat of group {rep.fingerprint} (seen on {rep.nights} "
                                  "nights), already reminded today")
    if settings.alert_webhook_url and rep.kind != "suppressed":
        try:
            post_webhook(settings.alert_webhook_url, slack_payload(outgoing))
            reached.append("webhook")
            delivery["webhook"] = "sent" if rep.kind == "new" else "sent reminder"
        except Exception as exc:  # noqa: BLE001 - a broken sink must not break the run
            log.warning("alert: webhook not reached: %s", scrub.text(exc))
            delivery["webhook"] = f"error: {scrub.text(exc)}"
    if settings.smtp_host and _recipients(settings) and rep.kind != "suppressed":
        try:
            send_email(settings, outgoing)
            reached.append("email")
            delivery["email"] = "sent" if rep.kind == "new" else "sent reminder"
        except Exception as exc:  # noqa: BLE001 - a broken sink must not break the run
            log.warning("alert: email via %s:%s not sent: %s", settings.smtp_host, settings.smtp_port,
                        scrub.text(exc))
            delivery["email"] = f"error: {scrub.text(exc)}"
    if "file" in reached and len(delivery) > 1:
        try:
            _atomic_write_json(path, record)
        except OSError as exc:
            log.error("alert: could not update %s: %s", path, scrub.text(exc))
    return reached, path
