"""Persisting what the engine did: task rows, application status and events, together.

Every use case that runs the workflow ends here, inside its own transaction, so the
saved state, the task rows and the audit trail always describe the same moment.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from engine.domain.actors import Actor
from engine.domain.errors import NotFoundError
from engine.persistence.tables import ApplicationRecord, ModelVersionRecord, TaskRecord
from engine.services.audit import record_event
from engine.services.context import EngineContext
from engine.unit_of_work import UnitOfWork
from engine.workflow.runtime import LoadedSpec, Outcome


def load_spec(ctx: EngineContext, uow: UnitOfWork, version_id: int) -> tuple[ModelVersionRecord, LoadedSpec]:
    """The model version and its restored spec (the spec column is read only on a cache miss).

    Raises: NotFoundError.
    """
    version = uow.repos.models.version_by_id(version_id)
    if version is None:
        raise NotFoundError(f"model version {version_id} not found")
    return version, ctx.runtime.load_spec(version.id, lambda: version.spec)


def apply_outcome(
    uow: UnitOfWork,
    app: ApplicationRecord,
    version: ModelVersionRecord,
    outcome: Outcome,
    *,
    actor: Actor,
    now: datetime,
) -> list[TaskRecord]:
    """Save the workflow state, sync the task rows and the status; return new ready tasks."""
    app.state = outcome.state
    app.updated_at = now
    new_tasks = _sync_tasks(uow, app, version, outcome, now)
    _update_status(uow, app, outcome, actor=actor, now=now)
    return new_tasks


def _sync_tasks(
    uow: UnitOfWork, app: ApplicationRecord, version: ModelVersionRecord, outcome: Outcome, now: datetime
) -> list[TaskRecord]:
    rows = {t.id: t for t in uow.repos.tasks.for_application(app.id)}
    steps = {s["element_id"]: s for s in version.steps}
    created = []
    for step in outcome.steps:
        row = rows.get(step.task_id)
        if row is None and step.state == "ready":
            row = _new_task(app, step.task_id, step.element_id, step.name, steps, now)
            uow.repos.tasks.add(row)
            created.append(row)
        elif row is not None and row.state == "ready" and step.state != "ready":
            row.state = step.state
            row.completed_at = row.completed_at or now
    return created


def _new_task(
    app: ApplicationRecord, task_id: uuid.UUID, element_id: str, name: str,
    steps: dict[str, dict[str, Any]], now: datetime,
) -> TaskRecord:
    declared = steps.get(element_id, {})
    return TaskRecord(
        id=task_id, application_id=app.id, region_code=app.region_code, element_id=element_id,
        name=declared.get("name") or name or element_id, role=declared.get("role", "unassigned"),
        state="ready", ready_at=now, form=declared.get("form"), sla=declared.get("sla"),
        fee=int(declared.get("fee", 0)),
    )


def _update_status(uow: UnitOfWork, app: ApplicationRecord, outcome: Outcome, *, actor: Actor, now: datetime) -> None:
    subject = f"application:{app.id}"
    if outcome.error is not None:
        app.status, app.error = "error", outcome.error
        record_event(uow, actor=actor, action="application.error", subject=subject, at=now,
                     region_code=app.region_code, application_id=app.id, data=outcome.error)
    elif outcome.completed:
        app.status, app.error, app.completed_at = "completed", None, now
        record_event(uow, actor=actor, action="application.completed", subject=subject, at=now,
                     region_code=app.region_code, application_id=app.id)
