"""Which task rows a step reads, and the ready rows it leaves (the step's answer).

An engine call changes few human steps: the one completed, the ones it made ready, the
ones a boundary event cancelled. Of a running application every ready step has its row
(each step's sync made them), so only the rows of the changed steps can need writing,
and a step reads no more than those: the cost of completing one of 300 parallel instances
does not grow with the other 299 (issue #16). Its answer lists the ready rows in hand, or,
when ready steps it did not touch remain, reads the first page of them in one statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.statuses import StepStatus
from engine.domain.views import ApplicationView
from engine.persistence.tables import ApplicationRecord, TaskRecord
from engine.services.presenters import application_view
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import Outcome

# The ready tasks a step's answer lists (a 300-instance parallel step has 300 ready).
PROGRESS_TASKS = 50


@dataclass(frozen=True, slots=True)
class Progress:
    """The ready task rows a step leaves: all of them, or the first `PROGRESS_TASKS`."""

    ready: list[TaskRecord]  # in the inbox's order (ready_at, element_id, id)
    count: int
    waits_on_applicant: bool
    overdue: bool | None  # a ready step is overdue; None: read it from `ready` (all of them)
    fee_items: bool | None  # the application has fee items; None: not known


def held_rows(
    uow: UnitOfWork,
    app: ApplicationRecord,
    outcome: Outcome,
    changed: frozenset[uuid.UUID] | None,
    rows: Sequence[TaskRecord],
) -> dict[uuid.UUID, TaskRecord]:
    """The rows the sync needs, by task id: `rows` (the caller's) and those of the changed
    steps that left the ready state (read in one statement when any are not in hand).
    Steps made ready now have no row yet. `changed` None: every row of the application."""
    if changed is None:
        return {t.id: t for t in uow.repos.tasks.for_application(app.id)}
    held = {t.id: t for t in rows}
    wanted = [
        s.task_id
        for s in outcome.steps
        if s.task_id in changed and s.state != StepStatus.READY and s.task_id not in held
    ]
    if wanted:
        held.update((t.id, t) for t in uow.repos.steps.rows(wanted))
    return held


def progress(
    uow: UnitOfWork,
    app: ApplicationRecord,
    outcome: Outcome,
    changed: frozenset[uuid.UUID] | None,
    rows: Sequence[TaskRecord],
    fee_items: bool | None,
    now: datetime,
) -> Progress:
    """The ready rows after the sync: from `rows` (the held and created ones) when every
    ready step is among them, else the first page read (one statement, after the writes)."""
    untouched = changed is not None and any(
        s.state == StepStatus.READY and s.task_id not in changed for s in outcome.steps
    )
    if untouched:
        page = uow.repos.steps.ready_page(app.id, now, PROGRESS_TASKS)
        return Progress(
            page.rows, page.count, page.waits_on_applicant, page.overdue, page.fee_items
        )
    # Without `changed`, `rows` are all of them: no row with a fee, no fee item.
    return _in_hand(rows, False if changed is None else fee_items)


def every_ready(rows: Sequence[TaskRecord]) -> Progress:
    """The progress over all of an application's task rows (read by the caller)."""
    return _in_hand(rows, False)


def _in_hand(rows: Sequence[TaskRecord], fee_items: bool | None) -> Progress:
    ready = sorted(
        (t for t in rows if t.state == StepStatus.READY),
        key=lambda t: (t.ready_at, t.element_id, t.id),  # the ready page's order
    )
    charged = any(t.fee > 0 for t in rows)  # a row with a fee has its fee item
    return Progress(
        ready, len(ready), any(t.role in APPLICANT_ROLES for t in ready), None,
        True if charged else fee_items,
    )


def progress_view(
    uow: UnitOfWork, app: ApplicationRecord, step: Progress, now: datetime
) -> ApplicationView:
    """The application as a step leaves it: its summary and its ready tasks (at most
    `PROGRESS_TASKS` of them, `ready_task_count` says how many there are), and fee items
    when it charges any. Bounded: not every task it ever had (the full view is
    `applications.get_application`, one GET away)."""
    from engine.services.payments import fee_views  # payments builds on the outcomes

    fees = fee_views(uow, app.id) if step.fee_items is not False else []
    return application_view(
        app, step.ready, now, fees=fees, listed=PROGRESS_TASKS, ready_count=step.count,
        steps_overdue=step.overdue,
    )
