"""The lake writer: adapter output → Hive-partitioned Parquet, quarantine, and a manifest per batch.

Contracts (the README's "Decisions"; files are written and published by ``ingest.store``):

* ``lake/posts/platform=<p>/created_date=<YYYY-MM-DD>/<batch_id>.parquet`` and
  ``lake/quarantine/platform=<p>/<batch_id>.parquet``; every file is written under a ``.tmp`` name and
  renamed into place only after the whole source was read, so a reader never sees half a batch.
* ``batch_id`` is the first 20 hex digits of the SHA-256 of the source's bytes (for a zip member: of the
  zip's bytes plus the member name). Re-ingesting the same content is a no-op.
* ``lake/_manifest/<batch_id>.json`` is written last (atomically) and accounts for every record:
  ``records_in = loaded + quarantined + duplicates_within_batch``. Records that are not posts at all
  (API error lines, Telegram service messages, other record types) are counted in ``skipped`` by reason.
* Authors are pseudonymised here, once for all adapters: ``author_key`` is an HMAC-SHA256 of
  ``"<platform>:<author_id>"`` under the configured key, and ``author_handle`` is dropped. With
  pseudonymisation switched off, ``author_key`` is ``"<platform>:<author_id>"`` and the handle is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingest import registry
from ingest.drift import ProfileSampler
from ingest.schema import (
    ADAPTER_SCHEMA,
    POST_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    QUARANTINE_SCHEMA,
    conform,
)
from ingest.sources import Limits, Source, expand
from ingest.store import BatchWriter, atomic_write_text, manifest_path, recover

HASH_CHUNK = 8 << 20


class IngestError(Exception):
    """An ingest failed; nothing of the batch was published."""


def content_hash(source: Source) -> str:
    h = hashlib.sha256()
    with open(source.path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
    if source.member:
        h.update(b"\0" + source.member.encode())
    return h.hexdigest()[:20]


def read_manifests(manifest_dir: Path) -> list[dict[str, Any]]:
    out = []
    if manifest_dir.is_dir():
        for p in sorted(manifest_dir.glob("*.json")):
            with open(p, encoding="utf-8") as fh:
                out.append(json.load(fh))
    return out


class Pseudonymiser:
    """Keyed, stable author keys; computed once per distinct author, applied vectorised."""

    def __init__(self, key: str | None):
        self._key = key.encode() if key else None
        self._cache: dict[str, str] = {}

    def key_for(self, platform_author: str) -> str:
        v = self._cache.get(platform_author)
        if v is None:
            if self._key is None:
                v = platform_author
            else:
                v = hmac.new(self._key, platform_author.encode(), hashlib.sha256).hexdigest()[:32]
            if len(self._cache) < 5_000_000:
                self._cache[platform_author] = v
        return v

    def apply(self, platform: pa.ChunkedArray, author_id: pa.ChunkedArray) -> pa.Array:
        joined = pc.binary_join_element_wise(platform, author_id, ":")
        uniq = pc.unique(joined).drop_null()
        keys = pa.array([self.key_for(s) for s in uniq.to_pylist()], type=pa.string())
        idx = pc.index_in(joined, value_set=uniq)
        return pc.take(keys, idx)


@dataclass(frozen=True)
class Provenance:
    """What every row of one batch records about where it came from."""

    source_file: str
    export_format: str
    batch_id: str
    ingested_at: datetime


def _finish_posts(
    table: pa.Table, *, pseudo: Pseudonymiser, pseudonymise: bool, prov: Provenance
) -> pa.Table:
    source_file, export_format = prov.source_file, prov.export_format
    batch_id, ingested_at = prov.batch_id, prov.ingested_at
    n = table.num_rows
    author_key = pseudo.apply(table.column("platform"), table.column("author_id"))
    handle = table.column("author_handle") if not pseudonymise else pa.nulls(n, pa.string())
    cols: dict[str, Any] = {}
    for f in POST_SCHEMA:
        name = f.name
        if name == "author_key":
            cols[name] = author_key
        elif name == "author_handle":
            cols[name] = handle
        elif name == "source_file":
            cols[name] = pa.array([source_file] * n, pa.string()) if n else pa.array([], pa.string())
        elif name == "export_format":
            cols[name] = pa.array([export_format] * n, pa.string())
        elif name == "batch_id":
            cols[name] = pa.array([batch_id] * n, pa.string())
        elif name == "ingested_at":
            cols[name] = pa.array([ingested_at] * n, f.type)
        else:
            cols[name] = table.column(name)
    return pa.Table.from_arrays(
        [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in cols.values()],
        schema=POST_SCHEMA,
    )


def _finish_quarantine(table: pa.Table, *, platform: str, prov: Provenance) -> pa.Table:
    source_file, export_format = prov.source_file, prov.export_format
    batch_id, ingested_at = prov.batch_id, prov.ingested_at
    n = table.num_rows
    raw = pc.utf8_slice_codeunits(table.column("raw").cast(pa.string()), 0, QUARANTINE_RAW_MAX_CHARS)
    return pa.Table.from_arrays(
        [
            pa.array([source_file] * n, pa.string()),
            table.column("source_record").cast(pa.int64()).combine_chunks(),
            raw.combine_chunks(),
            table.column("error").cast(pa.string()).combine_chunks(),
            pa.array([platform] * n, pa.string()),
            pa.array([export_format] * n, pa.string()),
            pa.array([batch_id] * n, pa.string()),
            pa.array([ingested_at] * n, pa.timestamp("us", tz="UTC")),
        ],
        schema=QUARANTINE_SCHEMA,
    )


def _required_nulls(table: pa.Table) -> pa.Array:
    """Rows whose required canonical fields are null: these are quarantined, never written."""
    mask = None
    for name in ("post_id", "created_at", "platform", "kind"):
        m = pc.is_null(table.column(name))
        mask = m if mask is None else pc.or_(mask, m)
    return mask


def context_dir(settings: Any) -> Path:
    return Path(settings.lake) / "context"


def recordable_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that shape a mapping (those the formats declare ``recorded``), JSON-able, for the
    manifest: ``discourse remap`` maps the batch with them again."""
    out = {}
    for k in registry.recorded_options():
        v = options.get(k)
        if v is None:
            continue
        try:
            json.dumps(v)
        except TypeError:
            v = str(v)
        out[k] = v
    return out


