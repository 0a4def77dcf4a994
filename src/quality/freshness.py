"""Freshness: a platform or export format that stays quiet longer than allowed raises a warning.

A night with no new data is not a success to stay silent about: an export job may have died. The
setting ``quiet_after`` names how long each source may stay quiet, as comma-separated
``name=duration`` pairs, where a name is a platform (``x``, ``telegram``) or an export format
(``telegram_desktop``), ``*`` is every source seen so far, and a duration is hours or days (``36h``,
``3d``; ``off`` disables). A source is as fresh as its newest accepted batch's ``ingested_at``
(from the lake's manifests). A source named explicitly that has never delivered is reported too.
The check warns; it never blocks publish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality.gates import GateResult

if TYPE_CHECKING:
    from discourse.settings import Settings

EXPECTATION = "expect_source_to_deliver_within_quiet_after"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hd])\s*$", re.IGNORECASE)


class FreshnessSettingError(ValueError):
    """``quiet_after`` could not be read; the message names the bad part."""


def parse_quiet_after(text: str | None) -> dict[str, timedelta | None]:
    """``"*=3d, x=36h, reddit=off"`` → ``{"*": 3 days, "x": 36 hours, "reddit": None}``."""
    out: dict[str, timedelta | None] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise FreshnessSettingError(f"quiet_after: {part.strip()!r} is not name=duration")
        if value.lower() in ("off", "none", "0"):
            out[name] = None
            continue
        m = _DURATION.match(value)
        if not m:
            raise FreshnessSettingError(
                f"quiet_after: {value!r} for {name!r} is not a duration like 36h or 3d (or off)"
            )
        amount, unit = float(m.group(1)), m.group(2).lower()
        out[name] = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
    return out


def _parse_time(value: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def last_delivery(manifests: Iterable[dict[str, Any]]) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """The newest ``ingested_at`` per platform and per export format, over batches that loaded posts."""
    platforms: dict[str, datetime] = {}
    formats: dict[str, datetime] = {}
    for m in manifests:
        at = _parse_time(m.get("ingested_at"))
        if at is None or not m.get("loaded"):
            continue
        for name, count in (m.get("platforms") or {}).items():
            if count and (name not in platforms or at > platforms[name]):
                platforms[name] = at
        fmt = m.get("export_format")
        if fmt and (fmt not in formats or at > formats[fmt]):
            formats[fmt] = at
    return platforms, formats


def check_freshness(
    quiet_after: str | None,
    manifests: Iterable[dict[str, Any]],
    *,
    now: datetime | None = None,
    rejected: Iterable[str] = (),
) -> GateResult:
    """Which sources have been quiet too long. ``rejected``: batch ids that do not count as deliveries."""
    now = now or datetime.now(UTC)
    rules = parse_quiet_after(quiet_after)
    skip = set(rejected)
    platforms, formats = last_delivery(m for m in manifests if m.get("batch_id") not in skip)
    newest = {**formats, **platforms}
    default = rules.get("*")
    # Explicit rules for every name they give; the default for every platform seen so far (export
    # formats are only checked when named, so one quiet source is not reported twice).
    checked: dict[str, timedelta] = {}
    for name in platforms:
        if default is not None:
            checked[name] = default
    for name, limit in rules.items():
        if name == "*":
            continue
        if limit is None:
            checked.pop(name, None)
        else:
            checked[name] = limit
    failures = []
    status = {}
    for name in sorted(checked):
        limit = checked[name]
        last = newest.get(name)
        quiet = None if last is None else now - last
        status[name] = {"last_delivery": last.isoformat() if last else None,
                        "quiet_hours": None if quiet is None else round(quiet.total_seconds() / 3600, 1),
                        "allowed_hours": round(limit.total_seconds() / 3600, 1)}
        if quiet is None or quiet > limit:
            observed = ("never delivered" if last is None
                        else f"quiet for {_human(quiet)} (last batch ingested {last:%Y-%m-%d %H:%M} UTC)")
            failures.append({
                "expectation": EXPECTATION,
                "column": name,
                "severity": "warning",
                "expected": f"a new batch at least every {_human(limit)}",
                "observed": {"value": observed},
                "message": (f"{name}: no new export for {_human(quiet)}; check the export job that feeds "
                            "this source. Retried every night; this warning repeats until data arrives."
                            if last else f"{name}: no export has arrived yet"),
            })
    return GateResult(
        stage="freshness",
        success=not failures,
        severity="warning",
        failures=failures,
        statistics={"evaluated_expectations": len(checked),
                    "successful_expectations": len(checked) - len(failures)},
        notes=[f"quiet_after = {quiet_after!r}"],
        checked=status,
    )


def _human(delta: timedelta | None) -> str:
    if delta is None:
        return "ever"
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"


def check_settings_freshness(settings: Settings, manifest_dir: Path | None = None) -> GateResult:
    """``check_freshness`` over this home's lake."""
    from ingest.lake import lake_manifests, read_manifests, rejected_batches

    manifests = read_manifests(manifest_dir) if manifest_dir else lake_manifests(settings)
    return check_freshness(settings.quiet_after, manifests, rejected=rejected_batches(settings))
