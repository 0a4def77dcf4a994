"""Adapter registry: each export format is one package ``ingest.formats.<name>`` that registers a class.

A format package holds ``adapter.py`` (the adapter class, registered with ``register``), ``options.py``
(``OPTIONS``: the typed options it reads) and, for formats mapped with DuckDB, ``sql.py``. An adapter has a
``name`` (the ``export_format``), a default ``platform`` (where its quarantined records go), the
``platforms`` its posts can have, ``sniff(head) -> bool`` on the first 64 KiB of decompressed content, and
``read(source, options)`` yielding ``AdapterChunk``s. Adding a format means adding one package (and its
fixtures); nothing else changes: the ``discourse ingest`` flags and the options recorded for ``remap``
come from the formats' ``OPTIONS`` (``option_declarations``).

Importing this module, and reading the option declarations, loads no adapter (and none of their
DuckDB, numpy or Arrow imports), so the command line starts quickly.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, NamedTuple

if TYPE_CHECKING:
    import pyarrow as pa

    from ingest.sources import Source

FORMATS_PACKAGE = "ingest.formats"


class UnrecognisedFormat(Exception):
    """No adapter recognised a file; the message says what was seen."""


@dataclass
class AdapterChunk:
    """A piece of one source: mapped posts, quarantined records, and non-post records skipped by reason."""

    posts: pa.Table | None = None  # ADAPTER_SCHEMA
    quarantine: pa.Table | None = None  # QUARANTINE_ADAPTER_SCHEMA
    skipped: dict[str, int] = field(default_factory=dict)
    context: pa.Table | None = None  # CONTEXT_SCHEMA: what records need from around them to be re-mapped
    notes: list[str] = field(default_factory=list)  # warnings about the whole source, for the manifest
    # post_uids (as the adapter maps them) the export says were deleted: a Bluesky post delete, a
    # Mastodon ``Delete``; the lake keeps them as tombstones (``discourse.forget.apply_deletes``)
    deletes: list[str] = field(default_factory=list)


class Unit(NamedTuple):
    """One position of a stored batch (``discourse remap``)."""

    record: int  # the stored source_record
    raws: list[str]  # the raw records of the posts from it, in order
    context: str | None  # the context in force there: the last one stored at or before ``record``
    context_record: int | None  # where that context was stored


def context_table(rows: Iterable[tuple[int, Any]]) -> pa.Table:
    """A ``CONTEXT_SCHEMA`` table from ``(source_record, JSON-able object)`` pairs."""
    import pyarrow as pa

    rows = list(rows)
    return pa.table(
        {
            "source_record": pa.array([r for r, _ in rows], pa.int64()),
            "context": pa.array(
                [json.dumps(o, ensure_ascii=False, separators=(",", ":")) for _, o in rows], pa.string()
            ),
        }
    )


def first_context(units: Iterable[Unit]) -> tuple[Iterator[Unit], dict[str, Any]]:
    """The units again (unconsumed), and the first unit's context parsed (empty when none)."""
    it = iter(units)
    first = next(it, None)
    if first is None:
        return iter(()), {}
    ctx = json.loads(first.context) if first.context else {}
    return itertools.chain([first], it), ctx


@dataclass(frozen=True)
class Option:
    """One option a format reads from ``options[name]``: its type, what it does, how the command line
    offers it and whether ``discourse remap`` needs it again.

    ``flag`` is the ``discourse ingest`` flag (``None``: not on the command line); ``parse`` turns the
    flag's text into the value (default: the text as it is; a ``ValueError`` is reported against the
    flag). ``recorded`` options are kept in the batch's manifest, so a remap maps it the same way.
    """

    name: str
    type: Any
    help: str
    flag: str | None = None
    recorded: bool = True
    parse: Callable[[str], Any] | None = None

    def from_text(self, text: str) -> Any:
        return self.parse(text) if self.parse is not None else text


