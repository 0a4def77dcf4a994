"""Generic CSV, TSV and JSONL: any tool's output or a labelled set, through a column mapping.

Options (``discourse ingest --format generic`` passes them through):

- ``map``: canonical field → source column, e.g. ``{"id": "tweet_id", "text": "content",
  "created_at": "date", "author": "user", "lang": "language", "url": "link"}``. Canonical fields:
  ``id``/``post_id``, ``text``, ``created_at``, ``author``/``author_id``, ``author_handle``,
  ``lang``/``lang_declared``, ``url``, ``kind``, ``reply_to_id``, ``thread_id``, ``repost_of_id``,
  ``quote_of_id``, ``like_count``, ``share_count``, ``reply_count``, ``view_count``, ``hashtags``,
  ``mentions``, ``links``, ``media_count``. For JSONL a source may also be a JSONPath (``$.user.name``).
  Mapping a field to ``None`` turns off its automatic match. Fields not mapped are matched by common
  column names, case-insensitively (``AUTO_NAMES``).
- ``platform``: the platform the rows belong to (default ``generic``).
- ``delimiter``: for CSV/TSV; detected from the header line when absent (tab, comma, semicolon, pipe).
- ``quote``: the CSV quote character (default ``"``; ``""`` turns quoting off).
- ``ingested_at``: a datetime (or ISO string) used as ``created_at`` when the file has no date column;
  without it, the current UTC time. (``created_at`` is required, so undated rows take the ingest time.)

Behaviour:

- ``text`` is required: a file without a text column is refused with a clear error; a row with empty
  text is quarantined. With an id column, a row with an empty id is quarantined; without one, the id is
  the first 32 hex digits of the SHA-256 of the row's ``raw`` JSON (so an identical row re-exported
  gets the same id, and exact duplicate rows collapse in the lake's dedup).
- Dates: ISO-8601 with or without an offset (no offset means UTC, as does ``YYYY-MM-DD HH:MM:SS``),
  epoch seconds, milliseconds or microseconds (numbers or numeric strings; told apart by magnitude;
  values before 1973, such as a bare year or a placeholder 0, are not taken as epochs), and the
  X/RFC 2822 forms ``Fri Feb 20 09:10:58 +0000 2026`` / ``Fri, 20 Feb 2026 09:10:58 +0000``. Day-first
  or month-first forms (``08/03/2024``) are ambiguous and not read. With a date column, an empty or
  unparseable date quarantines the row.
- Counts accept ``1.2K``, ``3,4 rb``, ``2 jt``, ``1,234``; an unreadable count becomes null.
- ``hashtags``/``mentions``/``links`` columns may hold a JSON array or a list separated by spaces,
  commas, semicolons or pipes; when not mapped they are extracted from the text (``#tag``, ``@user``,
  ``http(s)://`` URLs), without the ``#``/``@`` sigils.
- ``raw`` is the original row as JSON (CSV: header names → values; JSONL: the line), so columns like a
  label stay available.
- JSONL keys are matched on the first 10,000 valid lines. An author matched by name whose value is an
  object (``"user": {"screen_name": ...}``) is read from its ``screen_name``/``username``/... key.
  Blank lines are counted in ``skipped`` as ``blank_line``. A pretty-printed JSON document is refused
  with a clear error (it is not JSON Lines). JSONL is read and framed by ``ingest.lines`` (blocks of
  whole lines as Arrow tables, a leading UTF-8 BOM dropped), then mapped in parts of ``CHUNK_ROWS``.
- ``source_record`` is 1-based. JSONL: the physical line number. CSV/TSV: the record's ordinal after
  the header as DuckDB's CSV reader numbers records (a quoted multi-line field stays one record). DuckDB
  counts an empty line as a record for malformed rows but does not return it as a row, so in a file with
  empty lines between records the ordinals of well-formed rows after them are low by that many.
- CSV quoting is RFC 4180 (``"`` quotes, ``""`` inside quotes). Malformed CSV records (wrong field
  count, bad quoting, invalid UTF-8, records over ``MAX_CSV_LINE_BYTES``) come from
  DuckDB's ``store_rejects`` tables and are quarantined with DuckDB's reason; an unterminated quote
  swallows the rest of the file into one quarantined record, as the CSV grammar reads it. JSONL lines
  that are not valid UTF-8, not JSON, or not an object are quarantined.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.lines import add_bad_utf8, empty_chunk, framed
from ingest.registry import Adapter, AdapterChunk, register
from ingest.schema import (
    KINDS,
    PLATFORMS,
    QUARANTINE_ADAPTER_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    conform,
)
from ingest.sources import Source

CHUNK_ROWS = 100_000
JSONL_BLOCK_BYTES = 32 << 20
MAX_CSV_LINE_BYTES = 8 << 20  # longer records are quarantined ("line size over maximum")
REJECT_LINE_CHARS = 64 * 1024

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
    "like_count": "like_count",
    "share_count": "share_count",
    "reply_count": "reply_count",
    "view_count": "view_count",
    "hashtags": "hashtags",
    "mentions": "mentions",
    "links": "links",
    "media_count": "media_count",
}

# Column names matched automatically (case-insensitive, spaces and dashes read as underscores), in
# order of preference.
AUTO_NAMES: dict[str, tuple[str, ...]] = {
    "post_id": ("id", "post_id", "tweet_id", "status_id", "message_id", "comment_id", "item_id"),
    "text": (
        "text",
        "full_text",
        "content",
        "body",
        "message",
        "tweet",
        "tweet_text",
        "post_text",
        "caption",
        "comment",
        "sentence",
        "title",
        "headline",
        "claim",
        "statement",
        "review",
        "tweets",
        "teks",
        "kalimat",
        "judul",
        "isi",
    ),
    "created_at": (
        "created_at",
        "created_utc",
        "timestamp",
        "date",
        "datetime",
        "time",
        "created",
        "published",
        "published_at",
        "posted_at",
    ),
    "author_id": ("author", "author_id", "user", "username", "user_name", "screen_name", "user_id"),
    "author_handle": ("author_handle", "handle"),
    "lang_declared": ("lang", "language", "lang_declared"),
    "url": ("url", "link", "permalink", "post_url", "tweet_url"),
    "like_count": ("like_count", "likes", "favorite_count", "favourite_count", "favorites"),
    "share_count": ("share_count", "shares", "retweet_count", "retweets", "repost_count", "reposts"),
    "reply_count": ("reply_count", "replies"),
    "view_count": ("view_count", "views"),
    "hashtags": ("hashtags",),
    "mentions": ("mentions",),
    "links": ("links", "urls"),
}
TEXT_NAMES = frozenset(AUTO_NAMES["text"])

_DELIMITERS = ("\t", ",", ";", "|")
_BOM = b"\xef\xbb\xbf"

# Text extraction, RE2 syntax (DuckDB). ``\B`` before a sigil means "at the start or after a non-word
# character", so "a@b.com" is no mention and "x#y" no hashtag. Tag characters: word characters plus the
# letters of the common scripts (Latin with diacritics, Greek, Cyrillic, Arabic, Thai, kana, CJK, Hangul).
_TAG_CHAR = (
    r"[\w\x{00C0}-\x{024F}\x{0370}-\x{04FF}\x{0600}-\x{06FF}\x{0E00}-\x{0E7F}"
    r"\x{3040}-\x{30FF}\x{4E00}-\x{9FFF}\x{AC00}-\x{D7AF}]"
)
HASHTAG_RE = r"\B#" + _TAG_CHAR + "+"
MENTION_RE = r"\B@\w+(?:\.\w+)*"
URL_RE = r"""https?://[^\s<>"']+"""
ENTITY_RE = f"{URL_RE}|{HASHTAG_RE}|{MENTION_RE}"


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


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_MACROS = [
    # Epoch number → timestamptz, the unit told apart by magnitude (s < 1e11 <= ms < 1e14 <= µs). Values
    # below 1e8 (before 1973: a bare year, a placeholder 0) are not taken as epochs.
    """create or replace macro gx_epoch(x) as case when x >= 1e8 then try(make_timestamp(cast(
        case when x >= 1e14 then x when x >= 1e11 then x * 1e3 else x * 1e6 end
        as bigint))::timestamptz) end""",
    # Numbers are epochs; then ISO-8601 (no offset = UTC, the session zone), then the X/RFC 2822 forms.
    # A value without a digit is refused first, so DuckDB's 'infinity'/'epoch' literals are not dates.
    """create or replace macro gx_ts(v) as case when regexp_matches(v, '[0-9]') then coalesce(
            gx_epoch(try_cast(trim(v) as double)),
            try_cast(trim(v) as timestamptz),
            try_strptime(trim(v), '%a %b %d %H:%M:%S %z %Y'),
            try_strptime(trim(v), '%a, %d %b %Y %H:%M:%S %z')) end""",
    """create or replace macro gx_count_parts(s) as regexp_extract(s,
        '^([0-9]+(?:[.,][0-9]+)*)(k|rb|ribu|m|jt|juta|mln|b|bn|miliar)?$', ['num', 'suf'])""",
    """create or replace macro gx_count_of(p) as case
        when p.num = '' then null
        when p.suf = '' and regexp_full_match(p.num, '[0-9]{1,3}([.,][0-9]{3})+')
            then try_cast(regexp_replace(p.num, '[.,]', '', 'g') as bigint)
        else try_cast(round(try_cast(replace(p.num, ',', '.') as double) * case
            when p.suf in ('k', 'rb', 'ribu') then 1e3
            when p.suf in ('m', 'jt', 'juta', 'mln') then 1e6
            when p.suf in ('b', 'bn', 'miliar') then 1e9
            else 1 end) as bigint)
        end""",
    """create or replace macro gx_count(v) as case
        when v is null then null
        else gx_count_of(gx_count_parts(lower(regexp_replace(trim(v), '[\\s\u00a0]', '', 'g'))))
        end""",
    # A list column: a JSON array, or values separated by spaces/commas/semicolons/pipes.
    """create or replace macro gx_list(v, sigil) as case
        when v is null or trim(v) = '' then []::varchar[]
        when json_valid(v) and json_type(v) = 'ARRAY'
            then list_filter(list_transform(cast(json_extract_string(v, '$[*]') as varchar[]),
                lambda x: ltrim(trim(x), sigil)), lambda x: x is not null and x <> '')
        else list_filter(list_transform(regexp_split_to_array(trim(v), '[\\s,;|]+'),
                lambda x: ltrim(x, sigil)), lambda x: x <> '')
        end""",
    # One regex pass finds URLs, hashtags and mentions together (leftmost match wins, so a URL's
    # "#fragment" is no hashtag); a match's first character says which it is. A tag needs a character
    # that is not a digit or underscore ("#1" is no hashtag). Trailing punctuation is cut from URLs.
    f"""create or replace macro gx_entities(t) as
        case when contains(t, '#') or contains(t, '@') or contains(t, '://')
        then regexp_extract_all(t, {_sql_str(ENTITY_RE)}) else []::varchar[] end""",
    """create or replace macro gx_hashtags(e) as list_filter(
        list_transform(list_filter(e::varchar[], lambda x: x[1] = '#'), lambda x: substr(x, 2)),
        lambda x: regexp_matches(x, '[^0-9_]'))""",
    """create or replace macro gx_mentions(e) as list_transform(
        list_filter(e::varchar[], lambda x: x[1] = '@'), lambda x: substr(x, 2))""",
    """create or replace macro gx_links(e) as list_transform(
        list_filter(e::varchar[], lambda x: x[1] = 'h'), lambda x: rtrim(x, '.,;:!?)]}''"'))""",
    """create or replace macro gx_str(v) as nullif(trim(v), '')""",
]


