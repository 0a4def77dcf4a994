"""Importers for reference lists users bring: domain credibility ratings and fact-checked claims.

Both write Parquet under ``settings.reference_dir`` that the dbt project reads next to its seeds
(source ``reference_imports``; a missing file means "nothing imported"):

``domains_extra.parquet`` (``import_domains``)
    ``domain`` (registered domain, lower case), ``rating`` (0..1), ``label``, ``source``; one row per
    (domain, source). Importing a list again replaces that list's rows (the source name is the key);
    rows of other lists stay. In dbt the seed ``domain_ratings`` wins for a domain it rates, imports
    fill in the rest, and the lowest imported rating counts when lists disagree.

    Formats: ``pc1`` (CSV ``domain,pc1``: a news-domain quality score already on 0..1),
    ``iffy`` (one ``https://domain/*`` pattern per line: sites of an unreliable-sources list, rated
    ``IFFY_RATING``), ``csv`` (``domain,rating[,label][,source]``).

``claims_extra.parquet`` (``import_claims``)
    The columns of seed ``fact_checked_claims``: ``claim_id, claim_text, verdict, language,
    source_name, source_url, published_date``, from a CSV or JSON-lines file. A claim id imported
    again is replaced; an imported id equal to a seed id overrides the seed row.

The registered domain is extracted with ``tldextract`` on its bundled Public Suffix List snapshot
(no network: ``suffix_list_urls=()``, no cache), private suffixes included, so every
``<site>.blogspot.com`` is a site of its own. Bad input raises ``ReferenceImportError`` naming the file and
line and nothing is written; entries that are valid but cannot be used (a rating scoped to a path
such as ``facebook.com/news``) are skipped, counted in the ``<name>.import.json`` sidecar and logged.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import re
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

DOMAINS_FILE = "domains_extra.parquet"
CLAIMS_FILE = "claims_extra.parquet"
DOMAIN_FORMATS = ("pc1", "iffy", "csv")
CLAIM_VERDICTS = ("false", "misleading", "unproven", "true")
# Sites on an unreliable-sources list: well below the 0.40 at which links start to add risk.
IFFY_RATING = 0.15
# Labels for a numeric score without one (pc1, csv without label).
LOW_RATING, HIGH_RATING = 0.40, 0.70

DOMAINS_SCHEMA = pa.schema(
    [
        pa.field("domain", pa.string(), nullable=False),
        pa.field("rating", pa.float64(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
    ]
)
CLAIMS_SCHEMA = pa.schema(
    [
        pa.field("claim_id", pa.string(), nullable=False),
        pa.field("claim_text", pa.string(), nullable=False),
        pa.field("verdict", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("source_url", pa.string()),
        pa.field("published_date", pa.date32()),
    ]
)

_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?([^/?#:\s]+)(?::\d+)?([/?#].*)?$", re.I)


class ReferenceImportError(Exception):
    """A reference list could not be imported; the message names the file and line."""


@cache
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _top_domain(ext: Any) -> str:
    if hasattr(ext, "top_domain_under_public_suffix"):
        return ext.top_domain_under_public_suffix
    return ext.registered_domain


def registered_domain(value: str) -> tuple[str | None, str]:
    """``(registered domain, path)`` of a domain, host or URL; domain None when there is none."""
    m = _HOST.match(value.strip())
    if not m:
        return None, ""
    host = m.group(1).lower().rstrip(".")
    path = (m.group(2) or "").rstrip("*")
    if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", host):
        return host, path  # an IP address stays whole, as in int_post_links_parsed
    domain = _top_domain(_extractor()(host))
    if not domain and re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", host) and not host[-1].isdigit():
        # A public suffix that is a site too ("nhs.uk", "blogspot.com") is rated as itself.
        domain = host.removeprefix("www.")
    return (domain or None), path


def _label_for(rating: float) -> str:
    if rating < LOW_RATING:
        return "low_credibility"
    if rating < HIGH_RATING:
        return "mixed_credibility"
    return "credible_news"


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ReferenceImportError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferenceImportError(f"{path}: not UTF-8 text ({exc})") from exc


def _rating(value: str, where: str) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise ReferenceImportError(f"{where}: rating {value!r} is not a number") from None
    if math.isnan(r) or not 0 <= r <= 1:
        raise ReferenceImportError(f"{where}: rating {value!r} is outside 0..1")
    return r


def _parse_domains(path: Path, fmt: str, source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows (domain, rating, label, source) and skipped entries (line, value, reason)."""
    text = _read_text(path)
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []

    def add(
        line: int, value: str, rating: float, label: str | None, row_source: str, keep_path: bool
    ) -> None:
        domain, sub = registered_domain(value)
        if domain is None:
            raise ReferenceImportError(f"{path}:{line}: {value!r} has no registered domain")
        if sub.strip("/") and not keep_path:
            skipped.append(
                {"line": line, "value": value, "reason": "rating scoped to a path, not a whole site"}
            )
            return
        rows.append(
            {"domain": domain, "rating": rating, "label": label or _label_for(rating), "source": row_source}
        )

    if fmt == "iffy":
        for n, raw in enumerate(text.splitlines(), start=1):
            value = raw.strip()
            if not value or value.startswith("#"):
                continue
            # Iffy lists whole sites; the path is the site's search pattern (home page), not a section.
            add(n, value, IFFY_RATING, "low_credibility", source, keep_path=True)
        return rows, skipped

    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    need = {"pc1": ("domain", "pc1"), "csv": ("domain", "rating")}[fmt]
    missing = [c for c in need if c not in fields]
    if missing:
        raise ReferenceImportError(f"{path}: header {fields} lacks column(s) {missing} for format {fmt!r}")
    for rec in reader:
        n = reader.line_num
        value = (rec.get("domain") or "").strip()
        if not value:
            raise ReferenceImportError(f"{path}:{n}: empty domain")
        if fmt == "pc1":
            add(n, value, _rating(rec.get("pc1") or "", f"{path}:{n}"), None, source, keep_path=False)
        else:
            label = (rec.get("label") or "").strip() or None
            row_source = (rec.get("source") or "").strip() or source
            add(n, value, _rating(rec.get("rating") or "", f"{path}:{n}"), label, row_source, keep_path=False)
    return rows, skipped


