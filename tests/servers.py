"""Local alert receivers for tests: a real HTTP server and a real SMTP server on 127.0.0.1.

Nothing leaves the machine. Both record what they receive and can wait for it:

    with HttpReceiver() as hook:                 # POST target for settings.alert_webhook_url
        ...; hook.wait_for(1); hook.requests[0].json()
    with SmtpServer() as smtp:                   # settings.smtp_host / smtp_port = smtp.host / smtp.port
        ...; smtp.wait_for(1); smtp.messages[0].message["Subject"]

``HttpReceiver(statuses=[500, 200])`` answers the first request with 500, then 200 (and keeps repeating
the last status), to exercise retries. ``SmtpServer(auth={"user": "password"})`` requires AUTH LOGIN /
PLAIN over the plain connection.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class HttpReceiver:
    """A threaded ``http.server`` on 127.0.0.1 (free port) that records every request."""

    def __init__(self, statuses: list[int] | None = None, body: bytes = b"ok") -> None:
        self.requests: list[ReceivedRequest] = []
        self._statuses = list(statuses or [200])
        self._body = body
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(self.command, self.path, dict(self.headers.items()), data)
                    )
                    n = len(receiver.requests)
                    status = receiver._statuses[min(n, len(receiver._statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(receiver._body)))
                self.end_headers()
                self.wfile.write(receiver._body)

            do_POST = _record  # noqa: N815 - http.server's naming
            do_GET = _record  # noqa: N815
            do_PUT = _record  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/alerts"

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> list[ReceivedRequest]:
        if not _wait(lambda: len(self.requests) >= n, timeout):
            raise AssertionError(f"expected {n} request(s), got {len(self.requests)}")
        return self.requests

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage = field(repr=False)

    def body_text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachments(self) -> dict[str, bytes]:
        return {
            p.get_filename(): p.get_payload(decode=True)
            for p in self.message.iter_attachments()
            if p.get_filename()
        }


class SmtpServer:
    """An aiosmtpd ``Controller`` on 127.0.0.1 (free port) that records every message."""

    def __init__(self, auth: dict[str, str] | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[ReceivedMail] = []
        self.host = "127.0.0.1"
        self.port = free_port()
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                data = envelope.original_content or envelope.content
                if isinstance(data, str):
                    data = data.encode("utf-8")
                msg = email.message_from_bytes(data, policy=email.policy.default)
                server.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), data, msg))
                return "250 Message accepted for delivery"

        kwargs: dict[str, Any] = {}
        if auth is not None:

            def authenticator(
                _server: Any, _session: Any, _env: Any, mechanism: str, data: Any
            ) -> AuthResult:
                ok = (
                    isinstance(data, LoginPassword)
                    and auth.get(data.login.decode()) == data.password.decode()
                )
                return AuthResult(success=ok, handled=False)

            kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
        self._controller = Controller(Handler(), hostname=self.host, port=self.port, **kwargs)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        if not _wait(lambda: len(self.messages) >= n, timeout):
            raise AssertionError(f"expected {n} message(s), got {len(self.messages)}")
        return self.messages

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