def write_chunks(
    chunks: Iterable[registry.AdapterChunk],
    writer: BatchWriter,
    *,
    pseudo: Pseudonymiser,
    pseudonymise: bool,
    prov: Provenance,
    q_platform: str,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Pseudonymise, dedup and write an adapter's chunks through ``writer`` (not yet committed).

    Returns the counts for the manifest: loaded, quarantined, duplicates_within_batch, skipped (by
    reason), platforms and the field profile.
    """
    sampler = ProfileSampler(prov.batch_id)
    seen: set[int] = set()
    loaded = quarantined = dups = 0
    skipped: dict[str, int] = {}
    platforms: dict[str, int] = {}
    notes: list[str] = []
    for chunk in chunks:
        if chunk.context is not None and chunk.context.num_rows:
            writer.write_context(chunk.context)
        notes += [n for n in chunk.notes if n not in notes]
        for reason, count in chunk.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + int(count)
        qparts: list[pa.Table] = []
        if chunk.quarantine is not None and chunk.quarantine.num_rows:
            qparts.append(chunk.quarantine.select(["source_record", "raw", "error"]))
        if chunk.posts is not None and chunk.posts.num_rows:
            posts = conform(chunk.posts, ADAPTER_SCHEMA)
            bad = _required_nulls(posts)
            if pc.any(bad).as_py():
                bad_rows = posts.filter(bad)
                qparts.append(
                    pa.table(
                        {
                            "source_record": bad_rows.column("source_record"),
                            "raw": bad_rows.column("raw"),
                            "error": pa.array(
                                ["missing required field (post_id, created_at or kind)"]
                                * bad_rows.num_rows,
                                pa.string(),
                            ),
                        }
                    )
                )
                posts = posts.filter(pc.invert(bad))
            # Within-batch duplicates: first occurrence wins.
            hashes = pl.from_arrow(posts.column("post_uid")).hash(seed=0).to_list()
            keep = []
            for h in hashes:
                if h in seen:
                    keep.append(False)
                else:
                    seen.add(h)
                    keep.append(True)
            n_keep = sum(keep)
            dups += len(keep) - n_keep
            if n_keep != len(keep):
                posts = posts.filter(pa.array(keep))
            final = _finish_posts(posts, pseudo=pseudo, pseudonymise=pseudonymise, prov=prov)
            writer.write_posts(final)
            sampler.add(final.column("raw"), final.column("source_record"))
            loaded += final.num_rows
            for p, c in pl.from_arrow(final.column("platform")).value_counts().iter_rows():
                platforms[p] = platforms.get(p, 0) + c
            if progress:
                progress(final.num_rows)
        for q in qparts:
            qt = _finish_quarantine(q, platform=q_platform, prov=prov)
            writer.write_quarantine(qt, q_platform)
            quarantined += qt.num_rows
    return {
        "loaded": loaded,
        "quarantined": quarantined,
        "duplicates_within_batch": dups,
        "skipped": skipped,
        "platforms": platforms,
        "field_profile": sampler.profile(),
        "notes": notes,
    }


def ingest_source(
    settings: Any,
    source: Source,
    adapter: registry.Adapter,
    options: dict[str, Any] | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Ingest one logical source into the lake. Returns its manifest entry (plus ``status``).

    The ingest limits come from ``settings`` (``ingest_max_*``; ``Limits.from_settings``) and travel
    with the source to the adapter, ``ingest.lines`` and the decompressing stream.
    """
    options = dict(options or {})
    source = dataclasses.replace(source, limits=Limits.from_settings(settings))
    batch_id = content_hash(source)
    mpath = manifest_path(settings.manifest_dir, batch_id)
    if mpath.exists() and not force:
        with open(mpath, encoding="utf-8") as fh:
            entry = json.load(fh)
        return {**entry, "status": "already_ingested"}

    key = settings.require_pseudonym_key()
    started = time.perf_counter()
    ingested_at = datetime.now(UTC)
    options.setdefault("ingested_at", ingested_at)
    stat = source.path.stat()
    writer = BatchWriter(settings.posts_dir, settings.quarantine_dir, batch_id, context_dir(settings))
    try:
        counts = write_chunks(
            adapter.read(source, options),
            writer,
            pseudo=Pseudonymiser(key),
            pseudonymise=settings.pseudonymise,
            prov=Provenance(source.name, adapter.name, batch_id, ingested_at),
            q_platform=str(options.get("platform") or adapter.platform),
            progress=progress,
        )
        files = writer.commit()
    except BaseException:
        writer.abort()
        raise

    entry = {
        "batch_id": batch_id,
        "source_file": source.name,
        "source_path": str(source.path.resolve()),
        "source_member": source.member,
        "source_size": stat.st_size,
        "source_mtime_ns": stat.st_mtime_ns,
        "compression": source.compression,
        "export_format": adapter.name,
        "platform": adapter.platform,
        "platforms": counts["platforms"],
        "records_in": counts["loaded"] + counts["quarantined"] + counts["duplicates_within_batch"],
        "loaded": counts["loaded"],
        "quarantined": counts["quarantined"],
        "duplicates_within_batch": counts["duplicates_within_batch"],
        "skipped": counts["skipped"],
        "skipped_total": sum(counts["skipped"].values()),
        "notes": counts.get("notes", []),
        "files": sorted(str(p.relative_to(settings.lake)) for p in files),
        "ingested_at": ingested_at.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
        "pseudonymised": settings.pseudonymise,
        "field_profile": counts["field_profile"],
        # what ``discourse remap`` needs to map the stored records again
        "options": recordable_options(options),
        "remappable": True,
    }
    atomic_write_text(mpath, json.dumps(entry, indent=1, sort_keys=True))
    return {**entry, "status": "ingested"}


def ingest_file(
    settings: Any,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Ingest a file (every recognised member of a zip). Raises ``UnrecognisedFormat`` when nothing
    in it is recognised; then nothing was written. A file that cannot be read whole (truncated,
    corrupt) or is over an ingest limit raises ``ingest.sources.SourceError`` (``LimitExceeded``);
    then nothing of that source was published.

    A zip inside a zip (or a gzip/zstd file inside one) is not read: it is reported as an
    unrecognised member, with the reason."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    sources = expand(path, Limits.from_settings(settings))
    plan: list[tuple[Source, registry.Adapter]] = []
    unrecognised: list[str] = []
    for src in sources:
        if fmt:
            adapter = registry.get(fmt)
            head = src.head() if src.member else b""
            nested = registry.nested_archive(src, head)
            if nested:
                unrecognised.append(nested)
            # In an archive, members the chosen adapter does not recognise are reported, not forced.
            elif src.member and not adapter.sniff(head):
                unrecognised.append(f"{src.name}: not {fmt}")
            else:
                plan.append((src, adapter))
            continue
        try:
            plan.append((src, registry.detect(src)))
        except registry.UnrecognisedFormat as exc:
            unrecognised.append(str(exc))
    if not plan:
        raise registry.UnrecognisedFormat("; ".join(unrecognised) or f"{path}: empty archive")
    results = []
    for i, (src, adapter) in enumerate(plan):
        entry = ingest_source(settings, src, adapter, options, force=force, progress=progress)
        if unrecognised and i == 0:
            entry["unrecognised_members"] = unrecognised
        results.append(entry)
    return results


def ingested_sources(settings: Any) -> set[tuple[str, int, int]]:
    """(resolved path, size, mtime_ns) of every ingested source: how the nightly run spots new files."""
    return {
        (m["source_path"], m["source_size"], m["source_mtime_ns"])
        for m in read_manifests(settings.manifest_dir)
    }


def cleanup_temp_files(lake: Path) -> int:
    """Remove ``*.tmp`` leftovers of a crashed ingest (never visible to readers: they lack .parquet).

    A remap interrupted after its journal was written is rolled forward first (``ingest.store.recover``)."""
    n = 0
    recover(lake)
    if lake.is_dir():
        for p in lake.rglob("*.tmp"):
            p.unlink(missing_ok=True)
            n += 1
    return n


def iter_batches(settings: Any, batch_ids: Iterable[str]) -> list[dict[str, Any]]:
    wanted = set(batch_ids)
    return [m for m in read_manifests(settings.manifest_dir) if m["batch_id"] in wanted]
