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
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.schema import CONTEXT_SCHEMA, POST_SCHEMA, QUARANTINE_SCHEMA, conform

PARQUET_COMPRESSION = "zstd"
MANIFEST_DIR = "_manifest"
JOURNAL_SUFFIX = ".remap.json"


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
            w = pq.ParquetWriter(tmp, schema, compression=PARQUET_COMPRESSION)
            self.writers[final] = w
        return w

    def write_posts(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        dates = pc.cast(table.column("created_at"), pa.date32())
        keys = pl.DataFrame(
            {"platform": pl.from_arrow(table.column("platform")), "d": pl.from_arrow(dates)}
        )
        groups = keys.with_row_index("i").group_by(["platform", "d"], maintain_order=True).agg("i")
        for platform, day, idx in groups.iter_rows():
            part = table.take(pa.array(idx, type=pa.uint32()))
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
