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
write), invalid UTF-8 (at the smallest unit: a page line with a bad byte is repaired, each bad byte a
U+FFFD, and only the tweet holding it is quarantined; the page's other tweets load), an object that
is none of the above, and a tweet lacking ``id`` or a parseable
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
* The conversation's accounts, as X states them: ``reply_to_author_id`` is the tweet's
  ``in_reply_to_user_id`` (``in_reply_to_user.id`` in the flattened form), else the ``author_id`` of the
  replied-to tweet; ``repost_of_author_id`` / ``quote_of_author_id`` the ``author_id`` of the retweeted /
  quoted tweet, from the line's ``includes.tweets`` or inlined in the flattened form (null when the
  referenced tweet is not in the line). ``mention_targets`` are the tweet's own ``entities.mentions`` and
  ``note_tweet.entities.mentions`` (``id`` and ``username``, deduplicated): a retweet's own mentions
  (the retweeted author, and what its cut text shows), never the original's merged ones.
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
several at once (``options["workers"]``), through ``CHUNK_SQL`` (``sql.py``): a fixed set of DuckDB SQL
statements that maps the whole chunk on a private single-threaded in-memory connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from ingest.formats.common import loads, strip_bom
from ingest.formats.x_v2.sql import CHUNK_SQL
from ingest.lines import BadLines, run_chunks
from ingest.registry import Adapter, AdapterChunk, Unit, register
from ingest.schema import QUARANTINE_ADAPTER_SCHEMA, QUARANTINE_RAW_MAX_CHARS, conform
from ingest.sources import Source

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
        except (ValueError, RecursionError):
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


_INVALID_UTF8 = "invalid UTF-8"


def _map_chunk(con: Any, lines: pa.Table, bad: BadLines) -> AdapterChunk:
    """``CHUNK_SQL``, with lines that are not UTF-8 repaired rather than lost whole: a page holds up to
    100 tweets, and one bad byte is in one of them (or in its includes). The repaired line (each bad
    byte a U+FFFD) is mapped like the others; then the records from it that hold a replacement
    character, a tweet or the line itself, are quarantined as ``invalid UTF-8`` and the rest load."""
    broken = [b for b in bad if len(b) == 2]
    if not broken:
        return CHUNK_SQL(con, lines, bad)
    repaired = pa.table(
        {
            "line_no": pa.array([b[0] for b in broken], pa.int64()),
            "line": pa.array([b[1] for b in broken], pa.string()).cast(pa.string_view()),
        }
    )
    lines = pa.concat_tables([lines.cast(repaired.schema), repaired])
    chunk = CHUNK_SQL(con, lines, [b for b in bad if len(b) > 2])
    nos = pa.array(sorted({b[0] for b in broken}), pa.int64())

    def hit(table: pa.Table) -> pa.Array:
        return pc.and_(
            pc.is_in(table.column("source_record"), value_set=nos),
            pc.fill_null(pc.match_substring(table.column("raw"), "\ufffd"), False),
        )

    q = chunk.quarantine
    q = q.set_column(2, "error", pc.if_else(hit(q), pa.scalar(_INVALID_UTF8), q.column("error")))
    posts = chunk.posts
    moved = hit(posts)
    if pc.any(moved).as_py():
        gone = posts.filter(moved)
        q = pa.concat_tables([
            conform(q, QUARANTINE_ADAPTER_SCHEMA),
            conform(pa.table(
                {
                    "source_record": gone.column("source_record"),
                    "raw": pc.utf8_slice_codeunits(gone.column("raw"), 0, QUARANTINE_RAW_MAX_CHARS),
                    "error": pa.array([_INVALID_UTF8] * gone.num_rows, pa.string()),
                },
            ), QUARANTINE_ADAPTER_SCHEMA),
        ]).sort_by("source_record")
        posts = posts.filter(pc.invert(moved))
    chunk.posts, chunk.quarantine = posts, conform(q, QUARANTINE_ADAPTER_SCHEMA)
    return chunk


@register
class XV2Adapter(Adapter):
    """X API v2 JSONL from twarc2 (pages, stream lines, flattened tweets)."""

    name = "x_v2"
    platform = "x"
    platforms = ("x",)
    priority = 20
    description = "X API v2 JSONL (twarc2 pages, streaming output, or twarc2 flatten)"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).decode("utf-8", "replace")
        lines = text.split("\n")
        complete, tail = lines[:-1], lines[-1]
        seen_tweets = False
        checked = 0
        for line in complete:
            if not line.strip():
                continue
            try:
                obj = loads(line)
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
        yield from run_chunks(source, options, _map_chunk, name="x_v2")

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Stored tweets back as lines: the tweets of one page or stream line, with that line's
        context, become a page again; a flattened tweet (no context of its own) is its line."""
        for unit in units:
            if unit.context is not None and unit.context_record == unit.record:
                ctx = loads(unit.context)
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
