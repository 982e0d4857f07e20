"""Repositories: the queries the services need, one small class per aggregate.

Reads that serve listings touch indexed columns only; the workflow state column is
loaded only by the use cases that run the engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, literal_column, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, defer

from engine.domain.statuses import (
    OPEN_STATUSES,
    StepStatus,
    TimerStatus,
    VersionStatus,
)
from engine.persistence import breach_queries, sla_clauses
from engine.persistence.applicant_document_queries import ApplicantDocumentRepository
from engine.persistence.audit_queries import AuditRepository
from engine.persistence.base import BaseRepository, bounded_count, capped_total, count_bound
from engine.persistence.billing_queries import BillingRepository
from engine.persistence.calendar_queries import CalendarRepository
from engine.persistence.citizen_queries import CitizenQueries
from engine.persistence.document_queries import DocumentRepository
from engine.persistence.external_task_queries import ExternalTaskRepository
from engine.persistence.message_queries import MessageRepository
from engine.persistence.metrics_queries import MetricsQueries
from engine.persistence.ops_queries import EtagQueries, IdempotencyQueries, OpsQueries
from engine.persistence.outbox_queries import NotificationRepository
from engine.persistence.report_queries import ReportQueries
from engine.persistence.step_queries import StepQueries
from engine.persistence.tables import (
    ApplicationRecord,
    EventRecord,
    FeeItemRecord,
    ModelVersionRecord,
    PaymentRecord,
    ProcessModelRecord,
    ReceiptCounterRecord,
    RegionRecord,
    TaskRecord,
    TimerRecord,
    TokenRecord,
    UserRecord,
)
from engine.persistence.version_queries import VersionQueries


class RegionRepository(BaseRepository):
    def get(self, code: str) -> RegionRecord | None:
        return self.session.get(RegionRecord, code)

    def calendar_revision(self, code: str) -> int:
        """The region's calendar revision (0 for a region that does not exist)."""
        query = select(RegionRecord.calendar_revision).where(RegionRecord.code == code)
        return self.session.scalar(query) or 0

    def calendar_revisions(self, codes: Iterable[str]) -> dict[str, int]:
        """The calendar revision of each of `codes` that exists (one query for a page)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        query = select(RegionRecord.code, RegionRecord.calendar_revision).where(
            RegionRecord.code.in_(wanted)
        )
        return {code: revision for code, revision in self.session.execute(query)}

    def list(self) -> Sequence[RegionRecord]:
        return self.session.scalars(select(RegionRecord).order_by(RegionRecord.code)).all()


class UserRepository(BaseRepository):
    def by_token_hash(self, token_hash: str) -> tuple[UserRecord, TokenRecord] | None:
        """The user holding the token with this hash, and the token (valid or not)."""
        query = (
            select(UserRecord, TokenRecord)
            .join(TokenRecord, TokenRecord.user_id == UserRecord.id)
            .where(TokenRecord.token_hash == token_hash)
        )
        row = self.session.execute(query).first()
        return (row[0], row[1]) if row is not None else None

    def get(self, user_id: int) -> UserRecord | None:
        return self.session.get(UserRecord, user_id)

    def active_in_region(self, region_code: str) -> Sequence[UserRecord]:
        """The region's active users, by name (the web console's reassignment choices)."""
        query = (
            select(UserRecord)
            .where(UserRecord.region_code == region_code, UserRecord.active.is_(True))
            .order_by(UserRecord.name, UserRecord.id)
        )
        return self.session.scalars(query).all()

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """Display names of the users with these ids (unknown ids are left out)."""
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        query = select(UserRecord.id, UserRecord.name).where(UserRecord.id.in_(wanted))
        return {row.id: row.name for row in self.session.execute(query)}

    def add_token(self, token: TokenRecord) -> None:
        self.session.add(token)

    def token(self, token_id: int) -> TokenRecord | None:
        return self.session.get(TokenRecord, token_id)

    def listing(self, region_code: str | None) -> Sequence[UserRecord]:
        query = select(UserRecord).order_by(UserRecord.id)
        if region_code is not None:
            query = query.where(UserRecord.region_code == region_code)
        return self.session.scalars(query).all()

    def tokens_of(self, user_ids: Iterable[int]) -> Sequence[TokenRecord]:
        query = select(TokenRecord).where(TokenRecord.user_id.in_(list(user_ids)))
        return self.session.scalars(query.order_by(TokenRecord.id)).all()


class ModelRepository(BaseRepository):
    def get(
        self, region_code: str, key: str, *, for_update: bool = False
    ) -> ProcessModelRecord | None:
        query = select(ProcessModelRecord).where(
            ProcessModelRecord.region_code == region_code, ProcessModelRecord.key == key
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def roles_of_version(self, version_id: int) -> frozenset[str]:
        """The roles of a model version's steps."""
        query = select(ModelVersionRecord.steps).where(ModelVersionRecord.id == version_id)
        steps = self.session.scalars(query).first() or []
        return frozenset(str(step.get("role")) for step in steps)

    def step_roles(self, region_code: str) -> dict[int, frozenset[str]]:
        """The roles of the steps of every model version of a region, by version id."""
        query = select(ModelVersionRecord.id, ModelVersionRecord.steps).where(
            ModelVersionRecord.region_code == region_code
        )
        return {
            version_id: frozenset(str(step.get("role")) for step in steps or [])
            for version_id, steps in self.session.execute(query)
        }

    def list(self, region_code: str) -> Sequence[ProcessModelRecord]:
        query = (
            select(ProcessModelRecord)
            .where(ProcessModelRecord.region_code == region_code)
            .order_by(ProcessModelRecord.key)
        )
        return self.session.scalars(query).all()

    def version(
        self, model_id: int, version: int, *, with_blobs: bool = True
    ) -> ModelVersionRecord | None:
        query = select(ModelVersionRecord).where(
            ModelVersionRecord.model_id == model_id, ModelVersionRecord.version == version
        )
        if not with_blobs:
            query = query.options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
        return self.session.scalars(query).first()

    def version_by_id(self, version_id: int) -> ModelVersionRecord | None:
        """A version without its BPMN and spec loaded (read on access: a spec-cache miss)."""
        query = (
            select(ModelVersionRecord)
            .where(ModelVersionRecord.id == version_id)
            .options(
                defer(ModelVersionRecord.spec),
                defer(ModelVersionRecord.bpmn),
                defer(ModelVersionRecord.standard),
            )
        )
        return self.session.scalars(query).first()

    def versions(self, model_id: int) -> Sequence[ModelVersionRecord]:
        query = (
            select(ModelVersionRecord)
            .where(ModelVersionRecord.model_id == model_id)
            .options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
            .order_by(ModelVersionRecord.version)
        )
        return self.session.scalars(query).all()

    def newest_published(self, model_id: int) -> ModelVersionRecord | None:
        query = (
            select(ModelVersionRecord)
            .where(
                ModelVersionRecord.model_id == model_id,
                ModelVersionRecord.status == VersionStatus.PUBLISHED,
            )
            .order_by(ModelVersionRecord.version.desc())
            .limit(1)
            .options(defer(ModelVersionRecord.spec), defer(ModelVersionRecord.bpmn))
        )
        return self.session.scalars(query).first()


