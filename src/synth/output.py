"""What the writers write into: output files, the per-file ground truth, and the writer interface.

- ``OutputFile``: one buffered output file (plain, gzip, zstd or a zip member), written under a
  ``_partial_`` name until the whole run has succeeded;
- ``LineFile``: a line-oriented export rotated per period and at a record cap;
- ``FileTruth``: what one written file holds (valid posts, planted malformed records, skipped
  records by the adapter's reason), for ``_ground_truth.json``;
- ``Writer``: the base class of the per-format writers in ``synth.formats``.
"""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path
from typing import ClassVar

import zstandard

PARTIAL_PREFIX = "_partial_"


class OutputFile:
    """A buffered binary output file: plain, gzip, zstd, or one member of a zip archive.

    It is written as ``_partial_<name>`` (which ingest never picks up); the generator renames every
    file only once the whole run has succeeded, so a failed run leaves nothing half-written behind.
    """

    def __init__(self, path: Path, compression: str = "none", member: str | None = None):
        self.path = path
        self.partial = path.with_name(PARTIAL_PREFIX + path.name)
        self._raw = open(self.partial, "wb")
        self._zip: zipfile.ZipFile | None = None
        if compression == "gzip":
            self._fh = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=3)
        elif compression == "zstd":
            self._fh = zstandard.ZstdCompressor(level=3).stream_writer(self._raw, closefd=False)
        elif compression == "zip":
            self._zip = zipfile.ZipFile(self._raw, "w", compression=zipfile.ZIP_DEFLATED)
            info = zipfile.ZipInfo(member or "result.json", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            self._fh = self._zip.open(info, "w", force_zip64=True)
        else:
            self._fh = self._raw
        self._buf: list[bytes] = []
        self._size = 0
        self.extra_members: list[tuple[str, bytes]] = []  # zip only: small members written after the first

    def write(self, data: bytes) -> None:
        self._buf.append(data)
        self._size += len(data)
        if self._size >= 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            self._fh.write(b"".join(self._buf))
            self._buf.clear()
            self._size = 0

    def copy_from(self, src) -> None:
        """Append the rest of the binary file object ``src`` (a spool), after what was written so far."""
        self.flush()
        shutil.copyfileobj(src, self._fh, 1 << 20)

    def close(self) -> None:
        self.flush()
        if self._fh is not self._raw:
            self._fh.close()
        if self._zip is not None:
            for name, data in self.extra_members:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3
                self._zip.writestr(info, data)
            self._zip.close()
        self._raw.close()

    def abandon(self) -> None:
        """Close without caring about the content and delete the partial file."""
        try:
            if self._zip is not None:  # a zip left open would complain when it is garbage-collected
                try:
                    self._fh.close()
                    self._zip.close()
                except Exception:  # noqa: BLE001 - the file is deleted anyway
                    pass
            self._raw.close()
        finally:
            self.partial.unlink(missing_ok=True)


class FileTruth:
    """What one written file holds, for the ground truth."""

    def __init__(self, name: str, fmt: str):
        self.name = name
        self.fmt = fmt
        self.valid = 0
        self.records = 0
        self.malformed: list[dict] = []
        self.skipped: dict[str, int] = {}
        self.first: str | None = None
        self.last: str | None = None
        self.extra: dict = {}

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def as_dict(self, platform: str) -> dict:
        return {
            "format": self.fmt,
            "platform": platform,
            "valid_posts": self.valid,
            "malformed": len(self.malformed),
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_total": sum(self.skipped.values()),
            "records": self.records,
            "first_created_at": self.first,
            "last_created_at": self.last,
            "malformed_records": self.malformed,
            **self.extra,
        }


class LineFile:
    """One line-oriented export file at a time: rotated per period (``group_days``) and at ``cap`` records."""

    def __init__(self, g, stem: str, fmt: str, ext: str, comp: tuple[str, str], group_days: int, cap: int):
        self.g, self.stem, self.fmt, self.ext, self.comp = g, stem, fmt, ext, comp
        self.group_days, self.cap = group_days, cap
        self.group = -1
        self.file_no = 0
        self.out = None
        self.ft: FileTruth | None = None
        self.on_open = None
        self.on_close = None

    def start_day(self, d: int) -> None:
        group = d // self.group_days
        if group != self.group:
            self.close()
            self.group = group

    def ensure(self) -> FileTruth:
        if self.out is not None and self.ft.records >= self.cap:
            self.close()
        if self.out is None:
            self.file_no += 1
            comp, ext = self.comp if self.g.compress else ("none", "")
            name = f"{self.stem}_{self.file_no:03d}{self.ext}{ext}"
            self.out = self.g.open_output(self.g.out / name, comp)
            self.ft = FileTruth(name, self.fmt)
            self.g.register_file(self.ft)
            if self.on_open:
                self.on_open(self)
        return self.ft

    def line(self, data: bytes, newline: bool = True) -> int:
        """Write one record line; returns its 1-based line number."""
        self.out.write(data + b"\n" if newline else data)
        self.ft.records += 1
        return self.ft.records

    def valid(self, stamp: str, n: int = 1) -> None:
        ft = self.ft
        ft.valid += n
        if ft.first is None:
            ft.first = stamp
        ft.last = stamp

    def close(self) -> None:
        if self.out is None:
            return
        if self.on_close:
            self.on_close(self)
        self.out.close()
        self.out = None

    def finish(self) -> None:
        self.close()


class Writer:
    """Base of the per-format writers: each module ``synth/formats/<format>.py`` names one ``WRITER``.

    Class attributes, read by the registry (``synth.formats``):

    - ``FORMAT``: the adapter's format name, also the module's name;
    - ``PLATFORM``: the platform the ground truth counts the format's posts and files under;
    - ``RANK``: the format's place in the default list ``FORMATS`` (ascending). That order decides
      which format each random draw picks, so output for a given seed depends on it: a new format
      takes a rank after the existing ones;
    - ``WEIGHT``: its share of the posts in the default mix (renormalised over the selected formats);
    - ``ALIASES``: short names ``generate(formats=...)`` accepts for it.

    One instance is built per run with the corpus ``g`` (``synth.corpus.Corpus``: the run's random
    stream, clock, text generator and output folder). The corpus calls

    - ``post(ms, theme, lang, sent, spike)`` for every post drawn for the format; it returns
      ``(kind, theme, lang, sentiment)`` as the aggregates should count the post, plus a fifth
      item, the post's platform, when that is not ``PLATFORM``;
    - ``finish()`` once after the last post, to close every file;

    and, where the writer defines them, ``start_day(d)`` before each day's posts, ``campaign(ms,
    account, text, url)`` for the planted campaign's posts (returns the post uid, the account for the
    ground truth and optionally the post's kind) and ``cleanup()`` at the very end, also after a
    failure (to delete spool files).
    """

    FORMAT: ClassVar[str]
    PLATFORM: ClassVar[str]
    RANK: ClassVar[int]
    WEIGHT: ClassVar[float]
    ALIASES: ClassVar[tuple[str, ...]] = ()

    def post(self, ms: int, theme: int, lang: str, sent: str, spike: bool) -> tuple:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError
