"""Regions, their calendar overrides, their users and the users' bearer tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.persistence.tables.base import Base, JsonType


class RegionRecord(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    working_days: Mapped[list[Any]] = mapped_column(JsonType, default=lambda: [0, 1, 2, 3, 4])
    opens: Mapped[str] = mapped_column(String(5), default="07:30")
    closes: Mapped[str] = mapped_column(String(5), default="16:00")
    # [{"weekday": 0-6 (Monday=0), "opens": "HH:MM", "closes": "HH:MM"}] for the weekdays
    # whose office hours differ from opens-closes (e.g. Friday); None: every day the same.
    day_hours: Mapped[list[Any] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime]
    # Bumped by every change to the region's calendar overrides and to its notification
    # channels: processes cache a region's calendar and its channel routes under (code,
    # revision) and read only this number on the hot path.
    calendar_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Which roles hold the powers "acts-for-applicant" and "records-payments" (None: defaults).
    powers: Mapped[dict[str, Any] | None]
    # How long supervisors have to answer a complaint (working time; None: P5D).
    complaint_sla: Mapped[str | None] = mapped_column(String(32))


class CalendarOverrideRecord(Base):
    """A region's own change to its calendar; removing one keeps the row (audited)."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (Index("ix_calendar_overrides_region_day", "region_code", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    removed_by: Mapped[int | None] = mapped_column(Integer)
    removed_at: Mapped[datetime | None]


class UserRecord(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    roles: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class TokenRecord(Base):
    """A bearer token of a user (stored hashed); it expires, and an admin may revoke it."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(Integer)
