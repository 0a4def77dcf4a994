"""X API v2 JSONL as written by twarc2: response pages, the streaming form, and twarc's flattened form.

One file may mix three kinds of line:

* **Page**: ``{"data": [tweet, ...], "includes": {users, tweets, media, places}, "meta", "__twarc"}``.
  Optional ``errors`` on a page are partial errors (say, a referenced tweet that was deleted); the page's
  tweets still load and each such error is counted under ``skipped["api_error_partial"]``.
* **Stream**: ``{"data": tweet, "includes": ..., "matching_rules": [...]}`` (``data`` is one object).
* **Flattened tweet**: one tweet per line with ``author`` inlined, ``__twarc``, and the referenced tweets
  inlined in ``referenced_tweets`` (``twarc2 flatten``).

Lines that are not posts are counted in ``skipped`` by reason, never dropped silently: ``api_error`` (an
``errors`` line without ``data``, or a ``{"title", "detail"}`` problem object such as a stream
disconnect), ``empty_page`` (a page with no ``data``, e.g. ``result_count: 0``) and ``blank_line``.
Records that cannot be mapped are quarantined with a reason: a line that is not valid JSON (a truncated
write), invalid UTF-8, an object that is none of the above, and a tweet lacking ``id`` or a parseable
``created_at``.

``source_record`` is the 1-based physical line number in the (decompressed) file. A page holds many
tweets, so every tweet of one page carries that page's line number: ``(source_record, post_id)`` is
what identifies a tweet's origin, not ``source_record`` alone.

Mapping choices:

* Ids stay strings end to end (JSON numbers are taken as their literal text), so ids past 2^53 are exact.
* ``text`` is ``note_tweet.text`` (the full long post) when present, else ``text``, with the three HTML
  entities the API escapes (``&amp;``, ``&lt;``, ``&gt;``) unescaped.
* A retweet's own ``text`` is cut at 140 characters ("RT @user: ..."). When the retweeted tweet is in
  the same line (``includes.tweets`` of a page or stream line; inlined in ``referenced_tweets`` in the
  flattened form), ``text`` becomes ``"RT @user: " + <the original's full text>``. The ``RT @user:``
  prefix is kept on purpose: analysts can tell a repost from its original at a glance, and
  near-duplicate detection does not mistake the two for the same author's words. Hashtags, mentions and
  links of the original are merged in too, since the retweet's own entities only cover the cut text.
  Without the original in the file, the cut text is kept as it came.
* ``kind``: ``retweeted`` → ``repost``, else ``quoted`` → ``quote``, else ``replied_to`` → ``reply``,
  else ``post`` (a reply that quotes is a ``quote``; ``reply_to_id`` is still filled).
* ``lang_declared`` is ``lang``, except the codes that declare no language: ``und``, ``zxx`` and X's
  ``q..`` codes (``qme`` media only, ``qht`` hashtags only, ...), which become null.
* ``links`` prefer ``unwound_url`` (where a shortener finally leads), then ``expanded_url``, then the
  ``t.co`` url only when nothing else is known. A post's own attached photos and videos
  (``pic.twitter.com``/``pic.x.com`` entities, or ones with a ``media_key``) are not links: they are
  counted in ``media_count``.
* ``share_count`` is ``retweet_count``, ``view_count`` is ``impression_count`` (absent in older
  exports), as the platform reported them on that tweet (a retweet reports its original's
  ``retweet_count``).
* ``raw`` is the tweet object as JSON: for pages and streams the ``data`` item, re-serialised compactly
  by the JSON parser; for the flattened form the line exactly as written (it is the tweet object, with
  its inlined ``author`` and referenced tweets), without its line break.

The mapping is vectorised. ``ingest.lines`` cuts the decompressed file into bounded chunks of whole
lines (``options["chunk_bytes"]``, default 64 MiB), frames each as an Arrow ``(line_no, line)`` table
that points into the chunk's buffer (no copy per line, line breaks left out) and runs the chunks,
several at once (``options["workers"]``), through ``_CHUNK_SQL``: a fixed set of DuckDB SQL statements
that maps the whole chunk on a private single-threaded in-memory connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from ingest.lines import ChunkSQL, run_chunks
from ingest.registry import Adapter, AdapterChunk, Unit, register
from ingest.schema import QUARANTINE_RAW_MAX_CHARS
from ingest.sources import Source

# --------------------------------------------------------------------------------------------------
# JSON structures for DuckDB's from_json (only the fields the mapping reads are parsed out)
# --------------------------------------------------------------------------------------------------

_ENTITIES = {
    "hashtags": [{"tag": "VARCHAR"}],
    "mentions": [{"username": "VARCHAR"}],
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
    "author": {"username": "VARCHAR"},
}
_TWEET = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "created_at": "VARCHAR",
    "author_id": "VARCHAR",
    "lang": "VARCHAR",
    "conversation_id": "VARCHAR",
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


def _sql_type(structure: dict) -> str:
    return "'" + json.dumps(structure, separators=(",", ":")).replace("'", "''") + "'"


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
    select line_no, line, try(from_json(line, {_sql_type(_LINE)})) as j
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
    case when cls in ('page', 'stream') then from_json(j.includes, {_sql_type(_INCLUDES)}) end as includes,
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
    select line_no, pos, tw::varchar as raw, from_json(tw, {_sql_type(_LINE)}) as t from items
    union all
    select line_no, 0 as pos, flat_raw as raw, flat_t as t from parsed where cls = 'flat'
)
select
    *,
    try_cast(t.created_at as timestamptz) as created_ts,
    list_filter(t.referenced_tweets, lambda r: r.type = 'retweeted')[1] as rt_ref,
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

# Only the included tweets some retweet in the same line points at (their full text is restored).
_SQL_INCLUDED = f"""
create or replace temp table included as
with wanted as (
    select distinct line_no, rt_ref.id as ref_id
    from tweets where rt_ref.id is not null and rt_ref.text is null
),
inc as (
    select line_no, r, json_extract_string(r, '$.id') as ref_id
    from (select line_no, unnest(includes.tweets) as r
          from parsed where cls in ('page', 'stream') and includes.tweets is not null)
)
select distinct on (inc.line_no, inc.ref_id)
    inc.line_no, inc.ref_id, from_json(inc.r, {_sql_type(_REF)}) as ref
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


