"""The Zeeschuimer mapping in DuckDB SQL over the table ``lines(line_no, line)`` of one chunk: the wrapper
of each line parsed once, then one statement per platform (see ``ingest.formats.zeeschuimer.adapter``).
Run with ``SQL_MACROS``."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from ingest.formats.common import (
    COUNT_SQL,
    INVALID_JSON,
    LIST_SQL,
    Rejects,
    case_sql,
    mention_targets_sql,
    not_an_object_sql,
    quarantine_sql,
    sql_str,
    sql_type,
    unescape_sql,
)
from ingest.lines import BadLines, ChunkSQL
from ingest.registry import AdapterChunk

# --------------------------------------------------------------------------------------------------
# JSON structures for from_json: only the fields the mapping reads. Ids, counts and times stay JSON
# so that numbers and strings ("1.2K", "1764000000") are both read.
# --------------------------------------------------------------------------------------------------
_COUNTS = {"diggCount": "JSON", "shareCount": "JSON", "commentCount": "JSON", "playCount": "JSON"}
_TIKTOK = {
    "id": "JSON", "desc": "VARCHAR", "createTime": "JSON", "author": "JSON", "authorId": "JSON",
    "stats": _COUNTS, "statsV2": _COUNTS, "challenges": [{"title": "VARCHAR"}],
    "textExtra": [{"hashtagName": "VARCHAR", "userUniqueId": "VARCHAR", "userId": "JSON"}],
    "imagePost": {"images": ["JSON"]}, "textLanguage": "VARCHAR",
}
# A TikTok comment as the "TikTok (comments)" module captures it (source_platform ``tiktok-comments``).
_TIKTOK_COMMENT = {
    "cid": "JSON", "aweme_id": "JSON", "text": "VARCHAR", "create_time": "JSON", "digg_count": "JSON",
    "reply_comment_total": "JSON", "reply_id": "JSON", "reply_to_reply_id": "JSON",
    "comment_language": "VARCHAR", "user": {"uid": "JSON", "unique_id": "VARCHAR"},
    "share_info": {"url": "VARCHAR"},
    "text_extra": [{"user_id": "JSON"}],
}
_INSTAGRAM = {
    "pk": "JSON", "id": "JSON", "code": "VARCHAR", "shortcode": "VARCHAR", "caption": "JSON",
    "taken_at": "JSON", "taken_at_timestamp": "JSON",
    "user": {"pk": "JSON", "id": "JSON", "pk_id": "JSON", "username": "VARCHAR"},
    "owner": {"id": "JSON", "username": "VARCHAR"},
    "like_count": "JSON", "comment_count": "JSON", "play_count": "JSON", "view_count": "JSON",
    "video_view_count": "JSON", "edge_liked_by": {"count": "JSON"},
    "edge_media_preview_like": {"count": "JSON"}, "edge_media_to_comment": {"count": "JSON"},
    "edge_media_to_caption": {"edges": [{"node": {"text": "VARCHAR"}}]},
    "edge_sidecar_to_children": {"edges": ["JSON"]}, "carousel_media": ["JSON"],
    "carousel_media_count": "JSON",
    "image_versions2": {"candidates": ["JSON"]}, "video_versions": ["JSON"], "display_url": "VARCHAR",
    "reply_to_pk": "JSON",
    "text_post_app_info": {
        "direct_reply_count": "JSON", "repost_count": "JSON", "reply_to_author": "JSON", "is_reply": "JSON",
        "share_info": {"quoted_post": {"pk": "JSON", "user": {"pk": "JSON", "id": "JSON"}},
                       "reposted_post": {"pk": "JSON", "user": {"pk": "JSON", "id": "JSON"}}},
        "link_preview_attachment": {"url": "VARCHAR"},
    },
}
_ENT = {"hashtags": [{"text": "VARCHAR"}], "user_mentions": [{"screen_name": "VARCHAR", "id_str": "JSON"}],
        "urls": [{"expanded_url": "VARCHAR", "url": "VARCHAR"}], "media": ["JSON"]}
_TWEET = {
    "rest_id": "JSON",
    "core": {"user_results": {"result": {"rest_id": "JSON", "legacy": {"screen_name": "VARCHAR"},
                                         "core": {"screen_name": "VARCHAR"}}}},
    "note_tweet": {"note_tweet_results": {"result": {"text": "VARCHAR", "entity_set": _ENT}}},
    "views": {"count": "JSON"},
    "legacy": {"id_str": "JSON", "full_text": "VARCHAR", "created_at": "VARCHAR", "favorite_count": "JSON",
               "retweet_count": "JSON", "reply_count": "JSON", "entities": _ENT,
               "extended_entities": {"media": ["JSON"]}, "in_reply_to_status_id_str": "JSON",
               "conversation_id_str": "JSON", "is_quote_status": "JSON", "quoted_status_id_str": "JSON",
               "lang": "VARCHAR", "user_id_str": "JSON", "retweeted_status_result": "JSON",
               "in_reply_to_user_id_str": "JSON"},
    "quoted_status_result": "JSON",
}

_W = r"\pL\pN_"
# The entity lists are built in one select and made distinct in the next: ``distinct_small`` is a macro,
# and an expression given to it inline is copied into its lambda, so a regular expression ran again for
# every item of its own result.
SQL_MACROS = COUNT_SQL + LIST_SQL + r"""
create or replace macro zs_id(x) as case
    when json_type(x) in ('UBIGINT', 'BIGINT') then x ->> '$'
    when json_type(x) = 'VARCHAR' then nullif(trim(x ->> '$'), '')
