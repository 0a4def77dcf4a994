"""Data Docs that render offline: the CDN assets GX's pages load, served from beside the pages.

Great Expectations renders Data Docs pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome
and Vega from public CDNs (and its logo from an S3 bucket). Without internet the index page's table,
which bootstrap-table builds from data embedded in the page, never appears. This module:

* installs the assets once per checkout with ``npm ci`` from the pinned ``datadocs_assets/package.json``
  and its lock (``python -m quality.datadocs install``; ``.ci/run`` does it). They are not committed:
  the lock pins each package's version and integrity hash, and each package's licence file is copied
  with it;
* after each Data Docs build (``quality.context.run_checkpoint``), copies the files the pages use into
  ``<data_docs>/static/vendor/`` (same layout as ``node_modules``, so the stylesheets' relative font
  URLs keep working) and rewrites the CDN URLs in the pages to relative paths. Script tags lose their
  ``integrity``/``crossorigin`` attributes: a CORS-mode request for a ``file://`` script fails, and the
  lock's integrity hashes already vouch for the files.

When the assets are not installed the pages are left as GX wrote them (they still work online) and
``localize_site`` says so in its result; nothing fails. A GX upgrade that names other CDN files leaves
those URLs in place and lists them in ``remaining``: the browser test fails on them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discourse.settings import Settings

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "datadocs_assets"
NODE_MODULES = ASSETS_DIR / "node_modules"
VENDOR = "static/vendor"
MARKER = ".localized.json"

# Each CDN URL GX 1.x's templates load -> the file in node_modules (package.json pins the versions GX
# names, except popper.js: 1.16.1, the oldest release bootstrap 4.3.1's peer range accepts, for 1.12.9;
# and bootstrap-table's filter-control stylesheet, named at 1.19.0 and served from 1.19.1).
CDN_FILES: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Folders a copied file needs beside it (Font Awesome's stylesheet loads ../webfonts/*).
EXTRA_DIRS = ("@fortawesome/fontawesome-free/webfonts",)
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "license", "LICENSE.MIT")

# GX's logo comes from an S3 bucket (with a tracking query); GX ships a copy in its own static images.
S3_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([A-Za-z0-9_.-]+)(\?[^\"')\s]*)?"
)
LOCAL_IMAGE = "static/images/logo-long.png"
# A resource the page itself loads from elsewhere (links to pages are not resources).
RESOURCE_URL = re.compile(
    r"""(?:<script\b[^>]*\bsrc|<link\b[^>]*\bhref|<img\b[^>]*\bsrc)\s*=\s*["']?(https?://[^"'\s>]+)"""
    r"""|url\(\s*['"]?(https?://[^'")\s]+)""",
    re.IGNORECASE,
)
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


class AssetsMissing(RuntimeError):
    """The assets are not installed (no ``npm``, or ``npm ci`` failed)."""


@dataclass
class Localized:
    """What ``localize_site`` did: the pages rewritten and the CDN resources still referenced."""

    assets: bool
    pages: int = 0
    rewritten: int = 0
    remaining: list[str] = field(default_factory=list)
    note: str | None = None


def assets_installed(node_modules: Path = NODE_MODULES) -> bool:
    return all((node_modules / rel).is_file() for rel in CDN_FILES.values())


def install_assets(assets_dir: Path = ASSETS_DIR, *, timeout: float = 600) -> Path:
    """``npm ci`` the pinned assets into ``assets_dir/node_modules`` (no install scripts run)."""
    nm = assets_dir / "node_modules"
    if assets_installed(nm):
        return nm
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsMissing("npm is not installed: Data Docs assets cannot be installed")
    proc = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=assets_dir, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0 or not assets_installed(nm):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise AssetsMissing(f"npm ci in {assets_dir} failed (exit {proc.returncode}): {' / '.join(tail)}")
    return nm


def _copy_if_changed(src: Path, dst: Path) -> None:
    if dst.is_file():
        have, want = dst.stat(), src.stat()
        if have.st_size == want.st_size and have.st_mtime >= want.st_mtime:
            return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def copy_assets(site: Path, node_modules: Path = NODE_MODULES) -> Path:
    """Copy the files the pages load (and their licences) into ``site/static/vendor``."""
    vendor = site / VENDOR
    packages: set[Path] = set()
    for rel in CDN_FILES.values():
        _copy_if_changed(node_modules / rel, vendor / rel)
        parts = Path(rel).parts
        packages.add(Path(*parts[:2]) if parts[0].startswith("@") else Path(parts[0]))
    for rel in EXTRA_DIRS:
        for src in (node_modules / rel).rglob("*"):
            if src.is_file():
                _copy_if_changed(src, vendor / rel / src.relative_to(node_modules / rel))
    for pkg in packages:
        for name in LICENCE_NAMES:
            if (node_modules / pkg / name).is_file():
                _copy_if_changed(node_modules / pkg / name, vendor / pkg / name)
    return vendor


