"""Applications (one running process each, its workflow state a JSON document) and
their human steps as indexed task rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.domain.audit_chain import GENESIS
from engine.persistence.state_column import StateJson
from engine.persistence.tables.base import Base


class ApplicationRecord(Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_region_status", "region_code", "status", "created_at"),
        Index("ix_applications_region_key", "region_code", "process_key", "created_at"),
        Index("ix_applications_finished", "region_code", "process_key", "completed_at"),
        # Listings, newest first (read backward): a region's, and every region's for an
        # admin; a page reads 50 index entries instead of sorting the region's backlog.
        Index("ix_applications_region_created", "region_code", "created_at", "id"),
        Index("ix_applications_created", "created_at", "id"),
        # The worker's work list: open applications past due and not yet marked.
        # The worker's audit-root list: applications whose chain grew since the last root.
        Index(
            "ix_applications_audit_pending",
            "region_code",
            postgresql_where=text("audit_pending"),
            sqlite_where=text("audit_pending"),
        ),
        # Overdue listings: open applications with a breach recorded (few).
        Index(
            "ix_applications_breached",
            "id",
            postgresql_where=text("status IN ('running', 'error') AND breached_at IS NOT NULL"),
            sqlite_where=text("status IN ('running', 'error') AND breached_at IS NOT NULL"),
        ),
        Index(
            "ix_applications_sla_due",
            "due_at",
            postgresql_where=text("status IN ('running', 'error') AND breached_at IS NULL"),
            sqlite_where=text("status IN ('running', 'error') AND breached_at IS NULL"),
        ),
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
    # `text` on PostgreSQL, lz4-compressed (migrations 0020, 0023): the engine writes and
    # reads the whole document through its JSON codec and never queries inside it; JSONB's
    # binary form cost 0.2-0.6 ms per write and 0.1 ms per read of a 13-130 KB state, and
    # `json`'s check of every write 0.04-0.25 ms. Query inside it as `state::json`.
    # StateJson: a state the runtime encoded once is written as that text.
    state: Mapped[dict[str, Any]] = mapped_column(StateJson)
    error: Mapped[dict[str, Any] | None]
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    # The process SLA clock (DESIGN §3): a budget of working minutes that runs while the
    # application waits on officers and pauses while it waits on the applicant.
    process_sla: Mapped[str | None] = mapped_column(String(32))
    sla_backstop: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_budget_minutes: Mapped[int] = mapped_column(Integer, default=0)
    sla_used_minutes: Mapped[int] = mapped_column(Integer, default=0)
    sla_running_since: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    # Working minutes from start to completion (office hours, the region's calendar),
    # fixed at completion: the catalog's cycle-time figures read this column.
    cycle_minutes: Mapped[int | None] = mapped_column(Integer)
    # How it ended: {element_id, name, kind} of the end event reached (kind: granted or
    # rejected), so a rejection is never shown as the same "Selesai" as an issued permit.
    outcome: Mapped[dict[str, Any] | None]
    # Deemed approval (fiktif positif, UU 30/2014 art. 53): when the process SLA passed
    # without a decision on a model that declares it; recorded once by the worker.
    deemed_granted_at: Mapped[datetime | None]
    deemed_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # The versions its call activities run (called key -> model version id), bound when it
    # started (issue #10); None when its model calls no other model.
    called_versions: Mapped[dict[str, Any] | None]
    # Optimistic concurrency: every UPDATE checks and bumps this, so a write based
    # on a stale read fails instead of silently overwriting a newer state.
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The head of the application's audit chain (engine/persistence/audit_log.py), written
    # with the step's own UPDATE; and how far the region's last audit root covers it.
    audit_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    audit_hash: Mapped[str] = mapped_column(String(64), default=GENESIS, server_default=GENESIS)
    audit_rooted_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # audit_seq > audit_rooted_seq, as a flag the planner has statistics for (migration 0018).
    audit_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __mapper_args__ = {"version_id_col": row_version}


class TaskRecord(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "region_code", "state", "role", "due_at", "ready_at", "id"),
        Index("ix_tasks_claimed", "region_code", "state", "claimed_by"),
        Index("ix_tasks_region_due", "region_code", "state", "due_at", "ready_at", "id"),
        # The admin's inbox (every region): ready tasks in the inbox's order, no sort.
        Index(
            "ix_tasks_ready_due",
            "due_at",
            "ready_at",
            "id",
            postgresql_where=text("state = 'ready'"),
            sqlite_where=text("state = 'ready'"),
        ),
        Index("ix_tasks_completed", "region_code", "completed_at"),
        # Overdue inboxes: "breach recorded OR past due" becomes two index ranges (this
        # one small) instead of a scan of every ready task.
        Index(
            "ix_tasks_ready_breached",
            "due_at",
            postgresql_where=text("state = 'ready' AND breached_at IS NOT NULL"),
            sqlite_where=text("state = 'ready' AND breached_at IS NOT NULL"),
        ),
        # The worker's work list: ready steps past due and not yet marked overdue.
        Index(
            "ix_tasks_sla_due",
            "due_at",
            postgresql_where=text("state = 'ready' AND breached_at IS NULL"),
            sqlite_where=text("state = 'ready' AND breached_at IS NULL"),
        ),
        # A step's answer (engine/persistence/step_queries.py `ready_page`): an application's
        # first ready rows in order, their count and whether any is an applicant's or late,
        # each read without the other ready rows (migration 0024).
        Index(
            "ix_tasks_ready_page",
            "application_id",
            "ready_at",
            "element_id",
            "id",
            postgresql_where=text("state = 'ready'"),
            sqlite_where=text("state = 'ready'"),
        ),
        # Its own WHERE (`role` is never NULL): a page read never goes through it, whatever
        # the planner's statistics (through it, PostgreSQL sorted every ready row).
        Index(
            "ix_tasks_ready_flags",
            "application_id",
            "breached_at",
            "due_at",
            "role",
            postgresql_where=text("state = 'ready' AND role IS NOT NULL"),
            sqlite_where=text("state = 'ready' AND role IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    process_key: Mapped[str] = mapped_column(String(64), default="")
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
    # For an instance of a multi-instance step over a collection: its element.
    input: Mapped[dict[str, Any] | None]
    clock_started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    # Working minutes from ready to done, fixed at completion (reports read this).
    work_minutes: Mapped[int | None] = mapped_column(Integer)

    # Never loaded (lazy="raise"): declared so one flush inserts an application before its
    # task rows, without a flush in between (the unit of work orders mappers only by these).
    application: Mapped[ApplicationRecord] = relationship(lazy="raise")
