"""What citizens say about a service: complaints (pengaduan) and satisfaction surveys (SKM)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base


class ComplaintRecord(Base):
    """A citizen's complaint (pengaduan) about an application, filed by tracking code.

    The text and contact are personal: supervisors read them, the tracking page never does.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_region_status_due", "region_code", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    sla: Mapped[str] = mapped_column(String(32))
    filed_at: Mapped[datetime]
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[int | None] = mapped_column(Integer)


class SurveyRecord(Base):
    """One satisfaction survey (SKM): nine scores 1-4, at most one per application."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_region_key", "region_code", "process_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    process_key: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]]
    given_at: Mapped[datetime]
