from __future__ import annotations

from pathlib import Path

import pytest

from discourse.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def settings(home: Path) -> Settings:
    """Settings for a throwaway home, isolated from the caller's environment."""
    return load_settings(env={"DISCOURSE_HOME": str(home), "DISCOURSE_PSEUDONYM_KEY": "test-key"})
