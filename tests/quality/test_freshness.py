"""Freshness: a source quiet for longer than ``quiet_after`` allows raises a warning (never blocks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from discourse.pipeline import freshness_check
from quality.alerts import alert_from_gate
from quality.freshness import FreshnessSettingError, check_freshness, parse_quiet_after

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _manifest(batch: str, fmt: str, platforms: dict[str, int], hours_ago: float) -> dict:
    return {"batch_id": batch, "export_format": fmt, "platforms": platforms,
            "loaded": sum(platforms.values()), "ingested_at": (NOW - timedelta(hours=hours_ago)).isoformat()}


MANIFESTS = [
    _manifest("a", "x_v2", {"x": 10}, hours_ago=100),
    _manifest("b", "x_v2", {"x": 5}, hours_ago=30),
    _manifest("c", "telegram_desktop", {"telegram": 8}, hours_ago=80),
    _manifest("d", "reddit", {"reddit": 3}, hours_ago=200),
    _manifest("e", "zeeschuimer", {"tiktok": 4, "instagram": 0}, hours_ago=10),
]


def test_parse_quiet_after():
    assert parse_quiet_after("*=3d, x=36h, reddit=off") == {
        "*": timedelta(days=3), "x": timedelta(hours=36), "reddit": None}
    assert parse_quiet_after("") == {}
    for bad in ("x", "x=soon", "=3d"):
        with pytest.raises(FreshnessSettingError):
            parse_quiet_after(bad)


def test_quiet_platforms_warn_with_what_to_do():
    r = check_freshness("*=3d", MANIFESTS, now=NOW)
    assert r.stage == "freshness" and r.severity == "warning" and not r.success and not r.blocking
    quiet = {f["column"] for f in r.failures}
    # x delivered 30 h ago (its newest batch counts), telegram 80 h ago, reddit 200 h, tiktok 10 h;
    # instagram loaded nothing in that batch, so it is not a source seen so far.
    assert quiet == {"telegram", "reddit"}
    reddit = next(f for f in r.failures if f["column"] == "reddit")
    assert "8.3 days" in reddit["observed"]["value"] and "every 3.0 days" in reddit["expected"]
    assert "Retried every night" in reddit["message"]
    alert = alert_from_gate(r, "run-1")
    assert alert.severity == "warning" and "publish is not blocked" in alert.summary.lower()


def test_explicit_rules_override_the_default_and_name_formats():
    r = check_freshness("*=3d, reddit=off, x_v2=12h, mastodon=1d", MANIFESTS, now=NOW)
    by_name = {f["column"]: f for f in r.failures}
    assert set(by_name) == {"telegram", "x_v2", "mastodon"}
    assert by_name["mastodon"]["observed"]["value"] == "never delivered"


def test_rejected_batches_do_not_count_as_deliveries():
    r = check_freshness("x=36h", MANIFESTS, now=NOW, rejected=["b"])
    assert [f["column"] for f in r.failures] == ["x"]


def test_fresh_sources_pass():
    assert check_freshness("*=10d", MANIFESTS, now=NOW).success


def test_pipeline_step_alerts_without_blocking(settings):
    settings = settings.with_(quiet_after="*=1h, bluesky=2d")
    settings.manifest_dir.mkdir(parents=True)
    old = _manifest("z", "x_v2", {"x": 3}, hours_ago=5)
    old["ingested_at"] = (datetime.now(UTC) - timedelta(hours=5)).isoformat()
    (settings.manifest_dir / "z.json").write_text(json.dumps(old))
    result = freshness_check(settings, "run-2")
    assert result["success"] is False and result["blocking"] is False
    assert {f["column"] for f in result["failures"]} == {"x", "bluesky"}
    assert result["alerted"]
    alerts = [json.loads(p.read_text()) for p in settings.alerts_dir.glob("*.json")]
    assert any(a["stage"] == "freshness" for a in alerts)
