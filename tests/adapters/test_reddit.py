"""The Reddit dump adapter (Pushshift / Arctic Shift NDJSON) on hand-written fixtures."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from functools import partial
from pathlib import Path

import pytest
import zstandard
from _helpers import by_id, read_export, utc

from ingest.lake import ingest_file
from ingest.registry import adapters, detect, get
from ingest.sources import Source, expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RS = FIXTURES / "reddit" / "RS_2023-11_sample.ndjson"
RC = FIXTURES / "reddit" / "RC_2023-11_sample.ndjson"


read = partial(read_export, "reddit")


# ------------------------------------------------------------------------------------ submissions


def test_submissions_counts_in_and_out():
    posts, quarantine, skipped = read(RS)
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4, 11]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (6, "invalid JSON (malformed or truncated line)"),
        (8, "not a Reddit record: a JSON array, not an object"),
        (9, "submission t3_18x0abh has an unparseable created_utc: yesterday"),
        (10, "not a Reddit record: neither a submission (title, selftext) nor a comment (body, link_id)"),
    ]
    assert skipped == {"blank_line": 1, "record:subreddit": 1}
    # every physical line is accounted for
    n_lines = len(RS.read_bytes().splitlines())
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == n_lines == 11


def test_submission_fields():
    posts = by_id(read(RS)[0])
    self_post = posts["t3_18x0abc"]
    assert self_post["post_uid"] == "reddit:t3_18x0abc"
    assert self_post["platform"] == "reddit"
    assert self_post["kind"] == "post"
    assert self_post["created_at"] == utc(2023, 11, 14, 22, 13, 20)  # created_utc 1700000000 (int)
    assert self_post["author_id"] == self_post["author_handle"] == "budi_santoso"
    assert self_post["text"] == (
        "Personal branding itu penting banget buat karier?\n\n"
        "Menurut kalian, recruiter beneran cek media sosial kandidat? Baca ini: "
        "[artikel](https://kompas.example.id/karier/branding) & diskusi."
    )
    # a self post's own url is not a link; the markdown link in the text is
    assert self_post["links"] == ["https://kompas.example.id/karier/branding"]
    assert self_post["thread_id"] == "t3_18x0abc"
    assert self_post["reply_to_id"] is None
    assert self_post["url"] == (
        "https://www.reddit.com/r/indonesia/comments/18x0abc/personal_branding_itu_penting_banget_buat_karier/"
    )
    assert (self_post["like_count"], self_post["reply_count"]) == (128, 42)
    assert self_post["lang_declared"] is None and self_post["hashtags"] == []
    assert json.loads(self_post["raw"])["link_flair_text"] == "Discussion"

    link = posts["t3_18x0abd"]
    assert link["text"] == "Government launches anti-hoax task force"  # empty selftext omitted
    assert link["created_at"] == utc(2023, 11, 14, 22, 43, 20, 500000)  # float created_utc
    assert link["like_count"] == -3  # negative score kept
    assert link["reply_count"] == 7  # num_comments as a string
    assert link["links"] == ["https://news.example.com/2023/11/anti-hoax"]

    removed = posts["t3_18x0abe"]
    assert removed["author_id"] is None and removed["author_handle"] is None  # [deleted]
    assert removed["text"] == "Cek info ini sebelum share"  # [removed] selftext omitted
    assert removed["created_at"] == utc(2023, 11, 14, 23, 13, 20)  # string created_utc

    gallery = posts["t3_18x0abf"]
    assert gallery["text"] == "Relawan bersih pantai minggu ini 🌊🙌"
    assert gallery["media_count"] == 3
    assert gallery["links"] == []  # reddit.com/gallery is the post's own media, not a link

    image = posts["t3_18x0abi"]
    assert image["media_count"] == 1 and image["links"] == []


# ---------------------------------------------------------------------------------------- comments


def test_comments_counts_and_fields():
    posts, quarantine, skipped = read(RC)
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4, 7]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (5, "comment lacks id"),
        (6, "invalid UTF-8"),
    ]
    assert skipped == {}
    rows = by_id(posts)
    c1 = rows["t1_kabc001"]
    assert c1["kind"] == "comment"
    assert c1["reply_to_id"] == "t3_18x0abc" and c1["thread_id"] == "t3_18x0abc"
    assert c1["text"] == "Iya, u/budi_santoso bener. Recruiter sekarang cek LinkedIn & Instagram juga."
    assert c1["mentions"] == ["budi_santoso"]
    assert c1["like_count"] == 12  # score as a string
    # no permalink in older comment dumps: built from link_id and id
    assert c1["url"] == "https://www.reddit.com/comments/18x0abc/_/kabc001/"
    assert c1["reply_count"] is None

    c2 = rows["t1_kabc002"]
    assert c2["reply_to_id"] == "t1_kabc001"
    assert c2["created_at"] == utc(2023, 11, 14, 22, 33, 20)  # "1700001200.0"
    assert c2["links"] == ["https://blog.example.org/branding"]  # trailing '.' is not part of it
    assert c2["url"].endswith("/kabc002/")

    deleted = rows["t1_kabc003"]
    assert deleted["text"] == "[deleted]" and deleted["author_id"] is None
    removed = rows["t1_kabc004"]
    assert removed["text"] == "[removed]" and removed["author_id"] == "lurker42"
    assert removed["like_count"] == -5

    crlf = rows["t1_kabc007"]  # a CRLF line
    assert crlf["links"] == ["https://bit.ly/3xYz", "https://scam.example.net/login"]
    assert not crlf["raw"].endswith("\r")


def test_small_blocks_give_the_same_result():
    whole = read(RC)
    for chunk_bytes in (64, 300, 1000):
        parts = read(RC, chunk_bytes=chunk_bytes)
        assert parts[0].to_pylist() == whole[0].to_pylist()
        assert parts[1].to_pylist() == whole[1].to_pylist()
        assert parts[2] == whole[2]


def test_malformed_lines_are_quarantined_as_invalid_json(tmp_path: Path):
    """Each line is parsed once, with no ``json_valid`` check first: text that is not one JSON value
    still parses to nothing and is quarantined with its reason, beside a good comment."""
    good = (
        '{"id":"kgood01","created_utc":1700000000,"body":"ok","link_id":"t3_a","parent_id":"t3_a",'
        '"author":"x"}'
    )
    bad = [
        '{"id":"kbad001","created_utc":1700000000,"body":"x","link_id":"t3_a"} trailing',
        '{"id":"kbad002","created_utc":1,"body":"x","link_id":"t3_a"}{"id":"kbad003"}',
        '/* note */ {"id":"kbad004","created_utc":1,"body":"x","link_id":"t3_a"}',
        '{"id":"kbad005","created_utc":1,"body":"x","link_id":"t3_a","gallery_data":{"items":[1,,2]}}',
        '{"id":"kbad006","created_utc":1,"body":"cut off',
        "{'id':'kbad007'}",
        "{,}",
    ]
    path = tmp_path / "RC_malformed.ndjson"
    path.write_text("\n".join([good, *bad, good.replace("kgood01", "kgood02")]) + "\n", encoding="utf-8")
    posts, quarantine, skipped = read(path)
    assert posts.column("post_id").to_pylist() == ["t1_kgood01", "t1_kgood02"]
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (n, "invalid JSON (malformed or truncated line)") for n in range(2, 2 + len(bad))
    ]
    assert quarantine.column("raw").to_pylist() == bad
    assert skipped == {}


# ------------------------------------------------------------------------------------- compression


def _variants(src: Path, tmp: Path) -> list[Path]:
    data = src.read_bytes()
    gz = tmp / (src.name + ".gz")
    gz.write_bytes(gzip.compress(data))
    zst = tmp / (src.name + ".zst")
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp / (src.name + ".zip")
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(src.name, data)
    return [gz, zst, zp]


@pytest.mark.parametrize("fixture", [RS, RC])
def test_compressed_variants_identical(tmp_path: Path, fixture: Path):
    plain = read(fixture)
    for variant in _variants(fixture, tmp_path):
        (src,) = expand(variant)
        assert detect(src).name == "reddit"
        got = read(variant)
        assert got[0].to_pylist() == plain[0].to_pylist(), variant.name
        assert got[1].to_pylist() == plain[1].to_pylist(), variant.name
        assert got[2] == plain[2]


def _long_window_zst(data: bytes, path: Path) -> None:
    """zstd as Pushshift writes it (``zstd --long=31``): a 2 GiB window declared in the frame."""
    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=31, enable_ldm=True)
    buf = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(buf, closefd=False) as w:
        w.write(data)
    path.write_bytes(buf.getvalue())
    assert zstandard.get_frame_parameters(path.read_bytes()).window_size == 1 << 31


def test_long_window_zstd_is_read(tmp_path: Path):
    path = tmp_path / "RC_2023-11.zst"
    _long_window_zst(RC.read_bytes(), path)
    got = read(path)
    plain = read(RC)
    assert got[0].to_pylist() == plain[0].to_pylist()
    assert got[1].to_pylist() == plain[1].to_pylist()


def test_multi_frame_zstd_is_read_whole(tmp_path: Path):
    path = tmp_path / "RC_RS.zst"
    cctx = zstandard.ZstdCompressor()
    path.write_bytes(cctx.compress(RC.read_bytes()) + cctx.compress(RS.read_bytes()))
    posts, quarantine, skipped = read(path)
    assert posts.num_rows == 10 and quarantine.num_rows == 6
    assert skipped == {"blank_line": 1, "record:subreddit": 1}


def test_long_window_zstd_is_detected(tmp_path: Path):
    path = tmp_path / "RS_2023-11.zst"
    _long_window_zst(RS.read_bytes(), path)
    (src,) = expand(path)
    assert detect(src).name == "reddit"


# ------------------------------------------------------------------------------------------- sniff


def test_sniff_across_all_fixtures():
    mine = {RS, RC}
    reddit = get("reddit")
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
        for src in expand(path):
            head = src.head()
            assert reddit.sniff(head) == (path in mine), path
    # the other specific adapters do not claim Reddit dumps (generic is the last-resort fallback)
    for path in mine:
        (src,) = expand(path)
        head = src.head()
        for name, cls in adapters().items():
            if name not in ("reddit", "generic"):
                assert not cls().sniff(head), (name, path)
        assert detect(src).name == "reddit"


def test_sniff_long_first_line_cut_by_the_head():
    line = json.dumps(
        {
            "id": "abc",
            "subreddit": "indonesia",
            "created_utc": 1700000000,
            "title": "t",
            "selftext": "x" * 70_000,
            "is_self": True,
        }
    )
    assert get("reddit").sniff(line.encode()[:65536])


def test_empty_file(tmp_path: Path):
    p = tmp_path / "empty.ndjson"
    p.write_bytes(b"")
    chunks = list(get("reddit").read(Source(p, "none"), {}))
    assert sum(c.posts.num_rows for c in chunks) == 0


# --------------------------------------------------------------------------------------- the lake


def test_ingest_file_through_the_lake(settings, tmp_path: Path):
    path = tmp_path / "RC_2023-11_sample.ndjson.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(RC.read_bytes() + RS.read_bytes()))
    (entry,) = ingest_file(settings, path)
    assert entry["export_format"] == "reddit" and entry["platform"] == "reddit"
    assert entry["loaded"] == 10
    assert entry["quarantined"] == 6
    assert entry["duplicates_within_batch"] == 0
    assert entry["records_in"] == entry["loaded"] + entry["quarantined"] + entry["duplicates_within_batch"]
    assert entry["skipped"] == {"blank_line": 1, "record:subreddit": 1}
    assert entry["platforms"] == {"reddit": 10}
    import duckdb

    con = duckdb.connect()
    rows = con.execute(
        "select post_id, author_key, source_record from read_parquet(?, hive_partitioning = true) "
        "order by source_record, post_id",
        [str(settings.posts_dir / "**" / "*.parquet")],
    ).fetchall()
    assert len(rows) == 10
    # line numbers run on across the concatenated comments (7 lines) and submissions
    assert [r[2] for r in rows] == [1, 2, 3, 4, 7, 8, 9, 10, 11, 18]
    assert all(r[1] is None or len(r[1]) == 32 for r in rows)  # pseudonymised
    q = con.execute(
        "select source_record, error from read_parquet(?) order by 1",
        [str(settings.quarantine_dir / "**" / "*.parquet")],
    ).fetchall()
    assert [r[0] for r in q] == [5, 6, 13, 15, 16, 17]
    # re-ingesting the same content is a no-op
    (again,) = ingest_file(settings, path)
    assert again["status"] == "already_ingested"
