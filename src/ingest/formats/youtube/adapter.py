"""YouTube comments as youtube-comment-downloader writes them.

The tool writes one JSON object per line (or, with ``--pretty``, one indented ``{"comments": [...]}``
document): ``{"cid", "text", "time" ("2 days ago"), "author", "channel", "votes" ("1.2K"), "replies",
"photo", "heart", "reply", "time_parsed"}``. A file holds one video's comments, usually small, but
popular videos reach hundreds of thousands, so the mapping is vectorised: ``ingest.lines`` cuts the
decompressed file into blocks of whole lines (``options["chunk_bytes"]``, default 64 MiB) and frames each
as an Arrow ``(line_no, line)`` table over the block's buffer (newlines found by numpy, no Python object
per line), and a fixed set of DuckDB SQL statements (``CHUNK_SQL`` in ``sql.py``) classifies, parses (one
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
* ``like_count`` is ``votes`` parsed with the shared count rules (``ingest.formats.common``):
  ``"15"`` → 15, ``"1,234"``/``"1.234"`` → 1234, ``"1.2K"`` → 1200, ``"3M"`` → 3000000, localised
  suffixes ``rb``/``ribu`` (thousand) and ``jt``/``juta`` (million) with a decimal comma (``"3,4 rb"``
  → 3400). ``""`` is 0 (the page shows no number for no votes); a missing or unreadable ``votes`` is
  null. ``reply_count`` is ``replies`` the same way for top-level
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
* ``parse_votes`` (Python) and the SQL macro ``yt_count`` (in ``sql.SQL_MACROS``) are the shared
  ``parse_count`` / ``count_value`` with ``""`` read as 0; ``tests/adapters/test_common.py`` checks the
  Python and SQL versions against each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import pyarrow as pa

from ingest.formats.common import (
    DEFAULT_JSON_DEPTH,
    UTF8_BOM,
    dumps,
    gc_paused,
    loads,
    parse_count,
    strip_bom,
)
from ingest.formats.youtube.sql import CHUNK_SQL, SQL_MACROS
from ingest.lines import connect, run_chunks
from ingest.registry import Adapter, AdapterChunk, Unit, context_table, first_context, register
from ingest.sources import Source

PLATFORM = "youtube"

_PRETTY = re.compile(rb'^\{\s*"comments"\s*:\s*\[\s*(?:\{\s*"cid"\s*:|\])')
_LINE_START = re.compile(rb'^\{\s*"cid"\s*:\s*"[A-Za-z0-9_.-]+"\s*,\s*"text"\s*:')
_FIELDS = ("time", "author", "channel", "votes", "replies", "photo", "heart", "reply", "time_parsed")
_VIDEO_IN_NAME = re.compile(r"^(?:.*[_.\- ])?([A-Za-z0-9_-]{11})$")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_DATA_SUFFIXES = (".gz", ".zst", ".zstd", ".json", ".jsonl", ".ndjson", ".txt")


def parse_votes(value: Any) -> int | None:
    """A vote or reply count as the tool writes it (``"1.2K"``, ``"3,4 rb"``, a number): the shared
    ``parse_count``, with ``""`` read as 0 (the page shows no number for none)."""
    return parse_count(value, blank=0)


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
                meta = loads(sidecar.read_text(encoding="utf-8"))
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
    platforms = (PLATFORM,)
    priority = 45
    description = "YouTube comments JSON lines from youtube-comment-downloader (also its --pretty form)"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).lstrip()
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
                obj = loads(line)
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
        if _PRETTY.match(strip_bom(source.head(len(UTF8_BOM) + 4096)).lstrip()):
            chunks: Iterator[AdapterChunk] = iter([_map_pretty(source, video)])
        else:
            chunks = run_chunks(
                source,
                options,
                lambda con, lines, bad: CHUNK_SQL(con, lines, bad, [video]),
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


def _load_pretty(data: bytes, name: str, max_depth: int = DEFAULT_JSON_DEPTH) -> list[Any]:
    try:
        doc = loads(strip_bom(data).decode("utf-8"), max_depth)
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
            "line": pa.array([dumps(c) for c in comments], pa.string()),
        }
    )


def _map_pretty(source: Source, video: str | None) -> AdapterChunk:
    with gc_paused():  # the whole document is parsed and re-serialised in Python
        with source.open() as fh:
            comments = _load_pretty(fh.read(), source.name, source.limits.max_json_depth)
        lines = _pretty_lines(comments)
        del comments
    con = connect(SQL_MACROS)
    try:
        return CHUNK_SQL(con, lines, [], [video])
    finally:
        con.close()


def _is_comment(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("cid"), str)
        and "text" in obj
        and sum(k in obj for k in _FIELDS) >= 3
    )