# What ``ingest.lines.run_chunks`` reads: part of the ``OPTIONS`` of every format mapped with it.
CHUNK_OPTIONS = (
    Option("chunk_bytes", int, "decompressed bytes per block of lines (default 64 MiB; see ingest.lines)",
           recorded=False),
    Option("workers", int, "blocks of lines mapped at once (default, or 0: the CPU count, at most 4)",
           recorded=False),
)


class Adapter:
    name: ClassVar[str]
    # where records that cannot be mapped are quarantined (and the platform of its posts, by default)
    platform: ClassVar[str]
    # every platform its posts can have; each must be in ``ingest.schema.PLATFORMS``
    platforms: ClassVar[tuple[str, ...]] = ()
    # Sniffed in ascending order; generic formats sniff last so specific ones win.
    priority: ClassVar[int] = 100
    description: ClassVar[str] = ""

    def sniff(self, head: bytes) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, source: Source, options: dict[str, Any]) -> Iterator[AdapterChunk]:  # pragma: no cover
        raise NotImplementedError

    def reframe(self, units: Iterable[Unit], out: BinaryIO) -> dict[str, Any]:
        """Write stored records back out as a file this adapter reads (``discourse remap``).

        ``units`` are the records of one batch grouped by ``source_record``, in order: the ``raw`` of
        each post from that position, and the context in force there (see ``CONTEXT_SCHEMA``). The file
        must make ``read`` number the k-th unit ``source_record`` k (1-based). Returns options to read
        it with (added to the batch's recorded options). The default suits formats whose records are
        JSON lines with nothing around them: one line per record.
        """
        for unit in units:
            if len(unit.raws) != 1:
                raise ValueError(f"{self.name}: one record per position expected, got {len(unit.raws)}")
            out.write(unit.raws[0].encode("utf-8"))
            out.write(b"\n")
        return {}


_REGISTRY: dict[str, type[Adapter]] = {}
_loaded = False


def register(cls: type[Adapter]) -> type[Adapter]:
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"adapter name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def format_packages() -> list[str]:
    """The format packages (``ingest.formats.<name>``), by name; ``common`` and ``_x`` are not formats."""
    pkg = importlib.import_module(FORMATS_PACKAGE)
    found = pkgutil.iter_modules(pkg.__path__)
    return sorted(m.name for m in found if m.ispkg and not m.name.startswith("_"))


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for name in format_packages():
        module = f"{FORMATS_PACKAGE}.{name}.adapter"
        if importlib.util.find_spec(module) is None:
            raise ImportError(f"format package {FORMATS_PACKAGE}.{name} has no adapter module ({module})")
        importlib.import_module(module)
    _loaded = True


def adapters() -> dict[str, type[Adapter]]:
    _load_all()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].priority, kv[0])))


def format_options() -> dict[str, tuple[Option, ...]]:
    """Each format package's declared ``OPTIONS`` (from its ``options`` module), by package name."""
    out: dict[str, tuple[Option, ...]] = {}
    for name in format_packages():
        module = f"{FORMATS_PACKAGE}.{name}.options"
        if importlib.util.find_spec(module) is not None:
            out[name] = tuple(importlib.import_module(module).OPTIONS)
    return out


def option_declarations() -> list[Option]:
    """Every option any format declares, once each, in package order. Formats may share an option
    (the same declaration); two different declarations of one name are an error."""
    seen: dict[str, tuple[str, Option]] = {}
    for package, options in format_options().items():
        for opt in options:
            if opt.name in seen and seen[opt.name][1] != opt:
                raise ValueError(
                    f"option {opt.name!r} is declared differently by formats {seen[opt.name][0]!r} and "
                    f"{package!r}; share one declaration"
                )
            seen.setdefault(opt.name, (package, opt))
    return [opt for _, opt in seen.values()]


def recorded_options() -> tuple[str, ...]:
    """The names of the options that shape a mapping: recorded in the manifest for ``discourse remap``."""
    return tuple(opt.name for opt in option_declarations() if opt.recorded)


