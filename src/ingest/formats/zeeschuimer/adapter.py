"""Zeeschuimer / 4CAT NDJSON: one captured item per line, the platform's own JSON in ``data``.

Each line is ``{"item_id", "timestamp_collected" (ms epoch), "source_platform", "source_platform_url",
"source_url", "user_agent", "data": {...}}``. ``platform`` is per item, from ``source_platform``:

* ``tiktok.com`` → ``tiktok``: ``id``; ``desc``; ``createTime`` (epoch seconds, number or string);
  ``author`` as an object (``id``, ``uniqueId``) or as a string (the handle) with ``authorId``;
  ``stats`` (numbers) or ``statsV2`` (strings): ``diggCount`` → likes, ``shareCount``,
  ``commentCount``, ``playCount`` → views; hashtags from ``challenges[].title`` and
  ``textExtra[].hashtagName``, mentions from ``textExtra[].userUniqueId``; ``url``
  ``https://www.tiktok.com/@<handle>/video/<id>``; ``media_count`` 1 (a video) or the number of
  ``imagePost.images`` for a photo post.
* ``instagram.com`` → ``instagram``: the API media item (``pk``/``id``, ``code``, ``caption.text`` or a
  null caption, ``taken_at``, ``user{pk, username}``, ``like_count``, ``comment_count``,
  ``play_count``/``view_count``, ``carousel_media``/``carousel_media_count``/``image_versions2``) or the
  older GraphQL node (``shortcode``, ``edge_media_to_caption``, ``taken_at_timestamp``, ``owner``,
  ``edge_liked_by``/``edge_media_preview_like``, ``edge_media_to_comment``, ``video_view_count``,
  ``edge_sidecar_to_children``); ``url`` ``https://www.instagram.com/p/<code>/``.
* ``twitter.com``/``x.com`` → ``x``: the GraphQL tweet result (``rest_id``, ``legacy{full_text,
  created_at, favorite_count, retweet_count, reply_count, entities, in_reply_to_status_id_str,
  conversation_id_str, retweeted_status_result, quoted_status_id_str, lang}``,
  ``core.user_results.result`` with ``legacy.screen_name`` or ``core.screen_name``,
  ``note_tweet`` for long posts, ``views.count`` a string), also wrapped as
  ``TweetWithVisibilityResults``. A retweet's ``text`` is ``RT @user: `` + the original's full text
  (as the X v2 adapter does). Links are ``expanded_url``s; ``lang`` ``und``/``zxx``/``q..`` is null.
* ``threads.net``/``threads.com`` → ``threads``: the Instagram-like post (``pk``, ``code``,
  ``caption.text``, ``taken_at``, ``user``, ``like_count``, ``text_post_app_info``), ``url``
  ``https://www.threads.net/@<user>/post/<code>``; ``text_post_app_info.share_info`` makes a
  ``repost`` (``reposted_post.pk``) or a ``quote`` (``quoted_post.pk``), ``reply_to_author`` a
  ``reply``; ``direct_reply_count`` and ``repost_count`` are the reply and share counts.

* ``tiktok-comments`` (the "TikTok (comments)" module) → ``tiktok`` comments: ``cid``; ``text``;
  ``create_time`` (epoch seconds); ``user{uid, unique_id}``; ``digg_count`` → likes,
  ``reply_comment_total`` → replies; ``comment_language``; ``kind`` ``comment`` with ``thread_id`` the
  video (``aweme_id``) and ``reply_to_id`` the comment answered (``reply_to_reply_id``, else
  ``reply_id``, "0" meaning none) or else the video; ``url`` ``share_info.url``.

The conversation's accounts, where the item states them (never from the text): TikTok's
``textExtra`` mentions (``userId``, ``userUniqueId``) and a TikTok comment's ``text_extra`` (``user_id``)
are ``mention_targets``; an X item's own ``user_mentions`` (``id_str``, ``screen_name``; also those of
``note_tweet``), ``legacy.in_reply_to_user_id_str``, the retweeted original's author
(``retweeted_status_result``) and the quoted tweet's (``quoted_status_result``); a Threads post's
``reply_to_author`` and the user of its ``reposted_post``/``quoted_post``. Instagram states none.

Any other ``source_platform`` is counted in ``skipped`` as ``source_platform:<value>``; blank lines as
``blank_line``. A line that is not JSON, not an object, without ``data``, or whose item lacks its id or
time is quarantined with the reason. ``post_id`` is the platform's id as a string (Instagram's
``pk``, without the ``_<user>`` suffix ``id`` carries); counts arriving as strings ("1.2K") are parsed
with the shared count rules (``ingest.formats.common``; ``""`` is 0, as a page shows it).
``source_record`` is the line number and ``raw`` the line as captured.

The mapping is vectorised (``CHUNK_SQL`` in ``sql.py``): ``ingest.lines`` cuts the decompressed file
into blocks of whole lines (``options["chunk_bytes"]``, default 64 MiB) and frames each as an Arrow
``(line_no, line)`` table; the wrapper of every line is parsed once by DuckDB (``from_json`` to
``source_platform``), and each platform's items are mapped by one SQL statement that reads their
``data`` from the line (``from_json`` with a structure of just the fields read; X items' ``data`` is
cut out as JSON, to unwrap the tweet). ``options["workers"]`` blocks are mapped at once, each on a
private single-threaded connection (``ingest.lines.run_chunks``).
``pytest -m bench tests/adapters/test_zeeschuimer.py -s`` prints the throughput next to a bare DuckDB
``read_json`` → Parquet copy of the same file.

Quarantined records are written under the adapter's ``platform``, ``generic``: a line that cannot be
read has no trustworthy platform of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ingest.formats.common import loads, strip_bom
from ingest.formats.zeeschuimer.sql import MAPPER, SQL_MACROS
from ingest.lines import run_chunks
from ingest.registry import Adapter, AdapterChunk, register
from ingest.sources import Source

_SOURCE_PLATFORM = re.compile(rb'"source_platform"\s*:\s*"[A-Za-z0-9.\-]+"')
_COLLECTED = re.compile(rb'"timestamp_collected"\s*:\s*\d')
_ITEM_ID = re.compile(rb'"item_id"\s*:')


@register
class ZeeschuimerAdapter(Adapter):
    name = "zeeschuimer"
    platform = "generic"  # per item; quarantined records land under this one
    platforms = ("tiktok", "instagram", "x", "threads")
    priority = 30
    description = "Zeeschuimer / 4CAT NDJSON (TikTok posts and comments, Instagram, X, Threads items)"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).lstrip()
        if not text.startswith(b"{"):
            return False
        first, nl, _ = text.partition(b"\n")
        if nl:
            try:
                obj = loads(first)
            except ValueError:
                return False
            return (
                isinstance(obj, dict)
                and isinstance(obj.get("source_platform"), str)
                and "timestamp_collected" in obj
                and isinstance(obj.get("data"), dict)
            )
        # one long line cut by the head's end
        return bool(_SOURCE_PLATFORM.search(first) and _COLLECTED.search(first) and _ITEM_ID.search(first))

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        """Options: ``chunk_bytes`` and ``workers`` (see ``ingest.lines.run_chunks``)."""
        yield from run_chunks(source, options, MAPPER, name="zeeschuimer", setup=SQL_MACROS)