end;
create or replace macro zs_count(x) as count_value(x ->> '$', json_type(x), 0);
-- the counts of a list of JSON values: one count expression to bind per statement, not one per field
create or replace macro zs_counts(l) as list_transform(l, lambda x: zs_count(x));
create or replace macro zs_secs(v) as
    make_timestamp(least(greatest(coalesce(v, 0), 0), 99999999999) * 1000000);
-- epoch seconds as a JSON number or a string of digits
create or replace macro zs_epoch(x) as case
    when json_type(x) in ('UBIGINT', 'BIGINT') and try_cast(x ->> '$' as bigint) between 1 and 99999999999
        then zs_secs(try_cast(x ->> '$' as bigint))
    when json_type(x) = 'DOUBLE'
         and try_cast(x ->> '$' as double) > 0 and try_cast(x ->> '$' as double) < 1e11
        then make_timestamp(cast(round(least(greatest(coalesce(try_cast(x ->> '$' as double), 0), 0), 1e11)
                                       * 1000000) as bigint))
    when json_type(x) = 'VARCHAR' and regexp_matches(trim(x ->> '$'), '^[0-9]{1,11}$')
         and try_cast(trim(x ->> '$') as bigint) >= 1
        then zs_secs(try_cast(trim(x ->> '$') as bigint))
end;
create or replace macro zs_texts(l) as list_filter(l, lambda s: s is not null and s <> '');
-- a GraphQL tweet result, unwrapped from {"result": ...} and TweetWithVisibilityResults
create or replace macro zs_unwrap(j) as case
    when json_type(j, '$.result') = 'OBJECT' then j -> '$.result' else j end;
create or replace macro zs_tweet(j) as case
    when json_type(j) is distinct from 'OBJECT' then null
    when j ->> '$.__typename' = 'TweetWithVisibilityResults'
         or (json_exists(j, '$.tweet') and not json_exists(j, '$.legacy'))
        then case when json_type(j, '$.tweet') = 'OBJECT' then j -> '$.tweet' end
    else j end;
