"""Write small POST_SCHEMA lakes for dbt tests: Hive layout, one Parquet file per batch and partition."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.schema import POST_SCHEMA


def post(
    post_id: str,
    text: str,
    *,
    platform: str = "x",
    created_at: datetime | None = None,
    batch_id: str = "batch-a",
    ingested_at: datetime | None = None,
    lang_declared: str | None = None,
    links: list[str] | None = None,
    hashtags: list[str] | None = None,
    kind: str = "post",
    **extra: Any,
) -> dict[str, Any]:
    """One lake row with sensible defaults for every POST_SCHEMA column."""
    created_at = created_at or datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    row: dict[str, Any] = {f.name: None for f in POST_SCHEMA}
    row.update(
        post_uid=f"{platform}:{post_id}",
        platform=platform,
        post_id=post_id,
        created_at=created_at,
        author_key=f"author-{post_id}",
        text=text,
        lang_declared=lang_declared,
        kind=kind,
        like_count=1,
        share_count=0,
        reply_count=0,
        view_count=None,
        hashtags=hashtags or [],
        mentions=[],
        links=links or [],
        media_count=0,
        raw="{}",
        source_file=f"{batch_id}.jsonl",
        source_record=0,
        export_format="test",
        batch_id=batch_id,
        ingested_at=ingested_at or datetime(2026, 2, 21, 1, 0, tzinfo=UTC),
    )
    row.update(extra)
    return row


def write_lake(posts_dir: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Write rows under ``posts_dir/platform=<p>/created_date=<d>/<batch_id>.parquet``."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for i, row in enumerate(rows):
        row = dict(row)
        if row.get("source_record") is None:
            row["source_record"] = i
        key = (row["platform"], row["created_at"].date().isoformat(), row["batch_id"])
        groups[key].append(row)
    written = []
    for (platform, day, batch_id), group in groups.items():
        path = posts_dir / f"platform={platform}" / f"created_date={day}" / f"{batch_id}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(group, schema=POST_SCHEMA), path)
        written.append(path)
    return written
