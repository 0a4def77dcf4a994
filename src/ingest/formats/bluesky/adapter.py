"""Bluesky Jetstream: JSON lines ``{did, time_us, kind, commit{operation, collection, rkey, record, cid}}``.

Only ``app.bsky.feed.post`` creates are posts. Every other event is counted in ``skipped`` by reason:

* ``kind:identity``, ``kind:account`` (and ``kind:<other>`` for a kind Jetstream may add later);
* ``commit:<operation>:<collection>`` for updates and deletes, e.g. ``commit:delete:app.bsky.feed.post``;
* ``collection:<collection>`` for creates of other records, e.g. ``collection:app.bsky.feed.like``;
* ``blank_line``.

A post delete (``commit:delete:app.bsky.feed.post``) is counted there too, and is also passed on as
``AdapterChunk.deletes`` (the deleted post's ``post_uid``): the lake keeps it as a tombstone, and the
next run removes that post from the lake and the marts, whichever export brought it, before or after
(``discourse.forget.apply_deletes``; docs/security.md, "Delete events").

Mapping:

* ``post_id`` is the post's AT URI ``at://<did>/app.bsky.feed.post/<rkey>``; ``author_id`` the DID
  (Jetstream carries no handles, so ``author_handle`` is null); ``url`` is
  ``https://bsky.app/profile/<did>/post/<rkey>``.
* ``created_at`` is the record's ``createdAt`` (client-declared, ISO 8601, any offset, read as UTC).
  When the record has no ``createdAt`` it falls back to ``time_us`` (when the relay saw the event); a
  ``createdAt`` that is present but unparseable quarantines the event (it is not silently replaced).
* ``lang_declared`` is the first of ``langs``.
* ``kind``: ``reply`` when the record has ``reply``, else ``quote`` when the embed is a record (or
  record with media) embedding a post, else ``post``. ``reply_to_id`` is ``reply.parent.uri``,
  ``thread_id`` ``reply.root.uri`` (the post's own URI for a thread root), ``quote_of_id`` the embedded
  post's URI.
* ``links`` are the link facets' ``uri``s, then the external embed's ``uri``; ``mentions`` are the
  mention facets' DIDs (a Bluesky mention points at a DID: handles change, DIDs do not); ``hashtags``
  are the tag facets' ``tag``s. ``mention_targets`` are the mention facets' DIDs as ids;
  ``reply_to_author_id`` is the DID of ``reply.parent.uri`` and ``quote_of_author_id`` that of the
  embedded post's URI (an AT URI names its author's DID). The lake replaces the DIDs inside the ids
  with author keys (``ingest.lake.Pseudonymiser.bluesky_ids``).
  ``media_count`` counts an images embed's images (a video is 1), also
  inside a record-with-media embed. Jetstream has no engagement counts: they stay null.
* ``raw`` is the event line as written.

Quarantined with the reason: lines that are not UTF-8 or not JSON, JSON that is not a Jetstream event
(not an object, or without ``did`` and ``kind``), post creates without ``rkey`` or ``record``, and
posts without a usable time. ``source_record`` is the 1-based line number. Vectorised: blocks of lines
framed and run by ``ingest.lines`` (several at once), each mapped with DuckDB SQL (``CHUNK_SQL`` in
``sql.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ingest.formats.bluesky.sql import CHUNK_SQL, SQL_MACROS
from ingest.formats.common import sniff_json_lines
from ingest.lines import run_chunks
from ingest.registry import Adapter, AdapterChunk, register
from ingest.sources import Source

_DID = re.compile(r'"did"\s*:\s*"did:[a-z]+:')
_KIND = re.compile(r'"kind"\s*:\s*"(?:commit|identity|account)"')
_TIME_US = re.compile(r'"time_us"\s*:\s*\d{13,}')


def _is_event(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("did"), str)
        and obj["did"].startswith("did:")
        and isinstance(obj.get("time_us"), int)
        and obj.get("kind") in ("commit", "identity", "account")
    )


@register
class BlueskyJetstreamAdapter(Adapter):
    """Bluesky Jetstream JSON lines; keeps ``app.bsky.feed.post`` creates."""

    name = "bluesky_jetstream"
    platform = "bluesky"
    platforms = ("bluesky",)
    priority = 40
    description = "Bluesky Jetstream JSON lines (post creates kept, post deletes applied, others skipped)"

    def sniff(self, head: bytes) -> bool:
        return sniff_json_lines(head, _is_event, (_DID, _KIND, _TIME_US))

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Options: ``chunk_bytes`` and ``workers`` (see ``ingest.lines.run_chunks``)."""
        yield from run_chunks(source, options, CHUNK_SQL, name="bluesky", setup=SQL_MACROS, empty=True)
