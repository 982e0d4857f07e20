"""Notifications as plain values: the events, who hears them, the routing, back-off, signing.

An event that matters to a citizen or an officer is queued on the unit of work as a
`PendingNotification`; at commit it becomes one outbox row per channel of the region that
takes it (`route`), in the same transaction as the change that caused it. The worker
delivers the rows; the texts are in `notification_texts`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any


class NotificationEvent(StrEnum):
    """The events a region's channels can take (all of them unless a channel names some)."""

    APPLICATION_RECEIVED = "application.received"
    STEP_READY = "step.ready"
    DOCUMENTS_REQUESTED = "documents.requested"
    PAYMENT_BILLED = "payment.billed"
    DECISION = "decision"
    COMPLAINT_ANSWERED = "complaint.answered"
    STEP_OVERDUE = "step.overdue"


class Audience(StrEnum):
    """Who an event is for: the applicant, the complainant, or the officers of a role."""

    APPLICANT = "applicant"
    COMPLAINANT = "complainant"
    ROLE = "role"


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # a dead letter: every attempt failed; an admin may re-queue it


class TlsMode(StrEnum):
    """How an e-mail channel talks to its SMTP server."""

    NONE = "none"  # plain SMTP (a relay on the same host or network)
    STARTTLS = "starttls"
    TLS = "tls"  # implicit TLS (SMTPS, usually port 465)


LANGUAGES = ("id", "en")


@dataclass(frozen=True, slots=True)
class PendingNotification:
    """One event to notify, queued in the transaction that causes it.

    `contact`: the applicant's or complainant's e-mail and phone where they gave one
    (personal data: it goes to the outbox row and the receiver, never to a log).
    """

    region_code: str
    event: NotificationEvent
    audience: Audience
    application_id: Any  # uuid.UUID | None (kept plain: the domain imports no persistence)
    facts: dict[str, Any]
    role: str | None = None
    contact: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelRoute:
    """What routing needs of a channel (no secret): cached per process under the region's
    settings revision, so a step in a region without channels reads nothing more."""

    id: int
    kind: ChannelKind
    events: frozenset[str]
    language: str
    role_addresses: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row to write: a notification for one channel and its recipients."""

    channel_id: int
    recipients: tuple[str, ...]


def route(note: PendingNotification, channels: tuple[ChannelRoute, ...]) -> list[Delivery]:
    """The deliveries of `note`: one per channel that takes its event and can reach someone.

    E-mail reaches the applicant or complainant at the address they gave, and officers at
    the addresses the channel lists for the step's role; a webhook always gets the event (it
    carries the contact, or the role, for the gateway to route).
    """
    deliveries = []
    for channel in channels:
        if note.event not in channel.events:
            continue
        if channel.kind == ChannelKind.WEBHOOK:
            deliveries.append(Delivery(channel.id, ()))
            continue
        recipients: tuple[str, ...]
        if note.audience == Audience.ROLE:
            recipients = channel.role_addresses.get(note.role or "", ())
        else:
            email = note.contact.get("email")
            recipients = (email,) if email else ()
        if recipients:
            deliveries.append(Delivery(channel.id, recipients))
    return deliveries


def contact_of(applicant: dict[str, Any] | None) -> dict[str, str]:
    """The e-mail and phone an applicant gave (top level or under `applicant`), if any."""
    if not isinstance(applicant, dict):
        return {}
    nested = applicant.get("applicant")
    source = nested if isinstance(nested, dict) else applicant
    found = {k: source.get(k) for k in ("email", "phone")}
    return {k: v.strip() for k, v in found.items() if isinstance(v, str) and v.strip()}


def complaint_contact(contact: str | None) -> dict[str, str]:
    """A complaint's free-text contact: an e-mail address when it looks like one, else a
    phone number."""
    text = (contact or "").strip()
    if not text:
        return {}
    return {"email": text} if "@" in text else {"phone": text}


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How the worker delivers: attempts before a dead letter, back-off, lease, timeout."""

    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=60)
    max_backoff: timedelta = timedelta(hours=6)
    lease: timedelta = timedelta(seconds=120)
    timeout: float = 10.0  # seconds for one SMTP or HTTP exchange
    batch: int = 100  # rows per pass at most
    retention: timedelta | None = timedelta(days=90)  # delivered rows kept; None: for ever


def next_delay(attempts: int, settings: DeliverySettings) -> timedelta:
    """Exponential back-off after `attempts` failed attempts: base, 2 * base, 4 * base, ...
    up to `max_backoff`."""
    factor: int = 2 ** max(0, min(attempts - 1, 30))
    delay: timedelta = settings.backoff * factor
    return min(delay, settings.max_backoff)


SIGNATURE_HEADER = "X-Permitflow-Signature"
EVENT_ID_HEADER = "X-Permitflow-Event-Id"
EVENT_TYPE_HEADER = "X-Permitflow-Event-Type"
TIMESTAMP_HEADER = "X-Permitflow-Timestamp"


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + HMAC-SHA256, keyed by the channel's secret, over `timestamp.body`.

    A receiver recomputes it from the raw body and the timestamp header, compares it in
    constant time and refuses old timestamps (replays)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests do): recompute and compare in constant time."""
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), signature)
