"""Which rows of ``marts.posts`` the marts gate validates: every row, or only those tonight rewrote.

A data check over every post costs what the history costs (at 10M posts the marts gate's frame alone
would be gigabytes), so after an incremental build the gate validates only the posts the build
rewrote (``intermediate.int_posts_affected``: ``marts.posts`` deletes and re-inserts exactly those).
Every other row is one an earlier gate passed, unchanged since. That holds only while every earlier
build was validated, so the record says both what the last build rewrote and whether its gate passed:

* the build writes ``{"scope": "affected" | "all", "validated": false}`` to
  ``<home>/state/marts_gate.json``: ``affected`` only for an incremental build without reference
  refreshes (a refresh rewrites every post) after a build whose gate passed;
* the marts gate marks it ``validated`` when it passes.

A build whose gate failed or never ran (a crash, a failed night) leaves ``validated`` false, so the
next build's gate validates every row again. ``discourse run --full-refresh`` and full builds always
give ``all``. The same reasoning scopes the dbt data tests (docs/incremental.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AFFECTED = "affected"
ALL = "all"


def record_path(settings: Any) -> Path:
    return Path(settings.home) / "state" / "marts_gate.json"


def _read(settings: Any, path: Path | None = None) -> dict[str, Any]:
    try:
        data = json.loads((path or record_path(settings)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(settings: Any, data: dict[str, Any], path: Path | None = None) -> None:
    from ingest.store import atomic_write_text  # imports pyarrow: not when quality.gates is imported

    atomic_write_text(path or record_path(settings), json.dumps(data, sort_keys=True))


def begin_build(settings: Any) -> bool:
    """Before a build: whether every row was validated until now. The record then says ``all`` (a
    build that stops half-way leaves rows no gate has seen) until ``record_build``."""
    validated = _read(settings).get("validated") is True
    _write(settings, {"scope": ALL, "validated": False})
    return validated


def record_build(settings: Any, *, affected_only: bool, validated_before: bool) -> str:
    """After a build: ``affected_only`` when it rewrote only the affected posts, ``validated_before``
    what ``begin_build`` returned. Returns the scope the marts gate will use."""
    scope = AFFECTED if affected_only and validated_before else ALL
    _write(settings, {"scope": scope, "validated": False})
    return scope


def scope(settings: Any) -> str:
    """What the marts gate validates of ``marts.posts`` in the build warehouse."""
    return AFFECTED if _read(settings).get("scope") == AFFECTED else ALL


def mark_validated(settings: Any) -> None:
    data = _read(settings)
    if data:
        _write(settings, {**data, "validated": True})


# ---------------------------------------------------------------- the staging gate

NIGHT = "night"
NIGHT_STAGED = "intermediate.int_posts_delta"
NIGHT_KEYS = "intermediate.int_posts_delta_keys"


def staging_record_path(settings: Any) -> Path:
    return Path(settings.home) / "state" / "staging_gate.json"


def _read_staging(settings: Any) -> dict[str, Any]:
    return _read(settings, staging_record_path(settings))


def _write_staging(settings: Any, data: dict[str, Any]) -> None:
    _write(settings, data, staging_record_path(settings))


def begin_staging(settings: Any) -> bool:
    """Before a build: whether the staging gate passed after every build until now. The record says
    ``all`` until ``record_staging``, so a build that stops half-way is followed by a whole check.

    The staging gate reconciles the staged posts with the lake. After a full build that is every
    post (``stg_lake__posts``, the deduplicated lake). An incremental night stages only the posts
    whose lake rows changed (``intermediate.int_posts_delta``, read from the lake files that hold
    them); every other post was staged and reconciled by an earlier night, and its lake files have
    not changed since. So after an incremental night whose predecessors all passed, the gate
    reconciles what the night staged against the lake rows of the same posts."""
    validated = _read_staging(settings).get("validated") is True
    _write_staging(settings, {"scope": ALL, "validated": False})
    return validated


def record_staging(settings: Any, *, night: bool, validated_before: bool, lake_changed: bool,
                   delta_batches: list[str]) -> str:
    """After a build: ``night`` when it was an incremental build of the lake's changes alone (no
    reference refresh, no ``--select``), ``validated_before`` what ``begin_staging`` returned,
    ``lake_changed`` whether the night staged anything (else ``int_posts_delta`` is an earlier
    night's), ``delta_batches`` the night's new or re-mapped batches (whose manifests the gate
    checks)."""
    scope = NIGHT if night and validated_before else ALL
    _write_staging(settings, {"scope": scope, "validated": False, "lake_changed": bool(lake_changed),
                              "delta_batches": sorted(delta_batches)})
    return scope


def staging_scope(settings: Any) -> tuple[str, bool, list[str]]:
    """What the staging gate reconciles after the last build: ``(NIGHT, lake_changed,
    delta_batches)`` or ``(ALL, True, [])``."""
    data = _read_staging(settings)
    if data.get("scope") == NIGHT:
        return NIGHT, data.get("lake_changed") is not False, [str(b) for b in data.get("delta_batches") or []]
    return ALL, True, []


def mark_staging_validated(settings: Any) -> None:
    data = _read_staging(settings)
    if data:
        _write_staging(settings, {**data, "validated": True})
