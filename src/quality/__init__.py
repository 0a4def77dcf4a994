"""Data-quality gates (Great Expectations) and maintainers' alerts.

``quality.suites`` defines one expectation suite per stage, ``quality.gates`` runs them and returns
``GateResult``s, ``quality.alerts`` turns results and task failures into alerts. Nothing heavy is
imported here or at module level: DAG files import this package.
"""