class ApplicationRepository(BaseRepository):
    def by_tracking_code(self, code: str) -> ApplicationRecord | None:
        return self.session.scalars(
            select(ApplicationRecord).where(ApplicationRecord.tracking_code == code)
        ).first()

    def breaching(self, now: datetime, limit: int) -> Sequence[ApplicationRecord]:
        """Up to `limit` open applications past due at `now` with no breach recorded yet,
        locked, skipping rows other workers hold."""
        return breach_queries.breaching(self.session, ApplicationRecord, OPEN_STATUSES, now, limit)

    def breach_left(self, now: datetime) -> bool:
        """Whether an open application past due at `now` is still unmarked, locked or not."""
        return breach_queries.breach_left(self.session, ApplicationRecord, OPEN_STATUSES, now)

    def get(
        self, application_id: uuid.UUID, *, for_update: bool = False
    ) -> ApplicationRecord | None:
        query = select(ApplicationRecord).where(ApplicationRecord.id == application_id)
        if for_update:
            # PostgreSQL serializes writers on the row; SQLite ignores it (one writer anyway).
            # Read the row again even when the session holds it: it may have changed while
            # this transaction waited for the lock.
            query = query.with_for_update().execution_options(populate_existing=True)
        else:
            query = query.options(defer(ApplicationRecord.state))
        return self.session.scalars(query).first()

    def listing(
        self,
        region_code: str | None,
        *,
        status: str | None = None,
        process_key: str | None = None,
        created_by: int | None = None,
        overdue_at: datetime | None = None,
        version_ids: Iterable[int] | None = None,
    ) -> Select[Any]:
        query = select(ApplicationRecord).options(defer(ApplicationRecord.state))
        if version_ids is not None:
            query = query.where(ApplicationRecord.model_version_id.in_(list(version_ids)))
        if region_code is not None:
            query = query.where(ApplicationRecord.region_code == region_code)
        if status:
            query = query.where(ApplicationRecord.status == status)
        if process_key:
            query = query.where(ApplicationRecord.process_key == process_key)
        if created_by is not None:
            query = query.where(ApplicationRecord.created_by == created_by)
        if overdue_at is not None:
            query = query.where(self._overdue(overdue_at))
        return query.order_by(ApplicationRecord.created_at.desc(), ApplicationRecord.id.desc())

    def _overdue(self, now: datetime) -> ColumnElement[bool]:
        """`application_overdue` for a listing: the overdue ids read first through their
        indexes, then listed by id; past `OVERDUE_IDS` of them, the clause itself."""
        ids = self.session.scalars(
            sla_clauses.overdue_application_ids(now).limit(OVERDUE_IDS + 1)
        ).all()
        if len(ids) > OVERDUE_IDS:
            return sla_clauses.application_overdue(now)
        return ApplicationRecord.status.in_(OPEN_STATUSES) & ApplicationRecord.id.in_(ids)


