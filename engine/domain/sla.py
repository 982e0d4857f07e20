"""What "overdue" and "late" mean, once, on plain values (DESIGN §3).

Every listing, view, report, catalog figure and tracking page asks these predicates (or, in
SQL, `engine.persistence.sla_clauses`, which states the same rules as clauses and is
compared with this module by `tests/service/test_sla_rules.py`).

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
from dataclasses import dataclass, replace
from datetime import datetime

from engine.domain.calendar import WorkingCalendar
from engine.domain.statuses import OPEN_STATUSES, StepStatus

# UU 30/2014 art. 53 (as amended): without a set deadline a decision is due in 5 working days.
LEGAL_BACKSTOP_SLA = "P5D"

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


@dataclass(frozen=True, slots=True)
class ProcessClock:
    """An application's process SLA clock: a budget of working minutes, the minutes used
    while it ran, since when it runs now (None: paused or stopped), and its due time."""

    budget_minutes: int
    used_minutes: int
    running_since: datetime | None
    due_at: datetime | None


def start_clock(process_sla: str, calendar: WorkingCalendar, now: datetime) -> ProcessClock:
    """The clock at the start: the whole budget of `process_sla`, running from `now`."""
    due = calendar.due(now, process_sla)
    budget = calendar.working_minutes_between(calendar.clock_start(now), due)
    return ProcessClock(budget, 0, now, due)


def next_clock(
    clock: ProcessClock,
    *,
    finished: bool,
    waiting_on_applicant: bool,
    now: datetime,
    calendar: WorkingCalendar,
) -> ProcessClock:
    """Pause the clock while the application waits on the applicant, resume it after, stop
    it when the application is finished (keeping the due time it had). An engine error does
    not pause it: that is the office's delay, not the applicant's."""
    since = clock.running_since
    if finished or waiting_on_applicant:
        if since is None:
            return clock
        used = clock.used_minutes + max(0, calendar.working_minutes_between(since, now))
        return replace(
            clock, used_minutes=used, running_since=None, due_at=clock.due_at if finished else None
        )
    if since is not None:
        return clock
    remaining = max(0, clock.budget_minutes - clock.used_minutes)
    return replace(clock, running_since=now, due_at=calendar.add_working_minutes(now, remaining))
