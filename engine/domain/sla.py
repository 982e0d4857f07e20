"""What "overdue" and "late" mean, once, on plain values (DESIGN §3).

Every listing, view, report, catalog figure and tracking page asks these predicates (or, in
SQL, `engine.persistence.sla_clauses`, which states the same rules as clauses and is
compared with this module by `tests/unit/test_sla_rules.py`).

- **Past due**: strictly after the due time. A step due at 16:00 done at 16:00 is on time.
- **Late** (history): the deadline was missed: a breach was recorded, or the item finished
  after its due time, or it is still open past it. A finished application or a completed
  step that was late stays late.
- **Overdue** (now): an *open* item that is late. Only open items are overdue: a finished
  application that breached is late, not overdue, and is not in `?overdue=true`.
- An application is overdue when it is open and its own deadline is missed (breach recorded
  or its due time passed while its clock runs), or one of its ready steps is overdue. While
  the SLA is paused (waiting on the applicant) the application has no due time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engine.domain.statuses import OPEN_STATUSES, StepStatus

READY = StepStatus.READY


def past_due(due_at: datetime | None, at: datetime) -> bool:
    """True when `at` is strictly after the due time (no due time: never past due)."""
    return due_at is not None and at > due_at


def late(
    due_at: datetime | None,
    breached_at: datetime | None,
    finished_at: datetime | None,
    now: datetime,
) -> bool:
    """The deadline was missed, whether the item is still open or finished."""
    return breached_at is not None or past_due(due_at, finished_at or now)


def step_overdue(
    state: str, due_at: datetime | None, breached_at: datetime | None, now: datetime
) -> bool:
    """A ready step that is late now."""
    return state == READY and late(due_at, breached_at, None, now)


def application_overdue(
    status: str,
    due_at: datetime | None,
    breached_at: datetime | None,
    now: datetime,
    ready_steps: Iterable[tuple[datetime | None, datetime | None]] = (),
) -> bool:
    """An open application whose deadline is missed, or with a ready step overdue.

    `ready_steps` are the (due_at, breached_at) of its ready steps.
    """
    if status not in OPEN_STATUSES:
        return False
    return late(due_at, breached_at, None, now) or any(
        late(step_due, step_breached, None, now) for step_due, step_breached in ready_steps
    )


def paused(status: str, running_since: datetime | None) -> bool:
    """The clock of an open application is stopped (it waits on the applicant)."""
    return status in OPEN_STATUSES and running_since is None
