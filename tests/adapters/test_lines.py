"""ingest.lines: blocks of whole lines, their framing as Arrow tables, and the chunk runner."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ingest.lines import ChunkSQL, blocks, frame, framed, run_chunks
from ingest.registry import AdapterChunk
from ingest.sources import Source, expand

LINES = [b"a", b"bb", b"\xff x", b"exactly12byt", b"longer than twelve bytes", b"", b"  ", b"last"]


def _file(tmp_path: Path, data: bytes, name: str = "lines.jsonl") -> Source:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    (source,) = expand(path)
    return source


def _all_lines(source: Source, chunk_bytes: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    good: list[tuple[int, str]] = []
    bad: list[tuple[int, str]] = []
    for table, b in framed(source, chunk_bytes):
        good += zip(table.column("line_no").to_pylist(), table.column("line").to_pylist(), strict=True)
        bad += b
    return good, bad


def test_frame_leaves_out_line_breaks_and_sets_invalid_utf8_apart():
    data = bytearray(b"xx" + b"a\r\nbb\r\r\n\xff x\r\nexactly12byt\nlonger than twelve bytes\n\n  \nlast\r")
    table, bad = frame(data, 2, len(data), 10)
    assert table.column("line_no").to_pylist() == [10, 11, 13, 14, 15, 16, 17]
    assert table.column("line").to_pylist() == [
        "a",
        "bb",
        "exactly12byt",
        "longer than twelve bytes",
        "",
        "  ",
        "last",
    ]
    assert bad == [(12, "\ufffd x")]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 5, 13, 1 << 20])
@pytest.mark.parametrize("name", ["lines.jsonl", "lines.jsonl.gz"])
def test_blocks_carry_cut_lines_and_number_them_across_blocks(tmp_path: Path, chunk_bytes: int, name: str):
    source = _file(tmp_path, b"\xef\xbb\xbf" + b"\r\n".join(LINES), name)
    good, bad = _all_lines(source, chunk_bytes)
    assert bad == [(3, "\ufffd x")]
    assert good == [(n, line.decode()) for n, line in enumerate(LINES, 1) if n != 3]
    cut = list(blocks(source, chunk_bytes))
    assert all(buf[stop - 1] == 0x0A for buf, _, stop in cut[:-1])


def test_a_line_longer_than_a_block_is_read_whole(tmp_path: Path):
    long = b"x" * 100_000
    good, bad = _all_lines(_file(tmp_path, b"a\n" + long + b"\nb\n"), 7)
    assert good == [(1, "a"), (2, long.decode()), (3, "b")] and bad == []


def test_run_chunks_keeps_file_order(tmp_path: Path):
    source = _file(tmp_path, b"".join(b'{"n": %d}\n' % i for i in range(200)))
    seen = []
    for chunk in run_chunks(
        source,
        {"chunk_bytes": 64, "workers": 3},
        lambda con, lines, bad: AdapterChunk(skipped={"first": lines.column("line_no")[0].as_py()}),
    ):
        seen.append(chunk.skipped["first"])
    assert len(seen) > 10 and seen == sorted(seen) and seen[0] == 1


def test_chunk_sql_maps_and_quarantines_invalid_utf8(tmp_path: Path):
    posts = """select 'x:' || line as post_uid, 'x' as platform, line as post_id, now() as created_at,
                      'post' as kind, line_no as source_record from t where line <> ''"""
    sql = ChunkSQL(
        ("create temp table t as select line_no, line from lines",),
        posts,
        "select line_no as source_record, line as raw, 'blank' as error, 0 as pos from t where line = ''",
        "select 'lines', count(*) from t",
    )
    assert sql.tables == ["t"]
    source = _file(tmp_path, b"one\n\n\xfe\ntwo")
    (chunk,) = list(run_chunks(source, None, sql))
    assert chunk.posts.column("source_record").to_pylist() == [1, 4]
    assert chunk.quarantine.to_pylist() == [
        {"source_record": 2, "raw": "", "error": "blank"},
        {"source_record": 3, "raw": "\ufffd", "error": "invalid UTF-8"},
    ]
    assert chunk.skipped == {"lines": 3}


def test_empty_files_and_bad_options(tmp_path: Path):
    source = _file(tmp_path, b"\xef\xbb\xbf")
    assert list(run_chunks(source, None, lambda *_: AdapterChunk())) == []
    (chunk,) = run_chunks(source, None, lambda *_: AdapterChunk(), empty=True)
    assert chunk.posts.num_rows == 0 and chunk.quarantine.num_rows == 0
    with pytest.raises(ValueError, match="chunk_bytes"):
        list(run_chunks(source, {"chunk_bytes": 0}, lambda *_: AdapterChunk()))
    with pytest.raises(ValueError, match="workers"):
        list(run_chunks(source, {"workers": -2}, lambda *_: AdapterChunk()))
