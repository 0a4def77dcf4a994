"""The Reddit mapping in DuckDB SQL over the table ``lines(line_no, line)`` of one chunk (see
``ingest.formats.reddit.adapter``). Run with ``SETUP`` (the shared count macros)."""

from __future__ import annotations

from ingest.formats.common import (
    COUNT_SQL,
    INVALID_JSON,
    LIST_SQL,
    TEXT_URLS_SQL,
    Rejects,
    case_sql,
    not_an_object_sql,
    quarantine_sql,
    sql_str,
    sql_type,
    unescape_sql,
    union_sql,
)
from ingest.lines import ChunkSQL

SETUP = COUNT_SQL + LIST_SQL

# --------------------------------------------------------------------------------------------------
# SQL over lines(line_no, line)
# --------------------------------------------------------------------------------------------------

# Every field as text (or JSON): a value of an unexpected JSON type must not fail the whole line. The
# counts stay JSON, so numbers and numeric strings are told apart (``count_value``).
_RECORD = {
    "id": "VARCHAR",
    "created_utc": "VARCHAR",
    "author": "VARCHAR",
    "subreddit": "VARCHAR",
    "title": "VARCHAR",
    "selftext": "VARCHAR",
    "body": "VARCHAR",
    "url": "VARCHAR",
    "is_self": "VARCHAR",
    "is_video": "VARCHAR",
    "is_gallery": "VARCHAR",
    "post_hint": "VARCHAR",
    "gallery_data": "JSON",
    "num_comments": "JSON",
    "score": "JSON",
    "permalink": "VARCHAR",
    "link_id": "VARCHAR",
    "parent_id": "VARCHAR",
    "display_name": "VARCHAR",
    "subscribers": "VARCHAR",
}

# One parse per line; only lines that are no known record (rare) are looked at again, to tell blank,
# malformed and non-object lines apart. ``try``: a line that is not JSON parses to null (the lines
# ``json_valid`` rejects; checking that first would parse every line twice, a tenth of the mapping).
_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (
    select line_no, line, try(from_json(line, {sql_type(_RECORD)})) as r
    from lines
),
c as (
    select line_no, line, r,
        case
            when r.body is not null and (r.link_id is not null or r.parent_id is not null) then 'comment'
            when r.title is not null
                 and (r.selftext is not null or r.is_self is not null or r.subreddit is not null)
                then 'submission'
            when r.display_name is not null and r.subscribers is not null then 'subreddit'
        end as known
    from j
),
k as (
    select *,
        case when known is null and trim(line, ' ' || chr(9) || chr(13)) <> '' and json_valid(line)
             then json_type(line) end as jtype
    from c
),
p as (
    select line_no, line, r, jtype,
        case
            when known is not null then known
            when trim(line, ' ' || chr(9) || chr(13)) = '' then 'blank'
            when jtype is null then 'invalid'
            when jtype <> 'OBJECT' then 'not_object'
            else 'other'
        end as cls,
        try_cast(r.created_utc as double) as utc
    from k
)
-- the submissions and comments' own columns are computed here too (null for other lines), so no second
-- table copies the lines again
select line_no, line, r, jtype, cls,
    case when cls = 'comment' then 't1_' else 't3_' end
        || regexp_replace(lower(r.id), '^t[13]_', '') as fullname,
    regexp_matches(coalesce(r.id, ''), '^(t[13]_)?[0-9A-Za-z]+$') as id_ok,
    case when utc is not null and isfinite(utc) and abs(utc) < 1e11
         then make_timestamptz(cast(round(utc * 1000000) as bigint))
    end as created_ts
