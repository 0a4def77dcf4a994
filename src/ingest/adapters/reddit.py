"""Reddit dumps (Pushshift / Arctic Shift): NDJSON of submissions and comments, usually ``.zst``.

One object per line. A file may hold submissions (``title``, ``selftext``, ``url``, ``is_self``, ...),
comments (``body``, ``link_id``, ``parent_id``) or both. The mapping:

* ``post_id`` is the Reddit fullname: ``t3_<id>`` for a submission, ``t1_<id>`` for a comment, so ids
  are unique across both kinds. ``kind`` is ``post`` or ``comment``.
* ``created_at`` from ``created_utc``, which arrives as an integer, a float or a numeric string
  (epoch seconds, UTC). A record without a usable ``created_utc`` or ``id`` is quarantined.
* ``text``: a submission's ``title``, then ``"\\n\\n"`` and its ``selftext`` unless that is empty,
  ``[removed]`` or ``[deleted]``; a comment's ``body`` as it is, including ``[removed]``/``[deleted]``
  bodies (the post is kept: it still shows that a reply existed in that thread, and the text says what
  happened to it). Reddit escapes ``&``, ``<`` and ``>`` as HTML entities; those three are unescaped.
* ``author_id`` and ``author_handle`` are the username (``author``), null when it is ``[deleted]``.
  The username, not ``author_fullname``: older dumps have no ``author_fullname``, and one key for one
  account across dumps of every era matters more. ``author_fullname`` stays in ``raw``.
* ``reply_to_id`` is a comment's ``parent_id`` (``t1_...`` or ``t3_...``); ``thread_id`` is its
  ``link_id``, and a submission's own fullname.
* ``url`` is ``https://www.reddit.com`` + ``permalink``; without a permalink (older comment dumps),
  ``https://www.reddit.com/comments/<link id>/_/<comment id>/``.
* ``like_count`` is ``score`` (the net vote count, which can be negative: kept as it is);
  ``reply_count`` is a submission's ``num_comments``.
* ``links``: a link submission's ``url`` (not for self posts), then the ``http(s)`` URLs in the text.
  ``mentions`` are ``u/<name>`` references in the text; ``hashtags`` stay empty (Reddit has none).
* ``media_count``: the items of a gallery, else 1 for an image or video post, else 0.
* ``edited`` (false or an epoch), ``subreddit``, ``over_18``, ``link_flair_text`` etc. stay in ``raw``
  (the line as written).

Skipped (counted by reason): ``blank_line``, and ``record:subreddit`` (subreddit metadata objects some
dumps carry, with ``display_name`` and ``subscribers``). Quarantined with the reason: lines that are not
valid UTF-8 or not JSON (a truncated write), JSON that is not an object, objects that are neither a
submission nor a comment, and records without a usable id or ``created_utc``. ``source_record`` is the
1-based line number in the decompressed file.

The mapping is vectorised: ``ingest.lines`` cuts the decompressed file into blocks of whole lines
(``options["chunk_bytes"]``, default 64 MiB) and frames each as an Arrow ``(line_no, line)`` table
(numpy, no Python per line), and a fixed set of DuckDB SQL statements (``_CHUNK_SQL``) maps the block
on a private single-threaded connection; ``options["workers"]`` blocks are mapped at once
(``ingest.lines.run_chunks``). zstd is read with windows up to 2 GiB and across concatenated frames
(``Source.open``), since Pushshift dumps are compressed with ``--long=31``.

The SQL helpers (``sql_type``, ``unescape_sql``, ``TEXT_URLS_SQL``, ``union_sql``, ``distinct_sql``)
are public: the Bluesky Jetstream adapter uses them too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ingest.lines import ChunkSQL, run_chunks
from ingest.registry import Adapter, AdapterChunk, register
from ingest.schema import QUARANTINE_RAW_MAX_CHARS
from ingest.sources import Source

_UTF8_BOM = b"\xef\xbb\xbf"

# --------------------------------------------------------------------------------------------------
# SQL helpers shared with the Bluesky Jetstream adapter
# --------------------------------------------------------------------------------------------------


def sql_type(structure: dict) -> str:
    """A DuckDB ``from_json`` structure literal."""
    return "'" + json.dumps(structure, separators=(",", ":")).replace("'", "''") + "'"


def unescape_sql(expr: str) -> str:
    return f"replace(replace(replace({expr}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"


# URLs in free text (RE2): up to whitespace or a closing bracket/quote, minus trailing punctuation.
TEXT_URLS_SQL = (
    "list_transform(regexp_extract_all({t}, 'https?://[^\\s<>\"\\)\\]]+'), lambda u: rtrim(u, '.,;:!?''*'))"
)


def union_sql(a: str, b: str) -> str:
    """``a`` then the items of ``b`` not already in ``a`` (order-preserving; both deduplicated)."""
    a, b = distinct_sql(a), distinct_sql(b)
    return f"list_concat({a}, list_filter({b}, lambda x: not list_contains({a}, x)))"


def distinct_sql(a: str) -> str:
    """The items of list ``a`` without repeats, in first-seen order."""
    return f"list_filter({a}, lambda x, i: list_position({a}, x) = i)"


# --------------------------------------------------------------------------------------------------
# SQL over lines(line_no, line)
# --------------------------------------------------------------------------------------------------

# Every field as text (or JSON): a value of an unexpected JSON type must not fail the whole line.
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
    "num_comments": "VARCHAR",
    "score": "VARCHAR",
    "permalink": "VARCHAR",
    "link_id": "VARCHAR",
    "parent_id": "VARCHAR",
    "display_name": "VARCHAR",
    "subscribers": "VARCHAR",
}

# One parse per line; only lines that are no known record (rare) are looked at again, to tell blank,
# malformed and non-object lines apart.
_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (select line_no, line, try(from_json(line, {sql_type(_RECORD)})) as r from lines),
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
        case when known is null and trim(line, ' ' || chr(9) || chr(13)) <> ''
             then try(json_type(line)) end as jtype
    from c
)
select line_no, line, r, jtype,
    case
        when known is not null then known
        when trim(line, ' ' || chr(9) || chr(13)) = '' then 'blank'
        when jtype is null then 'invalid'
        when jtype <> 'OBJECT' then 'not_object'
        else 'other'
    end as cls
from k
"""

