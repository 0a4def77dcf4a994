"""What the export formats share. A format imports these from here, never from another format.

* **BOM**: ``strip_bom`` / ``strip_bom_text`` drop one leading UTF-8 byte order mark (``ingest.lines``
  drops it from line-oriented files the same way).
* **Counts** as exports show them (``"1.2K"``, ``"1,234"``, ``"3,4 rb"``, ``"2 jt"``) or as JSON numbers:
  ``parse_count`` in Python and the DuckDB macros in ``COUNT_SQL`` (``count_value``, ``count_text``)
  apply the same rules, and ``tests/adapters/test_common.py`` holds them to it on a table of inputs:

  - a number (a JSON or Python number): its integer part;
  - text: whitespace (space, tab, CR, LF, FF, no-break space) anywhere and letter case are ignored;
    blank text is ``blank`` (``0`` where an export shows nothing for none, as YouTube does; ``None``
    for an empty table cell);
  - an optional ``-``, digits with ``.``/``,`` separators, an optional multiplier suffix (``k``,
    ``rb``, ``ribu`` = 10^3; ``m``, ``jt``, ``juta``, ``mln`` = 10^6; ``b``, ``bn``, ``miliar`` = 10^9)
    and an optional final ``.``;
  - without a suffix, a whole number (no separator, or groups of three digits after each one:
    ``"1,234"``, ``"1.234.567"``) loses its separators; otherwise the one separator is a decimal point
    and the value is rounded half away from zero (``"1.5"`` → 2);
  - with a suffix, the one separator (if any) is a decimal point: ``"1,5K"`` → 1500;
  - anything else, and anything outside BIGINT, is ``None``.
* **SQL helpers** for building DuckDB statements: ``sql_str``, ``sql_type`` (a ``from_json``
  structure), ``unescape_sql``, ``TEXT_URLS_SQL``, ``distinct_sql``, ``append_new_sql``, ``union_sql``
  and the ``distinct_small`` macro (in ``LIST_SQL``).
* **Quarantine SQL**: ``quarantine_sql`` builds the query of a chunk's quarantined records
  (``source_record``, ``raw`` cut to ``QUARANTINE_RAW_MAX_CHARS``, ``error``) from ``Rejects`` parts,
  with the shared messages (``INVALID_JSON``, ``not_an_object_sql``); ``quarantine_raw`` is the same
  cut for formats mapped in Python.
* **Mention targets** (``mention_targets`` in Python, ``mention_targets_sql`` in DuckDB SQL): the
  accounts a post mentions as ``{id, handle}`` (the platform's user id and/or the handle, as the export
  states them), without empty items and deduplicated by id, else by lower-cased handle.
* **Sniffing** JSON lines (``sniff_json_lines``) and compact JSON (``dumps``).
* **Hostile JSON**: ``loads`` parses JSON text with a nesting limit (``JSONTooDeep``, a ``ValueError``,
  instead of a ``RecursionError`` from Python's recursive parser); every JSON parse in Python goes
  through it (``source.limits.max_json_depth`` where a source is at hand).
* **Formats mapped in Python**: ``gc_paused`` and ``gc_paused_iter`` keep the cyclic garbage collector
  from walking a parsed export's millions of objects over and over while it is parsed and mapped.
"""

from __future__ import annotations

import gc
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ingest.schema import QUARANTINE_RAW_MAX_CHARS

# --------------------------------------------------------------------------------------------------
# Byte order mark
# --------------------------------------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"
TEXT_BOM = "\ufeff"


def strip_bom(data: bytes) -> bytes:
    """``data`` without one leading UTF-8 byte order mark."""
    return data.removeprefix(UTF8_BOM)


def strip_bom_text(text: str) -> str:
    """``text`` without one leading byte order mark (U+FEFF)."""
    return text.removeprefix(TEXT_BOM)


# --------------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------------

