"""The tamper-evident audit log: events chained by hash, each chain's head, and the
regions' Merkle roots over them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base, JsonType


class EventRecord(Base):
    """One audit event; `hash` chains it to the previous event of its region's chain."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_application", "application_id", "id"),
        UniqueConstraint("chain", "seq"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # Not indexed: no query reads events by region (migration 0022).
    region_code: Mapped[str | None] = mapped_column(String(16))
    application_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    # A region code, `*`, or an application's id (its own chain, since migration 0014).
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHeadRecord(Base):
    """The newest event of each audit chain; locking it orders a region's appends."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class AuditRootRecord(Base):
    """A region's audit root: a Merkle root over the chain heads that moved since the
    previous root, linked to it (engine/domain/audit_roots.py); sealed by the worker."""

    __tablename__ = "audit_roots"

    region_chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    prev_root: Mapped[str] = mapped_column(String(64))
    root: Mapped[str] = mapped_column(String(64))
    # How far the region's own chain (events of no application) is covered, as of this root.
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    # [[chain, seq, hash], ...] in chain order
    leaves: Mapped[list[Any]] = mapped_column(JsonType)
    sealed_at: Mapped[datetime]
