"""``crash_point(name)``: SIGKILL this process at a named point when ``DISCOURSE_CRASH_AT`` says so.

A no-op unless ``DISCOURSE_CRASH_AT`` or ``DISCOURSE_CRASH_LOG`` is set; see ``discourse.crash`` for
the contract. Standard library only, so every stage may import it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "DISCOURSE_CRASH_AT"
LOG_ENV = "DISCOURSE_CRASH_LOG"
_seen: dict[str, int] = {}


def crash_point(name: str, before_kill: Callable[[], None] | None = None) -> None:
    """Kill this process with SIGKILL here when ``DISCOURSE_CRASH_AT`` is ``name`` (the first time the
    point is reached) or ``name:n`` (the n-th time); log the point to ``DISCOURSE_CRASH_LOG``.
    ``before_kill`` runs right before the kill, only then (a fault to leave behind, such as a file
    truncated as an in-place write would leave it)."""
    at = os.environ.get(ENV)
    log = os.environ.get(LOG_ENV)
    if not at and not log:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{name}\n")
    if not at:
        return
    want, _, nth = at.rpartition(":") if at.rpartition(":")[2].isdigit() else (at, "", "")
    if want == name and _seen[name] == (int(nth) if nth else 1):
        if before_kill is not None:
            before_kill()
        os.kill(os.getpid(), signal.SIGKILL)