COUNT_MULTIPLIERS: dict[str, int] = {
    "": 1,
    "k": 1_000, "rb": 1_000, "ribu": 1_000,
    "m": 1_000_000, "jt": 1_000_000, "juta": 1_000_000, "mln": 1_000_000,
    "b": 1_000_000_000, "bn": 1_000_000_000, "miliar": 1_000_000_000,
}
_COUNT_NUMBER = r"-?[0-9]+(?:[.,][0-9]+)*"
_COUNT_SUFFIX = "|".join(k for k in COUNT_MULTIPLIERS if k)
COUNT_PATTERN = f"({_COUNT_NUMBER})({_COUNT_SUFFIX})?\\.?"
# a number without suffix whose separators group thousands (or that has none)
WHOLE_COUNT_PATTERN = r"-?(?:[0-9]+|[0-9]{1,3}(?:[.,][0-9]{3})+)"
_COUNT = re.compile(COUNT_PATTERN)
_WHOLE_COUNT = re.compile(WHOLE_COUNT_PATTERN)
_COUNT_SPACE = re.compile("[\t\n\f\r \u00a0]")
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def _bigint(n: int) -> int | None:
    return n if _BIGINT_MIN <= n <= _BIGINT_MAX else None


def _round_half_away(x: float) -> int | None:
    """``x`` rounded half away from zero, as DuckDB's ``round`` does (``None`` if not finite)."""
    if not math.isfinite(x):
        return None
    a = abs(x)
    r = math.floor(a)
    if a - r >= 0.5:
        r += 1
    return -r if x < 0 else r


def parse_count(value: Any, blank: int | None = None) -> int | None:
    """A count from an export (see the module docstring); ``blank`` is what blank text means."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _bigint(value)
    if isinstance(value, float):
        return _bigint(math.trunc(value)) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    if value.isascii() and value.isdigit():  # the commonest count text: what the rules below give it
        return _bigint(int(value))
    s = _COUNT_SPACE.sub("", value)
    if not s:
        return blank
    m = _COUNT.fullmatch(s.lower())
    if m is None:
        return None
    number, suffix = m.group(1), m.group(2) or ""
    if not suffix and _WHOLE_COUNT.fullmatch(number):
        return _bigint(int(number.replace(",", "").replace(".", "")))
    try:
        x = float(number.replace(",", ".")) * COUNT_MULTIPLIERS[suffix]
    except ValueError:  # two or more decimal separators
        return None
    n = _round_half_away(x)
    return None if n is None else _bigint(n)


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


_MULTIPLIER_CASES = " ".join(f"when {sql_str(k)} then {v}" for k, v in COUNT_MULTIPLIERS.items())
_COUNT_SPACE_SQL = "chr(9) || chr(10) || chr(12) || chr(13) || ' ' || chr(160)"

# ``count_value(v, t, blank)``: ``v`` a JSON value as text (``x ->> '$'``), ``t`` its ``json_type``;
# ``count_text(v, blank)``: a text. Both follow ``parse_count``. Each intermediate value is bound once
# through a one-item ``list_transform``: a macro argument used n times is n copies of its expression,
# and binding those (regular expressions compiled each time) cost more than mapping a block.
# ``count_text`` first answers the two commonest texts without the regular expressions, with what
# they would give: ``""`` (blank) and plain ASCII digits (their value, null past BIGINT).
COUNT_SQL = f"""
create or replace macro count_text_parsed(v, blank) as list_transform(
    [lower(translate(v, {_COUNT_SPACE_SQL}, ''))],
    lambda s: case when s = '' then blank else list_transform(
        [regexp_extract(s, {sql_str("^" + COUNT_PATTERN + "$")}, ['num', 'suf'])],
        lambda p: case
            when p.num = '' then null
            when p.suf = '' and regexp_full_match(p.num, {sql_str(WHOLE_COUNT_PATTERN)})
                then try_cast(replace(replace(p.num, '.', ''), ',', '') as bigint)
            else try_cast(round(try_cast(replace(p.num, ',', '.') as double)
                                * case p.suf {_MULTIPLIER_CASES} end) as bigint)
        end)[1] end)[1];
create or replace macro count_text(v, blank) as case
    when v = '' then blank
    when regexp_full_match(v, '[0-9]+') then try_cast(v as bigint)
    else count_text_parsed(v, blank) end;
create or replace macro count_value(v, t, blank) as case
    when t in ('UBIGINT', 'BIGINT') then try_cast(v as bigint)
    when t = 'DOUBLE' then try_cast(trunc(try_cast(v as double)) as bigint)
    when t = 'VARCHAR' then count_text(v, blank)
