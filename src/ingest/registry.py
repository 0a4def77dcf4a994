"""Adapter registry: each export format is one module in ``ingest.adapters`` that registers a class.

An adapter has a ``name`` (the ``export_format``), a default ``platform``, ``sniff(head) -> bool`` on the
first 64 KiB of decompressed content, and ``read(source, options)`` yielding ``AdapterChunk``s. Adding a
format means adding one module (and its fixtures); nothing else changes.
"""

from __future__ import annotations

import importlib
import itertools
import json
import pkgutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar, NamedTuple

import pyarrow as pa

from ingest.sources import Source


class UnrecognisedFormat(Exception):
    """No adapter recognised a file; the message says what was seen."""


@dataclass
class AdapterChunk:
    """A piece of one source: mapped posts, quarantined records, and non-post records skipped by reason."""

    posts: pa.Table | None = None  # ADAPTER_SCHEMA
    quarantine: pa.Table | None = None  # QUARANTINE_ADAPTER_SCHEMA
    skipped: dict[str, int] = field(default_factory=dict)
    context: pa.Table | None = None  # CONTEXT_SCHEMA: what records need from around them to be re-mapped


class Unit(NamedTuple):
    """One position of a stored batch (``discourse remap``)."""

    record: int  # the stored source_record
    raws: list[str]  # the raw records of the posts from it, in order
    context: str | None  # the context in force there: the last one stored at or before ``record``
    context_record: int | None  # where that context was stored


def context_table(rows: Iterable[tuple[int, Any]]) -> pa.Table:
    """A ``CONTEXT_SCHEMA`` table from ``(source_record, JSON-able object)`` pairs."""
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


class Adapter:
    name: ClassVar[str]
    platform: ClassVar[str]
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


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import ingest.adapters as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"ingest.adapters.{mod.name}")
    _loaded = True


def adapters() -> dict[str, type[Adapter]]:
    _load_all()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].priority, kv[0])))


def get(name: str) -> Adapter:
    regs = adapters()
    if name not in regs:
        raise UnrecognisedFormat(f"unknown format {name!r}; known: {', '.join(regs)}")
    return regs[name]()


def detect(source: Source) -> Adapter:
    head = source.head()
    if not head.strip():
        raise UnrecognisedFormat(f"{source.name}: file is empty")
    for cls in adapters().values():
        adapter = cls()
        if adapter.sniff(head):
            return adapter
    preview = head[:80].decode("utf-8", "replace").replace("\n", "\\n")
    raise UnrecognisedFormat(
        f"{source.name}: no adapter recognised the content (starts with {preview!r}); "
        f"pass --format with one of: {', '.join(adapters())}"
    )