def _write_atomic(table: pa.Table, path: Path, sidecar: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    meta = path.with_name(path.stem + ".import.json")
    tmp_meta = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    tmp_meta.write_text(json.dumps(sidecar, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp_meta, meta)


def _existing(path: Path, schema: pa.Schema) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    try:
        return pq.read_table(path, schema=schema).to_pylist()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReferenceImportError(
            f"{path}: existing import is unreadable ({exc}); remove it and import again"
        ) from exc


def import_domains(settings: Any, path: str | os.PathLike[str], fmt: str, source: str | None = None) -> int:
    """Import a domain-rating list into ``<reference>/domains_extra.parquet``; returns its rows.

    ``fmt`` is ``pc1``, ``iffy`` or ``csv``. ``source`` names the list (default: the format and file
    name); re-importing under the same name replaces that list. Several lines for one domain
    (``www.x.com`` and ``x.com``) are averaged.
    """
    path = Path(path)
    if fmt not in DOMAIN_FORMATS:
        raise ReferenceImportError(
            f"{path}: unknown domain list format {fmt!r}; choose from {', '.join(DOMAIN_FORMATS)}"
        )
    source = (
        source
        or {"pc1": "domain quality PC1", "iffy": "Iffy+ unreliable sites", "csv": "imported list"}[fmt]
        + f" ({path.name})"
    )
    rows, skipped = _parse_domains(path, fmt, source)
    if not rows:
        raise ReferenceImportError(f"{path}: no domain ratings found")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["domain"], r["source"])
        if key in merged:
            counts[key] += 1
            m = merged[key]
            m["rating"] += (r["rating"] - m["rating"]) / counts[key]  # running mean
            m["label"] = _label_for(m["rating"]) if fmt != "iffy" else m["label"]
        else:
            merged[key] = dict(r)
            counts[key] = 1
    sources = {r["source"] for r in merged.values()}
    target = Path(settings.reference_dir) / DOMAINS_FILE
    kept = [r for r in _existing(target, DOMAINS_SCHEMA) if r["source"] not in sources]
    new = sorted(merged.values(), key=lambda r: (r["domain"], r["source"]))
    for r in new:
        r["rating"] = round(r["rating"], 6)
    table = pa.Table.from_pylist(kept + new, schema=DOMAINS_SCHEMA)
    if skipped:
        log.warning(
            "%s: skipped %d entries (first: line %d %r: %s)",
            path,
            len(skipped),
            skipped[0]["line"],
            skipped[0]["value"],
            skipped[0]["reason"],
        )
    _write_atomic(
        table,
        target,
        {
            "file": str(path),
            "format": fmt,
            "source": sorted(sources),
            "imported_at": datetime.now(UTC).isoformat(),
            "rows_imported": len(new),
            "rows_total": table.num_rows,
            "skipped": skipped,
        },
    )
    return len(new)


def _claim_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = _read_text(path)
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReferenceImportError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise ReferenceImportError(f"{path}:{n}: expected a JSON object per line")
            out.append((n, obj))
        return out
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [f.strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in ("claim_id", "claim_text", "verdict") if c not in reader.fieldnames]
    if missing:
        raise ReferenceImportError(f"{path}: header {reader.fieldnames} lacks column(s) {missing}")
    return [(reader.line_num, rec) for rec in reader]


def _claim_row(path: Path, n: int, rec: dict[str, Any]) -> dict[str, Any]:
    def field(name: str) -> str | None:
        v = rec.get(name)
        return str(v).strip() if v is not None and str(v).strip() else None

    where = f"{path}:{n}"
    claim_id, text, verdict = field("claim_id"), field("claim_text"), (field("verdict") or "").lower()
    if not claim_id:
        raise ReferenceImportError(f"{where}: empty claim_id")
    if not text:
        raise ReferenceImportError(f"{where}: claim {claim_id!r} has no claim_text")
    if verdict not in CLAIM_VERDICTS:
        raise ReferenceImportError(f"{where}: verdict {verdict!r} is not one of {', '.join(CLAIM_VERDICTS)}")
    language = (field("language") or "").lower()
    if not re.fullmatch(r"[a-z]{2,3}", language):
        raise ReferenceImportError(f"{where}: language {language!r} is not an ISO 639 code")
    published = field("published_date")
    day = None
    if published:
        try:
            day = date.fromisoformat(published[:10])
        except ValueError:
            raise ReferenceImportError(f"{where}: published_date {published!r} is not YYYY-MM-DD") from None
    return {
        "claim_id": claim_id,
        "claim_text": text,
        "verdict": verdict,
        "language": language,
        "source_name": field("source_name") or path.name,
        "source_url": field("source_url"),
        "published_date": day,
    }


def import_claims(settings: Any, path: str | os.PathLike[str]) -> int:
    """Import fact-checked claims (CSV, or JSON lines for ``.jsonl``/``.ndjson``/``.json``) into
    ``<reference>/claims_extra.parquet``; returns the number of claims in the file.

    Required: ``claim_id``, ``claim_text``, ``verdict`` (false, misleading, unproven, true) and
    ``language``; optional ``source_name`` (default: the file name), ``source_url``,
    ``published_date``. Any bad record aborts the import with its line; a claim id repeated in the
    file is an error too.
    """
    path = Path(path)
    rows: dict[str, dict[str, Any]] = {}
    for n, rec in _claim_records(path):
        row = _claim_row(path, n, rec)
        if row["claim_id"] in rows:
            raise ReferenceImportError(f"{path}:{n}: claim_id {row['claim_id']!r} appears twice")
        rows[row["claim_id"]] = row
    if not rows:
        raise ReferenceImportError(f"{path}: no claims found")
    target = Path(settings.reference_dir) / CLAIMS_FILE
    kept = [r for r in _existing(target, CLAIMS_SCHEMA) if r["claim_id"] not in rows]
    table = pa.Table.from_pylist(
        kept + sorted(rows.values(), key=lambda r: r["claim_id"]), schema=CLAIMS_SCHEMA
    )
    _write_atomic(
        table,
        target,
        {
            "file": str(path),
            "imported_at": datetime.now(UTC).isoformat(),
            "rows_imported": len(rows),
            "rows_total": table.num_rows,
        },
    )
    return len(rows)
