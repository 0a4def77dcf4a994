"""The YouTube comments adapter on youtube-comment-downloader output: JSON lines and the --pretty form."""

from __future__ import annotations

import gzip
import json
import time
import zipfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from _helpers import by_id, read_export

from ingest.formats.youtube.adapter import parse_votes as parse_count
from ingest.formats.youtube.adapter import video_id_for
from ingest.lake import ingest_file
from ingest.registry import detect, get
from ingest.sources import Source, expand

ALL_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURES = ALL_FIXTURES / "youtube"
LINES = FIXTURES / "comments_Xk3Rm9TqLpA.jsonl"
PRETTY = FIXTURES / "pretty_Hq7-vB2_nZc.json"
TOP = "UgzRk3vQ1pLx9aT0b4F4AaABAg"


read = partial(read_export, "youtube_comments")


# ---------------------------------------------------------------------------------------------- parts


@pytest.mark.parametrize(
    ("shown", "count"),
    [
        ("15", 15),
        ("1.2K", 1200),
        ("1,5K", 1500),
        ("3M", 3_000_000),
        ("1,234", 1234),
        ("1.234", 1234),
        ("3,4 rb", 3400),
        ("12 rb", 12_000),
        ("1,1 jt", 1_100_000),
        ("", 0),
        (" 7 ", 7),
        (42, 42),
        (None, None),
        ("lots", None),
        ("1.2.3K", None),
        (True, None),
    ],
)
def test_parse_count(shown, count):
    assert parse_count(shown) == count


@pytest.mark.parametrize(
    ("name", "video"),
    [
        ("ScMzIvxBSi4.json", "ScMzIvxBSi4"),
        ("comments_ScMzIvxBSi4.jsonl", "ScMzIvxBSi4"),
        ("comments_ScMzIvxBSi4.jsonl.gz", "ScMzIvxBSi4"),
        ("yt-comments -_a9Bc-D_eF.ndjson.zst", "-_a9Bc-D_eF"),
        ("commentdump.json", None),  # a lowercase word of 11 letters is not an id
        ("20261120123.json", None),
        ("comments.jsonl", None),
        ("my_video_comments.json", None),
    ],
)
def test_video_id_from_file_name(tmp_path: Path, name: str, video: str | None):
    assert video_id_for(Source(tmp_path / name, "none"), {}) == video


def test_video_id_from_option_and_sidecar(tmp_path: Path):
    export = tmp_path / "comments.jsonl.gz"
    assert video_id_for(Source(export, "gzip"), {"video_id": "Ab_cD-ef123"}) == "Ab_cD-ef123"
    with pytest.raises(ValueError, match="not an 11-character YouTube video id"):
        video_id_for(Source(export, "gzip"), {"video_id": "https://youtu.be/x"})
    (tmp_path / "comments.meta.json").write_text('{"video_id": "Zz9-Yy8_Xx7"}', encoding="utf-8")
    assert video_id_for(Source(export, "gzip"), {}) == "Zz9-Yy8_Xx7"
    (tmp_path / "comments.meta.json").write_text('{"title": "no id"}', encoding="utf-8")
    with pytest.raises(ValueError, match="sidecar has no 11-character 'video_id'"):
        video_id_for(Source(export, "gzip"), {})
    # Inside a zip the member's name is what counts.
    member = Source(tmp_path / "a.zip", "zip", "x/comments_Xk3Rm9TqLpA.jsonl")
    assert video_id_for(member, {}) == "Xk3Rm9TqLpA"


# ---------------------------------------------------------------------------------------------- sniff


def test_sniff_claims_only_youtube_fixtures():
    adapter = get("youtube_comments")
    n = 0
    for path in sorted(ALL_FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".txt"):
            continue
        for source in expand(path):
            assert adapter.sniff(source.head()) == (path.parent == FIXTURES), path
            n += 1
    assert n >= 10


