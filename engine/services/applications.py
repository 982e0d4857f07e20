"""Applications (permohonan): start one on the newest published version, list, read."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from engine.domain.actors import Actor
from engine.domain.errors import InvalidInputError, ModelNotPublishedError
from engine.domain.problems import Problem
from engine.domain.views import ApplicationView, Page
from engine.persistence.tables import ApplicationRecord
from engine.services.access import visible_application, visible_model
from engine.services.audit import record_event
from engine.services.context import EngineContext
from engine.services.presenters import application_view
from engine.services.progress import apply_outcome, load_spec

# Crockford base32 without I, L, O, U: readable aloud, no look-alikes.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_START_DATA_BYTES = 256 * 1024


def new_tracking_code() -> str:
    """80 random bits, as PF-XXXX-XXXX-XXXX-XXXX: public, and not guessable."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "PF-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def start_application(
    ctx: EngineContext,
    actor: Actor,
    region: str,
    process_key: str,
    applicant: dict[str, Any],
    data: dict[str, Any],
) -> ApplicationView:
    """Start an application on the newest published version of `process_key`.

    Raises: NotFoundError, ModelNotPublishedError, InvalidInputError.
    """
    _check_start_input(applicant, data)
    now = ctx.clock()
    with ctx.uow() as uow:
        model = visible_model(uow, actor, region, process_key)
        version = uow.repos.models.newest_published(model.id)
        if version is None:
            raise ModelNotPublishedError(f"{process_key} has no published version in region {region}")
        version, loaded = load_spec(ctx, uow, version.id)
        outcome = ctx.runtime.start(loaded, data)
        app = ApplicationRecord(
            id=uuid.uuid4(), region_code=region, model_version_id=version.id,
            process_key=process_key, version=version.version, title=version.title,
            status="running", tracking_code=new_tracking_code(), applicant=applicant,
            state=outcome.state, error=None, created_by=actor.id or None,
            created_at=now, updated_at=now, completed_at=None,
        )
        uow.repos.applications.add(app)
        uow.flush()
        record_event(uow, actor=actor, action="application.started", subject=f"application:{app.id}",
                     at=now, region_code=region, application_id=app.id,
                     data={"process_key": process_key, "version": version.version})
        apply_outcome(uow, app, version, outcome, actor=actor, now=now)
        uow.commit()
        return application_view(app, uow.repos.tasks.for_application(app.id), now)


def _check_start_input(applicant: Any, data: Any) -> None:
    problems = []
    if not isinstance(applicant, dict):
        problems.append(Problem("applicant must be an object", field="applicant"))
    if not isinstance(data, dict):
        problems.append(Problem("data must be an object", field="data"))
    elif len(repr(data)) > MAX_START_DATA_BYTES:
        problems.append(Problem("data is too large; attach documents by reference", field="data"))
    if problems:
        raise InvalidInputError("the application cannot be started", problems)


def get_application(ctx: EngineContext, actor: Actor, application_id: uuid.UUID) -> ApplicationView:
    """One application with its tasks and history.

    Raises: NotFoundError.
    """
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id)
        return application_view(
            app, uow.repos.tasks.for_application(app.id), ctx.clock(),
            uow.repos.events.for_application(app.id),
        )


def list_applications(
    ctx: EngineContext, actor: Actor, *, status: str | None = None, process_key: str | None = None,
    region: str | None = None, limit: int = 50, offset: int = 0,
) -> Page:
    """Applications the actor may see, newest first, with their ready tasks.

    Reads indexed rows only; no workflow state is loaded.
    """
    region_code = region if actor.is_admin else actor.region_code
    if region is not None and not actor.sees_region(region):
        return Page([], 0, limit, offset)
    now = ctx.clock()
    with ctx.uow() as uow:
        query = uow.repos.applications.listing(
            region_code, status=status, process_key=process_key,
            created_by=actor.id if actor.applicant_only else None,
        )
        apps, total = uow.repos.applications.page(query, limit, offset)
        tasks: dict[uuid.UUID, list[Any]] = {}
        for task in uow.repos.tasks.for_applications(a.id for a in apps):
            tasks.setdefault(task.application_id, []).append(task)
        items = [application_view(a, tasks.get(a.id, []), now) for a in apps]
        return Page(items, total, limit, offset)
