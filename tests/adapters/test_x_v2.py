"""The X API v2 (twarc2) adapter on hand-written fixtures: pages, stream lines, flattened tweets."""

from __future__ import annotations

import gzip
import json
import threading
import zipfile
from functools import partial
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from _helpers import by_id, read_export, utc

from ingest.registry import detect, get
from ingest.sources import Source, expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x_v2"
SHARED_SAMPLES = Path("/work/shared/data/exports/x_v2")


# ------------------------------------------------------------------------------------------ helpers


read = partial(read_export, "x_v2")


def fixture_lines(name: str) -> list[dict | None]:
    """The fixture's lines as parsed by plain ``json`` (None for blank or malformed lines)."""
    out: list[dict | None] = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line) if line.strip() else None)
        except ValueError:
            out.append(None)
    return out


def includes_tweet(name: str, tweet_id: str) -> dict:
    for line in fixture_lines(name):
        for t in (line or {}).get("includes", {}).get("tweets", []):
            if t["id"] == tweet_id:
                return t
    raise KeyError(tweet_id)


# ------------------------------------------------------------------------------------ paged search


def test_pages_counts_in_and_out():
    posts, quarantine, skipped = read(FIXTURES / "search_pages.jsonl")
    # page 1 holds 5 tweets, page 2 holds 3, line 3 is a page with result_count 0
    assert posts.num_rows == 8
    assert quarantine.num_rows == 0
    assert skipped == {"empty_page": 1, "api_error_partial": 1}
    # every tweet of a page carries the page's line number; order is file order
    assert posts.column("source_record").to_pylist() == [1, 1, 1, 1, 1, 2, 2, 2]
    expected_ids = [t["id"] for line in fixture_lines("search_pages.jsonl")[:2] for t in line["data"]]
    assert posts.column("post_id").to_pylist() == expected_ids


def test_pages_ids_are_exact_strings_beyond_2_53():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    ids = posts.column("post_id").to_pylist()
    assert all(isinstance(i, str) and int(i) > 2**53 for i in ids)
    # a float round trip would have changed them; the adapter did not
    assert any(str(int(float(i))) != i for i in ids)
    assert "1890456789012345678" in ids
    assert posts.column("post_uid").to_pylist() == [f"x:{i}" for i in ids]
    assert set(posts.column("platform").to_pylist()) == {"x"}


def test_pages_plain_post_mapping():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    a1 = by_id(posts)["1890456789012345678"]
    assert posts.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert a1["created_at"] == utc(2026, 2, 14, 3, 15, 22)
    assert a1["author_id"] == "1634567890123456789"
    assert a1["author_handle"] == "dev_sari"
    # the API escapes &, < and >; the text is plain
    assert a1["text"].startswith(
        "Tips CV & LinkedIn dari @budi_rekrut: recruiter baca profil kamu <10 detik."
    )
    assert a1["lang_declared"] == "in"
    assert a1["kind"] == "post"
    assert a1["reply_to_id"] is None and a1["repost_of_id"] is None and a1["quote_of_id"] is None
    assert a1["thread_id"] == "1890456789012345678"
    assert a1["url"] == "https://x.com/dev_sari/status/1890456789012345678"
    assert (a1["like_count"], a1["share_count"], a1["reply_count"], a1["view_count"]) == (87, 12, 3, 15234)
    assert a1["hashtags"] == ["PersonalBranding", "Loker"]
    assert a1["mentions"] == ["budi_rekrut"]
    # unwound_url (where the shortener leads) wins over expanded_url; never t.co
    assert a1["links"] == ["https://www.kompas.com/edu/read/2026/02/14/cv-yang-dibaca-recruiter"]
    assert a1["media_count"] == 0
    # raw is the data item itself, compact
    original = fixture_lines("search_pages.jsonl")[0]["data"][4]
    assert json.loads(a1["raw"]) == original
    assert ", " not in a1["raw"][:40] and a1["raw"].startswith('{"id":"1890456789012345678"')


