"""The lake writer's vectorised steps against the plain definitions they replace: keyed author
hashes, mention keys, within-batch dedup, the partitioning of a batch and the drift profile's paths."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from ingest.drift import path_counts
from ingest.lake import Pseudonymiser, _first_occurrences
from ingest.schema import MENTION_TARGET
from ingest.store import partitions


@pytest.mark.parametrize("key", ["k", "bench-only-key", "x" * 64, "y" * 65, "z" * 200, "kunci rahasia é"])
def test_author_keys_are_hmac_sha256(key: str) -> None:
    pseudo = Pseudonymiser(key)
    for value in ["x:1", "reddit:someone", "bluesky:did:plc:abc", "", "mastodon:https://h/users/ü"]:
        expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
        assert pseudo.key_for(value) == expected
        assert pseudo.key_for(value) == expected  # cached


def test_keys_per_row_and_without_a_key() -> None:
    values = pa.chunked_array([["a:1", None, "a:2"], ["a:1", "a:3", None]])
    pseudo = Pseudonymiser("k")
    assert pseudo.keys(values).to_pylist() == [
        None if v is None else pseudo.key_for(v) for v in values.to_pylist()
    ]
    assert Pseudonymiser(None).keys(values).to_pylist() == values.to_pylist()


def _mention_keys_by_row(pseudo: Pseudonymiser, platforms: list[str], targets: list) -> list:
    out = []
    for plat, items in zip(platforms, targets, strict=True):
        row = []
        for item in items or []:
            if item is None:
                continue
            tid, handle = item.get("id"), item.get("handle")
            handle = (handle or "").lstrip("@").lower() if handle is not None else None
            if tid:
                row.append({"author_key": pseudo.key_for(f"{plat}:{tid}"), "by_handle": False})
            elif handle:
                row.append({"author_key": pseudo.key_for(f"{plat}:@{handle}"), "by_handle": True})
        out.append(row)
    return out


def test_mention_keys_with_null_and_empty_lists() -> None:
    rng = random.Random(5)
    rows = []
    for _ in range(500):
        r = rng.random()
        if r < 0.3:
            rows.append(None)
        elif r < 0.4:
            rows.append([])
        else:
            rows.append([
                None if rng.random() < 0.05 else
                {"id": rng.choice([None, "", str(rng.randint(1, 50))]),
                 "handle": rng.choice([None, "", "@", "@Someone", "other", "@MiXed"])}
                for _ in range(rng.randint(1, 4))
            ])
    platforms = [rng.choice(["x", "mastodon", "bluesky"]) for _ in rows]
    targets = pa.array(rows, pa.list_(MENTION_TARGET))
    pseudo = Pseudonymiser("k")
    got = pseudo.mention_keys(pa.array(platforms), targets).to_pylist()
    assert got == _mention_keys_by_row(pseudo, platforms, rows)
    # a slice (non-zero offset) and a chunked input
    got = pseudo.mention_keys(pa.array(platforms[100:300]), targets.slice(100, 200)).to_pylist()
    assert got == _mention_keys_by_row(pseudo, platforms[100:300], rows[100:300])
    chunked = pa.chunked_array([targets.slice(0, 250), targets.slice(250)])
    assert pseudo.mention_keys(pa.chunked_array([platforms[:250], platforms[250:]]), chunked).to_pylist() \
        == _mention_keys_by_row(pseudo, platforms, rows)


def test_activitypub_ids_leave_other_platforms_alone() -> None:
    pseudo = Pseudonymiser("k")
    ids = pa.array(["https://h/users/alice/statuses/1", None, "x:2"])
    assert pseudo.activitypub_ids(pa.array(["x", "x", "x"]), ids) is ids
    mixed = pseudo.activitypub_ids(pa.array(["mastodon", "x", "x"]), ids).to_pylist()
    assert mixed[0] == f"https://h/users/{pseudo.key_for('mastodon:https://h/users/alice')}/statuses/1"
    assert mixed[1:] == [None, "x:2"]


def test_first_occurrences_match_a_running_set() -> None:
    rng = np.random.default_rng(3)
    seen_set: set[int] = set()
    seen = np.empty(0, dtype=np.uint64)
    for size in (0, 1, 50, 1000, 7, 3000):
        hashes = rng.integers(0, 400, size).astype(np.uint64) * np.uint64(2**40 + 7)
        expected = []
        for h in hashes.tolist():
            expected.append(h not in seen_set)
            seen_set.add(h)
        keep, seen = _first_occurrences(hashes, seen)
        assert keep.tolist() == expected
        assert sorted(seen.tolist()) == seen.tolist() == sorted(seen_set)


@pytest.mark.parametrize("shuffle", [False, True])
def test_partitions_match_group_by_and_take(shuffle: bool) -> None:
    rng = random.Random(9)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [(rng.choice(["x", "reddit", "x"]), start + timedelta(hours=rng.randint(0, 24 * 5)), i)
            for i in range(2000)]
    if not shuffle:
        rows.sort(key=lambda r: (r[0], r[1].date()))
    table = pa.table({
        "platform": [r[0] for r in rows],
        "created_at": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
        "n": [r[2] for r in rows],
    })
    # the definition: polars groups in order of first appearance, each group's rows in table order
    dates = table.column("created_at").cast(pa.date32())
    keys = pl.DataFrame({"platform": pl.from_arrow(table.column("platform")), "d": pl.from_arrow(dates)})
    groups = keys.with_row_index("i").group_by(["platform", "d"], maintain_order=True).agg("i")
    expected = [(p, d, table.take(pa.array(idx, pa.uint32()))) for p, d, idx in groups.iter_rows()]
    got = list(partitions(table))
    assert [(p, d) for p, d, _ in got] == [(p, d) for p, d, _ in expected]
    for (_, _, a), (_, _, b) in zip(got, expected, strict=True):
        assert a.equals(b)


_TRICKY = [
    '{"a": NaN}', '{"a": "\\ud800"}', '{"a":1,}', '[1] x', ' {"a":1} ', '{"a":1e999}', '{"a":01}', None, "",
    "null", "3", '"x"', '{"_a": {"b c": [1, {"d[0]": 2, "e": []}], "x\\"y": {}}, "dup": {"p": 1}, "dup": 2}',
    '[{"a":1},[{"b":2}]]', '{"a": {"b": {"c": {}}}}', '{"k\\u0000z": 1, "a\\\\b": [true], "é": [[1, [2]]]}',
    '{"a": [1,2,]}', '{"a": Infinity}', '{"a": "\\ud83d\\ude00", "\\ud83d\\ude00": 1}', '\ufeff{"a":1}',
    '{"a": "x\ny"}', '{"a\tb": 1, "A1_b": 2, "1a": 3, "_": 4, "a-b": 5}',
    '{"deep": ' + "[" * 1500 + "]" * 1500 + "}",
]


def test_drift_paths_match_json_tree() -> None:
    rng = random.Random(1)
    raw = list(_TRICKY)
    for i in range(60):
        tags = rng.choice(["[]", '["a"]', "[null]", "{}"])
        items = ", ".join(f'{{"k{j}": 1}}' for j in range(i % 3))
        raw.append(f'{{"id": {i}, "user": {{"name": "n", "tags": {tags}}}, "list": [{items}]}}')
    half = np.array([i % 2 for i in range(len(raw))], dtype=np.int8)
    con = duckdb.connect()
    con.register("s", pa.table({"i": pa.array(range(len(raw)), pa.int64()), "h": pa.array(half),
                                "raw": pa.array(raw, pa.string())}))
    expected = con.execute(
        r"""
        with valid as (select i, h, raw from s where raw is not null and json_valid(raw)),
        paths as (
            select distinct v.i, v.h, regexp_replace(t.fullkey, '\[[0-9]+\]', '[*]', 'g') as path
            from valid as v, json_tree(v.raw) as t
            where t.fullkey <> '$'
        )
        select path, count(*), count(*) filter (where h = 0), count(*) filter (where h = 1)
        from paths group by path order by path
        """
    ).fetchall()
    assert path_counts(raw, half) == [tuple(r) for r in expected]
