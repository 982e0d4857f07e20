"""Persisting what the engine did: task rows, due times, timers, fee items, status, events.

Every use case that runs the workflow ends here, inside its own transaction, so the
saved state, the task rows, the fee items and the audit trail describe the same moment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from engine.domain import sla
from engine.domain.actors import Actor
from engine.domain.calendar import WorkingCalendar
from engine.domain.errors import InvalidInputError
from engine.domain.problems import Problem
from engine.domain.statuses import (
    OPEN_STATUSES,
    ApplicationStatus,
    StepStatus,
    TimerStatus,
    outcome_kind,
)
from engine.persistence.tables import (
    ApplicationRecord,
    TaskRecord,
    TimerRecord,
)
from engine.services import notifications, step_rows
from engine.services.audit import record_event
from engine.services.documents import issue_for_outcome
from engine.services.fee_assessment import open_fee_item
from engine.services.spec_cache import VersionFacts
from engine.services.step_rows import Progress
from engine.services.subscriptions import sync_external_tasks, sync_subscriptions
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import Outcome, StepState
from engine.workflow.state_bounds import StateNotStorableError


@contextmanager
def caller_data_fits(element_id: str | None = None) -> Iterator[None]:
    """Around a run with the caller's data: when even the state before the engine ran
    (the caller's data in it) cannot be saved, the data is refused, nothing is written.

    Raises: InvalidInputError.
    """
    try:
        yield
    except StateNotStorableError as exc:
        problem = Problem(str(exc), field="data", element_id=element_id)
        raise InvalidInputError(f"the data cannot be taken: {exc}", [problem]) from None


def start_process_clock(
    app: ApplicationRecord, version: VersionFacts, calendar: WorkingCalendar, now: datetime
) -> None:
    """Set the process SLA budget at the start (the legal backstop when the model has none)."""
    app.process_sla = version.process_sla or sla.LEGAL_BACKSTOP_SLA
    app.sla_backstop = version.process_sla is None
    app.deemed_approval = version.deemed_approval
    _set_clock(app, sla.start_clock(app.process_sla, calendar, now))


def apply_outcome(
    uow: UnitOfWork,
    app: ApplicationRecord,
    version: VersionFacts,
    outcome: Outcome,
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
    was_running: bool = False,
    rows: Sequence[TaskRecord] = (),
    fee_items: bool | None = None,
) -> Progress:
    """Save the workflow state and sync everything indexed from it; return the ready task
    rows it leaves (engine/services/step_rows.py).

    `was_running`: the application was running before the call (new, or checked by the
    caller), so every ready step of its saved state has its row: only the rows of the steps
    the call changed are read and written. Otherwise (a retry of one in error) every row is
    read and compared. `rows`: task rows the caller holds (a step's own); `fee_items`:
    whether the application had fee items before, when the caller knows.
    Nothing is flushed here: the unit of work writes it all at commit (tasks before the
    fee items that reference them: relationships declared on the records order the inserts).
    """
    changed = outcome.changed if was_running else None
    app.state = outcome.state
    app.updated_at = now
    held = step_rows.held_rows(uow, app, outcome, changed, rows)
    steps = outcome.steps if changed is None else [s for s in outcome.steps if s.task_id in changed]
    created = _sync_tasks(uow, app, version, outcome, steps, held, now, calendar, actor)
    if version.timers or outcome.timers:  # most procedures have none: skip the query
        _sync_timers(uow, app, outcome, actor, now)
    if version.messages or outcome.messages:
        sync_subscriptions(uow, app, outcome, now)
    if version.external or outcome.external:
        sync_external_tasks(uow, app, outcome, now)
    _update_status(uow, app, outcome, actor=actor, now=now, calendar=calendar)
    if outcome.completed and version.documents:
        issue_for_outcome(uow, app, version.documents, outcome, actor=actor, now=now,
                          calendar=calendar)
    left = step_rows.progress(
        uow, app, outcome, changed, [*held.values(), *created], fee_items, now
    )
    _update_process_clock(app, left.waits_on_applicant, now, calendar)
    return left


def _sync_tasks(
    uow: UnitOfWork,
    app: ApplicationRecord,
    version: VersionFacts,
    outcome: Outcome,
    changed: Sequence[StepState],
    rows: dict[uuid.UUID, TaskRecord],
    now: datetime,
    calendar: WorkingCalendar,
    actor: Actor,
) -> list[TaskRecord]:
    steps = {s["element_id"]: s for s in version.steps}
    created = []
    # A call that failed may have left steps half-made (the instances a multi-instance step
    # made before its cap stopped it): the application is in error, nobody can work them.
    opens = outcome.error is None
    for step in changed:
        row = rows.get(step.task_id)
        if row is None and step.state == StepStatus.READY and opens:
            row = _new_task(app, step, steps, now, calendar)
            uow.repos.tasks.add(row)
            open_fee_item(
                uow, app, row, steps.get(step.element_id, {}), step.data,
                actor=actor, now=now, calendar=calendar,
            )
            notifications.step_ready(uow, app, row, now, calendar)
            created.append(row)
        elif row is not None and row.state == StepStatus.READY and step.state != StepStatus.READY:
            finish_task(row, step.state, now, calendar)
        elif (row is not None and row.state != StepStatus.READY
              and step.state == StepStatus.READY and opens):
            # A retry made a step ready again whose completion had failed (its data output
            # could not be written): the same task is worked again, its clock starts anew.
            # Only such a row: a step that simply stays ready keeps its claim and its clock.
            _reopen(row, steps.get(step.element_id, {}), now, calendar)
            notifications.step_ready(uow, app, row, now, calendar)
    return created


def _reopen(
    task: TaskRecord, declared: dict[str, Any], now: datetime, calendar: WorkingCalendar
) -> None:
    task.state, task.ready_at, task.completed_at = StepStatus.READY, now, None
    task.completed_by = task.claimed_by = None
    task.work_minutes = None
    task.clock_started_at = calendar.clock_start(now)
    sla = declared.get("sla")
    task.due_at = calendar.due(now, sla) if sla else None


def finish_task(task: TaskRecord, state: str, now: datetime, calendar: WorkingCalendar) -> None:
    """A step leaves the ready state: when, and how many working minutes it took."""
    task.state, task.completed_at = state, now
    task.work_minutes = max(0, calendar.working_minutes_between(task.ready_at, now))


def _new_task(
    app: ApplicationRecord,
    step: StepState,
    steps: dict[str, dict[str, Any]],
    now: datetime,
    calendar: WorkingCalendar,
) -> TaskRecord:
    element_id = step.element_id
    declared = steps.get(element_id, {})
    sla = declared.get("sla")
    return TaskRecord(
        id=step.task_id,
        application_id=app.id,
        region_code=app.region_code,
        process_key=app.process_key,
        element_id=element_id,
        name=declared.get("name") or step.name or element_id,
        role=declared.get("role", "unassigned"),
        state=StepStatus.READY,
        ready_at=now,
        form=declared.get("form"),
        sla=sla,
        fee=int(declared.get("fee", 0)),
        clock_started_at=calendar.clock_start(now),
        due_at=calendar.due(now, sla) if sla else None,
        input=step.item,
    )


def _sync_timers(
    uow: UnitOfWork, app: ApplicationRecord, outcome: Outcome, actor: Actor, now: datetime
) -> None:
    rows = {t.id: t for t in uow.repos.timers.waiting_for(app.id)}
    waiting = {t.task_id: t for t in outcome.timers}
    for timer in waiting.values():
        row = rows.get(timer.task_id)
        if row is None:
            uow.repos.timers.add(
                TimerRecord(
                    id=timer.task_id,
                    application_id=app.id,
                    region_code=app.region_code,
                    element_id=timer.element_id,
                    kind=timer.kind,
                    due_at=timer.due_at,
                    status=TimerStatus.WAITING,
                )
            )
        elif row.due_at != timer.due_at:  # a cycle fired and waits for its next round
            _timer_fired(uow, app, row, actor, now)
            row.status, row.due_at, row.fired_at = TimerStatus.WAITING, timer.due_at, None
    for task_id, row in rows.items():
        if task_id not in waiting:
            fired = row.due_at <= now
            row.status = TimerStatus.FIRED if fired else TimerStatus.CANCELLED
            if fired:
                _timer_fired(uow, app, row, actor, now)


def _timer_fired(
    uow: UnitOfWork, app: ApplicationRecord, row: TimerRecord, actor: Actor, now: datetime
) -> None:
    row.fired_at = now
    record_event(
        uow,
        actor=actor,
        action="timer.fired",
        subject=f"timer:{row.element_id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={"element_id": row.element_id, "kind": row.kind, "due_at": row.due_at.isoformat()},
    )


def _update_status(
    uow: UnitOfWork,
    app: ApplicationRecord,
    outcome: Outcome,
    *,
    actor: Actor,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    subject = f"application:{app.id}"
    if outcome.error is not None:
        app.status, app.error = ApplicationStatus.ERROR, outcome.error
        record_event(
            uow,
            actor=actor,
            action="application.error",
            subject=subject,
            at=now,
            region_code=app.region_code,
            application_id=app.id,
            data=outcome.error,
        )
    elif outcome.completed:
        app.status, app.error, app.completed_at = ApplicationStatus.COMPLETED, None, now
        app.cycle_minutes = max(0, calendar.working_minutes_between(app.created_at, now))
        app.outcome = _ending(outcome)
        record_event(
            uow,
            actor=actor,
            action="application.completed",
            subject=subject,
            at=now,
            region_code=app.region_code,
            application_id=app.id,
            data={"outcome": app.outcome} if app.outcome else None,
        )
        notifications.decision(uow, app, now)


def _ending(outcome: Outcome) -> dict[str, Any] | None:
    """The end event the process reached (the first, when parallel paths end twice)."""
    if not outcome.end_events:
        return None
    element_id, name = outcome.end_events[0]
    return {"element_id": element_id, "name": name, "kind": outcome_kind(element_id, name)}


def _update_process_clock(
    app: ApplicationRecord, waits_on_applicant: bool, now: datetime, calendar: WorkingCalendar
) -> None:
    clock = sla.ProcessClock(
        app.sla_budget_minutes, app.sla_used_minutes, app.sla_running_since, app.due_at
    )
    _set_clock(
        app,
        sla.next_clock(
            clock,
            finished=app.status not in OPEN_STATUSES,
            waiting_on_applicant=waits_on_applicant,
            now=now,
            calendar=calendar,
        ),
    )


def _set_clock(app: ApplicationRecord, clock: sla.ProcessClock) -> None:
    app.sla_budget_minutes, app.sla_used_minutes = clock.budget_minutes, clock.used_minutes
    app.sla_running_since, app.due_at = clock.running_since, clock.due_at