_SQL_RECORDS = """
create or replace temp table records as
select
    line_no, line, cls, r,
    case when cls = 'comment' then 't1_' else 't3_' end
        || regexp_replace(lower(r.id), '^t[13]_', '') as fullname,
    regexp_matches(coalesce(r.id, ''), '^(t[13]_)?[0-9A-Za-z]+$') as id_ok,
    case when try_cast(r.created_utc as double) is not null
              and isfinite(try_cast(r.created_utc as double))
              and abs(try_cast(r.created_utc as double)) < 1e11
         then make_timestamptz(cast(round(try_cast(r.created_utc as double) * 1000000) as bigint))
    end as created_ts
from parsed where cls in ('comment', 'submission')
"""

_TEXT = unescape_sql(
    """case when cls = 'comment' then r.body
            else coalesce(r.title, '')
                 || case when coalesce(r.selftext, '') in ('', '[removed]', '[deleted]') then ''
                         else chr(10) || chr(10) || r.selftext end
       end"""
)

# ``u/name`` or ``/u/name`` not inside a word or a path
_MENTIONS = (
    "case when contains(text_value, 'u/') then "
    + distinct_sql("regexp_extract_all(text_value, '(?:^|[^\\w/])/?u/([A-Za-z0-9_-]{3,20})', 1)")
    + " else [] end"
)

