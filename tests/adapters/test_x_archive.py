"""The X account archive adapter (tweets.js / tweets-partN.js, alone or in the archive zip)."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
import pytest
import zstandard
from _helpers import by_id, read_export

from ingest.lake import ingest_file
from ingest.registry import adapters, detect, get
from ingest.sources import expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ARCHIVE = FIXTURES / "x_archive"
TWEETS = ARCHIVE / "data" / "tweets.js"
PART1 = ARCHIVE / "data" / "tweets-part1.js"
CUT = ARCHIVE / "tweets_cut_off.js"


read = partial(read_export, "x_archive")


def build_archive(path: Path) -> Path:
    """An archive zip laid out as X delivers it, from the fixture files plus a few binary members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((ARCHIVE / "data").iterdir()):
            zf.write(f, f"data/{f.name}")
        zf.writestr(
            "Your archive.html", "<!DOCTYPE html>\n<html><head><title>Your archive</title></head></html>"
        )
        zf.writestr(
            "data/tweets_media/1894567890123456790-GkAbC0.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64),
        )
        zf.writestr("assets/js/main.js", "!function(e){var t={};function n(r){return t[r]}}([]);\n")
    return path


def test_part0_counts_and_fields():
    posts, quarantine, skipped = read(TWEETS)
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (5, "tweet 1894567890123456793 has no parseable created_at: None"),
    ]
    assert skipped == {}
    rows = by_id(posts)
    p = rows["1894567890123456789"]
    assert p["post_uid"] == "x:1894567890123456789" and p["platform"] == "x"
    assert p["created_at"] == datetime(2026, 2, 20, 9, 10, 58, tzinfo=UTC)
    assert p["text"] == (
        "Personal branding itu penting banget buat karier & networking #karier #PersonalBranding "
        "https://t.co/AbCdEf1234"
    )
    assert p["kind"] == "post" and p["thread_id"] == p["post_id"]
    assert (p["like_count"], p["share_count"]) == (15, 3)  # strings in the archive
    assert p["hashtags"] == ["karier", "PersonalBranding"]
    assert p["links"] == ["https://kompas.example.id/karier/personal-branding"]  # never t.co
    assert p["lang_declared"] == "in"
    # an extracted archive: account.js beside tweets.js names the owner
    assert (p["author_id"], p["author_handle"]) == ("1234567890", "budi_karier")
    assert p["url"] == "https://x.com/budi_karier/status/1894567890123456789"
    assert json.loads(p["raw"])["source"].startswith("<a href=")

    media = rows["1894567890123456790"]
    assert media["media_count"] == 2  # extended_entities, not the single entities.media
    assert media["links"] == [] and media["text"] == "Foto acara relawan kemarin 🙌🌱 https://t.co/Med1aAbCdE"
    assert media["created_at"] == datetime(2026, 2, 21, 23, 59, 59, tzinfo=UTC)

    reply = rows["1894567890123456791"]
    assert reply["kind"] == "reply" and reply["reply_to_id"] == "1894000000000000001"
    assert reply["thread_id"] is None
    assert reply["mentions"] == ["kemkominfo_id"]
    assert reply["text"] == "@kemkominfo_id Ini hoaks atau bukan? Tolong dicek <3"

    rt = rows["1894567890123456792"]
    assert rt["kind"] == "repost" and rt["repost_of_id"] is None
    assert rt["share_count"] == 57 and rt["like_count"] == 0
    assert rt["links"] == ["https://news.example.com/2026/02/recruiters-social-media"]


def test_part1_quote_offsets_and_bad_items():
    posts, quarantine, skipped = read(PART1)
    assert posts.column("source_record").to_pylist() == [1, 2]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (3, "archive item is not a tweet object"),
        (4, "tweet lacks id_str"),
        (5, "tweet 1894567890123456797 has no parseable created_at: '26/02/2026 10:00'"),
    ]
    rows = by_id(posts)
    quote = rows["1894567890123456794"]
    assert quote["kind"] == "quote" and quote["quote_of_id"] == "1894000000000000099"
    emoji = rows["1894567890123456795"]
    assert emoji["created_at"] == datetime(2026, 2, 25, 6, 0, tzinfo=UTC)  # +0700 → UTC
    assert emoji["lang_declared"] is None  # qme: media only
    assert (emoji["like_count"], emoji["share_count"]) == (3, 0)  # numbers, not strings


