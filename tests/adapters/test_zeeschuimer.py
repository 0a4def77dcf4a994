"""The Zeeschuimer / 4CAT NDJSON adapter on hand-written captures of TikTok, Instagram, X and Threads."""

from __future__ import annotations

import gzip
import json
import time
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import zstandard
from _helpers import by_id, read_export, utc

from ingest.lake import ingest_file
from ingest.registry import detect, get
from ingest.sources import expand

ALL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURES = ALL_FIXTURES / "zeeschuimer"
MIXED = FIXTURES / "mixed.ndjson"


read = partial(read_export, "zeeschuimer")
by_uid = partial(by_id, key="post_uid")


# ---------------------------------------------------------------------------------------------- sniff


def test_sniff_claims_only_zeeschuimer_fixtures():
    adapter = get("zeeschuimer")
    n = 0
    for path in sorted(ALL_FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".txt"):
            continue
        for source in expand(path):
            assert adapter.sniff(source.head()) == (path.parent == FIXTURES), path
            n += 1
    assert n >= 10


def test_sniff_shapes():
    adapter = get("zeeschuimer")
    assert detect(expand(MIXED)[0]).name == "zeeschuimer"
    first = MIXED.read_bytes().split(b"\n", 1)[0]
    # One capture longer than the head: judged by the wrapper keys in its start.
    assert adapter.sniff(first[:300])
    assert not adapter.sniff(b'{"item_id": "1", "data": {"id": "1"}}\n')
    assert not adapter.sniff(b'{"source_platform": "tiktok.com", "data": "x", "timestamp_collected": 1}\n')
    assert not adapter.sniff(b'[{"source_platform": "tiktok.com"}]')


# -------------------------------------------------------------------------------------------- mapping


def test_counts():
    posts, quarantine, skipped = read(MIXED)
    assert posts.num_rows == 9
    assert skipped == {"source_platform:linkedin.com": 2, "blank_line": 1}
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (3, "tiktok item: 7441234567890000001 lacks a usable createTime"),
        (13, "invalid JSON (malformed or truncated line)"),
        (14, "instagram item: lacks pk/id"),
        (15, "Zeeschuimer item has no 'data' object"),
        (16, "x item: 1861234567890000000 lacks a usable legacy.created_at"),
    ]
    n_lines = len(MIXED.read_text(encoding="utf-8").splitlines())
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == n_lines == 17
    assert posts.column("platform").value_counts().to_pylist() == [
        {"values": "tiktok", "counts": 2},
        {"values": "instagram", "counts": 3},
        {"values": "x", "counts": 3},
        {"values": "threads", "counts": 1},
    ]


def test_tiktok():
    rows = by_uid(read(MIXED)[0])
    video = rows["tiktok:7441234567890123456"]
    assert video["created_at"] == utc(2025, 11, 24, 16, 0)
    assert (video["author_id"], video["author_handle"]) == ("6812345678901234567", "rina.karier")
    assert video["text"] == (
        "Personal branding itu penting banget buat karier 💼✨ #karier #personalbranding @hrd.indonesia"
    )
    assert video["lang_declared"] == "id"
    assert video["kind"] == "post"
    assert video["url"] == "https://www.tiktok.com/@rina.karier/video/7441234567890123456"
    assert (video["like_count"], video["share_count"], video["reply_count"], video["view_count"]) == (
        15400,
        320,
        210,
        250300,
    )
    assert video["hashtags"] == ["karier", "personalbranding"]
    assert video["mentions"] == ["hrd.indonesia"]
    assert video["media_count"] == 1
    assert video["source_record"] == 1
    assert json.loads(video["raw"])["source_platform"] == "tiktok.com"

    photos = rows["tiktok:7441234567890999999"]
    # author as a string with authorId, createTime as a string, statsV2 strings ("1.2K").
    assert (photos["author_id"], photos["author_handle"]) == ("6899999999999999999", "cekfakta.id")
    assert photos["created_at"] == utc(2025, 11, 24, 17, 0)
    assert (photos["like_count"], photos["share_count"], photos["reply_count"], photos["view_count"]) == (
        1200,
        87,
        45,
        30100,
    )
    assert photos["media_count"] == 3
    assert photos["lang_declared"] is None  # "un"


