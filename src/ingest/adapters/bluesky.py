"""Bluesky Jetstream: JSON lines ``{did, time_us, kind, commit{operation, collection, rkey, record, cid}}``.

Only ``app.bsky.feed.post`` creates are posts. Every other event is counted in ``skipped`` by reason:

* ``kind:identity``, ``kind:account`` (and ``kind:<other>`` for a kind Jetstream may add later);
* ``commit:<operation>:<collection>`` for updates and deletes, e.g. ``commit:delete:app.bsky.feed.post``;
* ``collection:<collection>`` for creates of other records, e.g. ``collection:app.bsky.feed.like``;
* ``blank_line``.

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
  are the tag facets' ``tag``s. ``media_count`` counts an images embed's images (a video is 1), also
  inside a record-with-media embed. Jetstream has no engagement counts: they stay null.
* ``raw`` is the event line as written.

Quarantined with the reason: lines that are not UTF-8 or not JSON, JSON that is not a Jetstream event
(not an object, or without ``did`` and ``kind``), post creates without ``rkey`` or ``record``, and
posts without a usable time. ``source_record`` is the 1-based line number. Vectorised: blocks of lines
framed and run by ``ingest.lines`` (several at once), each mapped with DuckDB SQL (``_CHUNK_SQL``; the
SQL helpers are the Reddit adapter's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ingest.adapters.reddit import distinct_sql, sql_type, union_sql
from ingest.lines import ChunkSQL, run_chunks
from ingest.registry import Adapter, AdapterChunk, register
from ingest.schema import QUARANTINE_RAW_MAX_CHARS
from ingest.sources import Source

POST_COLLECTION = "app.bsky.feed.post"

_STRONG_REF = {"uri": "VARCHAR", "cid": "VARCHAR"}
_EVENT = {
    "did": "VARCHAR",
    "time_us": "VARCHAR",
    "kind": "VARCHAR",
    "commit": {
        "operation": "VARCHAR",
        "collection": "VARCHAR",
        "rkey": "VARCHAR",
        "record": {
            "$type": "VARCHAR",
            "text": "VARCHAR",
            "createdAt": "VARCHAR",
            "langs": ["VARCHAR"],
            "reply": {"root": _STRONG_REF, "parent": _STRONG_REF},
            "embed": {
                "$type": "VARCHAR",
                "external": {"uri": "VARCHAR"},
                "images": "JSON",
                "record": {"uri": "VARCHAR", "record": {"uri": "VARCHAR"}},
                "media": {"$type": "VARCHAR", "images": "JSON", "external": {"uri": "VARCHAR"}},
            },
            "facets": [
                {"features": [{"$type": "VARCHAR", "uri": "VARCHAR", "did": "VARCHAR", "tag": "VARCHAR"}]}
            ],
        },
    },
}

_SQL_PARSED = f"""
create or replace temp table parsed as
with l as (select line_no, line, json_valid(line) as ok from lines),
j as (
    select line_no, line, ok,
        case when ok then try(json_type(line)) end as jtype,
        case when ok and try(json_type(line)) = 'OBJECT'
             then try(from_json(line, {sql_type(_EVENT)})) end as e
    from l
)
select line_no, line, jtype, e,
    case
        when not ok and trim(line, ' ' || chr(9) || chr(13)) = '' then 'blank'
        when not ok then 'invalid'
        when jtype <> 'OBJECT' then 'not_object'
        when e.did is null or e.kind is null then 'other'
        when e.kind <> 'commit' then 'skip'
        when e.commit.operation is distinct from 'create' then 'skip'
        when e.commit.collection is distinct from '{POST_COLLECTION}' then 'skip'
        else 'post'
    end as cls,
    case
        when e.kind <> 'commit' then 'kind:' || e.kind
        when e.commit.operation is distinct from 'create'
            then 'commit:' || coalesce(e.commit.operation, '?') || ':' || coalesce(e.commit.collection, '?')
        else 'collection:' || coalesce(e.commit.collection, '?')
    end as skip_reason
from j
"""

_SQL_EVENTS = f"""
create or replace temp table events as
select
    line_no, line, e, e.commit.record as r,
    'at://' || e.did || '/{POST_COLLECTION}/' || e.commit.rkey as uri,
    try_cast(e.commit.record.createdAt as timestamptz) as created_ts,
    case when try_cast(e.time_us as bigint) is not null
         then make_timestamptz(try_cast(e.time_us as bigint)) end as seen_ts,
    flatten(list_transform(coalesce(e.commit.record.facets, []),
                           lambda f: coalesce(f.features, []))) as features
