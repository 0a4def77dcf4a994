"""``discourse remap``: re-deriving ingested batches from the lake's raw records, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from adapters._helpers import assert_remap_reproduces, lake_rows

from discourse.cli import main
from ingest import registry
from ingest.lake import cleanup_temp_files, ingest_file, read_manifests
from ingest.remap import RemapError, remap

FIXTURES = Path(__file__).parent / "fixtures"

MAPPED = {
    "id": "post_ref", "text": "isi_postingan", "created_at": "waktu_unggah", "author": "akun",
    "lang": "bahasa", "url": "tautan", "like_count": "jumlah_suka", "share_count": "jumlah_bagikan",
}

# The fixtures read with options a user would give. Every format's own fixtures are round-tripped without
# options by ``tests/adapters/test_format_contract.py``; these check that recorded options are used again.
CASES = [
    ("telegram/single_chat.json", None, {"channel_username": "infolokerjkt"}),
    ("generic/mapped.csv", "generic", {"map": MAPPED, "platform": "x"}),
]


@pytest.mark.parametrize(("fixture", "fmt", "options"), CASES, ids=[c[0] for c in CASES])
def test_remap_reproduces_every_format(settings, fixture, fmt, options):
    """With the adapter unchanged, a remap from raw gives back exactly the ingested rows."""
    [entry] = ingest_file(settings, FIXTURES / fixture, fmt=fmt, options=options)
    assert entry["loaded"] > 0 and entry["remappable"]
    assert entry["options"] == json.loads(json.dumps(options))
    assert_remap_reproduces(settings, entry)


def _upper_text(monkeypatch, fmt: str) -> None:
    """Simulate a changed adapter: the same records now map to upper-cased text, and one is rejected."""
    cls = type(registry.get(fmt))
    original = cls.read

    def read(self, source, options):
        for chunk in original(self, source, options):
            if chunk.posts is not None and chunk.posts.num_rows:
                posts = chunk.posts
                i = posts.schema.get_field_index("text")
                posts = posts.set_column(i, posts.schema.field(i), pc.utf8_upper(posts.column("text")))
                # the new mapping requires something the first post lacks: it is quarantined now
                first = posts.slice(0, 1)
                rejected = pa.table({"source_record": first.column("source_record"),
                                     "raw": first.column("raw"),
                                     "error": pa.array(["rejected by the new mapping"], pa.string())})
                chunk = registry.AdapterChunk(posts=posts.slice(1), quarantine=pa.concat_tables(
                    [chunk.quarantine.select(["source_record", "raw", "error"]).cast(rejected.schema),
                     rejected]) if chunk.quarantine is not None else rejected,
                    skipped=chunk.skipped, context=chunk.context)
            yield chunk

    monkeypatch.setattr(cls, "read", read)


def test_remap_applies_a_changed_mapping_without_the_export(settings, tmp_path, monkeypatch):
    export = tmp_path / "search_pages.jsonl"
    export.write_bytes((FIXTURES / "x_v2" / "search_pages.jsonl").read_bytes())
    [entry] = ingest_file(settings, export)
    other = ingest_file(settings, FIXTURES / "reddit" / "RS_2023-11_sample.ndjson")[0]
    reddit_before = lake_rows(settings, other["batch_id"])
    before = {r["post_uid"]: r for r in lake_rows(settings, entry["batch_id"])}
    export.unlink()  # the original file is gone

    _upper_text(monkeypatch, "x_v2")
    monkeypatch.setenv("DISCOURSE_PSEUDONYM_KEY", "test-key")  # the key the batches were ingested with
    rc = main(["--home", str(settings.home), "remap", "--format", "x_v2"])
    assert rc == 0
    after = {r["post_uid"]: r for r in lake_rows(settings, entry["batch_id"])}
    assert len(after) == len(before) - 1
    for uid, row in after.items():
        old = before[uid]
        assert row["text"] == old["text"].upper()
        # everything else is as ingested: provenance, pseudonyms, counts, the raw record itself
        assert {k: v for k, v in row.items() if k != "text"} == {k: v for k, v in old.items() if k != "text"}
    [m] = [m for m in read_manifests(settings.manifest_dir) if m["batch_id"] == entry["batch_id"]]
    assert m["loaded"] == entry["loaded"] - 1
    assert m["quarantined"] == entry["quarantined"] + 1
    assert m["records_in"] == entry["records_in"]
    q = lake_rows(settings, entry["batch_id"], "quarantine")
    assert [r["error"] for r in q].count("rejected by the new mapping") == 1
    # only the chosen format was re-mapped
    assert lake_rows(settings, other["batch_id"]) == reddit_before


def test_failed_remap_changes_nothing(settings, monkeypatch):
    [entry] = ingest_file(settings, FIXTURES / "reddit" / "RC_2023-11_sample.ndjson")
    before = lake_rows(settings, entry["batch_id"])
    cls = type(registry.get("reddit"))
    original = cls.read

    def broken(self, source, options):
        it = original(self, source, options)
        yield next(it)
        raise RuntimeError("adapter broke mid-batch")

    monkeypatch.setattr(cls, "read", broken)
    with pytest.raises(RuntimeError, match="broke"):
        remap(settings, fmt="reddit")
    assert lake_rows(settings, entry["batch_id"]) == before
    assert not list(settings.lake.rglob("*.tmp"))
    [m] = read_manifests(settings.manifest_dir)
    assert "remapped_at" not in m


def test_interrupted_publish_is_rolled_forward(settings, monkeypatch):
    """A crash after the journal is written: the next ingest or remap finishes the swap."""
    [entry] = ingest_file(settings, FIXTURES / "x_v2" / "search_pages.jsonl")
    import ingest.remap as remap_mod

    _upper_text(monkeypatch, "x_v2")

    def crash(lake, plan):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(remap_mod, "publish", crash)
    with pytest.raises(KeyboardInterrupt):
        remap(settings, fmt="x_v2")
    assert list(settings.manifest_dir.glob("*.remap.json"))
    assert list(settings.lake.rglob("*.parquet.tmp"))
    monkeypatch.undo()
    cleanup_temp_files(settings.lake)
    assert not list(settings.manifest_dir.glob("*.remap.json"))
    assert not list(settings.lake.rglob("*.tmp"))
    rows = lake_rows(settings, entry["batch_id"])
    assert len(rows) == entry["loaded"] - 1 and all(r["text"] == r["text"].upper() for r in rows)
    [m] = read_manifests(settings.manifest_dir)
    assert m["remapped_at"] and m["loaded"] == entry["loaded"] - 1


def test_batches_without_context_are_refused(settings):
    [entry] = ingest_file(settings, FIXTURES / "x_v2" / "search_pages.jsonl")
    mpath = settings.manifest_dir / f"{entry['batch_id']}.json"
    old = json.loads(mpath.read_text())
    del old["remappable"]
    mpath.write_text(json.dumps(old))
    with pytest.raises(RemapError, match="re-ingest its export once with --force"):
        remap(settings)
    assert main(["--home", str(settings.home), "remap", "--format", "no_such_format"]) != 0
    assert main(["--home", str(settings.home), "remap", "--batch", "feedfacefeedfacefeed"]) != 0
