"""External tasks (Camunda 7's external task REST API): workers fetch service tasks by
topic, lock them, and answer with complete, failure, a BPMN error, or a longer lock.

Each service task waiting in a workflow has a row (`external_tasks`, synced after every
engine call), so fetch-and-lock is one indexed query that locks the rows it hands out
(`FOR UPDATE SKIP LOCKED` on PostgreSQL): two workers never get the same task. A lock
lasts `lock_duration` milliseconds; after it the task can be fetched again, and the
worker that held it can no longer answer for it (`409`). Every call is audited. What a
worker sends and gets back (limits, checks, answers) is in `external_task_terms.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, EXTERNAL_WORKER, Actor
from engine.domain.errors import (
    ApplicationNotRunningError,
    ExternalTaskLockError,
    InvalidInputError,
    NotFoundError,
)
from engine.domain.formats import NON_BLANK
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus, ExternalTaskStatus
from engine.persistence.tables import ApplicationRecord, ExternalTaskRecord
from engine.services.access import require_roles, visible_region
from engine.services.audit import record_event
from engine.services.calendars import region_calendar
from engine.services.calls import load_bound
from engine.services.external_task_terms import (
    MAX_LOCK_MS,
    ExternalTaskView,
    LockedTask,
    TopicRequest,
    check_duration,
    check_fetch,
    check_variables,
    locked_view,
    task_view,
)
from engine.services.live_steps import (
    carry_live,
    give_back,
    keep_live,
    live_key_of,
    take_live,
)
from engine.services.outcomes import apply_outcome, caller_data_fits
from engine.unit_of_work import UnitOfWork
from engine.workflow import external_tasks as ext
from engine.workflow.live_cache import SavedWorkflow
from engine.workflow.outcome import Outcome


def fetch_and_lock(
    ctx: EngineContext,
    actor: Actor,
    worker_id: str,
    topics: Sequence[TopicRequest],
    max_tasks: int,
    region: str | None = None,
) -> list[LockedTask]:
    """Lock up to `max_tasks` open tasks of `topics` in the caller's region for `worker_id`.

    Raises: PermissionDeniedError, InvalidInputError, NotFoundError.
    """
    _may_work(actor)
    check_fetch(worker_id, topics, max_tasks)
    now = ctx.clock()
    with ctx.uow() as uow:
        region_code = _region_of(uow, actor, region)
        durations = {t.name: t.lock_duration for t in topics}
        locked = []
        read: list[tuple[ApplicationRecord, SavedWorkflow]] = []  # given back after commit
        for row in uow.repos.external_tasks.fetchable(region_code, list(durations), now, max_tasks):
            app = uow.repos.steps.application_as_saved(row.application_id)
            assert app is not None
            variables = _variables(ctx, uow, app, row, read)
            if variables is None:  # no longer waiting in the workflow: the row was stale
                row.status, row.completed_at = ExternalTaskStatus.CANCELLED, now
                continue
            row.worker_id = worker_id
            row.lock_expires_at = now + timedelta(milliseconds=durations[row.topic])
            _audit(uow, actor, row, "external_task.locked", now, {"worker_id": worker_id})
            locked.append(locked_view(row, app, variables))
        uow.commit()
        for app, saved in read:
            give_back(ctx, app, saved)
        return locked


def complete(
    ctx: EngineContext,
    actor: Actor,
    task_id: uuid.UUID,
    worker_id: str,
    variables: dict[str, Any],
) -> ExternalTaskView:
    """The worker's result: `variables` become process data and the process moves on.

    Raises: PermissionDeniedError, NotFoundError, ExternalTaskLockError,
    ApplicationNotRunningError, InvalidInputError.
    """
    _may_work(actor)
    check_variables(variables)
    now = ctx.clock()
    with ctx.uow() as uow:
        app, row = _held(uow, actor, task_id, worker_id, now)
        outcome = _run(
            ctx, uow, actor, app, lambda wf: ext.complete_external(wf, row.id, variables), now
        )
        row.status, row.completed_at = ExternalTaskStatus.COMPLETED, now
        _audit(
            uow,
            actor,
            row,
            "external_task.completed",
            now,
            {"worker_id": worker_id, "variables": variables},
        )
        view = task_view(row)
        uow.commit()
        keep_live(ctx, app, outcome)
        return view


def fail(
    ctx: EngineContext,
    actor: Actor,
    task_id: uuid.UUID,
    worker_id: str,
    message: str,
    retries: int,
    retry_timeout: int,
) -> ExternalTaskView:
    """The worker could not do it: with `retries` left the task is fetchable again after
    `retry_timeout` milliseconds; with none, an incident: the application stops in `error`
    with the message, until an admin or supervisor retries it.

    Raises: PermissionDeniedError, NotFoundError, ExternalTaskLockError,
    ApplicationNotRunningError, InvalidInputError.
    """
    _may_work(actor)
    if retries < 0 or not 0 <= retry_timeout <= MAX_LOCK_MS:
        raise InvalidInputError(
            "the failure cannot be taken",
            [Problem("retries and retry_timeout are whole numbers from 0", field="retries")],
        )
    now = ctx.clock()
    with ctx.uow() as uow:
        app, row = _held(uow, actor, task_id, worker_id, now)
        before = live_key_of(app)
        row.error_message, row.retries = message, retries
        row.worker_id, row.lock_expires_at = None, None
        data = {"worker_id": worker_id, "message": message, "retries": retries}
        _audit(uow, actor, row, "external_task.failed", now, data)
        if retries > 0:
            row.retry_at = now + timedelta(milliseconds=retry_timeout)
        else:
            row.status = ExternalTaskStatus.FAILED
            _incident(uow, actor, app, row, f"the external task failed: {message}", now)
        view = task_view(row)
        uow.commit()
        carry_live(ctx, before, app)  # the audit event bumped the row, not the state
        return view


def bpmn_error(
    ctx: EngineContext,
    actor: Actor,
    task_id: uuid.UUID,
    worker_id: str,
    code: str,
    message: str | None,
    variables: dict[str, Any],
) -> ExternalTaskView:
    """A business error: caught by an error boundary event with `code` on the task (or an
    enclosing sub-process, or an error event sub-process), whose path then runs; when
    nothing catches it, an incident.

    Raises: PermissionDeniedError, NotFoundError, ExternalTaskLockError,
    ApplicationNotRunningError, InvalidInputError.
    """
    _may_work(actor)
    check_variables(variables)
    if not NON_BLANK.matches(code):
        raise InvalidInputError(
            "the BPMN error cannot be taken", [Problem("required", field="code")]
        )
    now = ctx.clock()
    with ctx.uow() as uow:
        app, row = _held(uow, actor, task_id, worker_id, now)
        data = {"worker_id": worker_id, "code": code, "message": message, "variables": variables}
        _audit(uow, actor, row, "external_task.bpmn_error", now, data)
        _, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
        saved = take_live(ctx, app)
        workflow = saved.live = ctx.runtime.restore(loaded, saved)
        outcome = None
        if ext.error_catcher(workflow, row.id, code) is None:
            row.status, row.error_message = ExternalTaskStatus.FAILED, message
            row.worker_id, row.lock_expires_at = None, None
            _incident(
                uow,
                actor,
                app,
                row,
                f"the external task threw the BPMN error {code!r}"
                + (f" ({message})" if message else "")
                + ", and no error boundary event or error event sub-process catches it: "
                + f"draw one with errorCode {code!r}",
                now,
            )
        else:
            # The engine runs on the workflow the check read (a fallback restores the state).
            outcome = _run(
                ctx, uow, actor, app, lambda wf: ext.throw_error(wf, row.id, code, variables),
                now, saved,
            )
            row.status, row.completed_at, row.error_message = (
                ExternalTaskStatus.COMPLETED,
                now,
                message,
            )
        view = task_view(row)
        uow.commit()
        if outcome is None:
            give_back(ctx, app, saved)  # only read: the incident changed the row, not the state
        else:
            keep_live(ctx, app, outcome)
        return view


def extend_lock(
    ctx: EngineContext, actor: Actor, task_id: uuid.UUID, worker_id: str, new_duration: int
) -> ExternalTaskView:
    """Keep the lock `new_duration` milliseconds from now.

    Raises: PermissionDeniedError, NotFoundError, ExternalTaskLockError, InvalidInputError.
    """
    _may_work(actor)
    check_duration(new_duration, "new_duration")
    now = ctx.clock()
    with ctx.uow() as uow:
        app, row = _held(uow, actor, task_id, worker_id, now)
        before = live_key_of(app)
        row.lock_expires_at = now + timedelta(milliseconds=new_duration)
        data = {"worker_id": worker_id, "lock_expires_at": row.lock_expires_at.isoformat()}
        _audit(uow, actor, row, "external_task.lock_extended", now, data)
        view = task_view(row)
        uow.commit()
        carry_live(ctx, before, app)  # the audit event bumped the row, not the state
        return view


def _may_work(actor: Actor) -> None:
    require_roles(actor, ADMIN, EXTERNAL_WORKER, action="working external tasks")


def _region_of(uow: UnitOfWork, actor: Actor, region: str | None) -> str:
    code = region or actor.region_code
    if code is None:
        raise InvalidInputError(
            "an account without a region names the region it fetches from",
            [Problem("required for an account without a region", field="region")],
        )
    visible_region(uow, actor, code)
    return code


def _held(
    uow: UnitOfWork, actor: Actor, task_id: uuid.UUID, worker_id: str, now: datetime
) -> tuple[ApplicationRecord, ExternalTaskRecord]:
    """The application (locked first, as every engine call locks it) and the task row,
    which `worker_id` must hold now.

    Raises: NotFoundError, ExternalTaskLockError, ApplicationNotRunningError.
    """
    row = uow.repos.external_tasks.get(task_id)
    if row is None or not actor.sees_region(row.region_code):
        raise NotFoundError(f"external task {task_id} not found")
    # Its state is not read: a result runs on the live workflow (read on a miss only), and
    # a failure or a longer lock does not need it.
    app = uow.repos.steps.locked_application(row.application_id)
    row = uow.repos.external_tasks.get(task_id, for_update=True)
    assert app is not None and row is not None
    if row.status != ExternalTaskStatus.OPEN:
        raise ExternalTaskLockError(f"external task {task_id} is {row.status}")
    if row.worker_id != worker_id or row.lock_expires_at is None:
        raise ExternalTaskLockError(
            f"external task {task_id} is not locked by worker {worker_id!r}: fetch it first"
        )
    if row.lock_expires_at <= now:
        raise ExternalTaskLockError(
            f"the lock of worker {worker_id!r} on external task {task_id} expired at "
            f"{row.lock_expires_at.isoformat()}; fetch it again"
        )
    if app.status != ApplicationStatus.RUNNING:
        raise ApplicationNotRunningError(f"application {app.id} is {app.status}")
    return app, row


def _run(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    prepare: Callable[[Any], Callable[[], Any]],
    now: datetime,
    saved: SavedWorkflow | None = None,
) -> Outcome:
    """Run the engine on `app` (locked) as `prepare` says, from `saved` (default: what
    `take_live` gives); the caller keeps the outcome's live workflow after its commit
    (`keep_live`)."""
    version, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
    with caller_data_fits():
        outcome = ctx.runtime.act(loaded, saved or take_live(ctx, app), now, prepare)
    calendar = region_calendar(ctx, uow, app.region_code)
    apply_outcome(
        uow, app, version, outcome, actor=actor, now=now, calendar=calendar,
        was_running=app.status == ApplicationStatus.RUNNING,
    )
    return outcome


def _incident(
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    row: ExternalTaskRecord,
    message: str,
    now: datetime,
) -> None:
    app.status, app.updated_at = ApplicationStatus.ERROR, now
    app.error = {"message": message, "type": "ExternalTaskIncident", "element_id": row.element_id}
    record_event(
        uow,
        actor=actor,
        action="application.error",
        subject=f"application:{app.id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data=app.error,
    )


def _variables(
    ctx: EngineContext,
    uow: UnitOfWork,
    app: ApplicationRecord,
    row: ExternalTaskRecord,
    read: list[tuple[ApplicationRecord, SavedWorkflow]],
) -> dict[str, Any] | None:
    """A copy of the task's variables from the live workflow of `app`, else from its state
    restored (read with the row, `application_as_saved`, so it is the state of the row
    version the cache is asked for); the workflow, only read, is added to `read` for the
    caller to give back after its commit."""
    _, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
    saved = take_live(ctx, app)
    workflow = saved.live = ctx.runtime.restore(loaded, saved)
    read.append((app, saved))
    try:
        return ext.task_data(workflow, row.id)
    except ext.ExternalTaskNotWaitingError:
        return None


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    row: ExternalTaskRecord,
    action: str,
    now: datetime,
    data: dict[str, Any],
) -> None:
    record_event(
        uow,
        actor=actor,
        action=action,
        subject=f"external_task:{row.id}",
        at=now,
        region_code=row.region_code,
        application_id=row.application_id,
        data={"element_id": row.element_id, "topic": row.topic, **data},
    )