def _ents(template: str, struct: str) -> str:
    return template.format(e=f"coalesce({struct}.note_tweet.entities, {struct}.entities)")


def _union(a: str, b: str) -> str:
    """``a`` then the items of ``b`` not already in ``a`` (order-preserving union)."""
    return f"list_concat({a}, list_filter({b}, lambda x: not list_contains({a}, x)))"


def _unescape(expr: str) -> str:
    return f"replace(replace(replace({expr}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"


# A retweet whose original is at hand: its own "RT @user: " prefix, then the original's full text.
_TEXT = _unescape(
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
        coalesce(r.rt_ref.author.username, ou.username) as orig_handle
    from refs as r
    left join users as au on au.line_no = r.line_no and au.user_id = r.t.author_id
    left join included as inc on inc.line_no = r.line_no and inc.ref_id = r.rt_ref.id
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
        {_ents(_LINKS, "orig")} as orig_links
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
    case when author_handle is not null then 'https://x.com/' || author_handle || '/status/' || t.id
         else 'https://x.com/i/web/status/' || t.id end as url,
    t.public_metrics.like_count as like_count,
    t.public_metrics.retweet_count as share_count,
    t.public_metrics.reply_count as reply_count,
    t.public_metrics.impression_count as view_count,
    case when orig is null then own_hashtags else {_union("own_hashtags", "orig_hashtags")} end
        as hashtags,
    case when orig is null then own_mentions else {_union("own_mentions", "orig_mentions")} end
        as mentions,
    case when orig is null then own_links else {_union("own_links", "orig_links")} end as links,
    cast(coalesce(len(t.attachments.media_keys), 0) as integer) as media_count,
    raw,
    line_no as source_record
from mapped
order by line_no, pos
"""

_SQL_QUARANTINE = f"""
select line_no as source_record, left(bad_line, {QUARANTINE_RAW_MAX_CHARS}) as raw,
       'invalid JSON (malformed or truncated line)' as error, 0 as pos
from parsed where cls = 'invalid'
union all
select line_no, left(bad_line, {QUARANTINE_RAW_MAX_CHARS}),
       case when other_type = 'OBJECT'
            then 'not a twarc2 record: neither a response with tweets, an error, nor a tweet'
            else 'not a twarc2 record: a JSON ' || lower(other_type) || ', not an object' end,
       0
from parsed where cls = 'other'
union all
select line_no, left(raw, {QUARANTINE_RAW_MAX_CHARS}),
       case when t.id is null then 'tweet lacks id'
            when t.created_at is null then 'tweet ' || t.id || ' lacks created_at'
            else 'tweet ' || t.id || ' has an unparseable created_at: ' || t.created_at end,
       pos
from tweets
where t.id is null or created_ts is null
order by 1, 4
"""

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
_CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED, _SQL_TWEETS, _SQL_USERS, _SQL_INCLUDED), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED,
    skip_reasons=_SKIP_REASONS, context=_SQL_CONTEXT,
)


# --------------------------------------------------------------------------------------------------
# The adapter
# --------------------------------------------------------------------------------------------------

_TWEET_ID = re.compile(r'"id"\s*:\s*"?\d+"?')
_AUTHOR_ID = re.compile(r'"author_id"\s*:\s*"\d+"')
_TWEET_HINTS = re.compile(
    r'"(?:edit_history_tweet_ids|conversation_id|public_metrics|reply_settings|__twarc)"\s*:'
)
_DATA_START = re.compile(r'^\s*\{\s*"data"\s*:\s*(\[\s*)?(?=\{)')
_FOREIGN_KEYS = ("item_id", "source_platform", "kind", "did", "time_us", "subreddit", "messages")


_TWEET_ONLY_FIELDS = (
    "edit_history_tweet_ids",
    "conversation_id",
    "public_metrics",
    "reply_settings",
    "referenced_tweets",
    "__twarc",
)


def _is_tweet(obj: Any, alone: bool = False) -> bool:
    """An X API v2 tweet object: a string of digits for ``id`` and a ``text``.

    Inside a response (``alone=False``) the wrapper says enough; a tweet on its own line (the
    flattened form) must also carry ``author_id`` and a field only X API v2 tweets have.
    """
    if not isinstance(obj, dict):
        return False
    tid = obj.get("id")
    if not (isinstance(tid, str) and tid.isdigit() and isinstance(obj.get("text"), str)):
        return False
    if not alone:
        return True
    return isinstance(obj.get("author_id"), str) and any(k in obj for k in _TWEET_ONLY_FIELDS)


def _classify_line(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "other"
    if any(k in obj for k in _FOREIGN_KEYS):
        return "other"
    data = obj.get("data")
    if isinstance(data, list):
        if data and _is_tweet(data[0]) and any(k in obj for k in ("includes", "meta", "__twarc", "errors")):
            return "twarc"
        return "other"
    if isinstance(data, dict):
        if _is_tweet(data) and any(k in obj for k in ("includes", "matching_rules", "__twarc")):
            return "twarc"
        return "other"
    if "data" not in obj and _is_tweet(obj, alone=True):
        return "twarc"
    if "data" not in obj and (
        ("errors" in obj and isinstance(obj["errors"], list))
        or ("title" in obj and "detail" in obj)
        or (isinstance(obj.get("meta"), dict) and "result_count" in obj["meta"])
    ):
        return "error"
    return "other"


def _sniff_truncated(line: str) -> bool:
    """A line cut off by the head's end: decode the first tweet of ``data`` if it is complete."""
    m = _DATA_START.match(line)
    if m:
        try:
            first, _ = json.JSONDecoder().raw_decode(line, m.end())
        except ValueError:
            first = None
        if first is not None:
            return _is_tweet(first)
        window = line[m.end() : m.end() + 8192]
        return bool(_TWEET_ID.search(window) and _AUTHOR_ID.search(window) and _TWEET_HINTS.search(window))
    stripped = line.lstrip()
    if not stripped.startswith("{") or any(f'"{k}"' in stripped[:2000] for k in _FOREIGN_KEYS):
        return False
    # A long flattened tweet: its top-level tweet fields show in the first part.
    return bool(
        _AUTHOR_ID.search(stripped)
        and _TWEET_ID.search(stripped)
        and '"text"' in stripped
        and re.search(r'"(?:__twarc|edit_history_tweet_ids|conversation_id)"\s*:', stripped)
    )


@register
class XV2Adapter(Adapter):
    """X API v2 JSONL from twarc2 (pages, stream lines, flattened tweets)."""

    name = "x_v2"
    platform = "x"
    priority = 20
    description = "X API v2 JSONL (twarc2 pages, streaming output, or twarc2 flatten)"

    def sniff(self, head: bytes) -> bool:
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
        lines = text.split("\n")
        complete, tail = lines[:-1], lines[-1]
        seen_tweets = False
        checked = 0
        for line in complete:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                return False if checked == 0 else seen_tweets
            kind = _classify_line(obj)
            if kind == "other":
                return False
            seen_tweets |= kind == "twarc"
            checked += 1
            if checked >= 5:
                break
        if seen_tweets:
            return True
        if tail.strip() and checked < 5:
            return _sniff_truncated(tail)
        return False

    def read(self, source: Source, options: dict[str, Any]) -> Iterator[AdapterChunk]:
        """Map ``source`` chunk by chunk, in file order, with ``ingest.lines.run_chunks``.

        Options: ``chunk_bytes`` (decompressed bytes per chunk; default 64 MiB, less for a plain file
        under ``workers`` * 64 MiB so that every worker gets a share) and ``workers`` (chunks mapped at
        once; default, or 0: the CPU count, at most 4). Each worker has its own private single-threaded
        in-memory DuckDB: a chunk's statements run one after another over small intermediate tables, so
        running whole chunks side by side uses the cores better than splitting one chunk's statements
        across threads. Memory stays bounded by about ``chunk_bytes * (workers + 3)`` of text plus what
        the chunks in flight produce.
        """
        yield from run_chunks(source, options, _CHUNK_SQL, name="x_v2")

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Stored tweets back as lines: the tweets of one page or stream line, with that line's
        context, become a page again; a flattened tweet (no context of its own) is its line."""
        for unit in units:
            if unit.context is not None and unit.context_record == unit.record:
                ctx = json.loads(unit.context)
                ctx.pop("errors", None)  # partial errors were counted at ingest; they are not records
                rest = json.dumps(ctx, ensure_ascii=False, separators=(",", ":"))[1:-1]
                out.write(('{"data":[' + ",".join(unit.raws) + "]" + ("," + rest if rest else "") + "}")
                          .encode("utf-8"))
            elif len(unit.raws) == 1:
                out.write(unit.raws[0].encode("utf-8"))
            else:
                raise ValueError(f"x_v2: {len(unit.raws)} tweets at line {unit.record} without their page")
            out.write(b"\n")
        return {}

