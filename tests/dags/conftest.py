"""Fixtures for the DAG tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cosmos_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cosmos cache for the session, so the dbt manifest is parsed once, not per test."""
    return tmp_path_factory.mktemp("cosmos")
