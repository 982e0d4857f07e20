"""Process models and their published versions (the BPMN, forms and compiled spec)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.domain.statuses import VersionStatus
from engine.persistence.tables.base import Base


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
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        Index("ix_model_versions_source", "source_region", "source_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("process_models.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.PUBLISHED.value)
    process_sla: Mapped[str | None] = mapped_column(String(32))
    # The process property deemedApproval (fiktif positif); issue #15 item 1.
    deemed_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    bpmn_sha256: Mapped[str] = mapped_column(String(64))
    forms: Mapped[dict[str, Any]]
    standard: Mapped[dict[str, Any] | None]
    steps: Mapped[list[Any]]
    timers: Mapped[list[Any]]
    # Issued documents (issue #14 item 3): [{element_id, template: {...}}], one per end
    # event with a `document` property; None for versions stored before.
    documents: Mapped[list[Any] | None]
    spec: Mapped[dict[str, Any]]
    lineage: Mapped[dict[str, Any] | None]
    # Where a replicated version came from, as columns so the catalog can count copies.
    source_region: Mapped[str | None] = mapped_column(String(16))
    source_key: Mapped[str | None] = mapped_column(String(64))
    source_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
