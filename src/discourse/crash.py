"""Deterministic crash points for the crash trials (``tests/e2e/test_crash_trials.py``).

``crash_point(name)`` is placed at the moments a crash matters (each step of a run, inside the Great
Expectations writes, between a lake file's rename and its manifest, inside a rejection, inside
publish). It does nothing unless ``DISCOURSE_CRASH_AT`` names it: ``DISCOURSE_CRASH_AT=<name>`` kills
the process with SIGKILL the first time the point is reached, ``<name>:<n>`` the n-th time (1-based).
SIGKILL, not an exception: no ``finally`` block, no cleanup, no flush runs, exactly as for kill -9 or
a power cut. ``DISCOURSE_CRASH_LOG=<file>`` appends every point reached (one name a line), which is
how the trials pick their schedule from a clean run's own progress markers.

The variable is read at every call (cheap: two dictionary lookups when it is unset), so a test can set
it for one subprocess only. The implementation is ``ingest.crashpoint`` because ``ingest`` may import
no other stage (``tests/test_architecture.py``); ``discourse`` and ``quality`` use it through here and
directly.
"""

from ingest.crashpoint import ENV, LOG_ENV, crash_point

__all__ = ["ENV", "LOG_ENV", "crash_point"]
