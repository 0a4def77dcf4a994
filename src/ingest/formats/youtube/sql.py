"""The YouTube comments mapping in DuckDB SQL over the table ``lines(line_no, line)`` of one chunk (see
``ingest.formats.youtube.adapter``). Run with ``SQL_MACROS``; the posts query takes the video id as
its one parameter."""

from __future__ import annotations

from ingest.formats.common import (
    COUNT_SQL,
    INVALID_JSON,
    LIST_SQL,
    Rejects,
    quarantine_sql,
    sql_str,
    sql_type,
)
from ingest.lines import ChunkSQL

# --------------------------------------------------------------------------------------------------
# SQL, run per block on a table lines(line_no BIGINT, line VARCHAR)
# --------------------------------------------------------------------------------------------------

# Fields whose JSON type matters are kept as JSON; the texts come out as VARCHAR.
_STRUCT = sql_type({"cid": "JSON", "text": "VARCHAR", "time": "VARCHAR", "author": "VARCHAR",
                    "channel": "VARCHAR", "votes": "JSON", "replies": "JSON", "reply": "JSON",
                    "time_parsed": "JSON"})
_WORD = r"\pL\pN_"
# the shared count and list macros, and ``yt_count``: a displayed count as JSON text and its JSON type,
# "" read as 0 (the page shows no number for none)
SQL_MACROS = COUNT_SQL + LIST_SQL + """
create or replace macro yt_count(v, t) as count_value(v, t, 0);
"""

_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (
    -- ``try``: a line that is not JSON parses to null (``json_valid`` first would parse every line twice)
    select line_no, line, try(from_json(line, {_STRUCT})) as c
    from lines
),
k as (
    select line_no, line, c,
        case
            when c is null then case when trim(line, ' ' || chr(9)) = '' then 'blank' else 'invalid' end
            -- an array or a scalar parses to a struct of nulls: look again only at those
            when c.cid is null and c.text is null and c.time_parsed is null
                 and json_type(line) <> 'OBJECT' then 'not_object'
            else 'ok'
        end as cls
    from j
)
select
    line_no, line, cls,
    case when json_type(c.cid) = 'VARCHAR' and trim(c.cid ->> '$') <> '' then c.cid ->> '$' end as cid,
    c.text as body, c.time as rel_time, c.author as author, c.channel as channel,
    json_type(c.votes) as votes_type, c.votes ->> '$' as votes,
    json_type(c.replies) as replies_type, c.replies ->> '$' as replies,
    coalesce(c.reply::varchar = 'true', false) as reply_flag,
    case when json_type(c.time_parsed) in ('UBIGINT', 'BIGINT', 'DOUBLE')
         and abs(try_cast(c.time_parsed::varchar as double)) <= 1e11
         then try_cast(c.time_parsed::varchar as double) end as tp
from k
"""

# No ``order by``: the posts come out in line order as they are, from a scan and filters on a
# single-threaded connection that keeps insertion order (``ingest.lines.connect``); a sort of every
# mapped row cost a tenth of the block.
_SQL_POSTS = rf"""
with ok as (
    select *, contains(cid, '.') or reply_flag as is_reply, coalesce(body, '') as text
    from parsed where cls = 'ok' and cid is not null and tp is not null
),
found as (
    -- Most comments have none of these: the regular expressions run only where they can match. Whole
    -- matches are extracted (a capture group costs RE2 a second, slower pass) and the name is what
    -- follows the match's last sigil: the character before a sigil may be one, the name never is.
    select *,
        case when contains(text, '#')
             then list_transform(regexp_extract_all(text, '(?:^|[^{_WORD}&])#[{_WORD}]+'),
                                 lambda m: split_part(m, '#', -1))
             else [] end as hashtags,
        case when contains(text, '@')
             then list_transform(regexp_extract_all(
                     text, '(?:^|[^{_WORD}.])@(?:[{_WORD}][{_WORD}.\-]*[{_WORD}]|[{_WORD}])'),
                                 lambda m: split_part(m, '@', -1))
             else [] end as mentions,
        case when contains(text, '://')
             then list_transform(regexp_extract_all(text, 'https?://[^\s<>"'']+'),
                                 lambda u: rtrim(u, '.,;:!?)'))
             else [] end as links
    from ok
)
select
    'youtube:' || cid as post_uid,
    'youtube' as platform,
    cid as post_id,
    cast(make_timestamp(cast(round(tp * 1000000) as bigint)) as timestamptz) as created_at,
    coalesce(nullif(channel, ''), nullif(author, '')) as author_id,
    nullif(case when starts_with(author, '@') then substr(author, 2) else author end, '') as author_handle,
    text,
    case when is_reply then 'reply' else 'comment' end as kind,
    case when contains(cid, '.') then split_part(cid, '.', 1) end as reply_to_id,
    $1::varchar as thread_id,
    case when $1 is not null then 'https://www.youtube.com/watch?v=' || $1 || '&lc=' || cid end as url,
    yt_count(votes, votes_type) as like_count,
    case when not is_reply then yt_count(replies, replies_type) end as reply_count,
    distinct_small(hashtags) as hashtags,
    distinct_small(mentions) as mentions,
    distinct_small(links) as links,
    0 as media_count,
    line as raw,
    line_no as source_record
from found
"""

_SQL_QUARANTINE = quarantine_sql(
    Rejects(
        "parsed",
        "cls in ('invalid', 'not_object') or (cls = 'ok' and (cid is null or tp is null))",
        f"""case
        when cls = 'invalid' then {sql_str(INVALID_JSON)}
        when cls = 'not_object' then 'comment is not a JSON object'
        when cid is null then 'comment lacks cid'
        else 'comment ' || cid || ' has no usable time_parsed; its relative time ('
             || coalesce(rel_time, 'none') || ') is not used'
    end""",
    ),
)

CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED,), _SQL_POSTS, _SQL_QUARANTINE, "select count(*) from parsed where cls = 'blank'",
    skip_reasons=("blank_line",),
)