def test_instagram():
    rows = by_uid(read(MIXED)[0])
    carousel = rows["instagram:3489012345678901234"]
    assert carousel["url"] == "https://www.instagram.com/p/DBx3kLmPq7Z/"
    assert carousel["created_at"] == utc(2025, 11, 24, 18, 46, 40)
    assert (carousel["author_id"], carousel["author_handle"]) == ("5512345678", "relawan.pantai")
    assert carousel["text"] == (
        "Volunteer day kemarin seru banget! 🌊🧹 Thanks @pantai.bersih #relawan #volunteer"
    )
    assert carousel["hashtags"] == ["relawan", "volunteer"]
    assert carousel["mentions"] == ["pantai.bersih"]
    assert (carousel["like_count"], carousel["reply_count"], carousel["media_count"]) == (842, 37, 2)

    reel = rows["instagram:3489012345678909999"]
    assert reel["text"] == ""  # a null caption
    assert (reel["view_count"], reel["media_count"]) == (512000, 1)

    graph = rows["instagram:3400000000000000001"]
    assert graph["url"] == "https://www.instagram.com/p/C8aBcDeFgHi/"
    assert graph["text"] == "Lowongan kerja remote! Link di bio 👆 #loker #remotejob"
    assert (graph["like_count"], graph["reply_count"], graph["author_handle"]) == (95, 4, "info.loker")
    assert graph["created_at"] == utc(2024, 6, 21, 20, 0)


def test_x():
    rows = by_uid(read(MIXED)[0])
    tweet = rows["x:1861234567890123456"]
    assert tweet["created_at"] == utc(2025, 11, 26, 3, 15)
    assert tweet["text"] == (
        "@kemkominfo tolong klarifikasi: pesan bansos Rp 5 juta itu #hoaks & penipuan <waspada> "
        "https://t.co/AbCdEf123"
    )
    assert (tweet["author_id"], tweet["author_handle"]) == ("44196397", "kominfo_watch")
    assert tweet["lang_declared"] == "in"
    assert tweet["links"] == ["https://cekfakta.example.id/bansos"]
    assert (tweet["hashtags"], tweet["mentions"]) == (["hoaks"], ["kemkominfo"])
    assert (tweet["like_count"], tweet["share_count"], tweet["reply_count"], tweet["view_count"]) == (
        210,
        88,
        12,
        12345,
    )
    assert tweet["url"] == "https://x.com/kominfo_watch/status/1861234567890123456"
    assert tweet["thread_id"] == "1861234567890123456"

    retweet = rows["x:1861234567890777777"]
    assert retweet["kind"] == "repost"
    assert retweet["repost_of_id"] == "1860000000000000001"
    assert retweet["text"].startswith("RT @karier_coach: Thread panjang soal personal branding:")
    assert retweet["text"].endswith("butuh kerja. #karier")  # note_tweet: the full long text
    assert retweet["hashtags"] == ["karier"]
    assert retweet["view_count"] is None

    reply = rows["x:1861234567890888888"]  # wrapped in TweetWithVisibilityResults, handle in core
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == "1861234567890123456"
    assert reply["author_handle"] == "sarah_k"
    assert reply["media_count"] == 2
    assert reply["created_at"] == utc(2025, 11, 26, 5, 30, 45)


def test_threads():
    rows = by_uid(read(MIXED)[0])
    post = rows["threads:3489999999999999999"]
    assert post["url"] == "https://www.threads.net/@dewi.ayu/post/DB1thr3adsX"
    assert post["text"] == "Jujur aku cemas tiap mau posting. Anyone else feel this? 🫠"
    assert (post["like_count"], post["reply_count"], post["share_count"]) == (64, 9, 2)
    assert post["kind"] == "post"
    assert post["media_count"] == 0  # a text post: no image candidates


def test_compressed_variants_are_identical(tmp_path: Path):
    data = MIXED.read_bytes()
    gz = tmp_path / "capture.ndjson.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / "capture.ndjson.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "capture.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("4cat/capture.ndjson", data)
    plain = read(MIXED)
    for path in (gz, zst, zp):
        assert detect(expand(path)[0]).name == "zeeschuimer"
        got = read(path)
        assert got[0].equals(plain[0]) and got[1].equals(plain[1]) and got[2] == plain[2]


def test_small_blocks_give_the_same_result():
    whole = read(MIXED)
    for chunk_bytes in (1, 700, 5000):
        got = read(MIXED, chunk_bytes=chunk_bytes)
        assert got[0].equals(whole[0]) and got[1].equals(whole[1]) and got[2] == whole[2]