def test_cut_off_file_keeps_complete_items():
    posts, quarantine, _ = read(CUT)
    assert posts.column("post_id").to_pylist() == ["1894567890123456789", "1894567890123456790"]
    (q,) = quarantine.to_pylist()
    assert q["source_record"] == 3
    assert q["error"].startswith("invalid JSON at item 3 (cut off or malformed")


def test_account_unknown_or_from_options(tmp_path: Path):
    loose = tmp_path / "tweets.js"  # no account.js beside it
    loose.write_bytes(TWEETS.read_bytes())
    posts = read(loose)[0]
    p = by_id(posts)["1894567890123456789"]
    # A lone tweets.js (shared without account.js): one stable author for the whole file, no handle.
    assert p["author_id"].startswith("archive-file:") and p["author_handle"] is None
    assert set(posts.column("author_id").to_pylist()) == {p["author_id"]}
    assert by_id(read(loose)[0])["1894567890123456789"]["author_id"] == p["author_id"]  # stable
    assert p["url"] == "https://x.com/i/web/status/1894567890123456789"
    p = by_id(read(loose, account="1234567890:@budi_karier")[0])["1894567890123456789"]
    assert (p["author_id"], p["author_handle"]) == ("1234567890", "budi_karier")
    assert p["url"] == "https://x.com/budi_karier/status/1894567890123456789"
    rows = by_id(read(loose, account={"accountId": "42"})[0])
    assert rows["1894567890123456789"]["author_id"] == "42"
    assert rows["1894567890123456789"]["author_handle"] is None


def test_compressed_variants_identical(tmp_path: Path):
    plain = read(TWEETS, account="1234567890:budi_karier")
    data = TWEETS.read_bytes()
    gz = tmp_path / "tweets.js.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / "tweets.js.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "tweets_only.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("tweets.js", data)
    for variant in (gz, zst, zp):
        (src,) = expand(variant)
        assert detect(src).name == "x_archive"
        got = read(variant, account="1234567890:budi_karier")
        assert got[0].to_pylist() == plain[0].to_pylist()
        assert got[1].to_pylist() == plain[1].to_pylist()


def test_archive_zip_reads_account(tmp_path: Path):
    zp = build_archive(tmp_path / "twitter-2026-03-01-abc.zip")
    srcs = {s.member: s for s in expand(zp)}
    posts, quarantine, _ = read(srcs["data/tweets.js"])
    assert posts.column("author_id").to_pylist() == ["1234567890"] * 4
    assert posts.column("author_handle").to_pylist() == ["budi_karier"] * 4
    # the same mapping as the extracted archive
    assert posts.to_pylist() == read(TWEETS)[0].to_pylist()
    assert quarantine.to_pylist() == read(TWEETS)[1].to_pylist()
    # the explicit option does not override the archive's own account.js
    assert read(srcs["data/tweets.js"], account="42")[0].to_pylist() == posts.to_pylist()


def test_sniff_across_all_fixtures(tmp_path: Path):
    xa = get("x_archive")
    mine = {TWEETS, PART1, CUT}
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
        for src in expand(path):
            assert xa.sniff(src.head()) == (path in mine), path
    for path in mine:
        (src,) = expand(path)
        head = src.head()
        for name, cls in adapters().items():
            if name != "x_archive":
                assert not cls().sniff(head), (name, path)
        assert detect(src).name == "x_archive"
    # the older singular form is recognised too; likes and deleted tweets are not
    assert xa.sniff(b"window.YTD.tweet.part0 = [ {\n")
    assert not xa.sniff(b"window.YTD.like.part0 = [ {\n")
    assert not xa.sniff(b"window.YTD.deleted_tweets.part0 = [ {\n")


def test_forced_format_on_a_non_tweets_file_is_a_clear_error():
    with pytest.raises(ValueError, match="not an X archive tweets file"):
        read(ARCHIVE / "data" / "like.js")


def test_ingest_archive_zip_through_the_lake(settings, tmp_path: Path):
    zp = build_archive(tmp_path / "twitter-2026-03-01-abc.zip")
    entries = ingest_file(settings, zp)
    by_member = {e["source_member"]: e for e in entries}
    assert set(by_member) == {"data/tweets.js", "data/tweets-part1.js"}
    t0, t1 = by_member["data/tweets.js"], by_member["data/tweets-part1.js"]
    assert (t0["loaded"], t0["quarantined"], t0["records_in"]) == (4, 1, 5)
    assert (t1["loaded"], t1["quarantined"], t1["records_in"]) == (2, 3, 5)
    for e in entries:
        assert e["export_format"] == "x_archive" and e["platform"] == "x"
        assert e["records_in"] == e["loaded"] + e["quarantined"] + e["duplicates_within_batch"]
        assert e["skipped"] == {}
    # the other members are reported once (on the first batch), not errors
    assert sum("unrecognised_members" in e for e in entries) == 1
    unrec = entries[0]["unrecognised_members"]
    for member in (
        "data/account.js",
        "data/like.js",
        "data/deleted-tweets.js",
        "data/manifest.js",
        "Your archive.html",
        "assets/js/main.js",
    ):
        assert any(f"!{member}:" in u for u in unrec), member
    assert t0["batch_id"] != t1["batch_id"]
    con = duckdb.connect()
    rows = con.execute(
        "select post_id, author_key, created_date, source_file "
        "from read_parquet(?, hive_partitioning = true) order by post_id",
        [str(settings.posts_dir / "**" / "*.parquet")],
    ).fetchall()
    assert len(rows) == 6
    assert len({r[1] for r in rows}) == 1 and len(rows[0][1]) == 32  # one pseudonymised owner
    assert rows[0][3].endswith("!data/tweets.js")
    q = con.execute(
        "select source_file, source_record from read_parquet(?) order by 1, 2",
        [str(settings.quarantine_dir / "**" / "*.parquet")],
    ).fetchall()
    assert [(f.rsplit("!", 1)[1], n) for f, n in q] == [
        ("data/tweets-part1.js", 3),
        ("data/tweets-part1.js", 4),
        ("data/tweets-part1.js", 5),
        ("data/tweets.js", 5),
    ]


def test_empty_archive_and_trailing_semicolon(tmp_path: Path):
    empty = tmp_path / "tweets.js"
    empty.write_text("window.YTD.tweets.part0 = [ ]", encoding="utf-8")
    posts, quarantine, skipped = read(empty)
    assert (posts.num_rows, quarantine.num_rows, skipped) == (0, 0, {})
    semi = tmp_path / "tweets-part2.js"
    body = TWEETS.read_text(encoding="utf-8").replace("part0", "part2", 1)
    semi.write_text("\ufeff" + body + ";\n", encoding="utf-8")
    (src,) = expand(semi)
    assert detect(src).name == "x_archive"
    posts, quarantine, _ = read(semi)
    assert posts.num_rows == 4 and quarantine.num_rows == 1
    junk = tmp_path / "tweets-part3.js"
    junk.write_text(body + "\nconsole.log('x')", encoding="utf-8")
    posts, quarantine, _ = read(junk)
    assert posts.num_rows == 4
    assert quarantine.column("error").to_pylist()[-1] == "unexpected content after the tweets array"


def test_a_lone_tweets_js_loads_with_one_author_and_a_manifest_note(tmp_path: Path, settings):
    """As people often share it: tweets.js without account.js. It loads with an author key for every
    post (so the raw gate's author_key expectation holds), and the manifest says why."""
    from ingest.lake import ingest_file

    loose = tmp_path / "shared" / "tweets.js"
    loose.parent.mkdir()
    loose.write_bytes(TWEETS.read_bytes())
    (entry,) = ingest_file(settings, loose)
    assert entry["loaded"] > 0
    assert any("no account.js" in n and "--account" in n for n in entry["notes"])
    import duckdb

    keys = duckdb.connect().execute(
        "select count(*), count(author_key), count(distinct author_key) from read_parquet(?)",
        [str(settings.posts_dir / "**" / "*.parquet")],
    ).fetchone()
    assert keys[0] == keys[1] == entry["loaded"] and keys[2] == 1


