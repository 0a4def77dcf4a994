"""Generic CSV, TSV and JSONL: any tool's output or a labelled set, through a column mapping.

Options (declared in ``options.py``; ``discourse ingest --format generic`` passes them through):

- ``map``: canonical field → source column, e.g. ``{"id": "tweet_id", "text": "content",
  "created_at": "date", "author": "user", "lang": "language", "url": "link"}``. Canonical fields:
  ``id``/``post_id``, ``text``, ``created_at``, ``author``/``author_id``, ``author_handle``,
  ``lang``/``lang_declared``, ``url``, ``kind``, ``reply_to_id``, ``thread_id``, ``repost_of_id``,
  ``quote_of_id``, ``reply_to_author_id``, ``repost_of_author_id``, ``quote_of_author_id`` (the user
  id of the replied-to / reposted / quoted post's author, in the same id space as ``author``),
  ``like_count``, ``share_count``, ``reply_count``, ``view_count``, ``hashtags``,
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
- Counts accept ``1.2K``, ``3,4 rb``, ``2 jt``, ``1,234`` (the shared count rules of
  ``ingest.formats.common``); an empty or unreadable count becomes null.
- ``hashtags``/``mentions``/``links`` columns may hold a JSON array or a list separated by spaces,
  commas, semicolons or pipes; when not mapped they are extracted from the text (``#tag``, ``@user``,
  ``http(s)://`` URLs), without the ``#``/``@`` sigils. ``mention_targets`` (handles only) come from a
  ``mentions`` column alone: an ``@`` in free text is not the export stating a mention.
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

from ingest.formats.common import loads, sql_str, strip_bom
from ingest.formats.generic.options import FIELD_ALIASES
from ingest.formats.generic.sql import SETUP, mapping_query
from ingest.lines import add_bad_utf8, empty_chunk, framed
from ingest.registry import Adapter, AdapterChunk, register
from ingest.schema import PLATFORMS, QUARANTINE_ADAPTER_SCHEMA, QUARANTINE_RAW_MAX_CHARS, conform
from ingest.sources import Source

CHUNK_ROWS = 100_000
JSONL_BLOCK_BYTES = 32 << 20
MAX_CSV_LINE_BYTES = 8 << 20  # longer records are quarantined ("line size over maximum")
REJECT_LINE_CHARS = 64 * 1024

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
    "reply_to_author_id": ("reply_to_author_id", "in_reply_to_user_id", "in_reply_to_user_id_str"),
    "repost_of_author_id": ("repost_of_author_id",),
    "quote_of_author_id": ("quote_of_author_id",),
    "hashtags": ("hashtags",),
    "mentions": ("mentions",),
    "links": ("links", "urls"),
}
TEXT_NAMES = frozenset(AUTO_NAMES["text"])

_DELIMITERS = ("\t", ",", ";", "|")


@register
class GenericAdapter(Adapter):
    name = "generic"
    platform = "generic"
    platforms = PLATFORMS  # the ``platform`` option picks one
    priority = 1000
    description = "CSV, TSV or JSONL with a column mapping (id, text, created_at, author, lang, url, ...)"

    def sniff(self, head: bytes) -> bool:
        text = strip_bom(head).decode("utf-8", "replace")
        stripped = text.lstrip()
        if not stripped:
            return False
        first = stripped.splitlines()[0]
        if stripped[0] in "{[":
            try:
                obj = loads(first)
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
        head = strip_bom(source.head())
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






def _connect(tmpdir: str) -> duckdb.DuckDBPyConnection:
    # One thread: a file's statements are small enough that more threads cost CPU (scheduling the
    # CSV scan and the mapping across threads) more than they save in wall time.
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set temp_directory = {sql_str(tmpdir)}")
    for statement in SETUP:
        con.execute(statement)
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


def _read_csv_table(con: duckdb.DuckDBPyConnection, source: Source, statement: str) -> None:
    """Run the ``read_csv`` statement; a file DuckDB's CSV reader cannot get through at all (its state
    machine stops, e.g. on line ends that change from CRLF to LF) is refused as a whole, with why."""
    try:
        con.execute(statement)
    except duckdb.InvalidInputException as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0]
        raise ValueError(f"{source.name}: CSV cannot be read as a whole ({first})") from exc


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
    raw = "json_object(" + ", ".join(f"{sql_str(n)}, {idents[n]}" for n in names) + ")::varchar"
    columns = "{" + ", ".join(f"'{idents[n]}': 'VARCHAR'" for n in names) + "}"

    tmpdir = tempfile.mkdtemp(prefix="discourse-generic-")
    con = _connect(tmpdir)
    try:
        # Checked on DuckDB 2.0: with strict_mode and store_rejects, reject_errors.line is the record's
        # ordinal (header = 1; a quoted multi-line record counts once) and good rows keep file order.
        # Keep the parallel reader: with parallel = false an unterminated quote drops the rest of the
        # file without a reject.
        with source.local_file() as (path, compression):
            quote_sql = sql_str(quote) if quote else "''"
            _read_csv_table(
                con,
                source,
                f"""create temp table rows as select * from read_csv({sql_str(str(path))},
                    columns = {columns}, header = true, auto_detect = false, delim = {sql_str(delimiter)},
                    quote = {quote_sql}, escape = {quote_sql}, strict_mode = true,
                    compression = {sql_str(compression)}, max_line_size = {MAX_CSV_LINE_BYTES},
                    buffer_size = {4 * MAX_CSV_LINE_BYTES}, store_rejects = true,
                    rejects_table = 'gx_rejects', rejects_scan = 'gx_scans',
                    rejects_line_size_limit = {REJECT_LINE_CHARS})"""
            )
        rejects = con.sql(
            # the reasons in a fixed order: one record can have several, in any order otherwise
            """select line - 1 as record, string_agg(distinct lower(error_type::varchar) || ': '
                   || error_message, '; ' order by lower(error_type::varchar) || ': ' || error_message)
                   as error, min(csv_line) as raw
               from gx_rejects group by line order by line"""
        ).to_arrow_table()
        # Good rows fill the record ordinals the rejects leave free, in file order: the k-th good row
        # (0-based) is record k + 1 + (number of rejects whose free-slot index g_j <= k).
        reject_records = rejects.column("record").to_numpy().astype(np.int64)
        free_before = reject_records - np.arange(1, len(reject_records) + 1)
        total = con.sql("select count(*) from rows").fetchall()[0][0]

        first = True
        for start in range(0, max(total, 1), CHUNK_ROWS):
            query = mapping_query(
                sources,
                resolved,
                raw,
                "rowid",
                f"rows where rowid >= {start} and rowid < {start + CHUNK_ROWS}",
                platform,
                lambda: _ingested_at(options),
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
            bad_part = np.searchsorted(line_nos[CHUNK_ROWS::CHUNK_ROWS], [b[0] for b in bad], side="right")
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
                    paths = ", ".join(sql_str(_json_path(col)) for col in resolved.values())
                    sources = {canonical: f"gx_vals[{i}]" for i, canonical in enumerate(resolved, 1)}
                    query = mapping_query(
                        sources,
                        resolved,
                        "j",
                        "lineno",
                        f"""(select lineno, j, json_extract_string(j, [{paths}]) as gx_vals
                             from gx_parsed where line_error is null)""",
                        platform,
                        lambda: _ingested_at(options),
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
    path = sql_str(_json_path(col))
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
