"""Messages (`POST /api/v1/messages`, as Camunda 7's `POST /message`): correlate one
message to the one task waiting for it, or start an application at a message start event.

A message names its target by `application_id`, by `tracking_code`, or by `correlation`
values the waiting task's data must hold; with none of them, every application of the
region waiting for the message name counts, and so does every published model of the
region that starts with it. Exactly one match takes the message; none is `404`, several
`409`. With a `message_id`, the delivery is recorded: the same id again answers with the
application it went to, and nothing is delivered twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, INTEGRATION, Access, Actor
from engine.domain.errors import (
    AlreadyExistsError,
    ConcurrentUpdateError,
    InvalidInputError,
    MessageAmbiguousError,
    MessageNotCorrelatedError,
    NotFoundError,
)
from engine.domain.formats import NON_BLANK
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus
from engine.domain.storable import data_problems
from engine.domain.views import ApplicationView
from engine.persistence.tables import ApplicationRecord, MessageDeliveryRecord
from engine.services.access import application_access, require_roles, visible_region
from engine.services.applications import new_application
from engine.services.audit import record_event
from engine.services.calendars import region_calendar
from engine.services.calls import bind_calls, load_bound
from engine.services.live_steps import keep_live, take_live
from engine.services.outcomes import (
    apply_outcome,
    caller_data_fits,
    start_process_clock,
)
from engine.services.presenters import redacted_application
from engine.services.spec_cache import load_spec
from engine.services.step_rows import Progress, every_ready, progress_view
from engine.unit_of_work import UnitOfWork
from engine.workflow import messages as wf_messages
from engine.workflow.outcome import Outcome

MAX_MESSAGE_DATA_BYTES = 256 * 1024
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the sender gives it."""

    name: str
    data: dict[str, Any]
    application_id: uuid.UUID | None = None
    tracking_code: str | None = None
    correlation: dict[str, Any] | None = None
    message_id: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class _Target:
    """What a message matched: a waiting application, or a model that starts with it."""

    app: ApplicationRecord | None = None
    process_key: str | None = None
    version_id: int | None = None


def correlate_message(ctx: EngineContext, actor: Actor, message: Message) -> ApplicationView:
    """Deliver `message` to the one task waiting for it, or start an application with it.

    Raises: PermissionDeniedError, InvalidInputError, NotFoundError,
    MessageNotCorrelatedError, MessageAmbiguousError.
    """
    require_roles(actor, ADMIN, INTEGRATION, action="sending a message")
    _check(message)
    try:
        return _correlate(ctx, actor, message)
    except (MessageNotCorrelatedError, ConcurrentUpdateError, AlreadyExistsError):
        # The same message_id delivered concurrently: the first delivery won (its task was
        # taken, its application row changed, or its delivery row is there), so this one
        # answers what the first did, as a redelivery after it would.
        if message.message_id is None:
            raise
        with ctx.uow() as uow:
            region = _region_of(uow, actor, message)
            done = uow.repos.messages.delivery(region, message.message_id)
            if done is None:
                raise
            return _answer(uow, actor, _application(uow, done.application_id), ctx.clock())


def _correlate(ctx: EngineContext, actor: Actor, message: Message) -> ApplicationView:
    now = ctx.clock()
    with ctx.uow() as uow:
        region = _region_of(uow, actor, message)
        if message.message_id is not None:
            done = uow.repos.messages.delivery(region, message.message_id)
            if done is not None:
                return _answer(uow, actor, _application(uow, done.application_id), now)
        target = _only_match(ctx, uow, region, message)
        if target.app is not None:
            app, element_id, left, outcome = _deliver(ctx, uow, actor, target.app, message, now)
        else:
            app, element_id, left, outcome = _start(ctx, uow, actor, region, target, message, now)
        if message.message_id is not None:
            uow.repos.messages.add(
                MessageDeliveryRecord(
                    region_code=region,
                    message_id=message.message_id,
                    name=message.name,
                    application_id=app.id,
                    element_id=element_id,
                    started=target.app is None,
                    delivered_at=now,
                )
            )
            # Written now: a concurrent delivery of the same id fails here, as a conflict
            # (`correlate_message` then answers the first one), not in a later autoflush.
            uow.flush()
        view = _answer(uow, actor, app, now, left)
        uow.commit()
        keep_live(ctx, app, outcome)
        return view


