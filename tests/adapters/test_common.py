"""What the formats share (``ingest.formats.common``): one count parser in Python and in SQL that agree,
one BOM handling, one quarantine-SQL builder."""

from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.formats.common import (
    COUNT_SQL,
    INVALID_JSON,
    LIST_SQL,
    Rejects,
    json_depth,
    parse_count,
    quarantine_raw,
    quarantine_sql,
    sniff_json_lines,
    strip_bom,
    strip_bom_text,
)
from ingest.schema import QUARANTINE_RAW_MAX_CHARS

# (as shown, count with blank = None); blank text is the only input ``blank`` changes
COUNTS = [
    ("15", 15),
    ("0", 0),
    ("1.2K", 1200),
    ("1,5K", 1500),
    ("1.2k.", 1200),
    ("3M", 3_000_000),
    ("2B", 2_000_000_000),
    ("1,234", 1234),
    ("1.234", 1234),
    ("1.234.567", 1_234_567),
    ("12,345,678", 12_345_678),
    ("3,4 rb", 3400),
    ("12 rb", 12_000),
    ("5 ribu", 5000),
    ("1,1 jt", 1_100_000),
    (" 1,1 JT ", 1_100_000),
    ("2 juta", 2_000_000),
    ("2mln", 2_000_000),
    ("3 bn", 3_000_000_000),
    ("1 miliar", 1_000_000_000),
    (" 7 ", 7),
    ("7\u00a0000", 7000),
    ("1 234", 1234),
    ("15.", 15),
    ("-5", -5),
    ("-1.2k", -1200),
    # without a suffix, a separator not grouping thousands is a decimal point: rounded half away from 0
    ("1.5", 2),
    ("2.5", 3),
    ("0.5", 1),
    ("-0.5", -1),
    ("12,7", 13),
    ("1,2345", 1),
    ("1.0005K", 1001),
    ("", None),
    ("\t", None),
    ("\u00a0", None),
    ("lots", None),
    ("K", None),
    ("1.2KB", None),
    ("1.2.3", None),
    ("1.2.3K", None),
    ("1.234,5", None),
    ("+5", None),
    ("1e3", None),
    ("\u0661\u0662", None),  # Arabic-Indic digits are not read
    ("9223372036854775807", 9_223_372_036_854_775_807),
    ("9223372036854775808", None),
    ("99999999999999999999", None),
    ("9999999999999999999999999K", None),
]

