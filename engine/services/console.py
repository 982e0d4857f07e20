"""Read models the web console's pages need beyond the API's use cases (read-only)."""

from __future__ import annotations

import uuid

from engine.context import EngineContext
from engine.domain.actors import ADMIN, SUPERVISOR, Actor
from engine.domain.console_views import EarlierStepView, OfficerView, TaskPageView
from engine.domain.statuses import StepStatus
from engine.services.access import require_roles, visible_region
from engine.services.applications import get_application
from engine.services.tasks import get_task


def task_page(ctx: EngineContext, actor: Actor, task_id: uuid.UUID) -> TaskPageView:
    """A step as its page shows it: the task with form and fee item, the application, the
    data entered at earlier steps, who holds it, and whether `actor` may work it.

    Raises: NotFoundError.
    """
    task = get_task(ctx, actor, task_id)
    application = get_application(ctx, actor, task.application_id)
    with ctx.reader() as uow:
        done = uow.repos.tasks.completed_with_data(application.id)
        names = uow.repos.users.names([t.completed_by or 0 for t in done] + [task.claimed_by or 0])
        earlier = [
            EarlierStepView(
                t.element_id, t.name, t.completed_at, names.get(t.completed_by or 0), t.data or {}
            )
            for t in done
        ]
    # An applicant account sees only its own applications, so one it sees is its own.
    own_application = actor.applicant_only
    return TaskPageView(
        task=task,
        application=application,
        earlier=earlier,
        claimed_by_name=names.get(task.claimed_by or 0),
        may_work=task.state == StepStatus.READY
        and actor.may_work_step(task.role, own_application=own_application),
        own_claim=task.claimed_by == actor.id,
    )


def officers(ctx: EngineContext, actor: Actor, region: str) -> list[OfficerView]:
    """The active users of `region` a supervisor may hand steps to.

    Raises: PermissionDeniedError, NotFoundError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="listing a region's officers")
    with ctx.reader() as uow:
        visible_region(uow, actor, region)
        users = uow.repos.users.active_in_region(region)
        return [OfficerView(u.id, u.name, sorted(u.roles)) for u in users]
