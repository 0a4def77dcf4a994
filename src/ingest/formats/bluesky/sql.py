"""The Bluesky Jetstream mapping in DuckDB SQL over the table ``lines(line_no, line)`` of one chunk
(see ``ingest.formats.bluesky.adapter``)."""

from __future__ import annotations

from ingest.formats.common import (
    INVALID_JSON,
    LIST_SQL,
    Rejects,
    case_sql,
    not_an_object_sql,
    quarantine_sql,
    sql_str,
    sql_type,
    union_sql,
)
from ingest.lines import ChunkSQL

POST_COLLECTION = "app.bsky.feed.post"
# the connection's setup: the shared list macros
SQL_MACROS = LIST_SQL

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

# One parse per line. Only lines that are no event (rare) are looked at again, to tell blank, malformed
# and non-object lines apart; the post columns are computed here for post creates only, and the text of
# lines that are neither posts nor quarantined (likes, follows, ...) is not kept.
_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (
    -- ``try``: a line that is not JSON parses to null (an array or a scalar to a struct of nulls)
    select line_no, line, try(from_json(line, {sql_type(_EVENT)})) as e from lines
),
k as (
    select line_no, line, e, e.did is not null and e.kind is not null as is_event from j
),
c as (
    select line_no, line, e, is_event,
        case when is_event then true else json_valid(line) end as ok,
        case when is_event then 'OBJECT' when json_valid(line) then try(json_type(line)) end as jtype
    from k
),
p as (
    select line_no, line, e, jtype,
        case
            when not ok and trim(line, ' ' || chr(9) || chr(13)) = '' then 'blank'
            when not ok then 'invalid'
            when jtype <> 'OBJECT' then 'not_object'
            when not is_event then 'other'
            when e.kind <> 'commit' then 'skip'
            when e.commit.operation is distinct from 'create' then 'skip'
            when e.commit.collection is distinct from '{POST_COLLECTION}' then 'skip'
            else 'post'
        end as cls
    from c
)
select line_no, jtype, cls,
    case when cls in ('post', 'invalid', 'not_object', 'other') then line end as line,
    case when cls = 'skip' then
        case
            when e.kind <> 'commit' then 'kind:' || e.kind
            when e.commit.operation is distinct from 'create'
                then 'commit:' || coalesce(e.commit.operation, '?') || ':'
                     || coalesce(e.commit.collection, '?')
            else 'collection:' || coalesce(e.commit.collection, '?')
        end
    end as skip_reason,
    -- a post delete: the deleted post's uid, as its create maps it (a tombstone in the lake)
    case when cls = 'skip' and e.kind = 'commit' and e.commit.operation = 'delete'
              and e.commit.collection = '{POST_COLLECTION}' and e.commit.rkey is not null
         then 'bluesky:at://' || e.did || '/{POST_COLLECTION}/' || e.commit.rkey end as deleted_uid,
    case when cls = 'post' then e.did end as did,
    case when cls = 'post' then e.commit.rkey end as rkey,
    case when cls = 'post' then e.commit.record end as r,
    case when cls = 'post' then 'at://' || e.did || '/{POST_COLLECTION}/' || e.commit.rkey end as uri,
    case when cls = 'post' then try_cast(e.commit.record.createdAt as timestamptz) end as created_ts,
    case when cls = 'post' and try_cast(e.time_us as bigint) is not null
         then make_timestamptz(try_cast(e.time_us as bigint)) end as seen_ts,
    case when cls = 'post' then flatten(list_transform(coalesce(e.commit.record.facets, []),
                                                       lambda f: coalesce(f.features, []))) end as features
from p
"""

# No ``order by``: the posts come out in line order as they are, from a scan and filters on a
# single-threaded connection that keeps insertion order (``ingest.lines.connect``); a sort of every
# mapped row cost a tenth of the block.
_SQL_POSTS = f"""
with ok as (
    select *,
        coalesce(created_ts, case when r.createdAt is null then seen_ts end) as at_ts,
        case when r.embed."$type" in ('app.bsky.embed.record', 'app.bsky.embed.recordWithMedia')
             then coalesce(r.embed.record.record.uri, r.embed.record.uri) end as embedded_uri
    from parsed
    where cls = 'post' and rkey is not null and r is not null
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
            lambda x: x is not null and x <> '') as mention_list
    from ok where at_ts is not null
)
select
    'bluesky:' || uri as post_uid,
    'bluesky' as platform,
    uri as post_id,
    at_ts as created_at,
    did as author_id,
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
    -- the replied-to and quoted posts' authors: the DID their AT URIs name (a DID is the author_id)
    nullif(regexp_extract(r.reply.parent.uri, '^at://(did:[^/]+)/', 1), '') as reply_to_author_id,
    cast(null as varchar) as repost_of_author_id,
    case when embedded_uri like 'at://%/{POST_COLLECTION}/%'
         then nullif(regexp_extract(embedded_uri, '^at://(did:[^/]+)/', 1), '') end as quote_of_author_id,
    list_transform(distinct_small(mention_list), lambda d: {{'id': d, 'handle': cast(null as varchar)}})
        as mention_targets,
    'https://bsky.app/profile/' || did || '/post/' || rkey as url,
    distinct_small(tag_list) as hashtags,
    distinct_small(mention_list) as mentions,
    case when len(embed_links) = 0 then distinct_small(facet_links)
         when len(facet_links) = 0 then embed_links
         else {union_sql("facet_links", "embed_links")} end as links,
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
"""

_SQL_QUARANTINE = quarantine_sql(
    Rejects(
        "parsed",
        "cls in ('invalid', 'not_object', 'other')",
        case_sql(
            "cls",
            {"invalid": sql_str(INVALID_JSON), "not_object": not_an_object_sql("Jetstream event", "jtype")},
            "'not a Jetstream event: no did or kind'",
        ),
    ),
    Rejects(
        "parsed",
        """cls = 'post' and (rkey is null or r is null
   or coalesce(created_ts, case when r.createdAt is null then seen_ts end) is null)""",
        """case when rkey is null then 'post create lacks commit.rkey'
         when r is null then 'post create ' || uri || ' lacks commit.record'
         when r.createdAt is not null then 'post ' || uri || ' has an unparseable createdAt: ' || r.createdAt
         else 'post ' || uri || ' has neither createdAt nor a usable time_us' end""",
    ),
)

_SQL_SKIPPED = """
select reason, count(*) from (
    select skip_reason as reason from parsed where cls = 'skip'
    union all
    select 'blank_line' from parsed where cls = 'blank'
) group by reason order by reason
"""

_SQL_DELETES = "select deleted_uid from parsed where deleted_uid is not null order by line_no"

CHUNK_SQL = ChunkSQL((_SQL_PARSED,), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED, deletes=_SQL_DELETES)