def _check(message: Message) -> None:
    problems = data_problems(message.data, "data", MAX_MESSAGE_DATA_BYTES)
    if not NON_BLANK.matches(message.name) or len(message.name) > MAX_NAME_LENGTH:
        problems.insert(
            0, Problem("the message name (bpmn:message name) is required", field="name")
        )
    given = [message.application_id, message.tracking_code, message.correlation]
    if sum(g is not None for g in given) > 1:
        problems.append(
            Problem(
                "give at most one of application_id, tracking_code and correlation",
                field="correlation",
            )
        )
    if message.message_id is not None and not NON_BLANK.matches(message.message_id):
        problems.append(Problem("message_id must not be blank", field="message_id"))
    if problems:
        raise InvalidInputError("the message cannot be taken", problems)


def _region_of(uow: UnitOfWork, actor: Actor, message: Message) -> str:
    """The caller's region; an admin names it, or it is the addressed application's."""
    region = message.region or actor.region_code
    if region is None and message.application_id is not None:
        app = uow.repos.applications.get(message.application_id)
        region = app.region_code if app is not None else None
    if region is None and message.tracking_code is not None:
        app = uow.repos.applications.by_tracking_code(message.tracking_code)
        region = app.region_code if app is not None else None
    if region is None:
        raise InvalidInputError(
            "an account without a region names the region the message is for",
            [Problem("required for an account without a region", field="region")],
        )
    visible_region(uow, actor, region)
    return region


def _only_match(ctx: EngineContext, uow: UnitOfWork, region: str, message: Message) -> _Target:
    """The one application or model that takes the message.

    Raises: NotFoundError, MessageNotCorrelatedError, MessageAmbiguousError.
    """
    targets = [_Target(app=app) for app in _waiting_apps(ctx, uow, region, message)]
    if message.application_id is None and message.tracking_code is None and not message.correlation:
        targets += _starting_models(ctx, uow, region, message.name)
    if not targets:
        raise MessageNotCorrelatedError(
            f"no application of region {region} waits for the message {message.name!r}"
            + ("" if message.correlation is None else " with these correlation values")
            + ", and no published model of the region starts with it"
        )
    if len(targets) > 1:
        raise MessageAmbiguousError(
            f"the message {message.name!r} matches {len(targets)} receivers in region "
            f"{region}; name one with application_id, tracking_code or correlation"
        )
    return targets[0]


def _waiting_apps(
    ctx: EngineContext, uow: UnitOfWork, region: str, message: Message
) -> list[ApplicationRecord]:
    """Applications with exactly one task waiting for the message (two in one: ambiguous)."""
    if message.application_id is not None or message.tracking_code is not None:
        app = _addressed(uow, region, message)
        candidates = [app] if app.status == ApplicationStatus.RUNNING else []
    else:
        ids = uow.repos.messages.waiting_named(region, message.name)
        candidates = [a for a in map(uow.repos.applications.get, ids) if a is not None]
    found = []
    for app in candidates:
        _, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
        try:
            if ctx.runtime.waits_for_message(loaded, app.state, message.name, message.correlation):
                found.append(app)
        except wf_messages.MessageAmbiguousError:
            found += [app, app]
    return found


def _addressed(uow: UnitOfWork, region: str, message: Message) -> ApplicationRecord:
    if message.application_id is not None:
        app = uow.repos.applications.get(message.application_id)
        label = str(message.application_id)
    else:
        app = uow.repos.applications.by_tracking_code(message.tracking_code or "")
        label = str(message.tracking_code)
    if app is None or app.region_code != region:
        raise NotFoundError(f"application {label} not found")
    return app