def test_lines_that_are_not_items(tmp_path: Path):
    first = MIXED.read_bytes().split(b"\n")[0]
    path = tmp_path / "capture.ndjson"
    path.write_bytes(
        b"\n".join(
            [
                first,
                b'["an", "array"]',
                b'{"item_id": "1", "timestamp_collected": 1, "data": {}}',
                b'{"item_id": "2", "source_platform": "tiktok.com", "data": {"id": "9", "desc": "\xff"}}',
                b'{"item_id": "3", "source_platform": "Gab.com", "timestamp_collected": 1, "data": {}}',
                b'{"item_id": "4", "source_platform": "www.TikTok.com", "data": '
                b'{"id": 7441234567890123999, "createTime": 1764000000.5, "author": {"uniqueId": "u"}, '
                b'"stats": {"diggCount": "3,4 rb"}}}',
            ]
        )
    )
    posts, quarantine, skipped = read(path)
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (2, "not a Zeeschuimer item: a JSON array, not an object"),
        (3, "not a Zeeschuimer item: no 'source_platform'"),
        (4, "invalid UTF-8"),
    ]
    assert skipped == {"source_platform:Gab.com": 1}
    assert posts.column("source_record").to_pylist() == [1, 6]
    numeric = by_uid(posts)["tiktok:7441234567890123999"]  # a numeric id past 2^53 stays exact
    assert numeric["created_at"] == datetime(2025, 11, 24, 16, 0, 0, 500000, tzinfo=UTC)
    assert numeric["like_count"] == 3400
    assert numeric["author_id"] == "u"  # no author id: the handle stands in


def test_no_final_line_break_and_crlf(tmp_path: Path):
    lines = MIXED.read_bytes().split(b"\n")[:2]
    path = tmp_path / "capture.ndjson"
    path.write_bytes(b"\r\n".join(lines))
    posts, quarantine, skipped = read(path)
    assert posts.column("source_record").to_pylist() == [1, 2]
    assert quarantine.num_rows == 0 and skipped == {}
    assert not posts.column("raw")[0].as_py().endswith("\r")


def test_ingest_file_through_the_lake(settings, tmp_path: Path):
    path = tmp_path / MIXED.name
    path.write_bytes(MIXED.read_bytes())
    (entry,) = ingest_file(settings, path)
    assert entry["status"] == "ingested"
    assert entry["export_format"] == "zeeschuimer"
    assert (entry["loaded"], entry["quarantined"], entry["duplicates_within_batch"]) == (9, 5, 0)
    assert entry["records_in"] == 14
    assert entry["skipped"] == {"source_platform:linkedin.com": 2, "blank_line": 1}
    assert entry["platforms"] == {"tiktok": 2, "instagram": 3, "x": 3, "threads": 1}
    partitions = {p.parent.parent.name for p in settings.posts_dir.rglob("*.parquet")}
    assert partitions == {"platform=tiktok", "platform=instagram", "platform=x", "platform=threads"}


@pytest.mark.bench
def test_throughput(tmp_path: Path):
    """Items per second through the adapter (``pytest -m bench -s``)."""
    items = [line for line in MIXED.read_text(encoding="utf-8").splitlines()[:10]]
    n = 100_000
    path = tmp_path / "capture.ndjson"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(items[i % 10] + "\n")
    started = time.perf_counter()
    posts, quarantine, _ = read(path)
    seconds = time.perf_counter() - started
    assert posts.num_rows == n * 9 // 10 and quarantine.num_rows == n // 10
    print(f"\nzeeschuimer: {n / seconds:,.0f} items/s ({path.stat().st_size / seconds / 1e6:.1f} MB/s)")
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    con.sql(
        f"copy (select * from read_json('{path}', format = 'newline_delimited', ignore_errors = true)) "
        f"to '{tmp_path / 'bare.parquet'}' (format parquet)"
    )
    bare = time.perf_counter() - started
    con.close()
    print(f"bare DuckDB read_json -> Parquet: {n / bare:,.0f} items/s; adapter/bare {bare / seconds:.2f}")