""" + f"""
create or replace macro zs_unescape(s) as {unescape_sql("s")};
"""

# The wrapper: one small parse per line for ``source_platform``; ``data`` is not copied out as JSON text
# (each platform's statement reads its items' fields from the line in one parse), except for X items,
# whose tweet is unwrapped with JSON paths.
_SQL_PARSED = """
create or replace temp table zparsed as
with w as (
    -- ``try``: a line that is not JSON parses to null (an array or a scalar to a struct of nulls)
    select line_no, line, try(from_json(line, '{"source_platform":"JSON"}')) as w
    from lines
),
k as (
    select line_no, line, w.source_platform ->> '$' as source_platform,
        case
            when w is null then case when trim(line, ' ' || chr(9)) = '' then 'blank' else 'invalid' end
            when w.source_platform is null and json_type(line) <> 'OBJECT' then 'not_object'
            when json_type(w.source_platform) is distinct from 'VARCHAR'
                 or trim(w.source_platform ->> '$') = '' then 'no_platform'
            else 'item'
        end as cls
    from w
),
p as (
    select *,
        case when cls = 'item' then case regexp_replace(lower(source_platform), '^www\\.', '')
            when 'tiktok.com' then 'tiktok' when 'tiktok-comments' then 'tiktok-comments'
            when 'instagram.com' then 'instagram'
            when 'twitter.com' then 'x' when 'x.com' then 'x'
            when 'threads.net' then 'threads' when 'threads.com' then 'threads' end end as platform
    from k
)
select *,
    -- X items only: the other platforms' statements tell it from their own parse of the line
    case when platform = 'x' then coalesce(json_type(line, '$.data') = 'OBJECT', false) else false end
        as has_data,
    case when platform = 'x' then line -> '$.data' end as data
from p
"""

_NO_DATA = sql_str("Zeeschuimer item has no 'data' object")


def _has_data(known: str) -> str:
    """Whether a line's ``data`` is an object, from its ``from_json`` struct ``d``: ``data`` that is no
    object parses to a struct of nulls, so a field that is not null (``known``) says it is one; only
    the other lines' ``data`` is looked at again."""
    return f"case when {known} then true else coalesce(json_type(line, '$.data') = 'OBJECT', false) end"


# Whole matches, and the name after the match's last sigil (a capture group costs RE2 a second, slower
# pass; the character before a sigil may be one, the name never is).
_HASHTAGS = (f"list_transform(regexp_extract_all({{t}}, '(?:^|[^{_W}&])#[{_W}]+'), "
             "lambda m: split_part(m, '#', -1))")
_MENTIONS = (f"list_transform(regexp_extract_all({{t}}, '(?:^|[^{_W}.])@[A-Za-z0-9_.]*[A-Za-z0-9_]'), "
             "lambda m: split_part(m, '@', -1))")

