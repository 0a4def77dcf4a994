"""Synthetic social-media exports with planted signals, for demos, tests and benchmarks.

``generate(out_dir, posts, ...)`` writes exports in every format the project ingests, plus
``_ground_truth.json`` recording what was planted (see ``synth.corpus``). Layout:

- ``synth.corpus``: the run (posts drawn per minute, the planted campaign and spike, ground truth);
- ``synth.formats``: one writer module per export format, discovered at import;
- ``synth.textgen``: bilingual (Indonesian/English) text generation;
- ``synth.common`` and ``synth.output``: helpers shared by the writers.
"""

from synth.corpus import FORMATS, MIN_POSTS, TRUTH_FILE, generate

__all__ = ["FORMATS", "MIN_POSTS", "TRUTH_FILE", "generate"]
