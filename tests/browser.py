"""Headless Chromium for tests that look at a page the project writes (the analyst report), offline.

The same approach as the Data Docs tests (``tests/quality/datadocs_browser.py``), for any page: every
host resolves to nothing and every request goes to a closed local port, so a page that loads anything
from the network shows it. Locally a missing Chromium skips the test; in CI (``CI=true``, where
``.ci/run`` installs it) it fails it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                 "--proxy-bypass-list=<-loopback>")
# What Chromium logs to stderr (--enable-logging=stderr) for the page's console and for failed loads.
_CONSOLE = re.compile(r"CONSOLE|Uncaught|ERR_[A-Z_]+|Failed to load")


def chromium() -> str:
    """The Chromium binary, or skip (locally) / fail (in CI)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI: .ci/run installs it)")
    pytest.skip(reason)
    raise AssertionError("unreachable")


@dataclass
class Visit:
    dom: str  # the DOM after the page's scripts ran
    console: list[str]  # console messages, uncaught errors and failed loads Chromium logged


def _run(args: list[str], profile: Path, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
           *OFFLINE_FLAGS, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def visit(page: Path, profile: Path, budget_ms: int = 10_000, size: str = "1280,900") -> Visit:
    """Open ``page`` offline, let its scripts run, and return its DOM and what it logged."""
    proc = _run([f"--virtual-time-budget={budget_ms}", f"--window-size={size}", "--dump-dom",
                 page.as_uri()], profile)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return Visit(proc.stdout, [ln for ln in proc.stderr.splitlines() if _CONSOLE.search(ln)])


def screenshot(page: Path, out: Path, profile: Path, size: str = "1280,2400",
               budget_ms: int = 10_000) -> Path:
    proc = _run([f"--virtual-time-budget={budget_ms}", f"--window-size={size}", "--hide-scrollbars",
                 f"--screenshot={out}", page.as_uri()], profile)
    assert proc.returncode == 0 and out.is_file(), proc.stderr[-2000:]
    return out


class _Charts(HTMLParser):
    """Counts plotly charts (``.js-plotly-plot``) that hold a drawn ``svg.main-svg``."""

    _VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                       "track", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, opens a chart)
        self.open_charts: list[dict[str, bool]] = []
        self.charts: list[dict[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "svg" and "main-svg" in classes:
            for c in self.open_charts:
                c["drawn"] = True
        if tag in self._VOID:
            return
        is_chart = "js-plotly-plot" in classes
        if is_chart:
            chart = {"drawn": False}
            self.open_charts.append(chart)
            self.charts.append(chart)
        self.stack.append((tag, is_chart))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, is_chart = self.stack.pop()
            if is_chart:
                self.open_charts.pop()
            if name == tag:
                break


def drawn_charts(dom: str) -> tuple[int, int]:
    """(plotly charts in the DOM, those of them with a drawn svg)."""
    parser = _Charts()
    parser.feed(dom)
    return len(parser.charts), sum(c["drawn"] for c in parser.charts)


def distinct_colours(png: Path) -> int:
    """How many colours a screenshot has: an unstyled or blank page has a handful."""
    from PIL import Image

    with Image.open(png) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours or [])