_SQL_TIKTOK = f"""
create or replace temp table ztiktok as
with d0 as (
    select line_no, line, try(from_json(line, {sql_type({"data": _TIKTOK})})).data as d
    from zparsed where platform = 'tiktok'
),
d as (select *, {_has_data("d.id is not null")} as has_data from d0),
m as (
    select line_no, line, d, has_data,
        zs_id(d.id) as post_id,
        zs_epoch(d.createTime) as ts,
        case when json_type(d.author) = 'OBJECT' then nullif(d.author ->> '$.uniqueId', '')
             when json_type(d.author) = 'VARCHAR' then nullif(d.author ->> '$', '') end as handle,
        coalesce(d."desc", '') as text,
        zs_texts(list_concat(list_transform(coalesce(d.challenges, []), lambda c: c.title),
                             list_transform(coalesce(d.textExtra, []), lambda x: x.hashtagName))) as tags,
        zs_texts(list_transform(coalesce(d.textExtra, []), lambda x: x.userUniqueId)) as who,
        list_transform(coalesce(d.textExtra, []),
                       lambda x: {{'id': zs_id(x.userId), 'handle': nullif(x.userUniqueId, '')}})
            as who_items,
        zs_counts([d.stats.diggCount, d.statsV2.diggCount, d.stats.shareCount, d.statsV2.shareCount,
                   d.stats.commentCount, d.statsV2.commentCount, d.stats.playCount, d.statsV2.playCount]) as n
    from d
),
f as (
select
    line_no, line, 'tiktok' as platform, post_id, ts,
    case when json_type(d.author) = 'OBJECT' then coalesce(zs_id(d.author -> '$.id'), handle)
         else coalesce(zs_id(d.authorId), handle) end as author_id,
    handle as author_handle,
    text,
    nullif(nullif(d.textLanguage, 'un'), '') as lang_declared,
    'post' as kind,
    null::varchar as reply_to_id, null::varchar as thread_id,
    null::varchar as repost_of_id, null::varchar as quote_of_id,
    null::varchar as reply_to_author_id, null::varchar as repost_of_author_id,
    null::varchar as quote_of_author_id,
    {mention_targets_sql("who_items")} as mention_targets,
    case when handle is not null then 'https://www.tiktok.com/@' || handle || '/video/' || post_id end as url,
    coalesce(n[1], n[2]) as like_count,
    coalesce(n[3], n[4]) as share_count,
    coalesce(n[5], n[6]) as reply_count,
    coalesce(n[7], n[8]) as view_count,
    case when len(tags) > 0 then tags
         when contains(text, '#') then {_HASHTAGS.format(t="text")} else [] end as hashtags,
    case when len(who) > 0 then who
         when contains(text, '@') then {_MENTIONS.format(t="text")} else [] end as mentions,
    []::varchar[] as links,
    coalesce(len(d.imagePost.images), 1) as media_count,
    case when not has_data then {_NO_DATA}
         when post_id is null then 'tiktok item: lacks id'
         when ts is null then 'tiktok item: ' || post_id || ' lacks a usable createTime' end as error
from m
)
select * replace (distinct_small(hashtags) as hashtags, distinct_small(mentions) as mentions,
                  distinct_small(links) as links)
from f
"""

# ``reply_id`` is "0" for a comment on the video itself, else the comment it answers (a reply to a reply
# names that one in ``reply_to_reply_id``).
_SQL_TIKTOK_COMMENTS = f"""
create or replace temp table ztiktokc as
with d0 as (
    select line_no, line, try(from_json(line, {sql_type({"data": _TIKTOK_COMMENT})})).data as d
    from zparsed where platform = 'tiktok-comments'
),
d as (select *, {_has_data("d.cid is not null")} as has_data from d0),
m as (
    select line_no, line, d, has_data,
        zs_id(d.cid) as post_id,
        zs_id(d.aweme_id) as video_id,
        nullif(nullif(zs_id(d.reply_to_reply_id), '0'), '') as reply_reply,
        nullif(nullif(zs_id(d.reply_id), '0'), '') as reply_comment,
        zs_epoch(d.create_time) as ts,
        nullif(d.user.unique_id, '') as handle,
        coalesce(d.text, '') as text,
        zs_counts([d.digg_count, d.reply_comment_total]) as n,
        list_transform(coalesce(d.text_extra, []),
                       lambda x: {{'id': zs_id(x.user_id), 'handle': cast(null as varchar)}}) as who_items
    from d
),
f as (
select
    line_no, line, 'tiktok' as platform, post_id, ts,
    coalesce(zs_id(d.user.uid), handle) as author_id,
    handle as author_handle,
    text,
    nullif(nullif(d.comment_language, 'un'), '') as lang_declared,
    'comment' as kind,
    coalesce(reply_reply, reply_comment, video_id) as reply_to_id,
    video_id as thread_id,
    null::varchar as repost_of_id, null::varchar as quote_of_id,
    null::varchar as reply_to_author_id, null::varchar as repost_of_author_id,
    null::varchar as quote_of_author_id,
    {mention_targets_sql("who_items")} as mention_targets,
    coalesce(nullif(d.share_info.url, ''),
             case when video_id is not null then 'https://www.tiktok.com/video/' || video_id end) as url,
    n[1] as like_count,
    null::bigint as share_count,
    n[2] as reply_count,
    null::bigint as view_count,
    case when contains(text, '#') then {_HASHTAGS.format(t="text")} else [] end as hashtags,
    case when contains(text, '@') then {_MENTIONS.format(t="text")} else [] end as mentions,
    []::varchar[] as links,
    0 as media_count,
    case when not has_data then {_NO_DATA}
         when d is null then 'tiktok comment: not a comment object'
         when post_id is null then 'tiktok comment: lacks cid'
         when ts is null then 'tiktok comment: ' || post_id || ' lacks a usable create_time' end as error
from m
)
select * replace (distinct_small(hashtags) as hashtags, distinct_small(mentions) as mentions,
                  distinct_small(links) as links)
from f
"""

