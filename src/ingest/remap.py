"""Re-mapping stored batches from the lake's ``raw`` records (``discourse remap``).

When an adapter's mapping changes (a bug fixed, a field added), the batches it ingested can be mapped
again without the original export files: the lake keeps every post's original record (``raw``) and,
beside the posts, the context some records need from around them (``lake/context/<batch_id>.parquet``:
an X page's ``includes``, a Telegram message's chat, the account of an X archive). For each batch:

1. The batch's posts are read back ordered by ``source_record``, grouped by position, with the context
   in force at each position.
2. The adapter writes them out as a file of its own format (``Adapter.reframe``), into a temporary
   directory under the home, and reads that file with the batch's recorded options. Position k of the
   file is mapped back to the k-th stored ``source_record``, so provenance is unchanged.
3. The result goes through the same writer as an ingest (pseudonymisation, dedup, partitioning), into
   ``.tmp`` files. Records quarantined at ingest stay in the quarantine (their ``raw`` is cut to
   ``QUARANTINE_RAW_MAX_CHARS``, so they are not re-mapped: re-ingest the export for those); records the
   new mapping rejects are added to it.
4. Publish: a journal (``lake/_manifest/<batch_id>.remap.json``) is written first, naming the new and the
   old files and the new manifest entry; then the ``.tmp`` files are renamed into place, old files no
   longer produced are removed, the manifest is replaced and the journal deleted. A crash before the
   journal leaves the old batch untouched (the ``.tmp`` files are cleaned up); a crash after it is rolled
   forward (``ingest.store.recover``) at the start of the next ingest or remap. Readers never see a
   half-written file; the marts pick the change up at the next ``discourse run``.

On object storage (``lake_url``) the batch is read in place (``s3://``, through the filesystem DuckDB
and pyarrow share), the new files are written to a local staging folder, uploaded under ``_staging/``,
the journal is PUT, and the swap is done by server-side copies and deletes, manifest last
(``ingest.store.publish_remote``; ``recover_remote`` rolls an interrupted one forward).

The manifest keeps ``ingested_at`` and ``batch_id`` and gains ``remapped_at`` and a ``remaps`` history
(counts before and after). Skipped counts of the original ingest stay (skipped records were never in the
lake); anything the new mapping skips is added. ``records_in = loaded + quarantined +
duplicates_within_batch`` still holds.

Batches ingested before the lake kept contexts and options (no ``remappable`` in their manifest) are
refused with the reason: re-ingest their export with ``--force`` once.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import registry
from ingest.lake import (
    LakeTarget,
    Provenance,
    Pseudonymiser,
    cleanup_lake,
    lake_manifests,
    write_chunks,
)
from ingest.objectstore import ObjectStore, lake_store
from ingest.registry import AdapterChunk, Unit
from ingest.sources import Limits, Source
from ingest.store import atomic_write_text, journal_path, publish

FETCH_ROWS = 50_000


class RemapError(Exception):
    """A batch cannot be re-mapped; nothing of it was changed."""


def _units(con: duckdb.DuckDBPyConnection, post_files: list[str], ctx: pa.Table | None,
           positions: list[np.ndarray]) -> Iterator[Unit]:
    """The batch's raw records grouped by source_record, in order, with the context in force."""
    contexts: list[tuple[int, str]] = []
    if ctx is not None:
        ctx = ctx.sort_by("source_record")
        contexts = list(zip(ctx.column("source_record").to_pylist(), ctx.column("context").to_pylist(),
                            strict=True))
    ci = -1
    ctx_rec: int | None = None
    files = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in post_files) + "]"
    reader = con.sql(
        f"select source_record, raw from read_parquet({files}, filename = true, file_row_number = true) "
        "order by source_record, filename, file_row_number"
    ).to_arrow_reader(FETCH_ROWS)
    current: int | None = None
    raws: list[str] = []
    context: str | None = None
    seen: list[int] = []
    for batch in reader:
        recs = batch.column(0).to_pylist()
        texts = batch.column(1).to_pylist()
        for rec, raw in zip(recs, texts, strict=True):
            if rec != current:
                if current is not None:
                    yield Unit(current, raws, context, ctx_rec)
                current, raws = rec, []
                seen.append(rec)
                while ci + 1 < len(contexts) and contexts[ci + 1][0] <= rec:
                    ci += 1
                context, ctx_rec = (contexts[ci][1], contexts[ci][0]) if ci >= 0 else (None, None)
            if raw is None:
                raise RemapError(f"post at record {rec} has no raw record")
            raws.append(raw)
        if len(seen) >= FETCH_ROWS:
            positions.append(np.asarray(seen, dtype=np.int64))
            seen = []
    if current is not None:
        yield Unit(current, raws, context, ctx_rec)
    if seen:
        positions.append(np.asarray(seen, dtype=np.int64))