def test_pages_retweet_full_text_from_includes():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    rt = by_id(posts)["1890467890123456789"]
    original = includes_tweet("search_pages.jsonl", "1890412345678901234")
    own = fixture_lines("search_pages.jsonl")[0]["data"][3]
    assert len(own["text"]) == 140 and own["text"] != "RT @rina_karier: " + original["text"]
    assert rt["kind"] == "repost"
    assert rt["repost_of_id"] == "1890412345678901234"
    assert rt["text"] == "RT @rina_karier: " + original["text"]
    # entities of the original are merged in (the retweet's own only cover the cut text)
    assert rt["hashtags"] == ["Karier", "PersonalBranding"]
    assert rt["mentions"] == ["rina_karier"]
    assert rt["links"] == [
        "https://www.linkedin.com/pulse/personal-branding-untuk-fresh-graduate-rina-kusuma"
    ]
    assert not any("t.co/" in link for link in rt["links"])
    assert rt["author_handle"] == "andi_cemas"
    assert rt["raw"] and json.loads(rt["raw"])["text"] == own["text"]


def test_pages_retweet_without_original_keeps_its_text():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    rt = by_id(posts)["1890512345678901234"]
    own = fixture_lines("search_pages.jsonl")[1]["data"][1]
    assert rt["kind"] == "repost"
    assert rt["repost_of_id"] == "1890301234567890999"
    assert rt["text"] == own["text"]
    assert rt["mentions"] == ["cekfakta_warga"] and rt["hashtags"] == []


def test_pages_reply_quote_note_tweet_and_media():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    rows = by_id(posts)

    reply = rows["1890478901234567890"]
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == "1890398765432109876"
    assert reply["thread_id"] == "1890398765432109876"
    assert reply["lang_declared"] == "en"
    assert reply["text"].endswith("everything I posted in 2015 😅")
    assert reply["mentions"] == ["newsdesk_en"]

    quote = rows["1890489012345678901"]
    assert quote["kind"] == "quote"
    assert quote["quote_of_id"] == "1890387654321098765"
    assert quote["links"] == ["https://twitter.com/rina_karier/status/1890387654321098765"]

    note = rows["1890490123456789012"]
    full = fixture_lines("search_pages.jsonl")[0]["data"][0]["note_tweet"]["text"]
    assert note["text"] == full and len(note["text"]) > 280
    assert note["hashtags"] == ["KesehatanMental", "DigitalAmnesia"]
    assert note["media_count"] == 2
    assert note["links"] == []  # the attached photo is media, not a link
    assert note["author_handle"] == "lia_relawan"

    und = rows["1890501234567890123"]
    assert und["lang_declared"] is None  # "und" declares no language
    assert und["hashtags"] == ["Hoaks", "CekFakta"]
    assert und["view_count"] == 12

    scam = rows["1890523456789012345"]
    assert scam["links"] == ["https://bansos-daftar-online.xyz/form"]
    assert scam["mentions"] == ["kominfo_watch"]


# ---------------------------------------------------------------------------------- streaming form


def test_stream_counts_errors_and_quarantine():
    posts, quarantine, skipped = read(FIXTURES / "stream.jsonl")
    assert posts.num_rows == 4
    assert posts.column("source_record").to_pylist() == [1, 2, 4, 8]
    # an operational-disconnect errors line and a ConnectionException problem object
    assert skipped == {"api_error": 2}
    q = quarantine.to_pylist()
    assert [r["source_record"] for r in q] == [6, 7]
    assert q[0]["error"] == "tweet 1890645678901234567 lacks created_at"
    assert json.loads(q[0]["raw"])["id"] == "1890645678901234567"
    assert q[1]["error"].startswith("invalid JSON")
    assert q[1]["raw"] == (FIXTURES / "stream.jsonl").read_text(encoding="utf-8").splitlines()[6]