_SQL_INSTAGRAM = f"""
create or replace temp table zinstagram as
with d0 as (
    select line_no, line, platform, try(from_json(line, {sql_type({"data": _INSTAGRAM})})).data as d
    from zparsed where platform in ('instagram', 'threads')
),
d as (select *, {_has_data("d.pk is not null or d.id is not null")} as has_data from d0),
m as (
    select line_no, line, platform, d, has_data,
        coalesce(zs_id(d.pk), nullif(split_part(zs_id(d.id), '_', 1), '')) as post_id,
        coalesce(zs_epoch(d.taken_at), zs_epoch(d.taken_at_timestamp)) as ts,
        coalesce(nullif(d.user.username, ''), nullif(d.owner.username, '')) as handle,
        coalesce(nullif(d.code, ''), nullif(d.shortcode, '')) as code,
        coalesce(
            case when json_type(d.caption) = 'OBJECT' then d.caption ->> '$.text'
                 else coalesce(d.edge_media_to_caption.edges[1].node.text,
                               case when json_type(d.caption) = 'VARCHAR' then d.caption ->> '$' end) end,
            '') as text,
        d.text_post_app_info as info,
        zs_counts([d.like_count, d.edge_liked_by.count, d.edge_media_preview_like.count,
                   d.text_post_app_info.repost_count, d.text_post_app_info.direct_reply_count,
                   d.comment_count, d.edge_media_to_comment.count, d.play_count, d.view_count,
                   d.video_view_count, d.carousel_media_count]) as n
    from d
),
f as (
select
    line_no, line, platform, post_id, ts,
    coalesce(zs_id(d.user.pk), zs_id(d.user.id), zs_id(d.user.pk_id), zs_id(d.owner.id), handle) as author_id,
    handle as author_handle,
    text,
    null::varchar as lang_declared,
    case when zs_id(info.share_info.reposted_post.pk) is not null then 'repost'
         when zs_id(info.share_info.quoted_post.pk) is not null then 'quote'
         when json_type(info.reply_to_author) = 'OBJECT' or zs_id(d.reply_to_pk) is not null
              or info.is_reply = 'true' then 'reply'
         else 'post' end as kind,
    case when zs_id(info.share_info.reposted_post.pk) is null
              and zs_id(info.share_info.quoted_post.pk) is null
         then zs_id(d.reply_to_pk) end as reply_to_id,
    null::varchar as thread_id,
    zs_id(info.share_info.reposted_post.pk) as repost_of_id,
    case when zs_id(info.share_info.reposted_post.pk) is null
         then zs_id(info.share_info.quoted_post.pk) end as quote_of_id,
    -- a Threads reply names the author it answers; a repost or quote carries the shared post's user
    case when json_type(info.reply_to_author) = 'OBJECT'
              and zs_id(info.share_info.reposted_post.pk) is null
              and zs_id(info.share_info.quoted_post.pk) is null
         then coalesce(zs_id(info.reply_to_author -> '$.pk'), zs_id(info.reply_to_author -> '$.id'))
    end as reply_to_author_id,
    case when zs_id(info.share_info.reposted_post.pk) is not null
         then coalesce(zs_id(info.share_info.reposted_post.user.pk),
                       zs_id(info.share_info.reposted_post.user.id)) end as repost_of_author_id,
    case when zs_id(info.share_info.reposted_post.pk) is null
              and zs_id(info.share_info.quoted_post.pk) is not null
         then coalesce(zs_id(info.share_info.quoted_post.user.pk),
                       zs_id(info.share_info.quoted_post.user.id)) end as quote_of_author_id,
    -- Instagram and Threads state no mentions outside the caption's text
    cast([] as struct(id varchar, handle varchar)[]) as mention_targets,
    case when platform = 'threads' then
             case when handle is not null and code is not null
                  then 'https://www.threads.net/@' || handle || '/post/' || code end
         when code is not null then 'https://www.instagram.com/p/' || code || '/' end as url,
    coalesce(n[1], n[2], n[3]) as like_count,
    n[4] as share_count,
    coalesce(n[5], n[6], n[7]) as reply_count,
    coalesce(n[8], n[9], n[10]) as view_count,
    case when contains(text, '#') then {_HASHTAGS.format(t="text")} else [] end as hashtags,
    case when contains(text, '@') then {_MENTIONS.format(t="text")} else [] end as mentions,
    zs_texts([info.link_preview_attachment.url]) as links,
    case when len(d.carousel_media) > 0 then len(d.carousel_media)
         when coalesce(n[11], 0) > 0 then n[11]
         when d.edge_sidecar_to_children.edges is not null then len(d.edge_sidecar_to_children.edges)
         when len(d.image_versions2.candidates) > 0 or len(d.video_versions) > 0
              or coalesce(d.display_url, '') <> '' then 1
         else 0 end as media_count,
    case when not has_data then {_NO_DATA}
         when post_id is null then platform || ' item: lacks pk/id'
         when ts is null then platform || ' item: ' || post_id || ' lacks a usable taken_at' end as error
from m
)
select * replace (distinct_small(hashtags) as hashtags, distinct_small(mentions) as mentions,
                  distinct_small(links) as links)
from f
"""

