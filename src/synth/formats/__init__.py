"""The generator's export formats: one module per format, found here at import time.

Every module ``synth/formats/<format>.py`` (names starting with ``_`` excepted) defines ``WRITER``, a
``synth.output.Writer`` subclass whose ``FORMAT`` is the module's name. Adding a format is adding
one such module: its class attributes (platform, weight in the default mix, rank in the default
list, aliases) are all the generator needs to know about it. Writers import shared helpers from
``synth.common`` and ``synth.output``, never from each other.

``FORMATS`` lists the format names by ``RANK``; it is ``generate``'s default and the order the
generator draws formats in, so output for a given seed depends on it.
"""

from __future__ import annotations

import importlib
import pkgutil

from synth.output import Writer


def _discover() -> dict[str, type[Writer]]:
    found: list[type[Writer]] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        writer = getattr(module, "WRITER", None)
        if not (isinstance(writer, type) and issubclass(writer, Writer)):
            raise ImportError(f"{module.__name__} defines no WRITER (a synth.output.Writer subclass)")
        if writer.FORMAT != info.name:
            raise ImportError(f"{module.__name__}: WRITER.FORMAT is {writer.FORMAT!r}, not the module's name")
        found.append(writer)
    found.sort(key=lambda w: (w.RANK, w.FORMAT))
    ranks = [w.RANK for w in found]
    if len(set(ranks)) != len(ranks):
        raise ImportError(f"synth.formats: two writers share a RANK: {[(w.FORMAT, w.RANK) for w in found]}")
    return {w.FORMAT: w for w in found}


def _aliases(writers: dict[str, type[Writer]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f, w in writers.items():
        for a in w.ALIASES:
            if a in out or a in writers:
                raise ImportError(f"synth.formats: alias {a!r} of {f!r} is taken")
            out[a] = f
    return out


WRITERS: dict[str, type[Writer]] = _discover()
FORMATS: tuple[str, ...] = tuple(WRITERS)
FORMAT_WEIGHTS: dict[str, float] = {f: w.WEIGHT for f, w in WRITERS.items()}
PLATFORM_OF: dict[str, str] = {f: w.PLATFORM for f, w in WRITERS.items()}
# Short names accepted for ``formats`` (the adapter names are the canonical ones).
FORMAT_ALIASES: dict[str, str] = _aliases(WRITERS)
