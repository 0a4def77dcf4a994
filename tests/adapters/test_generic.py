"""The generic CSV/TSV/JSONL adapter on hand-written files: mapping, dates, malformed rows, compression."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from _helpers import by_id, collect, read_chunks, read_export, utc

from ingest.formats.generic.options import parse_column_map
from ingest.registry import detect, get
from ingest.sources import expand

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "generic"
TELEGRAM = Path(__file__).resolve().parents[1] / "fixtures" / "telegram" / "single_chat.json"
INGESTED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
MAPPED = {
    "id": "post_ref",
    "text": "isi_postingan",
    "created_at": "waktu_unggah",
    "author": "akun",
    "lang": "bahasa",
    "url": "tautan",
    "like_count": "jumlah_suka",
    "share_count": "jumlah_bagikan",
    "hashtags": "tagar",
}
TWARC_PAGE = (
    b'{"data": [{"id": "1765000000000000001", "text": "Halo #dunia", "author_id": "42"}], '
    b'"includes": {"users": []}, "meta": {"result_count": 1}, "__twarc": {"version": "2.14.0"}}\n'
)


def read(path: Path, **options) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    options.setdefault("ingested_at", INGESTED)
    chunks = read_chunks("generic", path, options)
    assert chunks
    posts, quarantine, skipped = collect(chunks)
    return posts.sort_by("source_record"), quarantine.sort_by("source_record"), skipped


def rows(table: pa.Table) -> dict[str, dict]:
    return by_id(table, unique=False)


def errors(quarantine: pa.Table) -> list[tuple[int, str]]:
    return list(
        zip(
            quarantine.column("source_record").to_pylist(),
            quarantine.column("error").to_pylist(),
            strict=True,
        )
    )


# ---------------------------------------------------------------------------------------------- sniff


@pytest.mark.parametrize("name", ["posts.csv", "posts.tsv", "posts.jsonl", "labelled.csv", "no_id.csv"])
def test_sniff_recognises_files_with_a_text_column(name: str):
    head = (FIXTURES / name).read_bytes()
    assert get("generic").sniff(head)
    assert detect(expand(FIXTURES / name)[0]).name == "generic"


@pytest.mark.parametrize(
    "head",
    [
        (FIXTURES / "mapped.csv").read_bytes(),  # no recognisable text column: needs --format and a map
        TELEGRAM.read_bytes(),
        TWARC_PAGE,
        b"",
        b"   \n",
        b"Halo semua, apa kabar hari ini?\nBaik-baik saja.\n",
        b"\x00\x01\x02binary",
        b'[{"text": "an array, not lines"}]',
        b'{"text": "a pretty-printed document"\n}',
    ],
)
def test_sniff_refuses_other_content(head: bytes):
    assert not get("generic").sniff(head)


@pytest.mark.parametrize("column", ["title", "headline", "claim", "statement", "judul", "kalimat"])
def test_headline_and_claim_sets_are_read_without_a_map(tmp_path: Path, column: str):
    """News-headline, fact-check and sentence sets name their text column otherwise."""
    path = tmp_path / f"{column}.csv"
    path.write_text(f"{column},label\n\"Timnas menang 2-1\",sport\n\"Harga saham turun\",finance\n")
    assert get("generic").sniff(path.read_bytes())
    posts, quarantine, _ = read(path)
    assert posts.column("text").to_pylist() == ["Timnas menang 2-1", "Harga saham turun"]
    assert quarantine.num_rows == 0


def test_telegram_does_not_claim_generic_files():
    for name in ("posts.csv", "posts.tsv", "posts.jsonl", "labelled.csv"):
        assert not get("telegram_desktop").sniff((FIXTURES / name).read_bytes())


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_counts_and_reasons():
    posts, quarantine, skipped = read(FIXTURES / "posts.csv")
    assert posts.column("post_id").to_pylist() == ["1001", "1002", "1003", "1004", "1008"]
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4, 8]
    assert errors(quarantine) == [
        (5, "malformed CSV record: too many columns: Expected Number of Columns: 7 Found: 8"),
        (6, "unparseable created_at \"kemarin sore\" (column 'created_at')"),
        (7, "empty text (column 'text')"),
    ]
    assert quarantine.column("raw").to_pylist()[0] == "1005,too,many,fields,here,x,y,z"
    assert json.loads(quarantine.column("raw").to_pylist()[1])["author"] == "yusuf_h"
    assert skipped == {}


def test_csv_field_mapping():
    posts, _, _ = read(FIXTURES / "posts.csv")
    r = rows(posts)
    first = r["1001"]
    assert first["post_uid"] == "generic:1001"
    assert first["platform"] == "generic"
    assert first["created_at"] == utc(2024, 3, 5, 1, 15)  # +07:00 offset
    assert first["author_id"] == first["author_handle"] == "budi_s"
    assert first["lang_declared"] == "id"
    assert first["url"] == "https://forum.example.id/t/1001"
    assert first["like_count"] == 1200  # "1.2K"
    assert first["hashtags"] == ["PersonalBranding"]
    assert first["mentions"] == ["rina_w"]
    assert first["links"] == []
    assert first["kind"] == "post"
    assert first["media_count"] is None
    assert json.loads(first["raw"]) == {
        "id": "1001",
        "text": first["text"],
        "created_at": "2024-03-05T08:15:00+07:00",
        "author": "budi_s",
        "lang": "id",
        "url": "https://forum.example.id/t/1001",
        "likes": "1.2K",
    }
    # A quoted field keeps its comma and newline; a trailing full stop is not part of the link.
    assert r["1002"]["text"] == (
        "Recruiters screen candidates' social media before the interview.\n"
        "Keep your profile clean! https://blog.example.com/screening."
    )
    assert r["1002"]["links"] == ["https://blog.example.com/screening"]
    assert r["1002"]["created_at"] == utc(2024, 3, 5, 1, 20)  # "YYYY-MM-DD HH:MM:SS" is UTC
    assert r["1002"]["url"] is None
    # Doubled quotes, epoch seconds, an Indonesian count.
    assert r["1003"]["text"].startswith('Dia bilang "jangan share hoaks", tapi')
    assert r["1003"]["links"] == ["http://bit.example/x1"]
    assert r["1003"]["created_at"] == datetime.fromtimestamp(1709600000, UTC)
    assert r["1003"]["like_count"] == 3400  # "3,4 rb"
    # Epoch milliseconds, emoji, two hashtags, no likes.
    assert r["1004"]["created_at"] == datetime.fromtimestamp(1709603600, UTC) + timedelta(milliseconds=123)
    assert r["1004"]["hashtags"] == ["relawan", "komunitas"]
    assert r["1004"]["like_count"] is None
    assert r["1008"]["created_at"] == utc(2024, 3, 5, 11, 0, 0, 250000)
    assert r["1008"]["like_count"] == 0


def test_tsv_is_detected_and_read():
    posts, quarantine, _ = read(FIXTURES / "posts.tsv")
    r = rows(posts)
    assert sorted(r) == ["2001", "2002", "2004"]
    assert errors(quarantine) == [(3, "empty text (column 'text')")]
    assert r["2001"]["created_at"] == utc(2024, 3, 6, 9, 0)
    assert r["2001"]["mentions"] == ["kominfo"]
    assert r["2001"]["hashtags"] == ["KejahatanSiber"]
    assert r["2001"]["author_id"] == "agus_p"  # "user" column
    assert r["2002"]["text"] == 'He said "apply early" and got the job, mantap'
    assert r["2004"]["created_at"] == datetime.fromtimestamp(1709720000, UTC)


def test_labelled_set_keeps_its_label_and_takes_the_ingest_time():
    posts, quarantine, _ = read(FIXTURES / "labelled.csv")  # UTF-8 BOM, CRLF line ends
    assert quarantine.num_rows == 0
    assert posts.column("post_id").to_pylist() == ["1", "2", "3", "4", "5"]
    assert set(posts.column("created_at").to_pylist()) == {INGESTED}
    assert [json.loads(r)["label"] for r in posts.column("raw").to_pylist()] == [
        "positive",
        "negative",
        "neutral",
        "negative",
        "positive",
    ]
    assert posts.column("text").to_pylist()[3] == "Jujur I feel anxious kalau orang judge postinganku"
    assert posts.column("author_id").to_pylist() == [None] * 5


def test_ingest_time_defaults_to_now():
    sources = expand(FIXTURES / "labelled.csv")
    before = datetime.now(UTC)
    chunks = list(get("generic").read(sources[0], {}))
    after = datetime.now(UTC)
    stamps = set(chunks[0].posts.column("created_at").to_pylist())
    assert len(stamps) == 1
    assert before - timedelta(seconds=1) <= stamps.pop() <= after + timedelta(seconds=1)


def test_rows_without_an_id_get_a_content_hash():
    posts, _, _ = read(FIXTURES / "no_id.csv")  # header "Tweet": matched case-insensitively
    ids = posts.column("post_id").to_pylist()
    assert len(ids) == 4
    assert ids[0] == ids[2]  # identical rows, identical id (the lake's dedup collapses them)
    assert len(set(ids)) == 3
    raw = posts.column("raw").to_pylist()[0]
    assert json.loads(raw) == {
        "Tweet": "Kerja remote bikin work-life balance lebih baik",
        "Sentiment": "positive",
    }
    assert ids[0] == hashlib.sha256(raw.encode()).hexdigest()[:32]
    again, _, _ = read(FIXTURES / "no_id.csv")
    assert again.column("post_id").to_pylist() == ids


def test_mapping_a_tools_columns():
    with pytest.raises(ValueError, match="no text column"):
        read(FIXTURES / "mapped.csv")
    posts, quarantine, _ = read(FIXTURES / "mapped.csv", map=MAPPED, platform="x")
    r = rows(posts)
    assert sorted(r) == ["A-01", "A-02"]
    assert errors(quarantine) == [(3, "unparseable created_at \"08/03/2024\" (column 'waktu_unggah')")]
    a1 = r["A-01"]
    assert a1["post_uid"] == "x:A-01"
    assert a1["platform"] == "x"
    assert a1["text"] == "Debat capres semalam panas; netizen ramai bahas di medsos"  # ";" inside quotes
    assert a1["created_at"] == utc(2024, 3, 8, 6, 0)
    assert a1["author_id"] == "pengamat_politik"
    assert a1["lang_declared"] == "id"
    assert a1["url"] == "https://forum.example.id/a-01"
    assert a1["like_count"] == 2_000_000  # "2 jt"
    assert a1["share_count"] == 15_000  # "15K"
    assert a1["hashtags"] == ["Debat", "Pemilu2024"]  # a JSON array
    a2 = r["A-02"]
    assert a2["hashtags"] == ["StartupID", "EkonomiDigital"]  # space separated, sigils dropped
    assert a2["like_count"] == 980
    assert a2["created_at"] == datetime.fromtimestamp(1709880000, UTC)


def test_column_map_from_a_cli_string():
    spec = "id=post_ref,text=isi_postingan, created_at=waktu_unggah,author=akun,lang=bahasa"
    assert parse_column_map(spec) == {
        "id": "post_ref",
        "text": "isi_postingan",
        "created_at": "waktu_unggah",
        "author": "akun",
        "lang": "bahasa",
    }
    assert parse_column_map(["text=isi_postingan", "created_at="]) == {
        "text": "isi_postingan",
        "created_at": None,
    }
    with pytest.raises(ValueError, match="unknown canonical field 'body'"):
        parse_column_map("body=isi")
    with pytest.raises(ValueError, match="is not field=column"):
        parse_column_map("text")


def test_mapping_to_none_turns_an_automatic_match_off():
    posts, quarantine, _ = read(FIXTURES / "posts.csv", map={"created_at": None})
    assert quarantine.num_rows == 2  # the malformed row and the empty text; the bad date no longer matters
    assert set(posts.column("created_at").to_pylist()) == {INGESTED}


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="unknown canonical field 'txt'"):
        read(FIXTURES / "posts.csv", map={"txt": "text"})
    with pytest.raises(ValueError, match="column 'isi' mapped to 'text' is not in the file"):
        read(FIXTURES / "posts.csv", map={"text": "isi"})
    with pytest.raises(ValueError, match="unknown platform 'myspace'"):
        read(FIXTURES / "posts.csv", platform="myspace")


def test_explicit_delimiter(tmp_path: Path):
    path = tmp_path / "pipes.txt"
    path.write_text("id|text|note\n1|satu, dua; tiga|a\n2|empat|b\n", encoding="utf-8")
    posts, _, _ = read(path, delimiter="pipe")
    assert posts.column("text").to_pylist() == ["satu, dua; tiga", "empat"]
    posts, _, _ = read(path)  # detected from the header as well
    assert posts.column("text").to_pylist() == ["satu, dua; tiga", "empat"]


def test_malformed_csv_records_are_quarantined_with_their_numbers(tmp_path: Path):
    path = tmp_path / "broken.csv"
    path.write_bytes(
        b"id,text\n"
        b'1,"multi\nline"\n'  # record 1 spans two lines
        b"2,fine\n"
        b"3\n"  # missing a field
        b"4,\xff\xfe not utf-8\n"
        b'5,"closed" junk\n'
        b"6,ok\n"
        b'7,"never closed\n'
        b"8,swallowed\n"
        b"9,also swallowed\n"
    )
    posts, quarantine, _ = read(path)
    assert posts.column("post_id").to_pylist() == ["1", "2", "6"]
    assert posts.column("source_record").to_pylist() == [1, 2, 6]
    got = errors(quarantine)
    assert [n for n, _ in got] == [3, 4, 5, 7]
    assert got[0][1].startswith("malformed CSV record: missing columns")
    assert got[1][1].startswith("malformed CSV record: invalid encoding")
    assert got[2][1].startswith("malformed CSV record: unquoted value")
    assert got[3][1].startswith("malformed CSV record: unquoted value")
    # The unterminated quote takes the rest of the file with it, as the CSV grammar reads it.
    assert quarantine.column("raw").to_pylist()[3] == '7,"never closed\n8,swallowed\n9,also swallowed\n'


def test_csv_chunks_keep_record_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import ingest.formats.generic.adapter as generic

    monkeypatch.setattr(generic, "CHUNK_ROWS", 2)
    posts, quarantine, _ = read(FIXTURES / "posts.csv")
    assert posts.column("source_record").to_pylist() == [1, 2, 3, 4, 8]
    assert quarantine.column("source_record").to_pylist() == [5, 6, 7]


def test_header_only_and_empty_files(tmp_path: Path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,text\n", encoding="utf-8")
    posts, quarantine, _ = read(header_only)
    assert posts.num_rows == quarantine.num_rows == 0
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    posts, quarantine, _ = read(empty)
    assert posts.num_rows == quarantine.num_rows == 0


# ---------------------------------------------------------------------------------------------- JSONL


def test_jsonl_counts_reasons_and_mapping():
    posts, quarantine, skipped = read(FIXTURES / "posts.jsonl", map={"author": "$.user.screen_name"})
    assert skipped == {"blank_line": 1}
    assert posts.column("source_record").to_pylist() == [1, 2, 8]
    assert errors(quarantine) == [
        (4, "invalid JSON"),
        (5, "not a JSON object (array)"),
        (6, "empty text (column 'content')"),
        (7, "unparseable created_at \"not a date\" (column 'date')"),
    ]
    assert quarantine.column("raw").to_pylist()[1] == '["bukan", "objek"]'
    r = rows(posts)
    first = r["1765000000000000001"]  # ids stay exact strings
    assert first["post_uid"] == "generic:1765000000000000001"
    assert first["text"].startswith("Awas hoaks lowongan kerja!")
    assert first["created_at"] == utc(2024, 3, 7, 1, 0)
    assert first["author_id"] == "cekfakta_id"
    assert first["lang_declared"] == "id"
    assert first["url"] == "https://social.example/cekfakta_id/1765000000000000001"
    assert first["share_count"] == 1500  # "retweets": "1.5K"
    assert first["hashtags"] == ["hoaks"]
    assert first["links"] == ["https://cekfakta.example.id"]
    assert json.loads(first["raw"])["user"]["id"] == 9001
    second = r["1765000000000000002"]
    assert second["created_at"] == utc(2024, 3, 7, 1, 0)  # epoch milliseconds as a JSON number
    assert second["mentions"] == ["tokoku_id"]
    assert second["share_count"] == 3
    assert r["1765000000000000006"]["share_count"] is None


def test_jsonl_bad_bytes_and_line_numbers_across_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import ingest.formats.generic.adapter as generic

    lines = [
        json.dumps({"id": i, "text": f"pesan nomor {i} #uji", "created_at": 1709600000 + i}).encode()
        for i in range(1, 41)
    ]
    lines[9] = b'{"id": 10, "text": "\xff\xfe rusak"}'
    lines[19] = b""
    lines[29] = b"  \t"
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\r\n".join(lines))  # CRLF, no newline at the end
    monkeypatch.setattr(generic, "JSONL_BLOCK_BYTES", 97)  # blocks end mid-line
    monkeypatch.setattr(generic, "CHUNK_ROWS", 7)
    posts, quarantine, skipped = read(path)
    assert skipped == {"blank_line": 2}
    assert errors(quarantine) == [(10, "invalid UTF-8")]
    assert quarantine.column("raw").to_pylist() == ['{"id": 10, "text": "\ufffd\ufffd rusak"}']
    expected = [n for n in range(1, 41) if n not in (10, 20, 30)]
    assert posts.column("source_record").to_pylist() == expected
    assert posts.column("post_id").to_pylist() == [str(n) for n in expected]
    assert posts.column("text").to_pylist()[-1] == "pesan nomor 40 #uji"


# ---------------------------------------------------------------------------------------- compression


@pytest.mark.parametrize("name", ["posts.csv", "posts.tsv", "posts.jsonl", "labelled.csv"])
def test_compressed_variants_are_identical(tmp_path: Path, name: str):
    data = (FIXTURES / name).read_bytes()
    gz = tmp_path / f"{name}.gz"
    gz.write_bytes(gzip.compress(data))
    zst = tmp_path / f"{name}.zst"
    zst.write_bytes(zstandard.ZstdCompressor().compress(data))
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"data/{name}", data)
    options = {"map": {"author": "$.user.screen_name"}} if name.endswith(".jsonl") else {}
    plain = read(FIXTURES / name, **options)
    for path in (gz, zst, zp):
        assert detect(expand(path)[0]).name == "generic"
        got = read(path, **options)
        assert got[0].equals(plain[0]), path.name
        assert got[1].equals(plain[1]), path.name
        assert got[2] == plain[2]


def test_a_multi_line_json_document_is_refused(tmp_path: Path):
    path = tmp_path / "array.json"
    path.write_text('[\n {"id": 1, "text": "halo"}\n]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="multi-line JSON document, not JSON Lines"):
        read(path)


def test_jsonl_author_object_is_read_by_its_handle():
    posts, _, _ = read(FIXTURES / "posts.jsonl")  # "user": {"screen_name": ..., "id": ...}, no map
    assert posts.column("author_id").to_pylist() == ["cekfakta_id", "budi_s", "sari_i"]
    posts, _, _ = read(FIXTURES / "posts.jsonl", map={"author": "$.user.id"})
    assert posts.column("author_id").to_pylist() == ["9001", "9002", "9005"]


def test_target_author_ids_and_mention_targets_from_stated_columns(tmp_path):
    path = tmp_path / "replies.csv"
    path.write_text(
        "id,text,created_at,author,in_reply_to_user_id,mentions\n"
        '1,hai @Budi dan @siti,2024-03-08T13:00:00Z,u1,77,"Budi, siti, budi"\n'
        "2,tanpa @siapa,2024-03-08T13:00:00Z,u2,,\n",
        encoding="utf-8",
    )
    rows = {r["post_id"]: r for r in read_export("generic", path)[0].to_pylist()}
    assert rows["1"]["reply_to_author_id"] == "77"
    assert rows["1"]["mention_targets"] == [{"id": None, "handle": "Budi"}, {"id": None, "handle": "siti"}]
    assert rows["2"]["reply_to_author_id"] is None and rows["2"]["mention_targets"] == []
    # mapped by name; mentions only in the text are no stated mention
    path = tmp_path / "quotes.csv"
    path.write_text("id,text,created_at,quoted_user\n3,lihat @ini,2024-03-08T13:00:00Z,88\n",
                    encoding="utf-8")
    [row] = read_export("generic", path, map={"quote_of_author_id": "quoted_user"})[0].to_pylist()
    assert row["quote_of_author_id"] == "88" and row["mention_targets"] == [] and row["mentions"] == ["ini"]


def test_csv_record_with_several_errors_lists_them_in_one_order(tmp_path):
    """DuckDB reports several reject errors for one broken line; the quarantine's reason names them in
    sorted order, the same on every run."""
    path = tmp_path / "multi.csv"
    path.write_text(
        "id,text,created_at,author\n"
        '1,"ok one",2026-11-01T10:00:00Z,a\n'
        '2,"bad "quote" inside,and,extra,cols",2026-11-01,b\n'
        "3,fine,2026-11-01T11:00:00Z,c\n", encoding="utf-8")
    seen = {tuple(errors(read(path)[1])) for _ in range(3)}
    assert len(seen) == 1
    [(record, reason)] = seen.pop()
    parts = reason.removeprefix("malformed CSV record: ").split("; ")
    assert record == 2 and len(parts) >= 2 and parts == sorted(parts)
    assert any(p.startswith("unquoted value") for p in parts)