class _StoredBatch:
    """A batch's stored files, in the local lake or on object storage."""

    def __init__(self, settings: Any, files: list[str]):
        self.settings = settings
        self.store: ObjectStore | None = lake_store(settings)
        self.files = files

    def paths(self, prefix: str) -> list[str]:
        """The batch's files under ``prefix`` that exist, as paths DuckDB and ``read_table`` take."""
        lake = Path(self.settings.lake)
        if self.store is None:
            return [str(lake / f) for f in self.files if f.startswith(prefix) and (lake / f).exists()]
        return [self.store.uri(f) for f in self.files if f.startswith(prefix) and self.store.exists(f)]

    def read_table(self, path: str) -> pa.Table:
        if self.store is None:
            return pq.read_table(path)
        return pq.read_table(self.store.key(self.store.rel(path)), filesystem=self.store.fs)

    def context(self, batch_id: str) -> pa.Table | None:
        """The batch's stored context (``context/<batch_id>.parquet``), if it has one."""
        rel = f"context/{batch_id}.parquet"
        if self.store is None:
            path = Path(self.settings.lake) / rel
            return pq.read_table(path) if path.exists() else None
        return self.read_table(self.store.uri(rel)) if self.store.exists(rel) else None


def _map_back(chunks: Iterator[AdapterChunk], original: np.ndarray) -> Iterator[AdapterChunk]:
    """Renumber each chunk's positions from the reframed file's (1..n) to the stored ones."""

    def fix(table: pa.Table | None) -> pa.Table | None:
        if table is None or table.num_rows == 0:
            return table
        k = table.column("source_record").to_numpy()
        if k.min() < 0 or k.max() > len(original):
            raise RemapError(f"adapter numbered a record {int(k.max())}, beyond the {len(original)} stored")
        i = table.schema.get_field_index("source_record")
        # position 0 is the file as a whole (a context that applies throughout): it stays 0
        mapped = np.where(k > 0, original[np.maximum(k, 1) - 1], 0)
        return table.set_column(i, table.schema.field(i), pa.array(mapped, pa.int64()))

    for chunk in chunks:
        yield AdapterChunk(posts=fix(chunk.posts), quarantine=fix(chunk.quarantine),
                           skipped=chunk.skipped, context=fix(chunk.context))


