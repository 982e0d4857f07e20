"""Human steps: an application's tasks, the step's locked application, the inbox page
(one index range per role, merged) and the steps past due for the worker's breach pass."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, literal_column, select, union_all
from sqlalchemy.orm import aliased, defer

from engine.domain.statuses import StepStatus
from engine.persistence import breach_queries, sla_clauses
from engine.persistence.base import BaseRepository, bounded_count, capped_total, count_bound
from engine.persistence.tables import ApplicationRecord, TaskRecord

# Built once (constructing a statement costs more than the database takes to answer it).
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
