"""Records to views: the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from engine.domain import sla
from engine.domain.calendar import WorkingCalendar
from engine.domain.read_models import FeeItemView
from engine.domain.statuses import OPEN_STATUSES, StepStatus
from engine.domain.views import (
    ApplicationView,
    EventView,
    ModelSummaryView,
    ModelVersionView,
    RegionView,
    StepView,
    TaskView,
)
from engine.persistence.tables import (
    ApplicationRecord,
    EventRecord,
    ModelVersionRecord,
    ProcessModelRecord,
    RegionRecord,
    TaskRecord,
)


def region_view(region: RegionRecord) -> RegionView:
    return RegionView(region.code, region.name, region.timezone)


def task_view(
    task: TaskRecord, now: datetime, calendar: WorkingCalendar | None = None, **extra: object
) -> TaskView:
    due_at = task.due_at
    if calendar is not None and due_at is not None and task.state == StepStatus.READY:
        extra["working_hours_left"] = round(calendar.working_minutes_between(now, due_at) / 60, 2)
    return TaskView(
        id=task.id,
        application_id=task.application_id,
        element_id=task.element_id,
        name=task.name,
        role=task.role,
        state=task.state,
        claimed_by=task.claimed_by,
        ready_at=task.ready_at,
        due_at=due_at,
        overdue=sla.step_overdue(task.state, due_at, task.breached_at, now),
        late=sla.late(due_at, task.breached_at, task.completed_at, now),
        sla=task.sla,
        fee=task.fee,
        form=task.form,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
        region=task.region_code,
        process_key=task.process_key,
        input=task.input,
        **extra,  # type: ignore[arg-type]
    )


def event_view(event: EventRecord) -> EventView:
    return EventView(
        event.id,
        event.at,
        event.actor,
        event.action,
        event.subject,
        event.reason,
        event.data,
        event.chain,
        event.seq,
        event.prev_hash,
        event.hash,
    )


def application_view(
    app: ApplicationRecord,
    tasks: Sequence[TaskRecord],
    now: datetime,
    events: Iterable[EventRecord] = (),
    fees: Iterable[FeeItemView] = (),
    listed: int | None = None,
    ready_count: int | None = None,
    steps_overdue: bool | None = None,
) -> ApplicationView:
    """`listed`: list only the first `listed` of `tasks` (which are all ready) and count
    them in `ready_task_count`; the SLA flags still read every one. Unless `tasks` are only
    the first of them: then `ready_count` counts them all and `steps_overdue` says whether
    any of them is overdue."""
    deemed = app.deemed_granted_at is not None
    shown = tasks if listed is None else tasks[:listed]
    task_views = [task_view(t, now, deemed_granted=deemed) for t in shown]
    return ApplicationView(
        id=app.id,
        tracking_code=app.tracking_code,
        status=app.status,
        process_key=app.process_key,
        version=app.version,
        title=app.title,
        region=app.region_code,
        created_at=app.created_at,
        updated_at=app.updated_at,
        completed_at=app.completed_at,
        applicant=app.applicant,
        error=app.error,
        tasks=task_views,
        history=[event_view(e) for e in events],
        due_at=app.due_at,
        overdue=_overdue(app, tasks, now, steps_overdue),
        late=sla.late(app.due_at, app.breached_at, app.completed_at, now),
        process_sla=app.process_sla,
        sla_backstop=app.sla_backstop,
        sla_paused=sla.paused(app.status, app.sla_running_since),
        cancelled_reason=app.cancelled_reason,
        deemed_granted_at=app.deemed_granted_at,
        outcome=app.outcome,
        fees=list(fees),
        ready_task_count=(
            None if listed is None else len(tasks) if ready_count is None else ready_count
        ),
    )


def _overdue(
    app: ApplicationRecord, tasks: Sequence[TaskRecord], now: datetime, steps: bool | None
) -> bool:
    if steps is None:
        ready = [(t.due_at, t.breached_at) for t in tasks if t.state == sla.READY]
        return sla.application_overdue(app.status, app.due_at, app.breached_at, now, ready)
    overdue = sla.application_overdue(app.status, app.due_at, app.breached_at, now)
    return overdue or (steps and app.status in OPEN_STATUSES)


def step_views(version: ModelVersionRecord) -> list[StepView]:
    return [
        StepView(s["element_id"], s["name"], s["role"], s["sla"], s["fee"], s["form"], s["order"])
        for s in sorted(version.steps, key=lambda s: s["order"])
    ]


def version_view(version: ModelVersionRecord, *, full: bool = False) -> ModelVersionView:
    steps = step_views(version)
    return ModelVersionView(
        region=version.region_code,
        key=version.key,
        version=version.version,
        title=version.title,
        status=version.status,
        process_sla=version.process_sla,
        created_at=version.created_at,
        steps=steps,
        bpmn_sha256=version.bpmn_sha256,
        total_fee=sum(s.fee for s in steps),
        lineage=version.lineage,
        bpmn=version.bpmn.decode("utf-8", errors="replace") if full else None,
        forms=version.forms if full else None,
        standard=version.standard if full else None,
    )


def model_summary(model: ProcessModelRecord) -> ModelSummaryView:
    return ModelSummaryView(
        model.region_code, model.key, model.title, model.latest_version, model.created_at
    )


def redacted_task(view: TaskView) -> TaskView:
    """A task without what the applicant or the officers entered (Access.REDACTED)."""
    return replace(view, data=None, input=None, earlier_data=None)


def redacted_application(view: ApplicationView) -> ApplicationView:
    """An application without the applicant's personal data, task data or event data:
    status, steps, deadlines and fees remain (Access.REDACTED)."""
    return replace(
        view,
        applicant={},
        tasks=[redacted_task(t) for t in view.tasks],
        history=[replace(e, data={}) for e in view.history],
    )