def test_sniff_shapes():
    adapter = get("youtube_comments")
    for path in (LINES, PRETTY):
        assert detect(expand(path)[0]).name == "youtube_comments"
    # The head ends inside a long first comment.
    assert adapter.sniff(b'{"cid": "UgzAbC", "text": "' + b"panjang " * 9000)
    lines = LINES.read_bytes().split(b"\n")
    assert adapter.sniff(b"\n".join([lines[0], lines[7], *lines[1:4]]))  # a cut-off line second
    assert not adapter.sniff(b"\n".join([lines[7], *lines[:4]]))  # ... but not first
    assert not adapter.sniff(b'{"cid": "UgzAbC", "text": "halo"}\n')  # too few of the tool's fields
    assert not adapter.sniff(b'{"id": "1", "text": "halo", "votes": "3", "time": "x"}\n')
    assert not adapter.sniff(b"cid,text\nUgz,halo\n")


# ---------------------------------------------------------------------------------------------- lines


def test_lines_counts():
    posts, quarantine, skipped = read(LINES)
    assert posts.num_rows == 7
    assert skipped == {"blank_line": 1}
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (7, "comment UgyNoTime0000000000AaABAg has no usable time_parsed; its relative time "
            "(5 hours ago) is not used"),
        (8, "invalid JSON (malformed or truncated line)"),
        (9, "comment is not a JSON object"),
        (10, "comment lacks cid"),
    ]
    assert quarantine.column("raw")[2].as_py() == '["not", "a", "comment"]'
    n_lines = len(LINES.read_text(encoding="utf-8").splitlines())
    assert posts.num_rows + quarantine.num_rows + sum(skipped.values()) == n_lines == 12


def test_lines_mapping():
    posts, _, _ = read(LINES)
    rows = by_id(posts)
    top = rows[TOP]
    assert top["post_uid"] == f"youtube:{TOP}"
    assert top["platform"] == "youtube"
    assert top["created_at"] == datetime(2025, 11, 24, 8, 0, tzinfo=UTC)
    assert top["kind"] == "comment"
    assert top["reply_to_id"] is None
    assert top["thread_id"] == "Xk3Rm9TqLpA"
    assert top["url"] == f"https://www.youtube.com/watch?v=Xk3Rm9TqLpA&lc={TOP}"
    assert top["author_id"] == "UC4x9Rk2LmQp7Vb3nT8sYw1A"
    assert top["author_handle"] == "rinawulandari"
    assert (top["like_count"], top["reply_count"]) == (1200, 3)
    assert top["hashtags"] == ["karier", "PersonalBranding"]
    assert top["text"].endswith("pencitraan doang 😅 #karier #PersonalBranding")
    assert top["source_record"] == 1
    assert json.loads(top["raw"])["heart"] is True
    assert not top["raw"].endswith("\r")  # the CRLF line break is not part of the record

    reply = rows[f"{TOP}.AQ7xVbN2mK9Lq3RtY8wZ1e"]
    assert reply["kind"] == "reply"
    assert reply["reply_to_id"] == TOP
    assert reply["thread_id"] == "Xk3Rm9TqLpA"
    assert reply["mentions"] == ["rinawulandari"]
    assert reply["text"] == "@rinawulandari setuju banget kak! HRD sekarang cek LinkedIn & IG kandidat"
    assert (reply["like_count"], reply["reply_count"]) == (15, None)
    assert reply["created_at"] == datetime(2025, 11, 25, 8, 0, 0, 250000, tzinfo=UTC)

    sourced = rows[f"{TOP}.AQ7xVbN2mK9Lq3RtY8wZ2f"]
    assert sourced["links"] == ["https://news.example.org/recruiters-social-media"]
    assert sourced["like_count"] == 0  # "" is shown for no votes

    english = rows["UgwP9sX2dFq7LmZr5Yk4AaABAg"]
    assert english["like_count"] == 1234 and english["reply_count"] == 0
    assert english["links"] == ["https://journal.example.edu/paper?id=42&lang=en"]
    assert english["created_at"] == datetime(2024, 11, 24, tzinfo=UTC)  # an int time_parsed

    assert rows["Ugx8Vb3Nm2Kq9Lp1Rt7Y4AaABAg"]["like_count"] == 3400  # "3,4 rb"
    viral = rows["UgzViral1234567890AaABAg"]
    assert (viral["like_count"], viral["reply_count"]) == (3_000_000, 1500)
    assert rows["UgwOdd0Votes000000AaABAg"]["like_count"] is None  # "lots" is not a number