def _starting_models(ctx: EngineContext, uow: UnitOfWork, region: str, name: str) -> list[_Target]:
    found = []
    for model in uow.repos.models.list(region):
        published = uow.repos.models.newest_published(model.id)
        if published is None:
            continue
        _, loaded = load_spec(ctx, uow, published.id)
        if name in wf_messages.message_starts(loaded.spec).names:
            found.append(_Target(process_key=model.key, version_id=published.id))
    return found


def _deliver(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    message: Message,
    now: datetime,
) -> tuple[ApplicationRecord, str, Progress, Outcome]:
    locked = uow.repos.applications.get(app.id, for_update=True)
    assert locked is not None
    version, loaded = load_bound(ctx, uow, locked.model_version_id, locked.called_versions)
    try:  # again under the lock: another message may have been taken meanwhile
        element_id = _catcher_element(ctx, loaded, locked.state, message)
    except wf_messages.MessageNotWaitingError:
        raise MessageNotCorrelatedError(
            f"application {locked.id} no longer waits for the message {message.name!r}"
        ) from None
    with caller_data_fits():
        outcome = ctx.runtime.deliver_message(
            loaded, take_live(ctx, locked), message.name, message.data, now, message.correlation
        )
    _audit(uow, actor, locked, message, element_id, now)
    calendar = region_calendar(ctx, uow, locked.region_code)
    left = apply_outcome(
        uow, locked, version, outcome, actor=actor, now=now, calendar=calendar,
        was_running=locked.status == ApplicationStatus.RUNNING,
    )
    return locked, element_id, left, outcome


def _start(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    region: str,
    target: _Target,
    message: Message,
    now: datetime,
) -> tuple[ApplicationRecord, str, Progress, Outcome]:
    assert target.version_id is not None and target.process_key is not None
    bindings = bind_calls(ctx, uow, region, target.version_id)
    version, loaded = load_bound(ctx, uow, target.version_id, bindings)
    with caller_data_fits():
        waiting = ctx.runtime.start(loaded, message.data, now)
        element_id = _catcher_element(ctx, loaded, waiting.state, message)
        outcome = ctx.runtime.deliver_message(loaded, waiting.state, message.name, {}, now)
    app = new_application(uow, actor, region, target.process_key, version, {}, now)
    app.called_versions = bindings
    _audit(uow, actor, app, message, element_id, now)
    calendar = region_calendar(ctx, uow, region)
    start_process_clock(app, version, calendar, now)
    left = apply_outcome(
        uow, app, version, outcome, actor=actor, now=now, calendar=calendar,
        was_running=True, fee_items=False,  # new: no task rows, no fee items yet
    )
    return app, element_id, left, outcome


def _catcher_element(ctx: EngineContext, loaded: Any, state: Any, message: Message) -> str:
    waits = ctx.runtime.restore(loaded, state)
    task = wf_messages.find_catcher(waits, message.name, message.correlation)
    return str(task.task_spec.bpmn_id or task.task_spec.name)


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    message: Message,
    element_id: str,
    now: datetime,
) -> None:
    record_event(
        uow,
        actor=actor,
        action="message.correlated",
        subject=f"application:{app.id}",
        at=now,
        region_code=app.region_code,
        application_id=app.id,
        data={
            "name": message.name,
            "element_id": element_id,
            "message_id": message.message_id,
            "data": message.data,
        },
    )


def _application(uow: UnitOfWork, application_id: uuid.UUID) -> ApplicationRecord:
    app = uow.repos.applications.get(application_id)
    assert app is not None  # a delivery references its application; nothing is deleted
    return app


def _answer(
    uow: UnitOfWork,
    actor: Actor,
    app: ApplicationRecord,
    now: datetime,
    left: Progress | None = None,
) -> ApplicationView:
    """The application the message went to: in full for those who read it in full."""
    if left is None:
        left = every_ready(uow.repos.tasks.for_application(app.id))
    view = progress_view(uow, app, left, now)
    if application_access(uow, actor, app) is Access.FULL:
        return view
    return redacted_application(view)
