"""Delete events in Bluesky Jetstream and Mastodon outbox exports: each adapter still counts them as
skipped records, and passes the deleted posts' uids on as ``AdapterChunk.deletes`` (the lake keeps
them as tombstones; ``tests/test_delete_events.py`` follows them through the lake)."""

from __future__ import annotations

import json
from pathlib import Path

from _helpers import collect, read_chunks

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# outside tests/fixtures: the format tests hold every file there to be one format's own fixture
DELETES = Path(__file__).resolve().parents[1] / "fixtures_delete_events"
A = "did:plc:7delete0author0aaaaaaaaa"
B = "did:plc:7delete0author0bbbbbbbbb"
SARI = "https://ruang.example.id/users/sari"


def _uid(did: str, rkey: str) -> str:
    return f"bluesky:at://{did}/app.bsky.feed.post/{rkey}"


def test_bluesky_post_deletes_are_passed_on_and_still_counted():
    chunks = read_chunks("bluesky_jetstream", DELETES / "bluesky_a.jsonl")
    posts, quarantine, skipped = collect(chunks)
    deletes = [d for c in chunks for d in c.deletes]
    assert deletes == [_uid(A, "3ldgone00002"), _uid(B, "3ldlate00004")]
    # the delete's uid is the one its create maps to
    assert _uid(A, "3ldgone00002") in posts.column("post_uid").to_pylist()
    assert skipped == {"commit:delete:app.bsky.feed.post": 2, "collection:app.bsky.feed.like": 1}
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == 6


def test_bluesky_hand_written_fixture_deletes():
    chunks = read_chunks("bluesky_jetstream", FIXTURES / "bluesky" / "jetstream.jsonl")
    deletes = [d for c in chunks for d in c.deletes]
    assert deletes == [_uid("did:plc:4x7kq2mzd3abcdefgh5ijklm", "3lbdyx1111112")]


def test_bluesky_other_deletes_are_not_post_deletes(tmp_path):
    """A like's or a follow's delete removes no post; a post delete without rkey names none."""
    p = tmp_path / "d.jsonl"
    events = [
        {"did": A, "time_us": 1764000000000001, "kind": "commit",
         "commit": {"operation": "delete", "collection": "app.bsky.feed.like", "rkey": "3ldlike00001"}},
        {"did": A, "time_us": 1764000000000002, "kind": "commit",
         "commit": {"operation": "delete", "collection": "app.bsky.feed.post"}},
    ]
    p.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    chunks = read_chunks("bluesky_jetstream", p)
    assert [d for c in chunks for d in c.deletes] == []
    skipped = collect(chunks)[2]
    assert skipped == {"commit:delete:app.bsky.feed.like": 1, "commit:delete:app.bsky.feed.post": 1}


def test_mastodon_delete_and_undo_of_a_boost_are_passed_on():
    chunks = read_chunks("mastodon", DELETES / "mastodon_outbox.json")
    posts, _, skipped = collect(chunks)
    deletes = [d for c in chunks for d in c.deletes]
    assert deletes == [
        f"mastodon:{SARI}/statuses/113500000000000002",  # Delete with a Tombstone
        f"mastodon:{SARI}/statuses/113500000000000009/activity",  # Undo of the Announce (the boost)
        f"mastodon:{SARI}/statuses/113500000000000007",  # Delete with a bare URI
    ]
    uids = set(posts.column("post_uid").to_pylist())
    assert deletes[0] in uids and deletes[1] in uids and deletes[2] not in uids
    assert skipped == {"activity:Delete": 2, "activity:Undo": 1, "activity:Like": 1}