def test_stream_mapping():
    posts, _, _ = read(FIXTURES / "stream.jsonl")
    rows = by_id(posts)
    s1 = rows["1890612345678901234"]
    assert s1["kind"] == "post" and s1["author_handle"] == "lia_relawan"
    assert s1["created_at"] == utc(2026, 2, 14, 5, 3, 10)
    assert json.loads(s1["raw"]) == fixture_lines("stream.jsonl")[0]["data"]

    rt = rows["1890623456789012345"]
    original = includes_tweet("stream.jsonl", "1890601234567890123")
    assert rt["kind"] == "repost"
    assert rt["text"] == "RT @cekfakta_warga: " + original["text"]
    assert rt["hashtags"] == ["Hoaks", "Bansos"]
    assert rt["links"] == ["https://turnbackhoax.id/2026/02/14/salah-pendaftaran-bansos-lewat-whatsapp/"]

    quote = rows["1890634567890123456"]
    assert quote["kind"] == "quote" and quote["quote_of_id"] == "1890601234567890123"
    assert quote["url"] == "https://x.com/newsdesk_en/status/1890634567890123456"


# ---------------------------------------------------------------------------------- flattened form


def test_flat_counts():
    posts, quarantine, skipped = read(FIXTURES / "flat.jsonl")
    assert posts.num_rows == 5
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4, 6]
    assert skipped == {"blank_line": 1}
    assert [(r["source_record"], r["error"]) for r in quarantine.to_pylist()] == [(7, "tweet lacks id")]


def test_flat_mapping():
    posts, _, _ = read(FIXTURES / "flat.jsonl")
    rows = by_id(posts)
    lines = fixture_lines("flat.jsonl")

    rt = rows["1890713456789012345"]
    inlined = lines[0]["referenced_tweets"][0]
    assert rt["kind"] == "repost" and rt["repost_of_id"] == inlined["id"]
    assert rt["text"] == "RT @lia_relawan: " + inlined["text"]
    assert rt["hashtags"] == ["Relawan", "BersihPantai"]
    assert rt["links"] == ["https://relawanpantai.or.id/laporan/kuta-februari-2026"]
    assert rt["author_handle"] == "dev_sari"  # from the inlined author
    # raw is the flattened line itself
    assert json.loads(rt["raw"]) == lines[0]

    reply = rows["1890724567890123456"]
    assert reply["kind"] == "reply" and reply["reply_to_id"] == "1890489012345678901"
    assert reply["thread_id"] == "1890489012345678901"

    quote = rows["1890735678901234567"]
    assert quote["kind"] == "quote" and quote["quote_of_id"] == "1890387654321098765"
    assert quote["text"].startswith("Good thread.")

    post = rows["1890746789012345678"]
    assert post["links"] == ["https://lapor.go.id/laporan/detil/penipuan-online-1890"]
    assert post["mentions"] == ["kominfo_watch"]
    assert post["hashtags"] == ["LayananPelanggan"]
    assert (post["like_count"], post["share_count"], post["view_count"]) == (25, 9, 1900)

    note = rows["1890757890123456789"]
    assert note["text"] == lines[5]["note_tweet"]["text"]
    assert note["hashtags"] == ["KeamananSiber", "Penipuan"]
    assert note["view_count"] == 12


# ------------------------------------------------------------------ chunking, compression, workers


@pytest.mark.parametrize("name", ["search_pages.jsonl", "stream.jsonl", "flat.jsonl"])
def test_small_chunks_and_workers_give_the_same_output(name):
    whole = read(FIXTURES / name, workers=1)
    # blocks far smaller than a page line: lines span several reads, chunks hold one line or a few
    tiny = read(FIXTURES / name, chunk_bytes=700, workers=3)
    assert tiny[0].equals(whole[0])
    assert tiny[1].equals(whole[1])
    assert tiny[2] == whole[2]