@register
class GenericAdapter(Adapter):
    name = "generic"
    platform = "generic"
    priority = 1000
    description = "CSV, TSV or JSONL with a column mapping (id, text, created_at, author, lang, url, ...)"

    def sniff(self, head: bytes) -> bool:
        text = head.removeprefix(_BOM).decode("utf-8", "replace")
        stripped = text.lstrip()
        if not stripped:
            return False
        first = stripped.splitlines()[0]
        if stripped[0] in "{[":
            try:
                obj = json.loads(first)
            except ValueError:
                return False
            return isinstance(obj, dict) and any(_norm(k) in TEXT_NAMES for k in obj)
        header = _parse_header(first, _detect_delimiter(first))
        return any(_norm(name) in TEXT_NAMES for name in header)

    def read(self, source: Source, options: dict[str, Any] | None = None) -> Iterator[AdapterChunk]:
        options = dict(options or {})
        platform = options.get("platform") or "generic"
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
        head = source.head().removeprefix(_BOM)
        if not head.strip():
            yield empty_chunk()
            return
        if head.lstrip()[:1] in (b"{", b"["):
            first = head.lstrip().split(b"\n", 1)[0].strip()
            if first in (b"{", b"["):
                raise ValueError(
                    f"{source.name}: a multi-line JSON document, not JSON Lines (one object per line); "
                    "convert it with e.g. `jq -c '.[]'` or use the format's own adapter"
                )
            yield from _read_jsonl(source, options, platform)
        else:
            yield from _read_csv(source, head, options, platform)


