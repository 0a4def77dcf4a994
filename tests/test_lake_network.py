"""The conversation network's raw material in the lake: target author keys, mention keys, Bluesky ids
without DIDs, and lake files written before those columns existed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from discourse.settings import load_settings
from ingest.lake import Pseudonymiser, ingest_source
from ingest.registry import Adapter, AdapterChunk
from ingest.schema import ADAPTER_SCHEMA, AUTHOR_KEY_FIELDS, MENTION_TARGET, POST_SCHEMA, conform
from ingest.sources import expand

KEY = "k" * 40


def _adapter_rows(rows: list[dict]) -> pa.Table:
    cols = {f.name: [r.get(f.name) for r in rows] for f in ADAPTER_SCHEMA}
    return conform(pa.table({k: pa.array(v, ADAPTER_SCHEMA.field(k).type) for k, v in cols.items()}))


def _row(i: int, platform: str, post_id: str, author: str, **extra) -> dict:
    return {"post_uid": f"{platform}:{post_id}", "platform": platform, "post_id": post_id,
            "created_at": datetime(2026, 11, 1, 12, i, tzinfo=UTC), "author_id": author, "text": f"p{i}",
            "kind": "post", "hashtags": [], "mentions": [], "links": [], "media_count": 0, "raw": "{}",
            "source_record": i, **extra}


class _Replay(Adapter):
    name = "test_replay"
    platform = "x"

    def __init__(self, table: pa.Table):
        self.table = table

    def sniff(self, head: bytes) -> bool:
        return False

    def read(self, source, options):
        yield AdapterChunk(posts=self.table, quarantine=None, skipped={})


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(env={"DISCOURSE_PSEUDONYM_KEY": KEY}, home=tmp_path / "home")


def _ingest(settings, tmp_path: Path, rows: list[dict]) -> list[dict]:
    p = tmp_path / "export.jsonl"
    p.write_text('{"any": "content"}\n')
    ingest_source(settings, expand(p)[0], _Replay(_adapter_rows(rows)))
    files = sorted(settings.posts_dir.rglob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f, partitioning=None) for f in files])
    return table.sort_by("source_record").to_pylist()


def test_target_and_mention_keys_are_author_keys(settings, tmp_path):
    pseudo = Pseudonymiser(KEY)
    did = "did:plc:abcdefghijklmnopqrstuvwx"
    rows = _ingest(settings, tmp_path, [
        _row(1, "x", "100", "11", kind="reply", reply_to_id="99", reply_to_author_id="22",
             mention_targets=[{"id": "22", "handle": "Budi"}, {"id": None, "handle": "Siti_X"}]),
        _row(2, "x", "101", "11", kind="repost", repost_of_id="100", repost_of_author_id="11"),
        _row(3, "x", "102", "22", kind="quote", quote_of_id="100", quote_of_author_id="11",
             mention_targets=None),
        _row(4, "bluesky", f"at://{did}/app.bsky.feed.post/3k", did,
             mention_targets=[{"id": did, "handle": None}]),
    ])
    assert [f.name for f in AUTHOR_KEY_FIELDS] == ["reply_to_author_key", "repost_of_author_key",
                                                   "quote_of_author_key", "mention_keys"]
    names = POST_SCHEMA.names
    assert names[names.index("quote_of_id") + 1: names.index("quote_of_id") + 5] == [
        f.name for f in AUTHOR_KEY_FIELDS]
    for gone in ("reply_to_author_id", "repost_of_author_id", "quote_of_author_id", "mention_targets"):
        assert gone not in names
    r1, r2, r3, r4 = rows
    # a target is keyed exactly as that account's own posts are
    assert r1["reply_to_author_key"] == r3["author_key"] == pseudo.key_for("x:22")
    assert r2["repost_of_author_key"] == r1["author_key"] == pseudo.key_for("x:11")
    assert r3["quote_of_author_key"] == r1["author_key"]
    assert r1["mention_keys"] == [
        {"author_key": r3["author_key"], "by_handle": False},
        {"author_key": pseudo.key_for("x:@siti_x"), "by_handle": True},
    ]
    assert r2["mention_keys"] == [] and r3["mention_keys"] == []
    assert r2["reply_to_author_key"] is None and r1["quote_of_author_key"] is None
    assert r4["mention_keys"] == [{"author_key": r4["author_key"], "by_handle": False}]
    assert r4["author_key"] == pseudo.key_for(f"bluesky:{did}")


def test_bluesky_ids_carry_no_did_and_stay_joinable(settings, tmp_path):
    a, b = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:web:berita.example.id"
    root = f"at://{a}/app.bsky.feed.post/3kroot"
    reply = f"at://{b}/app.bsky.feed.post/3kreply"
    quote = f"at://{a}/app.bsky.feed.post/3kquote"
    raw = json.dumps({"did": b})
    rows = _ingest(settings, tmp_path, [
        _row(1, "bluesky", root, a, thread_id=root, url=f"https://bsky.app/profile/{a}/post/3kroot"),
        _row(2, "bluesky", reply, b, kind="reply", reply_to_id=root, thread_id=root, raw=raw),
        _row(3, "bluesky", quote, a, kind="quote", quote_of_id=reply, thread_id=quote),
        _row(4, "x", "at://did:plc:notbluesky/x", "7"),
    ])
    by_rec = {r["source_record"]: r for r in rows}
    for r in rows[:3]:
        for col in ("post_uid", "post_id", "reply_to_id", "thread_id", "repost_of_id", "quote_of_id"):
            assert "did:" not in (r[col] or ""), (col, r[col])
        assert r["post_uid"] == f"bluesky:{r['post_id']}"
    key_a = Pseudonymiser(KEY).key_for(f"bluesky:{a}")
    assert by_rec[1]["post_id"] == f"at://{key_a}/app.bsky.feed.post/3kroot"
    assert by_rec[2]["reply_to_id"] == by_rec[1]["post_id"] == by_rec[2]["thread_id"]
    assert by_rec[3]["quote_of_id"] == by_rec[2]["post_id"]
    # raw keeps the record as exported (the lake is restricted); url is left to the marts
    assert by_rec[2]["raw"] == raw
    assert by_rec[1]["url"] == f"https://bsky.app/profile/{a}/post/3kroot"
    # other platforms' ids are not touched
    assert by_rec[4]["post_id"] == "at://did:plc:notbluesky/x"


def test_ids_kept_when_pseudonymisation_is_off(tmp_path):
    settings = load_settings(env={"DISCOURSE_PSEUDONYMISE": "false"}, home=tmp_path / "home")
    uri = "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3k"
    [r] = _ingest(settings, tmp_path, [_row(1, "bluesky", uri, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa",
                                            mention_targets=[{"id": None, "handle": "Ana.bsky.social"}])])
    assert r["post_id"] == uri
    assert r["mention_keys"] == [{"author_key": "bluesky:@ana.bsky.social", "by_handle": True}]


def test_mention_keys_vectorised_over_sliced_lists():
    pseudo = Pseudonymiser(None)
    targets = pa.array([[{"id": "0", "handle": None}],
                        [{"id": "1", "handle": "A"}, {"id": None, "handle": "@B"}, {"id": "", "handle": ""}],
                        None, []], pa.list_(MENTION_TARGET))
    got = pseudo.mention_keys(pa.array(["x", "x", "x"]), pa.chunked_array([targets.slice(1, 3)]))
    assert got.to_pylist() == [
        [{"author_key": "x:1", "by_handle": False}, {"author_key": "x:@b", "by_handle": True}], [], []]


# ------------------------------------------------------------------------------------------------ dbt

def _old_schema() -> pa.Schema:
    """POST_SCHEMA as it was before the network columns."""
    return pa.schema([f for f in POST_SCHEMA if f not in AUTHOR_KEY_FIELDS])


def _lake_row(post_id: str, batch: str, **extra) -> dict:
    row = {f.name: None for f in POST_SCHEMA}
    row.update(post_uid=f"x:{post_id}", platform="x", post_id=post_id,
               created_at=datetime(2026, 2, 20, 9, 0, tzinfo=UTC), author_key=f"a-{post_id}",
               text="teks", kind="post", hashtags=[], mentions=[], links=[], media_count=0, raw="{}",
               source_file=f"{batch}.jsonl", source_record=1, export_format="test", batch_id=batch,
               ingested_at=datetime(2026, 2, 21, 1, 0, tzinfo=UTC))
    row.update(extra)
    return row


def _write(settings, batch: str, rows: list[dict], schema: pa.Schema) -> None:
    path = settings.posts_dir / "platform=x" / "created_date=2026-02-20" / f"{batch}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema),
                   path)


def _staged(settings) -> dict[str, dict]:
    from discourse.transform import build_marts

    build_marts(settings, select="stg_lake__posts")
    con = duckdb.connect(str(settings.build_warehouse), read_only=True)
    try:
        cur = con.execute("select post_id, reply_to_author_key, repost_of_author_key, quote_of_author_key, "
                          "mention_keys from staging.stg_lake__posts")
        cols = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'stg_lake__posts'").fetchall())
    finally:
        con.close()
    assert types["mention_keys"] == "STRUCT(author_key VARCHAR, by_handle BOOLEAN)[]"
    assert types["reply_to_author_key"] == "VARCHAR"
    return rows


@pytest.mark.integration
def test_staging_reads_lake_files_from_before_the_columns(tmp_path):
    settings = load_settings(env={}, home=tmp_path / "home")
    # a lake of old files only: the columns exist nowhere in it
    _write(settings, "old-batch", [_lake_row("1", "old-batch")], _old_schema())
    rows = _staged(settings)
    assert rows["1"] == {"post_id": "1", "reply_to_author_key": None, "repost_of_author_key": None,
                         "quote_of_author_key": None, "mention_keys": []}
    # old and new files side by side
    _write(settings, "new-batch", [_lake_row(
        "2", "new-batch", kind="reply", reply_to_id="1", reply_to_author_key="a-1",
        mention_keys=[{"author_key": "a-1", "by_handle": False}, {"author_key": "h", "by_handle": True}],
    )], POST_SCHEMA)
    rows = _staged(settings)
    assert rows["1"]["mention_keys"] == [] and rows["1"]["reply_to_author_key"] is None
    assert rows["2"]["reply_to_author_key"] == "a-1"
    assert rows["2"]["mention_keys"] == [{"author_key": "a-1", "by_handle": False},
                                         {"author_key": "h", "by_handle": True}]
