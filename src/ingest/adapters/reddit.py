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

The mapping is vectorised: the decompressed file is cut into blocks of whole lines
(``options["chunk_bytes"]``, default 64 MiB), each block becomes an Arrow ``(line_no, line)`` table
framed with numpy (no Python per line), and a fixed set of DuckDB SQL statements maps the block on a
private single-threaded connection; ``options["workers"]`` blocks are mapped at once. zstd is read
with a 2 GiB window limit, since Pushshift dumps are compressed with ``--long=31``.

The line framing and chunk runner (``iter_blocks``, ``frame_lines``, ``iter_line_tables``,
``run_chunks``, ``map_chunk_sql`` and the SQL helpers) are public: the Bluesky Jetstream adapter uses
them too.
"""

from __future__ import annotations

import gzip
import json
import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import zstandard

from ingest.prefetch import prefetch
from ingest.registry import Adapter, AdapterChunk, register
from ingest.schema import (
    ADAPTER_SCHEMA,
    QUARANTINE_ADAPTER_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    conform,
)
from ingest.sources import Source

DEFAULT_CHUNK_BYTES = 64 << 20
# Below this, splitting a plain file across workers costs more than it gains.
_MIN_SPLIT_BYTES = 8 << 20
ZSTD_MAX_WINDOW = 1 << 31
_UTF8_BOM = b"\xef\xbb\xbf"

# --------------------------------------------------------------------------------------------------
# Line framing shared by the line-oriented adapters of this package (reddit, bluesky)
# --------------------------------------------------------------------------------------------------


def open_decompressed(source: Source) -> BinaryIO:
    """``source.open()``, except that zstd is read with windows up to 2 GiB (``--long=31``) and across
    concatenated frames (multi-frame files, e.g. from ``pzstd`` or ``cat a.zst b.zst``)."""
    if source.compression == "zstd":
        fh = open(source.path, "rb")
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        return dctx.stream_reader(fh, closefd=True, read_across_frames=True)  # type: ignore[return-value]
    if source.compression == "gzip":
        return gzip.open(source.path, "rb")  # type: ignore[return-value]
    return source.open()


def iter_blocks(source: Source, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[memoryview]:
    """Blocks of whole lines of the decompressed source (a leading UTF-8 BOM removed).

    Each block is a view of a fresh buffer (the previous one may still be in use downstream), filled
    with ``readinto``; the tail of a line cut by the block's end is carried into the next buffer. A
    line longer than ``chunk_bytes`` makes its block larger; the last block may lack a final newline.
    """
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    rest = b""
    first = True
    with open_decompressed(source) as fh:
        while True:
            buf = bytearray(len(rest) + chunk_bytes)
            buf[: len(rest)] = rest
            filled = len(rest)
            eof = False
            with memoryview(buf) as view:
                while filled < len(buf):
                    got = fh.readinto(view[filled:])
                    if not got:
                        eof = True
                        break
                    filled += got
            start = 0
            if first:
                first = False
                if buf.startswith(_UTF8_BOM):
                    start = len(_UTF8_BOM)
            if eof:
                if filled > start:
                    yield memoryview(buf)[start:filled]
                return
            cut = buf.rfind(b"\n", start, filled)
            if cut < 0:
                rest = bytes(buf[start:filled])
                continue
            rest = bytes(buf[cut + 1 : filled])
            yield memoryview(buf)[start : cut + 1]


def frame_lines(block: bytes | memoryview, first_line_no: int) -> tuple[pa.Table, list[tuple[int, str]]]:
    """``block`` (whole lines) as a ``(line_no BIGINT, line VARCHAR)`` table, framed without a Python loop.

    The table points into ``block`` (no copy); each line still ends with its line break, which the SQL
    strips (``rtrim(line, chr(13) || chr(10))``). Lines that are not valid UTF-8 come back apart as
    ``(line_no, text with replacement characters)`` and are not in the table.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    nl = np.flatnonzero(data == 0x0A).astype(np.int64)
    size = len(data)
    ends = nl + 1 if size and data[-1] == 0x0A else np.append(nl + 1, size)
    n = len(ends)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = ends
    line_nos = np.arange(first_line_no, first_line_no + n, dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    lines = pa.Array.from_buffers(pa.large_string(), n, buffers)
    bad: list[tuple[int, str]] = []
    # Validating the block as one value is far faster than line by line, and equivalent: a line break
    # can never be part of a multi-byte UTF-8 sequence.
    whole = pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, size], dtype=np.int64)), pa.py_buffer(data)]
    )
    try:
        whole.cast(pa.large_string())
    except pa.ArrowInvalid:
        # Rare: some line is not UTF-8. Find which (in this block only) and set them aside.
        keep = np.ones(n, dtype=bool)
        for i in range(n):
            piece = data[offsets[i] : offsets[i + 1]].tobytes()
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                keep[i] = False
                bad.append((int(line_nos[i]), piece.rstrip(b"\r\n").decode("utf-8", "replace")))
        raw = pa.Array.from_buffers(pa.large_binary(), n, buffers)
        lines = raw.filter(pa.array(keep)).cast(pa.large_string())
        line_nos = line_nos[keep]
    return pa.table({"line_no": pa.array(line_nos, pa.int64()), "line": lines}), bad


