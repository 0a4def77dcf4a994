"""Headless Chromium for the Data Docs tests, with the network cut off, and the vendored assets.

Locally a missing Chromium or missing assets skip the test with the reason; in CI (``CI=true``, where
``.ci/run`` installs both) they fail it, so a green CI always means the pages were looked at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from quality.datadocs import NODE_MODULES, assets_installed

# No request can leave the machine: every host resolves to nothing and every request goes to a
# closed local port (the discard port) as its proxy.
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                 "--proxy-bypass-list=<-loopback>")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (required in CI: .ci/run installs it)")
    pytest.skip(reason)


def chromium() -> str:
    """The Chromium binary, or skip (locally) / fail (in CI)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    _missing("chromium is not installed (apt-get install chromium)")
    raise AssertionError("unreachable")


def require_assets() -> None:
    if not assets_installed():
        _missing(f"Data Docs assets are not installed in {NODE_MODULES} "
                 "(python -m quality.datadocs install)")


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *OFFLINE_FLAGS, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def dump_dom(page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran (offline)."""
    proc = _run(["--virtual-time-budget=5000", "--dump-dom", page.as_uri()], profile)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, out: Path, profile: Path, size: str = "1280,900") -> Path:
    proc = _run(["--virtual-time-budget=5000", f"--window-size={size}", f"--screenshot={out}",
                 page.as_uri()], profile)
    assert proc.returncode == 0 and out.is_file(), proc.stderr[-2000:]
    return out


def distinct_colours(png: Path) -> int:
    """How many colours a screenshot has: an unstyled or blank page has a handful."""
    from PIL import Image

    with Image.open(png) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours or [])