from parsed where cls = 'post'
"""

_SQL_POSTS = f"""
with ok as (
    select *,
        coalesce(created_ts, case when r.createdAt is null then seen_ts end) as at_ts,
        case when r.embed."$type" in ('app.bsky.embed.record', 'app.bsky.embed.recordWithMedia')
             then coalesce(r.embed.record.record.uri, r.embed.record.uri) end as embedded_uri
    from events
    where e.commit.rkey is not null and r is not null
),
m as (
    select *,
        list_filter(list_transform(features, lambda f: case when f."$type" = 'app.bsky.richtext.facet#link'
                                                             then f.uri end),
                    lambda x: x is not null) as facet_links,
        list_filter([coalesce(r.embed.external.uri, r.embed.media.external.uri)],
                    lambda x: x is not null) as embed_links,
        list_filter(list_transform(features,
            lambda f: case when f."$type" = 'app.bsky.richtext.facet#tag' then f.tag end),
            lambda x: x is not null and x <> '') as tag_list,
        list_filter(list_transform(features,
            lambda f: case when f."$type" = 'app.bsky.richtext.facet#mention' then f.did end),
            lambda x: x is not null) as mention_list
    from ok where at_ts is not null
)
select
    'bluesky:' || uri as post_uid,
    'bluesky' as platform,
    uri as post_id,
    at_ts as created_at,
    e.did as author_id,
    cast(null as varchar) as author_handle,
    r.text as text,
    nullif(r.langs[1], '') as lang_declared,
    case when r.reply is not null then 'reply'
         when embedded_uri like 'at://%/{POST_COLLECTION}/%' then 'quote'
         else 'post' end as kind,
    r.reply.parent.uri as reply_to_id,
    coalesce(r.reply.root.uri, uri) as thread_id,
    cast(null as varchar) as repost_of_id,
    case when embedded_uri like 'at://%/{POST_COLLECTION}/%' then embedded_uri end as quote_of_id,
    'https://bsky.app/profile/' || e.did || '/post/' || e.commit.rkey as url,
    {distinct_sql("tag_list")} as hashtags,
    {distinct_sql("mention_list")} as mentions,
    {union_sql("facet_links", "embed_links")} as links,
    cast(case
        when r.embed."$type" = 'app.bsky.embed.images' then coalesce(json_array_length(r.embed.images), 0)
        when r.embed."$type" = 'app.bsky.embed.video' then 1
        when r.embed.media."$type" = 'app.bsky.embed.images'
            then coalesce(json_array_length(r.embed.media.images), 0)
        when r.embed.media."$type" = 'app.bsky.embed.video' then 1
        else 0 end as integer) as media_count,
    line as raw,
    line_no as source_record
from m
order by line_no
"""

_SQL_QUARANTINE = f"""
select line_no as source_record, left(line, {QUARANTINE_RAW_MAX_CHARS}) as raw,
    case cls
        when 'invalid' then 'invalid JSON (malformed or truncated line)'
        when 'not_object' then 'not a Jetstream event: a JSON ' || lower(jtype) || ', not an object'
        else 'not a Jetstream event: no did or kind'
    end as error
from parsed where cls in ('invalid', 'not_object', 'other')
union all
select line_no, left(line, {QUARANTINE_RAW_MAX_CHARS}),
    case when e.commit.rkey is null then 'post create lacks commit.rkey'
         when r is null then 'post create ' || uri || ' lacks commit.record'
         when r.createdAt is not null then 'post ' || uri || ' has an unparseable createdAt: ' || r.createdAt
         else 'post ' || uri || ' has neither createdAt nor a usable time_us' end
from events
where e.commit.rkey is null or r is null
   or coalesce(created_ts, case when r.createdAt is null then seen_ts end) is null
order by 1
"""

_SQL_SKIPPED = """
select reason, count(*) from (
    select skip_reason as reason from parsed where cls = 'skip'
    union all
    select 'blank_line' from parsed where cls = 'blank'
) group by reason order by reason
"""

_CHUNK_SQL = ChunkSQL((_SQL_PARSED, _SQL_EVENTS), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED)

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
    priority = 40
    description = "Bluesky Jetstream JSON lines (post creates kept; other events counted as skipped)"

    def sniff(self, head: bytes) -> bool:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
        lines = text.split("\n")
        complete, tail = lines[:-1], lines[-1]
        # Most of the first complete lines must be records of this format; a malformed or odd
        # record among them does not decide.
        seen = other = 0
        for line in complete[:20]:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not _is_event(obj):
                other += 1
            else:
                seen += 1
        if seen or other:
            return seen > other
        stripped = tail.lstrip()
        return stripped.startswith("{") and all(p.search(stripped) for p in (_DID, _KIND, _TIME_US))

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Options: ``chunk_bytes`` and ``workers`` (see ``ingest.lines.run_chunks``)."""
        yield from run_chunks(source, options, _CHUNK_SQL, name="bluesky", empty=True)
