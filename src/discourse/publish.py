"""Publish: the validated build warehouse replaces the one analysts query, in one atomic rename."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from discourse.settings import Settings


def publish(settings: Settings, run_id: str | None = None) -> dict[str, Any]:
    """Swap the validated build warehouse into place atomically and record what was published."""
    build = settings.build_warehouse
    if not build.exists():
        raise FileNotFoundError(f"{build}: nothing built to publish")
    wal = Path(str(build) + ".wal")
    if wal.exists():
        raise RuntimeError(f"{wal} exists: the build warehouse was not closed cleanly")
    os.replace(build, settings.warehouse)
    info = {
        "run_id": run_id,
        "published_at": datetime.now(UTC).isoformat(),
        "warehouse": str(settings.warehouse),
    }
    tmp = settings.home / ".published.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, settings.home / "published.json")
    return info
