"""Applications (permohonan): start one on the newest published version, list, read."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain.actors import ADMIN, RECORDS_PAYMENTS, SUPERVISOR, Access, Actor
from engine.domain.errors import (
    ApplicationNotInErrorError,
    ApplicationNotRunningError,
    InvalidInputError,
    ModelNotPublishedError,
    NotFoundError,
    PermissionDeniedError,
    StartsByMessageError,
)
from engine.domain.formats import NON_BLANK
from engine.domain.problems import Problem
from engine.domain.statuses import ApplicationStatus, FeeStatus, StepStatus, TimerStatus
from engine.domain.storable import data_problems
from engine.domain.views import ApplicationView, Page
from engine.persistence.tables import ApplicationRecord
from engine.services import notifications
from engine.services.access import (
    application_access,
    fully_readable_versions,
    require_roles,
    visible_application,
)
from engine.services.audit import record_event
from engine.services.calendars import region_calendar
from engine.services.calls import bind_calls, load_bound
from engine.services.live_steps import keep_live
from engine.services.outcomes import (
    apply_outcome,
    caller_data_fits,
    start_process_clock,
)
from engine.services.payments import fee_views
from engine.services.presenters import application_view, redacted_application
from engine.services.spec_cache import VersionFacts
from engine.services.step_rows import progress_view
from engine.unit_of_work import UnitOfWork
from engine.workflow.messages import message_starts

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

    Raises: NotFoundError, ModelNotPublishedError, InvalidInputError, StartsByMessageError.
    """
    if not actor.may_start():
        raise PermissionDeniedError(
            "starting an application needs a role that acts for applicants in this region "
            "(the counter), or an applicant account"
        )
    _check_start_input(applicant, data)
    now = ctx.clock()
    with ctx.uow() as uow:
        version_id, calendar_revision = _start_target(uow, actor, region, process_key)
        bindings = bind_calls(ctx, uow, region, version_id)
        version, loaded = load_bound(ctx, uow, version_id, bindings)
        starts = message_starts(loaded.spec)
        if starts.names and not starts.plain:
            raise StartsByMessageError(
                f"{process_key} starts only with a message ({', '.join(sorted(starts.names))}): "
                "it is started by POST /api/v1/messages with that name"
            )
        with caller_data_fits():
            outcome = ctx.runtime.start(loaded, data, now)
        # The calendar before the new record: nothing read after it makes the session flush
        # early, so the application is one INSERT at commit (not an INSERT and an UPDATE).
        calendar = region_calendar(ctx, uow, region, calendar_revision)
        app = new_application(uow, actor, region, process_key, version, applicant, now)
        app.called_versions = bindings
        start_process_clock(app, version, calendar, now)
        left = apply_outcome(
            uow, app, version, outcome, actor=actor, now=now, calendar=calendar,
            was_running=True, fee_items=False,  # new: no task rows, no fee items yet
        )
        view = progress_view(uow, app, left, now)
        uow.commit()
        keep_live(ctx, app, outcome)  # the first step starts from it
        return view


def _start_target(
    uow: UnitOfWork, actor: Actor, region: str, process_key: str
) -> tuple[int, int]:
    """The id of the newest published version of `process_key` in a region the actor sees
    and the region's calendar revision, read in one statement (`visible_model`'s answers).

    Raises: NotFoundError, ModelNotPublishedError.
    """
    target = uow.repos.versions.start_target(region, process_key)
    if target is None or not actor.sees_region(region):
        raise NotFoundError(f"region {region} not found")
    if target.model_id is None:
        raise NotFoundError(f"process model {process_key} not found in region {region}")
    if target.version_id is None:
        raise ModelNotPublishedError(f"{process_key} has no published version in region {region}")
    return target.version_id, target.calendar_revision


def new_application(
    uow: UnitOfWork,
    actor: Actor,
    region: str,
    process_key: str,
    version: VersionFacts,
    applicant: dict[str, Any],
    now: datetime,
) -> ApplicationRecord:
    """A new running application on `version`, added with its `application.started` event;
    the caller saves the first outcome on it (`apply_outcome`)."""
    app = ApplicationRecord(
        id=uuid.uuid4(),
        region_code=region,
        model_version_id=version.id,
        process_key=process_key,
        version=version.version,
        title=version.title,
        status=ApplicationStatus.RUNNING,
        tracking_code=new_tracking_code(),
        applicant=applicant,
        state={},
        error=None,
        created_by=actor.id or None,
        created_at=now,
        updated_at=now,
        completed_at=None,
    )
    uow.repos.applications.add(app)
    record_event(
        uow,
        actor=actor,
        action="application.started",
        subject=f"application:{app.id}",
        at=now,
        region_code=region,
        application_id=app.id,
        data={"process_key": process_key, "version": version.version},
    )
    notifications.application_received(uow, app, now)
    return app


def _check_start_input(applicant: Any, data: Any) -> None:
    problems = _data_problems(data)
    if not isinstance(applicant, dict):
        problems.insert(0, Problem("applicant must be an object", field="applicant"))
    if problems:
        raise InvalidInputError("the application cannot be started", problems)


def _data_problems(data: Any) -> list[Problem]:
    """What is wrong with process data given to start or retry an application."""
    return data_problems(data, "data", MAX_START_DATA_BYTES)