def iter_line_tables(
    source: Source, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> Iterator[tuple[pa.Table, list[tuple[int, str]]]]:
    """``frame_lines`` over the blocks of ``source``, numbering lines from 1 across blocks."""
    line_no = 1
    for block in iter_blocks(source, chunk_bytes):
        table, bad = frame_lines(block, line_no)
        line_no += table.num_rows + len(bad)
        yield table, bad


def bad_utf8_table(bad: list[tuple[int, str]]) -> pa.Table:
    return pa.table(
        {
            "source_record": pa.array([n for n, _ in bad], pa.int64()),
            "raw": pa.array([s[:QUARANTINE_RAW_MAX_CHARS] for _, s in bad], pa.string()),
            "error": pa.array(["invalid UTF-8"] * len(bad), pa.string()),
        },
        schema=QUARANTINE_ADAPTER_SCHEMA,
    )


def sql_type(structure: dict) -> str:
    """A DuckDB ``from_json`` structure literal."""
    return "'" + json.dumps(structure, separators=(",", ":")).replace("'", "''") + "'"


def chunk_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.sql("set TimeZone = 'UTC'")
    return con


def run_chunks(
    source: Source,
    options: dict[str, Any] | None,
    mapper: Callable[[duckdb.DuckDBPyConnection, pa.Table, list[tuple[int, str]]], AdapterChunk],
) -> Iterator[AdapterChunk]:
    """Frame ``source`` into blocks of lines and map them with ``mapper``, several at once, in file order.

    Options: ``chunk_bytes`` (decompressed bytes per block; default 64 MiB, less for a plain file under
    ``workers`` * 64 MiB so that every worker gets a share) and ``workers`` (blocks mapped at once,
    default the CPU count, at most 4). Each worker has a private single-threaded in-memory DuckDB;
    reading and decompressing run one block ahead in their own thread.
    """
    options = options or {}
    workers = int(options.get("workers") or min(4, os.cpu_count() or 1))
    if workers <= 0:
        raise ValueError(f"workers must be positive, got {workers}")
    if options.get("chunk_bytes") is not None:
        chunk_bytes = int(options["chunk_bytes"])
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    else:
        chunk_bytes = DEFAULT_CHUNK_BYTES
        if source.compression == "none":
            size = source.path.stat().st_size
            chunk_bytes = min(DEFAULT_CHUNK_BYTES, max(_MIN_SPLIT_BYTES, -(-size // workers)))
    idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    cons: list[duckdb.DuckDBPyConnection] = []
    lock = threading.Lock()

    def work(item: tuple[pa.Table, list[tuple[int, str]]]) -> AdapterChunk:
        try:
            con = idle.get_nowait()
        except queue.Empty:
            con = chunk_connection()
            with lock:
                cons.append(con)
        try:
            return mapper(con, *item)
        finally:
            idle.put(con)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lines-map")
    pending: deque[Future[AdapterChunk]] = deque()
    emitted = False
    try:
        for item in prefetch(iter_line_tables(source, chunk_bytes)):
            pending.append(pool.submit(work, item))
            if len(pending) > workers:
                emitted = True
                yield pending.popleft().result()
        while pending:
            emitted = True
            yield pending.popleft().result()
        if not emitted:
            yield AdapterChunk(
                posts=ADAPTER_SCHEMA.empty_table(), quarantine=QUARANTINE_ADAPTER_SCHEMA.empty_table()
            )
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for con in cons:
            con.close()


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
with t as (select line_no, rtrim(line, chr(13) || chr(10)) as line from lines),
j as (select line_no, line, try(from_json(line, {sql_type(_RECORD)})) as r from t),
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


def map_chunk_sql(
    con: duckdb.DuckDBPyConnection,
    lines: pa.Table,
    bad: list[tuple[int, str]],
    statements: tuple[str, ...],
    posts_sql: str,
    quarantine_sql: str,
    skipped_sql: str,
    skip_reasons: tuple[str, ...] | None,
    tables: tuple[str, ...],
) -> AdapterChunk:
    """Run one adapter's SQL over a framed chunk. ``skip_reasons`` None: ``skipped_sql`` returns
    ``(reason, count)`` rows; else one row of counts in that order."""
    con.register("lines", lines)
    try:
        for statement in statements:
            con.sql(statement)
        posts = conform(con.sql(posts_sql).to_arrow_table(), ADAPTER_SCHEMA)
        quarantine = conform(con.sql(quarantine_sql).to_arrow_table(), QUARANTINE_ADAPTER_SCHEMA)
        if skip_reasons is None:
            skipped = {str(r): int(n) for r, n in con.execute(skipped_sql).fetchall() if n}
        else:
            row = con.execute(skipped_sql).fetchall()[0]
            skipped = {r: int(n) for r, n in zip(skip_reasons, row, strict=True) if n}
    finally:
        con.unregister("lines")
        for table in tables:
            con.sql(f"drop table if exists {table}")
    if bad:
        quarantine = pa.concat_tables([quarantine, bad_utf8_table(bad)]).sort_by("source_record")
    return AdapterChunk(posts=posts, quarantine=quarantine, skipped=skipped)


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
        """Options: ``chunk_bytes`` and ``workers`` (see ``run_chunks``)."""
        yield from run_chunks(source, options, _map_chunk)


def _map_chunk(con: duckdb.DuckDBPyConnection, lines: pa.Table, bad: list[tuple[int, str]]) -> AdapterChunk:
    return map_chunk_sql(
        con,
        lines,
        bad,
        (_SQL_PARSED, _SQL_RECORDS),
        _SQL_POSTS,
        _SQL_QUARANTINE,
        _SQL_SKIPPED,
        _SKIP_REASONS,
        ("parsed", "records"),
    )