def test_tiktok_comments():
    posts, quarantine, skipped = read(FIXTURES / "tiktok_comments.ndjson")
    rows = by_uid(posts)
    assert sorted(rows) == [
        "tiktok:7441300000000000001",
        "tiktok:7441300000000000002",
        "tiktok:7441300000000000003",
    ]
    assert quarantine.column("source_record").to_pylist() == [4]
    assert "lacks a usable create_time" in quarantine.column("error")[0].as_py()
    assert skipped == {}
    top = rows["tiktok:7441300000000000001"]
    assert top["kind"] == "comment" and top["platform"] == "tiktok"
    assert top["created_at"] == utc(2025, 11, 24, 17, 0, 0)
    assert top["text"].startswith("Setuju banget kak") and top["mentions"] == ["dimas.hr"]
    assert (top["author_id"], top["author_handle"]) == ("6900000000000000001", "sari.dev")
    # a comment on the video answers the video; the thread is the video
    assert top["reply_to_id"] == top["thread_id"] == "7441234567890123456"
    assert (top["like_count"], top["reply_count"], top["lang_declared"]) == (152, 2, "id")
    assert top["url"].endswith("?comment_id=7441300000000000001")
    reply = rows["tiktok:7441300000000000002"]
    assert reply["created_at"] == utc(2025, 11, 24, 18, 0, 0)  # create_time as a string
    assert reply["reply_to_id"] == "7441300000000000001" and reply["hashtags"] == ["careertips"]
    # a reply to a reply names that one
    assert rows["tiktok:7441300000000000003"]["reply_to_id"] == "7441300000000000002"


# ------------------------------------------------------------------- the conversation's accounts


def _zs_line(platform: str, data: dict) -> str:
    return json.dumps({"item_id": "1", "timestamp_collected": 1764057600123, "source_platform": platform,
                       "source_platform_url": f"https://{platform}/", "data": data})


def test_targets_the_items_state():
    posts = by_id(read(MIXED)[0])
    # TikTok: textExtra mentions carry the user id and the handle
    assert posts["7441234567890123456"]["mention_targets"] == [
        {"id": "6800000000000000001", "handle": "hrd.indonesia"}]
    # X: the retweeted original's author; the tweet's own user_mentions with their ids
    rt = posts["1861234567890777777"]
    assert rt["repost_of_author_id"] == "55555"
    assert rt["mention_targets"] == [{"id": "55555", "handle": "karier_coach"}]
    reply = posts["1861234567890888888"]  # names the replied-to screen name only: no id is invented
    assert reply["reply_to_author_id"] is None
    assert reply["mention_targets"] == [{"id": "44196397", "handle": "kominfo_watch"}]
    # Instagram's caption mentions are text, not structure
    assert posts["3489012345678901234"]["mention_targets"] == []
    comments = by_id(read(FIXTURES / "tiktok_comments.ndjson")[0])
    assert comments["7441300000000000001"]["mention_targets"] == [
        {"id": "6900000000000000009", "handle": None}]


def test_x_reply_quote_and_threads_share_targets(tmp_path):
    tweet = {"rest_id": "20", "core": {"user_results": {"result": {"rest_id": "7"}}},
             "legacy": {"created_at": "Wed Nov 26 05:30:45 +0000 2025", "full_text": "@a @b x",
                        "in_reply_to_status_id_str": "10", "in_reply_to_user_id_str": "1",
                        "is_quote_status": True, "quoted_status_id_str": "11",
                        "entities": {"user_mentions": [{"screen_name": "a", "id_str": "1"},
                                                       {"screen_name": "B", "id_str": "2"},
                                                       {"screen_name": "a", "id_str": "1"}]}},
             "quoted_status_result": {"result": {"rest_id": "11", "core": {"user_results": {
                 "result": {"rest_id": "3"}}}, "legacy": {"user_id_str": "3"}}}}
    threads = {"pk": "30", "code": "C", "taken_at": 1764030000, "caption": {"text": "t"},
               "user": {"pk": "8", "username": "u"},
               "text_post_app_info": {"share_info": {"reposted_post": {"pk": "31", "user": {"pk": "9"}},
                                                     "quoted_post": None}}}
    reply = {"pk": "32", "code": "D", "taken_at": 1764030000, "caption": {"text": "r"},
             "user": {"pk": "8", "username": "u"},
             "text_post_app_info": {"reply_to_author": {"pk": "9", "username": "v"}, "is_reply": True}}
    path = tmp_path / "z.ndjson"
    path.write_text("\n".join([_zs_line("x.com", tweet), _zs_line("threads.net", threads),
                               _zs_line("threads.net", reply)]) + "\n", encoding="utf-8")
    posts = by_id(read(path)[0])
    q = posts["20"]
    assert q["kind"] == "quote" and q["quote_of_author_id"] == "3" and q["reply_to_author_id"] == "1"
    assert q["mention_targets"] == [{"id": "1", "handle": "a"}, {"id": "2", "handle": "B"}]
    assert posts["30"]["kind"] == "repost" and posts["30"]["repost_of_author_id"] == "9"
    assert posts["32"]["kind"] == "reply" and posts["32"]["reply_to_author_id"] == "9"