def get(name: str) -> Adapter:
    regs = adapters()
    if name not in regs:
        raise UnrecognisedFormat(f"unknown format {name!r}; known: {', '.join(regs)}")
    return regs[name]()


_JS_ASSIGNMENT = re.compile(rb"\A\s*((?:window|var|let|const)\b[\w$. ]{0,80}?)\s*=")
_KEY = re.compile(rb'"([A-Za-z0-9_@$.:-]{1,40})"\s*:')
_MAGIC = {b"PK\x03\x04": "a zip archive", b"\x1f\x8b": "gzip data", b"\x28\xb5\x2f\xfd": "zstd data"}


def describe_content(head: bytes, size: int | None = None) -> str:
    """Non-identifying facts about content no adapter took, for messages and run summaries: its size,
    its shape ("JSON object", "JavaScript assignment `window.YTD.account.part0`", ...) and at most the
    first few key names. Never the content itself: an unrecognised file may be an archive's
    ``account.js``, with the owner's e-mail address and account id."""
    facts = [f"{size:,} bytes" if size is not None else f"{len(head):,} bytes seen"]
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    keys: list[str] = []
    for magic, what in _MAGIC.items():
        if body.startswith(magic):
            facts.append(what)
            break
    else:
        js = _JS_ASSIGNMENT.match(body)
        if js:
            name = re.sub(rb"\s+", b" ", js.group(1)).decode("ascii", "replace")
            facts.append(f"JavaScript assignment `{name}`")
        elif body.startswith(b"{"):
            facts.append("JSON object" + (" per line" if b"\n{" in body else ""))
            keys = [k.decode() for k in _KEY.findall(body[:4096])]
        elif body.startswith(b"["):
            facts.append("JSON array")
            keys = [k.decode() for k in _KEY.findall(body[:4096])]
        elif body.startswith(b"<"):
            facts.append("markup (HTML or XML)")
        else:
            try:
                body.decode("utf-8")
                lines = body.count(b"\n") + 1
                facts.append(f"text, {lines:,} line(s) in the first {len(head):,} bytes")
            except UnicodeDecodeError as exc:
                if exc.start >= len(body) - 3:  # a character cut off by the head's end
                    facts.append("text")
                else:
                    facts.append("binary data (not UTF-8)")
    if keys:
        first = list(dict.fromkeys(keys))[:5]
        facts.append("first keys " + ", ".join(first))
    return "; ".join(facts)


def source_size(source: Source) -> int | None:
    """The size of a source's content when known without reading it (plain files, zip members)."""
    try:
        if source.compression == "none":
            return source.path.stat().st_size
        if source.compression == "zip" and source.member:
            import zipfile

            with zipfile.ZipFile(source.path) as zf:
                return zf.getinfo(source.member).file_size
    except (OSError, KeyError, ValueError):
        return None
    return None


_NESTED = (b"PK\x03\x04", b"\x1f\x8b", b"\x28\xb5\x2f\xfd")


def nested_archive(source: Source, head: bytes) -> str | None:
    """Why a zip member is refused when it is itself compressed (nested archives are not read)."""
    if source.member and head.startswith(_NESTED):
        kind = "zip archive" if head.startswith(b"PK") else "compressed file"
        return (f"{source.name}: a {kind} inside a zip archive; nested archives are not read "
                "(unpack it and put its files in the inbox)")
    return None


def detect(source: Source) -> Adapter:
    head = source.head()
    if not head:
        raise UnrecognisedFormat(f"{source.name}: file is empty")
    if not head.strip():
        raise UnrecognisedFormat(f"{source.name}: nothing but whitespace in its first {len(head):,} bytes")
    nested = nested_archive(source, head)
    if nested:
        raise UnrecognisedFormat(nested)
    for cls in adapters().values():
        adapter = cls()
        if adapter.sniff(head):
            return adapter
    raise UnrecognisedFormat(
        f"{source.name}: no adapter recognised the content ({describe_content(head, source_size(source))}); "
        f"pass --format with one of: {', '.join(adapters())}"
    )
