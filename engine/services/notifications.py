"""The events that notify citizens and officers, queued in the transaction that causes them.

Each function queues a `PendingNotification` on the unit of work; at commit it becomes one
outbox row per channel of the region that takes it (none, and no statement, in a region
without channels), and the worker delivers it (`engine/services/delivery.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.domain.calendar import WorkingCalendar
from engine.domain.definitions import APPLICANT_ROLES
from engine.domain.notifications import (
    Audience,
    NotificationEvent,
    PendingNotification,
    complaint_contact,
    contact_of,
)
from engine.persistence.tables import (
    ApplicationRecord,
    ComplaintRecord,
    FeeItemRecord,
    TaskRecord,
)
from engine.unit_of_work import UnitOfWork


def _facts(app: ApplicationRecord, **more: Any) -> dict[str, Any]:
    return {
        "tracking_code": app.tracking_code,
        "title": app.title,
        "application_id": str(app.id),
        "process_key": app.process_key,
        **more,
    }


def _to_applicant(
    uow: UnitOfWork, app: ApplicationRecord, event: NotificationEvent, now: datetime,
    **facts: Any,
) -> None:
    uow.queue_notification(
        PendingNotification(
            region_code=app.region_code,
            event=event,
            audience=Audience.APPLICANT,
            application_id=app.id,
            facts=_facts(app, **facts),
            contact=contact_of(app.applicant),
        ),
        now,
    )


def application_received(uow: UnitOfWork, app: ApplicationRecord, now: datetime) -> None:
    """A new application: its tracking code to the applicant."""
    _to_applicant(uow, app, NotificationEvent.APPLICATION_RECEIVED, now)


def step_ready(
    uow: UnitOfWork,
    app: ApplicationRecord,
    task: TaskRecord,
    now: datetime,
    calendar: WorkingCalendar,
) -> None:
    """A step became ready: the officers of its role, or, for a step in the applicant's
    lane, the applicant (documents requested: the process clock pauses for them)."""
    if task.role in APPLICANT_ROLES:
        _to_applicant(uow, app, NotificationEvent.DOCUMENTS_REQUESTED, now,
                      step=task.name, element_id=task.element_id)
        return
    due = task.due_at.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M %Z") if task.due_at else None
    uow.queue_notification(
        PendingNotification(
            region_code=app.region_code,
            event=NotificationEvent.STEP_READY,
            audience=Audience.ROLE,
            role=task.role,
            application_id=app.id,
            facts=_facts(app, step=task.name, element_id=task.element_id, role=task.role,
                         due_at=due),
        ),
        now,
    )


def payment_billed(
    uow: UnitOfWork, app: ApplicationRecord, item: FeeItemRecord, now: datetime
) -> None:
    """A fee item opened: the amount and the billing (payment) code to the applicant."""
    _to_applicant(uow, app, NotificationEvent.PAYMENT_BILLED, now, step=item.name,
                  element_id=item.element_id, amount=item.amount,
                  billing_code=item.billing_code)


def decision(
    uow: UnitOfWork, app: ApplicationRecord, now: datetime, outcome: str | None = None
) -> None:
    """The application ended (granted, refused, or deemed granted by law)."""
    kind = outcome or ((app.outcome or {}).get("kind"))
    _to_applicant(uow, app, NotificationEvent.DECISION, now, outcome=kind)


def complaint_answered(
    uow: UnitOfWork, app: ApplicationRecord, complaint: ComplaintRecord, now: datetime
) -> None:
    """A complaint was answered: to the contact the complainant gave, if any."""
    uow.queue_notification(
        PendingNotification(
            region_code=app.region_code,
            event=NotificationEvent.COMPLAINT_ANSWERED,
            audience=Audience.COMPLAINANT,
            application_id=app.id,
            facts=_facts(app, complaint_number=complaint.number),
            contact=complaint_contact(complaint.contact),
        ),
        now,
    )


def step_overdue(uow: UnitOfWork, task: TaskRecord, now: datetime) -> None:
    """A step passed its due time (recorded once by the worker): its role's officers."""
    uow.queue_notification(
        PendingNotification(
            region_code=task.region_code,
            event=NotificationEvent.STEP_OVERDUE,
            audience=Audience.ROLE,
            role=task.role,
            application_id=task.application_id,
            facts={
                "application_id": str(task.application_id),
                "title": task.process_key,
                "process_key": task.process_key,
                "step": task.name,
                "element_id": task.element_id,
                "role": task.role,
            },
        ),
        now,
    )