def test_gz_zst_zip_give_identical_output(tmp_path):
    plain = FIXTURES / "stream.jsonl"
    data = plain.read_bytes()
    gz = tmp_path / "stream.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / "stream.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("twarc/stream.jsonl", data)

    expected = read(plain)
    for path, compression in ((gz, "gzip"), (zst, "zstd"), (zp, "zip")):
        (source,) = expand(path)
        assert source.compression == compression
        assert detect(source).name == "x_v2"
        got = read(path, chunk_bytes=4096)
        assert got[0].equals(expected[0]), compression
        assert got[1].equals(expected[1]), compression
        assert got[2] == expected[2], compression


# --------------------------------------------------------------------------------- odd input lines


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


def _stream_line(tweet: dict) -> bytes:
    return json.dumps({"data": tweet, "includes": {}, "matching_rules": [{"id": "1", "tag": "t"}]}).encode()


def test_numeric_ids_keep_their_literal_digits(tmp_path):
    # Some tools rewrite ids as JSON numbers; the literal is what counts, not a float of it.
    line = (
        b'{"id": 1890000000000000001, "text": "halo", "author_id": 1200000000000000003, '
        b'"created_at": "2026-02-14T05:03:10.000Z", "conversation_id": 1890000000000000001, '
        b'"edit_history_tweet_ids": ["1890000000000000001"], "lang": "in"}\n'
    )
    posts, quarantine, _ = read(_write(tmp_path, "n.jsonl", line))
    assert quarantine.num_rows == 0
    row = posts.to_pylist()[0]
    assert row["post_id"] == "1890000000000000001"
    assert row["author_id"] == "1200000000000000003"
    assert row["thread_id"] == "1890000000000000001"
    assert row["url"] == "https://x.com/i/web/status/1890000000000000001"  # no username known


def test_bom_crlf_invalid_utf8_bad_time_and_foreign_objects(tmp_path):
    good = {
        "id": "1890000000000000010",
        "text": "Tolong cek dulu sebelum share ya",
        "author_id": "1200000000000000003",
        "created_at": "2026-02-14T05:03:10.000Z",
        "lang": "qme",
    }
    bad_time = {**good, "id": "1890000000000000011", "created_at": "kemarin sore"}
    content = b"\r\n".join(
        [
            b"\xef\xbb\xbf" + _stream_line(good),  # 1: BOM, CRLF line ends
            b'{"data": {"id": "1890000000000000012", "text": "caf\xe9"}}',  # 2: Latin-1 byte
            _stream_line(bad_time),  # 3
            b'{"name": "Grup Relawan", "type": "public_supergroup", "messages": []}',  # 4
            b"[1, 2, 3]",  # 5
            b"   ",  # 6
            _stream_line({**good, "id": "1890000000000000013"}),  # 7
            b'{"data": "not a tweet", "meta": {"result_count": 1}}',  # 8
            b'{"data": [], "meta": {"result_count": 0}}',  # 9
        ]
    )
    posts, quarantine, skipped = read(_write(tmp_path, "odd.jsonl", content))
    assert posts.column("post_id").to_pylist() == ["1890000000000000010", "1890000000000000013"]
    assert posts.column("source_record").to_pylist() == [1, 7]
    assert posts.column("lang_declared").to_pylist() == [None, None]  # "qme": media only
    assert not posts.column("raw")[0].as_py().endswith("\r")
    q = [(r["source_record"], r["error"]) for r in quarantine.to_pylist()]
    assert q == [
        (2, "invalid UTF-8"),
        (3, "tweet 1890000000000000011 has an unparseable created_at: kemarin sore"),
        (4, "not a twarc2 record: neither a response with tweets, an error, nor a tweet"),
        (5, "not a twarc2 record: a JSON array, not an object"),
        (8, "not a twarc2 record: neither a response with tweets, an error, nor a tweet"),
    ]
    assert skipped == {"blank_line": 1, "empty_page": 1}


def test_empty_file_yields_nothing(tmp_path):
    posts, quarantine, skipped = read(_write(tmp_path, "empty.jsonl", b""))
    assert posts.num_rows == 0 and quarantine.num_rows == 0 and skipped == {}


