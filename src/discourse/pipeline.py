"""The nightly steps as plain functions, shared by the CLI (`discourse run`), the tests and the DAG.

    list_new_files → ingest_one (per file) → raw_gate → prepare_transform + transform (dbt build)
    → staging_gate → marts_gate → publish (``discourse.publish``) → report

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
from typing import Any, Protocol

from discourse.crash import crash_point
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
def run_lock(settings: Settings, echo: Echo = _quiet) -> Iterator[None]:
    """One run at a time per home: DuckDB has a single writer and the lake has one manifest.

    A second run fails at once (``RunLocked``). The run then takes the lake's lock exclusively
    (``lake_lock``), waiting for a ``discourse ingest`` at work to finish, and holds both to the end:
    its cleanup removes ``.tmp`` files and orphans, which must never be an ingest's work in flight."""
    settings.home.mkdir(parents=True, exist_ok=True)
    fh = open(settings.home / ".run.lock", "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RunLocked(f"another run holds {settings.home / '.run.lock'}") from exc
        with lake_lock(settings, shared=False, echo=echo):
            yield
    finally:
        fh.close()


# A scheduled night (the Airflow DAG) runs as separate task processes, so no one process can hold the
# lake's lock from its first step to its publish as ``discourse run`` does. It takes a hold instead:
# ``<home>/.lake.hold`` names the night; every other holder of the lake's lock (an ingest, a run, a
# remap, a forget) waits while it is there, and the night's own tasks (``night=<its run id>``) go on.
# The night releases it at its end (last task, and its success or failure callback); a hold older
# than ``HOLD_MAX_S`` (the DAG's run timeout and a margin) is stale and ignored.
HOLD_FILE = ".lake.hold"
HOLD_MAX_S = 6 * 3600 + 600
HOLD_POLL_S = 2.0


def _read_hold(settings: Settings) -> dict[str, Any] | None:
    try:
        data = json.loads((settings.home / HOLD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or time.time() > float(data.get("until") or 0):
        return None
    return data


def release_night_hold(settings: Settings, night: str) -> bool:
    """Remove the night's hold on the lake (nothing when another night, or none, holds it)."""
    hold = _read_hold(settings)
    path = settings.home / HOLD_FILE
    if hold is not None and hold.get("night") != night:
        return False
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


@contextmanager
def lake_lock(settings: Settings, *, shared: bool, echo: Echo = _quiet, night: str | None = None,
              take: bool = False) -> Iterator[None]:
    """The home's lake lock (``<home>/.lake.lock``): every writer of the lake holds it.

    ``discourse ingest`` holds it shared (ingests may run side by side: each writes its own batch);
    ``discourse run`` and ``discourse remap`` hold it exclusively (they clean up and read the whole
    lake). A writer that finds it taken says so through ``echo`` and waits.

    A scheduled night's tasks pass ``night`` (the DAG run's id); its first task passes ``take`` too,
    which writes the night's hold (``HOLD_FILE``) once the lock is had, replacing any older hold (one
    night at a time: ``max_active_runs=1``). Everyone else waits while a hold of another night is there."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / ".lake.lock"
    fh = open(path, "a")
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            who = "a run (or a remap)" if shared else "an ingest (or another writer)"
            echo(f"[lock] waiting: {who} holds {path}; going on as soon as it is done")
            t0 = time.perf_counter()
            fcntl.flock(fh, mode)
            echo(f"[lock] {path} acquired after {time.perf_counter() - t0:.1f}s")
        if take:
            from ingest.store import atomic_write_text

            assert night, "a hold names its night"
            atomic_write_text(settings.home / HOLD_FILE, json.dumps(
                {"night": night, "since": time.time(), "until": time.time() + HOLD_MAX_S}))
        else:
            t0 = time.perf_counter()
            waited = False
            while (hold := _read_hold(settings)) is not None and hold.get("night") != night:
                if not waited:
                    echo(f"[lock] waiting: the scheduled night {hold.get('night')} holds the lake "
                         f"({settings.home / HOLD_FILE}) until it publishes")
                    waited = True
                fcntl.flock(fh, fcntl.LOCK_UN)
                time.sleep(HOLD_POLL_S)
                fcntl.flock(fh, mode)
            if waited:
                echo(f"[lock] the night's hold was released after {time.perf_counter() - t0:.1f}s")
        yield
    finally:
        fh.close()


def ensure_home(settings: Settings) -> None:
    # an inbox or lake on object storage (inbox_url, lake_url) has no local folder
    local = ([] if settings.inbox_url else [settings.inbox]) + (
        [] if settings.lake_url else [settings.posts_dir, settings.quarantine_dir, settings.manifest_dir])
    for d in (*local, settings.reports_dir, settings.alerts_dir, settings.build_dir):
        d.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- ingest

def _is_export_candidate(rel: Path) -> bool:
    """Hidden/underscored names and ``*.meta.json`` sidecars (read by adapters) are not exports."""
    return (not any(part.startswith((".", "_")) for part in rel.parts)
            and not rel.name.endswith(".meta.json"))


def list_new_files(settings: Settings) -> list[str]:
    """Inbox files (recursively; names starting with '.' or '_' are ignored) not yet ingested."""
    from ingest.lake import ingested_sources, list_inbox

    if settings.inbox_url:  # objects on object storage, named by their s3:// URLs
        done = ingested_sources(settings)
        return [url for url, rel, size, mtime_ns in list_inbox(settings)
                if _is_export_candidate(Path(rel)) and (url, size, mtime_ns) not in done]
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
    run_id: str | None = None,
) -> dict[str, Any]:
    """Ingest one file, in isolation: whatever is wrong with it never stops the run.

    An unrecognised file is reported (``error``) and left where it is. A file that fails (truncated
    or corrupt, over an ingest limit, or an adapter error) is reported with a one-line ``error``
    naming the file, alerted, and left in the inbox (nothing of the failing source was published; it
    is tried again next run).
    """
    from discourse.settings import SettingsError
    from ingest.lake import ingest_file
    from ingest.registry import UnrecognisedFormat
    from ingest.sources import LimitExceeded

    try:
        entries = ingest_file(settings, path, fmt=fmt, options=options, force=force, progress=progress)
    except UnrecognisedFormat as exc:
        return {"path": path, "error": str(exc), "batch_ids": [], "status": "unrecognised"}
    except SettingsError:
        raise  # the configuration is wrong (say, no pseudonym key): no file can be ingested
    except Exception as exc:  # noqa: BLE001 - one poison file must not stop the night
        status = "refused" if isinstance(exc, LimitExceeded) else "failed"
        error = _one_line_error(path, exc)
        res = {"path": path, "error": error, "batch_ids": [], "status": status}
        res["alerted"] = _alert_ingest_failure(settings, path, error, status, run_id)
        return res
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
        for note in e.get("notes", []) if e["status"] == "ingested" else []:
            summary.setdefault("notes", []).append(f"{e['source_file']}: {note}")
    return summary


def _one_line_error(path: str, exc: BaseException) -> str:
    """``exc`` as one line naming the file (the message's first line, cut to 300 characters)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if str(path) not in text:
        text = f"{path}: {type(exc).__name__}" + (f": {text}" if text else "")
    return text if len(text) <= 300 else text[:299] + "…"


def _alert_ingest_failure(settings: Settings, path: str, error: str, status: str,
                          run_id: str | None) -> list[str]:
    from quality.alerts import Alert, send_alert

    return send_alert(settings, Alert(
        stage="ingest",
        title=f"Ingest {status}: {Path(path).name}",
        severity="error",
        summary=f"{error} (left in the inbox; the other files went on)",
        run_id=run_id,
        extra={"path": str(path), "status": status},
    ))


def drift_check(settings: Settings, entry: dict[str, Any], run_id: str | None = None) -> list[dict]:
    """Compare a new batch's field profile with its format's trailing profile; alert on drift
    (a warning: the batch is kept, the maintainers are told which paths moved and by how much)."""
    from ingest.drift import check_drift, drift_alert_failures
    from ingest.lake import lake_manifests
    from quality.alerts import Alert, send_alert

    findings = check_drift(entry, lake_manifests(settings))
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
    """Validate the batches not gated yet, and reject the failing ones: the rest are published.

    The batches are validated together; when that fails, each is validated alone, and the failing
    ones are set aside under ``lake/_rejected/`` (so no build reads them) with one alert each, naming
    the batch, its file, what failed and what happens next. The gate then passes for the rest, so one
    bad export does not hold back the night. Batches that passed are recorded as gated
    (``gated_batches``), so every batch is gated exactly once, however it reached the lake.
    """
    from quality.gates import run_raw_gate

    result = run_raw_gate(settings, batch_ids, run_id=run_id)
    if result.success or not batch_ids:
        data = _gate(settings, result, run_id)
        mark_gated(settings, batch_ids)
        return data
    per_batch = ({b: run_raw_gate(settings, [b], run_id=run_id) for b in batch_ids}
                 if len(batch_ids) > 1 else {})
    failing = [b for b, r in per_batch.items() if not r.success] or list(batch_ids)
    data = result.to_dict()
    data["rejected_batches"] = []
    data["alerted"] = []
    for batch in failing:
        batch_result = per_batch.get(batch, result)
        batch_data = batch_result.to_dict()
        moved = reject_batches(settings, [batch], batch_data)
        data["rejected_batches"] += moved
        data["alerted"] += _alert_rejected_batch(settings, batch_result, batch, run_id)
    passed = [b for b in batch_ids if b not in failing]
    mark_gated(settings, passed)
    data["success"] = True  # what remains passed; the rejections are reported above
    data["blocking"] = False
    data["passed_batches"] = passed
    return data


def _alert_rejected_batch(settings: Settings, result: Any, batch_id: str, run_id: str | None) -> list[str]:
    from ingest.lake import rejected_manifest
    from quality.alerts import alert_from_gate, send_alert

    manifest = rejected_manifest(settings, batch_id) or {}
    source = manifest.get("source_file") or "?"
    alert = alert_from_gate(result, run_id)
    alert.title = f"raw gate rejected batch {batch_id} ({Path(source.split('!')[0]).name})"
    alert.severity = "warning"
    alert.summary = "\n".join([
        f"Batch {batch_id} from {source} failed the raw gate and was set aside under "
        f"lake/_rejected/{batch_id}/; the other batches of this run are published.",
        *[line for line in alert.summary.splitlines() if not line.startswith(("Publish is blocked",
                                                                               "Warning only"))],
    ])
    alert.next_step = ("rejected: the export stays in the inbox and is tried again every night until it "
                       "passes (repeats are grouped into one reminder a day). Fix the export (or the "
                       "adapter, then `discourse remap`) and drop it in the inbox again.")
    alert.extra = {**alert.extra, "batch_id": batch_id, "source_file": source, "next": "retried nightly"}
    return send_alert(settings, alert)


def manifest_digest(manifest: dict[str, Any]) -> str:
    """What the raw gate's record names of a batch: a hash of its manifest as parsed (a batch ingested
    again, forced, re-mapped or recovered has a new manifest, so it is gated again)."""
    import hashlib

    return hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest()[:16]


def gated_batches(settings: Settings) -> dict[str, str | None]:
    """Batches that passed the raw gate, with the digest of the manifest that passed
    (``<home>/state/gated_batches.json``; a record written before digests were kept has None)."""
    try:
        data = json.loads((settings.home / "state" / "gated_batches.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(data, list):
        return {str(b): None for b in data}
    return {str(b): d for b, d in data.items()} if isinstance(data, dict) else {}


def mark_gated(settings: Settings, batch_ids: list[str]) -> None:
    from ingest.lake import iter_batches
    from ingest.store import atomic_write_text

    if not batch_ids:
        return
    path = settings.home / "state" / "gated_batches.json"
    record = gated_batches(settings)
    record.update({m["batch_id"]: manifest_digest(m) for m in iter_batches(settings, batch_ids)})
    atomic_write_text(path, json.dumps(record, sort_keys=True))


def ungated_batches(settings: Settings) -> list[str]:
    """Batches in the lake whose manifest never passed the raw gate: ingested with ``discourse
    ingest``, by a run that stopped before its gate, ingested again, or before this record existed."""
    from ingest.lake import lake_manifests

    done = gated_batches(settings)
    return sorted(m["batch_id"] for m in lake_manifests(settings)
                  if m["batch_id"] not in done
                  or done[m["batch_id"]] not in (None, manifest_digest(m)))


def reject_batches(settings: Settings, batch_ids: list[str], gate: dict[str, Any]) -> list[str]:
    """Move the batches' lake files and manifests to ``lake/_rejected/<batch_id>/``.

    The source files stay in the inbox and count as new again, so the next run retries them (and
    alerts again) until the export or the adapter is fixed.
    """
    from ingest.lake import iter_batches, reject_batch
    from ingest.store import atomic_write_text

    moved = []
    for m in iter_batches(settings, batch_ids):
        if settings.lake_url:  # on object storage: the same, by copies and deletes
            reject_batch(settings, m, gate)
            moved.append(m["batch_id"])
            continue
        # The decision first (gate.json, then the manifest's exact bytes), then the commit point (the
        # manifest leaves _manifest: the batch is no longer accepted), then the files, idempotently.
        # A crash anywhere is finished by the next run's ``settle`` (``ingest.lake.settle_lake``).
        dest = settings.lake / "_rejected" / m["batch_id"]
        dest.mkdir(parents=True, exist_ok=True)
        mpath = settings.manifest_dir / f"{m['batch_id']}.json"
        atomic_write_text(dest / "gate.json", json.dumps(gate, indent=1, default=str))
        atomic_write_text(dest / "manifest.json", mpath.read_text(encoding="utf-8"))
        crash_point("reject.decided")
        mpath.unlink()
        crash_point("reject.committed")
        for rel in m.get("files", []):
            src = settings.lake / rel
            if src.exists():
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, target)
                crash_point("reject.moved")
        moved.append(m["batch_id"])
    return moved


def settle(settings: Settings, run_id: str | None = None, echo: Echo = _quiet) -> dict[str, Any]:
    """Before a run reads the lake (its lock held): finish interrupted rejections, remove orphan
    files no manifest accounts for, set aside unreadable manifests (``ingest.lake.settle_lake``), and
    alert once for every manifest set aside (by this or any earlier command)."""
    from ingest.lake import settle_lake

    done = settle_lake(settings)
    for b in done["rejections_finished"]:
        echo(f"[recover] finished the rejection of batch {b} a crash interrupted")
    if done["orphans_removed"]:
        echo(f"[recover] removed {len(done['orphans_removed'])} lake file(s) no manifest accounts for "
             "(a crash before their manifest was written); their sources count as not ingested")
    done["alerted"] = alert_corrupt_manifests(settings, run_id)
    return done


def alert_corrupt_manifests(settings: Settings, run_id: str | None = None) -> list[str]:
    """One alert per manifest set aside as unreadable, not alerted yet (``state/corrupt_alerted.json``)."""
    from ingest.lake import corrupt_manifests
    from ingest.store import atomic_write_text
    from quality.alerts import Alert, send_alert

    state = settings.home / "state" / "corrupt_alerted.json"
    try:
        seen = set(json.loads(state.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        seen = set()
    new = [p for p in corrupt_manifests(settings) if p not in seen]
    sinks: list[str] = []
    for path in new:
        name = Path(path).name
        batch = name.split(".", 1)[0]
        sinks += send_alert(settings, Alert(
            stage="lake",
            title=f"Unreadable manifest set aside: {name.split('.corrupt-')[0]}",
            severity="warning",
            summary="\n".join([
                f"The manifest of batch {batch} was not a readable JSON document; it was set aside as "
                f"{path} so that no command stops on it.",
                "The batch now counts as not ingested: its lake files were removed as orphans, and its "
                "source is ingested again (from the inbox, by the next run; otherwise with "
                "`discourse ingest`).",
                "Next: nothing is needed; look at the set-aside file if the cause matters (a disk "
                "fault, a hand edit), then delete it.",
            ]),
            run_id=run_id,
            extra={"batch_id": batch, "set_aside_as": path},
            next_step=("ingested again: the batch counts as not ingested and its source is ingested "
                       "again from the inbox by the next run; nothing needs a human"),
        ))
        seen.add(path)
    if new:
        atomic_write_text(state, json.dumps(sorted(seen)))
    return sinks


def staging_gate(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Validate the build warehouse's staged posts against the lake: dedup held, no post lost, and
    each committed batch accounted for (manifest, lake files, staging). After an incremental night
    whose predecessors passed, the posts and batches the night staged (``quality.posts_scope``)."""
    from quality.gates import run_staging_gate

    return _gate(settings, run_staging_gate(settings, settings.build_warehouse, run_id=run_id, night=True),
                 run_id)


def marts_gate(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    from quality.gates import run_marts_gate

    return _gate(settings, run_marts_gate(settings, settings.build_warehouse, run_id=run_id), run_id)


def freshness_check(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Warn (never block) when a source stayed quiet longer than ``quiet_after`` allows."""
    from quality.freshness import check_settings_freshness

    return _gate(settings, check_settings_freshness(settings), run_id)


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


def transform(settings: Settings, echo: Echo = _quiet, *, full_refresh: bool = False) -> dict[str, Any]:
    """``dbt build`` into the build warehouse, incrementally unless ``full_refresh`` or the inputs
    call for a full build (``discourse.transform.increments``); ``echo`` gets the plan and node
    counts while it runs."""
    from discourse.transform import build_marts

    settings.build_dir.mkdir(parents=True, exist_ok=True)
    nodes = _NodeEcho(echo)
    try:
        summary = build_marts(settings, progress=nodes, full_refresh=full_refresh)
    finally:
        nodes.close()
    echo(f"[dbt build] {summary['plan_text']}")
    return summary


def dbt_docs(settings: Settings, echo: Echo = _quiet) -> dict[str, Any]:
    """The warehouse's documentation (``dbt docs generate --static``) at ``<home>/docs/index.html``.
    The marts are published already: a failure here is reported (run record, warning) but does not
    undo the night."""
    from discourse.transform import TransformError, generate_docs

    try:
        return generate_docs(settings)
    except TransformError as exc:
        echo(f"  ! dbt docs were not generated: {exc}")
        return {"error": str(exc)}


# ---------------------------------------------------------------- progress

class Counter(Protocol):
    """A live count of one piece of work, kept by an ``echo`` that keeps counters (the CLI's
    ``Reporter``: a rich bar on a terminal, a line every few seconds in a log)."""

    def __call__(self, k: int) -> None: ...  # k more done

    def set(self, n: int, total: int | None = None, detail: str | None = None) -> None: ...

    def close(self) -> None: ...


def counter(echo: Echo, label: str, unit: str) -> Counter | None:
    """``echo``'s counter for ``label`` if it keeps counters (``echo.counter(label, unit)``), else None
    (a plain callable, such as the DAG's ``log.info``)."""
    start = getattr(echo, "counter", None)
    return start(label, unit) if callable(start) else None


def _ingest_counted(settings: Settings, path: str, echo: Echo, run_id: str | None) -> dict[str, Any]:
    """``ingest_one``, its records counted on ``echo``'s counter when it keeps one."""
    records = counter(echo, f"ingest {Path(path).name}", "records")
    try:
        return ingest_one(settings, path, progress=records, run_id=run_id)
    finally:
        if records is not None:
            records.close()


class _NodeEcho:
    """dbt progress from dbt's own events (``NodeFinished``, counted by the runner): on ``echo``'s
    counter when it keeps one, otherwise a line at most every few seconds. No minutes of silence on a
    long build either way."""

    def __init__(self, echo: Echo, every: float = 5.0):
        self.echo, self.every, self.last = echo, every, time.perf_counter()
        self.counter = counter(echo, "dbt build", "nodes")

    def __call__(self, done: int, total: int, node: str, status: str) -> None:
        crash_point("dbt.node")  # DISCOURSE_CRASH_AT=dbt.node:<n>: killed inside the build
        parts = node.split(".")  # <type>.<project>.<name>[.<hash>]
        what = f"{parts[0]} {parts[2] if len(parts) > 2 else node}: {status}"
        if self.counter is not None:
            self.counter.set(done, total, what)
            return
        now = time.perf_counter()
        if now - self.last >= self.every or done == total:
            self.last = now
            self.echo(f"[dbt build] {done}/{total} nodes ({what})")

    def close(self) -> None:
        if self.counter is not None:
            self.counter.close()


def report(settings: Settings) -> dict[str, Any]:
    from discourse.report import build_report

    path = build_report(settings)
    return {"report": str(path)}


def alert_task_failure(settings: Settings, context: dict[str, Any]) -> list[str]:
    """Body of the Airflow failure callback: tell the maintainers which task failed and why."""
    from quality.alerts import alert_for_task_failure, send_alert

    return send_alert(settings, alert_for_task_failure(context))


# ---------------------------------------------------------------- the whole run

def run(
    settings: Settings,
    echo: Echo = _quiet,
    files: list[str] | None = None,
    *,
    full_refresh: bool = False,
) -> dict[str, Any]:
    """The nightly job without a scheduler. Returns the run summary (also written under runs/).

    When nothing the marts depend on changed since the last publish (no new batch, same dbt project,
    reference data, transform code and package versions: ``discourse.transform.state``), the gates,
    the build and the publish are skipped and the summary says ``nothing_new``. ``full_refresh``
    builds anyway.
    """
    run_id = new_run_id()
    summary: dict[str, Any] = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(),
                               "steps": {}, "ingest": [], "gates": {}, "published": False}
    t_run = time.perf_counter()
    locked = False
    try:
        _night(settings, summary, echo, files, full_refresh)
    except RunLocked:
        locked = True  # another run is at work: this one did nothing and records nothing
        raise
    except Exception as exc:
        summary["failed"] = f"{type(exc).__name__}: {exc}"
        summary["failed_step"] = summary.get("current_step")
        echo(f"[{summary['failed_step']}] FAILED: {summary['failed']}")
        summary["alerts"] = alert_run_failure(settings, summary, exc)
        raise
    finally:
        if not locked:
            summary["seconds"] = round(time.perf_counter() - t_run, 2)
            summary["finished_at"] = datetime.now(UTC).isoformat()
            write_run_record(settings, summary)
    return summary


def _night(
    settings: Settings,
    summary: dict[str, Any],
    echo: Echo,
    files: list[str] | None,
    full_refresh: bool,
) -> None:
    """The steps of ``run``, filling ``summary`` as they go (``current_step`` names the one at work)."""
    from discourse.forget import apply_deletes, deletes_pending, finish_pending, forget, retention_cutoff
    from discourse.transform import dbt_project_dir
    from discourse.transform.state import inputs_digest, published_inputs, record_published_inputs
    from ingest.lake import cleanup_lake
    from quality.parts import release_memory

    run_id = summary["run_id"]

    def step(name: str, fn: Callable[[], Any]) -> Any:
        summary["current_step"] = name
        echo(f"[{name}] ...")
        crash_point(f"before {name}")
        t0 = time.perf_counter()
        out = fn()
        release_memory()  # what the step freed goes back to the system, not under the next step
        crash_point(f"after {name}")
        summary["steps"][name] = round(time.perf_counter() - t0, 2)
        echo(f"[{name}] done in {summary['steps'][name]:.1f}s")
        return out

    summary["current_step"] = "list"
    with run_lock(settings, echo):
        ensure_home(settings)
        cleanup_lake(settings)
        summary["recovered"] = settle(settings, run_id, echo)
        crash_point("run.settled")
        retention = retention_cutoff(settings)
        if retention is not None:  # retention_days: forget what is older, before anything is built
            summary["retention"] = step("retention", lambda: forget(
                settings, before=retention, echo=echo, reason=f"retention_days={settings.retention_days}"))
        new = files if files is not None else list_new_files(settings)
        echo(f"[list] {len(new)} new file(s) in {settings.inbox_location}")
        batch_ids: list[str] = []
        for path in new:
            res = step(f"ingest {Path(path).name}", lambda p=path: _ingest_counted(settings, p, echo, run_id))
            summary["ingest"].append(res)
            if res.get("error"):
                echo(f"  ! {res['error']} (left in the inbox)")
            else:
                batch_ids += res["batch_ids"]
                echo(f"  {res['format']}: {res['loaded']} loaded, {res['quarantined']} quarantined, "
                     f"{res['duplicates_within_batch']} duplicates, {res['skipped_total']} skipped"
                     f" ({res['status']})")
                for note in res.get("notes", []):
                    echo(f"  ! warning: {note}")
                for f in res.get("drift", []):
                    echo(f"  ! format drift: {f['path']} {f['kind'].replace('_', ' ')} (alert sent)")
        if deletes_pending(settings):  # delete events (tonight's or earlier): their posts leave the lake
            summary["deletes"] = step("delete events", lambda: apply_deletes(settings, echo))
        summary["gates"]["freshness"] = step("freshness check", lambda: freshness_check(settings, run_id))
        project = dbt_project_dir(settings)
        last = published_inputs(settings)
        current = inputs_digest(settings, project)
        if (not batch_ids and not ungated_batches(settings) and not full_refresh
                and settings.warehouse.exists()
                and last is not None and last.get("digest") == current["digest"]):
            summary["nothing_new"] = True
            summary["published_run_id"] = last.get("run_id")
            echo(f"[transform] nothing new since run {last.get('run_id')}: no new batch, and the dbt "
                 "project, reference data and code are unchanged; the published marts are current")
            latest = max(settings.reports_dir.glob("report-*.html"), default=None)
            if latest is not None:
                summary["report"] = str(latest)
        else:
            try:
                # Every batch not gated yet, however it arrived (this run, `discourse ingest`, a run
                # that stopped early), is gated once before anything can publish it.
                to_gate = sorted(set(batch_ids) | set(ungated_batches(settings)))
                summary["gates"]["raw"] = step("raw gate", lambda: raw_gate(settings, to_gate, run_id))
                for b in summary["gates"]["raw"].get("rejected_batches", []):
                    echo(f"  ! batch {b} failed the raw gate: set aside in lake/_rejected/{b} (alert sent)")
                built_from: dict[str, Any] = {}

                def build() -> dict[str, Any]:
                    prepare_transform(settings)
                    # What this build reads: the lake after the raw gate's rejections, and the
                    # reference data as prepared for it.
                    built_from.update(inputs_digest(settings, project))
                    return transform(settings, echo, full_refresh=full_refresh)

                summary["transform"] = step("dbt build", build)
                summary["gates"]["staging"] = step("staging gate", lambda: staging_gate(settings, run_id))
                summary["gates"]["marts"] = step("marts gate", lambda: marts_gate(settings, run_id))
                summary["gates"]["volume"] = step("volume check", lambda: volume_check(settings, run_id))
                summary["publish"] = step("publish", lambda: publish(settings, run_id))
                summary["published"] = True
                record_published_inputs(settings, built_from, run_id)
                # after a forget: the snapshots and reports published before it go (they quote its rows)
                summary["forget_finished"] = finish_pending(settings)
                summary["docs"] = step("dbt docs", lambda: dbt_docs(settings, echo))
            except GateFailed as exc:
                summary["gates"][exc.result.get("stage", "?")] = exc.result
                summary["failed"] = str(exc)
                echo(f"[gate] FAILED: {exc} — publish skipped; the previously published marts stay in place")
            if settings.warehouse.exists():
                summary["report"] = step("report", lambda: report(settings))["report"]
    summary.pop("current_step", None)


def write_run_record(settings: Settings, summary: dict[str, Any]) -> Path:
    """``runs/<run_id>.json``: every run leaves one, failed or not (atomic write). It goes through the
    alerts' ``Redactor`` first, like every alert: no secret (webhook URL, SMTP password, pseudonym
    key, S3 secrets) reaches a run record, whatever a step put in the summary."""
    from quality.alerts import Redactor

    runs = settings.home / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_id = summary["run_id"]
    tmp = runs / f".{run_id}.json.tmp"
    plain = json.loads(json.dumps(summary, default=str))  # every value a JSON type, so all text is seen
    tmp.write_text(json.dumps(Redactor.for_settings(settings).data(plain), indent=1))
    path = runs / f"{run_id}.json"
    os.replace(tmp, path)
    return path


def alert_run_failure(settings: Settings, summary: dict[str, Any], exc: BaseException) -> list[str]:
    """One alert for a run that failed outside the gates: the step, the error, the run, what analysts see."""
    from quality.alerts import Alert, send_alert

    published = None
    try:
        published = json.loads((settings.home / "published.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    kept = (f"the marts published by run {published.get('run_id')} at {published.get('published_at')} "
            "stay in place for analysts" if published else "nothing has been published yet")
    step_name = summary.get("failed_step") or "?"
    alert = Alert(
        stage="run",
        title=f"discourse run failed at step {step_name}",
        severity="error",
        summary="\n".join([
            f"Run {summary['run_id']} failed at step '{step_name}'.",
            summary.get("failed", f"{type(exc).__name__}: {exc}"),
            f"Nothing was published by this run; {kept}.",
        ]),
        next_step="retried nightly: fix the cause; new exports stay in the inbox and the next run retries",
        run_id=summary["run_id"],
        extra={"step": step_name, "exception_type": type(exc).__name__, "exception": str(exc),
               "published": published},
    )
    try:
        return send_alert(settings, alert)
    except Exception:  # an alert that cannot be sent must not hide the run's own error
        return []


def reset_build(settings: Settings) -> None:
    shutil.rmtree(settings.build_dir, ignore_errors=True)
