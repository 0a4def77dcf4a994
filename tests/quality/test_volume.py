"""The volume anomaly check: a platform's latest day against its trailing baseline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import BASE_DAY, post_row, write_batch

from quality.volume import check_volume, volume_table

DAY0 = date(2026, 3, 1)


def series(values, start=DAY0):
    return {start + timedelta(days=i): v for i, v in enumerate(values) if v}


def test_volume_table_baseline_is_the_median_of_the_previous_seven_days_present():
    counts = {"x": series([500, 100, 90, 110, 100, 95, 105, 100, 12])}
    rows, notes = volume_table(counts)
    (row,) = rows
    assert row["day"] == (DAY0 + timedelta(days=8)).isoformat()
    assert row["posts"] == 12
    assert row["baseline_median"] == 100  # the 500 of day 0 is outside the 7 most recent days
    assert row["baseline_days"] == 7
    assert row["relative_change"] == pytest.approx(-0.88)
    assert notes == []


def test_volume_table_counts_a_vanished_platform_as_zero_and_skips_thin_history():
    counts = {
        "x": series([100] * 8),
        "reddit": series([50] * 6),  # nothing on the latest day
        "bluesky": series([0] * 6 + [40, 40]),  # only two days of history
        "telegram": series([3] * 8),  # too small to judge
    }
    rows, notes = volume_table(counts)
    by = {r["platform"]: r for r in rows}
    assert set(by) == {"x", "reddit"}
    assert by["reddit"]["posts"] == 0 and by["reddit"]["relative_change"] == -1
    assert any(n.startswith("bluesky: 1 day(s)") for n in notes)
    assert any(n.startswith("telegram: baseline median 3") for n in notes)


def _marts_with_daily_counts(settings, per_platform):
    from builders import write_marts

    rows = []
    for platform, counts in per_platform.items():
        for d, n in enumerate(counts):
            for k in range(n):
                rows.append(
                    {
                        "post_uid": f"{platform}:{d}-{k}",
                        "platform": platform,
                        "post_id": f"{d}-{k}",
                        "created_at": BASE_DAY + timedelta(days=d, minutes=k),
                        "kind": "post",
                        "text": "t",
                        "source_file": "f",
                        "source_record": k,
                        "lang": "en",
                        "sentiment_score": 0.0,
                        "sentiment_label": "neutral",
                        "topics": [],
                        "primary_topic": None,
                        "misinfo_risk_score": 0.0,
                        "misinfo_risk_level": "low",
                        "misinfo_reasons": [],
                    }
                )
    return write_marts(settings.build_warehouse, rows)


@pytest.mark.integration
def test_check_volume_flags_a_planted_collapse_as_a_warning(settings):
    db = _marts_with_daily_counts(
        settings,
        {
            "x": [60, 62, 58, 61, 60, 59, 63, 2],  # collapse on the last day
            "reddit": [30, 31, 29, 30, 32, 30, 28, 30],  # steady
        },
    )
    result = check_volume(settings, db)

    assert not result.success
    assert result.stage == "volume" and result.severity == "warning" and not result.blocking
    (failure,) = result.failures
    assert failure["column"] == "relative_change"
    assert failure["observed"]["unexpected_count"] == 1
    assert failure["sample_rows"][0]["platform"] == "x"
    assert failure["sample_rows"][0]["posts"] == 2
    assert failure["sample_rows"][0]["baseline_median"] == 60
    assert "x: 2 posts on 2026-03-08 vs baseline median 60 (-97%)" in failure["message"]
    assert "20%–180%" in failure["expected"]
    assert result.checked["source"].startswith("marts.posts")
    assert {r["platform"] for r in result.checked["platforms"]} == {"x", "reddit"}


@pytest.mark.integration
def test_check_volume_threshold_is_configurable_and_steady_volume_passes(settings):
    db = _marts_with_daily_counts(settings, {"x": [50, 50, 50, 50, 50, 50, 50, 80]})
    assert check_volume(settings, db).success  # +60% is within the default 0.8
    strict = settings.with_(volume_change_threshold=0.5)
    result = check_volume(strict, db)
    assert not result.success and result.failures[0]["sample_rows"][0]["posts"] == 80


@pytest.mark.integration
def test_check_volume_reads_the_lake_when_there_are_no_marts(settings):
    for d, n in enumerate([20, 20, 20, 20, 20, 20, 20, 200]):  # a jump
        rows = [
            post_row("x", f"{d}-{k}", BASE_DAY + timedelta(days=d, minutes=k), f"batch{d:015d}", k)
            for k in range(n)
        ]
        write_batch(settings.posts_dir, f"batch{d:015d}", rows)
    result = check_volume(settings, settings.build_warehouse)  # not built yet
    assert result.checked["source"] == str(settings.posts_dir)
    assert not result.success and result.severity == "warning"
    assert result.failures[0]["sample_rows"][0]["posts"] == 200


def test_check_volume_without_history_succeeds_with_notes(settings):
    result = check_volume(settings, None)
    assert result.success and result.notes