def _relative(page: Path, site: Path, target: str) -> str:
    return Path(os.path.relpath(site / target, page.parent)).as_posix()


def localize_page(page: Path, site: Path) -> tuple[bool, list[str]]:
    """Rewrite one page's CDN URLs to the vendored copies; returns (changed, CDN resources left)."""
    text = page.read_text(encoding="utf-8")
    new = text
    for url, rel in CDN_FILES.items():
        if url in new:
            new = re.sub(re.escape(url) + r"(?![\w.@/-])", _relative(page, site, f"{VENDOR}/{rel}"), new)
    new = S3_IMAGES.sub(_relative(page, site, LOCAL_IMAGE), new)
    vendor_ref = _relative(page, site, VENDOR)

    def strip_sri(m: re.Match[str]) -> str:
        tag = m.group(0)
        return _SRI.sub("", tag) if vendor_ref in tag else tag

    new = _SCRIPT_TAG.sub(strip_sri, new)
    changed = new != text
    if changed:
        tmp = page.with_name(f".{page.name}.{os.getpid()}.tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, page)
    return changed, remote_resources(new)


def remote_resources(html: str) -> list[str]:
    """The http(s) URLs a page loads as scripts, stylesheets, images or CSS ``url()``s."""
    return sorted({a or b for a, b in RESOURCE_URL.findall(html)})


def localize_site(settings: Settings | None = None, *, site: Path | None = None,
                  node_modules: Path = NODE_MODULES) -> Localized:
    """Vendor the assets into the Data Docs site and rewrite the pages written since the last pass.

    A pass looks only at pages modified since the previous one (GX rewrites the index and the new
    validation's pages); all pages when the marker is missing or the asset list changed.
    """
    if site is None:
        assert settings is not None
        site = settings.data_docs_dir
    if not site.is_dir():
        return Localized(assets=assets_installed(node_modules), note=f"{site} does not exist yet")
    if not assets_installed(node_modules):
        return Localized(
            assets=False,
            note=f"Data Docs assets are not installed in {node_modules}: the pages load them from CDNs "
            "and need internet (install them with `python -m quality.datadocs install`)",
        )
    copy_assets(site, node_modules)
    marker = site / VENDOR / MARKER
    started = time.time_ns()
    since = 0
    try:
        prev = json.loads(marker.read_text(encoding="utf-8"))
        if prev.get("urls") == sorted(CDN_FILES):
            since = int(prev["started_ns"]) - 2_000_000_000  # clock slack between writers
    except (OSError, ValueError, KeyError, TypeError):
        pass
    out = Localized(assets=True)
    remaining: set[str] = set()
    for page in site.rglob("*.html"):
        if VENDOR in page.relative_to(site).as_posix() or page.stat().st_mtime_ns < since:
            continue
        out.pages += 1
        changed, left = localize_page(page, site)
        out.rewritten += changed
        remaining.update(left)
    out.remaining = sorted(remaining)
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"started_ns": started, "urls": sorted(CDN_FILES)}), encoding="utf-8")
    os.replace(tmp, marker)
    if out.remaining:
        log.warning("Data Docs still load %d resource(s) from the internet: %s", len(out.remaining),
                    ", ".join(out.remaining[:5]))
    return out


_warned_missing = False


def localize_after_build(settings: Settings) -> Localized | None:
    """``localize_site`` after a Data Docs build; a problem here is logged, never fails the gate."""
    global _warned_missing
    try:
        result = localize_site(settings)
    except OSError as exc:
        log.warning("Data Docs: could not vendor the assets: %s", exc)
        return None
    if not result.assets and not _warned_missing:
        _warned_missing = True
        log.warning("%s", result.note)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m quality.datadocs install|check [SITE]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    cmd = args[0] if args else "check"
    if cmd == "install":
        try:
            print(f"Data Docs assets installed in {install_assets()}")
        except (AssetsMissing, OSError, subprocess.TimeoutExpired) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if cmd == "check" and len(args) >= 2:
        result = localize_site(site=Path(args[1]))
        print(json.dumps(result.__dict__, indent=1))
        return 0 if result.assets and not result.remaining else 1
    if cmd == "check":
        ok = assets_installed()
        print(f"Data Docs assets {'installed' if ok else 'missing'} in {NODE_MODULES}")
        return 0 if ok else 1
    print("usage: python -m quality.datadocs install | check [DATA_DOCS_DIR]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