def remap_batch(settings: Any, entry: dict[str, Any],
                echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Re-map one batch (a manifest entry) in place. Returns a summary of the change."""
    batch_id = entry["batch_id"]
    fmt = entry["export_format"]
    if not entry.get("remappable"):
        raise RemapError(
            f"batch {batch_id} ({fmt}, {entry.get('source_file')}) was ingested before the lake kept "
            "re-mapping context; re-ingest its export once with --force"
        )
    if bool(entry.get("pseudonymised")) != bool(settings.pseudonymise):
        raise RemapError(
            f"batch {batch_id} was ingested with pseudonymisation "
            f"{'on' if entry.get('pseudonymised') else 'off'}; the settings now say otherwise"
        )
    adapter = registry.get(fmt)
    old_files = list(entry.get("files", []))
    stored = _StoredBatch(settings, old_files)
    post_files = stored.paths("posts/")
    started = time.perf_counter()
    ingested_at = datetime.fromisoformat(entry["ingested_at"])
    q_platform = str(entry.get("options", {}).get("platform") or entry.get("platform") or adapter.platform)
    target = LakeTarget(settings, batch_id)
    writer = target.writer()
    tmpdir = Path(tempfile.mkdtemp(prefix="remap-", dir=settings.home))
    try:
        # the quarantine of the ingest is kept as it is
        old_quarantined = 0
        for qf in stored.paths("quarantine/"):
            qt = stored.read_table(qf)
            old_quarantined += qt.num_rows
            writer.write_quarantine(qt, q_platform)
        counts: dict[str, Any] = {"loaded": 0, "quarantined": 0, "duplicates_within_batch": 0,
                                  "skipped": {}, "platforms": {}, "field_profile": {}}
        if post_files:
            positions: list[np.ndarray] = []
            reframed = tmpdir / f"{batch_id}.{fmt}"
            con = duckdb.connect(":memory:")
            try:
                if stored.store is not None:
                    stored.store.register(con)
                with open(reframed, "wb") as out:
                    extra = adapter.reframe(
                        _units(con, post_files, stored.context(batch_id), positions), out
                    )
            finally:
                con.close()
            original = np.concatenate(positions) if positions else np.empty(0, np.int64)
            options = {**entry.get("options", {}), **extra, "ingested_at": ingested_at}
            source = Source(reframed, "none", limits=Limits.from_settings(settings))
            counts = write_chunks(
                _map_back(iter(adapter.read(source, options)), original),
                writer,
                pseudo=Pseudonymiser(settings.require_pseudonym_key()),
                pseudonymise=settings.pseudonymise,
                prov=Provenance(entry["source_file"], fmt, batch_id, ingested_at),
                q_platform=q_platform,
            )
        new_finals = writer.close()
    except BaseException:
        writer.abort()
        target.discard()
        raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    new_files = sorted(target.rel(p) for p in new_finals)
    skipped = dict(entry.get("skipped", {}))
    for reason, n in counts["skipped"].items():
        skipped[reason] = skipped.get(reason, 0) + n
    quarantined = old_quarantined + counts["quarantined"]
    dups = int(entry.get("duplicates_within_batch", 0)) + counts["duplicates_within_batch"]
    now = datetime.now(UTC)
    change = {
        "remapped_at": now.isoformat(),
        "loaded_before": entry.get("loaded", 0),
        "loaded_after": counts["loaded"],
        "quarantined_added": counts["quarantined"],
        "skipped_added": counts["skipped"],
        "duplicates_added": counts["duplicates_within_batch"],
        "seconds": round(time.perf_counter() - started, 3),
    }
    new_entry = {
        **entry,
        "platforms": counts["platforms"],
        "records_in": counts["loaded"] + quarantined + dups,
        "loaded": counts["loaded"],
        "quarantined": quarantined,
        "duplicates_within_batch": dups,
        "skipped": skipped,
        "skipped_total": sum(skipped.values()),
        "files": new_files,
        "field_profile": counts["field_profile"] or entry.get("field_profile", {}),
        "remapped_at": now.isoformat(),
        "remaps": [*entry.get("remaps", []), change],
    }
    plan = {"new": new_files, "old": old_files, "manifest": new_entry}
    if target.store is None:
        journal = journal_path(settings.manifest_dir, batch_id)
        atomic_write_text(journal, json.dumps(plan, indent=1, sort_keys=True))
        publish(Path(settings.lake), plan)
        journal.unlink(missing_ok=True)
    else:
        target.publish(plan, {target.rel(p): p.with_name(p.name + ".tmp") for p in new_finals}, journal=True)
    if echo:
        echo(
            f"[remap] {batch_id} {fmt} {entry['source_file']}: {change['loaded_before']} -> "
            f"{change['loaded_after']} posts, {change['quarantined_added']} newly quarantined "
            f"({change['seconds']} s)"
        )
    return {"batch_id": batch_id, "export_format": fmt, "source_file": entry["source_file"], **change}


def remap(settings: Any, fmt: str | None = None, batch_ids: list[str] | None = None,
          echo: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Re-map every batch (of ``fmt``, or the given batch ids). Batches are done one at a time, each
    published atomically; a batch that cannot be re-mapped raises before anything of it changes."""
    cleanup_lake(settings)
    entries = lake_manifests(settings)
    if fmt:
        registry.get(fmt)  # unknown formats are an error, not an empty run
        entries = [e for e in entries if e.get("export_format") == fmt]
    if batch_ids:
        wanted = set(batch_ids)
        missing = wanted - {e["batch_id"] for e in entries}
        if missing:
            raise RemapError(f"no such batch: {', '.join(sorted(missing))}")
        entries = [e for e in entries if e["batch_id"] in wanted]
    entries.sort(key=lambda e: (e.get("ingested_at", ""), e["batch_id"]))
    return [remap_batch(settings, e, echo) for e in entries]