_X_HASHTAGS = "zs_texts(list_transform(coalesce({e}.hashtags, []), lambda h: h.text))"
_X_MENTIONS = "zs_texts(list_transform(coalesce({e}.user_mentions, []), lambda u: u.screen_name))"
# The tweet's own mentions (note_tweet's entity_set and legacy.entities), with the user ids X gives.
_X_MENTION_ITEMS = (
    "list_transform(list_concat(coalesce({t}.legacy.entities.user_mentions, []), "
    "coalesce({t}.note_tweet.note_tweet_results.result.entity_set.user_mentions, [])), "
    "lambda u: {{'id': zs_id(u.id_str), 'handle': nullif(u.screen_name, '')}})"
)
_X_LINKS = ("zs_texts(list_transform(coalesce({e}.urls, []), "
            "lambda u: coalesce(nullif(u.expanded_url, ''), nullif(u.url, ''))))")


def _x_side(t: str, prefix: str) -> str:
    ents = f"coalesce({t}.note_tweet.note_tweet_results.result.entity_set, {t}.legacy.entities)"
    return f"""
        zs_unescape(coalesce(nullif({t}.note_tweet.note_tweet_results.result.text, ''),
                             {t}.legacy.full_text, '')) as {prefix}_text,
        coalesce(nullif({t}.core.user_results.result.legacy.screen_name, ''),
                 nullif({t}.core.user_results.result.core.screen_name, '')) as {prefix}_handle,
        {_X_HASHTAGS.format(e=ents)} as {prefix}_hashtags,
        {_X_MENTIONS.format(e=ents)} as {prefix}_mentions,
        {_X_LINKS.format(e=ents)} as {prefix}_links"""


