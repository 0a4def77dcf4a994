"""Opening export files whatever their compression: plain, gzip, zstd or zip (detected by magic bytes).

Every stream ``Source.open()`` returns is guarded, because inbox files are hostile until read:

* **Truncation and corruption** are errors, never a silent short read: gzip's end-of-stream marker,
  CRC and length are checked (``EOFError`` / ``BadGzipFile``), a zip member's CRC and size
  (``BadZipFile``), and a zstd file's frames are walked at the end of the stream (a frame cut off
  mid-block, or a file that ends inside a frame header, is reported). They raise ``SourceError``
  naming the file.
* **Limits** (``Limits``, carried by each ``Source``; the lake sets them from the settings):
  decompressed bytes per file, and the ratio of decompressed to compressed size (checked once more
  than ``RATIO_GRACE_BYTES`` came out, so small files are never refused for it). Exceeding one raises
  ``LimitExceeded`` while decompressing, before the bytes are framed or parsed. The per-record limits
  (record bytes, lines, JSON depth) are applied by ``ingest.lines`` and the formats.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 64 * 1024
# The compression ratio limit applies only once this much came out of a compressed file.
RATIO_GRACE_BYTES = 16 << 20
_READ_ALL_STEP = 1 << 20


class SourceError(Exception):
    """A file (or zip member) cannot be read whole: truncated, corrupt, or not a readable archive."""


class LimitExceeded(SourceError):
    """A file is over one of the ingest ``Limits``; it is refused as a whole."""


@dataclass(frozen=True)
class Limits:
    """What one input may cost. The defaults are safe for real exports (a Pushshift monthly dump
    decompresses to a few hundred GB at about 10:1); a bomb or a poison record hits one of them.

    * ``max_decompressed_bytes``: bytes one file (or zip member) may decompress to; over it the file
      is refused.
    * ``max_ratio``: decompressed bytes per compressed byte (after ``RATIO_GRACE_BYTES``); over it the
      file is refused.
    * ``max_record_bytes``: bytes of one line (line-oriented formats) or one record; a longer line is
      quarantined (only its first bytes are kept, and never held whole in memory).
    * ``max_lines``: lines in one file; over it the file is refused.
    * ``max_json_depth``: nesting of a JSON value parsed in Python (sniffing and the formats mapped in
      Python); a deeper record is quarantined, a deeper document refused. DuckDB's JSON reader is not
      recursive, so the SQL-mapped formats need no such limit.
    """

    max_decompressed_bytes: int = 256 << 30
    max_ratio: float = 100.0
    max_record_bytes: int = 16 << 20
    max_lines: int = 1_000_000_000
    max_json_depth: int = 256

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        """The limits named ``ingest_<field>`` on a settings object (defaults for missing ones)."""
        values = {}
        for f in dataclasses.fields(cls):
            v = getattr(settings, f"ingest_{f.name}", None)
            if v is not None:
                values[f.name] = type(getattr(cls, f.name))(v)
        return cls(**values)


DEFAULT_LIMITS = Limits()


def size_text(n: float) -> str:
    """``n`` bytes for a message: ``"150 KiB"``, ``"128 MiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" or n == int(n) else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} GiB"  # pragma: no cover


def sniff_compression(path: Path) -> str:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic.startswith(ZSTD_MAGIC):
        return "zstd"
    if magic.startswith(ZIP_MAGIC):
        return "zip"
    return "none"


@dataclass(frozen=True)
class Source:
    """One logical export: a file, or one member of a zip archive.

    ``name`` is what provenance records (``source_file``): the path, plus ``!member`` for zip members.
    A file staged from object storage is read at ``path`` but named by ``origin``, its ``s3://`` URL.
    """

    path: Path
    compression: str  # none | gzip | zstd | zip
    member: str | None = None
    limits: Limits = field(default=DEFAULT_LIMITS, compare=False)
    origin: str | None = None

    @property
    def name(self) -> str:
        base = self.origin or str(self.path)
        return f"{base}!{self.member}" if self.member else base

    def open(self) -> BinaryIO:
        """A binary stream of the decompressed content, guarded (see the module docstring)."""
        try:
            if self.compression == "gzip":
                inner: BinaryIO = gzip.open(self.path, "rb")  # type: ignore[assignment]
                compressed, closer = self.path.stat().st_size, None
            elif self.compression == "zstd":
                fh = open(self.path, "rb")
                # Pushshift/Arctic Shift dumps use long-distance matching windows (zstd --long=31).
                inner = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(  # type: ignore[assignment]
                    fh, closefd=True, read_across_frames=True)
                compressed, closer = self.path.stat().st_size, None
            elif self.compression == "zip":
                zf = zipfile.ZipFile(self.path)
                try:
                    info = zf.getinfo(self.member or "")
                    inner = zf.open(info)  # type: ignore[assignment]
                except BaseException:
                    zf.close()
                    raise
                compressed, closer = info.compress_size, zf
            else:
                inner, compressed, closer = open(self.path, "rb"), 0, None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise SourceError(f"{self.name}: not a readable {self.compression} file ({exc})") from exc
        guarded = _Guarded(inner, self, compressed, closer)
        return io.BufferedReader(guarded, 1 << 16)  # type: ignore[return-value]

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as fh:
            return fh.read(n)

    @contextmanager
    def local_file(self) -> Iterator[tuple[Path, str]]:
        """A path DuckDB can read, and the compression to tell it (``none``/``gzip``/``zstd``).

        Plain, gzip and zstd files are read in place; a zip member is extracted to a temporary file.
        """
        if self.compression in ("none", "gzip", "zstd"):
            if self.compression != "none":
                # DuckDB decompresses on its own: read it through the guard once (truncation, limits)
                with self.open() as src:
                    while src.read(_READ_ALL_STEP):
                        pass
            yield self.path, self.compression
            return
        tmpdir = tempfile.mkdtemp(prefix="discourse-zip-")
        try:
            target = Path(tmpdir) / Path(self.member or "member").name
            with self.open() as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            yield target, "none"
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)


