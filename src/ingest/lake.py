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
import json
import logging
import os
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from ingest import registry
from ingest.crashpoint import crash_point
from ingest.drift import ProfileSampler
from ingest.objectstore import ObjectStore, inbox_store, is_url, lake_store, store_for
from ingest.schema import (
    ADAPTER_SCHEMA,
    MENTION_KEY,
    POST_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    QUARANTINE_SCHEMA,
    conform,
)
from ingest.sources import HEAD_BYTES, Limits, Source, SourceError, expand
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
log = logging.getLogger(__name__)


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


CORRUPT_MARK = ".corrupt-"


class CorruptManifest(ValueError):
    """A manifest that is not a JSON object naming its batch (``batch_id``)."""


def parse_manifest(data: bytes | str, where: str) -> dict[str, Any]:
    """A manifest document, checked: raises ``CorruptManifest`` naming ``where`` when it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptManifest(f"{where}: not a readable manifest ({type(exc).__name__}: {exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("batch_id"), str):
        raise CorruptManifest(f"{where}: not a manifest (no batch_id)")
    return doc


def corrupt_name(name: str) -> str:
    """``<name>.corrupt-<UTC time>``: where an unreadable manifest is set aside (no reader globs it)."""
    return f"{name}{CORRUPT_MARK}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def _set_aside_manifest(path: Path, exc: CorruptManifest) -> None:
    """Rename an unreadable local manifest out of the way (the batch then counts as not ingested: its
    lake files are orphans the next run removes, and its source is ingested again)."""
    aside = path.with_name(corrupt_name(path.name))
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return  # another reader set it aside first
    log.warning("%s; set aside as %s (the batch counts as not ingested)", exc, aside)


def read_manifests(manifest_dir: Path) -> list[dict[str, Any]]:
    """The manifests in a local ``_manifest`` folder (``lake_manifests`` reads the settings' lake,
    wherever it is). An unreadable one (a corrupt JSON document) is set aside as
    ``<name>.corrupt-<time>`` with a warning naming it, and the others are read; the next run alerts
    (``corrupt_manifests``)."""
    out = []
    if manifest_dir.is_dir():
        for p in sorted(manifest_dir.glob("*.json")):
            if p.name.endswith(JOURNAL_SUFFIX):
                continue
            try:
                out.append(parse_manifest(p.read_bytes(), str(p)))
            except FileNotFoundError:
                continue  # set aside or rejected meanwhile
            except CorruptManifest as exc:
                _set_aside_manifest(p, exc)
    return out


def corrupt_manifests(settings: Any) -> list[str]:
    """The manifests set aside as unreadable (``_manifest/*.json.corrupt-*``), local paths or URLs."""
    store = lake_store(settings)
    if store is None:
        mdir = Path(settings.manifest_dir)
        return sorted(str(p) for p in mdir.glob(f"*{CORRUPT_MARK}*")) if mdir.is_dir() else []
    return sorted(store.uri(o.rel) for o in store.list(MANIFEST_DIR, recursive=False)
                  if CORRUPT_MARK in o.rel)


# Manifest bytes read from object storage, by (URL, size, last-modified): a night reads the manifests
# several times (new files, drift, gating, freshness, the report); each object is fetched once.
_MANIFEST_CACHE: dict[tuple[str, int, int], bytes] = {}
_MANIFEST_CACHE_LOCK = threading.Lock()
_MANIFEST_CACHE_MAX = 200_000


def _remote_manifest_documents(store: ObjectStore) -> list[bytes]:
    return [doc for _, doc in _remote_manifest_items(store)]


def _remote_manifest_items(store: ObjectStore) -> list[tuple[str, bytes]]:
    """(path below the lake, bytes) of every manifest on object storage, in batch-id order."""
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
    return [(o.rel, cached[k]) for o, k in zip(objs, keys, strict=True)]


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
    out = []
    for rel, doc in _remote_manifest_items(store):
        try:
            out.append(parse_manifest(doc, store.uri(rel)))
        except CorruptManifest as exc:  # set aside, as read_manifests does locally
            store.copy(rel, corrupt_name(rel))
            store.delete(rel)
            log.warning("%s; set aside (the batch counts as not ingested)", exc)
    return out


def _existing_manifest(settings: Any, store: ObjectStore | None, batch_id: str) -> dict[str, Any] | None:
    if store is None:
        mpath = manifest_path(settings.manifest_dir, batch_id)
        try:
            return parse_manifest(mpath.read_bytes(), str(mpath))
        except FileNotFoundError:
            return None
        except CorruptManifest as exc:  # set aside: the batch is ingested again
            _set_aside_manifest(mpath, exc)
            return None
    try:
        return parse_manifest(store.read_text(manifest_key(batch_id)), store.uri(manifest_key(batch_id)))
    except FileNotFoundError:
        return None
    except CorruptManifest as exc:
        store.copy(manifest_key(batch_id), corrupt_name(manifest_key(batch_id)))
        store.delete(manifest_key(batch_id))
        log.warning("%s; set aside (the batch is ingested again)", exc)
        return None


# An AT URI's DID, anywhere in an id (``at://did:plc:x/app.bsky.feed.post/r``, ``bluesky:at://...``).
_AT_URI_DID = r"^(?P<pre>.*?at://)(?P<did>did:[^/]+)(?P<post>.*)$"
# The id columns of a post that may embed an author's identity (Bluesky AT URIs).
ID_COLUMNS = ("post_uid", "post_id", "reply_to_id", "thread_id", "repost_of_id", "quote_of_id")


class Pseudonymiser:
    """Keyed, stable author keys; computed once per distinct author, applied vectorised."""

    def __init__(self, key: str | None):
        self._key = key.encode() if key else None
        self._cache: dict[str, str] = {}
        self._inner = self._outer = None
        if self._key is not None:
            # HMAC-SHA256 (RFC 2104) with the key's padded inner and outer hash states computed once:
            # each value then costs two hash copies instead of a fresh ``hmac.new``.
            block = self._key if len(self._key) <= 64 else hashlib.sha256(self._key).digest()
            block = block.ljust(64, b"\0")
            self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
            self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def _hmac(self, value: str) -> str:
        """``hmac.new(key, value, sha256).hexdigest()[:32]``."""
        assert self._inner is not None and self._outer is not None
        inner = self._inner.copy()
        inner.update(value.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]

    def key_for(self, platform_author: str) -> str:
        v = self._cache.get(platform_author)
        if v is None:
            v = platform_author if self._key is None else self._hmac(platform_author)
            if len(self._cache) < 5_000_000:
                self._cache[platform_author] = v
        return v

    def apply(self, platform: pa.ChunkedArray | pa.Array, author_id: pa.ChunkedArray | pa.Array) -> pa.Array:
        """``key_for("<platform>:<author_id>")`` per row (null where the id is null)."""
        return self.keys(pc.binary_join_element_wise(platform, author_id, ":"))

    def keys(self, values: pa.ChunkedArray | pa.Array) -> pa.Array:
        """``key_for(value)`` per row, each distinct value hashed once (null stays null)."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values)  # nulls stay null indices
        cache = self._cache
        key_for = self.key_for
        keys = pa.array([cache.get(s) or key_for(s) for s in encoded.dictionary.to_pylist()],
                        type=pa.string())
        return pc.take(keys, encoded.indices)

    def mention_keys(self, platform: pa.ChunkedArray | pa.Array,
                     targets: pa.ChunkedArray | pa.Array) -> pa.Array:
        """``mention_targets`` (list<struct<id, handle>>) → ``mention_keys`` (list<struct<author_key,
        by_handle>>): a target with an id is keyed as an author (``"<platform>:<id>"``), a handle-only
        one from ``"<platform>:@<lower-cased handle>"`` and marked ``by_handle``. Targets with neither
        are dropped; a null list becomes an empty one."""
        if isinstance(platform, pa.ChunkedArray):
            platform = platform.combine_chunks()
        if isinstance(targets, pa.ChunkedArray):
            targets = targets.combine_chunks()
        # a null list holds no items (``list_flatten`` emits nothing for it) and becomes an empty one
        items = pc.list_flatten(targets)
        lengths = pc.list_value_length(targets)
        if lengths.null_count:
            lengths = lengths.fill_null(0)
        parents = np.repeat(np.arange(len(targets), dtype=np.int64),
                            lengths.to_numpy(zero_copy_only=False))
        if len(parents) != len(items):
            raise AssertionError("mention targets: list items and parents disagree")
        plat = pc.take(platform, pa.array(parents))
        # flatten(): the fields with the struct's own nulls applied (a null item has neither)
        fields = dict(zip([f.name for f in items.type], items.flatten(), strict=True))
        ids = pc.if_else(pc.equal(pc.utf8_length(fields["id"]), 0), None, fields["id"])
        handles = pc.utf8_lower(pc.utf8_ltrim(fields["handle"], characters="@"))
        handles = pc.if_else(pc.equal(pc.utf8_length(handles), 0), None, handles)
        by_handle = pc.is_null(ids)
        keyed = pc.if_else(
            by_handle,
            pc.binary_join_element_wise(plat, pc.binary_join_element_wise("@", handles, ""), ":"),
            pc.binary_join_element_wise(plat, ids, ":"),
        )
        keys = self.keys(keyed)
        keep = pc.is_valid(keys)
        # rebuild the lists without the dropped items: new offsets from the kept counts per list
        kept_per_list = np.bincount(
            parents[keep.to_numpy(zero_copy_only=False)], minlength=len(targets)
        )
        offsets = pa.array(np.concatenate([[0], np.cumsum(kept_per_list)]).astype(np.int32))
        values = pa.StructArray.from_arrays(
            [keys.filter(keep), by_handle.filter(keep)], fields=list(MENTION_KEY)
        )
        return pa.ListArray.from_arrays(offsets, values, type=pa.list_(MENTION_KEY))

    def bluesky_ids(self, platform: pa.ChunkedArray | pa.Array, ids: pa.ChunkedArray | pa.Array) -> pa.Array:
        """Bluesky ids (AT URIs ``at://<did>/<collection>/<rkey>``, and ``post_uid``s holding one) with
        the DID replaced by that account's author key (``key_for("bluesky:<did>")``): still unique and
        joinable (a reply's ``reply_to_id`` equals its parent's ``post_id``), and no identity. Rows of
        other platforms, and ids without an ``at://did:`` part, are returned as they are."""
        if isinstance(platform, pa.ChunkedArray):
            platform = platform.combine_chunks()
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        bluesky = pc.equal(platform, "bluesky")
        if not pc.any(bluesky).as_py():
            return ids
        parts = pc.extract_regex(ids, _AT_URI_DID)
        hit = pc.and_(bluesky, pc.is_valid(parts))
        if not pc.any(hit).as_py():
            return ids
        keys = self.keys(pc.binary_join_element_wise("bluesky", parts.field("did"), ":"))
        rebuilt = pc.binary_join_element_wise(parts.field("pre"), keys, parts.field("post"), "")
        return pc.if_else(hit, rebuilt, ids)


    def activitypub_ids(self, platform: pa.ChunkedArray | pa.Array,
                        ids: pa.ChunkedArray | pa.Array) -> pa.Array:
        """Mastodon ids that are ActivityPub URIs naming the account (an outbox's
        ``https://<host>/users/<name>/statuses/<id>/activity``, a boost's or reply's target) with the
        actor (``https://<host>/users/<name>``, the account's ``author_id``) replaced by its author key:
        ``https://<host>/users/<key>/statuses/<id>``. Still unique and joinable; no name. Other rows and
        ids are returned as they are."""
        if isinstance(platform, pa.ChunkedArray):
            platform = platform.combine_chunks()
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        mastodon = pc.equal(platform, "mastodon")
        if not pc.any(mastodon).as_py():
            return ids
        parts = pc.extract_regex(ids, _ACTIVITYPUB_ACTOR)
        hit = pc.and_(mastodon, pc.is_valid(parts))
        if not pc.any(hit).as_py():
            return ids
        keys = self.keys(pc.binary_join_element_wise("mastodon", parts.field("actor"), ":"))
        rebuilt = pc.binary_join_element_wise(parts.field("pre"), parts.field("host"), "/users/", keys,
                                              parts.field("post"), "")
        return pc.if_else(hit, rebuilt, ids)


# An ActivityPub URI's actor (``https://host/users/<name>``), anywhere in an id (``mastodon:https://...``).
_ACTIVITYPUB_ACTOR = r"^(?P<pre>.*?)(?P<actor>(?P<host>https?://[^/]+)/users/[^/]+)(?P<post>/.*)?$"


@dataclass(frozen=True)
class Provenance:
    """What every row of one batch records about where it came from."""

    source_file: str
    export_format: str
    batch_id: str
    ingested_at: datetime


# The lake's keyed target columns and the adapter columns (platform user ids) they are made from.
_TARGET_KEY_COLUMNS = {
    "reply_to_author_key": "reply_to_author_id",
    "repost_of_author_key": "repost_of_author_id",
    "quote_of_author_key": "quote_of_author_id",
}


def _finish_posts(
    table: pa.Table, *, pseudo: Pseudonymiser, pseudonymise: bool, prov: Provenance
) -> pa.Table:
    """Adapter output (``ADAPTER_SCHEMA``) → lake rows (``POST_SCHEMA``): account ids become keyed
    hashes (``author_key``, the ``*_author_key`` targets, ``mention_keys``), identities inside Bluesky
    ids become author keys (``Pseudonymiser.bluesky_ids``; ``raw`` keeps the record as exported, and
    ``url`` is left as it is), and provenance is added."""
    source_file, export_format = prov.source_file, prov.export_format
    batch_id, ingested_at = prov.batch_id, prov.ingested_at
    n = table.num_rows
    platform = table.column("platform")
    author_key = pseudo.apply(platform, table.column("author_id"))
    handle = table.column("author_handle") if not pseudonymise else pa.nulls(n, pa.string())
    cols: dict[str, Any] = {}
    for f in POST_SCHEMA:
        name = f.name
        if name == "author_key":
            cols[name] = author_key
        elif name in _TARGET_KEY_COLUMNS:
            cols[name] = pseudo.apply(platform, table.column(_TARGET_KEY_COLUMNS[name]))
        elif name == "mention_keys":
            cols[name] = pseudo.mention_keys(platform, table.column("mention_targets"))
        elif name in ID_COLUMNS and pseudonymise:
            cols[name] = pseudo.activitypub_ids(platform, pseudo.bluesky_ids(platform, table.column(name)))
        elif name == "author_handle":
            cols[name] = handle
        elif name == "source_file":
            cols[name] = _constant(source_file, n, f.type)
        elif name == "export_format":
            cols[name] = _constant(export_format, n, f.type)
        elif name == "batch_id":
            cols[name] = _constant(batch_id, n, f.type)
        elif name == "ingested_at":
            cols[name] = _constant(ingested_at, n, f.type)
        else:
            cols[name] = table.column(name)
    return pa.Table.from_arrays([_one_array(c) for c in cols.values()], schema=POST_SCHEMA)


def _one_array(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as one array: its only chunk as it is, several chunks concatenated."""
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    return col


def _constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    """``value`` repeated ``n`` times, as an array of ``type_`` (built in Arrow, not from a list)."""
    return pa.repeat(pa.scalar(value, type_), n)


def _finish_quarantine(table: pa.Table, *, platform: str, prov: Provenance) -> pa.Table:
    source_file, export_format = prov.source_file, prov.export_format
    batch_id, ingested_at = prov.batch_id, prov.ingested_at
    n = table.num_rows
    raw = pc.utf8_slice_codeunits(table.column("raw").cast(pa.string()), 0, QUARANTINE_RAW_MAX_CHARS)
    return pa.Table.from_arrays(
        [
            _constant(source_file, n, pa.string()),
            table.column("source_record").cast(pa.int64()).combine_chunks(),
            raw.combine_chunks(),
            table.column("error").cast(pa.string()).combine_chunks(),
            _constant(platform, n, pa.string()),
            _constant(export_format, n, pa.string()),
            _constant(batch_id, n, pa.string()),
            _constant(ingested_at, n, pa.timestamp("us", tz="UTC")),
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


# The tombstones a batch brings: the SHA-256 of each post_uid its delete events name, as the lake
# stores that uid (pseudonymised like the posts' ids), so they match the posts and hold no identity.
DELETES_DIR = "deletes"
DELETES_SCHEMA = pa.schema([pa.field("post_uid_sha256", pa.string(), nullable=False)])


def stored_uids(uids: list[str], *, pseudo: Pseudonymiser, pseudonymise: bool) -> list[str]:
    """Adapter post_uids as the lake stores them (``_finish_posts``: identities in ids keyed)."""
    if not pseudonymise or not uids:
        return list(uids)
    arr = pa.array(uids, pa.string())
    platform = pa.array([u.split(":", 1)[0] for u in uids], pa.string())
    return pseudo.activitypub_ids(platform, pseudo.bluesky_ids(platform, arr)).to_pylist()


def uid_digest(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()


def _write_deletes(writer: BatchWriter, uids: list[str], *, pseudo: Pseudonymiser, pseudonymise: bool) -> int:
    """Write the batch's tombstones (``deletes/<batch_id>.parquet``, committed with its other files);
    returns how many distinct posts its delete events name."""
    if not uids:
        return 0
    digests = sorted({uid_digest(u) for u in stored_uids(uids, pseudo=pseudo, pseudonymise=pseudonymise)})
    final = writer.settings_posts.parent / DELETES_DIR / f"{writer.batch_id}.parquet"
    writer._writer(final, DELETES_SCHEMA).write_table(
        pa.table({"post_uid_sha256": pa.array(digests, pa.string())}, schema=DELETES_SCHEMA))
    return len(digests)


def _first_occurrences(hashes: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``hashes`` are neither in ``seen`` (sorted) nor earlier in ``hashes``, and the new
    sorted ``seen``."""
    uniq, first = np.unique(hashes, return_index=True)  # the index of each value's first occurrence
    keep = np.zeros(len(hashes), dtype=bool)
    keep[first] = True
    if len(seen):
        pos = np.searchsorted(seen, hashes)
        keep &= seen[np.minimum(pos, len(seen) - 1)] != hashes
        return keep, np.union1d(seen, uniq)
    return keep, uniq


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
    seen = np.empty(0, dtype=np.uint64)  # the post_uid hashes written so far, sorted
    loaded = quarantined = dups = 0
    skipped: dict[str, int] = {}
    platforms: dict[str, int] = {}
    notes: list[str] = []
    deletes: list[str] = []
    for chunk in chunks:
        if chunk.context is not None and chunk.context.num_rows:
            writer.write_context(chunk.context)
        notes += [n for n in chunk.notes if n not in notes]
        deletes += chunk.deletes
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
                            "error": _constant("missing required field (post_id, created_at or kind)",
                                               bad_rows.num_rows, pa.string()),
                        }
                    )
                )
                posts = posts.filter(pc.invert(bad))
            # Within-batch duplicates: first occurrence wins.
            hashes = pl.from_arrow(posts.column("post_uid")).hash(seed=0).to_numpy()
            keep, seen = _first_occurrences(hashes, seen)
            n_keep = int(keep.sum())
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
    n_deletes = _write_deletes(writer, deletes, pseudo=pseudo, pseudonymise=pseudonymise)
    return {
        "loaded": loaded,
        "quarantined": quarantined,
        "duplicates_within_batch": dups,
        "deletes": n_deletes,
        "skipped": skipped,
        "platforms": platforms,
        "field_profile": sampler.profile(),
        "notes": notes,
    }


def _source_fields(source: Any, origin: Any, stat: os.stat_result) -> dict[str, Any]:
    """The manifest fields naming the export a batch came from (``origin``: its object-store copy)."""
    return {
        "source_file": source.name,
        "source_path": origin.url if origin else str(source.path.resolve()),
        "source_member": source.member,
        "source_size": origin.size if origin else stat.st_size,
        "source_mtime_ns": origin.mtime_ns if origin else stat.st_mtime_ns,
        "compression": source.compression,
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
        **_source_fields(source, origin, stat),
        "export_format": adapter.name,
        "platform": adapter.platform,
        "platforms": counts["platforms"],
        "records_in": counts["loaded"] + counts["quarantined"] + counts["duplicates_within_batch"],
        "loaded": counts["loaded"],
        "quarantined": counts["quarantined"],
        "duplicates_within_batch": counts["duplicates_within_batch"],
        "skipped": counts["skipped"],
        "skipped_total": sum(counts["skipped"].values()),
        # posts its delete events name (tombstones, applied by the next run: discourse.forget)
        "deletes": counts.get("deletes", 0),
        "notes": counts.get("notes", []),
        "files": sorted(r for p in files if not (r := target.rel(p)).startswith(f"{DELETES_DIR}/")),
        "ingested_at": ingested_at.isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
        "pseudonymised": settings.pseudonymise,
        "field_profile": counts["field_profile"],
        # what ``discourse remap`` needs to map the stored records again
        "options": recordable_options(options),
        "remappable": True,
    }
    # The tombstones are the batch's, but not among the ``files`` a remap or a forget rewrites (they
    # are not mapped from the stored posts): the manifest names them apart.
    tombstones = sorted(r for p in files if (r := target.rel(p)).startswith(f"{DELETES_DIR}/"))
    if tombstones:
        entry["deletes_file"] = tombstones[0]
    crash_point("ingest.renamed")  # files in place, no manifest yet: orphans until it is written
    if target.store is None:
        atomic_write_text(manifest_path(settings.manifest_dir, batch_id), manifest_text(entry))
    else:
        target.publish({"new": entry["files"] + tombstones, "old": [], "manifest": entry},
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
    # (source, adapter or None when it could not be told, the error that stopped it or None)
    plan: list[tuple[Source, registry.Adapter | None, BaseException | None]] = []
    unrecognised: list[str] = []
    for src in sources:
        try:
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
                    plan.append((src, adapter, None))
                continue
            plan.append((src, registry.detect(src), None))
        except registry.UnrecognisedFormat as exc:
            unrecognised.append(str(exc))
        except Exception as exc:
            if not src.member or not member_failure(exc):
                raise
            plan.append((src, _sniff_readable_part(src, fmt), exc))
    if not plan:
        raise registry.UnrecognisedFormat("; ".join(unrecognised) or f"{path}: empty archive")
    results: list[dict[str, Any]] = []
    failed: list[tuple[Source, registry.Adapter | None, BaseException]] = []
    for src, adapter, error in plan:
        if error is None:
            assert adapter is not None
            try:
                results.append(ingest_source(settings, src, adapter, options, force=force, progress=progress,
                                             origin=origin))
                continue
            except Exception as exc:
                if not src.member or not member_failure(exc):
                    raise
                error = exc
        failed.append((src, adapter, error))
    if failed and not results:
        # no member could be read: the archive fails as a whole (reported, left in the inbox)
        raise failed[0][2]
    for src, adapter, error in failed:
        results.append(_quarantine_member(settings, src, adapter, error, options, force, origin))
    order = {src.member: i for i, (src, _, _) in enumerate(plan)}
    results.sort(key=lambda e: order.get(e.get("source_member"), 0))
    if unrecognised:
        results[0]["unrecognised_members"] = unrecognised
    return results


def member_failure(exc: BaseException) -> bool:
    """Whether ``exc``, raised reading one zip member, is that member's fault (unreadable, corrupt,
    over an ingest limit, malformed for its adapter), so the archive's other members still load. A
    full disk, a lost connection or no memory are not: they stop the ingest."""
    if isinstance(exc, (OSError, MemoryError)) and not isinstance(exc, SourceError):
        return False
    return type(exc).__name__ not in ("IOException", "OutOfMemoryException", "SettingsError")


def _sniff_readable_part(src: Source, fmt: str | None) -> registry.Adapter | None:
    """The adapter of a member whose content fails part-way (a bad CRC is only found at its end),
    told from the bytes read before the failure; None when none recognises them."""
    if fmt:
        return registry.get(fmt)
    head = bytearray()
    try:
        # small reads straight from the member (no read-ahead buffer): the bytes before the failing
        # spot come out before the check at its end fails
        with zipfile.ZipFile(src.path) as zf, zf.open(src.member or "") as fh:
            while len(head) < HEAD_BYTES:
                piece = fh.read(256)
                if not piece:
                    break
                head += piece
    except Exception:  # noqa: BLE001 - the failure itself is what is being reported
        pass
    for cls in registry.adapters().values():
        adapter = cls()
        try:
            if head and adapter.sniff(bytes(head)):
                return adapter
        except Exception:  # noqa: BLE001 - a sniffer choking on a fragment recognises nothing
            continue
    return None


def _quarantine_member(
    settings: Any,
    source: Source,
    adapter: registry.Adapter | None,
    error: BaseException,
    options: dict[str, Any] | None,
    force: bool,
    origin: Origin | None,
) -> dict[str, Any]:
    """A zip member that cannot be read, as a batch of its own: one quarantined record (no raw: the
    member's content is not previewed) whose error says why, so the archive's other members load and
    the accounting shows what was lost. The manifest names the member and carries the reason as a
    note (the run prints it). A new ingest with ``--force`` (say, with a higher limit) replaces it."""
    source = dataclasses.replace(source, limits=Limits.from_settings(settings))
    batch_id = content_hash(source)
    target = LakeTarget(settings, batch_id)
    existing = _existing_manifest(settings, target.store, batch_id)
    if existing is not None and not force:
        return {**existing, "status": "already_ingested"}
    reason = " ".join(str(error).split()) or type(error).__name__
    if source.name not in reason:
        reason = f"{source.name}: {type(error).__name__}: {reason}"
    reason = f"zip member not read: {reason}"[:1000]
    platform = str((options or {}).get("platform") or (adapter.platform if adapter else "generic"))
    export_format = adapter.name if adapter else "unreadable"
    ingested_at = datetime.now(UTC)
    prov = Provenance(source.name, export_format, batch_id, ingested_at)
    row = pa.table({"source_record": pa.array([0], pa.int64()), "raw": pa.array([None], pa.string()),
                    "error": pa.array([reason], pa.string())})
    writer = target.writer()
    try:
        writer.write_quarantine(_finish_quarantine(row, platform=platform, prov=prov), platform)
        files = writer.commit()
    except BaseException:
        writer.abort()
        target.discard()
        raise
    stat = source.path.stat()
    entry = {
        "batch_id": batch_id,
        **_source_fields(source, origin, stat),
        "export_format": export_format,
        "platform": platform,
        "platforms": {},
        "records_in": 1,
        "loaded": 0,
        "quarantined": 1,
        "duplicates_within_batch": 0,
        "skipped": {},
        "skipped_total": 0,
        "deletes": 0,
        "member_error": reason,
        "notes": [reason],
        "files": sorted(target.rel(p) for p in files),
        "ingested_at": ingested_at.isoformat(),
        "seconds": 0.0,
        "pseudonymised": settings.pseudonymise,
        "field_profile": {},
        "options": recordable_options(dict(options or {})),
        "remappable": False,  # nothing of the member was stored to map again
    }
    if target.store is None:
        atomic_write_text(manifest_path(settings.manifest_dir, batch_id), manifest_text(entry))
    else:
        target.publish({"new": entry["files"], "old": [], "manifest": entry},
                       {target.rel(p): p for p in files})
    log.warning("%s", reason)
    return {**entry, "status": "ingested"}


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


LAKE_DATA_GLOBS = ("posts/platform=*/created_date=*/*.parquet", "quarantine/platform=*/*.parquet",
                   "context/*.parquet", f"{DELETES_DIR}/*.parquet")


