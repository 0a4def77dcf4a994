"""The drift profile's paths (``ingest.drift.path_counts``) on the records adapters hand the lake: a
record is read as plain dicts unless a repeated key could hide a subtree; either way the paths are the
folded ``json_tree`` keys DuckDB gives."""

from __future__ import annotations

import json
import random

import duckdb
import numpy as np
import pyarrow as pa

from ingest.drift import path_counts

_JSON_TREE = r"""
with valid as (select i, h, raw from s where raw is not null and json_valid(raw)),
paths as (
    select distinct v.i, v.h, regexp_replace(t.fullkey, '\[[0-9]+\]', '[*]', 'g') as path
    from valid as v, json_tree(v.raw) as t
    where t.fullkey <> '$'
)
select path, count(*), count(*) filter (where h = 0), count(*) filter (where h = 1)
from paths group by path order by path
"""


def _expected(raw: list[str | None], half: np.ndarray) -> list[tuple[str, int, int, int]]:
    con = duckdb.connect()
    try:
        con.register(
            "s",
            pa.table(
                {
                    "i": pa.array(range(len(raw)), pa.int64()),
                    "h": pa.array(half),
                    "raw": pa.array(raw, pa.string()),
                }
            ),
        )
        return [tuple(r) for r in con.execute(_JSON_TREE).fetchall()]
    finally:
        con.close()


# repeated keys whose dropped value hides paths, with and without colons elsewhere to mislead a count
_REPEATS = [
    '{"a": {"b": 1}, "a": 2}',
    '{"a": 2, "a": {"b": 1}}',
    '{"u": "https://x", "a": {"b": {"c": 1}}, "a": "t:1"}',
    '{"a": {"x": "1:2"}, "a": {"y": 3}}',
    '{"a": [{"k": 1}, {"k": 2, "k": {"deep": 1}}]}',
    '{"a": "\\u003a", "b": {"c": 1}, "b": 1}',
    '{"a\\u003Ab": {"c": 1}, "a\\u003Ab": 1}',
    '{"t": "12:00:01", "t": "12:00:02", "n": {"m": [1, {"o": "p:q"}]}}',
    '{"x:y": {"z": 1}, "x:y": {"w": 2}}',
    '{"s": ":::", "s": {":": ":"}}',
]


def test_repeated_keys_and_colons_match_json_tree() -> None:
    raw = list(_REPEATS)
    half = np.array([i % 2 for i in range(len(raw))], dtype=np.int8)
    assert path_counts(raw, half) == _expected(raw, half)


def test_random_records_match_json_tree() -> None:
    rng = random.Random(5)
    keys = ["a", "b", "c:d", "e f", "g\\u003ah", "x[0]", "id"]
    strings = ["plain", "https://example.com/x", "12:30", ":", "a\\u003ab", "", "é:ü"]

    def value(depth: int) -> str:
        r = rng.random()
        if depth > 3 or r < 0.35:
            return json.dumps(rng.choice(strings), ensure_ascii=False).replace("\\\\", "\\")
        if r < 0.45:
            return rng.choice(["1", "true", "null", "2.5"])
        if r < 0.7:
            return "[" + ", ".join(value(depth + 1) for _ in range(rng.randrange(3))) + "]"
        n = rng.randrange(4)
        picked = [rng.choice(keys) for _ in range(n)]  # repeats happen
        return "{" + ", ".join(f'"{k}": {value(depth + 1)}' for k in picked) + "}"

    raw: list[str | None] = [value(0) for _ in range(600)]
    half = np.array([rng.randrange(2) for _ in raw], dtype=np.int8)
    assert path_counts(raw, half) == _expected(raw, half)
