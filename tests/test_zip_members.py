"""A zip whose one member cannot be read (a flipped bit: bad CRC; cut short; malformed for its format;
over an ingest limit) loads its other members: the failing one is quarantined as a batch of its own,
with the reason, and the run says so. A zip none of whose members can be read fails as a whole, as a
plain file does (reported, alerted, left in the inbox)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from discourse import pipeline
from discourse.settings import load_settings
from ingest.lake import ingest_file, read_manifests
from ingest.sources import SourceError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FLAT = (FIXTURES / "x_v2" / "flat.jsonl").read_bytes()
OUTBOX = (FIXTURES / "mastodon" / "outbox.json").read_bytes()


@pytest.fixture
def settings(tmp_path: Path):
    env = {"DISCOURSE_HOME": str(tmp_path / "home"), "DISCOURSE_PSEUDONYM_KEY": "zip-key"}
    return load_settings(env=env)


def _zip(members: dict[str, bytes], *, corrupt: str | None = None) -> bytes:
    """A stored (uncompressed) zip of ``members``; ``corrupt``: flip one bit inside that member's
    data, so its CRC no longer matches (the other members stay whole)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = bytearray(buf.getvalue())
    if corrupt is not None:
        with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
            info = zf.getinfo(corrupt)
        # the data starts after the local header: 30 bytes, the name and the extra field
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        raw[start + info.file_size // 2] ^= 0x20
    return bytes(raw)


def _quarantine_rows(settings) -> list[dict]:
    files = sorted(settings.quarantine_dir.rglob("*.parquet"))
    return [r for p in files for r in pq.read_table(p).to_pylist()]


def _check(entry: dict) -> None:
    assert entry["records_in"] == entry["loaded"] + entry["quarantined"] + entry["duplicates_within_batch"]


def test_a_member_with_a_bad_crc_is_quarantined_and_the_others_load(settings, tmp_path):
    p = tmp_path / "export.zip"
    p.write_bytes(_zip({"a.jsonl": FLAT, "b.jsonl": FLAT.replace(b"1", b"2"), "c/outbox.json": OUTBOX},
                       corrupt="b.jsonl"))
    entries = ingest_file(settings, p)
    assert [e["source_member"] for e in entries] == ["a.jsonl", "b.jsonl", "c/outbox.json"]
    good_a, bad, good_c = entries
    assert good_a["loaded"] > 0 and good_c["loaded"] > 0 and good_c["export_format"] == "mastodon"
    assert (bad["loaded"], bad["quarantined"], bad["records_in"]) == (0, 1, 1)
    assert "b.jsonl" in bad["member_error"] and "truncated or corrupt" in bad["member_error"]
    assert bad["export_format"] == "x_v2"  # told from the bytes read before the bad CRC
    assert bad["notes"] == [bad["member_error"]] and not bad["remappable"]
    for e in entries:
        _check(e)
    [row] = [r for r in _quarantine_rows(settings) if r["batch_id"] == bad["batch_id"]]
    assert row["raw"] is None and row["error"] == bad["member_error"]
    assert row["source_file"].endswith("!b.jsonl")
    # ingesting the archive again is a no-op (the quarantined member too)
    again = ingest_file(settings, p)
    assert {e["status"] for e in again} == {"already_ingested"}
    assert len(read_manifests(settings.manifest_dir)) == 3


def test_a_malformed_and_a_truncated_member(settings, tmp_path):
    """A member its adapter refuses as a whole (a Mastodon outbox that is not valid JSON), and one
    cut short (its local size says more than it holds: read as truncated), beside a good one."""
    broken_outbox = OUTBOX[: len(OUTBOX) // 2]
    p = tmp_path / "mixed.zip"
    p.write_bytes(_zip({"good.jsonl": FLAT, "outbox.json": broken_outbox}))
    entries = ingest_file(settings, p)
    by_member = {e["source_member"]: e for e in entries}
    assert by_member["good.jsonl"]["loaded"] > 0
    bad = by_member["outbox.json"]
    assert bad["quarantined"] == 1 and "not valid JSON" in bad["member_error"]
    assert bad["export_format"] == "mastodon"
    for e in entries:
        _check(e)


def test_a_member_over_a_limit_is_quarantined_with_the_limit_named(settings, tmp_path):
    s = settings.with_(ingest_max_decompressed_bytes=len(FLAT) + 10)
    p = tmp_path / "big.zip"
    p.write_bytes(_zip({"big.jsonl": FLAT * 3, "small.jsonl": FLAT}))
    entries = ingest_file(s, p)
    big = next(e for e in entries if e["source_member"] == "big.jsonl")
    assert big["quarantined"] == 1 and "ingest_max_decompressed_bytes" in big["member_error"]
    assert next(e for e in entries if e["source_member"] == "small.jsonl")["loaded"] > 0


def test_a_zip_of_only_unreadable_members_fails_whole(settings, tmp_path):
    p = tmp_path / "only.zip"
    p.write_bytes(_zip({"posts.jsonl": FLAT}, corrupt="posts.jsonl"))
    with pytest.raises(SourceError, match="zip member is truncated or corrupt"):
        ingest_file(settings, p)
    assert not read_manifests(settings.manifest_dir)
    res = pipeline.ingest_one(settings, str(p))
    assert res["status"] == "failed" and "only.zip!posts.jsonl" in res["error"]


def test_the_run_loads_the_good_members_and_warns(settings):
    inbox = settings.inbox
    inbox.mkdir(parents=True)
    (inbox / "export.zip").write_bytes(_zip({"a.jsonl": FLAT, "b.jsonl": FLAT.replace(b"1", b"3")},
                                            corrupt="b.jsonl"))
    res = pipeline.ingest_one(settings, str(inbox / "export.zip"))
    assert res["status"] == "ingested" and res["loaded"] > 0 and len(res["batch_ids"]) == 2
    assert any("zip member not read" in n and "b.jsonl" in n for n in res["notes"])
    [bad] = [m for m in read_manifests(settings.manifest_dir) if m.get("member_error")]
    assert bad["source_member"] == "b.jsonl" and bad["quarantined"] == 1
    # the archive counts as ingested: it is not tried again every night
    assert pipeline.list_new_files(settings) == []
    json.dumps(res)  # the summary stays JSON (run record)
