"""The lake writer's contracts: layout, atomicity, accounting, idempotence and pseudonymisation."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from discourse.settings import SettingsError, load_settings
from ingest.lake import ingest_source, read_manifests
from ingest.registry import Adapter, AdapterChunk
from ingest.schema import ADAPTER_SCHEMA, POST_SCHEMA, conform
from ingest.sources import expand


def _posts(rows: list[dict]) -> pa.Table:
    cols = {f.name: [r.get(f.name) for r in rows] for f in ADAPTER_SCHEMA}
    return conform(pa.table({k: pa.array(v, ADAPTER_SCHEMA.field(k).type) for k, v in cols.items()}))


def _row(i: int, day: int = 1, author: str = "a1", post_id: str | None = None) -> dict:
    pid = post_id or str(10**18 + i)
    return {"post_uid": f"x:{pid}", "platform": "x", "post_id": pid,
            "created_at": datetime(2026, 11, day, 12, 0, tzinfo=UTC), "author_id": author,
            "author_handle": f"handle_{author}", "text": f"post {i}", "kind": "post",
            "hashtags": [], "mentions": [], "links": [], "media_count": 0, "raw": "{}",
            "source_record": i}


class ListAdapter(Adapter):
    """A test adapter that replays prepared chunks (and can fail mid-file)."""

    name = "test_list"
    platform = "x"

    def __init__(self, chunks: list[AdapterChunk], fail_after: int | None = None):
        self.chunks, self.fail_after = chunks, fail_after

    def sniff(self, head: bytes) -> bool:
        return False

    def read(self, source, options) -> Iterator[AdapterChunk]:
        for i, c in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("adapter broke mid-file")
            yield c


@pytest.fixture
def source(tmp_path: Path):
    p = tmp_path / "export.jsonl"
    p.write_text('{"any": "content"}\n')
    return expand(p)[0]


def _chunks() -> list[AdapterChunk]:
    bad = _row(99)
    bad["created_at"] = None
    quarantine = pa.table({"source_record": pa.array([7], pa.int64()),
                           "raw": pa.array(["{not json"]), "error": pa.array(["invalid JSON"])})
    return [
        AdapterChunk(posts=_posts([_row(1, 1), _row(2, 2), _row(2, 2)]), skipped={"api_error": 1}),
        AdapterChunk(posts=_posts([_row(1, 1), _row(3, 2, author="a2"), bad]), quarantine=quarantine),
    ]


def test_layout_accounting_and_pseudonyms(settings, source):
    entry = ingest_source(settings, source, ListAdapter(_chunks()))
    assert entry["status"] == "ingested"
    assert entry["loaded"] == 3
    assert entry["duplicates_within_batch"] == 2
    assert entry["quarantined"] == 2  # the adapter's invalid line + the row without created_at
    assert entry["records_in"] == entry["loaded"] + entry["quarantined"] + entry["duplicates_within_batch"]
    assert entry["skipped"] == {"api_error": 1}
    bid = entry["batch_id"]
    assert bid == hashlib.sha256(source.path.read_bytes()).hexdigest()[:20]

    day1 = settings.posts_dir / "platform=x" / "created_date=2026-11-01" / f"{bid}.parquet"
    day2 = settings.posts_dir / "platform=x" / "created_date=2026-11-02" / f"{bid}.parquet"
    assert day1.exists() and day2.exists()
    t = pq.read_table(day2)
    assert t.schema.equals(POST_SCHEMA, check_metadata=False)
    assert sorted(t.column("post_id").to_pylist()) == [str(10**18 + 2), str(10**18 + 3)]
    expected_key = hmac.new(b"test-key", b"x:a1", hashlib.sha256).hexdigest()[:32]
    assert pq.read_table(day1).column("author_key").to_pylist() == [expected_key]
    assert set(t.column("author_handle").to_pylist()) == {None}
    assert set(t.column("batch_id").to_pylist()) == {bid}
    assert set(t.column("source_file").to_pylist()) == {str(source.path)}

    q = pq.read_table(settings.quarantine_dir / "platform=x" / f"{bid}.parquet")
    assert sorted(q.column("source_record").to_pylist()) == [7, 99]
    assert all(e for e in q.column("error").to_pylist())

    (manifest,) = read_manifests(settings.manifest_dir)
    assert manifest["batch_id"] == bid and manifest["loaded"] == 3
    assert not list(settings.lake.rglob("*.tmp"))


def test_reingest_is_a_noop(settings, source):
    first = ingest_source(settings, source, ListAdapter(_chunks()))
    before = sorted(p.stat().st_mtime_ns for p in settings.posts_dir.rglob("*.parquet"))
    again = ingest_source(settings, source, ListAdapter(_chunks()))
    assert again["status"] == "already_ingested"
    assert again["batch_id"] == first["batch_id"]
    assert sorted(p.stat().st_mtime_ns for p in settings.posts_dir.rglob("*.parquet")) == before


def test_failure_mid_file_leaves_nothing_visible(settings, source):
    with pytest.raises(RuntimeError, match="mid-file"):
        ingest_source(settings, source, ListAdapter(_chunks(), fail_after=1))
    assert not list(settings.lake.rglob("*.parquet"))
    assert not list(settings.lake.rglob("*.tmp"))
    assert read_manifests(settings.manifest_dir) == []


def test_pseudonymisation_needs_a_key(home, source):
    s = load_settings(env={"DISCOURSE_HOME": str(home)})
    with pytest.raises(SettingsError, match="DISCOURSE_PSEUDONYM_KEY"):
        ingest_source(s, source, ListAdapter(_chunks()))
    assert not list(home.rglob("*.parquet"))
    # The demo has a documented built-in key; switching pseudonymisation off keeps handles.
    assert s.with_(is_demo=True).require_pseudonym_key()
    off = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYMISE": "false"})
    entry = ingest_source(off, source, ListAdapter(_chunks()))
    t = pq.read_table(next(off.posts_dir.rglob("*.parquet")))
    assert t.column("author_key").to_pylist()[0].startswith("x:a")
    assert t.column("author_handle").to_pylist()[0].startswith("handle_")
    assert entry["pseudonymised"] is False


def test_settings_from_toml_and_env(tmp_path, monkeypatch):
    home = tmp_path / "h"
    home.mkdir()
    (home / "discourse.toml").write_text(
        '[discourse]\nalert_webhook_url = "http://127.0.0.1:9/hook"\nsmtp_port = 2525\n')
    s = load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_SMTP_PORT": "1025"})
    assert s.alert_webhook_url == "http://127.0.0.1:9/hook"
    assert s.smtp_port == 1025  # env beats the file
    assert s.warehouse == home / "warehouse.duckdb"
    (home / "discourse.toml").write_text('[discourse]\nno_such_setting = 1\n')
    with pytest.raises(SettingsError, match="no_such_setting"):
        load_settings(env={"DISCOURSE_HOME": str(home)})
    json.dumps(str(s))