def test_stopping_early_releases_the_reader_and_workers():
    before = {t.name for t in threading.enumerate()}
    chunks = get("x_v2").read(Source(FIXTURES / "flat.jsonl", "none"), {"chunk_bytes": 700, "workers": 2})
    first = next(chunks)
    assert first.posts.num_rows + first.quarantine.num_rows <= 2
    chunks.close()
    leftover = {t.name for t in threading.enumerate()} - before
    assert not [n for n in leftover if n.startswith(("x_v2-map", "x_v2-reader"))]


def test_bad_options_are_rejected(tmp_path):
    source = Source(FIXTURES / "flat.jsonl", "none")
    with pytest.raises(ValueError, match="chunk_bytes"):
        list(get("x_v2").read(source, {"chunk_bytes": 0}))
    with pytest.raises(ValueError, match="workers"):
        list(get("x_v2").read(source, {"workers": -1}))


# ------------------------------------------------------------------------------------------- sniff


@pytest.mark.parametrize("name", ["search_pages.jsonl", "stream.jsonl", "flat.jsonl"])
def test_sniff_recognises_the_fixtures(name):
    source = Source(FIXTURES / name, "none")
    assert get("x_v2").sniff(source.head())
    assert detect(source).name == "x_v2"


def test_sniff_page_longer_than_the_head():
    page = fixture_lines("search_pages.jsonl")[0]
    page["data"] = page["data"] * 60  # one line well past the 64 KiB head
    head = (json.dumps(page) + "\n").encode()[: 64 * 1024]
    assert b"\n" not in head
    assert get("x_v2").sniff(head)


def test_sniff_starts_with_an_error_line():
    lines = (FIXTURES / "stream.jsonl").read_bytes().splitlines()
    head = b"\n".join([lines[2], lines[4], lines[0]]) + b"\n"
    assert get("x_v2").sniff(head)


def test_sniff_plain_api_response_with_default_fields():
    # an X API v2 response saved without twarc, with only the default tweet fields
    page = {
        "data": [
            {"id": "1890000000000000021", "text": "halo", "edit_history_tweet_ids": ["1890000000000000021"]}
        ],
        "meta": {"result_count": 1, "newest_id": "1890000000000000021", "oldest_id": "1890000000000000021"},
    }
    assert get("x_v2").sniff((json.dumps(page) + "\n").encode())


NOT_X = {
    "telegram_result_json": json.dumps(
        {
            "name": "Relawan Pantai",
            "type": "public_supergroup",
            "id": 1234567890,
            "messages": [
                {
                    "id": 1,
                    "type": "message",
                    "date": "2026-02-14T10:00:00",
                    "from": "Lia",
                    "from_id": "user42",
                    "text": "Minggu ini bersih pantai",
                }
            ],
        },
        indent=1,
    ),
    "telegram_chats_list": '{\n "chats": {\n  "list": [{"name": "x", "messages": []}]\n }\n}',
    "generic_jsonl": '{"id": "1", "text": "halo semua"}\n{"id": "2", "text": "apa kabar"}\n',
    "generic_jsonl_with_author": (
        '{"id": "17", "text": "hoaks lagi", "author_id": "5", "created_at": "2026-02-14"}\n'
    ),
    "reddit_listing": '{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "1ab"}}]}}\n',
    "reddit": (
        '{"id": "1abcde", "author": "someone", "subreddit": "indonesia", "title": "Loker?",'
        ' "selftext": "", "created_utc": 1707900000, "score": 5, "num_comments": 2}\n'
    ),
    "bluesky_jetstream": (
        '{"did": "did:plc:abc", "time_us": 1707900000000000, "kind": "commit", "commit": '
        '{"operation": "create", "collection": "app.bsky.feed.post", "rkey": "3k", '
        '"record": {"$type": "app.bsky.feed.post", "text": "halo", "createdAt": "2026-02-14T05:00:00Z"}}}\n'
    ),
    "mastodon_outbox": (
        '{"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", '
        '"type": "OrderedCollection", "totalItems": 1, "orderedItems": []}'
    ),
    "youtube_comments": (
        '{"cid": "Ugx1", "text": "mantap", "time": "2 hari yang lalu", "author": "@budi", '
        '"votes": "1.2K", "time_parsed": 1707900000.0}\n'
    ),
    "zeeschuimer_x": (
        '{"item_id": "1890000000000000001", "timestamp_collected": 1707900000000, '
        '"source_platform": "twitter.com", "data": {"rest_id": "1890000000000000001", '
        '"legacy": {"full_text": "halo", "created_at": "Wed Feb 14 05:03:10 +0000 2026"}}}\n'
    ),
    "x_account_archive": ('window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "halo"}}]'),
    "csv": "id,text,created_at,author\n1,halo,2026-02-14,budi\n",
    "errors_only": ('{"errors": [{"title": "operational-disconnect", "detail": "disconnected"}]}\n'),
}