def test_pretty_document():
    posts, quarantine, skipped = read(PRETTY)
    assert quarantine.num_rows == 0 and skipped == {}
    assert posts.column("source_record").to_pylist() == [1, 2, 3]
    assert set(posts.column("thread_id").to_pylist()) == {"Hq7-vB2_nZc"}
    plain = by_id(read(LINES)[0])
    for row in posts.to_pylist():
        same = plain[row["post_id"]]
        for col in ("text", "created_at", "kind", "reply_to_id", "like_count", "reply_count", "hashtags"):
            assert row[col] == same[col], col


def test_small_blocks_give_the_same_result():
    whole = read(LINES)
    for chunk_bytes in (1, 200, 1000):
        got = read(LINES, chunk_bytes=chunk_bytes)
        assert got[0].equals(whole[0]) and got[1].equals(whole[1]) and got[2] == whole[2]


def test_json_values_of_every_type(tmp_path: Path):
    """``cid``, ``votes``, ``replies`` and ``time_parsed`` read by their JSON type: strings with and
    without escapes, numbers, and values of other types, as the JSON values they are."""
    lines = [
        r'{"cid":"Ug\u0041","text":"a","votes":"\u0031.2K","replies":"\/2","time_parsed":1700000000}',
        '{"cid":"Ug\\"q","text":"b","votes":"1,5 rb","replies":"","time_parsed":1700000000.5}',
        '{"cid":"Ugé👍🏽","text":"c","votes":7.9,"replies":3,"time_parsed":1700000000}',
        '{"cid":"UgD","text":"d","votes":"","replies":"x\\ny","time_parsed":1700000000}',
        '{"cid":"UgE","text":"e","votes":true,"replies":[1],"time_parsed":1700000000}',
        '{"cid":" UgF ","text":"f","votes":-2,"replies":{"n":1},"time_parsed":1700000000}',
        '{"cid":12,"text":"g","time_parsed":1700000000}',
        '{"cid":"  ","text":"h","time_parsed":1700000000}',
        '{"cid":"UgI","text":"i","time_parsed":"1700000000"}',
        '{"cid":"UgJ","text":"j","time_parsed":NaN}',
        '{"cid":"UgK","text":"k","time_parsed":-Infinity}',
    ]
    path = tmp_path / "comments_Xk3Rm9TqLpA.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    posts, quarantine, _ = read(path)
    got = {p["post_id"]: (p["like_count"], p["reply_count"]) for p in posts.to_pylist()}
    assert got == {
        "UgA": (1200, None),  # "/2" is no count
        'Ug"q': (1500, 0),
        "Ugé👍🏽": (7, 3),
        "UgD": (0, None),
        "UgE": (None, None),
        " UgF ": (-2, None),
    }
    assert [(q["source_record"], q["error"]) for q in quarantine.to_pylist()] == [
        (7, "comment lacks cid"),
        (8, "comment lacks cid"),
        (9, "comment UgI has no usable time_parsed; its relative time (none) is not used"),
        (10, "comment UgJ has no usable time_parsed; its relative time (none) is not used"),
        (11, "comment UgK has no usable time_parsed; its relative time (none) is not used"),
    ]


def test_no_video_id_leaves_thread_and_url_empty(tmp_path: Path):
    path = tmp_path / "comments.jsonl"
    path.write_bytes(LINES.read_bytes())
    posts, _, _ = read(path)
    assert posts.column("thread_id").null_count == posts.num_rows
    assert posts.column("url").null_count == posts.num_rows
    posts, _, _ = read(path, video_id="Ab_cD-ef123")
    assert set(posts.column("thread_id").to_pylist()) == {"Ab_cD-ef123"}


def test_compressed_variants_are_identical(tmp_path: Path):
    data = LINES.read_bytes()
    gz = tmp_path / f"{LINES.name}.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / f"{LINES.name}.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "download.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"comments/{LINES.name}", data)
    plain = read(LINES)
    for path in (gz, zst, zp):
        assert detect(expand(path)[0]).name == "youtube_comments"
        got = read(path)
        assert got[0].equals(plain[0]) and got[1].equals(plain[1]) and got[2] == plain[2]


