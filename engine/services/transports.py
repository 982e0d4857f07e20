"""Sending one notification: an e-mail over SMTP, or a signed webhook POST.

Each function sends or raises `SendError`, whose text names the failure without personal
data (no address, no body): it goes to the outbox row's `last_error` and the log.
Credentials are used here and nowhere else; they are never logged.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from engine.domain.notifications import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TlsMode,
    webhook_signature,
)


class SendError(Exception):
    """A delivery failed; the text is safe to store and log (no personal data)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One notification to send: its stable id, event, recipients and texts."""

    id: str
    event: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    language: str
    document: dict[str, Any]  # the webhook's JSON body


def send_email(settings: dict[str, Any], secret: str | None, message: Message,
               timeout: float) -> None:
    """Send `message` through the channel's SMTP server.

    The Message-ID is the outbox row's id, the same on every attempt, so a receiver (or a
    mail client) sees a resend after a worker died mid-delivery as the same message.
    Raises: SendError.
    """
    host, port = str(settings["host"]), int(settings["port"])
    mode = TlsMode(settings.get("tls", TlsMode.STARTTLS))
    email = EmailMessage()
    email["From"] = settings["sender"]
    email["To"] = ", ".join(message.recipients)
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = f"<{message.id}@permitflow>"
    email[EVENT_ID_HEADER] = message.id
    email[EVENT_TYPE_HEADER] = message.event
    email.set_content(message.body)
    email["Content-Language"] = message.language  # after set_content, which clears Content-*
    try:
        context = tls_context()
        if mode == TlsMode.TLS:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if mode == TlsMode.STARTTLS:
                client.starttls(context=context)
            if settings.get("username"):
                client.login(str(settings["username"]), secret or "")
            client.send_message(email)
    except smtplib.SMTPRecipientsRefused:
        raise SendError("SMTP: every recipient was refused") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.smtp_code} ({type(exc).__name__})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"SMTP: {type(exc).__name__}: {_safe(exc)}") from None


def tls_context() -> ssl.SSLContext:
    """The TLS settings of SMTP connections: the system's CAs, the host name checked."""
    return ssl.create_default_context()


def post_webhook(settings: dict[str, Any], secret: str | None, message: Message,
                 timeout: float) -> None:
    """POST the event as JSON, signed: HMAC-SHA256 over `timestamp.body` with the channel's
    secret, in headers with the event id and type. Any 2xx answer is a delivery.

    Raises: SendError.
    """
    body = json.dumps(message.document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "permitflow-notifier",
        EVENT_ID_HEADER: message.id,
        EVENT_TYPE_HEADER: message.event,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret or "", timestamp, body),
    }
    url = str(settings["url"])
    if not url.startswith(("http://", "https://")):  # checked when the channel is saved
        raise SendError("webhook: the URL is not http(s)")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - as above
            status = answer.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"webhook: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise SendError(f"webhook: {type(reason).__name__}: {_safe(reason)}") from None
    if not 200 <= status < 300:
        raise SendError(f"webhook: HTTP {status}")


def _safe(exc: object) -> str:
    """An exception's text, short (socket and TLS errors name hosts and errno, not people)."""
    return str(exc)[:200]