end;
"""

# --------------------------------------------------------------------------------------------------
# SQL helpers
# --------------------------------------------------------------------------------------------------


def sql_type(structure: Any) -> str:
    """A DuckDB ``from_json`` structure literal."""
    return sql_str(json.dumps(structure, separators=(",", ":")))


def unescape_sql(expr: str) -> str:
    """``expr`` with the three HTML entities X and Reddit escape (``&lt;``, ``&gt;``, ``&amp;``) undone."""
    return f"replace(replace(replace({expr}, '&lt;', '<'), '&gt;', '>'), '&amp;', '&')"


# URLs in free text (RE2): up to whitespace or a closing bracket/quote, minus trailing punctuation.
TEXT_URLS_SQL = (
    "list_transform(regexp_extract_all({t}, 'https?://[^\\s<>\"\\)\\]]+'), lambda u: rtrim(u, '.,;:!?''*'))"
)


def distinct_sql(a: str) -> str:
    """The items of list ``a`` without repeats, in first-seen order."""
    return f"list_filter({a}, lambda x, i: list_position({a}, x) = i)"


def append_new_sql(a: str, b: str) -> str:
    """``a`` then the items of ``b`` not in ``a`` (repeats within ``a`` or within ``b`` stay)."""
    return f"list_concat({a}, list_filter({b}, lambda x: not list_contains({a}, x)))"


def union_sql(a: str, b: str) -> str:
    """``a`` then the items of ``b`` not already in ``a`` (order-preserving; both deduplicated)."""
    return append_new_sql(distinct_sql(a), distinct_sql(b))


# ``distinct_small(l)``: ``distinct_sql``; the lambda is costly, so only lists that can hold a repeat get it
LIST_SQL = f"""
create or replace macro distinct_small(l) as case when len(l) < 2 then l else {distinct_sql("l")} end;
"""


def _clean_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def mention_targets(pairs: Iterable[tuple[Any, Any]]) -> list[dict[str, str | None]]:
    """``(user id, handle)`` pairs → ``mention_targets`` items ``{"id", "handle"}``: ids as strings
    (an integer id too), a handle without its leading ``@``; pairs with neither are left out, and a
    target already listed (same id, or same lower-cased handle when it has no id) is not repeated."""
    out: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for uid, handle in pairs:
        uid = _clean_id(uid)
        handle = handle.strip().lstrip("@").strip() or None if isinstance(handle, str) else None
        if uid is None and handle is None:
            continue
        key = f"i:{uid}" if uid is not None else f"h:{handle.lower()}"  # type: ignore[union-attr]
        if key in seen:
            continue
        seen.add(key)
        out.append({"id": uid, "handle": handle})
    return out


def mention_targets_sql(items: str) -> str:
    """SQL: the list of ``{id, handle}`` structs ``items`` (a column or an expression of one) without
    items that have neither and deduplicated as ``mention_targets`` does, in first-seen order. The
    items must already have empty strings turned into nulls."""
    # lambda parameters named so that no table or column of the caller's query shadows them
    key = "coalesce('i:' || {v}.id, 'h:' || lower({v}.handle))"
    return (
        f"list_filter(list_filter({items}, lambda mt_m: mt_m.id is not null or mt_m.handle is not null), "
        f"lambda mt_m, mt_i: list_position(list_transform(list_filter({items}, "
        f"lambda mt_p: mt_p.id is not null or mt_p.handle is not null), "
        f"lambda mt_p: {key.format(v='mt_p')}), "
        f"{key.format(v='mt_m')}) = mt_i)"
    )


# --------------------------------------------------------------------------------------------------
# Quarantine
# --------------------------------------------------------------------------------------------------

INVALID_JSON = "invalid JSON (malformed or truncated line)"


def not_an_object_sql(what: str, json_type: str) -> str:
    """The error for a JSON value that is no object: ``not a <what>: a JSON <type>, not an object``."""
    return f"{sql_str(f'not a {what}: a JSON ')} || lower({json_type}) || ', not an object'"


def case_sql(column: str, cases: Mapping[str, str], default: str | None = None) -> str:
    """``case <column> when '<key>' then <expr> ... [else <default>] end``."""
    whens = " ".join(f"when {sql_str(k)} then {v}" for k, v in cases.items())
    return f"case {column} {whens}" + (f" else {default}" if default is not None else "") + " end"


@dataclass(frozen=True)
class Rejects:
    """Quarantined records from one table of a chunk: the rows of ``table`` where ``where`` holds,
    with ``error`` (a SQL expression). ``record`` and ``raw`` name the position and the original
    record; ``extra`` adds select items (a sort key, say) that every part then must have."""

    table: str
    where: str
    error: str
    record: str = "line_no"
    raw: str = "line"
    extra: str = ""


def quarantine_sql(*parts: Rejects, order_by: str = "source_record") -> str:
    """The query of a chunk's quarantined records, ``(source_record, raw, error)``, from ``parts``."""
    selects = [
        f"select {p.record} as source_record, left({p.raw}, {QUARANTINE_RAW_MAX_CHARS}) as raw, "
        f"{p.error} as error{', ' + p.extra if p.extra else ''}\nfrom {p.table}\nwhere {p.where}"
        for p in parts
    ]
    return "\nunion all\n".join(selects) + f"\norder by {order_by}\n"