@pytest.mark.parametrize("name", sorted(NOT_X))
def test_sniff_rejects_other_formats(name):
    assert not get("x_v2").sniff(NOT_X[name].encode())


# ------------------------------------------------------------------------- real twarc2 samples


def _expected_tweets(path: Path) -> tuple[int, int]:
    """(tweets, malformed lines) counted independently with plain json."""
    tweets = malformed = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                malformed += 1
                continue
            data = obj.get("data")
            if isinstance(data, list):
                tweets += len(data)
            elif isinstance(data, dict):
                tweets += 1
            elif "id" in obj and "text" in obj:  # flattened form: one tweet per line
                tweets += 1
    return tweets, malformed


@pytest.mark.skipif(
    not SHARED_SAMPLES.is_dir(), reason=f"real twarc2 samples not present at {SHARED_SAMPLES}"
)
def test_real_samples_post_counts():
    samples = sorted(SHARED_SAMPLES.glob("*.jsonl"))
    assert samples
    for path in samples:
        source = Source(path, "none")
        assert get("x_v2").sniff(source.head()), path.name
        posts, quarantine, _ = read(path)
        tweets, malformed = _expected_tweets(path)
        assert posts.num_rows == tweets, path.name
        assert quarantine.num_rows == malformed, path.name
        ids = posts.column("post_id").to_pylist()
        assert all(i.isdigit() for i in ids), path.name


@pytest.mark.skipif(
    not (SHARED_SAMPLES.parent / "telegram").is_dir(), reason="real Telegram samples not present"
)
def test_real_telegram_exports_are_not_claimed():
    for path in sorted((SHARED_SAMPLES.parent / "telegram").glob("*.json")):
        assert not get("x_v2").sniff(Source(path, "none").head()), path.name


# ------------------------------------------------------------------- the conversation's accounts


def _expected_targets(path: Path) -> dict[str, dict]:
    """Per tweet id, the reply / repost / quote target user ids and the mentions, counted from the raw
    JSON with plain ``json``, independently of the adapter's SQL."""
    out: dict[str, dict] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                obj = json.loads(line) if line.strip() else None
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            data = obj.get("data")
            tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else (
                [obj] if "id" in obj and ("text" in obj or "author_id" in obj) else [])
            included = {t.get("id"): t for t in (obj.get("includes") or {}).get("tweets", [])}
            for t in tweets:
                if not t.get("id") or not t.get("created_at"):
                    continue
                refs = {r["type"]: r for r in reversed(t.get("referenced_tweets") or [])}

                def author(kind: str, t=t, refs=refs, included=included) -> str | None:
                    r = refs.get(kind)
                    if r is None:
                        return None
                    return (r.get("author_id") or (r.get("author") or {}).get("id")
                            or included.get(r["id"], {}).get("author_id"))

                mentions: list[dict] = []
                seen = set()
                for ents in (t.get("entities") or {}, (t.get("note_tweet") or {}).get("entities") or {}):
                    for m in ents.get("mentions", []):
                        k = m.get("id") or (m.get("username") or "").lower()
                        if k and k not in seen:
                            seen.add(k)
                            mentions.append({"id": m.get("id"), "handle": m.get("username")})
                out[t["id"]] = {
                    "reply_to_author_id": t.get("in_reply_to_user_id")
                    or (t.get("in_reply_to_user") or {}).get("id") or author("replied_to"),
                    "repost_of_author_id": author("retweeted"),
                    "quote_of_author_id": author("quoted") if "retweeted" not in refs else None,
                    "mention_targets": mentions,
                }
    return out


