"""Officers' tasks: the inbox, one task, claim, unclaim and complete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, SUPERVISOR, Access, Actor
from engine.domain.errors import (
    ApplicationNotRunningError,
    FeeUnpaidError,
    FormInvalidError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TaskClaimedError,
    TaskNotReadyError,
)
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus, FeeStatus, StepStatus
from engine.domain.storable import data_problems
from engine.domain.views import ApplicationView, Page, TaskView
from engine.persistence.step_queries import LockedStep
from engine.persistence.tables import ApplicationRecord, TaskRecord
from engine.services.access import application_access, require_roles, visible_task
from engine.services.audit import record_event
from engine.services.calendars import region_calendar
from engine.services.calls import load_bound
from engine.services.live_steps import carry_live, give_back, keep_live, live_key_of, take_live
from engine.services.outcomes import apply_outcome, caller_data_fits, finish_task
from engine.services.payments import receipt_view
from engine.services.presenters import redacted_task, task_view
from engine.services.spec_cache import VersionFacts
from engine.services.step_rows import progress_view
from engine.services.users import actor_for
from engine.unit_of_work import UnitOfWork
from engine.workflow.outcome import StepNotReadyError

MAX_TASK_DATA_BYTES = 256 * 1024


def inbox(
    ctx: EngineContext,
    actor: Actor,
    *,
    assigned_to_me: bool = False,
    role: str | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
    process_key: str | None = None,
    unclaimed: bool = False,
) -> Page:
    """Ready tasks of the actor's region whose role the actor holds, soonest due first
    (optionally of one process, or only those nobody holds)."""
    roles: set[str] | None = None if actor.has_any(ADMIN, SUPERVISOR) else set(actor.step_roles())
    if role is not None:
        roles = {role} if roles is None or role in roles else set()
    region = None if actor.is_admin else actor.region_code
    now = ctx.clock()
    with ctx.reader() as uow:
        tasks, total, capped = uow.repos.tasks.inbox_page(
            region,
            roles,
            limit=limit,
            offset=offset,
            claimed_by=actor.id if assigned_to_me else None,
            owner=actor.id if actor.applicant_only else None,
            overdue_at=now if overdue else None,
            process_key=process_key,
            unclaimed=unclaimed,
        )
        # One query for the page's regions' revisions (an admin's page spans regions);
        # the calendars themselves are cached per process under them.
        revisions = uow.repos.regions.calendar_revisions(t.region_code for t in tasks)
        calendars = {
            code: region_calendar(ctx, uow, code, revision) for code, revision in revisions.items()
        }
        items = [task_view(t, now, calendars[t.region_code]) for t in tasks]
        return Page(items, total, limit, offset, total_capped=capped)


def get_task(ctx: EngineContext, actor: Actor, task_id: uuid.UUID) -> TaskView:
    """One task with its form schema and submitted data.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        task = visible_task(uow, actor, task_id)
        # Its row version and state from one read: the workflow they name may be live here.
        app = uow.repos.steps.application_as_saved(task.application_id)
        assert app is not None
        version = uow.repos.models.version_by_id(app.model_version_id)
        schema = version.forms.get(task.form) if version is not None and task.form else None
        item = uow.repos.fees.for_task(task.id)
        view = task_view(
            task,
            ctx.clock(),
            region_calendar(ctx, uow, task.region_code),
            form_schema=schema,
            data=task.data,
            fee_item=receipt_view(item, None) if item is not None else None,
            earlier_data=_earlier_data(ctx, uow, app, task.id, schema),
        )
        if application_access(uow, actor, app) is Access.REDACTED:
            return redacted_task(view)
        return view


