"""``discourse serve``: the report, the Great Expectations Data Docs and the dbt docs over HTTP, read-only.

The URL paths are the paths under ``DISCOURSE_HOME``, so the links alerts carry
(``<public_base_url>/<path under home>``, ``quality.alerts.public_link``) resolve against this server:

- ``/reports/latest.html`` (and every ``reports/report-<stamp>.html``): the report of each run;
- ``/gx/data_docs/index.html``: the Data Docs of every gate;
- ``/docs/index.html``: the warehouse's dbt docs (``discourse.transform.generate_docs``);
- ``/`` an index page linking them, with the reports newest first; ``/report/`` redirects to the
  latest report.

Nothing else under the home is reachable: not the lake (it keeps the raw records with platform ids),
the warehouse, the alerts, the state or ``discourse.toml``. Only GET and HEAD are answered; a path
that leaves its folder (``..``, a symlink pointing out) or names a hidden file is refused. The server
only reads: in the compose deployment the volume is mounted read-only too.
"""

from __future__ import annotations

import html
import mimetypes
import os
import posixpath
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from discourse.settings import Settings

# The folders under the home that are served, as URL prefixes (the same relative paths).
SERVED = ("reports", "gx/data_docs", "docs")
LATEST_REPORT = "reports/latest.html"
DATA_DOCS_INDEX = "gx/data_docs/index.html"
DBT_DOCS_INDEX = "docs/index.html"
CHUNK = 1 << 16


class ServeError(Exception):
    pass


def resolve(home: Path, url_path: str) -> Path | None:
    """The file under ``home`` that ``url_path`` names, or None when it is not served.

    Served: a regular file inside one of ``SERVED``, by a path with no hidden part, that still lies
    inside that folder once symlinks are resolved. A folder path is its ``index.html``."""
    rel = posixpath.normpath(unquote(url_path).lstrip("/"))
    if rel in (".", "") or rel.startswith("../") or rel == "..":
        return None
    parts = rel.split("/")
    if any(p.startswith(".") or p == "" for p in parts):
        return None
    for prefix in SERVED:
        if rel == prefix or rel.startswith(prefix + "/"):
            root = (home / prefix).resolve()
            break
    else:
        return None
    target = (home / rel).resolve()
    if target != root and root not in target.parents:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def reports(home: Path) -> list[Path]:
    """The run reports, newest first (their names carry the UTC time they were written)."""
    folder = home / "reports"
    return sorted(folder.glob("report-*.html"), reverse=True) if folder.is_dir() else []


def index_page(home: Path) -> str:
    """The landing page: where the latest report, the Data Docs and the dbt docs are."""

    def stamp(p: Path) -> str:
        return datetime.fromtimestamp(p.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def entry(rel: str, label: str, missing: str) -> str:
        p = home / rel
        if p.is_file():
            return f'<li><a href="/{quote(rel)}">{html.escape(label)}</a> <small>({stamp(p)})</small></li>'
        return f"<li>{html.escape(label)}: <em>{html.escape(missing)}</em></li>"

    items = [
        entry(LATEST_REPORT, "Latest report", "no report yet: it is written after the first publish"),
        entry(DATA_DOCS_INDEX, "Data Docs (Great Expectations gates)", "no gate has run yet"),
        entry(DBT_DOCS_INDEX, "Warehouse documentation (dbt docs)", "written after the first publish"),
    ]
    runs = reports(home)
    older = "".join(
        f'<li><a href="/reports/{quote(p.name)}">{html.escape(p.name)}</a> <small>({stamp(p)})</small></li>'
        for p in runs
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        "<title>discourse</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;"
        "margin:2rem auto;padding:0 1rem}small{color:#666}</style></head><body>"
        "<h1>discourse</h1><ul>" + "".join(items) + "</ul>"
        + (f"<h2>Reports ({len(runs)})</h2><ul>{older}</ul>" if runs else "")
        + "<p><small>Analysts query the marts with <code>discourse query</code> (read-only).</small></p>"
        "</body></html>"
    )


def make_handler(home: Path) -> type[BaseHTTPRequestHandler]:
    home = Path(home)

    class Handler(BaseHTTPRequestHandler):
        server_version = "discourse-serve"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's signature
            # one line per request on stderr, as http.server does, without reverse DNS lookups
            print(f"{self.address_string()} {format % args}", file=sys.stderr, flush=True)

        def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _text(self, status: int, message: str) -> None:
            self._send(status, (message + "\n").encode(), "text/plain; charset=utf-8")

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(200, index_page(home).encode(), "text/html; charset=utf-8")
                return
            if path.rstrip("/") == "/report":
                if (home / LATEST_REPORT).is_file():
                    self._send(302, b"", "text/plain", {"Location": "/" + LATEST_REPORT})
                else:
                    self._text(404, "no report yet: the first run that publishes writes one")
                return
            target = resolve(home, path)
            if target is None:
                self._text(404, f"not found: {path}")
                return
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
                ctype += "; charset=utf-8"
            try:
                fh = open(target, "rb")  # noqa: SIM115 - closed below, streamed in chunks
            except OSError:
                self._text(404, f"not found: {path}")
                return
            with fh:
                size = os.fstat(fh.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(size))
                self.send_header("Cache-Control", "no-cache")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                if self.command == "HEAD":
                    return
                while chunk := fh.read(CHUNK):
                    self.wfile.write(chunk)

        def _refuse(self) -> None:
            self._send(405, b"read-only\n", "text/plain; charset=utf-8", {"Allow": "GET, HEAD"})

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    return Handler


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    home = Path(settings.home)
    if not home.is_dir():
        raise ServeError(f"{home}: no such folder (DISCOURSE_HOME); run the pipeline first")
    try:
        server = ThreadingHTTPServer((host, port), make_handler(home))
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    server.daemon_threads = True
    return server


@contextmanager
def serving(settings: Settings, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread (for tests and embedding); yields the base URL."""
    server = make_server(settings, host, port)
    thread = threading.Thread(target=server.serve_forever, name="discourse-serve", daemon=True)
    thread.start()
    try:
        h, p = server.server_address[:2]
        yield f"http://{h}:{p}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080, echo=print) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM in a container)."""
    server = make_server(settings, host, port)
    h, p = server.server_address[:2]
    echo(f"serving {settings.home} (reports, Data Docs, dbt docs; read-only) on http://{h}:{p}/")

    def stop(signum, frame) -> None:  # SIGTERM (docker stop) ends it like Ctrl-C
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
