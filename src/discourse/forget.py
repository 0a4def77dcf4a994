"""Erasure and retention (``discourse forget``; docs/security.md, "Erasure and retention").

``forget`` removes posts from everywhere the pipeline keeps them for the next build: the lake's
posts (``raw`` included), the quarantine rows whose ``raw`` names the same account or post, the
batches set aside under ``lake/_rejected/``, the records' contexts, and optionally the inbox
exports they came from. What is matched:

* ``--author <platform>:<author id>``: the account's ``author_key`` is computed with the pipeline's
  pseudonymiser (``ingest.lake.Pseudonymiser``), so the lake is searched by key and no handle or id is
  stored anywhere; ``--author [<platform>:]@<handle>`` is first resolved to author ids by mapping the
  lake's stored records again with their adapters (the lake keeps no handles);
* ``--post <post_uid>``: one post, as ``marts.posts.post_uid`` names it;
* ``--before <date>``: every post created before that day (UTC), and quarantined records ingested
  before it: the retention rule (``retention_days`` runs it at the start of each night).

Every changed file is rewritten as ``<name>.tmp`` and renamed into place through the lake's journal
(``ingest.store.publish``: a crash after the journal is rolled forward by the next run), the manifest
last. The manifest's accounting stays whole: ``loaded`` and ``quarantined`` drop by what was removed,
``records_in`` with them, and ``forgotten`` keeps the running totals, so ``records_in + forgotten.posts
+ forgotten.quarantined`` is what the export held. A changed manifest makes the next ``discourse run``
see the batch as changed (``discourse.transform.increments``: its rows are rebuilt) and gate it again.

The lake may be on local disk or on object storage (``lake_url``): there the batch's files are read
from the store, the rewritten ones staged under the home, uploaded and copied into place through a
journal on the store (``ingest.store.publish_remote``; ``recover_remote`` rolls a crashed one forward).

Delete events in exports (a Bluesky post delete, a Mastodon ``Delete``) are tombstones in the lake
(``ingest.lake``: the SHA-256 of the deleted post's stored ``post_uid``); ``apply_deletes``, run by the
night after its ingest, removes those posts with the same machinery, whichever export brought them.

The audit record (``<home>/forget/<timestamp>.json``) holds what was done and no identity: the
matched author keys' SHA-256 (not the keys themselves), counts and the files touched. The published
snapshots and reports that predate a forget may quote the forgotten posts: the next publish keeps only
its own snapshot and removes the older reports (``finish_pending``, called by the nightly run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from discourse.publish import FORGET_PENDING
from ingest.lake import (
    DELETES_DIR,
    REJECTED_DIR,
    Pseudonymiser,
    lake_manifests,
    rejected_batches,
    rejected_manifest,
    staging_root,
    uid_digest,
)
from ingest.objectstore import ObjectStore, inbox_store, lake_store
from ingest.schema import PLATFORMS
from ingest.store import (
    JOURNAL_SUFFIX,
    MANIFEST_DIR,
    PARQUET_COMPRESSION,
    atomic_write_text,
    drop_staging,
    journal_path,
    publish,
    publish_remote,
    upload_staged,
)

# The marker of a forget waiting for the next publish (``discourse.publish`` reads it too: that
# publish rewrites, rather than patches, every published file that may hold the forgotten rows).
PENDING = FORGET_PENDING


class ForgetError(Exception):
    """A forget request that cannot be carried out; nothing was changed."""


@dataclass
class Match:
    """What to forget, in the lake's terms."""

    author_keys: set[str] = field(default_factory=set)
    post_uids: set[str] = field(default_factory=set)
    before: datetime | None = None
    # Tokens searched for in the ``raw`` of quarantined records (which have no keys): the account's
    # ids and handles, or the post's id. Held in memory only, never written.
    raw_tokens: set[str] = field(default_factory=set)
    raw_platforms: set[str] | None = None  # quarantine rows of these platforms only (None: any)
    ids: set[tuple[str, str]] = field(default_factory=set)  # (platform, author id), for contexts
    reason: str = "request"

    def post_mask(self, table: pa.Table) -> pa.Array:
        hit = pa.array([False] * table.num_rows, pa.bool_())
        if self.author_keys and "author_key" in table.column_names:
            hit = _or(hit, pc.is_in(table["author_key"], pa.array(sorted(self.author_keys), pa.string())))
        if self.post_uids:
            hit = _or(hit, pc.is_in(table["post_uid"], pa.array(sorted(self.post_uids), pa.string())))
        if self.before is not None:
            hit = _or(hit, _earlier(table, "created_at", self.before))
        return hit

    def quarantine_mask(self, table: pa.Table) -> pa.Array:
        n = table.num_rows
        hit = [False] * n
        if self.raw_tokens:
            pattern = _token_pattern(self.raw_tokens)
            plats = table["platform"].to_pylist() if "platform" in table.column_names else [None] * n
            for i, raw in enumerate(table["raw"].to_pylist()):
                if raw and (self.raw_platforms is None or plats[i] in self.raw_platforms):
                    hit[i] = bool(pattern.search(raw))
        out = pa.array(hit, pa.bool_())
        if self.before is not None and "ingested_at" in table.column_names:
            out = _or(out, _earlier(table, "ingested_at", self.before))
        return out