def _earlier_data(
    ctx: EngineContext,
    uow: UnitOfWork,
    app: ApplicationRecord,
    task_id: uuid.UUID,
    schema: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The values the process holds now for the form's top-level fields, as the step sees
    them (so an officer sees what earlier steps entered); None without a form."""
    names = (schema or {}).get("properties")
    if not isinstance(names, dict) or not names:
        return None
    _, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
    # The live workflow of this row version if this process holds it (an officer opens a
    # step the previous step just made ready), else the state restored; only read, so it
    # is given back as the workflow of the row read.
    saved = take_live(ctx, app)
    workflow = saved.live = ctx.runtime.restore(loaded, saved)
    data = ctx.runtime.task_data(workflow, task_id)
    give_back(ctx, app, saved)
    return {name: data[name] for name in names if name in data}


def claim_task(ctx: EngineContext, actor: Actor, task_id: uuid.UUID) -> TaskView:
    """Take a ready task; claiming one's own claim again is a no-op.

    Raises: NotFoundError, PermissionDeniedError, TaskNotReadyError, TaskClaimedError.
    """
    now = ctx.clock()
    with ctx.uow() as uow:
        step = _workable(uow, actor, task_id)
        task, app = step.task, step.application
        before = live_key_of(app)
        if task.claimed_by != actor.id:
            _set_claim(uow, actor, task, app, actor.id, now, "task.claimed")
        uow.commit()
        carry_live(ctx, before, app)
        return task_view(task, now)


def unclaim_task(
    ctx: EngineContext, actor: Actor, task_id: uuid.UUID, reason: str | None = None
) -> TaskView:
    """Release a claim: the holder may, and so may a supervisor or admin.

    Raises: NotFoundError, PermissionDeniedError, TaskNotReadyError.
    """
    now = ctx.clock()
    with ctx.uow() as uow:
        task, app = _held(uow, actor, task_id)
        before = live_key_of(app)
        if task.state != StepStatus.READY:
            raise TaskNotReadyError(f"task {task_id} is {task.state}")
        if task.claimed_by not in (None, actor.id) and not actor.has_any(ADMIN, SUPERVISOR):
            raise PermissionDeniedError("only the holder or a supervisor may release this claim")
        if task.claimed_by is not None:
            _set_claim(uow, actor, task, app, None, now, "task.unclaimed", reason)
        uow.commit()
        carry_live(ctx, before, app)
        return task_view(task, now)


def complete_task(
    ctx: EngineContext, actor: Actor, task_id: uuid.UUID, data: Any
) -> ApplicationView:
    """Complete a ready task with its form data and run the process on (no claim needed).

    Raises: NotFoundError, PermissionDeniedError, TaskNotReadyError, TaskClaimedError,
    ApplicationNotRunningError, FormInvalidError, ConcurrentUpdateError.
    """
    data = _task_data(data)
    now = ctx.clock()
    with ctx.uow() as uow:
        # One read: the application and the task's own row, both locked (never its other
        # task rows), the calendar's revision, and whether the application has fee items.
        step = _workable(uow, actor, task_id)
        app, revision, task = step.application, step.calendar_revision, step.task
        version, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
        _validate_form(ctx, version, task, data)
        _ensure_paid(uow, task)
        # Taken (removed) from the live cache: if anything below fails, the next step
        # restores what was committed, never an object this one changed.
        saved = take_live(ctx, app)
        try:
            with caller_data_fits(task.element_id):
                outcome = ctx.runtime.complete(loaded, saved, task.id, data, now)
        except StepNotReadyError:
            raise TaskNotReadyError(f"task {task_id} is no longer ready") from None
        calendar = region_calendar(ctx, uow, app.region_code, revision)
        # Finished here, before the sync, so the row is written once with all of it.
        finish_task(task, StepStatus.COMPLETED, now, calendar)
        task.completed_by, task.data = actor.id, data
        record_event(
            uow,
            actor=actor,
            action="task.completed",
            subject=f"task:{task.id}",
            at=now,
            region_code=task.region_code,
            application_id=app.id,
            data={"element_id": task.element_id, "data": data},
        )
        left = apply_outcome(
            uow,
            app,
            version,
            outcome,
            actor=actor,
            now=now,
            calendar=calendar,
            was_running=True,  # checked above
            rows=[task],
            fee_items=step.fee_items,
        )
        view = progress_view(uow, app, left, now)
        uow.commit()
        keep_live(ctx, app, outcome)
        return view


def _workable(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> LockedStep:
    """The task and its application, locked (`_held`), if the actor may work it now.

    Raises: NotFoundError (also for an application the actor may not see),
    PermissionDeniedError, TaskNotReadyError, ApplicationNotRunningError, TaskClaimedError.
    """
    step = uow.repos.steps.locked(task_id)
    if step is None or not _sees(actor, step.application):
        raise NotFoundError(f"task {task_id} not found")
    _check_workable(actor, step.application, step.task, task_id)
    return step


def _held(
    uow: UnitOfWork, actor: Actor, task_id: uuid.UUID
) -> tuple[TaskRecord, ApplicationRecord]:
    """The task and its application, both rows locked in one statement (the application's
    first: concurrent actions on one application queue on it and each sees what the one
    before it committed), if the actor reads all of the application. The workflow state
    and the task's data are not read: a claim changes neither, and carries the live
    workflow (`carry_live`).

    Raises: NotFoundError (also for an application the actor may not read in full).
    """
    step = uow.repos.steps.locked(task_id)
    if step is None or not actor.sees_region(step.task.region_code):
        raise NotFoundError(f"task {task_id} not found")
    if application_access(uow, actor, step.application) is not Access.FULL:
        raise NotFoundError(f"application {step.application.id} not found")
    return step.task, step.application


def _check_workable(
    actor: Actor, app: ApplicationRecord, task: TaskRecord | None, task_id: uuid.UUID
) -> None:
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    if not actor.may_work_step(task.role, own_application=app.created_by == actor.id):
        raise PermissionDeniedError(f"this step belongs to the role {task.role!r}")
    if task.state != StepStatus.READY:
        raise TaskNotReadyError(f"task {task_id} is already {task.state}")
    if app.status != ApplicationStatus.RUNNING:
        raise ApplicationNotRunningError(f"application {app.id} is {app.status}")
    if task.claimed_by not in (None, actor.id):
        raise TaskClaimedError(f"task {task_id} is claimed by another officer")


def _sees(actor: Actor, app: ApplicationRecord) -> bool:
    return actor.sees_region(app.region_code) and not (
        actor.applicant_only and app.created_by != actor.id
    )


def _ensure_paid(uow: UnitOfWork, task: TaskRecord) -> None:
    """Raises: FeeUnpaidError while the step's fee item is open (DESIGN §4)."""
    if task.fee <= 0:
        return
    item = uow.repos.fees.for_task(task.id)
    if item is not None and item.status == FeeStatus.OPEN:
        raise FeeUnpaidError(
            f"the fee of Rp {item.amount} for {task.name!r} is unpaid (fee item {item.id}); "
            "record the payment first"
        )


def _task_data(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    problems = data_problems(data, "data", MAX_TASK_DATA_BYTES)
    if problems:
        raise InvalidInputError(f"data cannot be taken: {problems[0].message}", problems)
    assert isinstance(data, dict)  # checked
    return data


def _validate_form(
    ctx: EngineContext, version: VersionFacts, task: TaskRecord, data: dict[str, Any]
) -> None:
    schema = version.forms.get(task.form) if task.form else None
    if schema is None:
        return
    errors = ctx.forms.validate(schema, data, cache_key=f"{version.id}:{task.form}")
    if errors:
        raise FormInvalidError(
            f"the data does not satisfy the form {task.form}",
            [Problem(e.message, field=e.field or "/", element_id=task.element_id) for e in errors],
        )


def assign_task(
    ctx: EngineContext, actor: Actor, task_id: uuid.UUID, user_id: int, reason: str | None = None
) -> TaskView:
    """A supervisor (or admin) hands a ready task to an officer who holds its role.

    Raises: PermissionDeniedError, NotFoundError, TaskNotReadyError, InvalidInputError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="reassigning a task")
    now = ctx.clock()
    with ctx.uow() as uow:
        task, app = _held(uow, actor, task_id)
        before = live_key_of(app)
        if task.state != StepStatus.READY:
            raise TaskNotReadyError(f"task {task_id} is {task.state}")
        user = uow.repos.users.get(user_id)
        if user is None or not user.active or user.region_code != task.region_code:
            raise InvalidInputError(
                "no such officer in this region", [Problem("unknown", field="user_id")]
            )
        assignee = actor_for(uow, user)
        if not assignee.may_work_step(task.role, own_application=False):
            raise InvalidInputError(
                f"{assignee.name} does not hold the role {task.role!r}",
                [Problem("lacks the step's role", field="user_id")],
            )
        _set_claim(uow, actor, task, app, user_id, now, "task.assigned", reason)
        uow.commit()
        carry_live(ctx, before, app)
        return task_view(task, now)


def _set_claim(
    uow: UnitOfWork,
    actor: Actor,
    task: TaskRecord,
    app: ApplicationRecord,
    holder: int | None,
    now: datetime,
    action: str,
    reason: str | None = None,
) -> None:
    """Change who holds a task, audited with the holder before and after."""
    before = task.claimed_by
    task.claimed_by, task.claimed_at = holder, (now if holder is not None else None)
    app.updated_at = now  # bumps the application's row version: a concurrent change fails
    record_event(
        uow,
        actor=actor,
        action=action,
        subject=f"task:{task.id}",
        at=now,
        region_code=task.region_code,
        application_id=app.id,
        reason=reason,
        data={
            "element_id": task.element_id,
            "before": {"claimed_by": before},
            "after": {"claimed_by": holder},
        },
    )
