"""SQLAlchemy 2.0 records: the indexed tables every listing reads.

Workflow state is a JSON document on the application row; everything a listing,
inbox or report needs (tasks, their roles and due times, fees, events) has its own
indexed row, so no listing ever deserializes a workflow (DESIGN §8). Every table that
holds a region's data carries `region_code`: the natural shard key (DESIGN §7).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from engine.domain.audit_chain import GENESIS
from engine.domain.statuses import VersionStatus
from engine.persistence.state_column import StateJson

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        # Normalize: SQLite keeps no offset, so 10:00+07:00 must be stored as 03:00 UTC.
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base with shared type mapping."""

    type_annotation_map = {
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
        datetime: UtcDateTime(),
    }


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
    # Plain `json` on PostgreSQL, lz4-compressed (migration 0020): the engine writes and
    # reads the whole document and never queries inside it, and JSONB's binary form cost
    # 0.2-0.6 ms per write and 0.1 ms per read of a 13-130 KB state. `json` has no
    # equality operator: no DISTINCT, UNION or comparison may take this column.
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
    region_code: Mapped[str | None] = mapped_column(String(16), index=True)
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
class SigningKeyRecord(Base):
    """The public half of a region's Ed25519 document-signing key (issue #14 item 3).

    The private half is a file in the key directory (`engine/documents/_keys.py`), never
    here. A rotated key gets `retired_at` and stays: documents it signed still verify.
    """

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(Integer)
    retired_at: Mapped[datetime | None]


class IssuedDocumentRecord(Base):
    """A permit or letter issued at an end event: its number, the exact PDF, its signature.

    `pdf` is the bytes issued (the applicant and officers download these); `sha256` is their
    hash, signed with `key_id` as `document_templates.signed_statement` (number, hash, type,
    holder, dates).
    """

    __tablename__ = "issued_documents"
    __table_args__ = (Index("ix_issued_documents_sha256", "sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(16))
    title_id: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    holder_name: Mapped[str] = mapped_column(String(300))
    facts: Mapped[list[Any]]
    issued_at: Mapped[datetime]
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(128))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    revoked_reason: Mapped[str | None] = mapped_column(Text)




class ApplicationDocumentRecord(Base):
    """A document an applicant (or the counter for them) uploaded for one requirement of the
    service standard (issue #14 item 4). The bytes are in the blob store under `sha256`; a
    re-upload supersedes the row, never replaces it; an officer may mark it rejected with a
    reason; a row is deleted (`deleted_at`, the bytes dropped) only once the service's
    archive rule no longer keeps it."""

    __tablename__ = "application_documents"
    __table_args__ = (
        Index("ix_application_documents_application", "application_id", "requirement"),
        Index("ix_application_documents_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("applications.id"))
    region_code: Mapped[str] = mapped_column(String(16))
    requirement: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(32))
    # The sender's file name, for display only (base name, no control characters).
    filename: Mapped[str] = mapped_column(String(200))
    store: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime]
    reviewed_by: Mapped[str | None] = mapped_column(String(300))
    reviewed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
