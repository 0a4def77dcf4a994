"""How the lake's files are written and published, for the ingest (``ingest.lake``) and the remap
(``ingest.remap``) alike.

* ``atomic_write_text``: a text file written under a temporary name, flushed and renamed into place, so
  a reader sees the old file or the new one, never a part of it.
* ``BatchWriter``: the Parquet files of one batch (posts per platform and day, quarantine per platform,
  context), each written as ``<final>.tmp`` and renamed into place only when the batch is published.
* The manifest (``lake/_manifest/<batch_id>.json``) is the commit point of a batch (``manifest_path``).
* A multi-file swap (a remap replacing a batch's files) is journalled: the plan (new files, old files,
  the new manifest) is written to ``lake/_manifest/<batch_id>.remap.json`` first; ``publish`` then
  renames the new files into place, removes the old ones no longer produced and writes the manifest,
  and the journal is deleted. ``recover`` rolls forward every journal left by a crash.

On object storage (``lake_url``; ``ingest.objectstore``) the same contract holds with S3's primitives,
because S3 has no rename: the batch's files are written locally exactly as above (a staging folder
under the home), uploaded under ``_staging/<token>/`` (a prefix no reader globs), copied into place
server-side (a copy appears whole), the manifest is PUT last (``publish_remote``), and the staged
objects are deleted. A remap's journal is PUT after its uploads and before any copy, so
``recover_remote`` can roll it forward from the staged objects.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.schema import CONTEXT_SCHEMA, POST_SCHEMA, QUARANTINE_SCHEMA, conform

if TYPE_CHECKING:
    from ingest.objectstore import ObjectStore

PARQUET_COMPRESSION = "zstd"
# Columns of a post that are (nearly) unique per row: written without a dictionary, which for them only
# costs time to build and then falls back to plain encoding anyway. Every other column keeps one.
PLAIN_POST_COLUMNS = frozenset({"post_uid", "post_id", "text", "url", "raw"})
MANIFEST_DIR = "_manifest"
JOURNAL_SUFFIX = ".remap.json"
# On object storage: uploads not yet published. Left-overs older than STAGING_MAX_AGE_S are removed.
STAGING_DIR = "_staging"
STAGING_MAX_AGE_S = 24 * 3600


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def manifest_path(lake_manifest_dir: Path, batch_id: str) -> Path:
    return lake_manifest_dir / f"{batch_id}.json"


def journal_path(lake_manifest_dir: Path, batch_id: str) -> Path:
    return Path(lake_manifest_dir) / f"{batch_id}{JOURNAL_SUFFIX}"


def partitions(table: pa.Table) -> Iterator[tuple[str, date, pa.Table]]:
    """``table``'s rows by (platform, UTC day of ``created_at``), each group's rows in table order, the
    groups in order of first appearance. Rows already grouped in runs (an export in time order) are
    sliced without a copy; otherwise the table is put in group order by one stable ``take``."""
    dates = pc.cast(table.column("created_at"), pa.date32())
    keys = pl.DataFrame({"platform": pl.from_arrow(table.column("platform")), "d": pl.from_arrow(dates)})
    # group ids 1..groups (in key order; the groups are emitted in order of first appearance)
    gid = keys.select(pl.struct("platform", "d").rank("dense").alias("g"))["g"].to_numpy()
    n = len(gid)
    starts = np.flatnonzero(np.concatenate(([True], gid[1:] != gid[:-1])))
    run_gid = gid[starts]
    if len(np.unique(run_gid)) != len(run_gid):  # a group in several runs: put the rows in group order
        _, first = np.unique(gid, return_index=True)
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        order = np.argsort(rank[gid - 1], kind="stable")
        table = table.take(pa.array(order))
        gid = gid[order]
        dates = dates.take(pa.array(order))
        starts = np.flatnonzero(np.concatenate(([True], gid[1:] != gid[:-1])))
    platform = table.column("platform")
    bounds = [*starts.tolist(), n]
    for start, end in zip(bounds[:-1], bounds[1:], strict=False):
        yield platform[start].as_py(), dates[start].as_py(), table.slice(start, end - start)


@dataclass
class BatchWriter:
    """Per-partition Parquet writers for one batch, published together."""

    settings_posts: Path
    settings_quarantine: Path
    batch_id: str
    settings_context: Path | None = None
    writers: dict[Path, pq.ParquetWriter] = field(default_factory=dict)

    def _writer(self, final: Path, schema: pa.Schema) -> pq.ParquetWriter:
        w = self.writers.get(final)
        if w is None:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_name(final.name + ".tmp")
            dictionary: bool | list[str] = True
            if schema is POST_SCHEMA:
                dictionary = [name for name in schema.names if name not in PLAIN_POST_COLUMNS]
            w = pq.ParquetWriter(tmp, schema, compression=PARQUET_COMPRESSION, use_dictionary=dictionary)
            self.writers[final] = w
        return w

    def write_posts(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        for platform, day, part in partitions(table):
            final = (
                self.settings_posts
                / f"platform={platform}"
                / f"created_date={day.isoformat()}"
                / f"{self.batch_id}.parquet"
            )
            self._writer(final, POST_SCHEMA).write_table(part)

    def write_quarantine(self, table: pa.Table, platform: str) -> None:
        if table.num_rows == 0:
            return
        final = self.settings_quarantine / f"platform={platform}" / f"{self.batch_id}.parquet"
        self._writer(final, QUARANTINE_SCHEMA).write_table(table)

    def write_context(self, table: pa.Table) -> None:
        if table.num_rows == 0 or self.settings_context is None:
            return
        final = self.settings_context / f"{self.batch_id}.parquet"
        self._writer(final, CONTEXT_SCHEMA).write_table(conform(table, CONTEXT_SCHEMA))

    def close(self) -> list[Path]:
        """Finish every ``.tmp`` file; return the final paths (nothing is renamed yet)."""
        for w in self.writers.values():
            w.close()
        return list(self.writers)

    def commit(self) -> list[Path]:
        for w in self.writers.values():
            w.close()
        finals = []
        for final in self.writers:
            os.replace(final.with_name(final.name + ".tmp"), final)
            finals.append(final)
        self.writers.clear()
        return finals

    def abort(self) -> None:
        for final, w in self.writers.items():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - best effort cleanup of a failed batch
                pass
            final.with_name(final.name + ".tmp").unlink(missing_ok=True)
        self.writers.clear()


def publish(lake: Path, plan: dict[str, Any]) -> None:
    """Carry out a journalled swap: the ``new`` files' ``.tmp`` renamed into place, the ``old`` ones no
    longer produced removed, the ``manifest`` written. Safe to repeat after a crash part-way."""
    for rel in plan["new"]:
        final = lake / rel
        tmp = final.with_name(final.name + ".tmp")
        if tmp.exists():
            os.replace(tmp, final)
    for rel in set(plan["old"]) - set(plan["new"]):
        (lake / rel).unlink(missing_ok=True)
    atomic_write_text(
        manifest_path(lake / MANIFEST_DIR, plan["manifest"]["batch_id"]),
        json.dumps(plan["manifest"], indent=1, sort_keys=True),
    )


def recover(lake: Path) -> int:
    """Roll forward swaps interrupted after their journal was written. Returns how many."""
    mdir = Path(lake) / MANIFEST_DIR
    n = 0
    if not mdir.is_dir():
        return 0
    for journal in sorted(mdir.glob(f"*{JOURNAL_SUFFIX}")):
        plan = json.loads(journal.read_text(encoding="utf-8"))
        publish(Path(lake), plan)
        journal.unlink(missing_ok=True)
        n += 1
    return n


# ----------------------------------------------------------------- object storage


def manifest_key(batch_id: str) -> str:
    """The manifest's path below the lake's root (``_manifest/<batch_id>.json``)."""
    return f"{MANIFEST_DIR}/{batch_id}.json"


def manifest_text(entry: dict[str, Any]) -> str:
    return json.dumps(entry, indent=1, sort_keys=True)


def upload_staged(store: ObjectStore, files: dict[str, Path], token: str) -> str:
    """Upload local files (``{rel: local path}``) under ``_staging/<token>/``; returns that prefix."""
    staging = f"{STAGING_DIR}/{token}"
    store.upload_many({f"{staging}/{rel}": path for rel, path in files.items()})
    return staging


def publish_remote(store: ObjectStore, plan: dict[str, Any], *, rolling_forward: bool = False) -> None:
    """``publish`` on object storage: each ``new`` file copied from ``plan["staging"]`` into place, the
    ``old`` ones no longer produced deleted, the ``manifest`` PUT last. Rolling forward after a crash,
    staged files already gone (copied and cleaned up before the crash) are skipped."""
    staging = plan.get("staging")
    new = list(plan["new"])
    if new:
        if staging is None:
            raise ValueError("a plan with new files names its staging prefix")
        if rolling_forward:
            staged = {o.rel for o in store.list(staging)}
            new = [rel for rel in new if f"{staging}/{rel}" in staged]
        store.copy_many({f"{staging}/{rel}": rel for rel in new})
    store.delete_many(sorted(set(plan["old"]) - set(plan["new"])))
    store.write_text(manifest_key(plan["manifest"]["batch_id"]), manifest_text(plan["manifest"]))


def drop_staging(store: ObjectStore, staging: str | None) -> None:
    if staging:
        store.delete_tree(staging)


def recover_remote(store: ObjectStore) -> int:
    """``recover`` on object storage: roll forward every journalled swap. Returns how many."""
    journals = [o.rel for o in store.list(MANIFEST_DIR, recursive=False) if o.rel.endswith(JOURNAL_SUFFIX)]
    for rel in journals:
        plan = json.loads(store.read_text(rel))
        publish_remote(store, plan, rolling_forward=True)
        store.delete(rel)
        drop_staging(store, plan.get("staging"))
    return len(journals)


def clear_stale_staging(store: ObjectStore, max_age_s: float = STAGING_MAX_AGE_S) -> int:
    """Delete the staged uploads a crashed ingest left: each ``_staging/<token>/`` whose newest object
    is older than ``max_age_s`` (an upload still in flight on another machine is left alone).
    Returns how many were deleted."""
    cutoff = (time.time() - max_age_s) * 1e9
    newest: dict[str, int] = {}
    for o in store.list(STAGING_DIR):
        token = o.rel.split("/")[1] if o.rel.count("/") >= 2 else ""
        if token:
            newest[token] = max(newest.get(token, 0), o.mtime_ns)
    stale = [token for token, mtime in newest.items() if mtime < cutoff]
    for token in stale:
        store.delete_tree(f"{STAGING_DIR}/{token}")
    return len(stale)
