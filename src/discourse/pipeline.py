"""The nightly steps as plain functions, shared by the CLI (`discourse run`), the tests and the DAG.

    list_new_files → ingest_one (per file) → raw_gate → prepare_transform + transform (dbt build)
    → marts_gate → publish (``discourse.publish``) → report

A failing gate sends its alert and raises ``GateFailed``; publish then never happens, so the previously
published warehouse stays in place for analysts. dbt always builds into ``settings.build_warehouse``;
``publish`` swaps that file into ``settings.warehouse`` with an atomic rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.publish import publish
from discourse.settings import Settings

Echo = Callable[[str], None]


class GateFailed(Exception):
    """A blocking data-quality gate failed; publish is skipped."""

    def __init__(self, result: dict[str, Any]):
        self.result = result
        names = sorted({f.get("expectation", "?") for f in result.get("failures", [])})
        super().__init__(f"{result.get('stage')} gate failed: {', '.join(names) or 'see Data Docs'}")


class RunLocked(Exception):
    pass


def _quiet(_: str) -> None:
    return None


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One run at a time per home: DuckDB has a single writer and the lake has one manifest."""
    settings.home.mkdir(parents=True, exist_ok=True)
    fh = open(settings.home / ".run.lock", "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLocked(f"another run holds {settings.home / '.run.lock'}") from exc
        yield
    finally:
        fh.close()


def ensure_home(settings: Settings) -> None:
    for d in (settings.inbox, settings.posts_dir, settings.quarantine_dir, settings.manifest_dir,
              settings.reports_dir, settings.alerts_dir, settings.build_dir):
        d.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- ingest

def _is_export_candidate(rel: Path) -> bool:
    """Hidden/underscored names and ``*.meta.json`` sidecars (read by adapters) are not exports."""
    return (not any(part.startswith((".", "_")) for part in rel.parts)
            and not rel.name.endswith(".meta.json"))


def list_new_files(settings: Settings) -> list[str]:
    """Inbox files (recursively; names starting with '.' or '_' are ignored) not yet ingested."""
    from ingest.lake import ingested_sources

    if not settings.inbox.is_dir():
        return []
    done = ingested_sources(settings)
    out = []
    for p in sorted(settings.inbox.rglob("*")):
        rel = p.relative_to(settings.inbox)
        if not _is_export_candidate(rel) or not p.is_file():
            continue
        st = p.stat()
        if (str(p.resolve()), st.st_size, st.st_mtime_ns) not in done:
            out.append(str(p))
    return out


def ingest_one(
    settings: Settings,
    path: str,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Ingest one file. An unrecognised file is reported (``error``) and left where it is."""
    from ingest.lake import ingest_file
    from ingest.registry import UnrecognisedFormat

    try:
        entries = ingest_file(settings, path, fmt=fmt, options=options, force=force, progress=progress)
    except UnrecognisedFormat as exc:
        return {"path": path, "error": str(exc), "batch_ids": [], "status": "unrecognised"}
    drift = [d for e in entries if e["status"] == "ingested" for d in drift_check(settings, e)]
    keys = ("records_in", "loaded", "quarantined", "duplicates_within_batch", "skipped_total")
    summary: dict[str, Any] = {
        "path": path,
        "format": ",".join(sorted({e["export_format"] for e in entries})),
        "batch_ids": [e["batch_id"] for e in entries],
        "status": ",".join(sorted({e["status"] for e in entries})),
        "skipped": {},
        "platforms": {},
        "drift": drift,
    }
    for k in keys:
        summary[k] = sum(int(e.get(k, 0)) for e in entries)
    for e in entries:
        for r, n in e.get("skipped", {}).items():
            summary["skipped"][r] = summary["skipped"].get(r, 0) + n
        for p, n in e.get("platforms", {}).items():
            summary["platforms"][p] = summary["platforms"].get(p, 0) + n
        if e.get("unrecognised_members"):
            summary.setdefault("unrecognised_members", []).extend(e["unrecognised_members"])
    return summary


def drift_check(settings: Settings, entry: dict[str, Any], run_id: str | None = None) -> list[dict]:
    """Compare a new batch's field profile with its format's trailing profile; alert on drift
    (a warning: the batch is kept, the maintainers are told which paths moved and by how much)."""
    from ingest.drift import check_drift, drift_alert_failures
    from ingest.lake import read_manifests
    from quality.alerts import Alert, send_alert

    findings = check_drift(entry, read_manifests(settings.manifest_dir))
    if findings:
        paths = ", ".join(f"{f['path']} ({f['kind'].replace('_', ' ')})" for f in findings[:6])
        send_alert(settings, Alert(
            stage="drift",
            title=f"Export format drift: {entry['export_format']}",
            severity="warning",
            summary=f"{entry['source_file']} (batch {entry['batch_id']}): {len(findings)} field(s) "
                    f"drifted from the trailing profile of {entry['export_format']}: {paths}",
            failures=drift_alert_failures(entry, findings),
            run_id=run_id,
            extra={"batch_id": entry["batch_id"], "export_format": entry["export_format"],
                   "findings": findings},
        ))
    return findings


# ---------------------------------------------------------------- gates

def _gate(settings: Settings, result: Any, run_id: str | None) -> dict[str, Any]:
    from quality.alerts import alert_from_gate, send_alert

    data = result.to_dict()
    if not result.success:
        sinks = send_alert(settings, alert_from_gate(result, run_id or new_run_id()))
        data["alerted"] = sinks
        if getattr(result, "severity", "error") == "error":
            raise GateFailed(data)
    return data


def raw_gate(settings: Settings, batch_ids: list[str], run_id: str | None = None) -> dict[str, Any]:
    """Validate the new batches together; if that fails, find the failing ones, set them aside
    under ``lake/_rejected/`` (so no later build reads them), alert, and raise ``GateFailed``."""
    from quality.gates import run_raw_gate

    result = run_raw_gate(settings, batch_ids)
    if result.success or not batch_ids:
        return _gate(settings, result, run_id)
    failing = batch_ids
    if len(batch_ids) > 1:
        failing = [b for b in batch_ids if not run_raw_gate(settings, [b]).success] or batch_ids
    try:
        return _gate(settings, result, run_id)
    except GateFailed as exc:
        exc.result["rejected_batches"] = reject_batches(settings, failing, exc.result)
        raise


def reject_batches(settings: Settings, batch_ids: list[str], gate: dict[str, Any]) -> list[str]:
    """Move the batches' lake files and manifests to ``lake/_rejected/<batch_id>/``.

    The source files stay in the inbox and count as new again, so the next run retries them (and
    alerts again) until the export or the adapter is fixed.
    """
    from ingest.lake import iter_batches

    moved = []
    for m in iter_batches(settings, batch_ids):
        dest = settings.lake / "_rejected" / m["batch_id"]
        dest.mkdir(parents=True, exist_ok=True)
        for rel in m.get("files", []):
            src = settings.lake / rel
            if src.exists():
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, target)
        (dest / "gate.json").write_text(json.dumps(gate, indent=1, default=str))
        os.replace(settings.manifest_dir / f"{m['batch_id']}.json", dest / "manifest.json")
        moved.append(m["batch_id"])
    return moved


def marts_gate(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    from quality.gates import run_marts_gate

    return _gate(settings, run_marts_gate(settings, settings.build_warehouse), run_id)


def volume_check(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Warn (never block) when a platform's daily volume collapses or jumps against its baseline."""
    from quality.volume import check_volume

    return _gate(settings, check_volume(settings, settings.build_warehouse), run_id)


# ---------------------------------------------------------------- transform and publish

def prepare_transform(settings: Settings) -> dict[str, str]:
    """Reference data for dbt (VADER's lexicon from its package, ...) and the env vars dbt reads."""
    from discourse.transform import dbt_env
    from discourse.transform.reference import prepare_reference

    prepare_reference(settings)
    return dbt_env(settings)


def transform(settings: Settings) -> dict[str, Any]:
    from discourse.transform import build_marts

    settings.build_dir.mkdir(parents=True, exist_ok=True)
    # Always build from scratch: the marts are a pure function of the lake and the seeds.
    for suffix in ("", ".wal"):
        Path(str(settings.build_warehouse) + suffix).unlink(missing_ok=True)
    return build_marts(settings)


def report(settings: Settings) -> dict[str, Any]:
    from discourse.report import build_report

    path = build_report(settings)
    return {"report": str(path)}


def alert_task_failure(settings: Settings, context: dict[str, Any]) -> list[str]:
    """Body of the Airflow failure callback: tell the maintainers which task failed and why."""
    from quality.alerts import alert_for_task_failure, send_alert

    return send_alert(settings, alert_for_task_failure(context))


# ---------------------------------------------------------------- the whole run

def run(settings: Settings, echo: Echo = _quiet, files: list[str] | None = None) -> dict[str, Any]:
    """The nightly job without a scheduler. Returns the run summary (also written under runs/)."""
    from ingest.lake import cleanup_temp_files

    run_id = new_run_id()
    summary: dict[str, Any] = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(),
                               "steps": {}, "ingest": [], "gates": {}, "published": False}
    t_run = time.perf_counter()

    def step(name: str, fn: Callable[[], Any]) -> Any:
        echo(f"[{name}] ...")
        t0 = time.perf_counter()
        out = fn()
        summary["steps"][name] = round(time.perf_counter() - t0, 2)
        echo(f"[{name}] done in {summary['steps'][name]:.1f}s")
        return out

    with run_lock(settings):
        ensure_home(settings)
        cleanup_temp_files(settings.lake)
        new = files if files is not None else list_new_files(settings)
        echo(f"[list] {len(new)} new file(s) in {settings.inbox}")
        batch_ids: list[str] = []
        for path in new:
            res = step(f"ingest {Path(path).name}", lambda p=path: ingest_one(settings, p))
            summary["ingest"].append(res)
            if res.get("error"):
                echo(f"  ! {res['error']} (left in the inbox)")
            else:
                batch_ids += res["batch_ids"]
                echo(f"  {res['format']}: {res['loaded']} loaded, {res['quarantined']} quarantined, "
                     f"{res['duplicates_within_batch']} duplicates, {res['skipped_total']} skipped"
                     f" ({res['status']})")
                for f in res.get("drift", []):
                    echo(f"  ! format drift: {f['path']} {f['kind'].replace('_', ' ')} (alert sent)")
        try:
            summary["gates"]["raw"] = step("raw gate", lambda: raw_gate(settings, batch_ids, run_id))
            summary["transform"] = step("dbt build", lambda: (prepare_transform(settings),
                                                              transform(settings))[1])
            summary["gates"]["marts"] = step("marts gate", lambda: marts_gate(settings, run_id))
            summary["gates"]["volume"] = step("volume check", lambda: volume_check(settings, run_id))
            summary["publish"] = step("publish", lambda: publish(settings, run_id))
            summary["published"] = True
        except GateFailed as exc:
            summary["gates"][exc.result.get("stage", "?")] = exc.result
            summary["failed"] = str(exc)
            echo(f"[gate] FAILED: {exc} — publish skipped; the previously published marts stay in place")
        if settings.warehouse.exists():
            summary["report"] = step("report", lambda: report(settings))["report"]
    summary["seconds"] = round(time.perf_counter() - t_run, 2)
    summary["finished_at"] = datetime.now(UTC).isoformat()
    runs = settings.home / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    tmp = runs / f".{run_id}.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1, default=str))
    os.replace(tmp, runs / f"{run_id}.json")
    return summary


def reset_build(settings: Settings) -> None:
    shutil.rmtree(settings.build_dir, ignore_errors=True)