def test_created_at_forms(tmp_path: Path):
    """Every archive writes "Fri Feb 20 09:10:58 +0000 2026", which is read without ``strptime``; any
    other form goes through ``strptime`` (other offsets, other letter case, single digits), and what
    ``strptime`` refuses, or a date that does not exist, quarantines the tweet."""
    forms = [
        "Fri Feb 20 09:10:58 +0000 2026",
        "Fri Feb 20 09:10:58 +0530 2026",
        "fri FEB 20 09:10:58 +0000 2026",
        "Fri Feb 20 9:10:58 +0000 2026",
        "Fri Feb 30 09:10:58 +0000 2026",
        "Fri Feb 20 24:10:58 +0000 2026",
        "Fri Feb 20 09:10:58 +0000 0000",
        "Fri Feb 20 09:10:58 Z 2026",
        "2026-02-20T09:10:58Z",
    ]
    items = [{"tweet": {"id_str": str(100 + i), "full_text": "t", "created_at": f}}
             for i, f in enumerate(forms)]
    path = tmp_path / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = " + json.dumps(items), encoding="utf-8")
    posts, quarantine, _ = read(path, account="1:someone")
    got = {r["post_id"]: r["created_at"] for r in posts.to_pylist()}
    expected = {}
    for i, f in enumerate(forms):
        try:
            expected[str(100 + i)] = datetime.strptime(f, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            pass
    assert got == expected
    assert len(got) == 5
    assert sorted(q["source_record"] for q in quarantine.to_pylist()) == [5, 6, 7, 9]


def test_reply_and_mention_targets():
    posts = by_id(read(ARCHIVE / "data" / "tweets.js")[0])
    reply = posts["1894567890123456791"]
    assert reply["reply_to_author_id"] == "123456789"  # in_reply_to_user_id_str
    assert reply["mention_targets"] == [{"id": "123456789", "handle": "kemkominfo_id"}]
    rt = posts["1894567890123456792"]  # the archive names no retweeted author: none is invented
    assert rt["repost_of_author_id"] is None
    assert rt["mention_targets"] == [{"id": "987654321", "handle": "newsroom_en"}]
    assert posts["1894567890123456789"]["mention_targets"] == []
    assert posts["1894567890123456789"]["reply_to_author_id"] is None


def test_a_tweet_failing_half_way_leaves_no_row_and_the_account_fills_every_row(tmp_path: Path):
    """Each tweet is mapped into one row that is kept only once whole; the account's columns (and the
    url built from it) are the same on every row, an empty account id included."""
    created = "Fri Feb 20 09:10:58 +0000 2026"
    items = [
        {"tweet": {"id_str": "1", "created_at": created, "full_text": "a", "favorite_count": "9" * 5000}},
        {"tweet": {"id_str": "2", "created_at": created, "full_text": "RT @x: hi &amp; more",
                   "entities": {"urls": [{"expanded_url": "https://x.com/u/status/77"}, "junk"],
                                "hashtags": [{"text": "h"}, {"text": "h"}, 3],
                                "user_mentions": [{"id_str": "5", "screen_name": "@a"}, {"id": 5}, {}]},
                   "in_reply_to_status_id": 3, "in_reply_to_user_id": 4, "lang": "qme"}},
        {"tweet": {"id_str": "4", "created_at": created, "text": "see https://t.co/q",
                   "entities": {"urls": [{"expanded_url": "https://twitter.com/u/status/99"}],
                                "media": [1, 2]},
                   "extended_entities": {"media": "x"}, "lang": "en", "retweet_count": "1,234"}},
    ]
    path = tmp_path / "tweets.js"
    path.write_text("window.YTD.tweets.part0 = " + json.dumps(items, indent=1), encoding="utf-8")
    for account, author_id, handle, url in [
        ("12:bob", "12", "bob", "https://x.com/bob/status/"),
        ({"accountId": "", "username": "bob"}, "", "bob", "https://x.com/bob/status/"),
        ({"accountId": "7", "username": ""}, "7", None, "https://x.com/i/web/status/"),
    ]:
        posts, quarantine, _ = read(path, account=account)
        assert quarantine.column("source_record").to_pylist() == [1]
        assert quarantine.column("error").to_pylist()[0].startswith("malformed record (ValueError: ")
        rows = {r["post_id"]: r for r in posts.to_pylist()}
        assert sorted(rows) == ["2", "4"]
        for pid, r in rows.items():
            assert (r["post_uid"], r["author_id"], r["author_handle"]) == (f"x:{pid}", author_id, handle)
            assert r["url"] == url + pid
        two, four = rows["2"], rows["4"]
        assert (two["kind"], two["reply_to_id"], two["thread_id"], two["reply_to_author_id"]) == (
            "repost", "3", None, "4")
        assert (two["text"], two["lang_declared"], two["quote_of_id"]) == ("RT @x: hi & more", None, None)
        assert (two["hashtags"], two["mentions"]) == (["h"], ["@a"])
        assert two["mention_targets"] == [{"id": "5", "handle": "a"}]
        assert (four["kind"], four["quote_of_id"], four["thread_id"], four["media_count"]) == (
            "quote", "99", "4", 2)
        assert (four["like_count"], four["share_count"], four["lang_declared"]) == (None, 1234, "en")
        assert json.loads(four["raw"]) == items[2]["tweet"]