_SQL_X = f"""
create or replace temp table zx as
with j as (
    select line_no, line, zs_tweet(zs_unwrap(data)) as tj from zparsed where platform = 'x' and has_data
),
o as (
    select *, zs_tweet(zs_unwrap(tj -> '$.legacy.retweeted_status_result')) as oj from j
),
d as (
    select line_no, line, tj,
        try(from_json(tj, {sql_type(_TWEET)})) as t,
        case when oj is not null then try(from_json(oj, {sql_type(_TWEET)})) end as ot
    from o
),
m as (
    select *,
        coalesce(zs_id(t.rest_id), zs_id(t.legacy.id_str)) as post_id,
        try_strptime(t.legacy.created_at, '%a %b %d %H:%M:%S %z %Y') as ts,
        {_x_side("t", "own")},
        {_x_side("ot", "orig")},
        coalesce(zs_id(ot.rest_id), zs_id(ot.legacy.id_str)) as orig_id,
        coalesce(zs_id(ot.core.user_results.result.rest_id), zs_id(ot.legacy.user_id_str)) as orig_author,
        zs_tweet(zs_unwrap(t.quoted_status_result)) as qj,
        {_X_MENTION_ITEMS.format(t="t")} as own_mention_items,
        zs_counts([t.legacy.favorite_count, t.legacy.retweet_count, t.legacy.reply_count, t.views.count]) as n
    from d
),
f as (
select
    line_no, line, 'x' as platform, post_id, ts,
    coalesce(zs_id(t.core.user_results.result.rest_id), zs_id(t.legacy.user_id_str)) as author_id,
    own_handle as author_handle,
    case when ot is not null
         then coalesce('RT @' || orig_handle || ': ', 'RT: ') || orig_text
         else own_text end as text,
    case when t.legacy.lang is null or regexp_matches(t.legacy.lang, '^(und|zxx|q[a-z]{{2}})$') then null
         else t.legacy.lang end as lang_declared,
    case when ot is not null then 'repost'
         when t.legacy.is_quote_status = 'true' and zs_id(t.legacy.quoted_status_id_str) is not null
             then 'quote'
         when zs_id(t.legacy.in_reply_to_status_id_str) is not null then 'reply'
         else 'post' end as kind,
    zs_id(t.legacy.in_reply_to_status_id_str) as reply_to_id,
    zs_id(t.legacy.conversation_id_str) as thread_id,
    case when ot is not null then orig_id end as repost_of_id,
    case when ot is null and t.legacy.is_quote_status = 'true'
         then zs_id(t.legacy.quoted_status_id_str) end as quote_of_id,
    zs_id(t.legacy.in_reply_to_user_id_str) as reply_to_author_id,
    case when ot is not null then orig_author end as repost_of_author_id,
    case when ot is null and t.legacy.is_quote_status = 'true'
              and zs_id(t.legacy.quoted_status_id_str) is not null
         then coalesce(zs_id(qj -> '$.core.user_results.result.rest_id'), zs_id(qj -> '$.legacy.user_id_str'))
    end as quote_of_author_id,
    {mention_targets_sql("own_mention_items")} as mention_targets,
    case when own_handle is not null then 'https://x.com/' || own_handle || '/status/' || post_id
         else 'https://x.com/i/status/' || post_id end as url,
    n[1] as like_count,
    n[2] as share_count,
    n[3] as reply_count,
    n[4] as view_count,
    case when ot is null then own_hashtags else list_concat(own_hashtags, orig_hashtags) end as hashtags,
    case when ot is null then own_mentions else list_concat(own_mentions, orig_mentions) end as mentions,
    case when ot is null then own_links else list_concat(own_links, orig_links) end as links,
    coalesce(len(t.legacy.extended_entities.media), len(t.legacy.entities.media), 0) as media_count,
    case when tj is null or t is null then 'x item: no tweet in data'
         when post_id is null then 'x item: lacks rest_id'
         when ts is null then 'x item: ' || post_id || ' lacks a usable legacy.created_at' end as error
from m
)
select * replace (distinct_small(hashtags) as hashtags, distinct_small(mentions) as mentions,
                  distinct_small(links) as links)
from f
"""

