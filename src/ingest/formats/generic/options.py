"""The options the generic CSV / TSV / JSONL adapter reads, and the ``--map`` parser."""

from __future__ import annotations

from datetime import datetime

from ingest.registry import Option

# Option keys accepted in ``map`` → the canonical column they fill.
FIELD_ALIASES: dict[str, str] = {
    "id": "post_id",
    "post_id": "post_id",
    "text": "text",
    "created_at": "created_at",
    "author": "author_id",
    "author_id": "author_id",
    "author_handle": "author_handle",
    "lang": "lang_declared",
    "lang_declared": "lang_declared",
    "url": "url",
    "kind": "kind",
    "reply_to_id": "reply_to_id",
    "thread_id": "thread_id",
    "repost_of_id": "repost_of_id",
    "quote_of_id": "quote_of_id",
    "reply_to_author_id": "reply_to_author_id",
    "repost_of_author_id": "repost_of_author_id",
    "quote_of_author_id": "quote_of_author_id",
    "like_count": "like_count",
    "share_count": "share_count",
    "reply_count": "reply_count",
    "view_count": "view_count",
    "hashtags": "hashtags",
    "mentions": "mentions",
    "links": "links",
    "media_count": "media_count",
}


def parse_column_map(spec: str | list[str] | tuple[str, ...]) -> dict[str, str | None]:
    """``"text=content,id=tweet_id"`` (or a list of ``field=column`` items) → the ``map`` option.

    ``field=`` with nothing after it maps the field to ``None``, which turns off its automatic match.
    """
    items = spec.split(",") if isinstance(spec, str) else [i for part in spec for i in part.split(",")]
    out: dict[str, str | None] = {}
    for item in items:
        if not item.strip():
            continue
        field, sep, column = item.partition("=")
        field = field.strip()
        if not sep or not field:
            raise ValueError(f"column map item {item!r} is not field=column")
        if field not in FIELD_ALIASES:
            raise ValueError(
                f"unknown canonical field {field!r} in the column map; known: {', '.join(FIELD_ALIASES)}"
            )
        out[field] = column.strip() or None
    return out



OPTIONS = (
    Option(
        "map",
        dict[str, str | None],
        "generic column mapping, e.g. id=tweet_id,text=content,created_at=date",
        flag="--map",
        parse=parse_column_map,
    ),
    Option("platform", str, "platform to assign to generic records", flag="--platform"),
    Option("delimiter", str, "generic CSV delimiter (default: detected)", flag="--delimiter"),
    Option("quote", str, "generic CSV quote character (default '\"'; '' turns quoting off)"),
    Option(
        "ingested_at",
        datetime | str,
        "created_at of rows of a file without a date column (set by the lake: the ingest time)",
        recorded=False,
    ),
)
