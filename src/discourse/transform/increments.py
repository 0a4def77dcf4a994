"""What tonight's build has to do: a full build, or which batches and reference data changed.

The build warehouse (``settings.build_warehouse``) persists between nights and holds every model's
history. After each successful build, ``<home>/state/build.json`` records what it was built from:
every lake batch with a hash of its manifest (a re-map rewrites the manifest), and a hash of each
other input (the dbt project apart from its seeds, each seed, each reference file, the transform
code, package versions, settings). ``plan_build`` compares the lake and the inputs with that record:

* **full** (``dbt build --full-refresh``): no build warehouse or record yet, the last build did not
  finish (the record is marked dirty before a build starts), ``--full-refresh``, or a change to what
  every model may depend on (models, macros, vars, the transform code, package versions, settings,
  an unknown reference file);
* **incremental**: the lake changed. ``delta_batches`` (new or re-mapped) and ``gone_batches``
  (rejected, or re-mapped: the old rows go) are passed to dbt as vars, and only the models that read
  the lake (``source:lake+``) run; they recompute the affected posts, dates and keys
  (``dbt_project/macros/incremental.sql``);
* plus **refresh**: a changed seed or reference file rebuilds exactly its descendants
  (``--select <it>+ --full-refresh``), after the incremental pass when both happen.

The invariant, tested in ``tests/dbt/test_incremental.py``: the marts after any sequence of nights
equal one full build over the same lake.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discourse.transform import state

# Reference files (under <home>/reference) and the dbt node that reads each.
REFERENCE_NODES = {
    "vader_lexicon.parquet": "source:reference.vader_lexicon",
    "vader_emoji.parquet": "source:reference.vader_emoji",
    "claims_extra.parquet": "source:reference_imports.claims_extra",
    "domains_extra.parquet": "source:reference_imports.domains_extra",
    "sentiment_overlay.parquet": "int_sentiment_overlay",
    "emotion_overlay.parquet": "int_emotion_overlay",
    "misinfo_text_model.parquet": "int_misinfo_text_model",
}
# Written beside reference files; their content is covered by the file itself.
_SIDECARS = (".sha256", ".import.json")
LAKE_MODELS = "source:lake+"
# The staging views over the whole lake: unchanged on an incremental night (a change to them is a
# project change, so a full build), and their data tests would scan the whole lake again; each
# batch was validated by the raw gate before it could reach a build.
LAKE_VIEWS = "path:models/staging/lake"


@dataclass
class BuildPlan:
    mode: str  # "full" or "incremental"
    reasons: list[str] = field(default_factory=list)
    delta_batches: list[str] = field(default_factory=list)
    gone_batches: list[str] = field(default_factory=list)
    refresh: list[str] = field(default_factory=list)  # dbt selectors rebuilt with their descendants
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def lake_changed(self) -> bool:
        return bool(self.delta_batches or self.gone_batches)

    def describe(self) -> str:
        if self.mode == "full":
            return "full build (" + "; ".join(self.reasons) + ")"
        parts = [f"{len(self.delta_batches)} new or re-mapped batch(es)",
                 f"{len(self.gone_batches)} gone"]
        if self.refresh:
            parts.append("rebuilding " + ", ".join(f"{r}+" for r in self.refresh))
        return "incremental build: " + ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "reasons": self.reasons, "delta_batches": len(self.delta_batches),
                "gone_batches": len(self.gone_batches), "refresh": self.refresh}


def record_file(settings: Any) -> Path:
    return Path(settings.home) / "state" / "build.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lake_batches(settings: Any) -> dict[str, str]:
    """Every committed batch (on local disk or object storage): its id and a hash of its manifest."""
    from ingest.lake import lake_manifest_documents

    out = {}
    for text in lake_manifest_documents(settings):
        try:
            batch_id = json.loads(text)["batch_id"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign file: not a committed batch
        out[str(batch_id)] = _sha(text)
    return out


def _project_hashes(project_dir: Path) -> dict[str, Any]:
    project_dir = Path(project_dir)
    seeds_dir = project_dir / "seeds"
    seeds = {}
    if seeds_dir.is_dir():
        for path in sorted(seeds_dir.rglob("*.csv")):
            seeds[path.stem] = _sha(path.read_bytes())
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(project_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in state.NOT_INPUTS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            is_seed = path.suffix == ".csv" and seeds_dir in path.parents
            if name.startswith(".") or name.endswith(".tmp") or is_seed:
                continue
            h.update(str(path.relative_to(project_dir)).encode())
            h.update(_sha(path.read_bytes()).encode())
    return {"code": h.hexdigest(), "seeds": seeds}


def _reference_hashes(reference_dir: Path) -> dict[str, str]:
    out = {}
    if Path(reference_dir).is_dir():
        for path in sorted(Path(reference_dir).iterdir()):
            skipped = path.name.startswith(".") or path.name.endswith((".tmp", *_SIDECARS))
            if path.is_file() and not skipped:
                out[path.name] = _sha(path.read_bytes())
    return out


def current_inputs(settings: Any, project_dir: Path) -> dict[str, Any]:
    """The inputs a build depends on, hashed per part (the lake per batch)."""
    project = _project_hashes(project_dir)
    return {
        "batches": lake_batches(settings),
        "project_code": project["code"],
        "seeds": project["seeds"],
        "reference": _reference_hashes(Path(settings.reference_dir)),
        "transform_code": state.tree_hash(Path(state.__file__).resolve().parent),
        "packages": state.versions(),
        "settings": {name: str(getattr(settings, name, None)) for name in state.SETTINGS},
        "warehouse": str(Path(settings.build_warehouse)),
    }


def read_record(settings: Any) -> dict[str, Any] | None:
    try:
        return json.loads(record_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_record(settings: Any, inputs: dict[str, Any] | None, *, clean: bool) -> None:
    """After a build: what it was built from. Before one: ``clean=False`` (a build that does not
    finish leaves a warehouse half-updated, so the next one is full)."""
    path = record_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(inputs or read_record(settings) or {})
    data["clean"] = clean
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def plan_build(settings: Any, project_dir: Path, *, full_refresh: bool = False) -> BuildPlan:
    """Compare the lake and the inputs with the last build's record (see the module docstring)."""
    inputs = current_inputs(settings, project_dir)
    last = read_record(settings)
    reasons = []
    if full_refresh:
        reasons.append("--full-refresh")
    if not Path(settings.build_warehouse).exists():
        reasons.append("no build warehouse yet")
    if last is None:
        reasons.append("no record of a previous build")
    elif not last.get("clean"):
        reasons.append("the previous build did not finish")
    else:
        for part, label in (("project_code", "dbt models, macros or vars changed"),
                            ("transform_code", "transform code changed"),
                            ("packages", "package versions changed"),
                            ("settings", "build settings changed"),
                            ("warehouse", "build warehouse moved")):
            if last.get(part) != inputs[part]:
                reasons.append(label)
        unknown = [name for name in set(last.get("reference", {})) | set(inputs["reference"])
                   if name not in REFERENCE_NODES
                   and last.get("reference", {}).get(name) != inputs["reference"].get(name)]
        if unknown:
            reasons.append("reference data changed: " + ", ".join(sorted(unknown)))
    if reasons:
        return BuildPlan("full", reasons=reasons, inputs=inputs)

    assert last is not None
    before, now = last.get("batches", {}), inputs["batches"]
    delta = sorted(b for b, h in now.items() if before.get(b) != h)
    gone = sorted(b for b, h in before.items() if now.get(b) != h)
    refresh = sorted(
        [name for name in set(last.get("seeds", {})) | set(inputs["seeds"])
         if last.get("seeds", {}).get(name) != inputs["seeds"].get(name) and name in inputs["seeds"]]
        + [REFERENCE_NODES[name] for name in set(last.get("reference", {})) | set(inputs["reference"])
           if name in REFERENCE_NODES
           and last.get("reference", {}).get(name) != inputs["reference"].get(name)])
    removed_seeds = [n for n in last.get("seeds", {}) if n not in inputs["seeds"]]
    if removed_seeds:
        return BuildPlan("full", reasons=[f"seed removed: {', '.join(removed_seeds)}"], inputs=inputs)
    return BuildPlan("incremental", delta_batches=delta, gone_batches=gone, refresh=refresh, inputs=inputs)
