"""Helpers shared by the adapter tests: read an export through an adapter, index the posts it gave."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingest.registry import AdapterChunk, get
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import Source, expand


def read_chunks(fmt: str, path: Path | Source, options: dict[str, Any] | None = None) -> list[AdapterChunk]:
    """The chunks adapter ``fmt`` reads from ``path`` (a file holding one source) or a source, each
    checked against the adapter schemas."""
    if isinstance(path, Source):
        source = path
    else:
        sources = expand(path)
        assert len(sources) == 1
        source = sources[0]
    chunks = list(get(fmt).read(source, dict(options or {})))
    for c in chunks:
        assert c.posts.schema == ADAPTER_SCHEMA
        assert c.quarantine.schema == QUARANTINE_ADAPTER_SCHEMA
    return chunks


def collect(chunks: list[AdapterChunk]) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """All posts, all quarantined records (in chunk order) and the skipped counts summed by reason."""
    if not chunks:
        return ADAPTER_SCHEMA.empty_table(), QUARANTINE_ADAPTER_SCHEMA.empty_table(), {}
    posts = pa.concat_tables([c.posts for c in chunks])
    quarantine = pa.concat_tables([c.quarantine for c in chunks])
    skipped: dict[str, int] = {}
    for c in chunks:
        for reason, n in c.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    return posts, quarantine, skipped


def read_export(fmt: str, path: Path | Source, **options: Any) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    """``collect(read_chunks(...))``: what adapter ``fmt`` makes of ``path`` with ``options``."""
    return collect(read_chunks(fmt, path, options))


def by_id(posts: pa.Table, key: str = "post_id", unique: bool = True) -> dict[str, dict]:
    """The posts as dicts by ``key``; with ``unique``, no two posts may share one."""
    rows = posts.to_pylist()
    if unique:
        assert len({r[key] for r in rows}) == len(rows)
    return {r[key]: r for r in rows}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
