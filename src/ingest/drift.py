"""Schema drift: a field-presence profile per batch, compared with the trailing profile of its format.

Every batch records which JSON paths its records carry and in what share of them (``field_profile`` in
the manifest). The profile is computed on a deterministic reservoir sample of the batch's original
records (``raw``; at most ``SAMPLE_SIZE``), so it costs the same for ten or ten million records, and
the sample spans the whole file. Array indices are folded (``$.entities.urls[*].expanded_url``).

``check_drift`` reports, for one batch:

* **vanished / dropped**: a path the trailing profile of the same ``export_format`` (the previous
  ``BASELINE_BATCHES`` batches, weighted by sample size) had in ≥ 50% of records is in less than half
  that share now (``vanished`` when it is gone);
* **appeared**: a path the trailing profile had in < 1% of records is in ≥ 20% now;
* **changed mid-export**: within the batch, a path in ≥ 80% of the first half of the file (by record
  position) and ≤ 5% of the second half, or the other way round (a field renamed mid-export). This
  works on a format's first batch too, when there is no trailing profile yet.

Only the topmost path of a vanished or appeared subtree is reported. Formats with several record
shapes (Mastodon's outbox activities and REST statuses) are compared shape with shape: the baseline
only takes earlier batches whose common top-level fields overlap the new batch's by at least half.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

SAMPLE_SIZE = 4000
BASELINE_BATCHES = 10
MIN_SHARE = 0.001
MIN_HALF = 100


class ProfileSampler:
    """Reservoir sample (algorithm R, seeded by the batch id) of raw records and their positions."""

    def __init__(self, seed_text: str, size: int = SAMPLE_SIZE):
        self.size = size
        self.rng = np.random.default_rng(int(seed_text[:12] or "0", 16))
        self.raw: list[str] = []
        self.pos: list[int] = []
        self.seen = 0

    def add(self, raw: pa.Array | pa.ChunkedArray, positions: pa.Array | pa.ChunkedArray) -> None:
        m = len(raw)
        if m == 0:
            return
        free = max(0, self.size - len(self.raw))
        if free:
            take = min(free, m)
            self.raw += raw.slice(0, take).to_pylist()
            self.pos += positions.slice(0, take).to_pylist()
        start = min(free, m)
        if start < m:
            t = np.arange(self.seen + start + 1, self.seen + m + 1, dtype=np.float64)
            accept = np.nonzero(self.rng.random(m - start) < self.size / t)[0]
            if len(accept):
                slots = self.rng.integers(0, self.size, len(accept))
                idx = pa.array(accept + start)
                vals = raw.take(idx).to_pylist()
                poss = positions.take(idx).to_pylist()
                for s, v, p in zip(slots.tolist(), vals, poss, strict=True):
                    self.raw[s], self.pos[s] = v, p
        self.seen += m

    def profile(self) -> dict[str, Any]:
        n = len(self.raw)
        if n == 0:
            return {"sample_size": 0, "records": self.seen, "paths": {}, "halves": None}
        order = np.argsort(np.array(self.pos, dtype=np.int64), kind="stable")
        half = np.zeros(n, dtype=np.int8)
        half[order[n // 2:]] = 1
        rows = path_counts(self.raw, half)
        n0, n1 = int((half == 0).sum()), int((half == 1).sum())
        paths = {p: round(c / n, 4) for p, c, _, _ in rows if c / n >= MIN_SHARE}
        halves = {
            "first": {p: round(a / n0, 4) for p, _, a, _ in rows if n0 and a / n0 >= MIN_SHARE},
            "second": {p: round(b / n1, 4) for p, _, _, b in rows if n1 and b / n1 >= MIN_SHARE},
            "sizes": [n0, n1],
        }
        return {"sample_size": n, "records": self.seen, "paths": dict(sorted(paths.items())),
                "halves": halves}


# The profile's paths are DuckDB's ``json_tree`` full keys with array indices folded: ``$.a.b``,
# ``$."key with spaces"`` (a key is left bare when it is a letter then letters, digits or ``_``;
# otherwise it is quoted, with ``"`` and ``\`` escaped), ``$.a[*].b``. ``path_counts`` builds the same
# paths in Python, which is several times cheaper than ``json_tree`` (it renders every node's subtree
# as text); DuckDB still decides which records are valid JSON, and maps any record Python's parser
# reads differently (``_duckdb_paths``).
_BARE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INDEX = re.compile(r"\[[0-9]+\]")
_PATHS_SQL = r"""
    select distinct s.i, regexp_replace(t.fullkey, '\[[0-9]+\]', '[*]', 'g') as path
    from s, json_tree(s.raw) as t
    where t.fullkey <> '$'