@pytest.mark.parametrize(
    ("source_platform", "item", "error"),
    [
        ("tiktok.com", '{"id": "1", "createTime": 1764000000, "desc": "hi"}', None),
        ("tiktok.com", "{}", "tiktok item: lacks id"),
        ("tiktok.com", '{"textExtra": 3}', "tiktok item: lacks id"),
        ("tiktok-comments", '{"cid": "7", "create_time": 1764000000}', None),
        ("tiktok-comments", '{"user": "bad", "cid": "8"}', "tiktok comment: 8 lacks a usable create_time"),
        ("tiktok-comments", "{}", "tiktok comment: lacks cid"),
        ("instagram.com", '{"pk": "9", "taken_at": 1764000000}', None),
        ("instagram.com", '{"id": "3_4", "taken_at": 1764000000}', None),
        ("threads.net", "{}", "threads item: lacks pk/id"),
        ("x.com", "{}", "x item: lacks rest_id"),
    ]
    + [
        (platform, data, "Zeeschuimer item has no 'data' object")
        for platform in ("tiktok.com", "tiktok-comments", "instagram.com", "threads.net", "x.com")
        for data in ("[1]", "[]", '"s"', "5", "true", "null", None)
    ],
)
def test_data_that_is_no_object_is_quarantined_on_every_platform(
    tmp_path: Path, source_platform: str, item: str | None, error: str | None
):
    """Each platform's statement tells an object ``data`` from anything else by its own parse of the
    line (``data`` that is no object parses to a struct of nulls); the reasons stay per platform."""
    head = (FIXTURES / "mixed.ndjson").read_text(encoding="utf-8").splitlines()[:3]  # sniffed as Zeeschuimer
    line = {"source_platform": source_platform, "item_id": "q"}
    text = json.dumps(line)[:-1] + (f', "data": {item}}}' if item is not None else "}")
    path = tmp_path / "items.ndjson"
    path.write_text("\n".join([*head, text]) + "\n", encoding="utf-8")
    posts, quarantine, _ = read(path)
    records, reasons = quarantine.column("source_record").to_pylist(), quarantine.column("error").to_pylist()
    errors = dict(zip(records, reasons, strict=True))
    assert errors.get(4) == error
    if error is None:
        assert 4 in posts.column("source_record").to_pylist()


def test_blocks_holding_some_platforms_map_as_one_block(tmp_path: Path):
    """A block runs only the statements of the platforms it holds (and all of them when it holds no
    known one): small blocks of a file grouped by platform give what one block gives."""
    def platform(line: str) -> str:
        try:
            item = json.loads(line)
        except ValueError:
            return ""
        return str(item.get("source_platform", "")) if isinstance(item, dict) else ""

    files = sorted(FIXTURES.glob("*.ndjson"))
    lines = [ln for f in files for ln in f.read_text(encoding="utf-8").splitlines()]
    lines.sort(key=lambda ln: (platform(ln), ln))
    lines.insert(0, lines.pop(next(i for i, ln in enumerate(lines) if platform(ln))))  # sniffed
    other = {"source_platform": "linkedin.com", "timestamp_collected": 1, "item_id": "l", "data": {"x": 1}}
    lines += [json.dumps(other)] * 3
    path = tmp_path / "grouped.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read(path, chunk_bytes=1 << 26)
    small = read(path, chunk_bytes=2000)
    assert small[0].equals(whole[0]) and small[1].equals(whole[1]) and small[2] == whole[2]
    assert whole[0].num_rows > 0 and whole[2].get("source_platform:linkedin.com", 0) >= 3
    only_other = tmp_path / "other.ndjson"
    only_other.write_text(json.dumps(other) + "\n", encoding="utf-8")
    posts, quarantine, skipped = read(only_other)
    assert (posts.num_rows, quarantine.num_rows, skipped) == (0, 0, {"source_platform:linkedin.com": 1})
