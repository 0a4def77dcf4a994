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
* With ``lake_url`` set, the lake is on object storage (``ingest.objectstore``): a batch is written
  locally to a staging folder under the home exactly as above, then published by ``ingest.store``
  (uploaded, copied into place, manifest last). Inbox objects (``s3://...``) are downloaded to a
  temporary folder under the home, read there and removed; their manifest records the object's URL,
  size and last-modified time, which is how the nightly run spots new objects (``list_inbox``).
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
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingest import registry
from ingest.drift import ProfileSampler
from ingest.objectstore import ObjectStore, inbox_store, is_url, lake_store, store_for
from ingest.schema import (
    ADAPTER_SCHEMA,
    POST_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    QUARANTINE_SCHEMA,
    conform,
)
from ingest.sources import Limits, Source, expand
from ingest.store import (
    JOURNAL_SUFFIX,
    MANIFEST_DIR,
    BatchWriter,
    atomic_write_text,
    clear_stale_staging,
    drop_staging,
    manifest_key,
    manifest_path,
    manifest_text,
    publish_remote,
    recover,
    recover_remote,
    upload_staged,
)

HASH_CHUNK = 8 << 20
REJECTED_DIR = "_rejected"


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
    """The manifests in a local ``_manifest`` folder (``lake_manifests`` reads the settings' lake,
    wherever it is)."""
    out = []
    if manifest_dir.is_dir():
        for p in sorted(manifest_dir.glob("*.json")):
            with open(p, encoding="utf-8") as fh:
                out.append(json.load(fh))
    return out


# Manifest bytes read from object storage, by (URL, size, last-modified): a night reads the manifests
# several times (new files, drift, gating, freshness, the report); each object is fetched once.
_MANIFEST_CACHE: dict[tuple[str, int, int], bytes] = {}
_MANIFEST_CACHE_LOCK = threading.Lock()
_MANIFEST_CACHE_MAX = 200_000


def _remote_manifest_documents(store: ObjectStore) -> list[bytes]:
    objs = [o for o in store.list(MANIFEST_DIR, recursive=False)
            if o.rel.endswith(".json") and not o.rel.endswith(JOURNAL_SUFFIX)]
    keys = [(store.uri(o.rel), o.size, o.mtime_ns) for o in objs]
    with _MANIFEST_CACHE_LOCK:
        missing = [(k, o.rel) for k, o in zip(keys, objs, strict=True) if k not in _MANIFEST_CACHE]
    fetched = store.read_many(rel for _, rel in missing)
    with _MANIFEST_CACHE_LOCK:
        if len(_MANIFEST_CACHE) + len(missing) > _MANIFEST_CACHE_MAX:
            _MANIFEST_CACHE.clear()
        cached = dict(_MANIFEST_CACHE)
        for (k, _), data in zip(missing, fetched, strict=True):
            _MANIFEST_CACHE[k] = cached[k] = data
    return [cached[k] for k in keys]


def lake_manifest_documents(settings: Any) -> list[bytes]:
    """Every committed manifest as stored (JSON bytes), in batch-id order, from the local lake or the
    lake on object storage: for readers that hash manifests rather than read them."""
    store = lake_store(settings)
    if store is None:
        mdir = Path(settings.manifest_dir)
        paths = sorted(mdir.glob("*.json")) if mdir.is_dir() else []
        return [p.read_bytes() for p in paths if not p.name.endswith(JOURNAL_SUFFIX)]
    return _remote_manifest_documents(store)


def lake_manifests(settings: Any) -> list[dict[str, Any]]:
    """Every batch's manifest, in batch-id order, from the local lake or the lake on object storage."""
    store = lake_store(settings)
    if store is None:
        return read_manifests(Path(settings.manifest_dir))
    return [json.loads(doc) for doc in _remote_manifest_documents(store)]


def _existing_manifest(settings: Any, store: ObjectStore | None, batch_id: str) -> dict[str, Any] | None:
    if store is None:
        mpath = manifest_path(settings.manifest_dir, batch_id)
        if not mpath.exists():
            return None
        with open(mpath, encoding="utf-8") as fh:
            return json.load(fh)
    try:
        return json.loads(store.read_text(manifest_key(batch_id)))
    except FileNotFoundError:
        return None


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


@dataclass(frozen=True)
class Origin:
    """Where a staged local copy came from: an inbox object's URL, size and last-modified time."""

    url: str
    size: int
    mtime_ns: int


def staging_root(settings: Any, kind: str) -> Path:
    """``<home>/tmp/<kind>``: where objects are downloaded to and batches are written before upload."""
    return Path(settings.home) / "tmp" / kind


@dataclass
class LakeTarget:
    """Where one batch's files are written: the local lake itself, or a fresh staging folder whose
    files ``publish`` uploads to the lake on object storage."""

    settings: Any
    batch_id: str

    def __post_init__(self) -> None:
        self.store = lake_store(self.settings)
        self.token = f"{self.batch_id}-{uuid.uuid4().hex[:12]}"
        self.root = (Path(self.settings.lake) if self.store is None
                     else staging_root(self.settings, "lake-staging") / self.token)

    def writer(self) -> BatchWriter:
        root = self.root
        return BatchWriter(root / "posts", root / "quarantine", self.batch_id, root / "context")

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def publish(self, plan: dict[str, Any], local_files: dict[str, Path], journal: bool = False) -> None:
        """Publish on object storage (``ingest.store.publish_remote``): upload, journal (a remap), copy
        into place, manifest last; then the staged objects and the local staging folder go."""
        assert self.store is not None
        staging = None
        try:
            if local_files:
                staging = upload_staged(self.store, local_files, self.token)
            plan = {**plan, "staging": staging}
            jkey = f"{MANIFEST_DIR}/{plan['manifest']['batch_id']}{JOURNAL_SUFFIX}"
            if journal:
                self.store.write_text(jkey, json.dumps(plan, indent=1, sort_keys=True))
            publish_remote(self.store, plan)
            if journal:
                self.store.delete(jkey)
        except BaseException:
            if not journal:  # a journalled swap is rolled forward from its staged files: keep them
                try:
                    drop_staging(self.store, staging)
                except Exception:  # noqa: BLE001 - best effort; stale staging is cleared later
                    pass
            raise
        finally:
            self.discard()
        drop_staging(self.store, staging)

    def discard(self) -> None:
        if self.store is not None:
            shutil.rmtree(self.root, ignore_errors=True)


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
    origin: Origin | None = None,
) -> dict[str, Any]:
    """Ingest one logical source into the lake. Returns its manifest entry (plus ``status``).

    The ingest limits come from ``settings`` (``ingest_max_*``; ``Limits.from_settings``) and travel
    with the source to the adapter, ``ingest.lines`` and the decompressing stream. ``origin``: the
    inbox object ``source`` is a staged copy of (the manifest records it, not the copy).
    """
    options = dict(options or {})
    source = dataclasses.replace(source, limits=Limits.from_settings(settings))
    batch_id = content_hash(source)
    target = LakeTarget(settings, batch_id)
    existing = _existing_manifest(settings, target.store, batch_id)
    if existing is not None and not force:
        return {**existing, "status": "already_ingested"}

    key = settings.require_pseudonym_key()
    started = time.perf_counter()
    ingested_at = datetime.now(UTC)
    options.setdefault("ingested_at", ingested_at)
    stat = source.path.stat()
    writer = target.writer()
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
        target.discard()
        raise

    entry = {
        "batch_id": batch_id,
        "source_file": source.name,
        "source_path": origin.url if origin else str(source.path.resolve()),
        "source_member": source.member,
        "source_size": origin.size if origin else stat.st_size,
        "source_mtime_ns": origin.mtime_ns if origin else stat.st_mtime_ns,
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
        "files": sorted(target.rel(p) for p in files),
        "ingested_at": ingested_at.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
        "pseudonymised": settings.pseudonymise,
        "field_profile": counts["field_profile"],
        # what ``discourse remap`` needs to map the stored records again
        "options": recordable_options(options),
        "remappable": True,
    }
    if target.store is None:
        atomic_write_text(manifest_path(settings.manifest_dir, batch_id), manifest_text(entry))
    else:
        target.publish({"new": entry["files"], "old": [], "manifest": entry},
                       {target.rel(p): p for p in files})
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
    unrecognised member, with the reason.

    ``path`` may be an ``s3://`` URL (an object of the inbox on object storage): it is downloaded to a
    temporary folder under the home (with a ``<stem>.meta.json`` sidecar next to it, which some formats
    read), ingested from there and removed; provenance and the manifest name the URL."""
    if is_url(str(path)):
        return _ingest_object(settings, str(path), fmt, options, force, progress)
    return _ingest_local(settings, Path(path), fmt, options, force, progress)


def _ingest_local(
    settings: Any,
    path: Path,
    fmt: str | None,
    options: dict[str, Any] | None,
    force: bool,
    progress: Callable[[int], None] | None,
    origin: Origin | None = None,
) -> list[dict[str, Any]]:
    if not path.is_file():
        raise IngestError(f"{origin.url if origin else path}: no such file")
    sources = expand(path, Limits.from_settings(settings), origin=origin.url if origin else None)
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
        entry = ingest_source(settings, src, adapter, options, force=force, progress=progress, origin=origin)
        if unrecognised and i == 0:
            entry["unrecognised_members"] = unrecognised
        results.append(entry)
    return results


def _sidecar_names(name: str) -> list[str]:
    """``<stem>.meta.json`` for every stem of ``name`` (``a.jsonl.gz`` → ``a.jsonl.meta.json``,
    ``a.meta.json``): the sidecars a format may look for next to an export."""
    out = []
    stem = name
    while "." in stem.lstrip("."):
        stem = stem.rsplit(".", 1)[0]
        out.append(f"{stem}.meta.json")
    return out


def _object_store(settings: Any, url: str) -> tuple[ObjectStore, str]:
    """The store holding ``url`` (the inbox's, when it is below it) and the object's path in it."""
    inbox = inbox_store(settings)
    if inbox is not None and (url == inbox.url or url.startswith(inbox.url + "/")):
        return inbox, inbox.rel(url)
    parent, _, name = url.rpartition("/")
    return store_for(parent, settings), name


def _ingest_object(
    settings: Any,
    url: str,
    fmt: str | None,
    options: dict[str, Any] | None,
    force: bool,
    progress: Callable[[int], None] | None,
) -> list[dict[str, Any]]:
    store, rel = _object_store(settings, url)
    info = store.info(rel)
    if info is None:
        raise IngestError(f"{url}: no such object")
    stage = staging_root(settings, "inbox-staging") / uuid.uuid4().hex[:12]
    folder, _, name = rel.rpartition("/")
    try:
        store.download(rel, stage / name)
        for sidecar in _sidecar_names(name):
            srel = f"{folder}/{sidecar}" if folder else sidecar
            if store.exists(srel):
                store.download(srel, stage / sidecar)
        origin = Origin(store.uri(rel), info.size, info.mtime_ns)
        return _ingest_local(settings, stage / name, fmt, options, force, progress, origin=origin)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def list_inbox(settings: Any) -> list[tuple[str, str, int, int]]:
    """Every object of the inbox on object storage: (URL, path below the inbox, size, mtime_ns)."""
    store = inbox_store(settings)
    if store is None:
        raise ValueError("the inbox is on local disk (inbox_url is not set)")
    return [(store.uri(o.rel), o.rel, o.size, o.mtime_ns) for o in store.list()]


def ingested_sources(settings: Any) -> set[tuple[str, int, int]]:
    """(resolved path or URL, size, mtime_ns) of every ingested source: how the nightly run spots new
    files."""
    return {
        (m["source_path"], m["source_size"], m["source_mtime_ns"])
        for m in lake_manifests(settings)
    }


def cleanup_lake(settings: Any) -> int:
    """``cleanup_temp_files`` for the settings' lake, wherever it is. On object storage: interrupted
    remaps are rolled forward, stale staged uploads and local staging folders removed."""
    store = lake_store(settings)
    if store is None:
        return cleanup_temp_files(Path(settings.lake))
    recover_remote(store)
    n = clear_stale_staging(store)
    for kind in ("lake-staging", "inbox-staging"):
        root = staging_root(settings, kind)
        if root.is_dir():
            for p in root.iterdir():
                shutil.rmtree(p, ignore_errors=True)
                n += 1
    return n


def lake_paths(settings: Any, pattern: str) -> list[str]:
    """The lake's files matching ``pattern``, a glob below its root without ``**`` (for example
    ``quarantine/platform=*/*.parquet``), sorted: local paths, or ``s3://`` URLs on object storage."""
    store = lake_store(settings)
    if store is None:
        return sorted(str(p) for p in Path(settings.lake).glob(pattern))
    top = pattern.split("/", 1)[0]
    if any(c in top for c in "*?["):
        top = ""
    depth = pattern.count("/")
    return [store.uri(o.rel) for o in store.list(top)
            if o.rel.count("/") == depth and PurePosixPath(o.rel).match(pattern)]


def lake_fingerprint(settings: Any) -> str:
    """A hash of the commit points of the lake on object storage: every manifest and rejected batch,
    by name, size and change time (``discourse.transform.state`` hashes a local lake's the same way)."""
    store = lake_store(settings)
    if store is None:
        raise ValueError("the lake is on local disk (lake_url is not set)")
    h = hashlib.sha256()
    for prefix in (MANIFEST_DIR, REJECTED_DIR):
        for o in store.list(prefix):
            h.update(f"{o.rel}\0{o.size}\0{o.mtime_ns}\n".encode())
    return h.hexdigest()


def reject_batch(settings: Any, entry: dict[str, Any], gate: dict[str, Any]) -> None:
    """Set a batch aside under ``lake/_rejected/<batch_id>/`` on object storage: its files, the gate
    result (``gate.json``) and, last, its manifest, so no later build reads it. (The local lake's is
    ``discourse.pipeline.reject_batches``.)"""
    store = lake_store(settings)
    if store is None:
        raise ValueError("the lake is on local disk (lake_url is not set)")
    dest = f"{REJECTED_DIR}/{entry['batch_id']}"
    files = [rel for rel in entry.get("files", []) if store.exists(rel)]
    store.copy_many({rel: f"{dest}/{rel}" for rel in files})
    store.delete_many(files)
    store.write_text(f"{dest}/gate.json", json.dumps(gate, indent=1, default=str))
    store.copy(manifest_key(entry["batch_id"]), f"{dest}/manifest.json")
    store.delete(manifest_key(entry["batch_id"]))


def rejected_manifest(settings: Any, batch_id: str) -> dict[str, Any] | None:
    """The manifest of a rejected batch (``lake/_rejected/<batch_id>/manifest.json``), or None."""
    store = lake_store(settings)
    try:
        if store is None:
            path = Path(settings.lake) / REJECTED_DIR / batch_id / "manifest.json"
            text = path.read_text(encoding="utf-8")
        else:
            text = store.read_text(f"{REJECTED_DIR}/{batch_id}/manifest.json")
        return json.loads(text)
    except (OSError, ValueError):
        return None


def rejected_batches(settings: Any) -> list[str]:
    """The batch ids set aside under ``lake/_rejected/``."""
    store = lake_store(settings)
    if store is None:
        root = Path(settings.lake) / REJECTED_DIR
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    return sorted({o.rel.split("/")[1] for o in store.list(REJECTED_DIR) if o.rel.count("/") >= 2})


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
    return [m for m in lake_manifests(settings) if m["batch_id"] in wanted]
