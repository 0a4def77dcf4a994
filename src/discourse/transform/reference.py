"""Reference data that dbt reads as sources, derived from installed packages (nothing is downloaded).

``prepare_reference(settings)`` writes, under ``settings.reference_dir``:

* ``vader_lexicon.parquet``: VADER's word/emoticon lexicon (``term``, ``weight`` on −4..4,
  ``weight_sd``), read from ``vader_lexicon.txt`` inside the installed ``vadersentiment`` package (MIT).
* ``vader_emoji.parquet``: VADER's emoji → description table (``emoji``, ``description``), from the
  same package's ``emoji_utf8_lexicon.txt``. dbt scores each description with the word lexicon.

Each file is rewritten only when the packaged text changed (its SHA-256 is kept in a sidecar
``<name>.sha256``), and written under a temporary name, then renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

VADER_PACKAGE = "vaderSentiment"
VADER_DIST = "vadersentiment"

LEXICON_SCHEMA = pa.schema(
    [
        pa.field("term", pa.string(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
        pa.field("weight_sd", pa.float64()),
    ]
)
EMOJI_SCHEMA = pa.schema(
    [
        pa.field("emoji", pa.string(), nullable=False),
        pa.field("description", pa.string(), nullable=False),
    ]
)


class ReferenceError(Exception):
    """Reference data could not be prepared (package missing or its data malformed)."""


def _package_text(filename: str) -> tuple[str, str]:
    try:
        res = resources.files(VADER_PACKAGE).joinpath(filename)
        data = res.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ReferenceError(
            f"{VADER_PACKAGE}/{filename} not found: is the 'vadersentiment' package installed?"
        ) from exc
    return data.decode("utf-8"), hashlib.sha256(data).hexdigest()


def parse_vader_lexicon(text: str) -> pa.Table:
    """``term<TAB>mean<TAB>sd<TAB>[ratings]`` lines → (term, weight, weight_sd)."""
    terms: list[str] = []
    weights: list[float] = []
    sds: list[float | None] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ReferenceError(f"vader_lexicon.txt line {n}: expected tab-separated fields")
        try:
            weight = float(parts[1])
            sd = float(parts[2]) if len(parts) > 2 and parts[2].strip() else None
        except ValueError as exc:
            raise ReferenceError(f"vader_lexicon.txt line {n}: {exc}") from exc
        terms.append(parts[0])
        weights.append(weight)
        sds.append(sd)
    return pa.table({"term": terms, "weight": weights, "weight_sd": sds}, schema=LEXICON_SCHEMA)


def parse_vader_emoji(text: str) -> pa.Table:
    """``emoji<TAB>description`` lines → (emoji, description)."""
    emojis: list[str] = []
    descriptions: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0] or not parts[1].strip():
            raise ReferenceError(f"emoji_utf8_lexicon.txt line {n}: expected 'emoji<TAB>description'")
        emojis.append(parts[0])
        descriptions.append(parts[1].strip())
    return pa.table({"emoji": emojis, "description": descriptions}, schema=EMOJI_SCHEMA)


def _write_atomic(table: pa.Table, path: Path, digest: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    sidecar = path.with_name(path.name + ".sha256")
    tmp_sidecar = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    tmp_sidecar.write_text(digest + "\n", encoding="utf-8")
    os.replace(tmp_sidecar, sidecar)


def _is_current(path: Path, digest: str) -> bool:
    sidecar = path.with_name(path.name + ".sha256")
    try:
        return path.is_file() and sidecar.read_text(encoding="utf-8").strip() == digest
    except OSError:
        return False


def prepare_reference(settings: Any) -> dict[str, Any]:
    """Write the reference Parquet files dbt reads; a no-op when they are already current.

    Returns ``{name: {"path", "rows", "sha256", "status": "written" | "unchanged"}}`` plus
    ``"vader_version"``.
    """
    out_dir = Path(settings.reference_dir)
    try:
        version = metadata.version(VADER_DIST)
    except metadata.PackageNotFoundError:
        version = None
    summary: dict[str, Any] = {"vader_version": version}
    jobs = (
        ("vader_lexicon", "vader_lexicon.txt", parse_vader_lexicon),
        ("vader_emoji", "emoji_utf8_lexicon.txt", parse_vader_emoji),
    )
    for name, filename, parse in jobs:
        text, digest = _package_text(filename)
        path = out_dir / f"{name}.parquet"
        if _is_current(path, digest):
            rows = pq.ParquetFile(path).metadata.num_rows
            status = "unchanged"
        else:
            table = parse(text)
            if table.num_rows == 0:
                raise ReferenceError(f"{VADER_PACKAGE}/{filename} holds no entries")
            _write_atomic(table, path, digest)
            rows = table.num_rows
            status = "written"
        summary[name] = {"path": str(path), "rows": rows, "sha256": digest, "status": status}
    return summary
