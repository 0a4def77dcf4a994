"""YouTube comments as youtube-comment-downloader writes them.

The tool writes one JSON object per line (or, with ``--pretty``, one indented ``{"comments": [...]}``
document): ``{"cid", "text", "time" ("2 days ago"), "author", "channel", "votes" ("1.2K"), "replies",
"photo", "heart", "reply", "time_parsed"}``. A file holds one video's comments, usually small, but
popular videos reach hundreds of thousands, so the mapping is vectorised: ``ingest.lines`` cuts the
decompressed file into blocks of whole lines (``options["chunk_bytes"]``, default 64 MiB) and frames each
as an Arrow ``(line_no, line)`` table over the block's buffer (newlines found by numpy, no Python object
per line), and a fixed set of DuckDB SQL statements (``_CHUNK_SQL``) classifies, parses (one
``from_json`` per line) and maps it; ``options["workers"]`` blocks are mapped at once
(``ingest.lines.run_chunks``). A ``--pretty`` document is mapped in one piece.
``pytest -m bench tests/adapters/test_youtube.py -s`` prints the throughput.

Mapping decisions:

* ``post_id`` is ``cid``. A reply's ``cid`` is ``<parent cid>.<reply id>``: ``kind`` is ``reply`` and
  ``reply_to_id`` the part before the dot; a top-level comment is ``kind`` ``comment``.
* ``created_at`` is ``time_parsed`` (epoch seconds, a float; the tool computes it when downloading).
  A comment without a usable ``time_parsed`` is quarantined: the relative ``time`` ("1 year ago
  (edited)") only means something against the moment of download, which the export does not record,
  and it is coarser than a day beyond the first week, so it is never used to invent a date.
* ``like_count`` is ``votes`` parsed: ``"15"`` → 15, ``"1,234"``/``"1.234"`` → 1234, ``"1.2K"`` → 1200,
  ``"3M"`` → 3000000, localised suffixes ``rb``/``ribu`` (thousand) and ``jt``/``juta`` (million) with a
  decimal comma (``"3,4 rb"`` → 3400). ``""`` is 0 (the page shows no number for no votes); a
  missing or unreadable ``votes`` is null. ``reply_count`` is ``replies`` the same way for top-level
  comments ("" → 0); replies cannot be replied to, so theirs is null.
* ``author_id`` is ``channel`` (the commenter's channel id; ``author`` when it is missing),
  ``author_handle`` ``author`` without its leading ``@``.
* ``hashtags``, ``mentions`` (``@handle`` at a word start) and ``links`` (``http(s)://``) are read from
  the text, which YouTube keeps as plain text.
* The video: ``options["video_id"]``; else a sidecar ``<stem>.meta.json`` next to the export holding
  ``{"video_id": ...}`` (``<stem>`` is the file name without ``.gz``/``.zst`` and ``.json``/``.jsonl``/
  ``.ndjson``); else the file name: a stem that is, or ends with a ``_``/``-``/``.``/space separator
  followed by, an 11-character YouTube id (``[A-Za-z0-9_-]{11}``, neither all lowercase letters nor
  all digits), as in
  ``ScMzIvxBSi4.json`` or ``comments_ScMzIvxBSi4.jsonl``. ``thread_id`` is the video id and ``url``
  ``https://www.youtube.com/watch?v=<video>&lc=<cid>``; without a video id both are null.
* Lines that are not JSON (or not UTF-8), not objects, or lack a string ``cid`` are quarantined;
  blank lines are counted as ``blank_line``. ``source_record`` is the line number (the comment's
  position in ``--pretty`` documents). ``raw`` is the line as written, without its line break.
* ``parse_count`` (Python) and the SQL macro ``yt_count`` (in ``SQL_MACROS``, also used by the
  Zeeschuimer adapter) apply the same rules; ``tests/adapters/test_youtube.py``
  checks them against each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import pyarrow as pa

from ingest.lines import ChunkSQL, connect, run_chunks
from ingest.registry import Adapter, AdapterChunk, Unit, context_table, first_context, register
from ingest.schema import QUARANTINE_RAW_MAX_CHARS
from ingest.sources import Source

PLATFORM = "youtube"

_BOM = b"\xef\xbb\xbf"
_PRETTY = re.compile(rb'^\{\s*"comments"\s*:\s*\[\s*(?:\{\s*"cid"\s*:|\])')
_LINE_START = re.compile(rb'^\{\s*"cid"\s*:\s*"[A-Za-z0-9_.-]+"\s*,\s*"text"\s*:')
_FIELDS = ("time", "author", "channel", "votes", "replies", "photo", "heart", "reply", "time_parsed")
_VIDEO_IN_NAME = re.compile(r"^(?:.*[_.\- ])?([A-Za-z0-9_-]{11})$")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_DATA_SUFFIXES = (".gz", ".zst", ".zstd", ".json", ".jsonl", ".ndjson", ".txt")
_COUNT = re.compile(r"^(\d+(?:[.,]\d+)*)\s*([a-zA-Z]*)\.?$")
_MULTIPLIERS = {"": 1, "k": 1_000, "rb": 1_000, "ribu": 1_000, "m": 1_000_000, "jt": 1_000_000,
                "juta": 1_000_000, "b": 1_000_000_000}

# --------------------------------------------------------------------------------------------------
# SQL, run per block on a table lines(line_no BIGINT, line VARCHAR)
# --------------------------------------------------------------------------------------------------

# Fields whose JSON type matters are kept as JSON; the texts come out as VARCHAR.
_STRUCT = json.dumps({"cid": "JSON", "text": "VARCHAR", "time": "VARCHAR", "author": "VARCHAR",
                      "channel": "VARCHAR", "votes": "JSON", "replies": "JSON", "reply": "JSON",
                      "time_parsed": "JSON"})
_WORD = r"\pL\pN_"
SQL_MACROS = r"""
create or replace macro yt_num(s) as
    regexp_extract(s, '^(\d+(?:[.,]\d+)*)\s*([a-zA-Z]*)\.?$', ['num', 'suf']);
