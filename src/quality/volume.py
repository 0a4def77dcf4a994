"""The volume anomaly check: each platform's posts on the latest day against its trailing baseline.

``daily_counts`` counts posts per platform and UTC day (from ``marts.posts``, else the lake),
``volume_table`` puts the latest day next to the trailing median, and ``check_volume`` validates that
table with the ``volume_daily`` suite like any other gate, with severity ``warning``: it alerts, it
never blocks publish.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quality import suites
from quality.frames import connect, lake_has_posts, lake_root, parquet_relation, relation_exists
from quality.gates import MARTS_RELATION, GateResult, nothing_to_validate, validate_frame

if TYPE_CHECKING:
    from discourse.settings import Settings


def daily_counts(settings: Settings, db_path: Path | None) -> tuple[dict[str, dict[date, int]], str]:
    """Posts per platform per UTC day, from ``marts.posts`` when ``db_path`` has it, else the lake.

    The marts count each post once; the lake fallback counts a post once per batch that carries it.
    """
    if db_path is not None and Path(db_path).exists():
        with connect(Path(db_path)) as con:
            if relation_exists(con, MARTS_RELATION):
                rows = con.sql(
                    "select platform, created_at::date as day, count(*) from marts.posts "
                    "where created_at is not null group by all"
                ).fetchall()
                return _by_platform(rows), f"{MARTS_RELATION} in {db_path}"
    if not lake_has_posts(settings):
        return {}, str(lake_root(settings))
    with connect(settings=settings) as con:
        rel = parquet_relation(lake_root(settings), hive=True)
        rows = con.sql(
            f"select platform, created_date::date as day, count(*) from {rel} group by all"
        ).fetchall()
    return _by_platform(rows), str(lake_root(settings))


def _by_platform(rows: list[tuple[Any, Any, int]]) -> dict[str, dict[date, int]]:
    out: dict[str, dict[date, int]] = {}
    for platform, day, n in rows:
        if platform is not None and day is not None:
            out.setdefault(str(platform), {})[day] = int(n)
    return out


def volume_table(
    counts: dict[str, dict[date, int]],
    *,
    as_of: date | None = None,
    baseline_days: int = 7,
    lookback_days: int = 28,
    min_baseline_days: int = 3,
    min_baseline_posts: float = 10,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Per platform: posts on ``as_of`` against the median of its trailing baseline.

    ``as_of`` defaults to the latest day with posts on any platform, so a platform that stopped
    arriving altogether counts 0 that day. The baseline is the median daily count of the platform's
    ``baseline_days`` most recent days with posts before ``as_of`` and within ``lookback_days`` of it.
    Platforms with fewer than ``min_baseline_days`` such days, or a baseline median below
    ``min_baseline_posts``, are not judged (too little history to tell noise from breakage).
    """
    notes: list[str] = []
    days = [d for per in counts.values() for d in per]
    if not days:
        return [], ["no posts to count"]
    as_of = as_of or max(days)
    rows = []
    for platform in sorted(counts):
        per = counts[platform]
        prior = sorted((d for d in per if as_of - timedelta(days=lookback_days) <= d < as_of), reverse=True)[
            :baseline_days
        ]
        if len(prior) < min_baseline_days:
            notes.append(
                f"{platform}: {len(prior)} day(s) of history before {as_of}, "
                f"need {min_baseline_days}; not judged"
            )
            continue
        baseline = float(statistics.median(per[d] for d in prior))
        if baseline < min_baseline_posts:
            notes.append(
                f"{platform}: baseline median {baseline:g} posts/day is below "
                f"{min_baseline_posts:g}; not judged"
            )
            continue
        posts = per.get(as_of, 0)
        rows.append(
            {
                "platform": platform,
                "day": as_of.isoformat(),
                "posts": posts,
                "baseline_median": baseline,
                "baseline_days": len(prior),
                "baseline_from": min(prior).isoformat(),
                "relative_change": round((posts - baseline) / baseline, 6),
            }
        )
    return rows, notes


def check_volume(
    settings: Settings,
    db_path: Path | None = None,
    *,
    as_of: date | None = None,
    run_id: str | None = None,
) -> GateResult:
    """Warn when a platform's daily volume drops or jumps sharply against its trailing baseline.

    With ``t = settings.volume_change_threshold`` and ``change = (posts - baseline) / baseline``, a
    platform is flagged when ``|change| > t``: for t = 0.8, fewer than 20 % or more than 180 % of the
    baseline median (see ``volume_table`` for the day and the baseline). Severity ``warning``: it
    alerts, it never blocks publish. Note the latest day may be incomplete when an export was cut
    mid-day; that shows as a drop.
    """
    import pandas as pd

    t0 = time.perf_counter()
    counts, source = daily_counts(settings, db_path)
    rows, notes = volume_table(counts, as_of=as_of)
    threshold = float(settings.volume_change_threshold)
    checked = {
        "source": source,
        "threshold": threshold,
        "as_of": rows[0]["day"] if rows else (as_of.isoformat() if as_of else None),
        "platforms": rows,
    }
    if not rows:
        return nothing_to_validate(
            settings,
            "volume",
            suites.VOLUME_SUITE,
            "no platform has enough history to judge its volume",
            checked,
            notes,
        )
    frame = pd.DataFrame(rows)
    suite = suites.volume_suite()
    result = validate_frame(
        settings,
        "volume",
        frame,
        suite=suite,
        key_columns=["platform", "day", "posts", "baseline_median"],
        parameters={"min_relative_change": -threshold, "max_relative_change": threshold},
        missing=[],
        relation=source,
        notes=notes,
        checked=checked,
        run_id=run_id,
        load_seconds=time.perf_counter() - t0,
    )
    flagged = {r["platform"]: r for r in rows if abs(r["relative_change"]) > threshold}
    for f in result.failures:
        if f["column"] == "relative_change" and flagged:
            f["message"] = "; ".join(
                f"{p}: {r['posts']:,} posts on {r['day']} vs baseline median "
                f"{r['baseline_median']:g} ({r['relative_change']:+.0%})"
                for p, r in flagged.items()
            )
            f["expected"] = (
                f"within ±{threshold:.0%} of the trailing median "
                f"({1 - threshold:.0%}–{1 + threshold:.0%} of baseline)"
            )
    return result