def _or(a: Any, b: Any) -> pa.Array:
    out = pc.or_(a, pc.fill_null(b, False))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _earlier(table: pa.Table, column: str, when: datetime) -> Any:
    return pc.less(table[column], pa.scalar(when, table.schema.field(column).type))


def _token_pattern(tokens: set[str]) -> re.Pattern[str]:
    """Any of ``tokens`` as a whole token (not inside a longer id or word), case-insensitive."""
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])@?(?:{alternatives})(?![A-Za-z0-9_])", re.I)


def parse_author(spec: str) -> tuple[str | None, str | None, str | None]:
    """``x:123`` -> ("x", "123", None); ``x:@name`` -> ("x", None, "name"); ``@name`` -> (None, None,
    "name"). The platform is one of ``ingest.schema.PLATFORMS``."""
    spec = spec.strip()
    if spec.startswith("@"):
        handle = spec[1:].strip()
        if not handle:
            raise ForgetError(f"--author {spec!r}: no handle after '@'")
        return None, None, handle.lower()
    platform, sep, rest = spec.partition(":")
    if not sep or platform not in PLATFORMS or not rest.strip():
        raise ForgetError(
            f"--author {spec!r}: expected <platform>:<author id> or [<platform>:]@<handle>, the platform "
            f"one of {', '.join(PLATFORMS)}")
    rest = rest.strip()
    if rest.startswith("@") and len(rest) > 1:
        return platform, None, rest[1:].lower()
    return platform, rest, None


def _pseudonymiser(settings: Any) -> Pseudonymiser:
    return Pseudonymiser(settings.require_pseudonym_key() if settings.pseudonymise else None)


class _Files:
    """One batch root's files: below the lake (``prefix`` ""), or below its ``_rejected/<batch>/``
    folder, on local disk or on object storage. Rewritten files are written locally: next to the file
    as ``<name>.tmp`` (renamed into place by ``ingest.store.publish``), or, on object storage, in a
    staging folder under the home (uploaded, then copied into place by ``publish_remote``)."""

    def __init__(self, settings: Any, prefix: str = ""):
        self.settings = settings
        self.store: ObjectStore | None = lake_store(settings)
        self.prefix = prefix.strip("/")
        self.root = Path(settings.lake) / self.prefix if self.prefix else Path(settings.lake)
        self._stage: Path | None = None

    def key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def exists(self, rel: str) -> bool:
        return (self.root / rel).exists() if self.store is None else self.store.exists(self.key(rel))

    def read_table(self, rel: str, columns: list[str] | None = None) -> pa.Table:
        if self.store is None:
            return pq.read_table(self.root / rel, columns=columns)
        return pq.read_table(self.store.key(self.key(rel)), columns=columns, filesystem=self.store.fs)

    @property
    def stage(self) -> Path:
        if self._stage is None:
            base = staging_root(self.settings, "forget")
            base.mkdir(parents=True, exist_ok=True)
            self._stage = Path(tempfile.mkdtemp(prefix="batch-", dir=base))
        return self._stage

    def write_new(self, table: pa.Table, rel: str) -> None:
        """``table`` as the new content of ``rel``, not yet in place."""
        if self.store is None:
            final = self.root / rel
            tmp = final.with_name(final.name + ".tmp")
        else:
            tmp = self.stage / rel
            tmp.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, tmp, compression=PARQUET_COMPRESSION)

    def staged(self, rels: list[str]) -> dict[str, Path]:
        return {rel: self.stage / rel for rel in rels}

    def discard(self) -> None:
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage = None


