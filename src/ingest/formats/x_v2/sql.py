"""The X API v2 mapping in DuckDB SQL: one fixed set of statements over the table ``lines(line_no, line)``
of one chunk (see ``ingest.formats.x_v2.adapter`` for what it maps and why)."""

from __future__ import annotations

from ingest.formats.common import (
    INVALID_JSON,
    Rejects,
    append_new_sql,
    mention_targets_sql,
    not_an_object_sql,
    quarantine_sql,
    sql_str,
    sql_type,
    unescape_sql,
)
from ingest.lines import ChunkSQL

# --------------------------------------------------------------------------------------------------
# JSON structures for DuckDB's from_json (only the fields the mapping reads are parsed out)
# --------------------------------------------------------------------------------------------------

_ENTITIES = {
    "hashtags": [{"tag": "VARCHAR"}],
    "mentions": [{"id": "VARCHAR", "username": "VARCHAR"}],
    "urls": [
        {
            "url": "VARCHAR",
            "expanded_url": "VARCHAR",
            "unwound_url": "VARCHAR",
            "display_url": "VARCHAR",
            "media_key": "VARCHAR",
        }
    ],
}
_NOTE = {"text": "VARCHAR", "entities": _ENTITIES}
# A referenced tweet: from includes.tweets, or inlined in the flattened form (with its author).
_REF = {
    "type": "VARCHAR",
    "id": "VARCHAR",
    "text": "VARCHAR",
    "author_id": "VARCHAR",
    "note_tweet": _NOTE,
    "entities": _ENTITIES,
    "author": {"id": "VARCHAR", "username": "VARCHAR"},
}
_TWEET = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "created_at": "VARCHAR",
    "author_id": "VARCHAR",
    "lang": "VARCHAR",
    "conversation_id": "VARCHAR",
    "in_reply_to_user_id": "VARCHAR",
    # ``twarc2 flatten`` inlines the replied-to user
    "in_reply_to_user": {"id": "VARCHAR"},
    "note_tweet": _NOTE,
    "entities": _ENTITIES,
    "public_metrics": {
        "like_count": "BIGINT",
        "retweet_count": "BIGINT",
        "reply_count": "BIGINT",
        "impression_count": "BIGINT",
    },
    "attachments": {"media_keys": ["VARCHAR"]},
    "referenced_tweets": [_REF],
    "author": {"username": "VARCHAR"},
}
# The include lists the mapping reads (objects parsed further only where needed).
_INCLUDES = {"users": ["JSON"], "tweets": ["JSON"]}
# One line, parsed once: a page or stream response, an error object, or a flattened tweet. The tweet
# fields are part of it so a flattened tweet needs no second parse; page and stream tweets are
# parsed with the same structure, so every tweet comes out with one type.
_LINE = {
    **_TWEET,
    "edit_history_tweet_ids": ["VARCHAR"],
    "data": ["JSON"],
    # as JSON: kept whole in the line's context, and parsed further for the users and tweets
    "includes": "JSON",
    "__twarc": "JSON",
    "matching_rules": "JSON",
    "errors": "JSON",
    "title": "VARCHAR",
    "detail": "VARCHAR",
    "meta": "JSON",
}


# --------------------------------------------------------------------------------------------------
# SQL, run once per chunk on a table lines(line_no BIGINT, line VARCHAR)
# --------------------------------------------------------------------------------------------------