# what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` builds on every call, built once
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept."""
    return _COMPACT.encode(value)


def quarantine_raw(raw: Any) -> str:
    """What the quarantine keeps of a record mapped in Python: a text as it is, anything else as
    compact JSON, cut to ``QUARANTINE_RAW_MAX_CHARS``."""
    return (raw if isinstance(raw, str) else dumps(raw))[:QUARANTINE_RAW_MAX_CHARS]


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------


DEFAULT_JSON_DEPTH = 256


class JSONTooDeep(ValueError):
    """JSON nested deeper than the limit: quarantined as a record, refused as a document."""


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of arrays and objects in ``text`` (strings left out).

    Vectorised with numpy: a quote opens or closes a string unless an odd run of backslashes precedes
    it, and only brackets outside strings count. The quotes and brackets are picked out first (slice by
    slice), and the rest works on them alone, in text order. Text where that reading could differ from
    a left-to-right scan (an escaped quote outside a string, an unterminated string, a closing bracket
    first, no bracket: none of them valid JSON) is measured by the scan itself, ``_json_depth_scan``,
    so the result is always the scan's."""
    import numpy as np

    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    data = np.frombuffer(text, dtype=np.uint8)
    n = len(data)
    # escaped quotes: the quotes after a backslash whose run of backslashes is odd
    after = np.flatnonzero(data[:-1] == 0x5C) + 1 if n > 1 else np.empty(0, dtype=np.int64)
    cand = after[data[after] == 0x22]
    run = np.ones(len(cand), dtype=np.int64)
    active = np.arange(len(cand))
    while len(active):
        at = cand[active] - run[active] - 1
        active = active[at >= 0]
        active = active[data[cand[active] - run[active] - 1] == 0x5C]
        run[active] += 1
    escaped_at = cand[run % 2 == 1]
    # the positions of quotes and brackets, in order
    step_bytes = 1 << 22
    index = np.int32 if n < 1 << 31 else np.int64
    parts = []
    for lo in range(0, n, step_bytes):
        part = data[lo : lo + step_bytes]
        marked = (part == 0x22) | (part == 0x7B) | (part == 0x5B) | (part == 0x7D) | (part == 0x5D)
        parts.append(np.flatnonzero(marked).astype(index) + index(lo))
    events = np.concatenate(parts) if parts else np.empty(0, dtype=index)
    marks = data[events]
    quote = (marks == 0x22).view(np.uint8)
    escaped = np.searchsorted(events, escaped_at)  # escaped quotes are among the events
    if len(escaped):
        quote = quote.copy()
        quote[escaped] = 0
    # inside a string after each event (a wrapping uint8 count keeps its parity)
    inside = np.cumsum(quote, dtype=np.uint8) & 1
    if len(escaped) and not inside[escaped].all():
        return _json_depth_scan(text)  # an escaped quote outside a string
    if len(inside) and inside[-1]:
        return _json_depth_scan(text)  # an unterminated string
    brackets = marks[(quote == 0) & (inside == 0)]  # escaped quotes are inside strings: none here
    step = (brackets == 0x7B).view(np.int8) + (brackets == 0x5B) - (brackets == 0x7D) - (brackets == 0x5D)
    if not len(step) or step[0] < 0:
        return _json_depth_scan(text)  # no bracket at all, or a closing bracket first
    return int(np.cumsum(step, dtype=np.int64).max())


