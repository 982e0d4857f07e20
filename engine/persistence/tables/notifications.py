"""Notifications: a region's channels (SMTP, webhook) and the transactional outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base


class NotificationChannelRecord(Base):
    """A region's notification channel: an SMTP server or a signed webhook.

    `settings` holds what is not secret (host, port, TLS mode, sender, user name, the role
    addresses; the webhook's URL); `secret` is the SMTP password or the webhook's HMAC key:
    written by an admin, read by the worker, never shown, logged or audited.
    """

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    settings: Mapped[dict[str, Any]]
    secret: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[list[Any]]
    language: Mapped[str] = mapped_column(String(8), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxRecord(Base):
    """A notification to deliver (the transactional outbox): written in the transaction of
    the change that causes it, delivered by the worker, each delivery its own transaction.

    `id` is the message's stable identity: the e-mail's Message-ID and the webhook's event
    id header, the same on every attempt. `recipients` and `payload` may hold personal data
    (the applicant's address, the step's facts): never logged, never listed.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        # The worker's work list: pending rows by when they are next due.
        Index(
            "ix_notification_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_notification_outbox_region_status", "region_code", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id"))
    event: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(64))
    application_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recipients: Mapped[list[Any]]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
