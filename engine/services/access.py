"""Look-ups that double as access checks: what an actor may not see does not exist."""

from __future__ import annotations

import uuid

from engine.domain.actors import Actor
from engine.domain.errors import NotFoundError, PermissionDeniedError
from engine.persistence.tables import (
    ApplicationRecord,
    ProcessModelRecord,
    RegionRecord,
    TaskRecord,
)
from engine.unit_of_work import UnitOfWork


def require_roles(actor: Actor, *roles: str, action: str) -> None:
    """Raises: PermissionDeniedError unless the actor holds one of `roles`."""
    if not actor.has_any(*roles):
        raise PermissionDeniedError(f"{action} needs one of the roles: {', '.join(roles)}")


def visible_region(uow: UnitOfWork, actor: Actor | None, code: str) -> RegionRecord:
    """The region, if it exists and the actor may see it (None = public).

    Raises: NotFoundError.
    """
    region = uow.repos.regions.get(code)
    if region is None or (actor is not None and not actor.sees_region(code)):
        raise NotFoundError(f"region {code} not found")
    return region


def visible_model(
    uow: UnitOfWork, actor: Actor | None, region: str, key: str
) -> ProcessModelRecord:
    """The process model `key` of `region`, if visible.

    Raises: NotFoundError.
    """
    visible_region(uow, actor, region)
    model = uow.repos.models.get(region, key)
    if model is None:
        raise NotFoundError(f"process model {key} not found in region {region}")
    return model


def visible_application(
    uow: UnitOfWork, actor: Actor, application_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationRecord:
    """The application, if the actor may see it (applicant accounts: own ones only).

    Raises: NotFoundError.
    """
    app = uow.repos.applications.get(application_id, for_update=for_update)
    if (
        app is None
        or not actor.sees_region(app.region_code)
        or (actor.applicant_only and app.created_by != actor.id)
    ):
        raise NotFoundError(f"application {application_id} not found")
    return app


def visible_task(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> TaskRecord:
    """The task, if the actor may see its application.

    Raises: NotFoundError.
    """
    task = uow.repos.tasks.get(task_id)
    if task is None or not actor.sees_region(task.region_code):
        raise NotFoundError(f"task {task_id} not found")
    visible_application(uow, actor, task.application_id)
    return task