def _stored_units(files: _Files, entry: dict[str, Any]) -> Iterator[Any]:
    """A stored batch's raw records grouped by ``source_record``, in order, each with the context in
    force there (the last one stored at or before it): what ``Adapter.reframe`` writes back out."""
    from ingest.registry import Unit

    posts = [files.read_table(f, columns=["source_record", "raw"])
             for f in entry.get("files", []) if f.startswith("posts/") and files.exists(f)]
    if not posts:
        return
    table = pa.concat_tables(posts).sort_by("source_record")
    contexts: list[tuple[int, str]] = []
    ctx_rel = f"context/{entry['batch_id']}.parquet"
    if files.exists(ctx_rel):
        ctx = files.read_table(ctx_rel).sort_by("source_record")
        contexts = list(zip(ctx["source_record"].to_pylist(), ctx["context"].to_pylist(), strict=True))
    ci = -1
    current: int | None = None
    raws: list[str] = []
    for rec, raw in zip(table["source_record"].to_pylist(), table["raw"].to_pylist(), strict=True):
        if rec != current:
            if current is not None:
                yield Unit(current, raws, *(contexts[ci][::-1] if ci >= 0 else (None, None)))
            current, raws = rec, []
            while ci + 1 < len(contexts) and contexts[ci + 1][0] <= rec:
                ci += 1
        raws.append(raw)
    if current is not None:
        yield Unit(current, raws, *(contexts[ci][::-1] if ci >= 0 else (None, None)))


