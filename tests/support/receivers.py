"""Loopback receivers for notification tests: an SMTP server (aiosmtpd) and a webhook
receiver (http.server in a thread) that record what they got, by message id."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.domain.notifications import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_webhook_signature,
)


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({
                "message_id": parsed["Message-ID"],
                "event_id": parsed[EVENT_ID_HEADER],
                "event": parsed[EVENT_TYPE_HEADER],
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(parsed["Subject"]),
                "language": parsed["Content-Language"],
                "body": parsed.get_content(),
            })
        return "250 OK"

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(m["event_id"] for m in self.messages)


@contextmanager
def smtp_server(
    tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None
) -> Iterator[tuple[Mailbox, int]]:
    """A local SMTP server on a free port: (mailbox, port). With `tls` it requires STARTTLS;
    with `login` it requires AUTH with that user name and password (over TLS)."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's start-up check connects to the given port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra: dict[str, Any] = {}
    if tls is not None:
        extra.update(tls_context=tls, require_starttls=True)
    if login is not None:
        user, password = login

        def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                  and auth_data.password == password.encode())
            return AuthResult(success=ok, handled=False)

        extra.update(authenticator=authenticator, auth_require_tls=True)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Hook:
    """What the webhook receiver got, and how it answers.

    `fail`: answer 500 to this many requests first. `hold_at`: the n-th request (1-based)
    is recorded, then held until `release` is set (a worker can be killed meanwhile).
    """

    secret: str
    fail: int = 0
    hold_at: int | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r["event_id"] for r in self.received if r["status"] == 200)


def _handler(hook: Hook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = verify_webhook_signature(
                hook.secret, self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER]
            )
            with hook.lock:
                n = len(hook.received) + 1
                status = 500 if n <= hook.fail else 200
                hook.received.append({
                    "event_id": self.headers[EVENT_ID_HEADER],
                    "event": self.headers[EVENT_TYPE_HEADER],
                    "signed": signed,
                    "document": json.loads(body),
                    "status": status,
                })
            if hook.hold_at == n:
                hook.holding.set()
                hook.release.wait(60)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver(hook: Hook) -> Iterator[str]:
    """A local webhook receiver; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        hook.release.set()
        server.shutdown()
        server.server_close()
