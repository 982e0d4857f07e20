"""Money: the fees steps charge, their payments and receipt numbers, the yearly number
series (billing codes, issued documents), bank channels and what they notified."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.persistence.tables.applications import TaskRecord
from engine.persistence.tables.base import Base


class FeeItemRecord(Base):
    """A fee a step charges, opened when the step becomes ready; never deleted."""

    __tablename__ = "fee_items"
    __table_args__ = (Index("ix_fee_items_application", "application_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id"), unique=True)
    region_code: Mapped[str] = mapped_column(String(16))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    receipt_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    cancelled_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    # A formula fee: the published formula, its version and hash, and the inputs it was
    # computed from when the item opened (the amount above is that result, frozen).
    formula: Mapped[str | None] = mapped_column(String(64))
    formula_version: Mapped[str | None] = mapped_column(String(64))
    formula_sha256: Mapped[str | None] = mapped_column(String(64))
    formula_inputs: Mapped[dict[str, Any] | None]
    # The SKRD / billing code a bank channel is paid against (region/year sequence).
    billing_code: Mapped[str | None] = mapped_column(String(64), unique=True)

    # Flush ordering only (see TaskRecord.application): the task row is inserted first.
    task: Mapped[TaskRecord] = relationship(lazy="raise")


class PaymentRecord(Base):
    """A payment of exactly one fee item's amount, with a reference unique everywhere."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fee_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fee_items.id"), unique=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    receipt_no: Mapped[str] = mapped_column(String(64), unique=True)
    paid_at: Mapped[datetime]
    recorded_by: Mapped[int | None] = mapped_column(Integer)


class ReceiptCounterRecord(Base):
    """The last receipt number of a region and year (a region-scoped sequence)."""

    __tablename__ = "receipt_counters"

    region_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)


class NumberSequenceRecord(Base):
    """The last number of a region's yearly series (SKRD billing codes, issued documents)."""

    __tablename__ = "number_sequences"

    region_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)


class PaymentChannelRecord(Base):
    """A bank virtual-account or QRIS channel of a region, with its shared HMAC secret.

    The secret is kept as given (HMAC verification needs the key itself); only its
    fingerprint is ever shown. Database access therefore equals the power to sign.
    """

    __tablename__ = "payment_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    secret: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class PaymentNotificationRecord(Base):
    """Every notification a channel sent: accepted, repeated or refused, with why."""

    __tablename__ = "payment_notifications"
    __table_args__ = (Index("ix_payment_notifications_region_at", "region_code", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(128))
    billing_code: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    receipt_no: Mapped[str | None] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