_SQL_POSTS = f"""
with ok as (
    select *, {_TEXT} as text_value from records where id_ok and created_ts is not null
),
m as (
    select *,
        case when cls = 'submission' and coalesce(r.is_self, 'false') <> 'true'
                  and regexp_matches(coalesce(r.url, ''), '^https?://')
                  and not regexp_matches(r.url, '^https?://([a-z0-9-]+\\.)*(reddit\\.com|redd\\.it)(/|$)')
             then [r.url] else [] end as own_links,
        case when contains(text_value, '://') then {TEXT_URLS_SQL.format(t="text_value")}
             else [] end as text_links,
        regexp_replace(fullname, '^t[13]_', '') as bare_id
    from ok
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
    try_cast(try_cast(r.score as double) as bigint) as like_count,
    case when cls = 'submission' then try_cast(try_cast(r.num_comments as double) as bigint) end
        as reply_count,
    cast([] as varchar[]) as hashtags,
    {_MENTIONS} as mentions,
    {union_sql("own_links", "text_links")} as links,
    cast(case when cls = 'comment' then 0
              when r.is_gallery = 'true' and json_type(r.gallery_data, '$.items') = 'ARRAY'
                  then json_array_length(r.gallery_data, '$.items')
              when r.is_video = 'true' or r.post_hint in ('image', 'hosted:video', 'rich:video')
                  then 1
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
        when 'not_object' then 'not a Reddit record: a JSON ' || lower(jtype) || ', not an object'
        else 'not a Reddit record: neither a submission (title, selftext) nor a comment (body, link_id)'
    end as error
from parsed where cls in ('invalid', 'not_object', 'other')
union all
select line_no, left(line, {QUARANTINE_RAW_MAX_CHARS}),
    case when r.id is null then cls || ' lacks id'
         when not id_ok then cls || ' has an unusable id: ' || r.id
         when r.created_utc is null then cls || ' ' || fullname || ' lacks created_utc'
         else cls || ' ' || fullname || ' has an unparseable created_utc: ' || r.created_utc end
from records where not id_ok or created_ts is null
order by 1
"""

_SKIP_REASONS = ("blank_line", "record:subreddit")
_SQL_SKIPPED = """
select count(*) filter (where cls = 'blank'), count(*) filter (where cls = 'subreddit') from parsed
"""


_CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED, _SQL_RECORDS), _SQL_POSTS, _SQL_QUARANTINE, _SQL_SKIPPED, skip_reasons=_SKIP_REASONS
)


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------

_ID36 = re.compile(r"^[0-9a-z]+$")


def _reddit_kind(obj: Any) -> str | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not _ID36.match(obj["id"]):
        return None
    if "created_utc" not in obj:
        return None
    if isinstance(obj.get("body"), str) and (
        str(obj.get("link_id", "")).startswith("t3_")
        or str(obj.get("parent_id", "")).startswith(("t1_", "t3_"))
    ):
        return "comment"
    if isinstance(obj.get("title"), str) and "subreddit" in obj and ("selftext" in obj or "is_self" in obj):
        return "submission"
    return None


_TRUNC_HINTS = (
    re.compile(r'"subreddit"\s*:'),
    re.compile(r'"created_utc"\s*:'),
    re.compile(r'"(?:link_id"\s*:\s*"t3_|selftext"\s*:|is_self"\s*:)'),
)


@register
class RedditAdapter(Adapter):
    """Pushshift / Arctic Shift NDJSON dumps of submissions and comments."""

    name = "reddit"
    platform = "reddit"
    priority = 40
    description = "Reddit dumps (Pushshift / Arctic Shift NDJSON of submissions and comments, often .zst)"

    def sniff(self, head: bytes) -> bool:
        text = head.removeprefix(_UTF8_BOM).decode("utf-8", "replace")
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
            if _reddit_kind(obj) is None:
                other += 1
            else:
                seen += 1
        if seen or other:
            return seen > other
        # one long first line cut by the head's end
        stripped = tail.lstrip()
        return stripped.startswith("{") and all(h.search(stripped) for h in _TRUNC_HINTS)

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Options: ``chunk_bytes`` and ``workers`` (see ``ingest.lines.run_chunks``)."""
        yield from run_chunks(source, options, _CHUNK_SQL, name="reddit", empty=True)