# --------------------------------------------------------------------------------------------------
# Column matching


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _resolve(
    columns: list[str], options: dict[str, Any], source_name: str, allow_paths: bool
) -> dict[str, str]:
    """Canonical column → source column (or JSONPath), from ``options['map']`` then by name."""
    mapping = options.get("map") or {}
    if not isinstance(mapping, dict):
        raise ValueError(f"option 'map' must be a dict of canonical field → column, got {mapping!r}")
    resolved: dict[str, str] = {}
    disabled: set[str] = set()
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(_norm(col), col)
    for key, col in mapping.items():
        canonical = FIELD_ALIASES.get(key)
        if canonical is None:
            raise ValueError(
                f"unknown canonical field {key!r} in the column map; known: {', '.join(FIELD_ALIASES)}"
            )
        if col is None or col == "":
            disabled.add(canonical)
            continue
        col = str(col)
        if allow_paths and col.startswith("$"):
            resolved[canonical] = col
        elif col in columns:
            resolved[canonical] = col
        elif _norm(col) in by_norm:
            resolved[canonical] = by_norm[_norm(col)]
        else:
            raise ValueError(
                f"{source_name}: column {col!r} mapped to {key!r} is not in the file "
                f"(columns: {', '.join(columns) or 'none'})"
            )
    used = set(resolved.values())
    for canonical, names in AUTO_NAMES.items():
        if canonical in resolved or canonical in disabled:
            continue
        for name in names:
            col = by_norm.get(name)
            if col is not None and col not in used:
                resolved[canonical] = col
                used.add(col)
                break
    if "text" not in resolved:
        raise ValueError(
            f"{source_name}: no text column (looked for {', '.join(AUTO_NAMES['text'])}); "
            f"map one, e.g. map={{'text': '<column>'}} (columns: {', '.join(columns) or 'none'})"
        )
    return resolved


