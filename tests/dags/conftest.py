"""Fixtures for the DAG tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cosmos_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cosmos cache dir for the session's Airflow processes. The DAG no longer uses cosmos, but
    Airflow loads the installed cosmos provider, which must not write outside the test's dirs."""
    return tmp_path_factory.mktemp("cosmos")
