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
  ``reply_count`` is a submission's ``num_comments``. Both arrive as JSON numbers or numeric strings
  and are read with the shared count rules (``ingest.formats.common.parse_count``).
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
(numpy, no Python per line), and a fixed set of DuckDB SQL statements (``CHUNK_SQL`` in ``sql.py``)
maps the block on a private single-threaded connection; ``options["workers"]`` blocks are mapped at once
(``ingest.lines.run_chunks``). zstd is read with windows up to 2 GiB and across concatenated frames
(``Source.open``), since Pushshift dumps are compressed with ``--long=31``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ingest.formats.common import sniff_json_lines
from ingest.formats.reddit.sql import CHUNK_SQL, SETUP
from ingest.lines import run_chunks
from ingest.registry import Adapter, AdapterChunk, register
from ingest.sources import Source

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
    platforms = ("reddit",)
    priority = 40
    description = "Reddit dumps (Pushshift / Arctic Shift NDJSON of submissions and comments, often .zst)"

    def sniff(self, head: bytes) -> bool:
        return sniff_json_lines(head, lambda obj: _reddit_kind(obj) is not None, _TRUNC_HINTS)

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Options: ``chunk_bytes`` and ``workers`` (see ``ingest.lines.run_chunks``)."""
        yield from run_chunks(source, options, CHUNK_SQL, name="reddit", setup=SETUP, empty=True)