create or replace macro yt_mult(suf) as case lower(suf)
    when '' then 1 when 'k' then 1000 when 'rb' then 1000 when 'ribu' then 1000
    when 'm' then 1000000 when 'jt' then 1000000 when 'juta' then 1000000 when 'b' then 1000000000 end;
create or replace macro yt_count_text(s, g) as case
    when s = '' then 0
    when g.num = '' or yt_mult(g.suf) is null then null
    when yt_mult(g.suf) = 1 then try_cast(replace(replace(g.num, ',', ''), '.', '') as bigint)
    when length(g.num) - length(replace(replace(g.num, ',', ''), '.', '')) > 1 then null
    else cast(round(try_cast(replace(g.num, ',', '.') as double) * yt_mult(g.suf)) as bigint)
end;
-- a displayed count as JSON: a number as it is, a string parsed like parse_count, anything else null
create or replace macro yt_count_str(s) as yt_count_text(s, yt_num(s));
create or replace macro yt_count(v, t) as case
    when t in ('UBIGINT', 'BIGINT', 'DOUBLE') then cast(trunc(try_cast(v as double)) as bigint)
    when t = 'VARCHAR' then yt_count_str(trim(replace(v, chr(160), ' ')))
end;
-- order-preserving distinct; the lambda is costly, so only lists that can hold a repeat get it
create or replace macro yt_unique_small(l) as
    case when len(l) < 2 then l else list_filter(l, lambda x, i: list_position(l, x) = i) end;
