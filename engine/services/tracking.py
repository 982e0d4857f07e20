"""Public tracking by code: where an application stands, with no personal data at all.

Only what the published standard already tells anyone (steps, deadlines, fees) plus the
application's own progress: never the applicant, the form contents or officers' names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.context import EngineContext
from engine.domain import sla
from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.errors import NotFoundError
from engine.domain.formats import TRACKING_CODE
from engine.domain.read_models import TrackedStep, Tracking
from engine.domain.statuses import ApplicationStatus, FeeStatus, StepStatus
from engine.persistence.tables import (
    ApplicationRecord,
    FeeItemRecord,
    TaskRecord,
)
from engine.services import complaints
from engine.services.called_steps import fixed_total, published_steps


def track(ctx: EngineContext, code: str) -> Tracking:
    """The public status of the application with tracking code `code`.

    Raises: NotFoundError (the same answer for a malformed and an unknown code).
    """
    code = (code or "").strip().upper()
    if not TRACKING_CODE.matches(code):
        raise NotFoundError("no application has this tracking code")
    now = ctx.clock()
    with ctx.reader() as uow:
        app = uow.repos.applications.by_tracking_code(code)
        if app is None:
            raise NotFoundError("no application has this tracking code")
        region = uow.repos.regions.get(app.region_code)
        tasks = uow.repos.tasks.for_application(app.id)
        fees = uow.repos.fees.for_application(app.id)
        version = uow.repos.models.version_by_id(app.model_version_id)
        complaint_rows = uow.repos.citizen.complaints_of(app.id)
        survey_given = uow.repos.citizen.survey_of(app.id) is not None
        return {
            "tracking_code": app.tracking_code,
            "title": app.title,
            # Which published procedure it runs (the diagram the tracking page draws).
            "process_key": app.process_key,
            "version": app.version,
            "region": {
                "code": app.region_code,
                "name": region.name if region else app.region_code,
                "timezone": region.timezone if region else "Asia/Jakarta",
            },
            "status": app.status,
            "submitted_at": app.created_at,
            "completed_at": app.completed_at,
            "due_at": app.due_at,
            "sla_paused": sla.paused(app.status, app.sla_running_since),
            "steps_done": [_step(t, now) for t in tasks if t.state == StepStatus.COMPLETED],
            "current_steps": [_step(t, now) for t in tasks if t.state == StepStatus.READY],
            "fees": [
                {
                    "name": f.name,
                    "amount": f.amount,
                    "status": f.status,
                    "receipt_no": f.receipt_no,
                    "paid_at": f.paid_at,
                }
                for f in fees
            ],
            # What a citizen is owed beyond progress (issue #15 item 7): how it ended
            # (issued or rejected, never one "Selesai"), why it was cancelled, what a pause
            # waits for, and the published fee schedule (a service that charges later never
            # reads as free); and a deemed approval (item 1).
            "outcome": app.outcome if app.status == ApplicationStatus.COMPLETED else None,
            "cancelled_reason": (
                app.cancelled_reason if app.status == ApplicationStatus.CANCELLED else None
            ),
            "waiting_for": _waiting_for(app, tasks, fees),
            "deemed_granted_at": app.deemed_granted_at,
            "fee_schedule": _fee_schedule(
                published_steps(ctx, uow, version, app.called_versions) if version else []
            ),
            # Complaints about it with their published answers (never their text or
            # contact), and the satisfaction survey: offered once it is completed (items 2, 3).
            "complaints": [complaints.public_view(c, now) for c in complaint_rows],
            "survey": {
                "offered": app.status == ApplicationStatus.COMPLETED and not survey_given,
                "given": survey_given,
            },
        }


def _step(task: TaskRecord, now: datetime) -> TrackedStep:
    return {
        "element_id": task.element_id,
        "name": task.name,
        "started_at": task.ready_at,
        "completed_at": task.completed_at,
        "due_at": task.due_at,
        "overdue": sla.step_overdue(task.state, task.due_at, task.breached_at, now),
        "late": sla.late(task.due_at, task.breached_at, task.completed_at, now),
        "waiting_on_applicant": task.role in APPLICANT_ROLES,
    }


def _fee_schedule(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The version's published fees, with those of the models it calls as this application
    bound them: the steps that charge (a called model's labelled with it, a multi-instance
    call's `per_item`), and the total charged once per application."""
    schedule: dict[str, Any] = {
        "steps": [
            {"name": s["name"], "fee": int(s["fee"])}
            | ({"formula": s["fee_formula"]["name"]} if s.get("fee_formula") else {})
            | ({"called": s["called"]} if "called" in s else {})
            for s in steps
            if int(s["fee"]) > 0 or s.get("fee_formula")
        ],
        "total": fixed_total(steps),
    }
    formulas = {s["fee_formula"]["name"] for s in steps if s.get("fee_formula")}
    if formulas:
        schedule["formulas"] = sorted(formulas)
    return schedule


def _waiting_for(
    app: ApplicationRecord, tasks: Sequence[TaskRecord], fees: Sequence[FeeItemRecord]
) -> str | None:
    """While the clock is paused: "payment" when an applicant's step has an unpaid bill,
    else "documents" (the applicant is fixing or completing the file)."""
    if not sla.paused(app.status, app.sla_running_since):
        return None
    waiting = {t.id for t in tasks if t.state == StepStatus.READY and t.role in APPLICANT_ROLES}
    unpaid = any(f.status == FeeStatus.OPEN and f.task_id in waiting for f in fees)
    return "payment" if unpaid else "documents"
