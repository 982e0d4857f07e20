"""Process data (`GET /api/v1/applications/{id}/variables`): what the process sees now."""

from __future__ import annotations

import uuid
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import SUPERVISOR, Access, Actor
from engine.domain.errors import PermissionDeniedError
from engine.services.access import visible_application
from engine.services.calls import load_bound


def application_variables(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID
) -> dict[str, Any]:
    """The application's process data now: for admins, supervisors, and officers of its
    region whose roles have steps in its model.

    Raises: NotFoundError, PermissionDeniedError.
    """
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id, at_least=Access.REDACTED)
        if not (actor.is_admin or SUPERVISOR in actor.roles):
            roles = uow.repos.models.roles_of_version(app.model_version_id)
            if actor.applicant_only or not actor.roles & roles:
                raise PermissionDeniedError(
                    "the process data is read by admins, supervisors and the officers "
                    "whose roles have steps in this procedure"
                )
        _, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
        return {
            "application_id": app.id,
            "status": app.status,
            "variables": ctx.runtime.variables(loaded, app.state),
        }
