"""Line-oriented exports: whole lines as Arrow tables, and the chunk runner that maps them with DuckDB.

Every JSON-lines format (``x_v2``, ``reddit``, ``bluesky_jetstream``, ``youtube_comments``,
``zeeschuimer`` and the JSONL path of ``generic``) reads its file through this module, in steps that
need no Python loop per line:

* ``blocks``: the decompressed source (``Source.open()``: gzip, zstd with windows up to 2 GiB and across
  frames, zip members) cut into blocks of whole lines of about ``chunk_bytes``. Each block is a fresh
  buffer filled with ``readinto`` (the previous one may still be in use downstream); the line cut by a
  block's end is carried into the next one; a leading UTF-8 BOM is dropped.
* ``frame``: one block as a ``(line_no BIGINT, line VARCHAR)`` table. The lines are an Arrow
  ``string_view`` array pointing into the block's buffer (no copy), built with numpy, each line
  without its line break (``\\n`` or ``\\r\\n``, and any further CRs before it), so the adapters'
  SQL need not trim (an ``rtrim`` there would copy every line). Lines that are not valid UTF-8 are set
  apart as ``(line_no, text with replacement characters)``; ``bad_utf8_table`` and ``add_bad_utf8``
  turn them into quarantine rows (``invalid UTF-8``).
* ``framed``: the framed blocks of a source, lines numbered from 1 across blocks (``source_record``).
* ``run_chunks``: the chunk runner. Each framed block is mapped by the adapter's ``mapper`` on a
  private single-threaded in-memory DuckDB connection, ``workers`` blocks at once, while a reader
  thread decompresses and frames the next block; the chunks come out in file order. A block's
  statements run one after another over small intermediate tables, so mapping whole blocks side by
  side uses the cores better than running one block's statements on several DuckDB threads.
* ``ChunkSQL``: the usual mapper, an adapter's fixed set of SQL statements run over the table
  ``lines``.

Options read by ``run_chunks`` (``chunk_options``; declared in ``ingest.registry.CHUNK_OPTIONS``):
``chunk_bytes``, decompressed bytes per block (default 64 MiB; for a plain file under ``workers`` *
64 MiB, less, so that every worker gets a share, but not under 8 MiB, where per-block planning costs
more than splitting gains), and ``workers``, blocks mapped at once (default, or 0: the CPU count, at
most 4). Memory stays bounded by about ``chunk_bytes * (workers + 3)`` of text plus what the blocks
in flight produce.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ingest.formats.common import UTF8_BOM
from ingest.prefetch import prefetch
from ingest.registry import AdapterChunk
from ingest.schema import (
    ADAPTER_SCHEMA,
    CONTEXT_SCHEMA,
    QUARANTINE_ADAPTER_SCHEMA,
    QUARANTINE_RAW_MAX_CHARS,
    conform,
)
from ingest.sources import LimitExceeded, Source, size_text

DEFAULT_CHUNK_BYTES = 64 << 20
# Below this, splitting a plain file across workers costs more in per-block planning than it gains.
MIN_SPLIT_BYTES = 8 << 20
MAX_DEFAULT_WORKERS = 4
# Lines framed at once, at most (about): framing costs ~60 bytes per line whatever its length.
MAX_BLOCK_LINES = 1 << 20
# DuckDB parses a vector of lines at a time (up to 2048, never across record batches); with lines of a
# few hundred KB (twarc2 pages), record batches of about this size keep that working set small.
BATCH_BYTES = 4 << 20
_CREATED_TABLE = re.compile(r"create\s+(?:or\s+replace\s+)?temp(?:orary)?\s+table\s+(\w+)", re.IGNORECASE)

BadLines = list[tuple[int, str] | tuple[int, str, str]]
"""Lines set apart from the table: ``(line_no, text with replacement characters)`` for lines that are
not valid UTF-8, ``(line_no, text, error)`` for lines refused for another reason (over
``max_record_bytes``: the text is the line's start)."""
# How much of a line over the record limit is kept (for the quarantine's ``raw``).
OVERSIZED_PREFIX_BYTES = 4096

Mapper = Callable[[duckdb.DuckDBPyConnection, pa.Table, BadLines], AdapterChunk]

# --------------------------------------------------------------------------------------------------
# Blocks and framing
# --------------------------------------------------------------------------------------------------


def blocks(source: Source, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[tuple[bytearray, int, int]]:
    """``(buffer, start, stop)``: ``buffer[start:stop]`` holds whole lines of the decompressed source.

    Each block gets a fresh buffer; the tail of a line cut by the block's end is carried into the next
    one. A line longer than ``chunk_bytes`` makes its block larger (the buffer grows geometrically until
    the line ends), up to the source's ``limits.max_record_bytes``: a line over that is never held
    whole (``framed`` quarantines it; here it is left out). The last block may lack a final newline.
    A leading UTF-8 BOM is left out.
    """
    for buf, start, stop, oversized in _blocks(source, chunk_bytes):
        if not oversized:
            yield buf, start, stop


def _blocks(source: Source, chunk_bytes: int) -> Iterator[tuple[bytearray, int, int, int]]:
    """``blocks``, and the lines over ``max_record_bytes`` as ``(prefix, 0, len(prefix), length)``
    between them (``length`` > 0: the whole line's bytes, read past and dropped)."""
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    max_record = source.limits.max_record_bytes
    rest = b""
    first = True
    skipping = 0  # > 0: inside a line over the limit, this many of its bytes seen
    prefix = b""
    # the first buffer holds at least a BOM's length, so a BOM is always seen whole
    size = max(chunk_bytes, len(UTF8_BOM))
    with source.open() as fh:
        while True:
            buf = bytearray(len(rest) + size)
            buf[: len(rest)] = rest
            filled = len(rest)
            eof = False
            with memoryview(buf) as view:
                while filled < len(buf):
                    got = fh.readinto(view[filled:])
                    if not got:
                        eof = True
                        break
                    filled += got
            start = 0
            if first:
                first = False
                if buf.startswith(UTF8_BOM):
                    start = len(UTF8_BOM)
            if skipping:
                nl = buf.find(b"\n", start, filled)
                if nl < 0:
                    skipping += filled - start
                    if eof:
                        yield bytearray(prefix), 0, len(prefix), skipping
                        return
                    rest, size = b"", chunk_bytes
                    continue
                skipping += nl - start
                yield bytearray(prefix), 0, len(prefix), skipping
                skipping, prefix, start = 0, b"", nl + 1
            if eof:
                if filled > start:
                    yield buf, start, filled, 0
                return
            cut = buf.rfind(b"\n", start, filled)
            if cut < 0 and filled - start > max_record:
                # a line over the limit: keep its start for the quarantine, read past the rest
                skipping, prefix = filled - start, bytes(buf[start : start + OVERSIZED_PREFIX_BYTES])
                rest, size = b"", chunk_bytes
                continue
            rest = bytes(buf[start:filled] if cut < 0 else buf[cut + 1 : filled])
            # no line end yet: read as much again as is carried, so a long line costs linear time
            size = chunk_bytes if cut >= 0 else max(chunk_bytes, len(rest))
            if cut >= 0:
                yield buf, start, cut + 1, 0


def _newlines(data: np.ndarray) -> np.ndarray:
    """Positions of newlines in ``data``, scanned in cache-sized slices (one big mask page-faults)."""
    step = 1 << 20
    parts = [np.flatnonzero(data[i : i + step] == 0x0A) + i for i in range(0, len(data), step)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _line_bounded(buf: bytearray, start: int, stop: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``buf[start:stop]`` cut into pieces of at most about ``MAX_BLOCK_LINES`` lines, with the
    positions of their newlines: ``(start, stop, newlines)``. Framing costs about 60 bytes per line,
    so a block of tiny lines (a file of newlines) would cost 30 times its size; this is the same
    slice-by-slice newline scan ``frame`` makes, cut where the count is reached."""
    data = np.frombuffer(buf, dtype=np.uint8)
    step = 1 << 20
    parts: list[np.ndarray] = []
    count = 0
    piece = start
    for i in range(start, stop, step):
        found = np.flatnonzero(data[i : min(i + step, stop)] == 0x0A) + i
        parts.append(found)
        count += len(found)
        if count >= MAX_BLOCK_LINES and len(found):
            cut = int(found[-1]) + 1
            yield piece, cut, np.concatenate(parts)
            piece, parts, count = cut, [], 0
    if piece < stop or not parts:
        yield piece, stop, np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _invalid_rows(lines: pa.Array) -> list[int]:
    """Rows of ``lines`` (a string_view array failing validation) that are not UTF-8, by bisection."""
    bad: list[int] = []
    todo = [(0, len(lines))]
    while todo:
        lo, hi = todo.pop()
        try:
            lines.slice(lo, hi - lo).validate(full=True)
        except pa.ArrowInvalid:
            if hi - lo == 1:
                bad.append(lo)
            else:
                mid = (lo + hi) // 2
                todo += [(mid, hi), (lo, mid)]
    return sorted(bad)


def frame(
    buf: bytearray,
    start: int,
    stop: int,
    first_line_no: int,
    max_record_bytes: int | None = None,
    newlines: np.ndarray | None = None,
) -> tuple[pa.Table, BadLines]:
    """``buf[start:stop]`` (whole lines) as a ``(line_no, line)`` table, without copying the text.

    The lines are an Arrow ``string_view`` array pointing into ``buf``, each without its line break
    (``\\n`` or ``\\r\\n``, and any further CRs before it) at no cost; the table is cut into record
    batches of about ``BATCH_BYTES``. Lines that are not valid UTF-8, and lines longer than
    ``max_record_bytes``, are returned apart (and are not in the table).
    """
    if stop >= 1 << 31:
        raise ValueError("a single block of lines over 2 GiB cannot be mapped; is this a JSON lines file?")
    data = np.frombuffer(buf, dtype=np.uint8)
    ends = _newlines(data[start:stop]) + start if newlines is None else newlines
    if stop > start and buf[stop - 1] != 0x0A:
        ends = np.append(ends, stop)
    n = len(ends)
    starts = np.empty(n, dtype=np.int64)
    if n:
        starts[0] = start
        starts[1:] = ends[:-1] + 1
    lens = ends - starts
    # the CR of a CRLF, and any more CRs before it (a stray CR is no part of a record either)
    ending = np.flatnonzero(lens > 0)
    while len(ending):
        ending = ending[data[starts[ending] + lens[ending] - 1] == 0x0D]
        lens[ending] -= 1
        ending = ending[lens[ending] > 0]
    # Arrow view layout, 16 bytes per line: int32 length, then the bytes inline when they fit in 12,
    # else a 4-byte prefix, the data buffer's index (0) and the int32 offset into it.
    views = np.zeros((n, 16), dtype=np.uint8)
    words = views.view(np.int32)
    words[:, 0] = lens
    long_rows = np.flatnonzero(lens > 12)
    views[long_rows, 4:8] = data[starts[long_rows, None] + np.arange(4)]
    words[long_rows, 3] = starts[long_rows]
    short_rows = np.flatnonzero(lens <= 12)
    if len(short_rows):
        idx = np.minimum(starts[short_rows, None] + np.arange(12), len(data) - 1)
        views[short_rows, 4:16] = data[idx] * (np.arange(12) < lens[short_rows, None])
    line_nos = np.arange(first_line_no, first_line_no + n, dtype=np.int64)
    data_buffer = pa.py_buffer(buf)
    bad: BadLines = []
    over: list[int] = []
    if max_record_bytes is not None and n and int(lens.max()) > max_record_bytes:
        # Rare: lines over the record limit (a block holds them whole only below chunk_bytes)
        over = [int(i) for i in np.flatnonzero(lens > max_record_bytes)]
        for i in over:
            piece = bytes(buf[starts[i] : starts[i] + min(int(lens[i]), OVERSIZED_PREFIX_BYTES)])
            bad.append((int(line_nos[i]), piece.decode("utf-8", "replace"),
                        oversized_error(int(lens[i]), max_record_bytes)))
        views[over] = 0  # empty: out of the validation below; dropped with the invalid lines
    lines = pa.Array.from_buffers(pa.string_view(), n, [None, pa.py_buffer(views), data_buffer])
    try:
        lines.validate(full=True)
        rows: list[int] = []
    except pa.ArrowInvalid:
        # Rare: some line is not UTF-8. Find which (in this block only) and set them aside.
        rows = _invalid_rows(lines)
        for i in rows:
            piece = bytes(buf[starts[i] : starts[i] + lens[i]])
            bad.append((int(line_nos[i]), piece.decode("utf-8", "replace")))
    if rows or over:
        bad.sort(key=lambda b: b[0])
        keep = np.ones(n, dtype=bool)
        keep[rows] = False
        keep[over] = False
        kept = np.ascontiguousarray(views[keep])
        lines = pa.Array.from_buffers(pa.string_view(), len(kept), [None, pa.py_buffer(kept), data_buffer])
        line_nos = line_nos[keep]
    table = pa.table({"line_no": pa.array(line_nos), "line": lines})
    rows_per_batch = max(1, len(line_nos) * BATCH_BYTES // max(1, stop - start))
    table = pa.Table.from_batches(table.to_batches(max_chunksize=rows_per_batch), schema=table.schema)
    return table, bad


def oversized_error(length: int, limit: int) -> str:
    return (f"record of {size_text(length)} over the limit of {size_text(limit)} "
            "(ingest_max_record_bytes); raw keeps its start")


def framed(source: Source, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[tuple[pa.Table, BadLines]]:
    """``frame`` over the ``blocks`` of ``source``, lines numbered from 1 across blocks.

    The source's ``limits`` apply: a line over ``max_record_bytes`` is set apart (in the next block's
    ``bad``, with its reason), and a file of more than ``max_lines`` lines raises ``LimitExceeded``.
    """
    limits = source.limits
    line_no = 1
    pending: BadLines = []
    for buf, start, stop, oversized in _blocks(source, chunk_bytes):
        if oversized:
            text = bytes(buf[start:stop]).decode("utf-8", "replace")
            pending.append((line_no, text, oversized_error(oversized, limits.max_record_bytes)))
            line_no += 1
            continue
        for lo, hi, newlines in _line_bounded(buf, start, stop):
            table, bad = frame(buf, lo, hi, line_no, limits.max_record_bytes, newlines)
            line_no += table.num_rows + len(bad)
            if line_no - 1 > limits.max_lines:
                raise LimitExceeded(
                    f"{source.name}: refused: more than {limits.max_lines:,} lines (limit ingest_max_lines)"
                )
            if pending:
                bad, pending = pending + bad, []
            yield table, bad
    if pending:
        yield _EMPTY_LINES, pending


_EMPTY_LINES = pa.table({"line_no": pa.array([], pa.int64()), "line": pa.array([], pa.string_view())})


def bad_utf8_table(bad: BadLines) -> pa.Table:
    """The quarantine rows (``QUARANTINE_ADAPTER_SCHEMA``) of the lines set apart: ``invalid UTF-8``,
    or their own reason."""
    return pa.table(
        {
            "source_record": pa.array([b[0] for b in bad], pa.int64()),
            "raw": pa.array([b[1][:QUARANTINE_RAW_MAX_CHARS] for b in bad], pa.string()),
            "error": pa.array([b[2] if len(b) > 2 else "invalid UTF-8" for b in bad], pa.string()),
        },
        schema=QUARANTINE_ADAPTER_SCHEMA,
    )


def add_bad_utf8(quarantine: pa.Table, bad: BadLines) -> pa.Table:
    """``quarantine`` conformed, with the rows of ``bad`` merged in by ``source_record`` (a stable sort:
    rows of one line keep their order)."""
    quarantine = conform(quarantine, QUARANTINE_ADAPTER_SCHEMA)
    if not bad:
        return quarantine
    return pa.concat_tables([quarantine, bad_utf8_table(bad)]).sort_by("source_record")


# --------------------------------------------------------------------------------------------------
# Mapping chunks with DuckDB
# --------------------------------------------------------------------------------------------------


def chunk_options(source: Source, options: dict[str, Any] | None) -> tuple[int, int]:
    """``(chunk_bytes, workers)`` from an adapter's options (see the module docstring)."""
    options = options or {}
    workers = int(options.get("workers") or min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))
    if workers <= 0:
        raise ValueError(f"workers must be positive, got {workers}")
    if options.get("chunk_bytes") is not None:
        chunk_bytes = int(options["chunk_bytes"])
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    else:
        chunk_bytes = DEFAULT_CHUNK_BYTES
        if source.compression == "none":
            size = source.path.stat().st_size
            chunk_bytes = min(DEFAULT_CHUNK_BYTES, max(MIN_SPLIT_BYTES, -(-size // workers)))
    return chunk_bytes, workers


def connect(setup: str = "") -> duckdb.DuckDBPyConnection:
    """A private single-threaded in-memory connection in UTC, with ``setup`` (SQL, e.g. macros) run."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.sql("set TimeZone = 'UTC'")
    if setup:
        con.sql(setup)
    return con


def another(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to the database of ``con`` (from ``connect``), in UTC: it sees the macros
    ``setup`` made, keeps temp tables of its own and runs its statements on its caller's thread, so two
    of them map two blocks side by side. About 50 times cheaper than a new database."""
    cur = con.cursor()
    cur.sql("set TimeZone = 'UTC'")
    return cur


def empty_chunk() -> AdapterChunk:
    return AdapterChunk(
        posts=ADAPTER_SCHEMA.empty_table(), quarantine=QUARANTINE_ADAPTER_SCHEMA.empty_table()
    )


def run_chunks(
    source: Source,
    options: dict[str, Any] | None,
    mapper: Mapper,
    *,
    name: str = "lines",
    setup: str = "",
    empty: bool = False,
) -> Iterator[AdapterChunk]:
    """Frame ``source`` and map each block with ``mapper(con, lines, bad)``, several at once, in file order.

    ``con`` is one of the workers' private connections, opened on first use (so a small file needs
    one): the first one a database of its own (``connect(setup)``), the others connections to that
    same database (``another``), closed with it at the end. Options: ``chunk_bytes`` and ``workers``
    (``chunk_options``). ``name`` prefixes the worker and reader threads' names. ``empty``: yield one
    empty chunk for a file without lines. Closing the iterator early stops the reader and the workers.
    """
    chunk_bytes, workers = chunk_options(source, options)
    idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    cons: list[duckdb.DuckDBPyConnection] = []
    lock = threading.Lock()

    def work(item: tuple[pa.Table, BadLines]) -> AdapterChunk:
        try:
            con = idle.get_nowait()
        except queue.Empty:
            with lock:
                con = another(cons[0]) if cons else connect(setup)
                cons.append(con)
        try:
            return mapper(con, *item)
        finally:
            idle.put(con)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-map")
    pending: deque[Future[AdapterChunk]] = deque()
    emitted = False
    try:
        for item in prefetch(framed(source, chunk_bytes), name=f"{name}-reader"):
            pending.append(pool.submit(work, item))
            # one block more than workers in flight: they keep busy while the caller consumes
            if len(pending) > workers:
                emitted = True
                yield pending.popleft().result()
        while pending:
            emitted = True
            yield pending.popleft().result()
        if empty and not emitted:
            yield empty_chunk()
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for con in reversed(cons):  # the database's first connection last
            con.close()


@dataclass(frozen=True)
class ChunkSQL:
    """An adapter's SQL over the table ``lines(line_no, line)`` of one chunk; called, a ``Mapper``.

    ``statements`` create temp tables (``tables``, dropped after each chunk); ``posts``, ``quarantine``
    (``source_record, raw, error``; more columns are dropped) and ``context`` (optional,
    ``CONTEXT_SCHEMA``) are queries over them. ``skipped`` returns ``(reason, count)`` rows, or, with
    ``skip_reasons``, one row of counts in that order.
    """

    statements: tuple[str, ...]
    posts: str
    quarantine: str
    skipped: str
    skip_reasons: tuple[str, ...] | None = None
    context: str | None = None
    deletes: str | None = None  # one column: the post_uids of delete events (``AdapterChunk.deletes``)

    @property
    def tables(self) -> list[str]:
        return [t for s in self.statements for t in _CREATED_TABLE.findall(s)]

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        lines: pa.Table,
        bad: BadLines,
        params: list[Any] | None = None,
    ) -> AdapterChunk:
        """Map one chunk on ``con``; ``params`` go to the posts query. The lines in ``bad`` are
        quarantined as invalid UTF-8."""
        con.register("lines", lines)
        try:
            for statement in self.statements:
                con.sql(statement)
            posts = conform(con.sql(self.posts, params=params).to_arrow_table(), ADAPTER_SCHEMA)
            quarantine = con.sql(self.quarantine).to_arrow_table()
            rows = con.execute(self.skipped).fetchall()
            context = con.sql(self.context).to_arrow_table() if self.context else None
            deletes = [str(r[0]) for r in con.execute(self.deletes).fetchall()] if self.deletes else []
        finally:
            con.unregister("lines")
            for table in self.tables:
                con.sql(f"drop table if exists {table}")
        if self.skip_reasons is None:
            skipped = {str(reason): int(n) for reason, n in rows if n}
        else:
            skipped = {reason: int(n) for reason, n in zip(self.skip_reasons, rows[0], strict=True) if n}
        return AdapterChunk(
            posts=posts,
            quarantine=add_bad_utf8(quarantine, bad),
            skipped=skipped,
            context=conform(context, CONTEXT_SCHEMA) if context is not None and context.num_rows else None,
            deletes=deletes,
        )