_MAPPED = ("ztiktok", "ztiktokc", "zinstagram", "zx")
# each platform statement, the table it makes and the ``platform`` values of zparsed it reads
_STATEMENTS = (
    (_SQL_TIKTOK, "ztiktok", ("tiktok",)),
    (_SQL_TIKTOK_COMMENTS, "ztiktokc", ("tiktok-comments",)),
    (_SQL_INSTAGRAM, "zinstagram", ("instagram", "threads")),
    (_SQL_X, "zx", ("x",)),
)


def _posts_sql(tables: tuple[str, ...]) -> str:
    return " union all ".join(
        f"""select
        platform || ':' || post_id as post_uid, platform, post_id, cast(ts as timestamptz) as created_at,
        author_id, author_handle, text, lang_declared, kind, reply_to_id, thread_id, repost_of_id,
        quote_of_id, reply_to_author_id, repost_of_author_id, quote_of_author_id, mention_targets, url,
        like_count, share_count, reply_count, view_count, hashtags, mentions, links,
        cast(media_count as integer) as media_count, line as raw, line_no as source_record
    from {table} where error is null"""
        for table in tables
    ) + " order by source_record"


def _quarantine_sql(tables: tuple[str, ...]) -> str:
    return quarantine_sql(
        Rejects(
            "zparsed",
            "cls in ('invalid', 'not_object', 'no_platform') or (platform = 'x' and not has_data)",
            case_sql(
                "cls",
                {
                    "invalid": sql_str(INVALID_JSON),
                    "not_object": not_an_object_sql("Zeeschuimer item", "json_type(line)"),
                    "no_platform": sql_str("not a Zeeschuimer item: no 'source_platform'"),
                },
                _NO_DATA,
            ),
        ),
        *(Rejects(table, "error is not null", "error") for table in tables),
    )


_SQL_POSTS = _posts_sql(_MAPPED)
_SQL_QUARANTINE = _quarantine_sql(_MAPPED)

_SQL_SKIPPED = """
select 'source_platform:' || source_platform as reason, count(*) as n
from zparsed where cls = 'item' and platform is null group by all
union all
select 'blank_line', count(*) from zparsed where cls = 'blank' having count(*) > 0
"""

CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED, _SQL_TIKTOK, _SQL_TIKTOK_COMMENTS, _SQL_INSTAGRAM, _SQL_X),
    _SQL_POSTS,
    _SQL_QUARANTINE,
    _SQL_SKIPPED,
)
"""Every statement, whatever the block holds."""


def _only(present: frozenset[str]) -> ChunkSQL:
    """The platform statements of the platforms in ``present`` (``platform`` values of zparsed), after
    zparsed is made: the posts and the quarantine of the others' tables would be empty."""
    kept = [(sql, table) for sql, table, platforms in _STATEMENTS if present.intersection(platforms)]
    tables = tuple(table for _, table in kept)
    return ChunkSQL(
        tuple(sql for sql, _ in kept), _posts_sql(tables), _quarantine_sql(tables), _SQL_SKIPPED
    )


class _Mapper:
    """``CHUNK_SQL``, without the statements of platforms a block has no line of: planning one costs
    15 to 35 ms a block, and an export from one Zeeschuimer module holds one platform. A block without
    any known platform runs every statement (they make empty tables)."""

    def __init__(self) -> None:
        self._cache: dict[frozenset[str], ChunkSQL] = {}

    def __call__(self, con: duckdb.DuckDBPyConnection, lines: pa.Table, bad: BadLines) -> AdapterChunk:
        con.register("lines", lines)
        try:
            con.sql(_SQL_PARSED)
            present = frozenset(
                str(r[0]) for r in con.execute(
                    "select distinct platform from zparsed where platform is not null").fetchall()
            )
            if not present:
                con.sql("drop table if exists zparsed")
                return CHUNK_SQL(con, lines, bad)
            chunk = self._cache.get(present)
            if chunk is None:
                chunk = self._cache[present] = _only(present)
            return chunk(con, lines, bad)
        finally:
            con.unregister("lines")  # already done when a ChunkSQL ran
            con.sql("drop table if exists zparsed")


MAPPER = _Mapper()
