"""Property-based fuzzing of every registered adapter (hypothesis).

Each case starts from a valid export of the format (a fixture of ``tests/fixtures/<folder>/`` the
adapter recognises) and mutates it: truncations, inserted and deleted bytes, invalid UTF-8, JSON
nested thousands deep, huge values, and values of the wrong type put into the records' JSON. Whatever
comes out:

* nothing crashes: the adapter either reads the file or refuses it as a whole with a clear error
  (``ValueError`` for a document it cannot read, ``ingest.sources.SourceError`` for a limit);
* every quarantined record has a reason, and every chunk conforms to the adapter schemas;
* through the lake, ``records_in = loaded + quarantined + duplicates`` holds (``skipped`` apart),
  and a re-ingest of the same file is a no-op.

Profiles: the default runs ``FUZZ_EXAMPLES`` (100) cases per adapter for the adapter-level
property and a quarter of that through the lake (a minute or so for all formats; marked
``integration`` so ``make test`` runs them and ``make check`` does not). The ``nightly`` profile runs
10,000 cases per adapter (and 2,500 through the lake)::

    HYPOTHESIS_PROFILE=nightly pytest tests/adapters/test_fuzz.py
    HYPOTHESIS_PROFILE=soak FUZZ_EXAMPLES=2000 pytest tests/adapters/test_fuzz.py -k telegram

A crash the fuzzer finds is printed with the smallest input hypothesis could shrink it to; add it as
a regression test in the format's test module, then fix it in the adapter or in
``ingest.formats.common``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discourse.settings import load_settings
from ingest.lake import ingest_file
from ingest.registry import adapters, get
from ingest.schema import ADAPTER_SCHEMA, QUARANTINE_ADAPTER_SCHEMA
from ingest.sources import Source, SourceError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FUZZ_EXAMPLES = 100

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("default", max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("nightly", max_examples=10_000, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("soak", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "1000")), deadline=None,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
LAKE_SHARE = 4  # one lake case for this many adapter-level cases

pytestmark = pytest.mark.integration

NAMES = list(adapters())


def _seeds(name: str) -> list[tuple[str, bytes]]:
    """The fixtures of ``name``'s folder that it recognises: ``(file name, bytes)``."""
    cls = adapters()[name]
    folder = FIXTURES / cls.__module__.split(".")[2]
    out = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.suffix == ".md" or p.name.endswith(".meta.json"):
            continue
        data = p.read_bytes()
        if cls().sniff(data[: 64 * 1024]):
            out.append((p.name, data))
    assert out, f"{name}: no fixture it recognises in {folder}"
    return out


# ------------------------------------------------------------------ mutations

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)
ODD_TOKENS = [b"null", b"1e999", b"-1", b"[]", b"{}", b'"x"', b"true", b"123456789012345678901234567890",
              b'"2026-13-45T99:99:99Z"', b'"\\ud800"', b"NaN"]
BAD_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\r", b"\n", b"\xe2\x80"]


def _dicts(node, out):
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _dicts(v, out)
    elif isinstance(node, list):
        for v in node:
            _dicts(v, out)
    return out


_JS_HEADER = re.compile(rb"^\s*window\.YTD\.[\w.]+\s*=\s*")