def settle_lake(settings: Any) -> dict[str, Any]:
    """Make the lake's visible files exactly those its accepted manifests account for: the manifest is
    each batch's commit point (``docs/recovery.md``). Call with the lake's lock held exclusively
    (``discourse.pipeline.run_lock``), after ``cleanup_lake``; a local lake only (on object storage a
    batch's files are copied into place only right before its manifest, and rejections run from
    their ``_rejected`` copies).

    * Unreadable manifests are set aside (``read_manifests``); their batches count as not ingested.
    * A rejection a crash interrupted is finished: its decision (``_rejected/<batch>/manifest.json``,
      written before anything moves) still matching the batch's manifest byte for byte means the
      manifest goes; files it lists that no accepted manifest claims are moved under ``_rejected``.
    * Every other lake file no accepted manifest lists is an orphan (a crash between the files'
      rename and the manifest's write, or the batch of a corrupt manifest) and is removed: its source
      is still where it was, and counts as not ingested, so the next ingest writes it again whole.

    Returns what was done: ``orphans_removed`` (lake paths), ``rejections_finished`` (batch ids),
    ``manifests_set_aside`` (paths)."""
    out: dict[str, Any] = {"orphans_removed": [], "rejections_finished": [], "manifests_set_aside": []}
    if lake_store(settings) is not None:
        return out
    lake = Path(settings.lake)
    mdir = Path(settings.manifest_dir)
    before = set(corrupt_manifests(settings))
    accepted = {m["batch_id"]: m for m in read_manifests(mdir)}
    out["manifests_set_aside"] = sorted(set(corrupt_manifests(settings)) - before)
    rejected_root = lake / REJECTED_DIR
    decisions: dict[str, dict[str, Any]] = {}
    for folder in sorted(rejected_root.iterdir()) if rejected_root.is_dir() else []:
        decided = folder / "manifest.json"
        if not decided.is_file():
            continue  # a decision not yet written: nothing was moved, the batch is still accepted
        try:
            decision = parse_manifest(decided.read_bytes(), str(decided))
        except CorruptManifest:
            continue
        mpath = manifest_path(mdir, folder.name)
        if folder.name in accepted and mpath.is_file() and mpath.read_bytes() == decided.read_bytes():
            mpath.unlink()  # the rejection's commit point, which the crash came before
            del accepted[folder.name]
            out["rejections_finished"].append(folder.name)
        decisions[folder.name] = decision
    claimed = {rel for m in accepted.values() for rel in [*m.get("files", []), m.get("deletes_file")] if rel}
    unlisted = {b for b, m in accepted.items() if not isinstance(m.get("files"), list)}  # kept whole
    for batch_id, decision in decisions.items():
        moved = False
        for rel in decision.get("files", []):
            src = lake / rel
            if rel not in claimed and src.is_file():
                dest = rejected_root / batch_id / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                moved = True
        if moved and batch_id not in out["rejections_finished"]:
            out["rejections_finished"].append(batch_id)
    for pattern in LAKE_DATA_GLOBS:
        for path in sorted(lake.glob(pattern)):
            rel = path.relative_to(lake).as_posix()
            if rel not in claimed and path.stem not in unlisted:
                path.unlink(missing_ok=True)
                out["orphans_removed"].append(rel)
    if out["orphans_removed"]:
        log.warning("removed %d lake file(s) no manifest accounts for: %s", len(out["orphans_removed"]),
                    ", ".join(out["orphans_removed"][:5]))
    return out


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
