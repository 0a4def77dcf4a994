"""Data-quality gates (Great Expectations) and maintainers' alerts.

``quality.suites`` defines one expectation suite per stage; ``quality.gates`` runs the raw, staging
and marts gates and returns ``GateResult``s, using ``quality.frames`` (DuckDB → pandas),
``quality.context`` (the GX project and checkpoints) and ``quality.failures`` (failure records);
``quality.volume`` is the volume anomaly check; ``quality.alerts`` turns results and task failures
into alerts. Nothing heavy is imported here or at module level: DAG files import this package.
"""