# An overdue listing reads up to this many overdue application ids through their indexes
# and lists those; with more, the database evaluates the clause row by row.
OVERDUE_IDS = 5000

# Built once: a step's answer reads it (issue #16); building the statement and its cache
# key on every call cost ~0.08 ms of its ~0.2 ms (A/B, SQLite).
_WITH_PAYMENTS = (
    select(FeeItemRecord, PaymentRecord)
    .outerjoin(PaymentRecord, PaymentRecord.fee_item_id == FeeItemRecord.id)
    .where(FeeItemRecord.application_id == bindparam("application_id"))
    .order_by(FeeItemRecord.created_at, FeeItemRecord.element_id)
)

# Every step runs these two: built once (constructing a statement costs more than the
# database takes to answer this one).
# The step's lock leaves the workflow state out (often 10+ KB of JSON): a step whose live
# workflow is cached never reads it (engine/workflow/live_cache.py); one that misses loads
# it with one more SELECT when it first reads `state`.
_APPLICATION_LOCKED = (
    select(ApplicationRecord, RegionRecord.calendar_revision)
    .options(defer(ApplicationRecord.state))
    .join(TaskRecord, TaskRecord.application_id == ApplicationRecord.id)
    .join(RegionRecord, RegionRecord.code == ApplicationRecord.region_code)
    .where(TaskRecord.id == bindparam("task_id"))
    .with_for_update(of=ApplicationRecord)
)
_TASKS_OF = (
    select(TaskRecord)
    .options(defer(TaskRecord.data))
    .where(TaskRecord.application_id == bindparam("application_id"))
    .order_by(TaskRecord.ready_at, TaskRecord.element_id)
)