def resolve_handle(settings: Any, platform: str | None, handle: str,
                   entries: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (platform, author id) pairs whose posts in the lake carry ``handle`` as their author's
    handle, found by mapping each batch's stored records again with its adapter (``Adapter.reframe``
    then ``Adapter.read``, as ``discourse remap`` does, without writing anything to the lake)."""
    from ingest import registry
    from ingest.sources import Limits, Source

    found: set[tuple[str, str]] = set()
    lake = _Files(settings)
    for entry in entries:
        plats = set(entry.get("platforms") or {}) | {entry.get("platform")}
        if (platform is not None and platform not in plats) or not entry.get("remappable"):
            continue
        adapter = registry.get(entry["export_format"])
        tmpdir = Path(tempfile.mkdtemp(prefix="forget-", dir=settings.home))
        try:
            reframed = tmpdir / f"{entry['batch_id']}.{entry['export_format']}"
            with open(reframed, "wb") as out:
                extra = adapter.reframe(_stored_units(lake, entry), out)
            options = {**entry.get("options", {}), **extra,
                       "ingested_at": datetime.fromisoformat(entry["ingested_at"])}
            source = Source(reframed, "none", limits=Limits.from_settings(settings))
            for chunk in adapter.read(source, options):
                posts = chunk.posts
                if posts is None or posts.num_rows == 0:
                    continue
                rows = zip(posts["platform"].to_pylist(), posts["author_id"].to_pylist(),
                           posts["author_handle"].to_pylist(), strict=True)
                for plat, author_id, h in rows:
                    if h and author_id and h.lstrip("@").lower() == handle and platform in (None, plat):
                        found.add((plat, str(author_id)))
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return found


def build_match(settings: Any, *, author: str | None = None, post: str | None = None,
                before: date | None = None, entries: list[dict[str, Any]] | None = None) -> Match:
    if sum(x is not None for x in (author, post, before)) != 1:
        raise ForgetError("give exactly one of --author, --post or --before")
    match = Match()
    if before is not None:
        match.before = datetime(before.year, before.month, before.day, tzinfo=UTC)
        return match
    if post is not None:
        platform, sep, post_id = post.partition(":")
        if not sep or platform not in PLATFORMS or not post_id:
            raise ForgetError(f"--post {post!r}: expected a post_uid, <platform>:<post id>")
        match.post_uids.add(post)
        match.raw_tokens.add(post_id)
        match.raw_platforms = {platform}
        return match
    assert author is not None
    platform, author_id, handle = parse_author(author)
    pseudo = _pseudonymiser(settings)
    ids: set[tuple[str, str]] = set()
    if author_id is not None:
        ids.add((str(platform), author_id))
    else:
        assert handle is not None
        ids = resolve_handle(settings, platform, handle,
                             entries if entries is not None else _all_entries(settings))
        match.raw_tokens.add(handle)
    for plat, aid in ids:
        match.author_keys.add(pseudo.key_for(f"{plat}:{aid}"))
        match.raw_tokens.add(aid)
    match.ids = ids
    match.raw_platforms = {platform} if platform else ({p for p, _ in ids} or None)
    if not match.author_keys and not match.raw_tokens:
        raise ForgetError(f"--author {author!r}: nothing to match")
    return match


# ------------------------------------------------------------------ the lake

def _all_entries(settings: Any) -> list[dict[str, Any]]:
    return [e for e in lake_manifests(settings) if e.get("batch_id")]


def _rejected_entries(settings: Any) -> list[tuple[_Files, dict[str, Any]]]:
    out = []
    for batch_id in rejected_batches(settings):
        entry = rejected_manifest(settings, batch_id)
        if entry is not None:
            out.append((_Files(settings, f"{REJECTED_DIR}/{batch_id}"), entry))
    return out


_CONTEXT_ID_KEYS = ("id", "id_str", "rest_id", "accountId", "author_id", "user_id")


def _scrub_context(text: str, ids: set[str]) -> str:
    """A context JSON without the objects that describe one of ``ids`` or were written by it (an X
    page's ``includes.users`` entry, the author's tweets in ``includes.tweets``): every dict whose
    ``id``/``id_str``/``rest_id``/``accountId``/``author_id``/``user_id`` is one of them goes. Other
    accounts' objects that merely point at it (``in_reply_to_user_id``) stay, as their posts do."""

    def keep(node: Any) -> bool:
        if isinstance(node, dict):
            return not any(str(node.get(k)) in ids for k in _CONTEXT_ID_KEYS if node.get(k) is not None)
        return True

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if keep(v)}
        if isinstance(node, list):
            return [walk(v) for v in node if keep(v)]
        return node

    try:
        return json.dumps(walk(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return text


def _forget_batch(root: _Files, entry: dict[str, Any], match: Match) -> dict[str, Any] | None:
    """Rewrite one batch's files under ``root`` (the lake, or its ``_rejected/<batch>/`` folder).
    Returns the plan (new files, old files, the new manifest) or None when nothing matched."""
    posts_gone = quarantine_gone = 0
    by_platform: dict[str, int] = {}
    new_files: list[str] = []
    old_files: list[str] = []
    files = list(entry.get("files", []))
    posts_left = 0
    for rel in files:
        if not rel.startswith(("posts/", "quarantine/")) or not root.exists(rel):
            continue
        table = root.read_table(rel)
        if "platform" not in table.column_names and "platform=" in rel:
            plat = rel.split("platform=", 1)[1].split("/", 1)[0]
            table = table.append_column("platform", pa.array([plat] * table.num_rows, pa.string()))
            added_platform = True
        else:
            added_platform = False
        is_posts = rel.startswith("posts/")
        mask = match.post_mask(table) if is_posts else match.quarantine_mask(table)
        n = pc.sum(mask).as_py() or 0
        if is_posts:
            posts_left += table.num_rows - n
        if not n:
            continue
        if is_posts:
            posts_gone += n
            for plat in pc.filter(table["platform"], mask).to_pylist():
                by_platform[plat] = by_platform.get(plat, 0) + 1
        else:
            quarantine_gone += n
        rest = pc.filter(table, pc.invert(mask))
        if added_platform:
            rest = rest.drop_columns(["platform"])
        old_files.append(rel)
        if rest.num_rows:
            root.write_new(rest, rel)
            new_files.append(rel)
    # Contexts: the account of an author who is forgotten, and their posts quoted there, leave every
    # batch's context; a batch whose last post was forgotten keeps no context at all.
    for rel in files:
        if not rel.startswith("context/") or not root.exists(rel):
            continue
        if posts_left == 0 and posts_gone:
            old_files.append(rel)
            continue
        if match.ids:
            table = root.read_table(rel)
            ids = {aid for _, aid in match.ids}
            scrubbed = [_scrub_context(t, ids) for t in table["context"].to_pylist()]
            if scrubbed != table["context"].to_pylist():
                i = table.schema.get_field_index("context")
                table = table.set_column(i, table.schema.field(i), pa.array(scrubbed, pa.string()))
                root.write_new(table, rel)
                old_files.append(rel)
                new_files.append(rel)
    if not old_files:
        return None
    removed = set(old_files) - set(new_files)
    forgotten = dict(entry.get("forgotten") or {})
    forgotten["posts"] = int(forgotten.get("posts", 0)) + posts_gone
    forgotten["quarantined"] = int(forgotten.get("quarantined", 0)) + quarantine_gone
    forgotten["at"] = [*forgotten.get("at", []), datetime.now(UTC).isoformat()]
    if match.reason == "delete_events":  # of which removed because the export said they were deleted
        forgotten["deleted_by_events"] = int(forgotten.get("deleted_by_events", 0)) + posts_gone
    platforms = {p: c - by_platform.get(p, 0) for p, c in (entry.get("platforms") or {}).items()}
    manifest = {
        **entry,
        "files": [f for f in files if f not in removed],
        "loaded": int(entry.get("loaded", 0)) - posts_gone,
        "quarantined": int(entry.get("quarantined", 0)) - quarantine_gone,
        "records_in": int(entry.get("records_in", 0)) - posts_gone - quarantine_gone,
        "platforms": {p: c for p, c in platforms.items() if c > 0},
        "forgotten": forgotten,
    }
    return {"new": new_files, "old": old_files, "manifest": manifest,
            "counts": {"posts": posts_gone, "quarantined": quarantine_gone}}


def _publish_batch(settings: Any, files: _Files, plan: dict[str, Any]) -> None:
    """Put one batch's rewrite in place, through a journal that the next command rolls forward
    should this one die part-way (``ingest.store.recover`` / ``recover_remote``): on local disk the
    ``.tmp`` files are renamed, on object storage the staged files are uploaded and copied into place;
    the manifest is written last either way."""
    batch_id = plan["manifest"]["batch_id"]
    if files.store is None:
        journal = journal_path(settings.manifest_dir, batch_id)
        atomic_write_text(journal, json.dumps(plan, indent=1, sort_keys=True))
        publish(files.root, plan)
        journal.unlink(missing_ok=True)
        return
    store = files.store
    staging = None
    try:
        if plan["new"]:
            staging = upload_staged(store, files.staged(plan["new"]), f"forget-{batch_id}-{os.getpid()}")
        remote = {**plan, "staging": staging}
        jkey = f"{MANIFEST_DIR}/{batch_id}{JOURNAL_SUFFIX}"
        store.write_text(jkey, json.dumps(remote, indent=1, sort_keys=True))
        publish_remote(store, remote)
        store.delete(jkey)
        drop_staging(store, staging)
    finally:
        files.discard()


def _publish_rejected(files: _Files, plan: dict[str, Any]) -> None:
    """The ``_rejected/<batch>/`` form of ``_publish_batch``: its manifest is ``manifest.json`` (a
    rejected batch is read by no build, so no journal)."""
    text = json.dumps(plan["manifest"], indent=1, sort_keys=True)
    if files.store is None:
        folder = files.root
        for rel in plan["new"]:
            final = folder / rel
            tmp = final.with_name(final.name + ".tmp")
            if tmp.exists():
                os.replace(tmp, final)
        for rel in set(plan["old"]) - set(plan["new"]):
            (folder / rel).unlink(missing_ok=True)
        atomic_write_text(folder / "manifest.json", text)
        return
    try:
        for rel, path in files.staged(plan["new"]).items():
            files.store.upload(path, files.key(rel))
        files.store.delete_many(files.key(rel) for rel in sorted(set(plan["old"]) - set(plan["new"])))
        files.store.write_text(files.key("manifest.json"), text)
    finally:
        files.discard()


def _inbox_object(settings: Any, entry: dict[str, Any]) -> tuple[ObjectStore, str] | None:
    """The export a batch came from, when it is an object of the inbox on object storage."""
    store = inbox_store(settings)
    src = str(entry.get("source_path") or "")
    if store is None or not src.startswith(store.url + "/"):
        return None
    rel = store.rel(src)
    return (store, rel) if store.exists(rel) else None


def _inbox_path(settings: Any, entry: dict[str, Any]) -> Path | None:
    """The export a batch came from, when it is a file of the local inbox."""
    src = entry.get("source_path") or entry.get("source_file")
    if not src or "://" in str(src):
        return None
    path = Path(str(src).split("!", 1)[0])
    try:
        path.resolve().relative_to(Path(settings.inbox).resolve())
    except ValueError:
        return None
    return path if path.is_file() else None


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def forget(
    settings: Any,
    *,
    author: str | None = None,
    post: str | None = None,
    before: date | None = None,
    inbox: bool = False,
    echo: Callable[[str], None] | None = None,
    reason: str = "request",
) -> dict[str, Any]:
    """Carry out one forget request (see the module docstring); returns the audit record, also
    written to ``<home>/forget/<timestamp>.json``. Call with the home's run lock held
    (``discourse.pipeline.run_lock``): it rewrites lake files a run reads. The lake may be local or
    on object storage (``lake_url``)."""
    from ingest.lake import cleanup_lake

    cleanup_lake(settings)  # an interrupted remap or forget is rolled forward first
    entries = _all_entries(settings)
    match = build_match(settings, author=author, post=post, before=before, entries=entries)
    match.reason = reason
    audit = _new_audit(reason, "author" if author else "post" if post else "before", match)
    audit["before"] = before.isoformat() if before else None
    return _carry_out(settings, match, entries, audit, inbox=inbox, echo=echo)


def _new_audit(reason: str, by: str, match: Match) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "by": by,
        # the keys' own hash: whoever holds a key cannot look it up here; no id, handle or uid is kept
        "author_key_sha256": sorted(_key_digest(k) for k in match.author_keys),
        "before": None,
        "accounts_matched": len(match.author_keys),
        "posts": 0,
        "quarantined": 0,
        "batches": [],
        "rejected_batches": [],
        "files_rewritten": 0,
        "files_removed": 0,
        "inbox_files_removed": 0,
        "inbox_files_still_holding": 0,
    }


def _carry_out(settings: Any, match: Match, entries: list[dict[str, Any]], audit: dict[str, Any], *,
               inbox: bool = False, echo: Callable[[str], None] | None = None,
               rejected: bool = True) -> dict[str, Any]:
    """Remove what ``match`` matches from every batch of ``entries`` (and, with ``rejected``, from the
    batches set aside under ``_rejected``), fill in and write the ``audit`` record."""
    say = echo or (lambda _m: None)
    touched_sources: list[dict[str, Any]] = []
    lake = _Files(settings)
    for entry in entries:
        try:
            plan = _forget_batch(lake, entry, match)
            if plan is None:
                continue
            counts = plan.pop("counts")
            _publish_batch(settings, lake, plan)
        finally:
            lake.discard()
        audit["posts"] += counts["posts"]
        audit["quarantined"] += counts["quarantined"]
        audit["batches"].append(entry["batch_id"])
        audit["files_rewritten"] += len(plan["new"])
        audit["files_removed"] += len(set(plan["old"]) - set(plan["new"]))
        touched_sources.append(entry)
        say(f"[forget] batch {entry['batch_id']}: {counts['posts']} post(s), "
            f"{counts['quarantined']} quarantined record(s) removed")
    for folder, entry in _rejected_entries(settings) if rejected else []:
        try:
            plan = _forget_batch(folder, entry, match)
            if plan is None:
                continue
            counts = plan.pop("counts")
            _publish_rejected(folder, plan)
        finally:
            folder.discard()
        audit["posts"] += counts["posts"]
        audit["quarantined"] += counts["quarantined"]
        audit["rejected_batches"].append(entry["batch_id"])
        audit["files_rewritten"] += len(plan["new"])
        audit["files_removed"] += len(set(plan["old"]) - set(plan["new"]))
        touched_sources.append(entry)
        say(f"[forget] rejected batch {entry['batch_id']}: {counts['posts']} post(s), "
            f"{counts['quarantined']} quarantined record(s) removed")
    # The exports: deleted whole with --inbox (the lake keeps every other record of them, raw
    # included, so nothing else is lost); otherwise counted, as they still hold the forgotten data.
    seen: set[str] = set()
    for entry in touched_sources:
        path = _inbox_path(settings, entry)
        obj = _inbox_object(settings, entry) if path is None else None
        where = str(path) if path is not None else obj[0].uri(obj[1]) if obj is not None else None
        if where is None or where in seen:
            continue
        seen.add(where)
        if inbox:
            if path is not None:
                path.unlink(missing_ok=True)
            elif obj is not None:
                obj[0].delete(obj[1])
            audit["inbox_files_removed"] += 1
        else:
            audit["inbox_files_still_holding"] += 1
    if audit["inbox_files_still_holding"]:
        say(f"[forget] ! {audit['inbox_files_still_holding']} inbox export(s) still hold the forgotten "
            "records (use --inbox to delete them)")
    audit["files_touched"] = audit["files_rewritten"] + audit["files_removed"]
    write_audit(settings, audit)
    if audit["posts"] or audit["quarantined"]:
        _mark_pending(settings, audit["at"])
    return audit


def write_audit(settings: Any, audit: dict[str, Any]) -> Path:
    folder = Path(settings.home) / "forget"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(audit["at"]).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}.json"
    atomic_write_text(path, json.dumps(audit, indent=1, sort_keys=True))
    return path