# Every line is classified exactly once: blank, invalid, page, stream, flat, error, empty, other.
# The line is parsed once; ``data`` comes out as a list of tweet JSON texts when it is an array (a
# page), and a flattened tweet's fields come out directly. Only lines whose ``data`` is not an array
# and that are not a flattened tweet are read again (``json_extract``), to fetch a stream line's
# single ``data`` object.
_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (
    select line_no, line,
        case when json_valid(line) then try(from_json(line, {sql_type(_LINE)})) end as j
    from lines
),
s as (
    select *,
        case when j is not null and j.data is null and j.id is null and j.created_at is null
             then json_extract(line, '$.data') end as one
    from j
),
c as (
    select line_no, line, j, one,
        case
            when j is null then
                case when line = '' or trim(line) = '' then 'blank' else 'invalid' end
            when len(j.data) > 0 then 'page'
            when left(one, 1) = '{{' then 'stream'
            when j.data is null and one is null
                 and (j.errors is not null or (j.title is not null and j.detail is not null))
                then 'error'
            when j.data is null and one is null
                 and (((j.id is not null or j.created_at is not null)
                       and (j.text is not null or j.author_id is not null
                            or j.conversation_id is not null
                            or j.edit_history_tweet_ids is not null))
                      or (j.text is not null and j.author_id is not null))
                then 'flat'
            when len(j.data) = 0 or one = 'null' or (one is null and j.meta is not null) then 'empty'
            else 'other'
        end as cls
    from s
)
select
    line_no,
    cls,
    case when cls in ('page', 'stream') then json_array_length(j.errors) end as n_partial_errors,
    case when cls = 'page' then j.data end as data,
    case when cls = 'stream' then one end as one,
    case when cls in ('page', 'stream') then from_json(j.includes, {sql_type(_INCLUDES)}) end as includes,
    case when cls in ('page', 'stream') then j.includes end as includes_json,
    case when cls in ('page', 'stream') then j.__twarc end as twarc,
    case when cls = 'stream' then j.matching_rules end as matching_rules,
    case when cls in ('page', 'stream') then j.meta end as meta,
    case when cls in ('page', 'stream') then j.errors end as errors,
    -- a flattened tweet: the line itself is the raw record, and it is parsed already
    case when cls = 'flat' then line end as flat_raw,
    case when cls = 'flat' then j end as flat_t,
    case when cls in ('invalid', 'other') then line end as bad_line,
    case when cls = 'other' then json_type(line) end as other_type
from c
"""

_SQL_TWEETS = f"""
create or replace temp table tweets as
with items as (
    select line_no, unnest(data) as tw, unnest(range(len(data))) as pos
    from parsed where cls = 'page'
    union all
    select line_no, one as tw, 0 as pos from parsed where cls = 'stream'
),
typed as (
    select line_no, pos, tw::varchar as raw, from_json(tw, {sql_type(_LINE)}) as t from items
    union all
    select line_no, 0 as pos, flat_raw as raw, flat_t as t from parsed where cls = 'flat'
)
select
    *,
    try_cast(t.created_at as timestamptz) as created_ts,
    list_filter(t.referenced_tweets, lambda r: r.type = 'retweeted')[1] as rt_ref,
    list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[1] as q_ref,
    list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[1] as rp_ref,
    list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[1].id as quote_of_id,
    list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[1].id as reply_to_id
from typed
"""

_SQL_USERS = """
create or replace temp table users as
with u as (
    select line_no, from_json(u, '{"id": "VARCHAR", "username": "VARCHAR"}') as u
    from (select line_no, unnest(includes.users) as u from parsed
          where cls in ('page', 'stream') and includes.users is not null)
)
select distinct on (line_no, u.id) line_no, u.id as user_id, u.username
from u
where u.id is not null
"""

# Only the included tweets a tweet in the same line points at and needs: a retweet's original whose
# full text is restored, and referenced tweets whose author is not inlined (the reposted, quoted or
# replied-to author's id; a reply's ``in_reply_to_user_id`` states it already).
_SQL_INCLUDED = f"""
create or replace temp table included as
with wanted as (
    select line_no, rt_ref.id as ref_id
    from tweets where rt_ref.id is not null
        and (rt_ref.text is null or coalesce(rt_ref.author_id, rt_ref.author.id) is null)
    union
    select line_no, q_ref.id from tweets
    where q_ref.id is not null and coalesce(q_ref.author_id, q_ref.author.id) is null
    union
    select line_no, rp_ref.id from tweets
    where rp_ref.id is not null and coalesce(t.in_reply_to_user_id, t.in_reply_to_user.id,
                                             rp_ref.author_id, rp_ref.author.id) is null
),
inc as (
    select line_no, r, json_extract_string(r, '$.id') as ref_id
    from (select line_no, unnest(includes.tweets) as r
          from parsed where cls in ('page', 'stream') and includes.tweets is not null)
)
select distinct on (inc.line_no, inc.ref_id)
    inc.line_no, inc.ref_id, from_json(inc.r, {sql_type(_REF)}) as ref