from p
"""

_TEXT = """case when cls = 'comment' then r.body
            else coalesce(r.title, '')
                 || case when coalesce(r.selftext, '') in ('', '[removed]', '[deleted]') then ''
                         else chr(10) || chr(10) || r.selftext end
       end"""

# ``u/name`` or ``/u/name`` not inside a word or a path (made distinct in the next select: given inline
# to the ``distinct_small`` macro, the expression is copied into its lambda and runs again per item)
_MENTIONS = (
    "case when contains(text_value, 'u/') then "
    "regexp_extract_all(text_value, '(?:^|[^\\w/])/?u/([A-Za-z0-9_-]{3,20})', 1) else [] end"
)

# Most texts hold no entity and most posts no link: the unescaping and the list merge only run where
# they can change something (the same result as ``unescape_sql`` and ``union_sql``).
# No ``order by``: the posts come out in line order as they are, from a scan and filters on a
# single-threaded connection that keeps insertion order (``ingest.lines.connect``); a sort of every
# mapped row cost a tenth of the block.
_SQL_POSTS = f"""
with ok as (
    select *, {_TEXT} as escaped
    from parsed where cls in ('comment', 'submission') and id_ok and created_ts is not null
),
u as (
    select *, case when contains(escaped, '&') then {unescape_sql("escaped")} else escaped end as text_value
    from ok
),
m as (
    select *,
        case when cls = 'submission' and coalesce(r.is_self, 'false') <> 'true'
                  and regexp_matches(coalesce(r.url, ''), '^https?://')
                  and not regexp_matches(r.url, '^https?://([a-z0-9-]+\\.)*(reddit\\.com|redd\\.it)(/|$)')
             then [r.url] else [] end as own_links,
        case when contains(text_value, '://') then {TEXT_URLS_SQL.format(t="text_value")}
             else [] end as text_links,
        substr(fullname, 4) as bare_id,
        {_MENTIONS} as mention_list
    from u
)
select
    'reddit:' || fullname as post_uid,
    'reddit' as platform,
    fullname as post_id,
    created_ts as created_at,
    case when r.author in ('[deleted]', '') then null else r.author end as author_id,
    case when r.author in ('[deleted]', '') then null else r.author end as author_handle,
    text_value as text,
    cast(null as varchar) as lang_declared,
    case when cls = 'comment' then 'comment' else 'post' end as kind,
    case when cls = 'comment' then r.parent_id end as reply_to_id,
    case when cls = 'comment' then r.link_id else fullname end as thread_id,
    'https://www.reddit.com' || coalesce(
        r.permalink,
        case when cls = 'comment' and r.link_id is not null
             then '/comments/' || regexp_replace(r.link_id, '^t3_', '') || '/_/' || bare_id || '/'
             when cls = 'submission' then '/comments/' || bare_id || '/' end
    ) as url,
    count_value(r.score ->> '$', json_type(r.score), null) as like_count,
    case when cls = 'submission' then count_value(r.num_comments ->> '$', json_type(r.num_comments), null) end
        as reply_count,
    cast([] as varchar[]) as hashtags,
    distinct_small(mention_list) as mentions,
    case when len(own_links) = 0 then distinct_small(text_links)
         when len(text_links) = 0 then own_links
         else {union_sql("own_links", "text_links")} end as links,
    cast(case when cls = 'comment' then 0
              when r.is_gallery = 'true' and json_type(r.gallery_data, '$.items') = 'ARRAY'
                  then json_array_length(r.gallery_data, '$.items')
              when r.is_video = 'true' or r.post_hint in ('image', 'hosted:video', 'rich:video')
                  then 1
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
            {"invalid": sql_str(INVALID_JSON), "not_object": not_an_object_sql("Reddit record", "jtype")},
            "'not a Reddit record: neither a submission (title, selftext) nor a comment (body, link_id)'",
        ),
    ),
    Rejects(
        "parsed",
        "cls in ('comment', 'submission') and (not id_ok or created_ts is null)",
        """case when r.id is null then cls || ' lacks id'
             when not id_ok then cls || ' has an unusable id: ' || r.id
             when r.created_utc is null then cls || ' ' || fullname || ' lacks created_utc'
             else cls || ' ' || fullname || ' has an unparseable created_utc: ' || r.created_utc end""",
    ),
)

_SKIP_REASONS = ("blank_line", "record:subreddit")
_SQL_SKIPPED = """
select count(*) filter (where cls = 'blank'), count(*) filter (where cls = 'subreddit') from parsed
"""


CHUNK_SQL = ChunkSQL((_SQL_PARSED,), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED, skip_reasons=_SKIP_REASONS)