"""


def _key_segment(key: str) -> str:
    if _BARE_KEY.match(key):
        return "." + key
    quoted = '."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _INDEX.sub("[*]", quoted) if "[" in quoted else quoted


def _record_paths(doc: Any, segments: dict[str, str]) -> set[str]:
    """The folded paths of every node below the root of one parsed record (objects as tuples of
    ``(key, value)`` pairs, so repeated keys count as ``json_tree`` counts them; arrays as lists)."""
    out: set[str] = set()
    stack = [("$", doc)]
    while stack:
        prefix, value = stack.pop()
        if type(value) is tuple:
            for key, child in value:
                seg = segments.get(key)
                if seg is None:
                    seg = segments[key] = _key_segment(key)
                path = prefix + seg
                out.add(path)
                if child and type(child) in (tuple, list):
                    stack.append((path, child))
        else:  # a non-empty list
            path = prefix + "[*]"
            out.add(path)
            for child in value:
                if child and type(child) in (tuple, list):
                    stack.append((path, child))
    return out


def _dict_paths(doc: Any, segments: dict[str, str]) -> tuple[set[str], int]:
    """``_record_paths`` of a record parsed with plain dicts, and the number of key/value pairs plus
    colons in the keys and strings of the tree. A repeated key leaves one pair in a dict (and drops
    the other value's subtree), so the paths are right only when the record has no repeated key: when
    the count equals the colons of the record's text (with no ``\\u003a`` escape in it), every colon
    of the text is a pair's or a visible string's, so no pair was dropped."""
    out: set[str] = set()
    pairs = 0
    texts: list[str] = []  # the keys and string values, their colons counted at once
    stack = [("$", doc)]
    while stack:
        prefix, value = stack.pop()
        if type(value) is dict:
            pairs += len(value)
            texts.extend(value)
            for key, child in value.items():
                seg = segments.get(key)
                if seg is None:
                    seg = segments[key] = _key_segment(key)
                path = prefix + seg
                out.add(path)
                t = type(child)
                if t is str:
                    texts.append(child)
                elif child and (t is dict or t is list):
                    stack.append((path, child))
        else:  # a non-empty list
            path = prefix + "[*]"
            out.add(path)
            for child in value:
                t = type(child)
                if t is str:
                    texts.append(child)
                elif child and (t is dict or t is list):
                    stack.append((path, child))
    return out, pairs + "".join(texts).count(":")


_ESCAPED_COLON = re.compile(r"\\u003[aA]")

def _duckdb_paths(con: Any, records: dict[int, str]) -> dict[int, set[str]]:
    """The folded ``json_tree`` paths of each record, by DuckDB."""
    con.register("s", pa.table({"i": pa.array(list(records), pa.int64()),
                                "raw": pa.array(list(records.values()), pa.string())}))
    try:
        out: dict[int, set[str]] = {i: set() for i in records}
        for i, path in con.execute(_PATHS_SQL).fetchall():
            out[i].add(path)
        return out
    finally:
        con.unregister("s")


def _json_valid(con: Any, raw: list[str | None]) -> list[bool]:
    """DuckDB's ``json_valid`` of each record (False for null)."""
    con.register("s", pa.table({"i": pa.array(range(len(raw)), pa.int64()),
                                "raw": pa.array(raw, pa.string())}))
    try:
        valid = con.execute("select coalesce(json_valid(raw), false) from s order by i").fetchall()
    finally:
        con.unregister("s")
    return [bool(v) for (v,) in valid]


# One small in-memory database for every profile of the process (a new one costs about 20 ms of CPU,
# as much as a small file's whole profile), used under the lock. It only ever holds one sample's
# records, registered and dropped again. It is closed before the process forks: a child that inherits
# an open DuckDB database crashes when it frees it (at exit, say), so none is left to inherit.
_DB: Any = None
_DB_LOCK = threading.Lock()


def _close_before_fork() -> None:
    global _DB
    _DB_LOCK.acquire()
    if _DB is not None:
        db, _DB = _DB, None
        db.close()


os.register_at_fork(
    before=_close_before_fork, after_in_parent=_DB_LOCK.release, after_in_child=_DB_LOCK.release
)


def path_counts(raw: list[str | None], half: np.ndarray) -> list[tuple[str, int, int, int]]:
    """(path, records with it, of them in the first half, in the second half) over the records that
    are valid JSON, as ``select path, count(*), count(*) filter (where h = 0), count(*) filter (where
    h = 1)`` over the distinct (record, folded ``json_tree`` full key) pairs; sorted by path."""
    global _DB
    import duckdb

    with _DB_LOCK:
        if _DB is None:
            _DB = duckdb.connect(":memory:", config={"threads": 1})
        return _path_counts(_DB, raw, half)


def _path_counts(con: Any, raw: list[str | None], half: np.ndarray) -> list[tuple[str, int, int, int]]:
    decoder = json.JSONDecoder(object_pairs_hook=tuple)
    plain = json.JSONDecoder()
    segments: dict[str, str] = {}
    per_record: dict[int, set[str]] = {}
    other: dict[int, str] = {}
    for i, (text, ok) in enumerate(zip(raw, _json_valid(con, raw), strict=True)):
        if not ok:
            continue
        try:
            # plain dicts first (several times cheaper to build); ``_dict_paths`` tells whether a
            # repeated key could have dropped a subtree, and then the record is read again as pairs
            doc = plain.decode(text)
            if doc and type(doc) in (dict, list):
                paths, colons = _dict_paths(doc, segments)
                if colons != text.count(":") or _ESCAPED_COLON.search(text):
                    paths = _record_paths(decoder.decode(text), segments)
                per_record[i] = paths
            else:
                per_record[i] = set()
        except (ValueError, RecursionError):
            other[i] = text  # valid for DuckDB, not for Python (trailing commas, deep nesting, ...)
    if other:
        per_record.update(_duckdb_paths(con, other))
    total: Counter[str] = Counter()
    second: Counter[str] = Counter()
    for i, paths in per_record.items():
        total.update(paths)
        if half[i]:
            second.update(paths)
    return [(p, c, c - second[p], second[p]) for p, c in sorted(total.items())]


def _topmost(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    keys = {(f["kind"], f["path"]) for f in findings}
    for f in findings:
        p = f["path"]
        parents = [p[:i] for i in range(len(p)) if p[i] in ".[" and i > 1]
        if not any((f["kind"], q) in keys for q in parents):
            out.append(f)
    return out


def _top_level(paths: dict[str, float]) -> set[str]:
    return {p for p, share in paths.items() if share >= 0.5 and p.count(".") == 1 and "[" not in p}


def same_shape(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two profiles describe the same record shape of a format (e.g. a Mastodon outbox
    activity vs a REST status): their common top-level fields overlap by at least half (Jaccard)."""
    ta, tb = _top_level(a), _top_level(b)
    return bool(ta | tb) and len(ta & tb) / len(ta | tb) >= 0.5


def baseline_profile(manifests: list[dict[str, Any]], entry: dict[str, Any]) -> dict[str, Any] | None:
    cur = (entry.get("field_profile") or {}).get("paths") or {}
    prior = [
        m for m in manifests
        if m.get("export_format") == entry.get("export_format")
        and m.get("batch_id") != entry.get("batch_id")
        and (m.get("field_profile") or {}).get("sample_size")
        and m.get("ingested_at", "") <= entry.get("ingested_at", "")
        and same_shape(cur, m["field_profile"]["paths"])
    ]
    prior = sorted(prior, key=lambda m: m.get("ingested_at", ""))[-BASELINE_BATCHES:]
    if not prior:
        return None
    total = sum(m["field_profile"]["sample_size"] for m in prior)
    shares: dict[str, float] = {}
    for m in prior:
        w = m["field_profile"]["sample_size"] / total
        for p, s in m["field_profile"]["paths"].items():
            shares[p] = shares.get(p, 0.0) + w * s
    return {"batches": [m["batch_id"] for m in prior], "sample_size": total, "paths": shares}


def check_drift(entry: dict[str, Any], manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drift findings for one manifest entry against the trailing profile of its format."""
    prof = entry.get("field_profile") or {}
    cur: dict[str, float] = prof.get("paths") or {}
    findings: list[dict[str, Any]] = []
    if not prof.get("sample_size"):
        return findings
    base = baseline_profile(manifests, entry)
    if base:
        for p, b in base["paths"].items():
            c = cur.get(p, 0.0)
            if b >= 0.5 and c < 0.5 * b:
                findings.append({"kind": "vanished" if c == 0 else "dropped", "path": p,
                                 "baseline_share": round(b, 4), "share": c})
        for p, c in cur.items():
            b = base["paths"].get(p, 0.0)
            if b < 0.01 and c >= 0.2:
                findings.append({"kind": "appeared", "path": p, "baseline_share": round(b, 4),
                                 "share": c})
    halves = prof.get("halves") or {}
    sizes = halves.get("sizes") or [0, 0]
    if min(sizes) >= MIN_HALF:
        first, second = halves["first"], halves["second"]
        for p in sorted(set(first) | set(second)):
            a, b = first.get(p, 0.0), second.get(p, 0.0)
            if (a >= 0.8 and b <= 0.05) or (b >= 0.8 and a <= 0.05):
                findings.append({"kind": "changed_mid_export", "path": p, "first_half_share": a,
                                 "second_half_share": b})
    findings = _topmost(findings)
    for f in findings:
        f["baseline_batches"] = base["batches"] if base else []
    return findings


def drift_alert_failures(entry: dict[str, Any], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings in the shape the alert sinks render (expectation, column, observed, expected)."""
    out = []
    for f in findings:
        if f["kind"] == "changed_mid_export":
            observed = {"observed_value": f"{f['first_half_share']:.0%} of the first half, "
                                          f"{f['second_half_share']:.0%} of the second half"}
            expected = "present in both halves of the export alike"
        elif f["kind"] == "appeared":
            observed = {"observed_value": f"in {f['share']:.0%} of records"}
            expected = f"rare, as in the trailing profile ({f['baseline_share']:.1%})"
        else:
            observed = {"observed_value": f"in {f['share']:.0%} of records"}
            expected = f"in about {f['baseline_share']:.0%} of records, as in the trailing profile"
        out.append({
            "expectation": f"field_{f['kind']}",
            "column": f["path"],
            "observed": observed,
            "expected": expected,
            "severity": "warning",
            "message": f"{entry.get('export_format')}: {f['path']} {f['kind'].replace('_', ' ')} "
                       f"in {entry.get('source_file')}",
            "sample_rows": [],
        })
    return out


def dumps(findings: list[dict[str, Any]]) -> str:
    return json.dumps(findings, indent=1)