def test_ingest_file_through_the_lake(settings, tmp_path: Path):
    path = tmp_path / LINES.name
    path.write_bytes(LINES.read_bytes())
    (entry,) = ingest_file(settings, path)
    assert entry["status"] == "ingested"
    assert entry["export_format"] == "youtube_comments"
    assert (entry["loaded"], entry["quarantined"], entry["duplicates_within_batch"]) == (7, 4, 0)
    assert entry["records_in"] == 11
    assert entry["skipped"] == {"blank_line": 1}
    assert entry["platforms"] == {"youtube": 7}
    quarantined = pa.concat_tables(
        [pa.parquet.read_table(p) for p in sorted(settings.quarantine_dir.rglob("*.parquet"))]
    )
    assert sorted(quarantined.column("source_record").to_pylist()) == [7, 8, 9, 10]
    assert set(quarantined.column("platform").to_pylist()) == {"youtube"}


@pytest.mark.bench
def test_throughput(tmp_path: Path):
    """Comments per second through the adapter (``pytest -m bench -s``)."""
    base = [json.loads(line) for line in LINES.read_text(encoding="utf-8").splitlines()[:4]]
    n = 200_000
    path = tmp_path / "comments_Xk3Rm9TqLpA.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            c = dict(base[i % 4])
            c["cid"] = f"{c['cid']}{i}"
            fh.write(json.dumps(c, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    posts, quarantine, _ = read(path)
    seconds = time.perf_counter() - started
    assert posts.num_rows == n and quarantine.num_rows == 0
    mb_s = path.stat().st_size / seconds / 1e6
    mb_s = path.stat().st_size / seconds / 1e6
    print(f"\nyoutube_comments: {n / seconds:,.0f} comments/s ({mb_s:.1f} MB/s)")
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    con.sql(
        f"copy (select * from read_json('{path}', format = 'newline_delimited', ignore_errors = true)) "
        f"to '{tmp_path / 'bare.parquet'}' (format parquet)"
    )
    bare = time.perf_counter() - started
    con.close()
    print(f"bare DuckDB read_json -> Parquet: {n / bare:,.0f} comments/s; adapter/bare {bare / seconds:.2f}")


def test_sql_counts_agree_with_parse_count():
    import duckdb

    from ingest.formats.youtube.sql import SQL_MACROS

    shown = ["15", "1.2K", "1,5K", "3M", "1,234", "1.234", "3,4 rb", "12 rb", "1,1 jt", "", " 7 ", "lots",
             "1.2.3K", "2B", "0"]
    con = duckdb.connect()
    con.sql(SQL_MACROS)
    got = [con.execute("select yt_count(?, 'VARCHAR')", [s]).fetchall()[0][0] for s in shown]
    assert got == [parse_count(s) for s in shown]
    numbers = con.sql(
        "select yt_count('42', 'UBIGINT'), yt_count('42.9', 'DOUBLE'), yt_count('true', 'BOOLEAN')"
    )
    assert numbers.fetchall() == [(42, 42, None)]
    con.close()


def test_repeated_tags_are_listed_once_in_order(tmp_path: Path):
    line = {
        "cid": "UgzRepeat", "text": "#a #b #a @x @y @x https://a.example/1, https://a.example/1",
        "time": "1 day ago", "author": "@z", "channel": "UCz", "votes": "1", "replies": "",
        "photo": "", "heart": False, "reply": False, "time_parsed": 1764057600.0,
    }
    path = tmp_path / "comments_Xk3Rm9TqLpA.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (row,) = read(path)[0].to_pylist()
    assert (row["hashtags"], row["mentions"], row["links"]) == (["a", "b"], ["x", "y"], ["https://a.example/1"])


def test_invalid_utf8_line_is_quarantined(tmp_path: Path):
    data = LINES.read_bytes().split(b"\n")
    path = tmp_path / "comments_Xk3Rm9TqLpA.jsonl"
    bad = b'{"cid": "UgzBad", "text": "\xff\xfe", "time_parsed": 1.0}'
    path.write_bytes(b"\n".join([*data[:3], bad, *data[3:]]))
    posts, quarantine, _ = read(path)
    assert (4, "invalid UTF-8") in [(q["source_record"], q["error"]) for q in quarantine.to_pylist()]
    assert posts.num_rows == 7