def _json_depth_scan(text: bytes) -> int:
    """``json_depth`` by a left-to-right scan: strings cut out, then the running bracket count."""
    import numpy as np

    bare = _JSON_STRING_B.sub(b"", text)
    data = np.frombuffer(bare, dtype=np.uint8)
    step = (data == 0x7B).astype(np.int32) + (data == 0x5B) - (data == 0x7D) - (data == 0x5D)
    return int(np.cumsum(step).max()) if len(step) else 0


_JSON_STRING_B = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


# JSON texts longer than this are parsed with the cyclic garbage collector paused (``gc_paused``)
LARGE_JSON_CHARS = 1 << 20


def loads(text: str | bytes, max_depth: int = DEFAULT_JSON_DEPTH) -> Any:
    """``json.loads`` that raises ``JSONTooDeep`` for JSON nested deeper than ``max_depth``."""
    if isinstance(text, str):
        opens = text.count("{") + text.count("[")
    else:
        opens = text.count(b"{") + text.count(b"[")
    if opens > max_depth and json_depth(text) > max_depth:
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels (ingest_max_json_depth)")
    try:
        if len(text) > LARGE_JSON_CHARS:
            with gc_paused():
                return json.loads(text)
        return json.loads(text)
    except RecursionError as exc:
        raise JSONTooDeep(f"JSON nested too deep for the parser (over {max_depth} levels)") from exc


# --------------------------------------------------------------------------------------------------
# Formats mapped in Python: the garbage collector
# --------------------------------------------------------------------------------------------------

_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False
_T = TypeVar("_T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a format parses or maps a whole export in Python.

    A parsed export is millions of dicts and lists, and every collection walks all of them: on a
    Telegram export that took half the mapping time, to find nothing (parsed JSON and the mapped
    columns hold no reference cycles). Reference counting still frees everything as usual. Pauses
    nest and may overlap between threads; collection resumes (if it was on) when the last one ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def gc_paused_iter(items: Iterable[_T]) -> Iterator[_T]:
    """``items``, each produced with the garbage collector paused (``gc_paused``), and the consumer's
    code between them run without the pause: for an adapter's ``read`` mapping in Python."""
    it = iter(items)
    while True:
        with gc_paused():
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


MAPPING_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError, RecursionError)


def map_safely(
    fn: Callable[..., None],
    reject: Callable[[int, Any, str], None],
    record: int,
    item: Any,
    *args: Any,
    columns: Mapping[str, list[Any]] | None = None,
) -> None:
    """``fn(record, item, *args)``, for formats mapped in Python: a record whose values have types the
    mapping does not expect (a list where a string belongs, say) is quarantined alone, with the
    reason, instead of failing the file. ``columns``: the column lists ``fn`` appends to, cut back to
    where they were so a half-mapped record leaves nothing behind."""
    marks = list(map(len, columns.values())) if columns is not None else None
    try:
        fn(record, item, *args)
    except MAPPING_ERRORS as exc:
        if marks is not None and columns is not None:
            for values, n in zip(columns.values(), marks, strict=True):
                del values[n:]
        reject(record, item, f"malformed record ({type(exc).__name__}: {exc})"[:300])


def sniff_json_lines(
    head: bytes, is_record: Callable[[Any], bool], hints: Sequence[re.Pattern[str]], lines: int = 20
) -> bool:
    """Whether ``head`` starts JSON lines of a format: most of its first ``lines`` complete lines that
    parse are records (``is_record``), so a malformed or odd record among them does not decide. A head
    that is one long line cut off is judged by its start: an object in which every one of ``hints``
    is found."""
    text = strip_bom(head).decode("utf-8", "replace")
    *complete, tail = text.split("\n")
    seen = other = 0
    for line in complete[:lines]:
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except ValueError:
            continue
        if is_record(obj):
            seen += 1
        else:
            other += 1
    if seen or other:
        return seen > other
    stripped = tail.lstrip()
    return stripped.startswith("{") and all(h.search(stripped) for h in hints)
