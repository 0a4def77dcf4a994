"""The one GX-internal override (``HASH_THRESHOLD``) stays in ``quality.context``.

Cycles and private names across modules are checked for every package by ``tests/test_architecture.py``.
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "quality"


def test_the_gx_internal_override_lives_in_context_only():
    users = sorted(p.name for p in SRC.glob("*.py") if "HASH_THRESHOLD" in p.read_text())
    assert users == ["context.py"]