"""

_SQL_PARSED = f"""
create or replace temp table parsed as
with j as (
    select line_no, line, try(from_json(line, '{_STRUCT}')) as c
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

_SQL_POSTS = rf"""
with ok as (
    select *, contains(cid, '.') or reply_flag as is_reply, coalesce(body, '') as text
    from parsed where cls = 'ok' and cid is not null and tp is not null
),
found as (
    -- most comments have none of these: the regular expressions run only where they can match
    select *,
        case when contains(text, '#')
             then regexp_extract_all(text, '(?:^|[^{_WORD}&])#([{_WORD}]+)', 1)
             else [] end as hashtags,
        case when contains(text, '@')
             then regexp_extract_all(
                 text, '(?:^|[^{_WORD}.])@([{_WORD}][{_WORD}.\-]*[{_WORD}]|[{_WORD}])', 1)
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
    yt_unique_small(hashtags) as hashtags,
    yt_unique_small(mentions) as mentions,
    yt_unique_small(links) as links,
    0 as media_count,
    line as raw,
    line_no as source_record
from found
order by line_no
"""

_SQL_QUARANTINE = f"""
select
    line_no as source_record,
    left(line, {QUARANTINE_RAW_MAX_CHARS}) as raw,
    case
        when cls = 'invalid' then 'invalid JSON (malformed or truncated line)'
        when cls = 'not_object' then 'comment is not a JSON object'
        when cid is null then 'comment lacks cid'
        else 'comment ' || cid || ' has no usable time_parsed; its relative time ('
             || coalesce(rel_time, 'none') || ') is not used'
    end as error
from parsed
where cls in ('invalid', 'not_object') or (cls = 'ok' and (cid is null or tp is null))
order by line_no
"""

_CHUNK_SQL = ChunkSQL(
    (_SQL_PARSED,), _SQL_POSTS, _SQL_QUARANTINE, "select count(*) from parsed where cls = 'blank'",
    skip_reasons=("blank_line",),
)


def parse_count(value: Any) -> int | None:
    """A displayed count (``"1.2K"``, ``"1,234"``, ``"3,4 rb"``) as an integer; ``""`` is 0."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value else None
    if not isinstance(value, str):
        return None
    s = value.strip().replace("\u00a0", " ")
    if not s:
        return 0
    m = _COUNT.match(s)
    if not m:
        return None
    number, suffix = m.group(1), m.group(2).lower()
    mult = _MULTIPLIERS.get(suffix)
    if mult is None:
        return None
    if mult == 1:
        return int(number.replace(",", "").replace(".", ""))
    # with a suffix the one separator is a decimal point ("1.2K", "3,4 rb")
    if number.count(",") + number.count(".") > 1:
        return None
    return round(float(number.replace(",", ".")) * mult)


def video_id_for(source: Source, options: dict[str, Any]) -> str | None:
    """The video a comments file belongs to: option, sidecar, then file name (see the module doc)."""
    given = options.get("video_id")
    if given:
        vid = str(given).strip()
        if not _VIDEO_ID.match(vid):
            raise ValueError(f"option 'video_id': {vid!r} is not an 11-character YouTube video id")
        return vid
    name = PurePosixPath(source.member).name if source.member else source.path.name
    stem = name
    changed = True
    while changed:
        changed = False
        for suffix in _DATA_SUFFIXES:
            if stem.lower().endswith(suffix) and len(stem) > len(suffix):
                stem = stem[: -len(suffix)]
                changed = True
    if source.member is None:
        sidecar = Path(source.path).with_name(f"{stem}.meta.json")
        if sidecar.is_file():
            try:
                meta = json.loads(sidecar.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"{sidecar}: sidecar is not valid JSON ({exc})") from exc
            vid = meta.get("video_id") if isinstance(meta, dict) else None
            if not (isinstance(vid, str) and _VIDEO_ID.match(vid)):
                raise ValueError(f"{sidecar}: sidecar has no 11-character 'video_id'")
            return vid
    m = _VIDEO_IN_NAME.match(stem)
    if m is None:
        return None
    token = m.group(1)
    # an English word or a number of that length is not taken for an id
    if (token.isalpha() and token.islower()) or token.isdigit():
        return None
    return token


@register
class YouTubeCommentsAdapter(Adapter):
    name = "youtube_comments"
    platform = PLATFORM
    priority = 45
    description = "YouTube comments JSON lines from youtube-comment-downloader (also its --pretty form)"

    def sniff(self, head: bytes) -> bool:
        text = head.removeprefix(_BOM).lstrip()
        if _PRETTY.match(text):
            return True
        if not text.startswith(b"{"):
            return False
        seen = 0
        lines = text.split(b"\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                if i == len(lines) - 1:  # the head may end inside a long line: judge it by its start
                    return seen > 0 or bool(_LINE_START.match(line.lstrip()))
                if seen:
                    continue  # a malformed line among comments (it will be quarantined)
                return False
            if not _is_comment(obj):
                return False
            seen += 1
            if seen >= 5:
                break
        return seen > 0

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Map ``source`` in blocks of whole lines (options ``chunk_bytes`` and ``workers``, see
        ``ingest.lines.run_chunks``); a ``--pretty`` document in one piece."""
        options = options or {}
        video = video_id_for(source, options)
        if _PRETTY.match(source.head(len(_BOM) + 4096).removeprefix(_BOM).lstrip()):
            chunks: Iterator[AdapterChunk] = iter([_map_pretty(source, video)])
        else:
            chunks = run_chunks(
                source,
                options,
                lambda con, lines, bad: _CHUNK_SQL(con, lines, bad, [video]),
                name="youtube",
                setup=SQL_MACROS,
            )
        for i, chunk in enumerate(chunks):
            if i == 0 and video:
                # the video the comments belong to: needed to map them again (remap)
                chunk.context = context_table([(0, {"video_id": video})])
            yield chunk

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Stored comments back as JSON lines; the video id travels as the ``video_id`` option."""
        units, ctx = first_context(units)
        super().reframe(units, out)
        return {"video_id": ctx["video_id"]} if ctx.get("video_id") else {}


def _load_pretty(data: bytes, name: str) -> list[Any]:
    try:
        doc = json.loads(data.removeprefix(_BOM).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name}: youtube-comment-downloader --pretty file is not valid JSON ({exc})") \
            from exc
    comments = doc.get("comments") if isinstance(doc, dict) else None
    if not isinstance(comments, list):
        raise ValueError(f"{name}: --pretty file without a 'comments' list")
    return comments


def _pretty_lines(comments: list[Any]) -> pa.Table:
    """The comments of a ``--pretty`` document as compact JSON lines, numbered by position."""
    return pa.table(
        {
            "line_no": pa.array(range(1, len(comments) + 1), pa.int64()),
            "line": pa.array([_dumps(c) for c in comments], pa.string()),
        }
    )


def _map_pretty(source: Source, video: str | None) -> AdapterChunk:
    with source.open() as fh:
        comments = _load_pretty(fh.read(), source.name)
    con = connect(SQL_MACROS)
    try:
        return _CHUNK_SQL(con, _pretty_lines(comments), [], [video])
    finally:
        con.close()


def _is_comment(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("cid"), str)
        and "text" in obj
        and sum(k in obj for k in _FIELDS) >= 3
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
