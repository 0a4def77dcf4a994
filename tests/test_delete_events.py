"""Delete events in exports are applied (docs/security.md, "Delete events"): a Bluesky post delete or a
Mastodon ``Delete`` becomes a tombstone in the lake (``lake/deletes/<batch>.parquet``, the SHA-256 of the
stored post_uid, no identity), and ``discourse.forget.apply_deletes`` (run by the night after the
ingest) removes the post, whether it came in an earlier export, the same export, or a later one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from discourse.forget import apply_deletes, deletes_pending
from discourse.settings import load_settings
from ingest.lake import Pseudonymiser, ingest_file, read_manifests

KEY = "delete-events-test-key-0123456789abcdef"
DELETES = Path(__file__).resolve().parent / "fixtures_delete_events"
A = "did:plc:7delete0author0aaaaaaaaa"
B = "did:plc:7delete0author0bbbbbbbbb"
SARI = "https://ruang.example.id/users/sari"


def _settings(home: Path, **env: str):
    return load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": KEY, **env})


def _posts(settings) -> list[dict]:
    files = sorted(str(p) for p in settings.posts_dir.rglob("*.parquet"))
    if not files:
        return []
    listed = "[" + ", ".join("'" + f + "'" for f in files) + "]"
    with duckdb.connect() as con:
        return con.sql(f"select post_uid, text from read_parquet({listed}, union_by_name = true) "
                       "order by post_uid").to_arrow_table().to_pylist()


def _texts(settings) -> set[str]:
    return {p["text"] for p in _posts(settings)}


def _accounted(settings) -> None:
    for m in read_manifests(settings.manifest_dir):
        assert m["records_in"] == m["loaded"] + m["quarantined"] + m["duplicates_within_batch"]
        rows = sum(pq.read_metadata(settings.lake / f).num_rows for f in m["files"] if f.startswith("posts/"))
        assert rows == m["loaded"], m["batch_id"]


def _ingest(settings, name: str) -> dict:
    inbox = Path(settings.home) / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(DELETES / name, inbox / name)
    [entry] = ingest_file(settings, inbox / name)
    return entry


def test_bluesky_deletes_in_the_same_export_a_later_one_and_before_the_post(tmp_path):
    s = _settings(tmp_path / "home")
    first = _ingest(s, "bluesky_a.jsonl")
    # the manifest counts the deletes (the events stay counted as skipped records too)
    assert first["deletes"] == 2 and first["skipped"]["commit:delete:app.bsky.feed.post"] == 2
    tomb = f"deletes/{first['batch_id']}.parquet"
    # named apart from the files a remap or a forget rewrites
    assert first["deletes_file"] == tomb and tomb not in first["files"]
    # the tombstones hold digests only: no DID, no rkey, no keyed uid
    text = (s.lake / tomb).read_bytes().decode("latin-1")
    assert A not in text and B not in text and "3ldgone00002" not in text
    key_a = Pseudonymiser(KEY).key_for(f"bluesky:{A}")
    assert key_a not in text
    assert pq.read_table(s.lake / tomb).num_rows == 2
    assert "Postingan ini akan saya hapus" in _texts(s)  # not applied until the night (or apply_deletes)

    assert deletes_pending(s)
    audit = apply_deletes(s)
    assert audit is not None and audit["reason"] == "delete_events"
    assert audit["posts"] == 1 and audit["tombstones"] == 2 and audit["tombstones_waiting"] == 1
    assert _texts(s) == {"Harga beras naik lagi minggu ini", "Macet parah di tol dalam kota"}
    [m] = read_manifests(s.manifest_dir)
    assert m["forgotten"]["posts"] == 1 and m["forgotten"]["deleted_by_events"] == 1
    _accounted(s)
    assert not deletes_pending(s) and apply_deletes(s) is None

    # a later export: deletes a post of the first, and brings the post whose delete came first
    second = _ingest(s, "bluesky_b.jsonl")
    assert second["deletes"] == 1 and second["loaded"] == 2
    assert "Dihapus sebelum sampai di sini" in _texts(s)
    audit = apply_deletes(s)
    assert audit["posts"] == 2 and audit["tombstones_waiting"] == 0
    assert _texts(s) == {"Macet parah di tol dalam kota", "Hujan deras sore ini"}
    _accounted(s)
    # the audit records hold no identity either
    for record in (Path(s.home) / "forget").glob("*.json"):
        body = record.read_text()
        assert A not in body and B not in body and key_a not in body and "3ld" not in body
    # an export seen again (an overlapping export) does not bring a deleted post back
    again = s.inbox / "bluesky_a_again.jsonl"
    again.write_bytes((DELETES / "bluesky_a.jsonl").read_bytes().split(b"\n", 2)[0] + b"\n")
    assert ingest_file(s, again)[0]["loaded"] == 1
    assert deletes_pending(s)
    assert apply_deletes(s)["posts"] == 1
    assert "Harga beras naik lagi minggu ini" not in _texts(s)


def test_a_remap_keeps_the_tombstones(tmp_path):
    """``discourse remap`` rewrites a batch's posts from their raw records; the tombstones it brought
    stay, so a post that has not arrived yet is still waited for."""
    from ingest.remap import remap

    s = _settings(tmp_path / "home")
    first = _ingest(s, "bluesky_a.jsonl")
    [change] = remap(s)
    assert change["loaded_after"] == first["loaded"]
    [m] = read_manifests(s.manifest_dir)
    assert m["deletes_file"] == first["deletes_file"] and (s.lake / m["deletes_file"]).exists()
    apply_deletes(s)
    _ingest(s, "bluesky_b.jsonl")
    assert apply_deletes(s)["tombstones_waiting"] == 0
    assert _texts(s) == {"Macet parah di tol dalam kota", "Hujan deras sore ini"}


@pytest.mark.parametrize("pseudonymise", ["true", "false"])
def test_mastodon_delete_and_undo_are_applied(tmp_path, pseudonymise):
    s = _settings(tmp_path / "home", DISCOURSE_PSEUDONYMISE=pseudonymise)
    entry = _ingest(s, "mastodon_outbox.json")
    assert entry["loaded"] == 3 and entry["deletes"] == 3
    audit = apply_deletes(s)
    assert audit["posts"] == 2 and audit["tombstones_waiting"] == 1
    posts = _posts(s)
    assert [p["text"] for p in posts] == ["Sarapan bubur ayam dulu"]
    if pseudonymise == "true":  # the stored ids are keyed: the tombstones were keyed the same way
        assert "/users/sari/" not in posts[0]["post_uid"]
    _accounted(s)


def test_the_night_applies_the_deletes_it_ingests(tmp_path):
    """``discourse run`` applies delete events right after its ingest, before the raw gate: a post
    deleted in tonight's export never reaches tonight's marts (stopped before the build here)."""
    from discourse import pipeline

    s = _settings(tmp_path / "home")
    s.inbox.mkdir(parents=True)
    shutil.copy(DELETES / "bluesky_a.jsonl", s.inbox / "bluesky_a.jsonl")
    seen: list[str] = []

    class Stop(Exception):
        pass

    def echo(line: str) -> None:
        seen.append(line)
        if line.startswith("[raw gate]"):
            raise Stop

    with pytest.raises(Stop):
        pipeline.run(s, echo=echo)
    assert any(line.startswith("[deletes] 1 post(s) removed") for line in seen)
    assert "Postingan ini akan saya hapus" not in _texts(s)
    [record] = (s.home / "runs").glob("*.json")
    assert json.loads(record.read_text())["deletes"]["posts"] == 1


# ------------------------------------------------------------------ through the published marts

def _published_count(settings, text: str) -> int:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute("select count(*) from marts.posts where text = ?", [text]).fetchone()[0]
    finally:
        con.close()


@pytest.mark.e2e
def test_deleted_posts_leave_the_published_marts(tmp_path):
    from discourse.pipeline import run
    from synth import generate

    home = tmp_path / "home"
    generate(home / "inbox", posts=500, seed=3, days=4, formats=["x_v2", "bluesky"])
    s = _settings(home)
    shutil.copy(DELETES / "bluesky_a.jsonl", s.inbox / "bluesky_a.jsonl")
    first = run(s)
    assert first["published"], first.get("failed")
    assert first["deletes"]["posts"] == 1
    assert _published_count(s, "Postingan ini akan saya hapus") == 0  # deleted in the same export
    assert _published_count(s, "Harga beras naik lagi minggu ini") == 1

    shutil.copy(DELETES / "bluesky_b.jsonl", s.inbox / "bluesky_b.jsonl")
    second = run(s)
    assert second["published"], second.get("failed")
    # the generated Jetstream exports bring deletes of posts they never hold: those keep waiting
    assert second["deletes"]["posts"] == 2
    assert second["deletes"]["tombstones_waiting"] == first["deletes"]["tombstones_waiting"] - 1
    assert _published_count(s, "Harga beras naik lagi minggu ini") == 0  # deleted by a later export
    assert _published_count(s, "Dihapus sebelum sampai di sini") == 0  # its delete came first
    assert _published_count(s, "Hujan deras sore ini") == 1
    assert second["forget_finished"] is not None  # the snapshots from before the deletes are dropped