from inc semi join wanted on wanted.line_no = inc.line_no and wanted.ref_id = inc.ref_id
"""

# The context of a page or stream line: the line without its tweets (``includes``, ``__twarc``, a stream
# line's ``matching_rules``, ``meta`` and partial ``errors``), once per line. ``raw`` holds each tweet; the
# lake keeps the contexts beside the posts, so ``discourse remap`` can put each line back together.
_SQL_CONTEXT = """
select
    line_no as source_record,
    '{' || concat_ws(
        ',',
        '"includes":' || includes_json::varchar,
        '"__twarc":' || twarc::varchar,
        '"matching_rules":' || matching_rules::varchar,
        '"meta":' || meta::varchar,
        '"errors":' || errors::varchar
    ) || '}' as context
from parsed
where cls in ('page', 'stream')
order by line_no
"""


# Entity lists of one tweet or referenced tweet (note_tweet's entities cover the full long text).
_HASHTAGS = (
    "list_filter(list_transform(coalesce({e}.hashtags, []), lambda h: h.tag), lambda x: x is not null)"
)
_MENTIONS = (
    "list_filter(list_transform(coalesce({e}.mentions, []), lambda m: m.username), lambda x: x is not null)"
)
_LINKS = (
    "list_filter(list_transform(list_filter(coalesce({e}.urls, []), "
    "lambda u: u.media_key is null "
    "and not regexp_matches(coalesce(u.display_url, ''), '^pic\\.(twitter|x)\\.com/')), "
    "lambda u: coalesce(u.unwound_url, u.expanded_url, u.url)), lambda x: x is not null)"
)


# The tweet's own mentions (``entities`` and ``note_tweet.entities``, which covers the long text), with
# the user ids X gives: a retweeted original's mentions are not the retweet's.
_MENTION_ITEMS = (
    "list_transform(list_concat(coalesce(t.entities.mentions, []), "
    "coalesce(t.note_tweet.entities.mentions, [])), "
    "lambda m: {'id': nullif(m.id, ''), 'handle': nullif(m.username, '')})"
)


def _ents(template: str, struct: str) -> str:
    return template.format(e=f"coalesce({struct}.note_tweet.entities, {struct}.entities)")


# A retweet whose original is at hand: its own "RT @user: " prefix, then the original's full text.
_TEXT = unescape_sql(
    """case
        when repost_of_id is not null and orig_text is not null then
            coalesce(
                nullif(regexp_extract(own_text, '^RT @[A-Za-z0-9_]+: '), ''),
                case when orig_handle is not null then 'RT @' || orig_handle || ': ' end,
                'RT: '
            ) || orig_text
        else own_text
    end"""
)

_SQL_POSTS = f"""
with refs as (
    select * from tweets
    where t.id is not null and created_ts is not null
),
joined as (
    select
        r.*,
        r.rt_ref.id as repost_of_id,
        -- the retweeted original: inlined (flattened form) or from the line's includes.tweets
        case when r.rt_ref.text is not null or r.rt_ref.note_tweet.text is not null
             then r.rt_ref else inc.ref end as orig,
        coalesce(r.t.author.username, au.username) as author_handle,
        coalesce(r.rt_ref.author.username, ou.username) as orig_handle,
        -- the authors of the referenced tweets, as stated: the reply's own field, else the referenced
        -- tweet (inlined by flatten, or in the line's includes.tweets)
        coalesce(r.t.in_reply_to_user_id, r.t.in_reply_to_user.id, r.rp_ref.author_id, r.rp_ref.author.id,
                 pinc.ref.author_id) as reply_author,
        coalesce(r.rt_ref.author_id, r.rt_ref.author.id, inc.ref.author_id) as repost_author,
        coalesce(r.q_ref.author_id, r.q_ref.author.id, qinc.ref.author_id) as quote_author
    from refs as r
    left join users as au on au.line_no = r.line_no and au.user_id = r.t.author_id
    left join included as inc on inc.line_no = r.line_no and inc.ref_id = r.rt_ref.id
    left join included as qinc on qinc.line_no = r.line_no and qinc.ref_id = r.q_ref.id
    left join included as pinc on pinc.line_no = r.line_no and pinc.ref_id = r.rp_ref.id
    left join users as ou
        on ou.line_no = r.line_no
        and ou.user_id = coalesce(r.rt_ref.author_id, inc.ref.author_id)
),
mapped as (
    select
        *,
        coalesce(t.note_tweet.text, t.text) as own_text,
        coalesce(orig.note_tweet.text, orig.text) as orig_text,
        {_ents(_HASHTAGS, "t")} as own_hashtags,
        {_ents(_MENTIONS, "t")} as own_mentions,
        {_ents(_LINKS, "t")} as own_links,
        {_ents(_HASHTAGS, "orig")} as orig_hashtags,
        {_ents(_MENTIONS, "orig")} as orig_mentions,
        {_ents(_LINKS, "orig")} as orig_links,
        {_MENTION_ITEMS} as own_mention_items
    from joined
)
select
    'x:' || t.id as post_uid,
    'x' as platform,
    t.id as post_id,
    created_ts as created_at,
    t.author_id as author_id,
    author_handle,
    {_TEXT} as text,
    case when t.lang = 'und' or t.lang = 'zxx' or regexp_matches(t.lang, '^q[a-z]{{2}}$') then null
         else t.lang end as lang_declared,
    case when repost_of_id is not null then 'repost'
         when quote_of_id is not null then 'quote'
         when reply_to_id is not null then 'reply'
         else 'post' end as kind,
    reply_to_id,
    t.conversation_id as thread_id,
    repost_of_id,
    quote_of_id,
    nullif(reply_author, '') as reply_to_author_id,
    case when repost_of_id is not null then nullif(repost_author, '') end as repost_of_author_id,
    case when quote_of_id is not null then nullif(quote_author, '') end as quote_of_author_id,
    {mention_targets_sql("own_mention_items")} as mention_targets,
    case when author_handle is not null then 'https://x.com/' || author_handle || '/status/' || t.id
         else 'https://x.com/i/web/status/' || t.id end as url,
    t.public_metrics.like_count as like_count,
    t.public_metrics.retweet_count as share_count,
    t.public_metrics.reply_count as reply_count,
    t.public_metrics.impression_count as view_count,
    case when orig is null then own_hashtags else {append_new_sql("own_hashtags", "orig_hashtags")} end
        as hashtags,
    case when orig is null then own_mentions else {append_new_sql("own_mentions", "orig_mentions")} end
        as mentions,
    case when orig is null then own_links else {append_new_sql("own_links", "orig_links")} end as links,
    cast(coalesce(len(t.attachments.media_keys), 0) as integer) as media_count,
    raw,
    line_no as source_record
from mapped
order by line_no, pos
"""

_SQL_QUARANTINE = quarantine_sql(
    Rejects("parsed", "cls = 'invalid'", sql_str(INVALID_JSON), raw="bad_line", extra="0 as pos"),
    Rejects(
        "parsed",
        "cls = 'other'",
        """case when other_type = 'OBJECT'
            then 'not a twarc2 record: neither a response with tweets, an error, nor a tweet'
            else """ + not_an_object_sql("twarc2 record", "other_type") + " end",
        raw="bad_line",
        extra="0",
    ),
    Rejects(
        "tweets",
        "t.id is null or created_ts is null",
        """case when t.id is null then 'tweet lacks id'
            when t.created_at is null then 'tweet ' || t.id || ' lacks created_at'
            else 'tweet ' || t.id || ' has an unparseable created_at: ' || t.created_at end""",
        raw="raw",
        extra="pos",
    ),
    order_by="source_record, pos",
)

_SKIP_REASONS = ("api_error", "empty_page", "blank_line", "api_error_partial")
_SQL_SKIPPED = """
select
    count(*) filter (where cls = 'error') as api_error,
    count(*) filter (where cls = 'empty') as empty_page,
    count(*) filter (where cls = 'blank') as blank_line,
    coalesce(sum(n_partial_errors), 0) as api_error_partial
from parsed
"""

# One chunk of lines, mapped on a private single-threaded connection (``ingest.lines.run_chunks``).
CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED, _SQL_TWEETS, _SQL_USERS, _SQL_INCLUDED), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED,
    skip_reasons=_SKIP_REASONS, context=_SQL_CONTEXT,
)