# ------------------------------------------------------------------ delete events

DELETES_STATE = "deletes_applied.json"
DELETE_PLATFORMS = ("bluesky", "mastodon")  # the formats whose exports carry delete events


def _deletes_state_file(settings: Any) -> Path:
    return Path(settings.home) / "state" / DELETES_STATE


def _read_deletes_state(settings: Any) -> dict[str, Any]:
    try:
        data = json.loads(_deletes_state_file(settings).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _delete_work(settings: Any, entries: list[dict[str, Any]]) -> tuple[dict[str, str], set[str],
                                                                       list[dict[str, Any]]]:
    """(tombstone file by batch, the tombstone batches not applied yet, the post batches to check):
    every batch that may hold a deleted post when new tombstones arrived, else the post batches that
    arrived since the last pass (a post whose delete came first)."""
    tombs = {e["batch_id"]: e["deletes_file"] for e in entries
             if str(e.get("deletes_file") or "").startswith(f"{DELETES_DIR}/")}
    if not tombs:
        return {}, set(), []
    state = _read_deletes_state(settings)
    new = set(tombs) - set(state.get("tombstones", []))
    checked = set(state.get("checked", []))
    holders = [e for e in entries if set(e.get("platforms") or {}) & set(DELETE_PLATFORMS)]
    todo = holders if new else [e for e in holders if e["batch_id"] not in checked]
    return tombs, new, todo


def deletes_pending(settings: Any) -> bool:
    """Whether ``apply_deletes`` has anything to do (cheap: manifests and a state file only)."""
    _, new, todo = _delete_work(settings, _all_entries(settings))
    return bool(new or todo)


def apply_deletes(settings: Any, echo: Callable[[str], None] | None = None) -> dict[str, Any] | None:
    """Apply the delete events the lake holds as tombstones (``lake/deletes/<batch>.parquet``: the
    SHA-256 of each deleted post's stored ``post_uid``; ``ingest.lake``): each such post leaves the lake
    through the ``discourse forget --post`` machinery, whichever batch brought it, before or after
    its delete. A tombstone whose post has not arrived waits: the post is removed on the night it
    arrives. Returns the audit record (``<home>/forget/``, reason ``delete_events``; it holds counts,
    never a uid), or None when there was nothing to do. Call with the run lock held, as ``forget``."""
    from ingest.lake import cleanup_lake

    cleanup_lake(settings)
    entries = _all_entries(settings)
    tombs, new, todo = _delete_work(settings, entries)
    if not new and not todo:
        return None
    lake = _Files(settings)
    digests: set[str] = set()
    for rel in tombs.values():
        if lake.exists(rel):
            digests.update(lake.read_table(rel, columns=["post_uid_sha256"])["post_uid_sha256"].to_pylist())
    state = _read_deletes_state(settings)
    found = set(state.get("found", []))
    match = Match(reason="delete_events")
    for entry in todo:
        for rel in entry.get("files", []):
            platform = rel.split("platform=", 1)[-1].split("/", 1)[0]
            if not rel.startswith("posts/") or platform not in DELETE_PLATFORMS or not lake.exists(rel):
                continue
            for uid in lake.read_table(rel, columns=["post_uid"])["post_uid"].to_pylist():
                d = uid_digest(uid)
                if d in digests:
                    match.post_uids.add(uid)
                    found.add(d)
    audit = _new_audit("delete_events", "delete_events", match)
    audit.update({"tombstones": len(digests), "tombstone_batches_new": len(new),
                  "batches_checked": len(todo), "tombstones_waiting": len(digests - found)})
    if match.post_uids:
        wanted = {e["batch_id"] for e in todo}
        audit = _carry_out(settings, match, [e for e in entries if e["batch_id"] in wanted], audit,
                           echo=echo, rejected=False)
    else:
        write_audit(settings, audit)
    holders = {e["batch_id"] for e in _all_entries(settings)
               if set(e.get("platforms") or {}) & set(DELETE_PLATFORMS)}
    atomic_write_text(_deletes_state_file(settings), json.dumps({
        "tombstones": sorted(tombs), "checked": sorted(holders | {e["batch_id"] for e in todo}),
        "found": sorted(found & digests)}))
    (echo or (lambda _m: None))(
        f"[deletes] {audit['posts']} post(s) removed by delete events; {audit['tombstones_waiting']} "
        "delete(s) wait for their post")
    return audit


# ------------------------------------------------------------------ after the next publish

def _pending_file(settings: Any) -> Path:
    return Path(settings.home) / "state" / PENDING


def _mark_pending(settings: Any, at: str) -> None:
    path = _pending_file(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data["since"] = min(filter(None, [data.get("since"), at]))
    atomic_write_text(path, json.dumps(data))


def finish_pending(settings: Any) -> dict[str, int] | None:
    """After a publish that follows a forget: drop the older published snapshots (they hold the
    forgotten rows) and the reports written before the forget (they may quote them). None when no
    forget is pending."""
    path = _pending_file(settings)
    if not path.exists():
        return None
    from discourse.publish import prune_snapshots

    try:
        since = json.loads(path.read_text(encoding="utf-8"))["since"]
    except (OSError, ValueError, KeyError):
        since = None
    pruned = prune_snapshots(settings, keep=1)
    reports = 0
    cutoff = datetime.fromisoformat(since).timestamp() if since else None
    for report in _old_reports(settings):
        if cutoff is None or report.stat().st_mtime <= cutoff:
            report.unlink(missing_ok=True)
            reports += 1
    path.unlink(missing_ok=True)
    return {**pruned, "reports_removed": reports}


def _old_reports(settings: Any) -> Iterator[Path]:
    root = Path(settings.reports_dir)
    if root.is_dir():
        yield from (p for p in root.iterdir() if p.is_file())


def retention_cutoff(settings: Any, today: date | None = None) -> date | None:
    """The ``--before`` day of the retention rule, or None when ``retention_days`` is not set."""
    days = getattr(settings, "retention_days", None)
    if days is None:
        return None
    if days < 1:
        raise ForgetError(f"retention_days must be at least 1, not {days}")
    return (today or datetime.now(UTC).date()) - timedelta(days=days)