def _ingested_at(options: dict[str, Any]) -> datetime:
    value = options.get("ingested_at")
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ValueError(f"option 'ingested_at' must be a datetime or ISO string, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _mapping_query(
    sources: dict[str, str],
    resolved: dict[str, str],
    raw: str,
    key: str,
    from_sql: str,
    platform: str,
    options: dict[str, Any],
) -> str:
    """SQL mapping ``from_sql`` onto the canonical columns, plus ``key`` and an ``error`` column.

    ``sources`` holds the SQL expression (a VARCHAR) of each resolved canonical column and ``raw`` the
    expression of the row as JSON text; both are evaluated once, in an inner select.
    """
    inner = ", ".join(
        [f"{key} as gx_key", f"{raw} as gx_raw"]
        + [f"{expr} as f_{canonical}" for canonical, expr in sources.items()]
        + [f"gx_entities({sources['text']}) as gx_ents"]
    )
    fields = {canonical: f"f_{canonical}" for canonical in sources}
    select, error = _mapping_select(fields, resolved, "gx_raw", platform, options)
    # Three levels so each expression is evaluated once: source fields, canonical columns, error.
    return f"""select * exclude (gx_date_in), {error} as error from (
        select gx_key, {select} from (select {inner} from {from_sql}))"""


def _mapping_select(
    fields: dict[str, str], resolved: dict[str, str], raw: str, platform: str, options: dict[str, Any]
) -> tuple[str, str]:
    """Select list mapping the ``f_*`` columns onto the canonical columns (plus ``gx_date_in``), and
    the ``error`` expression over those canonical columns."""

    def col(name: str) -> str:
        return f"gx_str({fields[name]})" if name in fields else "null::varchar"

    def counted(name: str) -> str:
        return f"gx_count({fields[name]})" if name in fields else "null::bigint"

    text = fields["text"]
    if "post_id" in fields:
        post_id = col("post_id")  # evaluated twice (post_uid, post_id); gx_str is cheap
    else:
        post_id = f"substr(sha256({raw}), 1, 32)"
    if "created_at" in fields:
        created = f"gx_ts({fields['created_at']})"  # once: error reads the created_at column
    else:
        stamp = _ingested_at(options).astimezone(UTC).isoformat()
        created = f"timestamptz {_sql_str(stamp)}"
    if "author_handle" in fields:
        handle = col("author_handle")
    else:
        handle = col("author_id")
    reply_to = col("reply_to_id")
    kinds = ", ".join(_sql_str(k) for k in KINDS)
    if "kind" in fields:
        kind = f"""case
            when lower(trim({fields["kind"]})) in ({kinds}) then lower(trim({fields["kind"]}))
            when lower(trim({fields["kind"]})) in ('retweet', 'boost', 'share', 'forward') then 'repost'
            when {reply_to} is not null then 'reply' else 'post' end"""
    else:
        kind = f"case when {reply_to} is not null then 'reply' else 'post' end"

    def listed(name: str, sigil: str, extract: str) -> str:
        if name in fields:
            return f"gx_list({fields[name]}, {_sql_str(sigil)})"
        return f"{extract}(gx_ents)"

    media = (
        f"try_cast(gx_count({fields['media_count']}) as integer)"
        if "media_count" in fields
        else "null::integer"
    )
    errors = [
        "when text is null or trim(text) = '' then 'empty text (column ' || "
        f"{_sql_str(repr(resolved['text']))} || ')'"
    ]
    if "post_id" in fields:
        errors.append(
            f"when post_id is null then 'empty id (column ' || {_sql_str(repr(resolved['post_id']))} || ')'"
        )
    date_in = "null::varchar"
    if "created_at" in fields:
        date_in = f"gx_str({fields['created_at']})"
        date_col = _sql_str(repr(resolved["created_at"]))
        errors.append(f"when gx_date_in is null then 'empty created_at (column ' || {date_col} || ')'")
        errors.append(
            "when created_at is null then 'unparseable created_at ' || "
            f"left(to_json(gx_date_in)::varchar, 80) || ' (column ' || {date_col} || ')'"
        )
    error = "case " + " ".join(errors) + " end"
    plat = _sql_str(platform)
    return (
        f"""
        {plat} || ':' || {post_id} as post_uid,
        {plat} as platform,
        {post_id} as post_id,
        {created} as created_at,
        {col("author_id")} as author_id,
        {handle} as author_handle,
        {text} as text,
        {col("lang_declared")} as lang_declared,
        {kind} as kind,
        {reply_to} as reply_to_id,
        {col("thread_id")} as thread_id,
        {col("repost_of_id")} as repost_of_id,
        {col("quote_of_id")} as quote_of_id,
        {col("url")} as url,
        {counted("like_count")} as like_count,
        {counted("share_count")} as share_count,
        {counted("reply_count")} as reply_count,
        {counted("view_count")} as view_count,
        {listed("hashtags", "#", "gx_hashtags")} as hashtags,
        {listed("mentions", "@", "gx_mentions")} as mentions,
        {listed("links", "", "gx_links")} as links,
        {media} as media_count,
        {raw} as raw,
        {date_in} as gx_date_in""",
        error,
    )


