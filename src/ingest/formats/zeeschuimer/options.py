"""The options the Zeeschuimer adapter reads: only how the chunk runner cuts and maps the file."""

from __future__ import annotations

from ingest.registry import CHUNK_OPTIONS

OPTIONS = (*CHUNK_OPTIONS,)