class TaskRepository(BaseRepository):
    def breaching(self, now: datetime, limit: int) -> Sequence[TaskRecord]:
        """Up to `limit` ready steps past due at `now` with no breach recorded yet, locked,
        skipping rows other workers hold."""
        return breach_queries.breaching(self.session, TaskRecord, (StepStatus.READY,), now, limit)

    def breach_left(self, now: datetime) -> bool:
        """Whether a ready step past due at `now` is still unmarked, locked or not."""
        return breach_queries.breach_left(self.session, TaskRecord, (StepStatus.READY,), now)

    def mark_breached(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        """Record a breach at `now` on the steps `ids` (locked by `breaching`): one
        statement for the batch, not one per step; the loaded records are left as read."""
        breach_queries.mark_breached(self.session, ids, now)

    def get(self, task_id: uuid.UUID) -> TaskRecord | None:
        return self.session.get(TaskRecord, task_id)

    def application_locked(self, task_id: uuid.UUID) -> tuple[ApplicationRecord, int] | None:
        """The task's application, its row locked until commit, and its region's calendar
        revision (one statement)."""
        row = self.session.execute(_APPLICATION_LOCKED, {"task_id": task_id}).first()
        return (row[0], row[1]) if row is not None else None

    def for_application(self, application_id: uuid.UUID) -> Sequence[TaskRecord]:
        return self.session.scalars(_TASKS_OF, {"application_id": application_id}).all()

    def completed_with_data(self, application_id: uuid.UUID) -> Sequence[TaskRecord]:
        """The application's completed tasks with the data entered at each, in order."""
        query = (
            select(TaskRecord)
            .where(
                TaskRecord.application_id == application_id,
                TaskRecord.state == StepStatus.COMPLETED,
            )
            .order_by(TaskRecord.completed_at, TaskRecord.element_id)
        )
        return self.session.scalars(query).all()

    def for_applications(self, ids: Iterable[uuid.UUID]) -> Sequence[TaskRecord]:
        query = (
            select(TaskRecord)
            .where(TaskRecord.application_id.in_(list(ids)), TaskRecord.state == StepStatus.READY)
            .order_by(TaskRecord.ready_at)
        )
        return self.session.scalars(query).all()

    def inbox_page(
        self,
        region_code: str | None,
        roles: Iterable[str] | None,
        *,
        limit: int,
        offset: int,
        claimed_by: int | None = None,
        owner: int | None = None,
        overdue_at: datetime | None = None,
        process_key: str | None = None,
        unclaimed: bool = False,
    ) -> tuple[list[TaskRecord], int, bool]:
        """Ready tasks, soonest due first (then oldest), how many there are, and whether
        that number is capped (counted up to `count_bound` only: see `COUNT_CAP`).

        With several roles, each role's tasks come from their own index range and the
        ranges are merged (UNION ALL of per-role LIMITs): the database never sorts all of a
        large inbox to return one page. `owner` keeps an applicant to their own applications.
        """
        shape = _InboxShape(
            None if roles is None else tuple(sorted(roles)),
            region_code is not None,
            claimed_by is not None,
            owner is not None,
            overdue_at is not None,
            process_key is not None,
            unclaimed,
        )
        page, count = _inbox_statements(shape)
        bound = count_bound(limit, offset)
        params = {
            "region": region_code,
            "claimed_by": claimed_by,
            "owner": owner,
            "overdue_at": overdue_at,
            "process_key": process_key,
            "lim": limit,
            "off": offset,
            "upto": limit + offset,
            "cap": bound + 1,
        }
        total, capped = capped_total(self.session.scalar(count, params), bound)
        return list(self.session.scalars(page, params).all()), total, capped


@dataclass(frozen=True)
class _InboxShape:
    roles: tuple[str, ...] | None
    region: bool
    claimed: bool
    owned: bool
    overdue: bool
    process: bool = False
    unclaimed: bool = False


@lru_cache(maxsize=128)
def _inbox_statements(shape: _InboxShape) -> tuple[Select[Any], Select[Any]]:
    """(page, count) statements of one inbox shape, values left as bound parameters.

    Built once per shape: constructing the per-role union costs SQLAlchemy more than the
    database takes to run it.
    """
    filters: list[Any] = [TaskRecord.state == StepStatus.READY]
    if shape.overdue:
        filters.append(sla_clauses.step_overdue(bindparam("overdue_at")))
    if shape.region:
        filters.append(TaskRecord.region_code == bindparam("region"))
    if shape.claimed:
        filters.append(TaskRecord.claimed_by == bindparam("claimed_by"))
    if shape.unclaimed:
        filters.append(TaskRecord.claimed_by.is_(None))
    if shape.process:
        filters.append(TaskRecord.process_key == bindparam("process_key"))
    if shape.owned:
        own = select(ApplicationRecord.id).where(ApplicationRecord.created_by == bindparam("owner"))
        filters.append(TaskRecord.application_id.in_(own))
    roles = shape.roles
    chosen = filters if roles is None else [*filters, TaskRecord.role.in_(roles)]
    base = select(TaskRecord).where(*filters)
    counted = select(TaskRecord).where(*chosen)
    # Bounded, and of no column: an index-only scan of at most `:cap` entries.
    count = bounded_count(select(literal_column("1")).select_from(TaskRecord).where(*chosen))
    if roles is None or len(roles) < 2:
        page = counted.order_by(*_inbox_order(TaskRecord))
    else:
        branches = [
            select(
                base.where(TaskRecord.role == role)
                .order_by(*_inbox_order(TaskRecord))
                .limit(bindparam("upto"))
                .subquery()
            )
            for role in roles
        ]
        merged = aliased(TaskRecord, union_all(*branches).subquery())
        page = select(merged).order_by(*_inbox_order(merged))
    return page.limit(bindparam("lim")).offset(bindparam("off")), count


def _inbox_order(task: Any) -> tuple[Any, ...]:
    return (task.due_at.asc().nulls_last(), task.ready_at, task.id)


class FeeRepository(BaseRepository):
    def next_receipt_no(self, region_code: str, year: int) -> int:
        """The next number of the region's yearly receipt sequence (no gaps: the counter
        row is locked until the transaction ends; the first of a year is created safely
        when two transactions race for it)."""
        query = (
            select(ReceiptCounterRecord)
            .where(
                ReceiptCounterRecord.region_code == region_code, ReceiptCounterRecord.year == year
            )
            .with_for_update()
        )
        counter = self.session.scalars(query).first()
        if counter is None:
            try:
                with self.session.begin_nested():
                    self.session.add(
                        ReceiptCounterRecord(region_code=region_code, year=year, last_no=0)
                    )
            except IntegrityError:
                pass
            counter = self.session.scalars(query.execution_options(populate_existing=True)).one()
        counter.last_no += 1
        return counter.last_no

    def for_task(self, task_id: uuid.UUID) -> FeeItemRecord | None:
        return self.session.scalars(
            select(FeeItemRecord).where(FeeItemRecord.task_id == task_id)
        ).first()

    def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> FeeItemRecord | None:
        query = select(FeeItemRecord).where(FeeItemRecord.id == item_id)
        return self.session.scalars(query.with_for_update() if for_update else query).first()

    def for_application(self, application_id: uuid.UUID) -> Sequence[FeeItemRecord]:
        query = (
            select(FeeItemRecord)
            .where(FeeItemRecord.application_id == application_id)
            .order_by(FeeItemRecord.created_at, FeeItemRecord.element_id)
        )
        return self.session.scalars(query).all()

    def with_payments(
        self, application_id: uuid.UUID
    ) -> list[tuple[FeeItemRecord, PaymentRecord | None]]:
        """The application's fee items, each with its payment if paid (one statement)."""
        found = self.session.execute(_WITH_PAYMENTS, {"application_id": application_id})
        return [(item, payment) for item, payment in found]

    def payment_by_reference(self, reference: str) -> PaymentRecord | None:
        return self.session.scalars(
            select(PaymentRecord).where(PaymentRecord.reference == reference)
        ).first()


class EventRepository(BaseRepository):
    def for_application(self, application_id: uuid.UUID) -> Sequence[EventRecord]:
        query = (
            select(EventRecord)
            .where(EventRecord.application_id == application_id)
            .order_by(EventRecord.id)
        )
        return self.session.scalars(query).all()


class TimerRepository(BaseRepository):
    def get(self, timer_id: uuid.UUID) -> TimerRecord | None:
        return self.session.get(TimerRecord, timer_id)

    def waiting_for(self, application_id: uuid.UUID) -> Sequence[TimerRecord]:
        """The application's timers that have not fired or been cancelled."""
        return self.session.scalars(
            select(TimerRecord).where(
                TimerRecord.application_id == application_id,
                TimerRecord.status == TimerStatus.WAITING,
            )
        ).all()

    def next_due(self, now: datetime, passed: Iterable[uuid.UUID] = ()) -> TimerRecord | None:
        """The earliest timer due at `now`, locked (skipping rows other workers hold), of an
        application not stopped by an error, and not among `passed`."""
        query = select(TimerRecord).where(sla_clauses.timer_due(now))
        skipped = list(passed)
        if skipped:
            query = query.where(TimerRecord.id.not_in(skipped))
        query = query.order_by(TimerRecord.due_at).limit(1).with_for_update(skip_locked=True)
        return self.session.scalars(query).first()


class Repositories:
    """All repositories over one session."""

    def __init__(self, session: Session) -> None:
        self.regions = RegionRepository(session)
        self.users = UserRepository(session)
        self.models = ModelRepository(session)
        self.applications = ApplicationRepository(session)
        self.tasks = TaskRepository(session)
        self.steps = StepQueries(session)
        self.events = EventRepository(session)
        self.fees = FeeRepository(session)
        self.billing = BillingRepository(session)
        self.documents = DocumentRepository(session)
        self.timers = TimerRepository(session)
        self.messages = MessageRepository(session)
        self.external_tasks = ExternalTaskRepository(session)
        self.notifications = NotificationRepository(session)
        self.audit = AuditRepository(session)
        self.calendars = CalendarRepository(session)
        self.reports = ReportQueries(session)
        self.versions = VersionQueries(session)
        self.citizen = CitizenQueries(session)
        self.applicant_documents = ApplicantDocumentRepository(session)
        self.ops = OpsQueries(session)
        self.metrics = MetricsQueries(session)
        self.idempotency = IdempotencyQueries(session)
        self.etags = EtagQueries(session)
