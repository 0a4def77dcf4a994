"""The Bluesky Jetstream adapter on a hand-written event stream."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
import zstandard
from _helpers import by_id, read_export

from ingest.lake import ingest_file
from ingest.registry import adapters, detect, get
from ingest.sources import expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JETSTREAM = FIXTURES / "bluesky" / "jetstream.jsonl"
A = "did:plc:4x7kq2mzd3abcdefgh5ijklm"
B = "did:plc:zz9yq8wv7utsrqponm6lkjih"
C = "did:web:berita.example.id"


def uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


read = partial(read_export, "bluesky_jetstream")


EXPECTED_SKIPPED = {
    "blank_line": 1,
    "collection:app.bsky.feed.like": 1,
    "collection:app.bsky.feed.repost": 1,
    "collection:app.bsky.graph.block": 1,
    "collection:app.bsky.graph.follow": 1,
    "commit:delete:app.bsky.feed.post": 1,
    "commit:update:app.bsky.actor.profile": 1,
    "kind:account": 1,
    "kind:identity": 1,
}


def test_counts_in_and_out():
    posts, quarantine, skipped = read(JETSTREAM)
    assert posts.column("source_record").to_pylist() == [1, 3, 8, 14, 17]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (9, "invalid JSON (malformed or truncated line)"),
        (13, f"post {uri(B, '3lbdz8hhhhi2b')} has an unparseable createdAt: kemarin sore"),
        (15, "not a Jetstream event: no did or kind"),
        (18, f"post create {uri(A, '3lbdzdmmmmn2b')} lacks commit.record"),
    ]
    assert skipped == EXPECTED_SKIPPED
    n_lines = len(JETSTREAM.read_bytes().splitlines())
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == n_lines == 18


def test_post_with_link_and_tag():
    p = by_id(read(JETSTREAM)[0])[uri(A, "3lbdyz2v5sk2b")]
    assert p["post_uid"] == "bluesky:" + uri(A, "3lbdyz2v5sk2b")
    assert p["platform"] == "bluesky" and p["kind"] == "post"
    assert p["author_id"] == A and p["author_handle"] is None
    assert p["created_at"] == datetime(2024, 11, 20, 10, 9, 59, 861000, tzinfo=UTC)
    assert p["text"].startswith("Personal branding itu penting banget buat karier 🚀")
    assert p["lang_declared"] == "id"
    assert p["hashtags"] == ["karier"]
    # the link facet, then the external embed's uri
    assert p["links"] == [
        "https://kompas.example.id/branding",
        "https://kompas.example.id/branding?utm_source=bsky",
    ]
    assert p["thread_id"] == p["post_id"] and p["reply_to_id"] is None
    assert p["url"] == f"https://bsky.app/profile/{A}/post/3lbdyz2v5sk2b"
    assert p["like_count"] is None and p["media_count"] == 0
    assert json.loads(p["raw"])["commit"]["cid"] == "bafyreia7abc1"


def test_reply_mentions_and_offset_time():
    p = by_id(read(JETSTREAM)[0])[uri(B, "3lbdz1bbbbc2b")]
    assert p["kind"] == "reply"
    assert p["reply_to_id"] == uri(A, "3lbdyz2v5sk2b")
    assert p["thread_id"] == uri(A, "3lbdyy0000000")
    assert p["mentions"] == [A]  # the mentioned DID, not the handle in the text
    assert p["hashtags"] == ["jobs", "Careers"]
    assert p["lang_declared"] == "en"  # first of langs
    assert p["created_at"] == datetime(2024, 11, 20, 10, 11, 30, tzinfo=UTC)  # 17:11:30+07:00


def test_quotes_media_and_time_fallback():
    posts = by_id(read(JETSTREAM)[0])
    q = posts[uri(C, "3lbdz3dddde2b")]  # recordWithMedia: a quote with two images
    assert q["kind"] == "quote" and q["quote_of_id"] == uri(B, "3lbdz1bbbbc2b")
    assert q["media_count"] == 2
    assert q["text"] == "Hoaks lagi nih, jangan asal share 🙏"
    plain = posts[uri(B, "3lbdz9iiiij2b")]  # a record embed, no createdAt, empty langs
    assert plain["kind"] == "quote" and plain["quote_of_id"] == uri(A, "3lbdyz2v5sk2b")
    assert plain["created_at"] == datetime(2024, 11, 20, 10, 22, 0, 12, tzinfo=UTC)  # from time_us
    assert plain["lang_declared"] is None
    feed = posts[uri(B, "3lbdzcllllm2b")]  # embeds a feed generator, not a post
    assert feed["kind"] == "post" and feed["quote_of_id"] is None


def test_compressed_variants_and_small_blocks(tmp_path: Path):
    plain = read(JETSTREAM)
    data = JETSTREAM.read_bytes()
    gz = tmp_path / "jetstream.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / "jetstream.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "jetstream.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("events/jetstream.jsonl", data)
    for variant in (gz, zst, zp):
        (src,) = expand(variant)
        assert detect(src).name == "bluesky_jetstream"
        got = read(variant)
        assert got[0].to_pylist() == plain[0].to_pylist()
        assert got[1].to_pylist() == plain[1].to_pylist()
        assert got[2] == plain[2]
    small = read(JETSTREAM, chunk_bytes=500)
    assert small[0].to_pylist() == plain[0].to_pylist()
    assert small[1].to_pylist() == plain[1].to_pylist()
    assert small[2] == plain[2]


def test_sniff_across_all_fixtures():
    jet = get("bluesky_jetstream")
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
        for src in expand(path):
            assert jet.sniff(src.head()) == (path == JETSTREAM), path
    (src,) = expand(JETSTREAM)
    head = src.head()
    for name, cls in adapters().items():
        if name != "bluesky_jetstream":
            assert not cls().sniff(head), name
    assert detect(src).name == "bluesky_jetstream"


def test_ingest_file_through_the_lake(settings):
    (entry,) = ingest_file(settings, JETSTREAM)
    assert entry["export_format"] == "bluesky_jetstream"
    assert (entry["loaded"], entry["quarantined"], entry["duplicates_within_batch"]) == (5, 4, 0)
    assert entry["records_in"] == 9
    assert entry["skipped"] == EXPECTED_SKIPPED and entry["skipped_total"] == 9
    assert entry["platforms"] == {"bluesky": 5}
    con = duckdb.connect()
    rows = con.execute(
        "select post_uid, created_date, author_key from read_parquet(?, hive_partitioning = true) "
        "order by source_record",
        [str(settings.posts_dir / "**" / "*.parquet")],
    ).fetchall()
    assert [str(r[1]) for r in rows] == ["2024-11-20"] * 5
    assert len({r[2] for r in rows}) == 3 and all(len(r[2]) == 32 for r in rows)


def test_reply_quote_and_mention_targets_are_the_dids_the_export_names():
    posts = by_id(read(JETSTREAM)[0])
    reply = posts[uri(B, "3lbdz1bbbbc2b")]
    assert reply["reply_to_author_id"] == A  # the parent URI's DID
    assert reply["mention_targets"] == [{"id": A, "handle": None}]
    assert reply["quote_of_author_id"] is None and reply["repost_of_author_id"] is None
    assert posts[uri(C, "3lbdz3dddde2b")]["quote_of_author_id"] == B  # recordWithMedia
    assert posts[uri(B, "3lbdz9iiiij2b")]["quote_of_author_id"] == A  # record
    feed = posts[uri(B, "3lbdzcllllm2b")]  # a feed generator embed is no quoted post
    assert feed["quote_of_author_id"] is None and feed["mention_targets"] == []


def test_lake_ids_carry_no_did_and_stay_joinable(settings):
    from ingest.lake import Pseudonymiser
    from ingest.remap import remap

    (entry,) = ingest_file(settings, JETSTREAM)
    glob = str(settings.posts_dir / "**" / "*.parquet")
    id_cols = ("post_uid", "post_id", "reply_to_id", "thread_id", "repost_of_id", "quote_of_id")

    def lake() -> list[dict]:
        con = duckdb.connect()
        cur = con.execute("select * exclude (created_date) from read_parquet(?, hive_partitioning = true) "
                          "order by source_record", [glob])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    rows = lake()
    for r in rows:
        for col in id_cols:
            assert "did:" not in (r[col] or ""), (col, r[col])
        assert r["post_uid"] == "bluesky:" + r["post_id"]
        assert r["raw"] and "did:" in r["raw"]  # the restricted raw record keeps the original
    key = Pseudonymiser("test-key").key_for
    by_post = {r["post_id"]: r for r in rows}
    reply = next(r for r in rows if r["kind"] == "reply")
    # joinable: the reply's reply_to_id is its parent's post_id; the keys are the authors' keys
    parent = by_post[reply["reply_to_id"]]
    assert parent["post_id"] == f"at://{key('bluesky:' + A)}/app.bsky.feed.post/3lbdyz2v5sk2b"
    assert reply["reply_to_author_key"] == parent["author_key"] == key("bluesky:" + A)
    assert reply["mention_keys"] == [{"author_key": parent["author_key"], "by_handle": False}]
    quotes = [r for r in rows if r["kind"] == "quote"]
    assert {by_post[q["quote_of_id"]]["author_key"] for q in quotes if q["quote_of_id"] in by_post} == {
        q["quote_of_author_key"] for q in quotes if q["quote_of_id"] in by_post}
    for q in quotes:
        assert q["quote_of_author_key"] in (key("bluesky:" + A), key("bluesky:" + B))
    # url is left as the export gives it (the marts decide what is published)
    assert all(r["url"].startswith("https://bsky.app/profile/did:") for r in rows)
    # discourse remap goes through the same writer: the same rows again
    remap(settings, batch_ids=[entry["batch_id"]])
    assert lake() == rows