# JSON values: numbers are taken as they are (their integer part), text as above
JSON_COUNTS = [
    ("42", 42),
    ("-5", -5),
    ("42.9", 42),
    ("-42.9", -42),
    ("12345678901234567", 12_345_678_901_234_567),
    ("18446744073709551615", None),
    ("1e20", None),
    ("true", None),
    ("null", None),
    ("[1]", None),
    ('{"n": 1}', None),
    ('"1.2K"', 1200),
    ('"3,4 rb"', 3400),
    ('""', None),
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.sql(COUNT_SQL + LIST_SQL)
    yield c
    c.close()


@pytest.mark.parametrize(("shown", "count"), COUNTS)
def test_parse_count(shown, count):
    assert parse_count(shown) == count
    blank = not re.sub("[\t\n\f\r \u00a0]", "", shown)
    assert parse_count(shown, blank=0) == (0 if blank else count)


def test_python_and_sql_counts_agree(con):
    texts = [shown for shown, _ in COUNTS] + [None]
    for blank in (None, 0):
        sql = [con.execute("select count_text(?, ?::bigint)", [s, blank]).fetchall()[0][0] for s in texts]
        assert sql == [parse_count(s, blank) for s in texts], blank
    values = [j for j, _ in JSON_COUNTS]
    for blank in (None, 0):
        sql = [
            con.execute("select count_value(j ->> '$', json_type(j), ?::bigint) from (select ?::json as j)",
                        [blank, j]).fetchall()[0][0]
            for j in values
        ]
        assert sql == [parse_count(json.loads(j), blank) for j in values], blank
    assert [parse_count(json.loads(j)) for j in values] == [c for _, c in JSON_COUNTS]


def test_sql_counts_of_typed_json(con):
    got = con.sql(
        "select count_value('42', 'UBIGINT', 0), count_value('42.9', 'DOUBLE', 0), "
        "count_value('true', 'BOOLEAN', 0), count_value('', 'VARCHAR', 0), count_value(null, 'VARCHAR', 0)"
    ).fetchall()
    assert got == [(42, 42, None, 0, None)]
    assert parse_count(float("nan")) is None and parse_count(float("inf")) is None
    assert parse_count(True) is None and parse_count(2**63) is None and parse_count(b"12") is None


def test_distinct_small(con):
    got = con.sql("select distinct_small(['a', 'b', 'a', 'c', 'b']), distinct_small(['x']), "
                  "distinct_small([]::varchar[])").fetchall()
    assert got == [(["a", "b", "c"], ["x"], [])]


def test_one_bom():
    assert strip_bom(b"\xef\xbb\xbf{}") == b"{}"
    assert strip_bom(b"{}") == b"{}"
    assert strip_bom(b"\xef\xbb\xbf\xef\xbb\xbf{}") == b"\xef\xbb\xbf{}"  # one mark, not a run
    assert strip_bom_text("\ufeffwindow") == "window"
    assert strip_bom_text("window") == "window"


def test_quarantine_sql(con):
    con.sql("create or replace temp table t as select * from (values "
            "(1, 'x', 'invalid'), (2, 'ok', 'fine'), (3, repeat('y', 5000), 'invalid'), (4, '[]', 'other'))"
            " as v(line_no, line, cls)")
    sql = quarantine_sql(
        Rejects("t", "cls = 'other'", "'other record'"),
        Rejects("t", "cls = 'invalid'", f"'{INVALID_JSON}'"),
    )
    rows = con.sql(sql).fetchall()
    assert [(r, e) for r, _, e in rows] == [(1, INVALID_JSON), (3, INVALID_JSON), (4, "other record")]
    assert [len(raw) for _, raw, _ in rows] == [1, QUARANTINE_RAW_MAX_CHARS, 2]
    assert quarantine_raw({"a": "é"}) == '{"a":"é"}' and quarantine_raw("z" * 5000) == "z" * 4000


def test_sniff_json_lines():
    def is_record(o):
        return isinstance(o, dict) and "id" in o

    hints = [re.compile(r'"id"\s*:')]
    assert sniff_json_lines(b'\xef\xbb\xbf{"id": 1}\n{"id": 2}\nnot json\n', is_record, hints)
    assert not sniff_json_lines(b'{"x": 1}\n{"x": 2}\n{"id": 3}\n', is_record, hints)
    assert sniff_json_lines(b'{"a": "long line cut off", "id": 9, "b": "', is_record, hints)
    assert not sniff_json_lines(b'["id"]', is_record, hints)


# --------------------------------------------------------------------------------------------------
# Shortcuts that must give what the general rules give


def _depth_by_scan(text: bytes) -> int:
    """JSON nesting the plain way: strings cut out left to right, then the running bracket count."""
    bare = np.frombuffer(re.sub(rb'"(?:[^"\\]|\\.)*"', b"", text, flags=re.DOTALL), dtype=np.uint8)
    step = (bare == 0x7B).astype(np.int64) + (bare == 0x5B) - (bare == 0x7D) - (bare == 0x5D)
    return int(np.cumsum(step).max()) if len(step) else 0


@given(st.text(alphabet='{}[]"\\ax :,é', max_size=40))
@settings(max_examples=3000, deadline=None)
def test_json_depth_is_the_scan(text):
    """``json_depth`` (vectorised) gives the left-to-right scan's answer on any text, JSON or not."""
    assert json_depth(text) == _depth_by_scan(text.encode())


def test_json_depth_across_slices():
    """Strings, escaped quotes and brackets on both sides of the numpy slice boundary (4 MiB)."""
    pad = (1 << 22) - 7
    docs = [
        '[{"a": "' + "x" * pad + '\\"[[[", "b": [[{"c": "\\\\"}], {"k": "' + '\\"' * 9 + '{{"}]]}]',
        '{"unterminated": "' + "x" * pad + "[[[",
    ]
    for doc in docs:
        assert json_depth(doc) == _depth_by_scan(doc.encode())


def test_sql_count_of_digits_is_the_general_rule(con):
    """``count_text`` answers ASCII digits without the regular expressions: as the general rule does."""
    texts = ["0", "7", "007", "123456789", "9223372036854775807", "9223372036854775808", "1" * 40, "\u0661"]
    fast = [con.execute("select count_text(?, 0)", [t]).fetchall()[0][0] for t in texts]
    general = [con.execute("select count_text_parsed(?, 0)", [t]).fetchall()[0][0] for t in texts]
    assert fast == general == [parse_count(t) for t in texts]
