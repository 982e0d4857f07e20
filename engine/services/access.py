"""Look-ups that double as access checks: what an actor may not see does not exist."""

from __future__ import annotations

import uuid

from engine.domain.actors import Access, Actor
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


def application_access(uow: UnitOfWork, actor: Actor, app: ApplicationRecord) -> Access:
    """How much of `app` the actor reads (`Actor.access_to`); the version's step roles (and
    those of the versions its call activities run) are read only when the actor's roles
    alone do not decide."""
    access = actor.access_to(app.region_code, app.created_by, frozenset())
    if access is Access.FULL or actor.applicant_only or not actor.sees_region(app.region_code):
        return access
    roles = uow.repos.models.roles_of_version(app.model_version_id)
    for called in (app.called_versions or {}).values():
        roles |= uow.repos.models.roles_of_version(int(called))
    return actor.access_to(app.region_code, app.created_by, roles)


def fully_readable_versions(uow: UnitOfWork, actor: Actor) -> frozenset[int] | None:
    """The model versions of the actor's region whose applications it reads in full
    (None: all it sees, by its roles alone)."""
    if actor.region_code is None or actor.access_to(
        actor.region_code, None, frozenset()
    ) is Access.FULL or actor.applicant_only:
        return None
    by_version = uow.repos.models.step_roles(actor.region_code)
    return frozenset(v for v, roles in by_version.items() if roles & actor.roles)


def visible_application(
    uow: UnitOfWork,
    actor: Actor,
    application_id: uuid.UUID,
    *,
    for_update: bool = False,
    at_least: Access = Access.FULL,
) -> ApplicationRecord:
    """The application, if the actor reads at least `at_least` of it.

    Raises: NotFoundError (also when the actor may not read it: it does not exist for them).
    """
    app = uow.repos.applications.get(application_id, for_update=for_update)
    if app is None or application_access(uow, actor, app).value < at_least.value:
        raise NotFoundError(f"application {application_id} not found")
    return app


def visible_task(uow: UnitOfWork, actor: Actor, task_id: uuid.UUID) -> TaskRecord:
    """The task, if the actor may see its application.

    Raises: NotFoundError.
    """
    task = uow.repos.tasks.get(task_id)
    if task is None or not actor.sees_region(task.region_code):
        raise NotFoundError(f"task {task_id} not found")
    visible_application(uow, actor, task.application_id, at_least=Access.REDACTED)
    return task
