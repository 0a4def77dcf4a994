"""The generic adapter's SQL: the ``gx_*`` macros (run with the shared count macros: ``SETUP``) and the
query that maps a file's resolved columns onto the canonical ones (``mapping_query``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ingest.formats.common import COUNT_SQL, mention_targets_sql, sql_str
from ingest.schema import KINDS

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

MACROS = [
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
    # the shared count rules (an empty cell is null)
    """create or replace macro gx_count(v) as count_text(v, null)""",
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
        then regexp_extract_all(t, {sql_str(ENTITY_RE)}) else []::varchar[] end""",
    """create or replace macro gx_hashtags(e) as list_filter(
        list_transform(list_filter(e::varchar[], lambda x: x[1] = '#'), lambda x: substr(x, 2)),
        lambda x: regexp_matches(x, '[^0-9_]'))""",
    """create or replace macro gx_mentions(e) as list_transform(
        list_filter(e::varchar[], lambda x: x[1] = '@'), lambda x: substr(x, 2))""",
    """create or replace macro gx_links(e) as list_transform(
        list_filter(e::varchar[], lambda x: x[1] = 'h'), lambda x: rtrim(x, '.,;:!?)]}''"'))""",
    """create or replace macro gx_str(v) as nullif(trim(v), '')""",
]

SETUP = [COUNT_SQL, *MACROS]


def mapping_query(
    sources: dict[str, str],
    resolved: dict[str, str],
    raw: str,
    key: str,
    from_sql: str,
    platform: str,
    ingested_at: Callable[[], datetime],
) -> str:
    """SQL mapping ``from_sql`` onto the canonical columns, plus ``key`` and an ``error`` column.

    ``sources`` holds the SQL expression (a VARCHAR) of each resolved canonical column and ``raw`` the
    expression of the row as JSON text; both are evaluated once, in an inner select. Without a date
    column, every row's ``created_at`` is ``ingested_at()``.
    """
    inner = ", ".join(
        [f"{key} as gx_key", f"{raw} as gx_raw"]
        + [f"{expr} as f_{canonical}" for canonical, expr in sources.items()]
        + [f"gx_entities({sources['text']}) as gx_ents"]
    )
    fields = {canonical: f"f_{canonical}" for canonical in sources}
    select, error = _mapping_select(fields, resolved, "gx_raw", platform, ingested_at)
    # Three levels so each expression is evaluated once: source fields, canonical columns, error.
    return f"""select * exclude (gx_date_in), {error} as error from (
        select gx_key, {select} from (select {inner} from {from_sql}))"""


def _mapping_select(
    fields: dict[str, str],
    resolved: dict[str, str],
    raw: str,
    platform: str,
    ingested_at: Callable[[], datetime],
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
        stamp = ingested_at().astimezone(UTC).isoformat()
        created = f"timestamptz {sql_str(stamp)}"
    if "author_handle" in fields:
        handle = col("author_handle")
    else:
        handle = col("author_id")
    reply_to = col("reply_to_id")
    kinds = ", ".join(sql_str(k) for k in KINDS)
    if "kind" in fields:
        kind = f"""case
            when lower(trim({fields["kind"]})) in ({kinds}) then lower(trim({fields["kind"]}))
            when lower(trim({fields["kind"]})) in ('retweet', 'boost', 'share', 'forward') then 'repost'
            when {reply_to} is not null then 'reply' else 'post' end"""
    else:
        kind = f"case when {reply_to} is not null then 'reply' else 'post' end"

    def listed(name: str, sigil: str, extract: str) -> str:
        if name in fields:
            return f"gx_list({fields[name]}, {sql_str(sigil)})"
        return f"{extract}(gx_ents)"

    # a mentions column states handles; mentions read from the text are not stated structure
    targets = (
        mention_targets_sql(
            f"list_transform(gx_list({fields['mentions']}, '@'), "
            "lambda gx_h: {'id': cast(null as varchar), 'handle': nullif(gx_h, '')})"
        )
        if "mentions" in fields
        else "cast([] as struct(id varchar, handle varchar)[])"
    )
    media = (
        f"try_cast(gx_count({fields['media_count']}) as integer)"
        if "media_count" in fields
        else "null::integer"
    )
    errors = [
        "when text is null or trim(text) = '' then 'empty text (column ' || "
        f"{sql_str(repr(resolved['text']))} || ')'"
    ]
    if "post_id" in fields:
        errors.append(
            f"when post_id is null then 'empty id (column ' || {sql_str(repr(resolved['post_id']))} || ')'"
        )
    date_in = "null::varchar"
    if "created_at" in fields:
        date_in = f"gx_str({fields['created_at']})"
        date_col = sql_str(repr(resolved["created_at"]))
        errors.append(f"when gx_date_in is null then 'empty created_at (column ' || {date_col} || ')'")
        errors.append(
            "when created_at is null then 'unparseable created_at ' || "
            f"left(to_json(gx_date_in)::varchar, 80) || ' (column ' || {date_col} || ')'"
        )
    error = "case " + " ".join(errors) + " end"
    plat = sql_str(platform)
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
        {col("reply_to_author_id")} as reply_to_author_id,
        {col("repost_of_author_id")} as repost_of_author_id,
        {col("quote_of_author_id")} as quote_of_author_id,
        {targets} as mention_targets,
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
