"""The services' side of the live-workflow cache (engine/workflow/live_cache.py).

A use case that runs an application's workflow takes the live object for the row it has
locked (`take_live`) and, after its commit, keeps what the run left (`keep_live`); one that
bumps the row version without writing the state locks the row without reading the state
(`locked_application`) and moves the entry along (`carry_live`); one that only reads the
workflow gives it back after its commit (`give_back`).
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable

from engine.context import EngineContext
from engine.domain.actors import Access, Actor
from engine.domain.errors import NotFoundError
from engine.persistence.tables import ApplicationRecord
from engine.services.access import application_access
from engine.unit_of_work import UnitOfWork
from engine.workflow.live_cache import SavedWorkflow, live_key
from engine.workflow.outcome import Outcome


def live_key_of(app: ApplicationRecord) -> Hashable:
    """The key of `app`'s workflow as its row stands now (read before changing the row)."""
    return live_key(app.id, app.row_version, app.model_version_id, app.called_versions)


def take_live(ctx: EngineContext, app: ApplicationRecord) -> SavedWorkflow:
    """`app`'s workflow for a step, `app` being locked: the cached live object for its row
    version if there is one (removed from the cache), else its saved state, read (one
    SELECT of the deferred column) only when the runtime restores it."""
    return ctx.live.take(live_key_of(app), lambda: app.state)


def keep_live(ctx: EngineContext, app: ApplicationRecord, outcome: Outcome) -> None:
    """After the commit that saved `outcome` on `app`: keep its live workflow for the next
    step, under the row version that commit wrote."""
    ctx.live.put(live_key_of(app), outcome.workflow)


def carry_live(ctx: EngineContext, before: Hashable, app: ApplicationRecord) -> None:
    """After a commit that changed `app`'s row but not its state: the workflow cached under
    the row as it was (`before`) is the workflow of the row as it is."""
    ctx.live.carry(before, live_key_of(app))


def give_back(ctx: EngineContext, app: ApplicationRecord, saved: SavedWorkflow) -> None:
    """After the commit of a use case that only *read* `app`'s workflow (taken with
    `take_live`, or restored from the state read with the row, and left in `saved.live`)
    and did not write its state: it is the workflow of the row as committed (whose version
    an audit event's head may have bumped)."""
    ctx.live.put(live_key_of(app), saved.take_live())


def locked_application(
    uow: UnitOfWork, actor: Actor, application_id: uuid.UUID, at_least: Access = Access.FULL
) -> ApplicationRecord:
    """The application, its row locked, if the actor reads at least `at_least` of it, its
    workflow state not read: for a use case that changes the row but never runs the
    workflow, and so carries the live one (`carry_live`).

    Raises: NotFoundError (also when the actor may not read it, as `visible_application`).
    """
    app = uow.repos.steps.locked_application(application_id)
    if app is None or application_access(uow, actor, app).value < at_least.value:
        raise NotFoundError(f"application {application_id} not found")
    return app
