"""SQLAlchemy 2.0 records: the indexed tables every listing reads.

Workflow state is a JSON document on the application row; everything a listing,
inbox or report needs (tasks, their roles and due times, fees, events) has its own
indexed row, so no listing ever deserializes a workflow (DESIGN §8). Every table that
holds a region's data carries `region_code`: the natural shard key (DESIGN §7).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base with shared type mapping."""

    type_annotation_map = {  # noqa: RUF012
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
        datetime: UtcDateTime(),
    }


class RegionRecord(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    roles: Mapped[list[Any]]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ProcessModelRecord(Base):
    __tablename__ = "process_models"
    __table_args__ = (UniqueConstraint("region_code", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class ModelVersionRecord(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("process_models.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="published")
    process_sla: Mapped[str | None] = mapped_column(String(32))
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    bpmn_sha256: Mapped[str] = mapped_column(String(64))
    forms: Mapped[dict[str, Any]]
    standard: Mapped[dict[str, Any] | None]
    steps: Mapped[list[Any]]
    timers: Mapped[list[Any]]
    spec: Mapped[dict[str, Any]]
    lineage: Mapped[dict[str, Any] | None]
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ApplicationRecord(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_region_status", "region_code", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True)
    applicant: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]
    error: Mapped[dict[str, Any] | None]
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # Optimistic concurrency: every UPDATE checks and bumps this, so a write based
    # on a stale read fails instead of silently overwriting a newer state.
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


class TaskRecord(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "region_code", "state", "role", "ready_at"),
        Index("ix_tasks_claimed", "region_code", "state", "claimed_by"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(16))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[int | None] = mapped_column(Integer)
    claimed_at: Mapped[datetime | None]
    ready_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[int | None] = mapped_column(Integer)
    form: Mapped[str | None] = mapped_column(String(200))
    sla: Mapped[str | None] = mapped_column(String(32))
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    data: Mapped[dict[str, Any] | None]


class EventRecord(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    region_code: Mapped[str | None] = mapped_column(String(16), index=True)
    application_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