@st.composite
def _restructured(draw, data: bytes) -> bytes:
    """``data`` with a value somewhere in its JSON replaced by one of another type (or a new key)."""
    m = _JS_HEADER.match(data)
    head, body = (data[: m.end()], data[m.end():]) if m else (b"", data)
    try:
        docs = [json.loads(body)]
        lines = False
    except ValueError:
        try:
            docs = [json.loads(line) for line in body.splitlines() if line.strip()]
        except ValueError:
            return data
        lines = True
    if not docs:
        return data
    di = draw(st.integers(0, len(docs) - 1))
    nodes = _dicts(docs[di], [])
    if not nodes:
        return data
    for _ in range(draw(st.integers(1, 3))):
        node = draw(st.sampled_from(nodes))
        keys = list(node) + ["zz_new"]
        node[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
    out = [json.dumps(d, ensure_ascii=draw(st.booleans())).encode() for d in docs]
    return head + (b"\n".join(out) + b"\n" if lines else out[0])


@st.composite
def mutated(draw, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(seeds))
    if draw(st.booleans()):
        data = draw(_restructured(data))
    buf = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "insert", "bad_bytes", "delete", "deep", "huge", "token",
                                   "duplicate_line"]))
        pos = draw(st.integers(0, len(buf)))
        if op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(max_size=16))
        elif op == "bad_bytes":
            buf[pos:pos] = draw(st.sampled_from(BAD_BYTES))
        elif op == "delete":
            del buf[pos : pos + draw(st.integers(1, 64))]
        elif op == "deep":
            depth = draw(st.integers(300, 12_000))
            buf[pos:pos] = b"[" * depth + b"]" * draw(st.sampled_from([depth, depth // 2]))
        elif op == "huge":
            buf[pos:pos] = b'"' + b"a" * draw(st.integers(1_000, 200_000)) + b'"'
        elif op == "token":
            colons = [m.end() for m in re.finditer(rb'":\s*', bytes(buf))]
            if colons:
                at = draw(st.sampled_from(colons))
                buf[at:at] = draw(st.sampled_from(ODD_TOKENS)) + b","
        elif op == "duplicate_line":
            lines = bytes(buf).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            buf = bytearray(b"\n".join(lines))
    return name, bytes(buf)


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("fmt", NAMES)
def test_fuzz_adapter_never_crashes_and_quarantines_with_a_reason(fmt, tmp_path_factory):
    seeds = _seeds(fmt)
    tmp = tmp_path_factory.mktemp(f"fuzz-{fmt}")

    @given(case=mutated(seeds))
    def check(case):
        name, data = case
        path = _write(tmp, name, data)
        try:
            chunks = list(get(fmt).read(Source(path, "none"), {"workers": 1}))
        except (ValueError, SourceError) as exc:
            assert str(exc).strip()  # refused as a whole, with a reason
            return
        for c in chunks:
            assert c.posts is None or c.posts.schema == ADAPTER_SCHEMA
            assert c.quarantine is None or c.quarantine.schema == QUARANTINE_ADAPTER_SCHEMA
            if c.quarantine is not None and c.quarantine.num_rows:
                errors = c.quarantine.column("error").to_pylist()
                assert all(e and e.strip() for e in errors)
                assert None not in c.quarantine.column("source_record").to_pylist()
            assert all(isinstance(n, int) and n >= 0 for n in c.skipped.values())

    check()


@pytest.mark.parametrize("fmt", NAMES)
def test_fuzz_through_the_lake_accounts_for_every_record(fmt, tmp_path_factory):
    seeds = _seeds(fmt)
    tmp = tmp_path_factory.mktemp(f"fuzz-lake-{fmt}")
    examples = max(10, settings().max_examples // LAKE_SHARE)

    @settings(max_examples=examples)
    @given(case=mutated(seeds), n=st.integers())
    def check(case, n):
        name, data = case
        home = tmp / f"home{abs(n) % 10**9}"
        s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "fuzz"})
        path = _write(tmp, name, data)
        try:
            entries = ingest_file(s, path, fmt=fmt, force=True, options={"workers": 1})
        except (ValueError, SourceError) as exc:
            assert str(exc).strip()
            return
        for e in entries:
            assert e["records_in"] == e["loaded"] + e["quarantined"] + e["duplicates_within_batch"]
            assert e["skipped_total"] == sum(e["skipped"].values())
        again = ingest_file(s, path, fmt=fmt, options={"workers": 1})
        assert [e["status"] for e in again] == ["already_ingested"] * len(again)

    check()
