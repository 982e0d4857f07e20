"""The task rows one step reads: the step's own row, the rows it changed, its ready page.

A step never reads all of its application's task rows: a parallel step of 300 instances
would read 300 rows at each of its 300 completions (issue #16). Task data (the largest
column) is not loaded: a step only writes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, exists, func, select
from sqlalchemy.orm import defer, undefer

from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.statuses import StepStatus
from engine.persistence import sla_clauses
from engine.persistence.base import BaseRepository
from engine.persistence.tables import ApplicationRecord, FeeItemRecord, RegionRecord, TaskRecord


@dataclass(frozen=True, slots=True)
class ReadyPage:
    """The first ready rows of an application (in the inbox's order), and what holds for
    all of its ready rows."""

    rows: list[TaskRecord]
    count: int
    waits_on_applicant: bool  # a ready step belongs to an applicant role
    overdue: bool  # a ready step is overdue (`sla.step_overdue`)
    fee_items: bool  # the application has fee items


@dataclass(frozen=True, slots=True)
class LockedStep:
    """What a step reads first: its application and task row (locked), the region's
    calendar revision, whether the application has fee items."""

    application: ApplicationRecord
    calendar_revision: int
    task: TaskRecord
    fee_items: bool


class StepQueries(BaseRepository):
    def locked(self, task_id: uuid.UUID) -> LockedStep | None:
        """The task's application and its row, both locked until commit, its region's
        calendar revision, and whether the application has fee items: one statement.

        Both rows are locked (the application's first: every use case takes it before any
        of its task rows), so a step that waited for a concurrent one reads the row as that
        one left it: PostgreSQL re-reads only the rows it locks after a wait.
        """
        row = self.session.execute(_LOCKED, {"task_id": task_id}).first()
        if row is None:
            return None
        return LockedStep(row[0], int(row[1]), row[2], bool(row[3]))

    def locked_application(self, application_id: uuid.UUID) -> ApplicationRecord | None:
        """The application, its row locked until commit, without its workflow state: for a
        use case that changes the row but never runs the workflow (a claim, a payment, an
        external task's lock), which carries the live one instead (`live_steps`). Read
        again even when the session holds it (it may have changed while this one waited)."""
        return self.session.scalars(_APPLICATION_LOCKED, {"id": application_id}).first()

    def application_as_saved(self, application_id: uuid.UUID) -> ApplicationRecord | None:
        """The application with its workflow state, not locked: its `row_version` and
        `state` from one read, so they are the row as one commit left it (a deferred
        state loaded later may be a later commit's)."""
        return self.session.scalars(_APPLICATION_AS_SAVED, {"id": application_id}).first()

    def rows(self, ids: Collection[uuid.UUID]) -> Sequence[TaskRecord]:
        """The rows of these tasks that exist."""
        return self.session.scalars(_ROWS, {"ids": list(ids)}).all()

    def ready_page(self, application_id: uuid.UUID, now: datetime, limit: int) -> ReadyPage:
        """One statement: the first `limit` ready rows, their count and flags over all."""
        found = self.session.execute(
            _READY_PAGE, {"application_id": application_id, "now": now, "limit": limit}
        ).all()
        if not found:
            fee_items = self.session.scalar(_FEE_ITEMS, {"application_id": application_id})
            return ReadyPage([], 0, False, False, bool(fee_items))
        first = found[0]
        return ReadyPage(
            [r[0] for r in found], int(first.total), bool(first.applicant), bool(first.overdue),
            bool(first.fee_items),
        )


_FEE_ITEMS_OF_TASK = (
    exists().where(FeeItemRecord.application_id == TaskRecord.application_id).label("fee_items")
)
# The workflow state stays out (often 10+ KB of JSON): a step whose live workflow is cached
# never reads it (engine/workflow/live_cache.py); one that misses loads it when it reads it.
_LOCKED = (
    select(ApplicationRecord, RegionRecord.calendar_revision, TaskRecord, _FEE_ITEMS_OF_TASK)
    .options(defer(ApplicationRecord.state), defer(TaskRecord.data))
    .join(TaskRecord, TaskRecord.application_id == ApplicationRecord.id)
    .join(RegionRecord, RegionRecord.code == ApplicationRecord.region_code)
    .where(TaskRecord.id == bindparam("task_id"))
    .with_for_update(of=[ApplicationRecord, TaskRecord])
)
_APPLICATION_LOCKED = (
    select(ApplicationRecord)
    .options(defer(ApplicationRecord.state))
    .where(ApplicationRecord.id == bindparam("id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_APPLICATION_AS_SAVED = (
    select(ApplicationRecord)
    .options(undefer(ApplicationRecord.state))
    .where(ApplicationRecord.id == bindparam("id"))
    .execution_options(populate_existing=True)
)
_FEE_ITEMS = select(
    exists().where(FeeItemRecord.application_id == bindparam("application_id"))
)
_ROWS = (
    select(TaskRecord)
    .options(defer(TaskRecord.data))
    .where(TaskRecord.id.in_(bindparam("ids", expanding=True)))
)


# Window aggregates are computed before the LIMIT: over every ready row of the application.
_READY_PAGE = (
    select(
        TaskRecord,
        func.count().over().label("total"),
        func.max(case((TaskRecord.role.in_(sorted(APPLICANT_ROLES)), 1), else_=0))
        .over()
        .label("applicant"),
        func.max(case((sla_clauses.step_overdue(bindparam("now")), 1), else_=0))
        .over()
        .label("overdue"),
        exists()
        .where(FeeItemRecord.application_id == TaskRecord.application_id)
        .label("fee_items"),
    )
    .options(defer(TaskRecord.data))
    .where(
        TaskRecord.application_id == bindparam("application_id"),
        TaskRecord.state == StepStatus.READY,
    )
    .order_by(TaskRecord.ready_at, TaskRecord.element_id)
    .limit(bindparam("limit"))
)
