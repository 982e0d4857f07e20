"""What a running application waits on besides its human steps, each indexed so the
worker or the API finds it without reading a workflow: BPMN timers, message
subscriptions (and the deliveries that answer a redelivery), external service tasks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base


class TimerRecord(Base):
    """A waiting BPMN timer with its due time, so the worker finds due timers by index."""

    __tablename__ = "timers"
    __table_args__ = (
        Index(
            "ix_timers_due",
            "due_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the timer task's id
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    element_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    fired_at: Mapped[datetime | None]


class MessageSubscriptionRecord(Base):
    """A task waiting for a message, so a message finds its catcher by index (issue #10)."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (
        Index(
            "ix_message_subscriptions_waiting",
            "region_code",
            "name",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the waiting task (SpiffWorkflow's id)
    name: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class MessageDeliveryRecord(Base):
    """A delivered message with the sender's `message_id`: a redelivery is answered from it."""

    __tablename__ = "message_deliveries"

    region_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    element_id: Mapped[str] = mapped_column(String(200))
    started: Mapped[bool] = mapped_column(Boolean)
    delivered_at: Mapped[datetime]


class ExternalTaskRecord(Base):
    """A service task waiting for an external worker, so fetch-and-lock is one indexed query."""

    __tablename__ = "external_tasks"
    __table_args__ = (
        Index(
            "ix_external_tasks_open",
            "region_code",
            "topic",
            "created_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the workflow task's id
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    element_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    worker_id: Mapped[str | None] = mapped_column(String(200))
    lock_expires_at: Mapped[datetime | None]
    retries: Mapped[int | None] = mapped_column(Integer)
    retry_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
