"""The canonical post: the one Arrow schema every adapter maps onto, the contract between ingest and dbt.

Adapters produce ``ADAPTER_SCHEMA`` tables (the canonical columns the export itself can fill, plus the
platform's raw ``author_id``). The lake writer turns them into ``POST_SCHEMA`` by adding provenance and
pseudonymising authors, so those concerns live in one place.
"""

from __future__ import annotations

import pyarrow as pa

# Every platform a post can have: the quality suite and dbt accept these. A format's adapter declares
# the platforms it emits (``Adapter.platforms``); each must be listed here.
PLATFORMS = (
    "x",
    "reddit",
    "mastodon",
    "bluesky",
    "telegram",
    "youtube",
    "tiktok",
    "instagram",
    "threads",
    "generic",
)
KINDS = ("post", "reply", "repost", "quote", "comment")

_str = pa.string()
_ts = pa.timestamp("us", tz="UTC")
_strlist = pa.list_(pa.string())
# An account a post mentions, as the export states it: the platform's user id and/or the handle.
MENTION_TARGET = pa.struct([pa.field("id", _str), pa.field("handle", _str)])
# The lake's form of a mention: the keyed hash of the target (as ``author_key``), and whether it was
# hashed from the handle alone (``"<platform>:@<lower-cased handle>"``) for want of an id.
MENTION_KEY = pa.struct([pa.field("author_key", _str), pa.field("by_handle", pa.bool_())])

# Columns an adapter fills, in order.
ADAPTER_FIELDS: list[pa.Field] = [
    pa.field("post_uid", _str, nullable=False),
    pa.field("platform", _str, nullable=False),
    pa.field("post_id", _str, nullable=False),
    pa.field("created_at", _ts, nullable=False),
    pa.field("author_id", _str),  # the platform's own author id; replaced by author_key in the lake
    pa.field("author_handle", _str),
    pa.field("text", _str),
    pa.field("lang_declared", _str),
    pa.field("kind", _str, nullable=False),
    pa.field("reply_to_id", _str),
    pa.field("thread_id", _str),
    pa.field("repost_of_id", _str),
    pa.field("quote_of_id", _str),
    # the platform's own user id of the author of the replied-to / reposted / quoted post, where the
    # export states it; replaced by the ``*_author_key`` columns in the lake
    pa.field("reply_to_author_id", _str),
    pa.field("repost_of_author_id", _str),
    pa.field("quote_of_author_id", _str),
    # every account the post mentions, deduplicated; replaced by ``mention_keys`` in the lake
    pa.field("mention_targets", pa.list_(MENTION_TARGET)),
    pa.field("url", _str),
    pa.field("like_count", pa.int64()),
    pa.field("share_count", pa.int64()),
    pa.field("reply_count", pa.int64()),
    pa.field("view_count", pa.int64()),
    pa.field("hashtags", _strlist),
    pa.field("mentions", _strlist),
    pa.field("links", _strlist),
    pa.field("media_count", pa.int32()),
    pa.field("raw", _str),
    pa.field("source_record", pa.int64(), nullable=False),
]
ADAPTER_SCHEMA = pa.schema(ADAPTER_FIELDS)

# Adapter columns that carry platform account ids: the lake keeps their keyed hashes instead.
ACCOUNT_ID_COLUMNS = ("author_id", "reply_to_author_id", "repost_of_author_id", "quote_of_author_id",
                      "mention_targets")
# Their keyed forms in the lake, put right after ``quote_of_id``.
AUTHOR_KEY_FIELDS: list[pa.Field] = [
    pa.field("reply_to_author_key", _str),
    pa.field("repost_of_author_key", _str),
    pa.field("quote_of_author_key", _str),
    pa.field("mention_keys", pa.list_(MENTION_KEY)),
]


def _lake_fields() -> list[pa.Field]:
    out: list[pa.Field] = []
    for f in ADAPTER_FIELDS:
        if f.name in ACCOUNT_ID_COLUMNS or f.name == "source_record":
            continue
        out.append(f)
        if f.name == "quote_of_id":
            out.extend(AUTHOR_KEY_FIELDS)
    return out


# What lands in lake/posts (the contract with dbt's sources).
POST_SCHEMA = pa.schema(
    [
        *_lake_fields(),
        pa.field("author_key", _str),
        pa.field("source_file", _str, nullable=False),
        pa.field("source_record", pa.int64(), nullable=False),
        pa.field("export_format", _str, nullable=False),
        pa.field("batch_id", _str, nullable=False),
        pa.field("ingested_at", _ts, nullable=False),
    ]
)

# What an adapter reports for a record it could not map.
QUARANTINE_ADAPTER_SCHEMA = pa.schema(
    [
        pa.field("source_record", pa.int64(), nullable=False),
        pa.field("raw", _str),
        pa.field("error", _str, nullable=False),
    ]
)

# What lands in lake/quarantine.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_file", _str, nullable=False),
        pa.field("source_record", pa.int64(), nullable=False),
        pa.field("raw", _str),
        pa.field("error", _str, nullable=False),
        pa.field("platform", _str, nullable=False),
        pa.field("export_format", _str, nullable=False),
        pa.field("batch_id", _str, nullable=False),
        pa.field("ingested_at", _ts, nullable=False),
    ]
)

QUARANTINE_RAW_MAX_CHARS = 4000

# What a record needs from around it to be mapped again (an X page's ``includes``, a Telegram message's
# chat, the account of an X archive): one JSON object per ``source_record`` where it starts to apply.
# Kept in lake/context beside the posts; ``discourse remap`` reads it back.
CONTEXT_SCHEMA = pa.schema(
    [
        pa.field("source_record", pa.int64(), nullable=False),
        pa.field("context", _str, nullable=False),
    ]
)


def empty_adapter_table() -> pa.Table:
    return ADAPTER_SCHEMA.empty_table()


def conform(table: pa.Table, schema: pa.Schema = ADAPTER_SCHEMA) -> pa.Table:
    """Select and cast ``table``'s columns to ``schema``; missing nullable columns become nulls."""
    cols = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if col.type != field.type:
                col = col.cast(field.type)
        else:
            if not field.nullable:
                raise ValueError(f"adapter output lacks required column {field.name!r}")
            col = pa.nulls(table.num_rows, type=field.type)
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=schema)