def _connect(tmpdir: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set temp_directory = {_sql_str(tmpdir)}")
    for macro in _MACROS:
        con.execute(macro)
    return con


def _split(mapped: pa.Table, records: np.ndarray) -> AdapterChunk:
    """Posts and quarantined rows of one mapped chunk (``records`` = their source_record values)."""
    mapped = mapped.append_column("source_record", pa.array(records, pa.int64()))
    if mapped.column("error").null_count == mapped.num_rows:
        posts, quarantined = mapped, mapped.slice(0, 0)
    else:
        # DuckDB hands over many small batches; filtering them one by one is slow.
        mapped = mapped.combine_chunks()
        bad = pc.is_valid(mapped.column("error"))
        posts, quarantined = mapped.filter(pc.invert(bad)), mapped.filter(bad)
    return AdapterChunk(
        posts=conform(posts.drop_columns(["error"])),
        quarantine=_quarantine(
            quarantined.column("source_record"), quarantined.column("raw"), quarantined.column("error")
        ),
    )


def _quarantine(records: Any, raw: Any, error: Any) -> pa.Table:
    """A quarantine table, ``raw`` cut to the lake's limit (a malformed record can be huge)."""
    raw = pc.utf8_slice_codeunits(raw, 0, QUARANTINE_RAW_MAX_CHARS)
    table = pa.table({"source_record": records, "raw": raw, "error": error})
    return conform(table, QUARANTINE_ADAPTER_SCHEMA)


# --------------------------------------------------------------------------------------------------
# CSV / TSV


def _detect_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier (tab, then comma)
    return best if counts[best] else ","


def _parse_header(text: str, delimiter: str, quote: str = '"') -> list[str]:
    reader = csv.reader(
        io.StringIO(text),
        delimiter=delimiter,
        quotechar=quote or None,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    try:
        return [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        return []


def _delimiter_option(value: Any) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(str(value).lower(), str(value))
    if len(value) != 1:
        raise ValueError(f"option 'delimiter' must be one character (or tab/comma/...), got {value!r}")
    return value


def _read_csv(source: Source, head: bytes, options: dict[str, Any], platform: str) -> Iterator[AdapterChunk]:
    head_text = head.decode("utf-8", "replace")
    first_line = head_text.lstrip("\r\n").splitlines()[0] if head_text.strip() else ""
    delimiter = (
        _delimiter_option(options["delimiter"]) if options.get("delimiter") else _detect_delimiter(first_line)
    )
    quote = options.get("quote", '"')
    header = _parse_header(head_text, delimiter, quote)
    if not header or not any(header):
        raise ValueError(f"{source.name}: no CSV header line")
    # Unique names for DuckDB; the original names stay the keys of ``raw``.
    names: list[str] = []
    for h in header:
        name, n = h or "column", 1
        while name in names:
            n += 1
            name = f"{h or 'column'}_{n}"
        names.append(name)
    resolved = _resolve(names, options, source.name, allow_paths=False)
    idents = {name: f"c{i}" for i, name in enumerate(names)}
    sources = {canonical: idents[col] for canonical, col in resolved.items()}
    raw = "json_object(" + ", ".join(f"{_sql_str(n)}, {idents[n]}" for n in names) + ")::varchar"
    columns = "{" + ", ".join(f"'{idents[n]}': 'VARCHAR'" for n in names) + "}"

    tmpdir = tempfile.mkdtemp(prefix="discourse-generic-")
    con = _connect(tmpdir)
    try:
        # Checked on DuckDB 2.0: with strict_mode and store_rejects, reject_errors.line is the record's
        # ordinal (header = 1; a quoted multi-line record counts once) and good rows keep file order.
        # Keep the parallel reader: with parallel = false an unterminated quote drops the rest of the
        # file without a reject.
        with source.local_file() as (path, compression):
            quote_sql = _sql_str(quote) if quote else "''"
            con.execute(
                f"""create temp table rows as select * from read_csv({_sql_str(str(path))},
                    columns = {columns}, header = true, auto_detect = false, delim = {_sql_str(delimiter)},
                    quote = {quote_sql}, escape = {quote_sql}, strict_mode = true,
                    compression = {_sql_str(compression)}, max_line_size = {MAX_CSV_LINE_BYTES},
                    buffer_size = {4 * MAX_CSV_LINE_BYTES}, store_rejects = true,
                    rejects_table = 'gx_rejects', rejects_scan = 'gx_scans',
                    rejects_line_size_limit = {REJECT_LINE_CHARS})"""
            )
        rejects = con.sql(
            """select line - 1 as record, string_agg(distinct lower(error_type::varchar) || ': '
                   || error_message, '; ') as error, first(csv_line) as raw
               from gx_rejects group by line order by line"""
        ).to_arrow_table()
        # Good rows fill the record ordinals the rejects leave free, in file order: the k-th good row
        # (0-based) is record k + 1 + (number of rejects whose free-slot index g_j <= k).
        reject_records = rejects.column("record").to_numpy().astype(np.int64)
        free_before = reject_records - np.arange(1, len(reject_records) + 1)
        total = con.sql("select count(*) from rows").fetchall()[0][0]

        first = True
        for start in range(0, max(total, 1), CHUNK_ROWS):
            query = _mapping_query(
                sources,
                resolved,
                raw,
                "rowid",
                f"rows where rowid >= {start} and rowid < {start + CHUNK_ROWS}",
                platform,
                options,
            )
            mapped = con.sql(query).to_arrow_table()
            k = mapped.column("gx_key").to_numpy().astype(np.int64)
            records = k + 1 + np.searchsorted(free_before, k, side="right")
            chunk = _split(mapped.drop_columns(["gx_key"]), records)
            if first and rejects.num_rows:
                malformed = _quarantine(
                    rejects.column("record").cast(pa.int64()),
                    rejects.column("raw"),
                    pc.binary_join_element_wise("malformed CSV record: ", rejects.column("error"), ""),
                )
                chunk.quarantine = pa.concat_tables([malformed, chunk.quarantine])
            first = False
            yield chunk
    finally:
        con.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# JSONL


def _read_jsonl(source: Source, options: dict[str, Any], platform: str) -> Iterator[AdapterChunk]:
    tmpdir = tempfile.mkdtemp(prefix="discourse-generic-")
    con = _connect(tmpdir)
    try:
        query: str | None = None
        emitted = False
        for lines, bad in framed(source, JSONL_BLOCK_BYTES):
            # the lines not UTF-8 go with the part of the block they are in
            line_nos = lines.column("line_no").to_numpy()
            bad_part = np.searchsorted(line_nos[CHUNK_ROWS::CHUNK_ROWS], [n for n, _ in bad], side="right")
            for part_no, offset in enumerate(range(0, max(lines.num_rows, 1), CHUNK_ROWS)):
                con.register("gx_lines", lines.slice(offset, CHUNK_ROWS))
                con.execute(
                    """create or replace temp table gx_parsed as
                       with d as (select line_no as lineno, line as s from gx_lines)
                       select lineno, s as j, case
                           when trim(s, ' \t' || chr(13) || chr(10)) = '' then 'blank'
                           when not json_valid(s) then 'invalid JSON'
                           when json_type(s) <> 'OBJECT'
                               then 'not a JSON object (' || lower(json_type(s)) || ')'
                           end as line_error
                       from d"""
                )
                con.unregister("gx_lines")
                good, blank = con.sql(
                    """select count(*) filter (where line_error is null),
                              count(*) filter (where line_error = 'blank') from gx_parsed"""
                ).fetchall()[0]
                if query is None and good:
                    keys = con.sql(
                        """select distinct unnest(json_keys(j)) as key from
                           (select j from gx_parsed where line_error is null limit 10000)"""
                    ).fetchall()
                    resolved = _resolve(sorted(k[0] for k in keys), options, source.name, True)
                    _author_inside_object(con, resolved, options)
                    # One JSON parse per line: extract every mapped path at once, then index the list.
                    paths = ", ".join(_sql_str(_json_path(col)) for col in resolved.values())
                    sources = {canonical: f"gx_vals[{i}]" for i, canonical in enumerate(resolved, 1)}
                    query = _mapping_query(
                        sources,
                        resolved,
                        "j",
                        "lineno",
                        f"""(select lineno, j, json_extract_string(j, [{paths}]) as gx_vals
                             from gx_parsed where line_error is null)""",
                        platform,
                        options,
                    )
                if good and query is not None:
                    mapped = con.sql(query).to_arrow_table()
                    chunk = _split(mapped.drop_columns(["gx_key"]), mapped.column("gx_key").to_numpy())
                else:
                    chunk = empty_chunk()
                if blank:
                    chunk.skipped["blank_line"] = int(blank)
                broken = con.sql(
                    """select lineno, j, line_error from gx_parsed
                       where line_error is not null and line_error <> 'blank' order by lineno"""
                ).to_arrow_table()
                broken = _quarantine(broken.column("lineno"), broken.column("j"), broken.column("line_error"))
                broken = add_bad_utf8(broken, [b for b, p in zip(bad, bad_part, strict=True) if p == part_no])
                if broken.num_rows:
                    chunk.quarantine = pa.concat_tables([broken, chunk.quarantine])
                emitted = True
                yield chunk
        if not emitted:
            yield empty_chunk()
    finally:
        con.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


AUTHOR_SUBKEYS = ("screen_name", "username", "handle", "login", "name", "id")


def _author_inside_object(
    con: duckdb.DuckDBPyConnection, resolved: dict[str, str], options: dict[str, Any]
) -> None:
    """An author matched by name whose value is an object (``"user": {"screen_name": ...}``) is read
    from the first of ``AUTHOR_SUBKEYS`` it has, rather than kept as JSON text."""
    col = resolved.get("author_id")
    mapped = {FIELD_ALIASES[k] for k in (options.get("map") or {})}
    if col is None or col.startswith("$") or "author_id" in mapped:
        return
    path = _sql_str(_json_path(col))
    subkeys = {
        r[0]
        for r in con.sql(
            f"""select distinct unnest(json_keys(j, {path})) from
                (select j from gx_parsed where line_error is null limit 10000)
                where json_type(j, {path}) = 'OBJECT'"""
        ).fetchall()
    }
    for sub in AUTHOR_SUBKEYS:
        if sub in subkeys:
            resolved["author_id"] = _json_path(col) + "." + _json_path(sub)[2:]
            return


def _json_path(col: str) -> str:
    if col.startswith("$"):
        return col
    return '$."' + col.replace("\\", "\\\\").replace('"', '\\"') + '"'