_DECODE_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, zstandard.ZstdError)
_KIND = {"gzip": "gzip file", "zstd": "zstd file", "zip": "zip member", "none": "file"}


class _Guarded(io.RawIOBase):
    """The decompressed bytes of ``source``, with truncation, corruption and ``Limits`` checked."""

    def __init__(self, inner: BinaryIO, source: Source, compressed: int, closer: zipfile.ZipFile | None):
        self._inner, self._source, self._closer = inner, source, closer
        self._compressed = compressed
        self._total = 0
        self._checked_end = False
        limits = source.limits
        self._max_bytes = limits.max_decompressed_bytes
        self._max_ratio = limits.max_ratio if source.compression != "none" else None

    def readable(self) -> bool:
        return True

    def _fail(self, what: str) -> SourceError:
        return SourceError(f"{self._source.name}: {_KIND[self._source.compression]} is {what}")

    def readinto(self, b) -> int:  # type: ignore[override]
        try:
            n = self._inner.readinto(b)  # type: ignore[attr-defined]
        except _DECODE_ERRORS as exc:
            raise self._fail(f"truncated or corrupt ({type(exc).__name__}: {exc})") from exc
        if not n:
            if not self._checked_end:
                self._checked_end = True
                if self._source.compression == "zstd":
                    problem = zstd_problem(self._source.path)
                    if problem:
                        raise self._fail(f"truncated or corrupt ({problem})")
            return 0
        self._total += n
        if self._total > self._max_bytes:
            raise LimitExceeded(
                f"{self._source.name}: refused: decompresses to more than {size_text(self._max_bytes)} "
                "(limit ingest_max_decompressed_bytes)"
            )
        ratio = self._max_ratio
        over_ratio = ratio is not None and self._total > ratio * max(1, self._compressed)
        if over_ratio and self._total > RATIO_GRACE_BYTES:
            raise LimitExceeded(
                f"{self._source.name}: refused: {size_text(self._compressed)} compressed decompress to more "
                f"than {size_text(self._total)}, over {ratio:g} times the compressed size (a "
                "decompression bomb? limit ingest_max_ratio)"
            )
        return n

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._inner.close()
            if self._closer is not None:
                self._closer.close()
        finally:
            super().close()


_ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)
_ZSTD_MAGIC_INT = 0xFD2FB528


def zstd_problem(path: Path) -> str | None:
    """Why the zstd file at ``path`` is not whole (``None`` if every frame is complete).

    Walks the frames without decompressing: each frame header, each block header (skipping the
    block's bytes) to the last block, the optional checksum; skippable frames by their size. The
    decompressor stops silently at the end of a cut-off frame; this is what notices.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            head = fh.read(4)
            if len(head) < 4:
                return f"ends inside a frame's magic number at byte {pos}"
            magic = int.from_bytes(head, "little")
            if magic in _ZSTD_SKIPPABLE:
                n = fh.read(4)
                if len(n) < 4:
                    return f"ends inside a skippable frame at byte {pos}"
                pos += 8 + int.from_bytes(n, "little")
                if pos > size:
                    return f"ends inside a skippable frame at byte {size}"
                continue
            if magic != _ZSTD_MAGIC_INT:
                return f"no zstd frame at byte {pos}"
            desc = fh.read(1)
            if not desc:
                return f"ends inside a frame header at byte {pos}"
            d = desc[0]
            single = (d >> 5) & 1
            fcs = (0 if not single else 1, 2, 4, 8)[d >> 6]
            header = 4 + 1 + (0 if single else 1) + (0, 1, 2, 4)[d & 3] + fcs
            checksum = 4 if (d >> 2) & 1 else 0
            pos += header
            while True:
                fh.seek(pos)
                bh = fh.read(3)
                if len(bh) < 3:
                    return f"cut off: ends inside a block header at byte {min(pos, size)} (frame incomplete)"
                h = int.from_bytes(bh, "little")
                last, btype, bsize = h & 1, (h >> 1) & 3, h >> 3
                if btype == 3:
                    return f"reserved block type at byte {pos}"
                pos += 3 + (1 if btype == 1 else bsize)
                if pos > size:
                    return f"cut off: ends inside a block at byte {size} (frame incomplete)"
                if last:
                    break
            pos += checksum
            if pos > size:
                return f"cut off: ends inside a frame checksum at byte {size}"
    return None


def expand(path: Path, limits: Limits = DEFAULT_LIMITS, origin: str | None = None) -> list[Source]:
    """The logical sources in a file: itself, or each non-directory member of a zip (with ``limits``;
    ``origin``: the URL a staged copy came from, see ``Source``).

    A zip that cannot be opened (truncated: its central directory is missing) raises ``SourceError``.
    """
    path = Path(path)
    comp = sniff_compression(path)
    if comp != "zip":
        return [Source(path, comp, limits=limits, origin=origin)]
    try:
        with zipfile.ZipFile(path) as zf:
            members = [
                i.filename
                for i in zf.infolist()
                if not i.is_dir() and not os.path.basename(i.filename).startswith(".")
                and "__MACOSX" not in i.filename
            ]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{origin or path}: zip archive is truncated or corrupt ({exc})") from exc
    return [Source(path, "zip", m, limits=limits, origin=origin) for m in sorted(members)]
