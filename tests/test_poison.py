"""Poison files must not stop the night, and ingest has limits.

Each test is one reproduction found on a fresh clone (hostile files are written here at run time,
never committed): a truncated or corrupt compressed file, JSON nested 10,000 deep, decompression
bombs, a huge single line, one invalid byte in an X v2 page, a zip inside a zip, and an X archive's
``account.js`` whose content must never be previewed in messages or run summaries.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
import zstandard

from discourse import pipeline
from discourse.settings import load_settings
from ingest.lake import ingest_file
from ingest.registry import UnrecognisedFormat, adapters, detect
from ingest.sources import LimitExceeded, Limits, SourceError, expand

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FLAT = (FIXTURES / "x_v2" / "flat.jsonl").read_bytes()
ACCOUNT_JS = (FIXTURES / "x_archive" / "data" / "account.js").read_bytes()
EMAIL, ACCOUNT_ID = b"budi@example.org", b"1234567890"
DEEP = b"[" * 10_000 + b"]" * 10_000 + b"\n"


def _settings(home: Path, **env: str):
    base = {"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "test-key"}
    return load_settings(env={**base, **{f"DISCOURSE_{k.upper()}": v for k, v in env.items()}})


def _tweet(i: int, text: str = "halo") -> dict:
    return {"id": str(1890000000000000000 + i), "text": f"{text} {i}", "author_id": "1200000000000000003",
            "created_at": "2026-02-14T05:03:10.000Z", "lang": "in"}


def _page(tweets: list[dict]) -> bytes:
    return json.dumps({"data": tweets, "includes": {"users": []}, "meta": {"result_count": len(tweets)}},
                      ensure_ascii=False).encode()


def _accounted(entry: dict) -> bool:
    return entry["records_in"] == entry["loaded"] + entry["quarantined"] + entry["duplicates_within_batch"]


# ------------------------------------------------------------------ the run goes on


class _StopAfterIngest(Exception):
    pass


def _run_ingest_only(settings) -> dict:
    """``pipeline.run``, stopped at the first step after the ingest loop (no gates, no dbt build);
    the run record it writes anyway is returned."""
    stopped = []

    def echo(line: str) -> None:
        if line.startswith("[") and not line.startswith(("[list]", "[ingest ")) and not stopped:
            stopped.append(line)
            raise _StopAfterIngest(line)

    with pytest.raises(_StopAfterIngest):
        pipeline.run(settings, echo=echo)
    [record] = (settings.home / "runs").glob("*.json")
    return json.loads(record.read_text())


def test_poison_files_do_not_stop_the_run(settings):
    inbox = settings.inbox
    inbox.mkdir(parents=True)
    (inbox / "a_truncated.jsonl.gz").write_bytes(gzip.compress(FLAT)[:-20])
    (inbox / "b_deep.jsonl").write_bytes(DEEP)
    (inbox / "c_deep_page.jsonl").write_bytes(b'{"data":' + DEEP.strip() + b"}\n")
    (inbox / "d_truncated.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(FLAT * 50)[:-40])
    (inbox / "e_account.js").write_bytes(ACCOUNT_JS)
    (inbox / "z_good.jsonl").write_bytes(FLAT)
    summary = _run_ingest_only(settings)
    by_name = {Path(r["path"]).name: r for r in summary["ingest"]}
    assert set(by_name) == {p.name for p in inbox.iterdir()}
    good = by_name["z_good.jsonl"]
    assert not good.get("error") and good["loaded"] > 0 and good["status"] == "ingested"
    for name in ("a_truncated.jsonl.gz", "d_truncated.jsonl.zst"):
        err = by_name[name]["error"]
        assert name in err and "truncated" in err and "\n" not in err
        assert by_name[name]["status"] == "failed"
    for name in ("b_deep.jsonl", "c_deep_page.jsonl", "e_account.js"):
        assert by_name[name]["status"] == "unrecognised" and name in by_name[name]["error"]
    # the failing files are alerted, and stay in the inbox to be tried again
    alerts = [json.loads(p.read_text()) for p in settings.alerts_dir.rglob("*.json")]
    alerted = {a["extra"].get("path") for a in alerts if a["stage"] == "ingest"}
    assert alerted == {str(inbox / "a_truncated.jsonl.gz"), str(inbox / "d_truncated.jsonl.zst")}
    assert all(a["severity"] == "error" for a in alerts if a["stage"] == "ingest")
    assert set(map(str, (inbox / n for n in by_name if n != "z_good.jsonl"))) <= set(
        pipeline.list_new_files(settings))
    # nothing of the archive owner's identity in the run summary
    text = json.dumps(summary).encode()
    assert EMAIL not in text and ACCOUNT_ID not in text


def test_deep_json_is_no_crash_for_any_sniffer():
    for name, cls in adapters().items():
        for head in (DEEP, b'{"data":' + DEEP, b'{"did":"did:plc:x","kind":"commit","x":' + DEEP):
            assert cls().sniff(head) in (True, False), name


def test_deep_json_with_a_format_forced_is_quarantined_or_refused(settings):
    for fmt in ("x_v2", "bluesky_jetstream", "reddit", "mastodon", "generic"):
        path = settings.home / f"deep_{fmt}.jsonl"
        path.write_bytes(FLAT.splitlines()[0] + b"\n" + b'{"data":' + DEEP.strip() + b"}\n")
        try:
            entries = ingest_file(settings, path, fmt=fmt, force=True)
        except (ValueError, SourceError):
            continue  # refused as a whole, with a reason
        for e in entries:
            assert _accounted(e)


# ------------------------------------------------------------------ truncation


def test_truncated_gzip_is_an_error_naming_the_file(tmp_path):
    p = tmp_path / "t.jsonl.gz"
    p.write_bytes(gzip.compress(FLAT * 100)[:-50])
    [src] = expand(p)
    with pytest.raises(SourceError, match=r"t\.jsonl\.gz: gzip file is truncated"):
        src.open().read()


def test_truncated_zstd_is_detected_not_half_loaded(settings, tmp_path):
    data = FLAT * 200
    whole = zstandard.ZstdCompressor().compress(data)
    p = tmp_path / "t.jsonl.zst"
    p.write_bytes(whole[: len(whole) // 2])
    [src] = expand(p)
    with pytest.raises(SourceError, match=r"t\.jsonl\.zst: zstd file is truncated or corrupt"):
        src.open().read()
    with pytest.raises(SourceError):
        ingest_file(settings, p, fmt="x_v2")
    assert not list(settings.manifest_dir.glob("*.json"))
    # whole files, several frames and a checksum, still read
    ok = tmp_path / "ok.jsonl.zst"
    ok.write_bytes(whole + zstandard.ZstdCompressor(write_checksum=True).compress(data))
    [src] = expand(ok)
    assert src.open().read() == data * 2


def test_zip_member_crc_mismatch_and_truncated_zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("posts.jsonl", FLAT)
    raw = bytearray(buf.getvalue())
    at = raw.index(b'"id"')
    raw[at + 1] ^= 0x20  # one flipped bit inside the stored member: its CRC no longer matches
    p = tmp_path / "crc.zip"
    p.write_bytes(bytes(raw))
    [src] = expand(p)
    with pytest.raises(SourceError, match=r"crc\.zip!posts\.jsonl: zip member is truncated or corrupt"):
        src.open().read()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(buf.getvalue()[:-30])  # no central directory
    with pytest.raises(SourceError, match="cut.zip: zip archive is truncated or corrupt"):
        expand(cut)


# ------------------------------------------------------------------ limits


def test_gzip_bomb_is_refused_fast(settings, tmp_path):
    p = tmp_path / "bomb.jsonl.gz"
    p.write_bytes(gzip.compress(FLAT + b"\n" * (128 << 20), 9))
    assert p.stat().st_size < 200_000
    t0 = time.perf_counter()
    res = pipeline.ingest_one(settings, str(p))
    assert time.perf_counter() - t0 < 30
    assert res["status"] == "refused" and "ingest_max_ratio" in res["error"]
    assert "bomb.jsonl.gz" in res["error"]
    assert not list(settings.manifest_dir.glob("*.json"))


def test_decompressed_bytes_limit(tmp_path):
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip.compress(FLAT * 10))
    [src] = expand(p, Limits(max_decompressed_bytes=1000))
    with pytest.raises(LimitExceeded, match="ingest_max_decompressed_bytes"):
        src.open().read()


def test_zip_bomb_member_is_refused(tmp_path):
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("posts.jsonl", FLAT + b" " * (64 << 20))
    [src] = expand(p)
    with pytest.raises(LimitExceeded, match="ingest_max_ratio"):
        src.open().read()


@pytest.mark.parametrize("chunk_bytes", [None, 4096])
def test_a_line_over_the_record_limit_is_quarantined_and_never_held_whole(settings, tmp_path, chunk_bytes):
    s = settings.with_(ingest_max_record_bytes=1 << 20)
    huge = b'{"id":"1","text":"' + b"a" * (5 << 20) + b'"}'
    p = tmp_path / "big.jsonl"
    lines = [json.dumps({**_tweet(i), "conversation_id": "1", "__twarc": {}}).encode() for i in range(20)]
    p.write_bytes(b"\n".join(lines[:10] + [huge] + lines[10:]) + b"\n")
    options = {"chunk_bytes": chunk_bytes} if chunk_bytes else None
    [e] = ingest_file(s, p, fmt="x_v2", options=options)
    assert (e["loaded"], e["quarantined"], e["records_in"]) == (20, 1, 21)
    import pyarrow.parquet as pq

    [q] = [pq.read_table(f).to_pylist() for f in s.quarantine_dir.rglob("*.parquet")]
    assert q[0]["source_record"] == 11
    assert "over the limit of 1 MiB (ingest_max_record_bytes)" in q[0]["error"]
    assert len(q[0]["raw"]) <= 4096


def test_the_default_record_limit_applies_to_every_line_format(tmp_path):
    huge = b'{"x":"' + b"a" * ((16 << 20) + 10) + b'"}'
    p = tmp_path / "big.jsonl"
    p.write_bytes(FLAT + huge + b"\n" + FLAT)
    [src] = expand(p)
    from ingest.lines import framed

    seen = [b for _, bad in framed(src, 1 << 20) for b in bad]
    assert [b[0] for b in seen] == [FLAT.count(b"\n") + 1]
    assert "ingest_max_record_bytes" in seen[0][2]


def test_line_count_limit_refuses_the_file(settings, tmp_path):
    s = settings.with_(ingest_max_lines=5)
    p = tmp_path / "many.jsonl"
    p.write_bytes(FLAT + b"\n" * 10)
    res = pipeline.ingest_one(s, str(p))
    assert res["status"] == "refused" and "ingest_max_lines" in res["error"]


def test_json_depth_limit_quarantines_a_record_of_a_python_mapped_format(settings, tmp_path):
    status = json.loads((FIXTURES / "mastodon" / "statuses_pages.jsonl").read_text().splitlines()[0])
    p = tmp_path / "statuses.jsonl"
    deep = {"id": "1", "x": json.loads("[" * 40 + "]" * 40)}
    p.write_text(json.dumps(status) + "\n" + json.dumps([deep]) + "\n")
    s = settings.with_(ingest_max_json_depth=20)
    [e] = ingest_file(s, p, fmt="mastodon")
    assert e["quarantined"] == 1 and e["loaded"] >= 1 and _accounted(e)
    import pyarrow.parquet as pq

    [q] = [pq.read_table(f).to_pylist() for f in s.quarantine_dir.rglob("*.parquet")]
    assert q[0]["source_record"] == 2 and "ingest_max_json_depth" in q[0]["error"]


def test_limits_reach_the_ingest_from_the_settings(tmp_path):
    s = _settings(tmp_path, ingest_max_record_bytes="1000", ingest_max_ratio="7.5")
    assert Limits.from_settings(s) == Limits(max_record_bytes=1000, max_ratio=7.5)
    assert Limits.from_settings(load_settings(env={})) == Limits()


# ------------------------------------------------------------------ smallest unit


def test_one_invalid_byte_in_an_x_page_quarantines_one_tweet(settings, tmp_path):
    tweets = [_tweet(i) for i in range(100)]
    page = _page(tweets)
    bad = page.replace(b"halo 42", b"halo \xff42")
    p = tmp_path / "pages.jsonl"
    p.write_bytes(page + b"\n" + bad.replace(b"1890000000000000", b"1890000000000001") + b"\n")
    [e] = ingest_file(settings, p)
    assert e["export_format"] == "x_v2"
    assert (e["loaded"], e["quarantined"], e["records_in"]) == (199, 1, 200)
    import pyarrow.parquet as pq

    [q] = [pq.read_table(f).to_pylist() for f in settings.quarantine_dir.rglob("*.parquet")]
    assert [(r["source_record"], r["error"]) for r in q] == [(2, "invalid UTF-8")]
    assert "1890000000000001042" in q[0]["raw"]


# ------------------------------------------------------------------ nested archives


def test_a_zip_inside_a_zip_is_refused_with_a_reason(settings, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("posts.jsonl", FLAT)
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
        zf.writestr("inner.jsonl.gz", gzip.compress(FLAT))
        zf.writestr("posts.jsonl", FLAT)
    entries = ingest_file(settings, outer)
    assert [e["source_member"] for e in entries] == ["posts.jsonl"]
    unrec = entries[0]["unrecognised_members"]
    assert len(unrec) == 2 and all("nested archives are not read" in u for u in unrec)
    only = tmp_path / "only.zip"
    with zipfile.ZipFile(only, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    with pytest.raises(UnrecognisedFormat, match="nested archives are not read"):
        ingest_file(settings, only)
    with pytest.raises(UnrecognisedFormat, match="nested archives are not read"):
        ingest_file(settings, only, fmt="x_v2")


# ------------------------------------------------------------------ no previews of identity


def test_unrecognised_messages_never_preview_content(settings, tmp_path):
    p = tmp_path / "account.js"
    p.write_bytes(ACCOUNT_JS)
    [src] = expand(p)
    with pytest.raises(UnrecognisedFormat) as exc:
        detect(src)
    msg = str(exc.value)
    assert "JavaScript assignment `window.YTD.account.part0`" in msg and f"{len(ACCOUNT_JS):,} bytes" in msg
    assert "budi" not in msg and "1234567890" not in msg
    z = tmp_path / "archive.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("data/account.js", ACCOUNT_JS)
        zf.writestr("data/other.json", b'{"email": "budi@example.org", "accountId": "1234567890"}')
    with pytest.raises(UnrecognisedFormat) as exc:
        ingest_file(settings, z)
    msg = str(exc.value)
    assert "budi@" not in msg and "1234567890" not in msg
    assert "JSON object; first keys email, accountId" in msg
    res = pipeline.ingest_one(settings, str(z))
    assert EMAIL.decode() not in json.dumps(res) and ACCOUNT_ID.decode() not in json.dumps(res)
    # the X archive adapter's own refusal does not preview either
    with pytest.raises(ValueError) as exc:
        list(adapters()["x_archive"]().read(src, {}))
    assert "budi" not in str(exc.value) and "JavaScript assignment" in str(exc.value)


# ------------------------------------------------------------------ crashes the fuzzer found


def test_fuzz_regression_mastodon_object_type_of_the_wrong_type(tmp_path):
    doc = json.loads((FIXTURES / "mastodon" / "outbox.json").read_text())
    doc["orderedItems"][1]["object"]["type"] = []  # was: TypeError (unhashable type: 'list')
    p = tmp_path / "outbox.json"
    p.write_text(json.dumps(doc))
    chunks = list(adapters()["mastodon"]().read(expand(p)[0], {}))
    errors = [e for c in chunks for e in c.quarantine.column("error").to_pylist()]
    assert any(e.startswith("malformed record (TypeError") for e in errors)


def test_fuzz_regression_csv_with_changing_line_ends_is_refused_with_a_reason(tmp_path):
    p = tmp_path / "posts.tsv"
    # a CRLF header over LF rows: DuckDB's CSV state machine stops (was: InvalidInputException)
    p.write_bytes(b"id\ttext\tdate\tuser\r\n2001\thalo\t2024-03-06 09:00:00\tagus\n"
                  b'2002\tHe said "apply early"\t2024-03-06T02:30:00Z\tdewi\n')
    try:
        list(adapters()["generic"]().read(expand(p)[0], {}))
    except ValueError as exc:
        assert "posts.tsv: CSV cannot be read as a whole" in str(exc)
