"""Fixtures for the quality tests: a settings home in tmp_path and the local alert receivers.

``http_receiver`` and ``smtp_server`` wrap the servers in ``tests/servers.py``; other test packages can
reuse them by importing that module (``tests/`` is put on ``sys.path`` here if it is not already).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for p in (TESTS_DIR, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from servers import HttpReceiver, SmtpServer  # noqa: E402

from discourse.settings import Settings, load_settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, home=str(tmp_path / "home"))


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server
