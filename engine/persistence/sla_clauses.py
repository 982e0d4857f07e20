"""The SLA rules of `engine.domain.sla` as SQL clauses, for listings, inboxes and figures.

Each clause selects exactly the records the domain predicate of the same name calls true;
`tests/service/test_sla_rules.py` checks both against the same records on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, exists, or_, select, union

from engine.domain.sla import READY
from engine.domain.statuses import OPEN_STATUSES, ApplicationStatus, TimerStatus
from engine.persistence.tables import ApplicationRecord, TaskRecord, TimerRecord


def past_due(due_at: Any, now: Any) -> ColumnElement[bool]:
    """`sla.past_due`: strictly after the due time (NULL: never)."""
    clause: ColumnElement[bool] = due_at < now
    return clause


def step_overdue(now: Any) -> ColumnElement[bool]:
    """`sla.step_overdue` for task rows. `now` is a datetime or a bound parameter."""
    return (TaskRecord.state == READY) & or_(
        TaskRecord.breached_at.is_not(None), past_due(TaskRecord.due_at, now)
    )


def application_overdue(now: datetime) -> ColumnElement[bool]:
    """`sla.application_overdue` for application rows (ready steps looked up by subquery)."""
    overdue_steps = select(TaskRecord.application_id).where(step_overdue(now))
    return ApplicationRecord.status.in_(OPEN_STATUSES) & or_(
        ApplicationRecord.breached_at.is_not(None),
        past_due(ApplicationRecord.due_at, now),
        ApplicationRecord.id.in_(overdue_steps),
    )


def overdue_application_ids(now: datetime) -> CompoundSelect[Any]:
    """The ids of the applications `application_overdue` selects, as three index ranges
    (breach recorded; past due, not yet marked; a ready step overdue). PostgreSQL cannot
    turn that clause's OR with a subquery into index scans: it read every open application
    (200-300 ms at 1M open tasks); these read what is overdue."""
    open_app = ApplicationRecord.status.in_(OPEN_STATUSES)
    return union(
        select(ApplicationRecord.id).where(open_app, ApplicationRecord.breached_at.is_not(None)),
        select(ApplicationRecord.id).where(
            open_app, ApplicationRecord.breached_at.is_(None),
            past_due(ApplicationRecord.due_at, now),
        ),
        select(TaskRecord.application_id).where(step_overdue(now)),
    )


def breach_pending(table: Any, open_states: tuple[str, ...], now: datetime) -> ColumnElement[bool]:
    """Rows (`TaskRecord` or `ApplicationRecord`) the breach worker has yet to mark at `now`:
    open, past due, no breach recorded. The worker's query and its lag figure share it."""
    column = table.state if table is TaskRecord else table.status
    clause: ColumnElement[bool] = (
        column.in_(open_states) & table.breached_at.is_(None) & past_due(table.due_at, now)
    )
    return clause


def timer_due(now: datetime) -> ColumnElement[bool]:
    """Waiting timers due at `now` whose application can move (one in error waits for its
    retry). A correlated check by primary key: the due-timer index drives the query."""
    stopped = exists().where(
        ApplicationRecord.id == TimerRecord.application_id,
        ApplicationRecord.status == ApplicationStatus.ERROR,
    )
    clause: ColumnElement[bool] = (
        (TimerRecord.status == TimerStatus.WAITING) & (TimerRecord.due_at <= now) & ~stopped
    )
    return clause
