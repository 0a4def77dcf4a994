"""The CLI's progress counter: increments (ingest) and running totals (the generator) both count right."""

from __future__ import annotations

from discourse.cli import Progress


def test_running_totals_are_not_summed():
    # The generator reports the number of posts written so far; summing those printed 4,104,706
    # for 200,000 posts.
    p = Progress("generate", enabled=False)
    for written in range(5000, 200_001, 5000):
        p.total(written)
    assert p.n == 200_000


def test_increments_add_up():
    p = Progress("ingest", enabled=False)
    for k in (100, 250, 650):
        p(k)
    assert p.n == 1000