def _targets(posts: pa.Table) -> dict[str, dict]:
    cols = ["reply_to_author_id", "repost_of_author_id", "quote_of_author_id", "mention_targets"]
    return {r["post_id"]: {c: r[c] for c in cols} for r in posts.to_pylist()}


def test_reply_repost_quote_and_mention_targets_from_includes():
    posts, _, _ = read(FIXTURES / "search_pages.jsonl")
    p = by_id(posts)
    # the reply: in_reply_to_user_id, and the mention of that account with its id
    reply = p["1890478901234567890"]
    assert reply["reply_to_author_id"] == "1287654321098765432"
    assert reply["mention_targets"] == [{"id": "1287654321098765432", "handle": "newsdesk_en"}]
    # the retweet: the original's author from includes.tweets; its own mention of that author only
    rt = p["1890467890123456789"]
    original = includes_tweet("search_pages.jsonl", "1890412345678901234")
    assert rt["repost_of_author_id"] == original["author_id"]
    assert rt["mention_targets"] == [{"id": "1523456789012345678", "handle": "rina_karier"}]
    # the quote: the quoted tweet's author from includes.tweets
    q = p["1890489012345678901"]
    assert q["quote_of_author_id"] == includes_tweet("search_pages.jsonl", "1890387654321098765")["author_id"]
    assert q["reply_to_author_id"] is None and q["mention_targets"] == []
    # a retweet whose original is not in the file: no author is invented
    assert p["1890512345678901234"]["repost_of_author_id"] is None


@pytest.mark.parametrize("name", ["search_pages.jsonl", "stream.jsonl", "flat.jsonl"])
def test_targets_equal_an_independent_count(name):
    posts, _, _ = read(FIXTURES / name)
    expected = _expected_targets(FIXTURES / name)
    assert _targets(posts) == expected
    assert any(v["reply_to_author_id"] for v in expected.values()) or name == "stream.jsonl"


def test_note_tweet_mentions_join_the_short_ones(tmp_path):
    tweet = {"id": "1", "text": "@a hi", "author_id": "9", "created_at": "2026-02-14T03:20:59.000Z",
             "entities": {"mentions": [{"id": "10", "username": "A"}]},
             "note_tweet": {"text": "@a hi @B and @c", "entities": {"mentions": [
                 {"id": "10", "username": "a"}, {"id": "11", "username": "B"}, {"username": "c"},
                 {"username": "C"}]}}}
    posts, _, _ = read(_write(tmp_path, "n.jsonl", _stream_line(tweet)))
    assert posts.column("mention_targets").to_pylist() == [[
        {"id": "10", "handle": "A"}, {"id": "11", "handle": "B"}, {"id": None, "handle": "c"}]]


@pytest.mark.skipif(
    not SHARED_SAMPLES.is_dir(), reason=f"real twarc2 samples not present at {SHARED_SAMPLES}"
)
def test_real_samples_targets_equal_an_independent_count():
    for path in sorted(SHARED_SAMPLES.glob("*.jsonl")):
        posts, _, _ = read(path)
        got, expected = _targets(posts), _expected_targets(path)
        assert got.keys() == expected.keys(), path.name
        for tid, exp in expected.items():
            assert got[tid] == exp, (path.name, tid)
