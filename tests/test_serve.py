"""`discourse serve`: real HTTP requests against the server, on a home laid out as a run leaves it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from discourse.serve import resolve, serving
from discourse.settings import load_settings


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    (h / "reports").mkdir(parents=True)
    (h / "reports" / "report-20260101T020000Z.html").write_text("<html>old report</html>")
    (h / "reports" / "report-20260102T020000Z.html").write_text("<html>new report</html>")
    (h / "reports" / "latest.html").write_text("<html>new report</html>")
    dd = h / "gx" / "data_docs"
    (dd / "static" / "vendor").mkdir(parents=True)
    (dd / "index.html").write_text("<html>data docs</html>")
    (dd / "static" / "vendor" / "site.css").write_text("body{}")
    (h / "docs").mkdir()
    (h / "docs" / "index.html").write_text("<html>dbt docs</html>")
    (h / "docs" / ".inputs").write_text("digest")
    # What must never be served: the lake (raw records), the warehouse, alerts, config.
    (h / "lake" / "posts").mkdir(parents=True)
    (h / "lake" / "posts" / "x.parquet").write_bytes(b"PAR1")
    (h / "warehouse.duckdb").write_bytes(b"duck")
    (h / "alerts").mkdir()
    (h / "alerts" / "a.json").write_text("{}")
    (h / "discourse.toml").write_text('pseudonym_key = "secret-secret-secret-secret-secret"\n')
    os.symlink(h / "warehouse.duckdb", h / "reports" / "escape.html")
    return h


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_serves_the_report_data_docs_and_dbt_docs(home: Path) -> None:
    settings = load_settings(env={}, home=str(home))
    with serving(settings) as base:
        status, headers, body = _get(base + "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        page = body.decode()
        assert 'href="/reports/latest.html"' in page
        assert 'href="/gx/data_docs/index.html"' in page
        assert 'href="/docs/index.html"' in page
        # reports listed newest first
        assert page.index("report-20260102T020000Z") < page.index("report-20260101T020000Z")

        status, headers, _ = _get(base + "/report/")
        assert status == 302 and headers["Location"] == "/reports/latest.html"
        assert _get(base + "/reports/latest.html")[2] == b"<html>new report</html>"
        assert _get(base + "/gx/data_docs/index.html")[2] == b"<html>data docs</html>"
        assert _get(base + "/gx/data_docs/")[2] == b"<html>data docs</html>"
        status, headers, body = _get(base + "/gx/data_docs/static/vendor/site.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css") and body == b"body{}"
        assert _get(base + "/docs/index.html")[2] == b"<html>dbt docs</html>"
        status, headers, body = _get(base + "/docs/index.html", method="HEAD")
        assert status == 200 and body == b""
        assert headers["Content-Length"] == str(len("<html>dbt docs</html>"))


@pytest.mark.parametrize("path", [
    "/lake/posts/x.parquet", "/warehouse.duckdb", "/alerts/a.json", "/discourse.toml",
    "/reports/../warehouse.duckdb", "/reports/%2e%2e/warehouse.duckdb", "/docs/.inputs",
    "/reports/escape.html", "/gx/data_docs/../../discourse.toml", "/reports/missing.html",
])
def test_nothing_else_under_the_home_is_served(home: Path, path: str) -> None:
    settings = load_settings(env={}, home=str(home))
    with serving(settings) as base:
        status, _, body = _get(base + path)
    assert status == 404, (path, body)
    assert resolve(home, path) is None


def test_it_only_reads(home: Path) -> None:
    settings = load_settings(env={}, home=str(home))
    with serving(settings) as base:
        status, headers, _ = _get(base + "/reports/latest.html", method="PUT")
        assert status == 405 and headers["Allow"] == "GET, HEAD"
        assert _get(base + "/reports/latest.html", method="DELETE")[0] == 405
    assert (home / "reports" / "latest.html").read_text() == "<html>new report</html>"


def test_before_the_first_run_the_index_says_what_is_missing(tmp_path: Path) -> None:
    settings = load_settings(env={}, home=str(tmp_path))
    with serving(settings) as base:
        page = _get(base + "/")[2].decode()
        assert "no report yet" in page
        status, _, body = _get(base + "/report/")
        assert status == 404 and b"no report yet" in body


def test_the_cli_serves_until_terminated(home: Path) -> None:
    """`discourse serve --port N` as the compose `web` service runs it; SIGTERM stops it cleanly."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCOURSE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "discourse.cli", "--home", str(home), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = _get(f"http://127.0.0.1:{port}/reports/latest.html")
                break
            except (ConnectionError, urllib.error.URLError):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.2)
        assert status == 200 and body == b"<html>new report</html>"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out


def test_a_missing_home_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "discourse.cli", "--home", str(tmp_path / "nope"), "serve", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "no such folder" in proc.stderr and proc.stderr.count("\n") == 1