def get_application(ctx: EngineContext, actor: Actor, application_id: uuid.UUID) -> ApplicationView:
    """One application with its tasks and history.

    Raises: NotFoundError.
    """
    with ctx.reader() as uow:
        app = visible_application(uow, actor, application_id, at_least=Access.REDACTED)
        fees = fee_views(uow, app.id)
        view = application_view(
            app,
            uow.repos.tasks.for_application(app.id),
            ctx.clock(),
            uow.repos.events.for_application(app.id),
            fees,
        )
        if application_access(uow, actor, app) is Access.REDACTED:
            return redacted_application(view)
        return view


def list_applications(
    ctx: EngineContext,
    actor: Actor,
    *,
    status: str | None = None,
    process_key: str | None = None,
    region: str | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Applications the actor may see, newest first, with their ready tasks.

    Reads indexed rows only; no workflow state is loaded.
    """
    region_code = region if actor.is_admin else actor.region_code
    if region is not None and not actor.sees_region(region):
        return Page([], 0, limit, offset)
    now = ctx.clock()
    with ctx.reader() as uow:
        full = fully_readable_versions(uow, actor)
        # Roles that record payments list every application, the others without personal data.
        listed = None if full is None or actor.holds(RECORDS_PAYMENTS) else full
        query = uow.repos.applications.listing(
            region_code,
            status=status,
            process_key=process_key,
            created_by=actor.id if actor.applicant_only else None,
            overdue_at=now if overdue else None,
            version_ids=listed,
        )
        apps, total, capped = uow.repos.applications.bounded_page(query, limit, offset)
        tasks: dict[uuid.UUID, list[Any]] = {}
        for task in uow.repos.tasks.for_applications(a.id for a in apps):
            tasks.setdefault(task.application_id, []).append(task)
        items = [application_view(a, tasks.get(a.id, []), now) for a in apps]
        if full is not None:
            items = [
                view if app.model_version_id in full else redacted_application(view)
                for app, view in zip(apps, items, strict=True)
            ]
        return Page(items, total, limit, offset, total_capped=capped)


def cancel_application(
    ctx: EngineContext, actor: Actor, application_id: uuid.UUID, reason: str
) -> ApplicationView:
    """Cancel a running (or failed) application: open steps, timers and fee items are marked
    cancelled with the reason; nothing is deleted.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError, ApplicationNotRunningError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="cancelling an application")
    if not NON_BLANK.matches(reason):
        raise InvalidInputError(
            "a cancellation needs a reason", [Problem("required", field="reason")]
        )
    now = ctx.clock()
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id, for_update=True)
        if app.status not in (ApplicationStatus.RUNNING, ApplicationStatus.ERROR):
            raise ApplicationNotRunningError(f"application {app.id} is {app.status}")
        _cancel_open_items(uow, app.id, reason, now)
        before = app.status
        app.status, app.cancelled_reason, app.updated_at = ApplicationStatus.CANCELLED, reason, now
        app.sla_running_since = None
        record_event(
            uow,
            actor=actor,
            action="application.cancelled",
            subject=f"application:{app.id}",
            at=now,
            region_code=app.region_code,
            application_id=app.id,
            reason=reason,
            data={"before": {"status": before}, "after": {"status": ApplicationStatus.CANCELLED}},
        )
        uow.commit()
        return application_view(app, uow.repos.tasks.for_application(app.id), now)


def retry_application(
    ctx: EngineContext,
    actor: Actor,
    application_id: uuid.UUID,
    data: dict[str, Any],
    reason: str,
) -> ApplicationView:
    """Run an application stopped by an error again (admin, supervisor), with the reason,
    setting `data` first: the failed step runs anew (e.g. with a missing value supplied,
    or a count brought under the multi-instance cap). If it fails again, the application
    stays in error with the new error; both attempts are in the audit log.

    Raises: PermissionDeniedError, NotFoundError, InvalidInputError,
    ApplicationNotInErrorError.
    """
    require_roles(actor, ADMIN, SUPERVISOR, action="retrying an application")
    problems = _data_problems(data)
    if not NON_BLANK.matches(reason):
        problems.insert(0, Problem("required", field="reason"))
    if problems:
        raise InvalidInputError("the retry cannot be done", problems)
    now = ctx.clock()
    with ctx.uow() as uow:
        app = visible_application(uow, actor, application_id, for_update=True)
        if app.status != ApplicationStatus.ERROR:
            raise ApplicationNotInErrorError(f"application {app.id} is {app.status}")
        version, loaded = load_bound(ctx, uow, app.model_version_id, app.called_versions)
        with caller_data_fits():
            outcome = ctx.runtime.retry(loaded, app.state, data, now)
        failed, app.status, app.error = app.error, ApplicationStatus.RUNNING, None
        record_event(
            uow,
            actor=actor,
            action="application.retried",
            subject=f"application:{app.id}",
            at=now,
            region_code=app.region_code,
            application_id=app.id,
            reason=reason,
            data={"error": failed, "data": data},
        )
        calendar = region_calendar(ctx, uow, app.region_code)
        left = apply_outcome(uow, app, version, outcome, actor=actor, now=now, calendar=calendar)
        view = progress_view(uow, app, left, now)
        uow.commit()
        keep_live(ctx, app, outcome)
        return view


def _cancel_open_items(
    uow: UnitOfWork, application_id: uuid.UUID, reason: str, now: datetime
) -> None:
    for task in uow.repos.tasks.for_application(application_id):
        if task.state == StepStatus.READY:
            task.state, task.completed_at = StepStatus.CANCELLED, now
    for item in uow.repos.fees.for_application(application_id):
        if item.status == FeeStatus.OPEN:
            item.status, item.cancelled_at, item.cancelled_reason = FeeStatus.CANCELLED, now, reason
    for timer in uow.repos.timers.waiting_for(application_id):
        timer.status = TimerStatus.CANCELLED
