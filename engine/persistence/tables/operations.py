"""Operational rows: worker heartbeats (readiness) and idempotency keys of POSTs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base


class WorkerHeartbeatRecord(Base):
    """A worker's last pass: `GET /readyz` checks that some worker passed recently."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    beat_at: Mapped[datetime]
    pass_ms: Mapped[int] = mapped_column(Integer)


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an `Idempotency-Key`, per caller, for 24 h.

    Inserted in the same transaction as the change it guards (so a retry racing the first
    request collides on the key and writes nothing); the answer is filled in right after.
    """

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)  # the caller
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
