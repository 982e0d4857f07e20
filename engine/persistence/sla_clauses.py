"""The SLA rules of `engine.domain.sla` as SQL clauses, for listings, inboxes and figures.

Each clause selects exactly the records the domain predicate of the same name calls true;
`tests/service/test_sla_rules.py` checks both against the same records on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from engine.domain.sla import READY
from engine.domain.statuses import OPEN_STATUSES
from engine.persistence.tables import ApplicationRecord, TaskRecord


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
