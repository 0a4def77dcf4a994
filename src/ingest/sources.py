"""Opening export files whatever their compression: plain, gzip, zstd or zip (detected by magic bytes)."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 64 * 1024


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
    """

    path: Path
    compression: str  # none | gzip | zstd | zip
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def open(self) -> BinaryIO:
        """A binary stream of the decompressed content."""
        if self.compression == "gzip":
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        if self.compression == "zstd":
            fh = open(self.path, "rb")
            # Pushshift/Arctic Shift dumps use long-distance matching windows (zstd --long=31).
            return zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(  # type: ignore[return-value]
                fh, closefd=True, read_across_frames=True)
        if self.compression == "zip":
            zf = zipfile.ZipFile(self.path)
            inner = zf.open(self.member or "")
            return _ZipMemberStream(zf, inner)  # type: ignore[return-value]
        return open(self.path, "rb")

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as fh:
            return fh.read(n)

    @contextmanager
    def local_file(self) -> Iterator[tuple[Path, str]]:
        """A path DuckDB can read, and the compression to tell it (``none``/``gzip``/``zstd``).

        Plain, gzip and zstd files are read in place; a zip member is extracted to a temporary file.
        """
        if self.compression in ("none", "gzip", "zstd"):
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


class _ZipMemberStream(io.RawIOBase):
    def __init__(self, zf: zipfile.ZipFile, inner: BinaryIO):
        self._zf, self._inner = zf, inner

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self._inner.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        return self._inner.read(n)

    def close(self) -> None:
        try:
            self._inner.close()
            self._zf.close()
        finally:
            super().close()


def expand(path: Path) -> list[Source]:
    """The logical sources in a file: itself, or each non-directory member of a zip."""
    path = Path(path)
    comp = sniff_compression(path)
    if comp != "zip":
        return [Source(path, comp)]
    with zipfile.ZipFile(path) as zf:
        members = [
            i.filename
            for i in zf.infolist()
            if not i.is_dir() and not os.path.basename(i.filename).startswith(".")
            and "__MACOSX" not in i.filename
        ]
    return [Source(path, "zip", m) for m in sorted(members)]
